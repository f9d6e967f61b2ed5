"""Near-repeat alerts for timed data: a Knox space-time test against permutations, and the series to look at.

After a burglary the same home and its neighbours run a raised risk for a few weeks (Bowers & Johnson;
Townsley, Homel & Chaseling 2003). Ratcliffe's Near Repeat Calculator tests it with the Knox method:
count the pairs of incidents close in both space and time, and compare that count with the counts
obtained when the dates are shuffled among the same places (the places and the dates each keep their own
distribution; only their pairing is broken). :func:`knox_test` does this for bands of distance and time
(default 0-100, 100-200, 200-400 m x 0-7, 7-14, 14-28, 28-56 days): each band's **Knox ratio** is the
observed pairs over the mean of the permuted pairs, and its p-value is ``(1 + #permutations with at
least as many pairs) / (1 + permutations)`` (one-sided, seeded: the same seed gives the same answer).

:func:`near_repeat_series` links incidents within ``distance_m`` and ``days`` of each other (single
linkage) and lists every group of at least ``min_size`` as a series to look at, latest first.

Only incidents with a recorded day can take part: police.uk street crime has the month only (never a
day), so it is refused.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
import scipy.sparse as sp
from scipy.sparse.csgraph import connected_components
from scipy.spatial import cKDTree

from geo_csp import periods, schema
from geo_csp._errors import ParameterError, SchemaError
from geo_csp._validate import require_columns

__all__ = ["KnoxResult", "NearRepeatParams", "knox_test", "near_repeat_series"]


@dataclass(frozen=True)
class NearRepeatParams:
    """Bands, the near-repeat window, permutations and seed; written into every result.

    Parameters
    ----------
    distance_bands_m
        Upper edges (metres, increasing) of the distance bands; the first band starts at 0 m.
    day_bands
        Upper edges (days, increasing) of the time bands; the first starts at 0 days (same day).
    distance_m, days
        The near-repeat window (what the alert is about, and what links a series): pairs within both.
    permutations
        Shuffles of the dates (>= 19; 999 gives p-values to 0.001).
    seed
        Seed of the shuffles.
    min_size
        Smallest series listed (>= 2).
    alpha
        The near-repeat window's p-value below which the alert is raised.
    """

    distance_bands_m: tuple[float, ...] = (100.0, 200.0, 400.0)
    day_bands: tuple[float, ...] = (7.0, 14.0, 28.0, 56.0)
    distance_m: float = 200.0
    days: float = 14.0
    permutations: int = 999
    seed: int = 0
    min_size: int = 3
    alpha: float = 0.05

    def __post_init__(self) -> None:
        for name in ("distance_bands_m", "day_bands"):
            edges = np.asarray(getattr(self, name), dtype="float64")
            if edges.size == 0 or not (edges > 0).all() or (np.diff(edges) <= 0).any():
                raise ParameterError(f"`{name}` must be positive and increasing; got {getattr(self, name)!r}")
        if not self.distance_m > 0 or not self.days >= 0:
            raise ParameterError(f"`distance_m` must be > 0 and `days` >= 0; got {self.distance_m!r}, {self.days!r}")
        if isinstance(self.permutations, bool) or not isinstance(self.permutations, int) or self.permutations < 19:
            raise ParameterError(f"`permutations` must be an integer >= 19; got {self.permutations!r}")
        if isinstance(self.min_size, bool) or not isinstance(self.min_size, int) or self.min_size < 2:
            raise ParameterError(f"`min_size` must be an integer >= 2; got {self.min_size!r}")
        if not 0 < self.alpha < 1:
            raise ParameterError(f"`alpha` must be in (0, 1); got {self.alpha!r}")


@dataclass(frozen=True)
class KnoxResult:
    """The Knox test: observed and expected pairs per band, ratios, p-values and the near-repeat verdict.

    Attributes
    ----------
    table
        One row per distance band x time band: ``distance_band``, ``day_band``, ``observed``,
        ``expected`` (mean over permutations), ``knox_ratio``, ``p_value``.
    observed, expected, p_value
        For the near-repeat window itself (pairs within ``distance_m`` and ``days``).
    significant
        ``p_value < alpha``.
    params
        The :class:`NearRepeatParams` as a dict, plus the number of incidents.
    """

    table: pd.DataFrame
    observed: int
    expected: float
    p_value: float
    significant: bool
    params: dict[str, Any]

    @property
    def knox_ratio(self) -> float:
        """Observed over expected pairs in the near-repeat window (NaN when none are expected)."""
        return self.observed / self.expected if self.expected > 0 else float("nan")

    @property
    def text(self) -> str:
        """One sentence for a tasking sheet."""
        p = self.params
        verdict = "a near-repeat pattern" if self.significant else "no near-repeat pattern beyond chance"
        return (
            f"{verdict}: {self.observed} pairs of the {p['n_incidents']} incidents lie within "
            f"{p['distance_m']:g} m and {p['days']:g} days of each other, against {self.expected:.1f} expected "
            f"when the dates are shuffled (Knox ratio {self.knox_ratio:.2f}, p = {self.p_value:.3f}, "
            f"{p['permutations']} permutations)"
        )


def _days_and_points(incidents: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    need = [schema.EASTING, schema.NORTHING]
    require_columns(incidents, need, "`incidents`", fix="read them with geo_csp.store.read_incidents")
    if schema.OCCURRED_DATE not in incidents.columns or incidents[schema.OCCURRED_DATE].isna().any():
        n_bad = (
            len(incidents)
            if schema.OCCURRED_DATE not in incidents.columns
            else int(incidents[schema.OCCURRED_DATE].isna().sum())
        )
        raise ParameterError(
            f"the near-repeat test needs the day of every incident, but {n_bad:,} of {len(incidents):,} have only a "
            "month: police.uk publishes months only and is never given a day; use a timed partner source "
            "(e.g. the police's own crime extract with dates)"
        )
    xy = incidents[need].to_numpy(dtype="float64")
    if not np.isfinite(xy).all():
        raise SchemaError("the near-repeat test needs located incidents; drop the rows without coordinates")
    return periods.dates_to_days(incidents[schema.OCCURRED_DATE]).astype("float64"), xy


def _close_pairs(xy: np.ndarray, radius_m: float) -> np.ndarray:
    """Index pairs (i < j) of points within ``radius_m`` (EPSG:27700 metres)."""
    out: np.ndarray = cKDTree(xy).query_pairs(r=radius_m, output_type="ndarray").astype(np.int64)
    return out


def knox_test(incidents: pd.DataFrame, *, params: NearRepeatParams | None = None) -> KnoxResult:
    """Knox space-time test of timed incidents against seeded permutations of their dates.

    Parameters
    ----------
    incidents
        Located incidents with ``easting``, ``northing`` (EPSG:27700) and ``occurred_date``; not modified.
    params
        Bands, window, permutations and seed (:class:`NearRepeatParams`).

    Returns
    -------
    KnoxResult
    """
    params = params or NearRepeatParams()
    days, xy = _days_and_points(incidents)
    if len(days) < 3:
        raise ParameterError(f"the near-repeat test needs at least 3 incidents; got {len(days)}")
    d_edges = np.asarray(params.distance_bands_m, dtype="float64")
    t_edges = np.asarray(params.day_bands, dtype="float64")
    radius = max(float(d_edges[-1]), params.distance_m)
    pairs = _close_pairs(xy, radius)
    dist = np.hypot(*(xy[pairs[:, 0]] - xy[pairs[:, 1]]).T) if len(pairs) else np.empty(0)
    d_band = np.searchsorted(d_edges, dist, side="left")  # band k: (edge[k-1], edge[k]]; 0 m in band 0
    in_bands = d_band < len(d_edges)
    in_window = dist <= params.distance_m
    n_d, n_t = len(d_edges), len(t_edges)

    def counts(t: np.ndarray) -> tuple[np.ndarray, int]:
        gap = np.abs(t[pairs[:, 0]] - t[pairs[:, 1]])
        t_band = np.searchsorted(t_edges, gap, side="right")  # band k: [edge[k-1], edge[k]) days
        ok = in_bands & (t_band < n_t)
        grid = np.bincount(d_band[ok] * n_t + t_band[ok], minlength=n_d * n_t).reshape(n_d, n_t)
        return grid, int((in_window & (gap <= params.days)).sum())

    observed_grid, observed = counts(days)
    rng = np.random.default_rng(params.seed)
    perm_grids = np.empty((params.permutations, n_d, n_t))
    perm_window = np.empty(params.permutations)
    for k in range(params.permutations):  # one vectorised pass over the pairs per permutation
        perm_grids[k], perm_window[k] = counts(rng.permutation(days))
    expected_grid = perm_grids.mean(axis=0)
    p_grid = (1 + (perm_grids >= observed_grid[None]).sum(axis=0)) / (1 + params.permutations)
    d_lo = np.concatenate([[0.0], d_edges[:-1]])
    t_lo = np.concatenate([[0.0], t_edges[:-1]])
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(expected_grid > 0, observed_grid / expected_grid, np.nan)
    table = pd.DataFrame(
        {
            "distance_band": np.repeat([f"{a:g}-{b:g} m" for a, b in zip(d_lo, d_edges)], n_t),
            "day_band": np.tile([f"{a:g}-{b:g} days" for a, b in zip(t_lo, t_edges)], n_d),
            "observed": observed_grid.ravel(),
            "expected": expected_grid.ravel(),
            "knox_ratio": ratio.ravel(),
            "p_value": p_grid.ravel(),
        }
    )
    expected = float(perm_window.mean())
    p_value = float((1 + (perm_window >= observed).sum()) / (1 + params.permutations))
    info = {
        **asdict(params),
        "n_incidents": int(len(days)),
        "method": "Knox test, dates permuted among the incidents' places (Ratcliffe's Near Repeat Calculator)",
    }
    return KnoxResult(
        table=table,
        observed=observed,
        expected=expected,
        p_value=p_value,
        significant=bool(p_value < params.alpha),
        params=info,
    )


def near_repeat_series(incidents: pd.DataFrame, *, params: NearRepeatParams | None = None) -> pd.DataFrame:
    """Groups of incidents linked within ``distance_m`` and ``days`` of each other, as series to look at.

    Returns
    -------
    pandas.DataFrame
        One row per series of at least ``min_size`` incidents, latest first: ``series_id`` ("NR-01"),
        ``n``, ``first_date``, ``last_date``, ``span_days``, ``easting``, ``northing`` (the mean point),
        ``radius_m`` (farthest incident from it), ``location`` (the commonest location text, when the
        incidents have one) and ``incident_ids`` (``;``-joined, when they have ids). ``attrs["params"]``
        holds the parameters.
    """
    params = params or NearRepeatParams()
    days, xy = _days_and_points(incidents)
    n = len(days)
    pairs = _close_pairs(xy, params.distance_m) if n else np.empty((0, 2), np.int64)
    if len(pairs):
        pairs = pairs[np.abs(days[pairs[:, 0]] - days[pairs[:, 1]]) <= params.days]
    graph = sp.coo_matrix((np.ones(len(pairs)), (pairs[:, 0], pairs[:, 1])), shape=(n, n)) if n else None
    labels = connected_components(graph, directed=False)[1] if n else np.empty(0, np.int64)
    sizes = np.bincount(labels, minlength=labels.max() + 1 if n else 0)
    keep = np.flatnonzero(sizes >= params.min_size)
    columns = [
        "series_id",
        schema.N,
        "first_date",
        "last_date",
        "span_days",
        schema.EASTING,
        schema.NORTHING,
        "radius_m",
        "location",
        "incident_ids",
    ]
    if keep.size == 0:
        out = pd.DataFrame(columns=columns)
        out.attrs["params"] = asdict(params)
        return out
    member = np.isin(labels, keep)
    frame = pd.DataFrame({"label": labels[member], "day": days[member], "x": xy[member, 0], "y": xy[member, 1]})
    if schema.LOCATION in incidents.columns:
        frame["location"] = incidents[schema.LOCATION].to_numpy(dtype=object)[member]
    if schema.INCIDENT_ID in incidents.columns:
        frame["incident_id"] = incidents[schema.INCIDENT_ID].astype(str).to_numpy()[member]
    g = frame.groupby("label", sort=False)
    out = g.agg(n=("day", "size"), first=("day", "min"), last=("day", "max"), x=("x", "mean"), y=("y", "mean"))
    frame = frame.join(out[["x", "y"]].rename(columns={"x": "cx", "y": "cy"}), on="label")
    out["radius_m"] = np.hypot(frame["x"] - frame["cx"], frame["y"] - frame["cy"]).groupby(frame["label"]).max()
    out["location"] = (
        g["location"].agg(lambda s: s.dropna().mode().iloc[0] if s.notna().any() else None)
        if "location" in frame
        else None
    )
    out["incident_ids"] = g["incident_id"].agg(";".join) if "incident_id" in frame else None
    out = out.sort_values(["last", "n"], ascending=[False, False], kind="mergesort").reset_index(drop=True)

    def to_date(days: pd.Series) -> np.ndarray:
        dates: np.ndarray = np.datetime_as_string(days.to_numpy(dtype=np.int64).astype("datetime64[D]"))
        return dates

    result = pd.DataFrame(
        {
            "series_id": [f"NR-{i + 1:02d}" for i in range(len(out))],
            schema.N: out["n"].to_numpy(dtype=np.int64),
            "first_date": to_date(out["first"]),
            "last_date": to_date(out["last"]),
            "span_days": (out["last"] - out["first"]).to_numpy(dtype=np.int64),
            schema.EASTING: out["x"].to_numpy(),
            schema.NORTHING: out["y"].to_numpy(),
            "radius_m": out["radius_m"].to_numpy(),
            "location": out["location"].to_numpy(dtype=object),
            "incident_ids": out["incident_ids"].to_numpy(dtype=object),
        }
    )
    result.attrs["params"] = asdict(params)
    return result
