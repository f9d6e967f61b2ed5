"""Back-testing: do places chosen from the past hold the crime of the next month?

**Rolling origin** (:func:`rolling_backtest`, the default of ``geo-csp backtest``). For each of the
last ``n_splits`` months of the data (default 12, or as many as the data allow after 2 months of
history), every predictor of :mod:`geo_csp.predict` is fitted on the months *before* it and scored on
the next ``horizon_months`` (1 month, or 3 for a quarter); :func:`rolling_splits` builds the splits
and no test month is ever a training month. The result gives, per predictor, the mean and spread
(standard deviation over the splits) of hit rate, PAI, PEI and RRI, and how often it beat
``counts`` (counts alone) on the same split.

**The measures**, for a selection cut at a share of the study area:

- hit rate ``n / N``: share of the test months' crime inside the selection;
- PAI ``(n / N) / (a / A)`` (Chainey, Tompson & Uhlig 2008) with ``A`` the study area (the borough
  outline, not the cells overlapping it) and ``a`` the selected units' area *inside* it
  (:func:`geo_csp.predict.clipped_areas`); the budget ``share x A`` is the same number of square
  metres at every resolution, so a resolution sweep compares like with like;
- RRI ``PAI_2 / PAI_1`` (Levine 2008): how much of the selection's concentration in the training
  window (the ``counts`` window) it keeps in the test months;
- PEI ``PAI / PAI_max`` (Hunt 2016): PAI_max is reached by the test months' own densest units within
  the same budget (so PEI <= 1 up to the greedy cut);
- PPAI ``(n / N) / (a / A) ** alpha`` (Joshi et al. 2021).

Units are taken in score order while their cumulative area stays within the budget (at least one).

**KDE bandwidth and EWMA half-life.** A KDE with one bandwidth at every cell size is a straw man. The
KDE candidates span bandwidths tied to the cell size
(:attr:`geo_csp.predict.PredictParams.kde_bandwidth_factors`), the EWMA ones three half-lives;
``kde`` and ``ewma`` in the summary are the bandwidth and half-life with the best mean PAI (named in
``metadata["kde_best"]`` and ``["ewma_best"]``). That choice is made on the test months, so it
flatters them: a fair bar for the others to clear.

**The default selection** (``default`` in the summary) is what the product would have used at each
split: :func:`pick_predictor` applied to the *earlier* splits only (the ensemble, unless another
candidate was clearly ahead of it), so its figures are out of sample. The priority score of a plan
is chosen by the same rule on every split (:meth:`RollingBacktest.choice`).

**The resolution sweep** (:func:`resolution_sweep`, ``geo-csp backtest --sweep``) back-tests each H3
resolution 7-11 on the same area budget, bounded by :func:`sweep_plan`: a resolution giving more than
:data:`SWEEP_MAX_CELLS` cells over the study area is skipped (sweep a county force district by district),
and so is one whose cells are narrower than the data's snap points are apart (:func:`snap_spacing_m`),
where finer cells only shrink the area around the same points. The skipped resolutions and the rule are
returned and printed. Figures: ``benchmarks/sweep.py``.

**The police.uk lattice.** police.uk records crime at a fixed set of anonymous snap points
(project reference, section 3). When the median occupied unit holds a single snap point and counts
alone find at least half of next month's crime, or counts find 90% or more, a high PAI says where
the snap points are, not where crime will be: ``lattice`` in the metadata flags it and says why.
"""

from __future__ import annotations

import contextlib
import dataclasses
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import shapely

from geo_csp import cube as cube_mod, grid, harm, hotspot_run, hotspots, periods, predict, schema, store
from geo_csp._errors import ParameterError

__all__ = [
    "BASELINES",
    "add_priority",
    "priority_scores",
    "DEFAULT_FALLBACK",
    "PRIORITY_AREA_SHARE",
    "PRIORITY_SPLITS",
    "LATTICE_HIT_RATE",
    "METRICS",
    "ResolutionSweep",
    "RollingBacktest",
    "SWEEP_MAX_CELLS",
    "backtest",
    "evaluate_selection",
    "pick_predictor",
    "prediction_inputs",
    "resolution_sweep",
    "rolling_backtest",
    "rolling_splits",
    "select_by_area",
    "snap_spacing_m",
    "sweep_plan",
]

#: The single baselines (``ewma`` and ``kde`` at their best half-life and bandwidth).
BASELINES: Final = predict.BASELINES
#: Measures of every selection, averaged over the splits.
METRICS: Final = ("hit_rate", "pai", "pei", "rri", "ppai")
#: The default selection's predictor at a split with no earlier split to learn from.
DEFAULT_FALLBACK: Final = "ensemble"
#: Counts alone finding at least this share of next month's crime flags the snap-point lattice.
LATTICE_HIT_RATE: Final = 0.9
#: ... or this share when the median occupied unit holds a single snap point.
LATTICE_HIT_RATE_SINGLE: Final = 0.5
#: The default leaves the ensemble only with at least this many earlier splits ...
MIN_SPLITS_TO_SWITCH: Final = 3
#: ... and for a candidate ahead of it by more than this many standard errors of the paired difference.
SWITCH_SE: Final = 2.0
_ALL_SHARES = (0.01, 0.05, 0.1)
#: Share of the study area and rolling splits the default priority score is chosen on (:func:`priority_scores`).
PRIORITY_AREA_SHARE: Final = 0.05
PRIORITY_SPLITS: Final = 12


def select_by_area(
    scores: np.ndarray,
    unit_area_m2: np.ndarray,
    *,
    area_share: float,
    tiebreak: np.ndarray | None = None,
    total_area_m2: float | None = None,
) -> np.ndarray:
    """Boolean mask of the top-scoring units whose cumulative area stays within ``area_share`` of the area.

    ``total_area_m2`` is the study area ``A`` (default the units' summed area); ``unit_area_m2`` the
    units' areas inside it. Ties in ``scores`` are broken by ``tiebreak`` (higher first), then by unit
    order. At least one unit is always selected.
    """
    if not 0 < area_share <= 1:
        raise ParameterError(f"`area_share` must be in (0, 1]; got {area_share!r}")
    scores = np.asarray(scores, dtype="float64")
    area = np.asarray(unit_area_m2, dtype="float64")
    total = float(area.sum()) if total_area_m2 is None else float(total_area_m2)
    tie = np.zeros_like(scores) if tiebreak is None else np.asarray(tiebreak, dtype="float64")
    order = np.lexsort((np.arange(scores.size), -tie, -np.nan_to_num(scores, nan=-np.inf)))
    within = np.cumsum(area[order]) <= area_share * total * (1 + 1e-12) + 1e-9
    within[0] = True
    mask = np.zeros(scores.size, dtype=bool)
    mask[order[within]] = True
    return mask


def evaluate_selection(
    selected: np.ndarray,
    future: np.ndarray,
    unit_area_m2: np.ndarray,
    *,
    past: np.ndarray | None = None,
    area_share: float | None = None,
    total_area_m2: float | None = None,
    ppai_alpha: float = 0.5,
) -> dict[str, float]:
    """Hit rate, PAI, PPAI, RRI (when ``past`` is given) and PEI (when ``area_share`` is given) of a selection.

    Parameters
    ----------
    selected
        Boolean mask of the selected units.
    future, past
        Counts per unit in the test and the training window.
    unit_area_m2
        Area of each unit inside the study area.
    area_share
        The area budget the selection was cut at, for PEI's best attainable PAI.
    total_area_m2
        The study area ``A``; default the units' summed area.
    ppai_alpha
        Exponent of the area share in PPAI = (n/N) / (a/A)^alpha (Joshi et al. 2021, IJGI 10:597),
        in [0, 1]: 1 gives PAI, 0 the hit rate. 0.5 is this tool's default, a middle way that
        penalises tiny selections less than PAI does, not a value taken from the paper.
    """
    if not 0.0 <= ppai_alpha <= 1.0:
        raise ParameterError(f"`ppai_alpha` must be in [0, 1]; got {ppai_alpha!r}")
    sel = np.asarray(selected, dtype=bool)
    future = np.asarray(future, dtype="float64")
    area = np.asarray(unit_area_m2, dtype="float64")
    total = float(area.sum()) if total_area_m2 is None else float(total_area_m2)
    a_share = area[sel].sum() / total
    big_n = future.sum()
    hit = future[sel].sum() / big_n if big_n > 0 else np.nan
    out: dict[str, float] = {
        "hit_rate": float(hit),
        "pai": float(hit / a_share) if a_share > 0 else np.nan,
        "area_share": float(a_share),
        "n_units": int(sel.sum()),
    }
    out["ppai"] = float(hit / a_share**ppai_alpha) if a_share > 0 else np.nan
    if past is not None:
        past = np.asarray(past, dtype="float64")
        pai1 = (past[sel].sum() / past.sum()) / a_share if past.sum() > 0 and a_share > 0 else np.nan
        out["rri"] = float(out["pai"] / pai1) if np.isfinite(pai1) and pai1 > 0 else np.nan
    if area_share is not None:
        with np.errstate(divide="ignore", invalid="ignore"):
            density = np.where(area > 0, future / area, 0.0)
        best = select_by_area(density, area, area_share=area_share, tiebreak=future, total_area_m2=total)
        best_pai = evaluate_selection(best, future, area, total_area_m2=total)["pai"]
        out["pei"] = float(out["pai"] / best_pai) if best_pai > 0 else np.nan
    return out


def rolling_splits(
    n_months: int, *, n_splits: int | None = 12, horizon_months: int = 1, min_train_months: int = 2
) -> list[tuple[np.ndarray, np.ndarray]]:
    """Training and test month indices of each rolling-origin split, oldest first.

    Split ``s`` trains on months ``0 .. e-1`` and tests on ``e .. e + horizon_months - 1``; the last
    split's test window ends at the last month. ``n_splits=None`` gives every split the data allow.

    Raises
    ------
    ParameterError
        When the data hold fewer than ``min_train_months + horizon_months`` months.
    """
    if horizon_months < 1 or min_train_months < 2 or (n_splits is not None and n_splits < 1):
        raise ParameterError("`horizon_months` must be >= 1, `min_train_months` >= 2 and `n_splits` >= 1")
    last_end = n_months - horizon_months
    if last_end < min_train_months:
        raise ParameterError(
            f"a rolling back-test needs at least {min_train_months} months of history and {horizon_months} to test: "
            f"the data hold {n_months} month(s); add months or shorten the horizon"
        )
    ends = np.arange(min_train_months, last_end + 1)
    if n_splits is not None:
        ends = ends[-n_splits:]
    return [(np.arange(e), np.arange(e, e + horizon_months)) for e in ends]


def prediction_inputs(
    cube: cube_mod.Cube,
    *,
    study_area: shapely.Geometry | None = None,
    hotspot_params: hotspots.HotspotParams | None = None,
    params: predict.PredictParams | None = None,
) -> predict.PredictionInputs:
    """The predictors' inputs from a monthly cube, its units clipped to the study area.

    ``study_area`` defaults to the union of the units (right for wards and LSOAs).
    """
    if cube.params.get("period", "month") != "month":
        raise ParameterError(
            f"prediction and back-tests need a monthly cube; this one is by {cube.params.get('period')!r}"
        )
    hotspot_params = hotspots.HotspotParams() if hotspot_params is None else hotspot_params
    geoms = cube.units.geometry.to_numpy()
    w = hotspot_run.unit_weights(cube.units, unit=cube.params.get("unit", "h3"), k=hotspot_params.k)
    centre = shapely.centroid(geoms)
    return predict.PredictionInputs(
        n=cube.n,
        w=w,
        centroids=np.column_stack([shapely.get_x(centre), shapely.get_y(centre)]),
        area_m2=predict.clipped_areas(geoms, study_area),
        month_of_year=np.asarray(cube.period_keys) % 12 + 1,
        hotspot_params=hotspot_params,
        params=predict.PredictParams() if params is None else params,
    )


@dataclass(frozen=True)
class RollingBacktest:
    """A rolling-origin back-test.

    Attributes
    ----------
    splits
        One row per split x predictor x area share: ``split`` (first test month), ``method``,
        ``area_share_target``, ``hit_rate, pai, area_share, n_units, ppai, rri, pei``.
    summary
        One row per predictor x area share: ``method, area_share_target, n_splits``, ``<m>_mean``
        and ``<m>_sd`` for each of :data:`METRICS`, and ``beats_counts`` (share of splits on which
        its PAI beat counts alone's). Includes ``kde`` (the best bandwidth) and ``default``.
    metadata
        Months, splits, horizon, unit, resolution, areas, KDE bandwidths, the predictors'
        parameters, the default selection's choices per split and the lattice check.
    """

    splits: pd.DataFrame
    summary: pd.DataFrame
    metadata: dict[str, Any] = field(default_factory=dict)

    def row(self, method: str, *, area_share: float = 0.05) -> pd.Series:
        """The summary row of one predictor at one area share."""
        hit = self.summary[
            (self.summary["method"] == method) & np.isclose(self.summary["area_share_target"], area_share)
        ]
        if hit.empty:
            raise ParameterError(
                f"no back-test row for {method!r} at {area_share:.0%} of the area; "
                f"it has {sorted(set(self.summary['method']))} at {sorted(set(self.summary['area_share_target']))}"
            )
        return hit.iloc[0]

    def choice(self, *, area_share: float = 0.05) -> dict[str, Any]:
        """The predictor to use next month (:func:`pick_predictor` over every split), with its figures."""
        rows = self.splits[
            self.splits["method"].isin(self.metadata["candidates"])
            & np.isclose(self.splits["area_share_target"], area_share)
        ]
        pai = rows.pivot_table(index="split", columns="method", values="pai").reindex(self.metadata["test_months"])
        best = self.row(pick_predictor(pai, self.metadata["candidates"]), area_share=area_share)
        counts = self.row("counts", area_share=area_share)
        default = self.row("default", area_share=area_share)
        return {
            "predictor": str(best["method"]),
            "area_share": float(area_share),
            "n_splits": int(best["n_splits"]),
            "horizon_months": int(self.metadata["horizon_months"]),
            "test_months": self.metadata["test_months"],
            "pai_mean": float(best["pai_mean"]),
            "hit_rate_mean": float(best["hit_rate_mean"]),
            "counts_pai_mean": float(counts["pai_mean"]),
            "counts_hit_rate_mean": float(counts["hit_rate_mean"]),
            "out_of_sample_pai_mean": float(default["pai_mean"]),
            "out_of_sample_hit_rate_mean": float(default["hit_rate_mean"]),
            "lattice": self.metadata["lattice"]["flag"],
            "chosen_by": (
                f"PAI at {area_share:.0%} of the area over {int(best['n_splits'])} rolling splits of the "
                f"user's own data: {self.metadata['default_rule'].removeprefix('at each split, from the earlier splits only: ')}"
            ),
        }

    def sentence(self, *, area_share: float = 0.05, method: str = "default") -> str:
        """The plan's evidence line: what this selection found, out of sample, against counts alone."""
        r, c = self.row(method, area_share=area_share), self.row("counts", area_share=area_share)
        h = int(self.metadata["horizon_months"])
        nxt = "next month's" if h == 1 else f"the next {h} months'"
        text = (
            f"On your data, over the last {int(r['n_splits'])} rolling months, this selection found "
            f"{r['hit_rate_mean']:.0%} of {nxt} crime in {area_share:.0%} of the area (PAI {r['pai_mean']:.2f}); "
            f"counts alone found {c['hit_rate_mean']:.0%} (PAI {c['pai_mean']:.2f})."
        )
        if self.metadata["lattice"]["flag"]:
            text += " " + self.metadata["lattice"]["note"]
        return text


def _snap_points_per_unit(incidents: pd.DataFrame, cube: cube_mod.Cube, keep: np.ndarray) -> np.ndarray | None:
    """Distinct snap points in each H3 unit (None for wards and LSOAs, far coarser than the lattice)."""
    if cube.params.get("unit") != "h3" or not keep.any():
        return None
    x = incidents[schema.EASTING].to_numpy(dtype="float64")[keep]
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")[keep]
    ux, uy, _ = grid.unique_points(x, y)
    cells = grid.points_to_cells(ux, uy, resolution=int(cube.params["resolution"]))
    pos = cube.units.index.get_indexer(pd.Index(cells))
    return np.bincount(pos[pos >= 0], minlength=len(cube.units)).astype(np.int64)


def _lattice(snap_points: np.ndarray | None, counts_hit: float, area_share: float) -> dict[str, Any]:
    occupied = snap_points[snap_points > 0] if snap_points is not None else np.empty(0)
    single = float((occupied == 1).mean()) if occupied.size else np.nan
    median = float(np.median(occupied)) if occupied.size else np.nan
    reasons = []
    hit_ok = np.isfinite(counts_hit)
    if occupied.size and median <= 1 and hit_ok and counts_hit >= LATTICE_HIT_RATE_SINGLE:
        reasons.append(
            f"{single:.0%} of occupied units hold a single police.uk snap point and counts alone find "
            f"{counts_hit:.0%} of next month's crime in {area_share:.0%} of the area"
        )
    elif hit_ok and counts_hit >= LATTICE_HIT_RATE:
        reasons.append(f"counts alone find {counts_hit:.0%} of next month's crime in {area_share:.0%} of the area")
    note = (
        (
            "The units are as fine as the police.uk snap-point lattice (" + "; ".join(reasons) + "): the figures say "
            "where the anonymised map points are, not where crime will be; use a coarser resolution to judge "
            "forecasting skill."
        )
        if reasons
        else ""
    )
    return {
        "flag": bool(reasons),
        "note": note,
        "single_point_share": single,
        "median_snap_points": median,
        "rule": (
            f"flagged when counts alone find at least {LATTICE_HIT_RATE:.0%} of the test months' crime, or "
            f"{LATTICE_HIT_RATE_SINGLE:.0%} with the median occupied unit holding one snap point"
        ),
    }


def pick_predictor(pai: pd.DataFrame, names: Sequence[str]) -> str:
    """The default predictor given earlier splits' PAI (rows: splits, columns: predictors).

    :data:`DEFAULT_FALLBACK` (the ensemble), unless another candidate beat it on at least
    :data:`MIN_SPLITS_TO_SWITCH` splits by more than :data:`SWITCH_SE` standard errors of their
    paired PAI difference; then the candidate with the largest such margin. A choice among a dozen
    candidates on a few months is noisy: the rule only leaves the ensemble for a clear winner.
    """
    fallback = DEFAULT_FALLBACK if DEFAULT_FALLBACK in names else names[0]
    if len(pai) < MIN_SPLITS_TO_SWITCH or fallback not in pai.columns:
        return fallback
    diff = pai[list(names)].sub(pai[fallback], axis=0)
    mean, se = diff.mean(), diff.std(ddof=1) / np.sqrt(diff.count())
    margin = (mean - SWITCH_SE * se.fillna(np.inf)).drop(fallback)
    margin = margin[np.isfinite(margin) & (margin > 0) & (mean.drop(fallback) > 0)]
    return fallback if margin.empty else str(margin.idxmax())


def _summarise(rows: pd.DataFrame) -> pd.DataFrame:
    counts = rows[rows["method"] == "counts"].set_index(["split", "area_share_target"])["pai"]
    beat = (
        rows["pai"].to_numpy()
        > counts.reindex(pd.MultiIndex.from_frame(rows[["split", "area_share_target"]])).to_numpy()
    )
    grouped = rows.assign(beats_counts=beat).groupby(["method", "area_share_target"], sort=False)
    out = grouped[list(METRICS)].agg(["mean", "std"])
    out.columns = [f"{m}_{s.replace('std', 'sd')}" for m, s in out.columns]
    out.insert(0, "n_splits", grouped.size())
    out["beats_counts"] = grouped["beats_counts"].mean()
    return out.reset_index()


def rolling_backtest_inputs(
    inputs: predict.PredictionInputs,
    *,
    month_labels: Sequence[str] | np.ndarray,
    splits: Sequence[tuple[np.ndarray, np.ndarray]],
    area_shares: Sequence[float] = _ALL_SHARES,
    total_area_m2: float | None = None,
    methods: Sequence[str] | None = None,
    snap_points: np.ndarray | None = None,
) -> RollingBacktest:
    """:func:`rolling_backtest` on prepared inputs and explicit splits (see :func:`rolling_splits`)."""
    names = tuple(predict.predictor_names(inputs) if methods is None else methods)
    if "counts" not in names:
        names = ("counts", *names)
    area = inputs.area_m2
    total = float(area.sum()) if total_area_m2 is None else float(total_area_m2)
    labels = np.asarray(month_labels, dtype=object)
    window = inputs.params.counts_window_months
    records = []
    for train, test in splits:  # ~12 splits; every predictor inside is vectorised over units
        end = int(test[0])
        if train.size and (train.max() >= test.min() or end != train.size):
            raise ParameterError("a split's training months must all precede its test months")
        future = inputs.n[:, test].sum(axis=1)
        past = inputs.n[:, max(0, end - window) : end].sum(axis=1)
        for name in names:
            s = predict.score(name, inputs, end)
            for share in area_shares:
                sel = select_by_area(s, area, area_share=share, tiebreak=past, total_area_m2=total)
                records.append(
                    {
                        "split": str(labels[end]),
                        "method": name,
                        "area_share_target": float(share),
                        **evaluate_selection(sel, future, area, past=past, area_share=share, total_area_m2=total),
                    }
                )
    rows = pd.DataFrame(records)
    order = list(dict.fromkeys(rows["split"]))
    best_of: dict[str, dict[str, str]] = {}
    for fam in ("ewma", "kde"):  # the best half-life / bandwidth by mean PAI (on the test months: flatters it)
        members = [m for m in names if predict.family(m) == fam]
        if not members:
            continue
        fam_rows = rows[rows["method"].isin(members)]
        best = fam_rows.groupby(["area_share_target", "method"], sort=False)["pai"].mean().reset_index()
        best = best.sort_values("pai", ascending=False, kind="mergesort").drop_duplicates("area_share_target")
        pick = dict(zip(best["area_share_target"], best["method"], strict=True))
        best_of[fam] = {f"{k:g}": v for k, v in pick.items()}
        rows = pd.concat(
            [rows, fam_rows[fam_rows["method"] == fam_rows["area_share_target"].map(pick)].assign(method=fam)],
            ignore_index=True,
        )
    # the default selection: at each split, the rule of pick_predictor applied to the earlier splits only
    cand = rows[rows["method"].isin(names)]
    pai = cand.pivot_table(index=["area_share_target", "split"], columns="method", values="pai")
    default_rows, picks = [], {}
    for share in area_shares:
        table = pai.loc[float(share)].reindex(order)[list(names)]
        choice = [pick_predictor(table.iloc[:i], names) for i in range(len(order))]  # ~12 splits
        picks[f"{share:g}"] = dict(zip(order, choice, strict=True))
        sub = cand[np.isclose(cand["area_share_target"], share)].set_index(["split", "method"])
        default_rows.append(sub.loc[list(zip(order, choice, strict=True))].reset_index().assign(method="default"))
    rows = pd.concat([rows, *default_rows], ignore_index=True)
    summary = _summarise(rows)
    target = 0.05 if any(np.isclose(area_shares, 0.05)) else float(area_shares[0])
    counts_hit = float(
        rows[(rows["method"] == "counts") & np.isclose(rows["area_share_target"], target)]["hit_rate"].mean()
    )
    metadata = {
        "candidates": list(names),
        "test_months": order,
        "n_splits": len(order),
        "horizon_months": int(len(splits[0][1])) if splits else 0,
        "kde_bandwidths_m": list(inputs.bandwidths_m),
        "kde_best": best_of.get("kde"),
        "ewma_best": best_of.get("ewma"),
        "best_of_note": (
            "'kde' and 'ewma' are the bandwidth and half-life with the best mean PAI on the test months "
            "(in hindsight: this flatters them)"
        ),
        "default_choices": picks,
        "default_fallback": DEFAULT_FALLBACK,
        "default_rule": (
            f"at each split, from the earlier splits only: {DEFAULT_FALLBACK}, unless a candidate beat it by "
            f"more than {SWITCH_SE:g} standard errors of the paired PAI difference over at least "
            f"{MIN_SPLITS_TO_SWITCH} splits"
        ),
        "study_area_m2": total,
        "units_area_m2": float(area.sum()),
        "predict_params": inputs.params.to_dict(),
        "hotspot_params": inputs.hotspot_params.to_dict(),
        "lattice": _lattice(snap_points, counts_hit, target),
    }
    return RollingBacktest(splits=rows, summary=summary, metadata=metadata)


def _prepare(
    incidents: pd.DataFrame,
    *,
    unit: cube_mod.UnitKind,
    resolution: int | None,
    study_area: Any,
    units: Any,
    crime_types: Iterable[str] | None,
    group: str | None,
    sources: Iterable[str] | None,
    params: hotspots.HotspotParams | None,
    predict_params: predict.PredictParams | None,
) -> tuple[cube_mod.Cube, predict.PredictionInputs, float, np.ndarray | None]:
    cube = cube_mod.build_cube(
        incidents,
        cube_mod.CubeParams(
            unit=unit,
            resolution=resolution,
            crime_types=cube_mod.text_tuple(crime_types),
            group=group,
            sources=cube_mod.text_tuple(sources),
        ),
        units=units,
        study_area=study_area,
    )
    types = harm.resolve_crime_types(crime_types, group)
    keep = cube_mod.filter_mask(incidents, crime_types=types, sources=sources, group=group)
    geom = cube_mod.study_geometry(study_area)
    if geom is None and unit == "h3" and units is None:  # the data's extent, as the cube took it
        x = incidents[schema.EASTING].to_numpy(dtype="float64")
        y = incidents[schema.NORTHING].to_numpy(dtype="float64")
        ok = keep & incidents[schema.LOCATED].to_numpy(dtype=bool) & np.isfinite(x) & np.isfinite(y)
        geom = cube_mod.data_extent(x[ok], y[ok])[0]
    if geom is None:
        geom = shapely.union_all(cube.units.geometry.to_numpy())
    inputs = prediction_inputs(cube, study_area=geom, hotspot_params=params, params=predict_params)
    inside = keep & cube_mod.clip_to_study_area(incidents, geom)
    return cube, inputs, float(shapely.area(geom)), _snap_points_per_unit(incidents, cube, inside)


def rolling_backtest(
    incidents: pd.DataFrame,
    *,
    unit: cube_mod.UnitKind = "h3",
    resolution: int | None = None,
    study_area: Any = None,
    units: Any = None,
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    sources: Iterable[str] | None = None,
    n_splits: int | None = 12,
    horizon_months: int = 1,
    area_shares: Sequence[float] = _ALL_SHARES,
    methods: Sequence[str] | None = None,
    params: hotspots.HotspotParams | None = None,
    predict_params: predict.PredictParams | None = None,
) -> RollingBacktest:
    """Rolling-origin back-test of every predictor on the last ``n_splits`` months (see the module docstring).

    Parameters
    ----------
    incidents
        Incident table with the store schema (not modified).
    unit, resolution, study_area, units, crime_types, group, sources
        How the monthly cube is built (:func:`geo_csp.cube.build_cube`); the study area is ``A``.
    n_splits
        Splits, one per month, ending with the last month the data allow (``None``: all).
    horizon_months
        Months tested after each split (1; 3 for a quarter).
    area_shares
        Area budgets measured (shares of the study area).
    methods
        Predictors to score (default all of :func:`geo_csp.predict.predictor_names`).
    params, predict_params
        Gi* parameters (for ``persistence`` and ``gi_mean``) and the predictors' parameters.
    """
    cube, inputs, total, snaps = _prepare(
        incidents,
        unit=unit,
        resolution=resolution,
        study_area=study_area,
        units=units,
        crime_types=crime_types,
        group=group,
        sources=sources,
        params=params,
        predict_params=predict_params,
    )
    splits = rolling_splits(cube.n.shape[1], n_splits=n_splits, horizon_months=horizon_months)
    result = rolling_backtest_inputs(
        inputs,
        month_labels=cube.period_labels,
        splits=splits,
        area_shares=area_shares,
        total_area_m2=total,
        methods=methods,
        snap_points=snaps,
    )
    result.metadata.update(
        {
            "unit": unit,
            "resolution": cube.params.get("resolution"),
            "n_units": int(len(cube.units)),
            "months": cube.params["months"],
            "crime_types": cube.params["crime_types"],
            "group": group,
            "sources": cube.params["sources"],
        }
    )
    return result


def backtest(
    incidents: pd.DataFrame,
    *,
    split: str,
    unit: cube_mod.UnitKind = "h3",
    resolution: int | None = None,
    study_area: Any = None,
    units: Any = None,
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    sources: Iterable[str] | None = None,
    area_shares: Sequence[float] = _ALL_SHARES,
    params: hotspots.HotspotParams | None = None,
    predict_params: predict.PredictParams | None = None,
) -> pd.DataFrame:
    """One split: select from the months before ``split``, measure on every month from it on.

    Returns
    -------
    pandas.DataFrame
        One row per predictor (and ``kde``, the best bandwidth) x area share with ``method,
        area_share_target, hit_rate, pai, area_share, n_units, ppai, rri, pei``; ``attrs`` hold the
        split, unit, resolution, months on each side, the KDE bandwidths and the lattice check.
    """
    split = str(periods.validate_months([split], name="split")[0])
    cube, inputs, total, snaps = _prepare(
        incidents,
        unit=unit,
        resolution=resolution,
        study_area=study_area,
        units=units,
        crime_types=crime_types,
        group=group,
        sources=sources,
        params=params,
        predict_params=predict_params,
    )
    end = int(np.searchsorted(cube.period_keys, periods.months_to_index([split])[0]))
    n_months = cube.n.shape[1]
    if end < 2 or end >= n_months:
        raise ParameterError(
            f"split {split} leaves {end} month(s) before and {n_months - end} from it in "
            f"{cube.params['months'][0]}..{cube.params['months'][1]}; choose a split with at least 2 months before"
        )
    result = rolling_backtest_inputs(
        inputs,
        month_labels=cube.period_labels,
        splits=[(np.arange(end), np.arange(end, n_months))],
        area_shares=area_shares,
        total_area_m2=total,
        snap_points=snaps,
    )
    table = result.splits[result.splits["method"] != "default"].drop(columns="split").reset_index(drop=True)
    table.attrs.update(
        {
            "split": split,
            "unit": unit,
            "resolution": cube.params.get("resolution"),
            "train_months": end,
            "test_months": n_months - end,
            "n_units": int(len(cube.units)),
            "kde_bandwidths_m": list(inputs.bandwidths_m),
            "kde_best": result.metadata["kde_best"],
            "ewma_best": result.metadata["ewma_best"],
            "study_area_m2": total,
            "units_area_m2": float(inputs.area_m2.sum()),
            "n_train": float(cube.n[:, :end].sum()),
            "n_test": float(cube.n[:, end:].sum()),
            "lattice": result.metadata["lattice"],
            "hotspot_params": inputs.hotspot_params.to_dict(),
            "predict_params": inputs.params.to_dict(),
        }
    )
    return table


#: The sweep's bound on cells: a resolution giving more cells than this over the study area is skipped (the
#: cap of the automatic choice, :data:`geo_csp.grid.PATROL_MAX_CELLS`); a county force is swept by district.
SWEEP_MAX_CELLS: Final = grid.PATROL_MAX_CELLS


@dataclass(frozen=True)
class ResolutionSweep:
    """A resolution sweep (:func:`resolution_sweep`): the resolutions swept, those skipped and the bound.

    Attributes
    ----------
    rows
        One row per resolution swept: ``resolution, n_units, lattice`` and ``pai_<method>``,
        ``hit_rate_<method>``, ``area_share_<method>`` of each predictor.
    skipped
        One row per resolution left out: ``resolution, n_cells`` (about, over the study area),
        ``cell_across_m`` and ``reason`` (a sentence).
    bound
        ``max_cells``, ``snap_spacing_m`` (median distance from each distinct snap point to the nearest
        other one; NaN with fewer than 2) and ``rule`` (the sentence stating both).
    """

    rows: pd.DataFrame
    skipped: pd.DataFrame
    bound: dict[str, Any]


def snap_spacing_m(x: np.ndarray, y: np.ndarray) -> float:
    """Median distance (m) from each distinct point to the nearest other one; NaN with fewer than 2 points.

    police.uk points sit on anonymous snap points: cells narrower than their spacing hold one snap point
    each, so finer cells only shrink the area around the same points.
    """
    from scipy.spatial import cKDTree

    ux, uy, _ = grid.unique_points(np.asarray(x, dtype="float64"), np.asarray(y, dtype="float64"))
    if len(ux) < 2:
        return float("nan")
    xy = np.column_stack([ux, uy])
    dist, _ = cKDTree(xy).query(xy, k=2)
    return float(np.median(dist[:, 1]))


def sweep_plan(
    area: shapely.Geometry,
    *,
    snap_spacing: float,
    resolutions: Sequence[int] = grid.H3_RESOLUTIONS,
    max_cells: int | None = SWEEP_MAX_CELLS,
) -> tuple[list[int], pd.DataFrame, dict[str, Any]]:
    """Which resolutions a sweep over ``area`` runs, which it skips and why, and the bound as a sentence.

    A resolution is skipped when it gives more than ``max_cells`` cells over the area (``None``: no cap),
    or when its cells are narrower side to side (:func:`geo_csp.grid.cell_across_m`) than ``snap_spacing``
    metres (the data's snap points; NaN: no such rule), where its PAI measures the snap-point lattice.
    """
    import h3

    area_m2 = float(shapely.area(area))
    if not area_m2 > 0:
        raise ParameterError("the sweep's study area has no area; give polygons, not points or lines")
    if max_cells is not None and max_cells < 1:
        raise ParameterError(f"`max_cells` must be a positive number of cells or None; got {max_cells!r}")
    kept, skipped = [], []
    for res in resolutions:
        res = grid.check_resolution(res)
        n_cells = area_m2 / h3.average_hexagon_area(res, unit="m^2")
        across = grid.cell_across_m(res)
        if max_cells is not None and n_cells > max_cells:
            reason = (
                f"resolution {res} skipped: about {n_cells:,.0f} cells over the study area (more than "
                f"{max_cells:,}); split the area by district (--boundary FILE --district NAME) to sweep it"
            )
        elif np.isfinite(snap_spacing) and across < snap_spacing:
            reason = (
                f"resolution {res} skipped: its cells are {across:,.0f} m across, less than the {snap_spacing:,.0f} m "
                "between the data's snap points (median distance to the nearest one), so most cells hold one "
                "snap point and its PAI says where the snap points are, not where crime concentrates"
            )
        else:
            kept.append(res)
            continue
        skipped.append({"resolution": res, "n_cells": float(n_cells), "cell_across_m": across, "reason": reason})
    rule = (
        "swept: resolutions giving "
        + (f"at most {max_cells:,} cells over the study area" if max_cells is not None else "any number of cells")
        + (
            f" whose cells are at least as wide as the data's snap points are apart ({snap_spacing:,.0f} m, median)"
            if np.isfinite(snap_spacing)
            else ""
        )
    )
    bound = {"max_cells": max_cells, "snap_spacing_m": snap_spacing, "rule": rule}
    columns = ["resolution", "n_cells", "cell_across_m", "reason"]
    return kept, pd.DataFrame(skipped, columns=columns), bound


def _sweep_row(resolution: int, result: RollingBacktest) -> dict[str, Any]:
    row: dict[str, Any] = {
        "resolution": int(resolution),
        "n_units": result.metadata["n_units"],
        "lattice": result.metadata["lattice"]["flag"],
    }
    # the share of the study area the selection really covers: whole cells, so coarse cells overshoot
    # the budget (a 5 km2 cell is 5% of a 100 km2 town on its own)
    real = result.splits.groupby("method", sort=False)["area_share"].mean() if "area_share" in result.splits else None
    for rec in result.summary.to_dict("records"):
        if rec["method"].startswith(("kde_", "ewma_")):
            continue
        row[f"pai_{rec['method']}"] = rec["pai_mean"]
        row[f"hit_rate_{rec['method']}"] = rec["hit_rate_mean"]
        if real is not None and rec["method"] in real.index:
            row[f"area_share_{rec['method']}"] = float(real[rec["method"]])
    return row


def resolution_sweep(
    incidents: pd.DataFrame,
    *,
    resolutions: Sequence[int] = grid.H3_RESOLUTIONS,
    area_share: float = 0.05,
    study_area: Any = None,
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    sources: Iterable[str] | None = None,
    n_splits: int | None = 12,
    horizon_months: int = 1,
    methods: Sequence[str] | None = None,
    params: hotspots.HotspotParams | None = None,
    max_cells: int | None = SWEEP_MAX_CELLS,
    skip_finer_than_snaps: bool = True,
    done: Mapping[int, RollingBacktest] | None = None,
    progress: Callable[[int, int, int], None] | None = None,
) -> ResolutionSweep:
    """Mean rolling PAI and hit rate of each predictor at each H3 resolution, on the same area budget, bounded.

    The bound (:func:`sweep_plan`, stated in :attr:`ResolutionSweep.bound`): resolutions with more than
    ``max_cells`` cells over the study area are skipped, and, with ``skip_finer_than_snaps``, those whose
    cells are narrower than the data's snap points are apart (:func:`snap_spacing_m`, over the distinct
    located points counted, found once). ``kde`` is each resolution's best bandwidth and ``default`` the
    default selection.

    Parameters
    ----------
    done
        Rolling back-tests already run on the same data and settings, by resolution (the command's own
        back-test at the default resolution): used as they are, not run again.
    progress
        Called as ``progress(step, total, resolution)`` before each resolution is run (``step`` from 0),
        for a progress bar.
    """
    types = harm.resolve_crime_types(crime_types, group)
    keep = cube_mod.filter_mask(incidents, crime_types=types, sources=sources, group=group)
    x = incidents[schema.EASTING].to_numpy(dtype="float64")
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")
    keep &= incidents[schema.LOCATED].to_numpy(dtype=bool) & np.isfinite(x) & np.isfinite(y)
    area = cube_mod.study_geometry(study_area)
    if area is None:  # the data's extent, as the cube takes it
        if keep.sum() < 3:
            raise ParameterError("too few located incidents to take the data extent; pass `study_area`")
        area = cube_mod.data_extent(x[keep], y[keep])[0]
    inside = keep & cube_mod.clip_to_study_area(incidents, area)
    spacing = snap_spacing_m(x[inside], y[inside]) if skip_finer_than_snaps else float("nan")
    kept, skipped, bound = sweep_plan(area, snap_spacing=spacing, resolutions=resolutions, max_cells=max_cells)
    rows = []
    for step, res in enumerate(kept):  # each back-test is vectorised over cells and splits
        if progress is not None:
            progress(step, len(kept), res)
        result = (done or {}).get(res)
        if result is None:
            result = rolling_backtest(
                incidents,
                unit="h3",
                resolution=int(res),
                study_area=study_area,
                crime_types=crime_types,
                group=group,
                sources=sources,
                n_splits=n_splits,
                horizon_months=horizon_months,
                area_shares=(area_share,),
                methods=methods,
                params=params,
            )
        rows.append(_sweep_row(res, result))
    return ResolutionSweep(rows=pd.DataFrame(rows), skipped=skipped, bound=bound)


#: Predictors whose scores are expected counts (or proportional to them) and add up over an area.
_ADDITIVE: Final = ("counts", "last_period", "ewma", "kde", "learned")
#: The recent months whose mean total scales the predicted shares into expected incidents.
_RECENT_MONTHS: Final = 3


def _expected_incidents(scores: np.ndarray, name: str, inputs: predict.PredictionInputs) -> np.ndarray:
    """Scores as expected incidents next month, so that they add up over an area.

    Count-like scores become shares of the recent monthly total (the mean of the last 3 months).
    Rank-like scores (``persistence``, ``gi_mean``, ``ensemble``) keep their order and take the
    sorted expected counts of the middle EWMA: the unit ranked k-th gets the k-th largest.
    """
    n_months = inputs.n.shape[1]
    recent = float(inputs.n[:, max(0, n_months - _RECENT_MONTHS) :].sum() / min(_RECENT_MONTHS, n_months))

    def as_counts(values: np.ndarray) -> np.ndarray:
        total = float(values.sum())
        return values / total * recent if total > 0 else np.zeros(len(values))

    if predict.family(name) in _ADDITIVE:
        return as_counts(np.clip(np.asarray(scores, dtype="float64"), 0.0, None))
    base = np.sort(as_counts(inputs.ewma_all(inputs.middle_half_life)[:, n_months]))[::-1]
    out = np.empty(len(scores))
    out[np.lexsort((np.arange(len(scores)), -np.asarray(scores, dtype="float64")))] = base
    return out


def _cache_key(inputs: predict.PredictionInputs, unit_ids: pd.Index, settings: dict[str, Any]) -> str:
    import hashlib
    import json

    digest = hashlib.sha256()
    digest.update(np.ascontiguousarray(inputs.n, dtype="float64").tobytes())
    digest.update(np.ascontiguousarray(inputs.area_m2).round(3).tobytes())
    digest.update("\x1f".join(map(str, unit_ids)).encode())
    digest.update(json.dumps(settings, sort_keys=True, default=str).encode())
    return digest.hexdigest()[:24]


def priority_scores(
    cube: cube_mod.Cube,
    *,
    study_area: shapely.Geometry | None = None,
    predictor: str = "auto",
    area_share: float = PRIORITY_AREA_SHARE,
    n_splits: int = PRIORITY_SPLITS,
    hotspot_params: hotspots.HotspotParams | None = None,
    predict_params: predict.PredictParams | None = None,
    cache_dir: str | Path | None = None,
) -> tuple[pd.Series, dict[str, Any]]:
    """The default priority score of every unit: expected incidents next month from the predictor the back-test picks.

    Parameters
    ----------
    cube
        A monthly cube (:func:`geo_csp.cube.build_cube`) of the crime group planned for.
    study_area
        The study area (``A`` of PAI); default the union of the units.
    predictor
        ``"auto"``: a rolling back-test on the cube (the last ``n_splits`` months) picks it
        (:meth:`RollingBacktest.choice`); or a candidate's name (no back-test is run).
    area_share
        The area budget the back-test scores (5% of the study area).
    cache_dir
        A folder for the back-test's choice, keyed by a hash of the counts and every setting, so the
        same data reuse it (the app and each command of a store); ``None`` runs it every time.

    Returns
    -------
    (pandas.Series, dict)
        ``predicted_n`` per unit (index: the cube's unit ids), summing to the recent monthly total;
        and the metadata: the predictor, how it was chosen, its figures and the evidence sentence.
    """
    import json

    geom = study_area if study_area is not None else shapely.union_all(cube.units.geometry.to_numpy())
    inputs = prediction_inputs(cube, study_area=geom, hotspot_params=hotspot_params, params=predict_params)
    n_months = inputs.n.shape[1]
    settings = {
        "predictor": predictor,
        "area_share": area_share,
        "n_splits": n_splits,
        "predict_params": inputs.params.to_dict(),
        "hotspot_params": inputs.hotspot_params.to_dict(),
        "study_area_m2": round(float(shapely.area(geom)), 1),
    }
    meta: dict[str, Any] | None = None
    path = None
    if predictor == "auto" and cache_dir is not None:
        path = Path(cache_dir) / f"priority-{_cache_key(inputs, cube.units.index, settings)}.json"
        if path.is_file():
            try:
                meta = json.loads(path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                meta = None
    if meta is None:
        if predictor != "auto":
            if predictor not in predict.predictor_names(inputs):
                raise ParameterError(
                    f"unknown predictor {predictor!r}; use 'auto' or one of {predict.predictor_names(inputs)}"
                )
            meta = {"predictor": predictor, "chosen_by": "named by the caller (no back-test run)", "evidence": None}
        elif n_months < 3:
            meta = {
                "predictor": "counts",
                "chosen_by": f"only {n_months} month(s) of data: too few for a back-test",
                "evidence": (
                    f"Only {n_months} month(s) of data: too few to test how well any selection predicts; "
                    "places are ranked by their counts."
                ),
            }
        else:
            result = rolling_backtest_inputs(
                inputs,
                month_labels=cube.period_labels,
                splits=rolling_splits(n_months, n_splits=n_splits),
                area_shares=(area_share,),
                total_area_m2=float(shapely.area(geom)),
            )
            meta = {
                **result.choice(area_share=area_share),
                "evidence": result.sentence(area_share=area_share),
                "summary": result.summary[
                    ["method", "n_splits", "pai_mean", "pai_sd", "hit_rate_mean", "hit_rate_sd", "beats_counts"]
                ]
                .round(4)
                .to_dict("records"),
            }
        meta = {**meta, "settings": settings}
        if path is not None:
            # a read-only store still plans: the choice is then made again next time
            with contextlib.suppress(OSError):
                store.write_json_atomic(path, json.loads(json.dumps(meta, default=str)), durable=False)
    name = str(meta["predictor"])
    values = _expected_incidents(
        predict.score(name, inputs, n_months) if n_months >= 2 else inputs.n.sum(axis=1), name, inputs
    )
    meta = {
        **meta,
        "column": schema.PREDICTED_N,
        "meaning": (
            f"expected incidents in the month after {cube.period_labels[-1]} from {name!r}, scaled to the "
            f"mean monthly total of the last {min(_RECENT_MONTHS, n_months)} months"
        ),
    }
    return pd.Series(values, index=cube.units.index, name=schema.PREDICTED_N), meta


def add_priority(
    result: hotspot_run.HotspotResult,
    *,
    study_area: Any = None,
    predictor: str = "auto",
    area_share: float = PRIORITY_AREA_SHARE,
    n_splits: int = PRIORITY_SPLITS,
    hotspot_params: hotspots.HotspotParams | None = None,
    predict_params: predict.PredictParams | None = None,
    cache_dir: str | Path | None = None,
) -> hotspot_run.HotspotResult:
    """A hotspot run with the default priority score: ``predicted_n`` in its units and areas.

    Each area's ``predicted_n`` is the sum over its units; the areas themselves (contiguous
    significant units, :mod:`geo_csp.areas`) are unchanged, so they stay patrollable places.
    ``metadata["priority"]`` holds the choice, its back-test figures and the evidence sentence.
    ``predictor``, ``area_share``, ``n_splits``, ``hotspot_params``, ``predict_params`` and ``cache_dir`` are
    those of :func:`priority_scores`. The predictors forecast months: a run by any other period
    (weeks, quarters) is returned without a score, ``metadata["priority"]["note"]`` saying why.
    """
    period = result.cube.params.get("period", "month")
    if period != "month":
        note = (
            f"no priority score: it forecasts the next month, and these periods are {period!r}; choose monthly periods"
        )
        return dataclasses.replace(result, metadata={**result.metadata, "priority": {"note": note, "evidence": None}})
    geom = cube_mod.study_geometry(
        study_area
    )  # None: the union of the units (for H3 cells, slightly more than the area)
    scores, meta = priority_scores(
        result.cube,
        study_area=geom,
        predictor=predictor,
        area_share=area_share,
        n_splits=n_splits,
        hotspot_params=hotspot_params,
        predict_params=predict_params,
        cache_dir=cache_dir,
    )
    units = result.units.assign(**{schema.PREDICTED_N: scores.reindex(result.units.index).to_numpy()})
    by_area = units.groupby(schema.AREA_ID)[schema.PREDICTED_N].sum()
    areas = result.areas.assign(
        **{
            schema.PREDICTED_N: result.areas[schema.AREA_ID].map(by_area).fillna(0.0).to_numpy()
            if len(result.areas)
            else np.empty(0)
        }
    )
    return dataclasses.replace(result, units=units, areas=areas, metadata={**result.metadata, "priority": meta})
