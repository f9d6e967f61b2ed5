"""Back-testing: do hotspots chosen from the past capture where crime happens next?

For a split month, every selection is made on the months before it (period 1) and measured on the
months from it on (period 2), over the same units:

- **method**: units ranked by their mean space-time Gi* z over period 1 (the product's own statistic,
  :func:`geo_csp.hotspots.analyse_cube`);
- **kde**: a Gaussian kernel density surface of period-1 points (``sklearn.neighbors.KernelDensity``)
  evaluated at each unit's centroid. Bandwidth rule: Silverman's rule of thumb averaged over the two
  axes, ``h = mean_xy(1.06 * min(sd, IQR / 1.34)) * n ** (-1/5)`` metres (the same rule as R's
  ``MASS::bandwidth.nrd`` that sfhotspot uses, which reports 4h for a kernel of sd h/4), unless
  ``kde_bandwidth_m`` is given;
- **last_period**: units ranked by their period-1 counts (the last period before the split).

Each ranking is cut at a fixed share of the study area (units taken in rank order while their
cumulative area stays within the share; at least one unit), then measured:

- hit rate ``n / N`` (share of period-2 crime inside the selection);
- PAI ``(n / N) / (a / A)`` (Chainey, Tompson & Uhlig 2008);
- RRI ``PAI_2 / PAI_1`` (Levine 2008): how much of the selection's period-1 concentration it keeps;
- PEI ``PAI / PAI_max`` (Hunt 2016), PAI_max being the best PAI any selection of the same area
  budget reaches on period 2.

police.uk points repeat at snap points, so past counts are a hard baseline (project reference,
section 7): the back-test makes visible what smoothing costs in PAI.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import shapely
from sklearn.neighbors import KernelDensity

from geo_csp import analysis, cube as cube_mod, harm, hotspots, periods, schema
from geo_csp._errors import ParameterError

__all__ = [
    "METHODS",
    "backtest",
    "evaluate_selection",
    "kde_scores",
    "resolution_sweep",
    "select_by_area",
    "silverman_bandwidth_m",
]

METHODS = ("method", "kde", "last_period")


def select_by_area(scores: np.ndarray, unit_area_m2: np.ndarray, *, area_share: float,
                   tiebreak: np.ndarray | None = None) -> np.ndarray:
    """Boolean mask of the top-scoring units whose cumulative area stays within ``area_share`` of the total.

    Ties in ``scores`` are broken by ``tiebreak`` (higher first), then by unit order. At least one
    unit is always selected.
    """
    if not 0 < area_share <= 1:
        raise ParameterError(f"`area_share` must be in (0, 1]; got {area_share!r}")
    scores = np.asarray(scores, dtype="float64")
    area = np.asarray(unit_area_m2, dtype="float64")
    tie = np.zeros_like(scores) if tiebreak is None else np.asarray(tiebreak, dtype="float64")
    order = np.lexsort((np.arange(scores.size), -tie, -np.nan_to_num(scores, nan=-np.inf)))
    within = np.cumsum(area[order]) <= area_share * area.sum() + 1e-9
    within[0] = True
    mask = np.zeros(scores.size, dtype=bool)
    mask[order[within]] = True
    return mask


def evaluate_selection(selected: np.ndarray, future: np.ndarray, unit_area_m2: np.ndarray, *,
                       past: np.ndarray | None = None, area_share: float | None = None,
                       ppai_alpha: float = 0.5) -> dict[str, float]:
    """Hit rate, PAI, PPAI, RRI (when ``past`` is given) and PEI (when ``area_share`` is given) of a selection.

    Parameters
    ----------
    selected
        Boolean mask of the selected units.
    future, past
        Counts per unit in period 2 and period 1.
    unit_area_m2
        Area of each unit.
    area_share
        The area budget the selection was cut at, for PEI's best attainable PAI.
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
    a_share = area[sel].sum() / area.sum()
    big_n = future.sum()
    hit = future[sel].sum() / big_n if big_n > 0 else np.nan
    out: dict[str, float] = {"hit_rate": float(hit), "pai": float(hit / a_share) if a_share > 0 else np.nan,
                             "area_share": float(a_share), "n_units": int(sel.sum())}
    out["ppai"] = float(hit / a_share**ppai_alpha) if a_share > 0 else np.nan
    if past is not None:
        past = np.asarray(past, dtype="float64")
        pai1 = (past[sel].sum() / past.sum()) / a_share if past.sum() > 0 else np.nan
        out["rri"] = float(out["pai"] / pai1) if pai1 and np.isfinite(pai1) and pai1 > 0 else np.nan
    if area_share is not None:
        best = select_by_area(future, area, area_share=area_share)
        best_pai = evaluate_selection(best, future, area)["pai"]
        out["pei"] = float(out["pai"] / best_pai) if best_pai > 0 else np.nan
    return out


def silverman_bandwidth_m(x: np.ndarray, y: np.ndarray, *, weights: np.ndarray | None = None) -> float:
    """Silverman's rule-of-thumb bandwidth in metres, averaged over the two axes (see module docstring)."""
    w = np.ones(len(x)) if weights is None else np.asarray(weights, dtype="float64")
    xs = np.repeat(np.asarray(x, dtype="float64"), w.astype(np.int64)) if weights is not None else np.asarray(x)
    ys = np.repeat(np.asarray(y, dtype="float64"), w.astype(np.int64)) if weights is not None else np.asarray(y)
    n = xs.size
    if n < 2:
        raise ParameterError("a kernel bandwidth needs at least 2 points")

    def _axis(v: np.ndarray) -> float:
        iqr = np.subtract(*np.percentile(v, [75, 25]))
        spread = min(np.std(v, ddof=1), iqr / 1.34) if iqr > 0 else np.std(v, ddof=1)
        return 1.06 * spread * n ** (-0.2)

    return float(np.mean([_axis(xs), _axis(ys)]))


def kde_scores(x: np.ndarray, y: np.ndarray, at_x: np.ndarray, at_y: np.ndarray, *,
               bandwidth_m: float | None = None) -> tuple[np.ndarray, float]:
    """Gaussian KDE of points (fitted once per distinct point, weighted by its count) at given locations.

    Returns the log-density at each location and the bandwidth used (metres).
    """
    xy, counts = np.unique(np.column_stack([x, y]), axis=0, return_counts=True)
    h = silverman_bandwidth_m(xy[:, 0], xy[:, 1], weights=counts) if bandwidth_m is None else float(bandwidth_m)
    if not h > 0:
        raise ParameterError(f"KDE bandwidth must be > 0 m; got {h!r}")
    kde = KernelDensity(kernel="gaussian", bandwidth=h).fit(xy, sample_weight=counts.astype("float64"))
    return kde.score_samples(np.column_stack([at_x, at_y])), h


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
    area_shares: Sequence[float] = (0.01, 0.05, 0.1),
    kde_bandwidth_m: float | None = None,
    params: hotspots.HotspotParams | None = None,
) -> pd.DataFrame:
    """Select from the months before ``split``, measure on the months from ``split`` on.

    Returns
    -------
    pandas.DataFrame
        One row per selection method x area share with ``method, area_share_target, area_share,
        n_units, hit_rate, pai, rri, pei``; ``attrs`` hold the split, the unit, resolution, the KDE
        bandwidth and the number of units significantly hot in at least one training period.
    """
    split = str(periods.validate_months([split], name="split")[0])
    params = hotspots.HotspotParams() if params is None else params
    cube = cube_mod.build_cube(incidents, unit=unit, units=units, resolution=resolution, study_area=study_area,
                               crime_types=crime_types, group=group)
    month_keys = cube.period_keys
    split_key = periods.months_to_index([split])[0]
    train = month_keys < split_key
    if train.sum() < 2 or (~train).sum() < 1:
        raise ParameterError(
            f"split {split} leaves {int(train.sum())} month(s) before and {int((~train).sum())} from it in "
            f"{cube.params['months'][0]}..{cube.params['months'][1]}; choose a split with at least 2 months before"
        )
    past = cube.n[:, train].sum(axis=1)
    future = cube.n[:, ~train].sum(axis=1)
    area = cube.units.geometry.area.to_numpy()

    w = analysis.unit_weights(cube.units, unit=unit, k=params.k)
    result = hotspots.analyse_cube(cube.n[:, train], w, params=params)
    gi_score = result.z.mean(axis=1)

    types = harm.resolve_crime_types(crime_types, group)
    keep = cube_mod.filter_mask(incidents, crime_types=types)
    month_idx = periods.months_to_index(incidents[schema.MONTH].to_numpy(dtype=object))
    area_geom = shapely.union_all(cube.units.geometry.to_numpy()) if study_area is None else cube_mod.study_geometry(study_area)
    pts = incidents[keep & (month_idx < split_key) & cube_mod.clip_to_study_area(incidents, area_geom)]
    centre = shapely.centroid(cube.units.geometry.to_numpy())
    kde, bandwidth = kde_scores(pts[schema.EASTING].to_numpy(), pts[schema.NORTHING].to_numpy(),
                                shapely.get_x(centre), shapely.get_y(centre), bandwidth_m=kde_bandwidth_m)

    scores = {"method": gi_score, "kde": kde, "last_period": past}
    rows = []
    for share in area_shares:  # a handful of shares x 3 methods, each fully vectorised
        for name in METHODS:
            sel = select_by_area(scores[name], area, area_share=share, tiebreak=past)
            rows.append({"method": name, "area_share_target": float(share),
                         **evaluate_selection(sel, future, area, past=past, area_share=share)})
    table = pd.DataFrame(rows)
    table.attrs.update({
        "split": split, "unit": unit, "resolution": cube.params.get("resolution"),
        "train_months": int(train.sum()), "test_months": int((~train).sum()),
        "kde_bandwidth_m": bandwidth, "n_units": int(len(cube.units)),
        "n_significant_units": int(((result.hot_cold == 1).any(axis=1)).sum()),
        "n_train": float(past.sum()), "n_test": float(future.sum()),
        "hotspot_params": params.to_dict(),
    })
    return table


def resolution_sweep(
    incidents: pd.DataFrame,
    *,
    split: str,
    resolutions: Sequence[int] = (7, 8, 9, 10, 11),
    area_share: float = 0.05,
    study_area: Any = None,
    crime_types: Iterable[str] | None = None,
    group: str | None = None,
    params: hotspots.HotspotParams | None = None,
) -> pd.DataFrame:
    """PAI of each method and the count of significant cells at each H3 resolution (the MAUP made visible).

    Returns one row per resolution with ``resolution, n_units, n_significant_units, kde_bandwidth_m``
    and ``pai_<method>``, ``hit_rate_<method>`` for each method.
    """
    rows = []
    for res in resolutions:  # five resolutions; each back-test is vectorised
        table = backtest(incidents, split=split, unit="h3", resolution=int(res), study_area=study_area,
                         crime_types=crime_types, group=group, area_shares=(area_share,), params=params)
        row = {"resolution": int(res), "n_units": table.attrs["n_units"],
               "n_significant_units": table.attrs["n_significant_units"],
               "kde_bandwidth_m": table.attrs["kde_bandwidth_m"]}
        for rec in table.to_dict("records"):
            row[f"pai_{rec['method']}"] = rec["pai"]
            row[f"hit_rate_{rec['method']}"] = rec["hit_rate"]
        rows.append(row)
    return pd.DataFrame(rows)
