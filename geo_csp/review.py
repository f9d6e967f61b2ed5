"""Operation review: did crime fall where the operation ran, did it move next door, and can we tell?

For an operation's footprint and dates, incidents are counted in three places:

- the **target** area R (the footprint);
- a **buffer** ring B around it (``buffer_m`` wide), where displacement or diffusion of benefit shows;
- a **control** area C: matched wards or, by default, the rest of the borough outside the buffer, with
  the footprints of *other* operations live during the review's windows cut out of it (their effect
  would otherwise be counted as the control's "trend"); borough-wide operations (days of action) cannot
  be cut out and are named in the caveats instead;

and in three windows of whole calendar months (police.uk publishes nothing finer):

- **after**: the operation's months (clipped to the data);
- **before**: the same number of months immediately before (shortened, with a caveat, when the data
  start later; figures are then compared per month);
- **year earlier**: the after window's months one year earlier, to allow for seasonality. It is *not
  used* when it overlaps the operation itself (operations longer than 12 months), when it is the same
  months as the before window (a 12-month operation: one baseline, not two agreeing ones) or when it
  starts before the data. A partial overlap with the before window is stated.

For each usable baseline the review gives, each with a 95% interval (``confidence``):

- the target's, buffer's and control's own changes (per month), exact Poisson (binomial) intervals;
- the **relative effect** ``(R1/R0) / (C1/C0) - 1`` with the exact conditional interval of that ratio of
  ratios (conditional on the 2 x 2 table's margins the target's after count is Fisher non-central
  hypergeometric in it: :func:`scipy.stats.contingency.odds_ratio`, ``kind="conditional"``);
  "not distinguishable from zero" when the interval covers 0;
- the **Weighted Displacement Difference** of Wheeler & Ratcliffe (2018), ``WDD = dT - dCt + dD - dCd``
  with ``d = after - before``, and its standard error ``sqrt(T0 + T1 + Ct0 + Ct1 + D0 + D1 + Cd0 + Cd1)``
  (counts Poisson). Here the buffer is the displacement area D and one control serves both, scaled to
  each area's own before count (weights ``R0/C0`` and ``B0/C0``, as the weighted counts of
  ``ptools::wdd``: a weighted count ``w x`` has variance ``w**2 x``); so the WDD is the incidents in
  target plus buffer above (positive) or below (negative) what the control's trend predicts;
- the **Weighted Displacement Quotient** of Bowers & Johnson (2003)::

      WDQ = (B1/C1 - B0/C0) / (R1/C1 - R0/C0)

  read only when the target's fall is distinguishable from zero, and then worded by what the buffer's
  own interval supports (no displacement is claimed from a buffer change within chance).

A **before-window check** (regression to the mean and pre-trend) compares the before window with every
earlier month of the data (24-36 months on a police.uk extract), relative to the control: the rule is
that the before window was *unusually high* when the 95% interval of that rate ratio lies wholly above 1
(a fall afterwards may be the peak passing), and the target was *already falling* when it lies wholly
below 1. The before-window count is also ranked among the earlier windows of the same length.

:func:`review_repeated` pools a repeated one-day operation (a monthly day of action, rotating or
borough-wide) over its dates: the months holding an action day against the neighbouring months
without one, with the pooled rate ratio and its exact interval.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

import numpy as np
import pandas as pd
import shapely
from scipy import stats
from scipy.stats.contingency import odds_ratio

from geo_csp import periods, schema
from geo_csp._errors import ParameterError, SchemaError

__all__ = [
    "OperationReview",
    "PooledReview",
    "did",
    "rate_ratio",
    "review_operation",
    "review_repeated",
    "verdict",
    "wdd",
    "wdq",
]

REGIONS = ("target", "buffer", "control")
WINDOWS = ("before", "year_earlier", "after")
BASELINES = ("before", "year_earlier")
SMALL_COUNT = 20
#: Share of the borough an operation's footprint must cover to count as borough-wide (a day of action).
BOROUGH_WIDE_SHARE = 0.95
CONFIDENCE = 0.95
#: Monthly counts varying this many times more than Poisson get a caveat with the factor to widen intervals by.
DISPERSION_WARN = 1.5
NOT_DISTINGUISHABLE = "not distinguishable from zero"


# ------------------------------------------------------------------ statistics
def wdq(r0: float, r1: float, b0: float, b1: float, c0: float, c1: float) -> float:
    """Weighted Displacement Quotient (Bowers & Johnson 2003).

    ``(b1/c1 - b0/c0) / (r1/c1 - r0/c0)`` for target r, buffer b and control c, before (0) and after (1).
    NaN when the target did not improve relative to the control (success measure >= 0) or a control
    count is zero: the quotient is then not interpretable.
    """
    if c0 <= 0 or c1 <= 0:
        return float("nan")
    success = r1 / c1 - r0 / c0
    if success >= 0:
        return float("nan")
    return float((b1 / c1 - b0 / c0) / success)


def did(r0: float, r1: float, c0: float, c1: float) -> float:
    """Difference-in-differences: the target's change minus the control's change, ``(r1 - r0) - (c1 - c0)``.

    Pass rates (e.g. incidents per km² per month) when the areas differ in size.
    """
    return float((r1 - r0) - (c1 - c0))


def wdd(
    treated: tuple[float, float],
    control: tuple[float, float],
    displaced: tuple[float, float] = (0.0, 0.0),
    displaced_control: tuple[float, float] = (0.0, 0.0),
    *,
    control_weight: float = 1.0,
    displaced_control_weight: float = 1.0,
    before_weight: float = 1.0,
) -> tuple[float, float]:
    """Weighted Displacement Difference (Wheeler & Ratcliffe 2018) and its standard error.

    Each argument is a ``(before, after)`` pair of counts: the treated area T, its control Ct, the
    displacement area D and its control Cd. ``WDD = dT - dCt + dD - dCd`` with ``d = after - before``;
    under Poisson counts ``Var(WDD) = T0 + T1 + Ct0 + Ct1 + D0 + D1 + Cd0 + Cd1``. Leave the displacement
    pair at zero for the local effect alone, as the paper suggests.

    Weights follow ``ptools::wdd``: a control's counts are multiplied by its weight (e.g. to scale a
    larger control to the treated area) and the before counts by ``before_weight`` (e.g. after months /
    before months when the windows differ); a weighted count ``w x`` contributes ``w**2 x`` to the variance.

    Returns
    -------
    (wdd, se)
        Negative WDD: fewer incidents than the controls' trends predict (a reduction).
    """
    (t0, t1), (c0, c1), (d0, d1), (e0, e1) = treated, control, displaced, displaced_control
    b, wc, we = before_weight, control_weight, displaced_control_weight
    estimate = (t1 - b * t0) - wc * (c1 - b * c0) + (d1 - b * d0) - we * (e1 - b * e0)
    variance = (t1 + b**2 * t0) + wc**2 * (c1 + b**2 * c0) + (d1 + b**2 * d0) + we**2 * (e1 + b**2 * e0)
    return float(estimate), float(np.sqrt(variance))


def rate_ratio(
    after: float,
    before: float,
    control_after: float | None = None,
    control_before: float | None = None,
    *,
    after_months: float = 1.0,
    before_months: float = 1.0,
    confidence: float = CONFIDENCE,
) -> tuple[float, float, float]:
    """A rate ratio after/before and its exact interval: ``(ratio, low, high)``.

    With a control, the ratio of ratios ``(after/before) / (control_after/control_before)`` (month
    lengths cancel), with the exact conditional interval: given the margins of the 2 x 2 table of
    Poisson counts, ``after`` is Fisher non-central hypergeometric with that ratio as its odds ratio
    (:func:`scipy.stats.contingency.odds_ratio`, ``kind="conditional"``). Without one, the ratio of
    monthly rates ``(after/after_months) / (before/before_months)`` with the exact (Clopper-Pearson)
    interval of the binomial ``after | after + before``. NaN when a count needed is zero or missing.
    """
    counts = [after, before] + ([] if control_after is None else [control_after, control_before])
    if any(c is None or not np.isfinite(c) or c < 0 for c in counts):
        return (float("nan"),) * 3
    a, b = round(after), round(before)
    if control_after is None:
        if b == 0 or a + b == 0:
            return (float("nan"),) * 3
        scale = before_months / after_months
        ci = stats.binomtest(a, a + b).proportion_ci(confidence_level=confidence, method="exact")
        odds = [p / (1 - p) if p < 1 else np.inf for p in (ci.low, ci.high)]
        return float(a / b * scale), float(odds[0] * scale), float(odds[1] * scale)
    ca, cb = round(control_after), round(control_before or 0.0)
    if b == 0 or ca == 0 or cb == 0:
        return (float("nan"),) * 3
    ci = odds_ratio([[a, b], [ca, cb]], kind="conditional").confidence_interval(confidence_level=confidence)
    return float((a / b) / (ca / cb)), float(ci.low), float(ci.high)


def verdict(low: float, high: float, *, fall: str = "fell", rise: str = "rose") -> str:
    """What an interval on a change (0 = no change) supports, in plain English."""
    if not (np.isfinite(low) or np.isfinite(high)):
        return "not known"
    if high < 0:
        return f"{fall}, distinguishable from zero"
    if low > 0:
        return f"{rise}, distinguishable from zero"
    return NOT_DISTINGUISHABLE


def _pct(value: float) -> str:
    return "not known" if not np.isfinite(value) else f"{value:+.0%}"


def _interval(low: float, high: float) -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "interval not known"
    return f"95% interval {low:+.0%} to {high:+.0%}"


# ------------------------------------------------------------------ the review
@dataclass(frozen=True)
class OperationReview:
    """The before/after review of one operation.

    Attributes
    ----------
    operation
        Its name.
    windows
        ``window -> (first month, last month, n months)``.
    counts
        Incidents by region (rows: target, buffer, control) and window (columns), plus ``area_km2``.
    rates
        Incidents per km² per month, same shape as ``counts`` without ``area_km2``.
    comparisons
        One row per baseline (``before``, ``year_earlier``): ``status`` ("used" or why not), the changes
        ``target_change``, ``buffer_change``, ``control_change`` (per month) with ``*_low``/``*_high``
        intervals, ``did_per_km2_month`` (+ interval), ``relative_effect`` (+ interval), ``effect_verdict``,
        ``expected_target``, ``prevented`` (expected minus actual), ``buffer_relative`` (+ interval),
        ``wdd_local``, ``wdd_buffer``, ``wdd`` with ``*_se`` and ``wdd_low``/``wdd_high``, ``wdd_verdict``,
        ``success_measure``, ``buffer_measure``, ``wdq``, ``wdq_meaningful`` and ``wdq_verdict``.
    caveats
        Plain-English cautions for the report.
    params
        Buffer width, comparison choice, confidence, small-count threshold, operations cut from the control.
    before_check
        The regression-to-the-mean / pre-trend check of the before window (see the module docstring).
    monthly
        Incidents by month (rows) and region (columns) over the whole data.
    """

    operation: str
    windows: dict[str, tuple[str, str, int]]
    counts: pd.DataFrame
    rates: pd.DataFrame
    comparisons: pd.DataFrame
    caveats: tuple[str, ...]
    params: dict[str, object] = field(default_factory=dict)
    before_check: dict[str, object] = field(default_factory=dict)
    monthly: pd.DataFrame = field(default_factory=pd.DataFrame)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (NaN becomes None)."""
        return {
            "operation": self.operation,
            "windows": {k: {"first": a, "last": b, "months": n} for k, (a, b, n) in self.windows.items()},
            "counts": _clean(self.counts),
            "rates_per_km2_month": _clean(self.rates),
            "comparisons": _clean(self.comparisons),
            "before_check": {k: _scalar(v) for k, v in self.before_check.items()},
            "caveats": list(self.caveats),
            "params": self.params,
        }

    def to_text(self) -> str:
        """A short plain-English summary for a meeting paper."""
        after = self.windows["after"]
        lines = [f"Operation {self.operation}: months {after[0]} to {after[1]} ({after[2]} months)."]
        c = self.counts
        used = self.comparisons[self.comparisons["status"] == "used"]
        parts = [f"{c.loc['target', 'after']:.0f} incidents in the target area after"]
        for base in used.index:
            first, last, _ = self.windows[base]
            parts.append(f"{c.loc['target', base]:.0f} {_BASE_LABEL[base]} ({first} to {last})")
        lines.append("; ".join(parts) + ".")
        for base, row in self.comparisons.iterrows():
            if row["status"] == "used":  # a baseline not used is explained in the caveats
                lines.append(_baseline_text(base, row))
        check = self.before_check
        if check.get("text"):
            lines.append(f"Before-window check: {check['text']}")
        lines.extend(f"Caution: {c}" for c in self.caveats)
        return "\n".join(lines)


_BASE_LABEL = {"before": "the months before", "year_earlier": "the same months a year earlier"}


def _scalar(v: object) -> object:
    if isinstance(v, (float, np.floating)) and not np.isfinite(v):
        return None
    return v.item() if hasattr(v, "item") else v


def _clean(frame: pd.DataFrame) -> dict[str, Any]:
    return {
        str(k): {str(col): (None if _isna(v) else _scalar(v)) for col, v in row.items()}
        for k, row in frame.to_dict(orient="index").items()
    }


def _isna(v: object) -> bool:
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _baseline_text(base: str, row: pd.Series) -> str:
    label = _BASE_LABEL[base]
    if not np.isfinite(row["relative_effect"]):
        return (
            f"Against {label}: target changed {_pct(row['target_change'])} a month "
            f"({_interval(row['target_change_low'], row['target_change_high'])}): "
            f"{verdict(row['target_change_low'], row['target_change_high'])}; there is no control area."
        )
    text = (
        f"Against {label}: target changed {_pct(row['target_change'])}, control {_pct(row['control_change'])}; "
        f"relative effect {_pct(row['relative_effect'])} "
        f"({_interval(row['relative_effect_low'], row['relative_effect_high'])}): {row['effect_verdict']}. "
        f"Weighted displacement difference {row['wdd']:+.0f} ± {row['wdd_se']:.0f} incidents (standard error; "
        f"target {row['wdd_local']:+.0f} ± {row['wdd_local_se']:.0f}, ring {row['wdd_buffer']:+.0f} ± "
        f"{row['wdd_buffer_se']:.0f}): {row['wdd_verdict']}. "
    )
    if row["wdq_meaningful"] and row["effect_verdict"].startswith("fell"):
        text += f"WDQ {row['wdq']:.2f} ({row['wdq_verdict']})."
    else:
        text += f"WDQ not read: {row['wdq_verdict']}."
    return text


def _wdq_words(value: float) -> str:
    """What a (meaningful) WDQ says, in plain English (Bowers & Johnson 2003)."""
    if value > 0:
        return "diffusion of benefit: crime also fell in the surrounding ring"
    if value < -1:
        return "displacement larger than the reduction: more crime moved next door than was prevented"
    if value < 0:
        return "some displacement into the surrounding ring, less than the reduction achieved"
    return "no change in the surrounding ring"


def _wdq_verdict(value: float, effect: str, ring_low: float, ring_high: float) -> str:
    """The WDQ's reading, held to what the target's and the ring's intervals support."""
    if not effect.startswith("fell"):
        if effect == NOT_DISTINGUISHABLE:
            return "the target's change relative to the control is not distinguishable from zero"
        return "the target did not fall relative to the control"
    if not np.isfinite(value):
        return "the target did not improve relative to the control"
    if verdict(ring_low, ring_high) == NOT_DISTINGUISHABLE:
        return (
            "the ring's change relative to the control is not distinguishable from zero, so neither "
            "displacement nor diffusion of benefit is shown"
        )
    return _wdq_words(value)  # the WDQ's sign is the ring's (its denominator is negative here)


def _month(value: str | date | pd.Timestamp, name: str) -> str:
    try:
        return str(pd.Timestamp(value).strftime("%Y-%m"))
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"`{name}` {value!r} is not a date; write it as YYYY-MM-DD") from exc


def _shift(month: str, k: int) -> str:
    return str(periods.index_to_months(periods.months_to_index([month]) + k)[0])


def _check_incidents(incidents: pd.DataFrame) -> None:
    for col in (schema.MONTH, schema.EASTING, schema.NORTHING):
        if col not in incidents.columns:
            raise SchemaError(f"`incidents` has no {col!r} column; read them with store.read_incidents()")


def _other_operations(
    operations: pd.DataFrame | None,
    *,
    name: str,
    first_idx: int,
    last_idx: int,
    borough: shapely.Geometry | None,
) -> tuple[list[str], list[shapely.Geometry], list[str]]:
    """Other operations live in months ``first_idx..last_idx``: (cut names, cut footprints, borough-wide names)."""
    if operations is None or len(operations) == 0:
        return [], [], []
    for col in ("name", "start_date", "end_date", "geometry"):
        if col not in operations.columns:
            raise SchemaError(f"`operations` has no {col!r} column; read them with layers.read_operations()")
    others = operations[operations["name"].astype(str).str.lower() != name.lower()]
    others = others[others.geometry.notna() & ~others.geometry.is_empty]
    if others.empty:
        return [], [], []
    lo = periods.months_to_index(pd.to_datetime(others["start_date"]).dt.strftime("%Y-%m").to_numpy())
    hi = periods.months_to_index(pd.to_datetime(others["end_date"]).dt.strftime("%Y-%m").to_numpy())
    live = others[(lo <= last_idx) & (hi >= first_idx)]
    if live.empty:
        return [], [], []
    area = shapely.area(borough) if borough is not None else np.inf
    geoms = live.geometry.to_numpy()
    wide = (
        (shapely.area(shapely.intersection(geoms, borough)) >= BOROUGH_WIDE_SHARE * area)
        if borough is not None
        else np.zeros(len(live), dtype=bool)
    )
    starts = pd.to_datetime(live["start_date"]).dt.strftime("%d %b %Y")
    ends = pd.to_datetime(live["end_date"]).dt.strftime("%d %b %Y")
    label = live["name"].astype(str) + " (" + starts.where(starts == ends, starts + " to " + ends) + ")"
    cut = label[~wide].tolist()
    return cut, list(geoms[~wide]), label[wide].tolist()


def _regions(
    footprint: shapely.Geometry,
    *,
    borough: shapely.Geometry | None,
    comparison: shapely.Geometry | None,
    buffer_m: float,
    cut: list[shapely.Geometry],
) -> tuple[dict[str, shapely.Geometry], str, bool]:
    """Target, buffer ring and control geometries, the control's label and whether the footprint is borough-wide."""
    footprint = shapely.make_valid(footprint)
    outer = shapely.buffer(footprint, buffer_m)
    ring = shapely.difference(outer, footprint)
    if comparison is not None:
        control = shapely.difference(comparison, outer)
        label = "the comparison area given (footprint and buffer removed)"
    elif borough is not None:
        control = shapely.difference(borough, outer)
        label = "the rest of the borough outside the footprint and buffer"
    else:
        raise ParameterError("give `borough` (control = the rest of the borough) or a `comparison` area")
    if cut:
        control = shapely.difference(control, shapely.union_all(cut))
        label += ", without other live operations' footprints"
    borough_wide = borough is not None and shapely.area(footprint) >= BOROUGH_WIDE_SHARE * shapely.area(borough)
    if borough_wide or control.is_empty or control.area <= 0:
        control = shapely.Polygon()
        ring = shapely.Polygon() if borough_wide else ring
    return {"target": footprint, "buffer": ring, "control": control}, label, borough_wide


def _monthly(
    incidents: pd.DataFrame, geoms: dict[str, shapely.Geometry], month_idx: np.ndarray, lo: int, hi: int
) -> np.ndarray:
    """Counts by region (rows, as REGIONS) and month ``lo..hi`` (columns); NaN rows for absent regions."""
    x = incidents[schema.EASTING].to_numpy(dtype="float64")
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y) & (month_idx >= lo) & (month_idx <= hi)
    region = np.full(len(incidents), -1)
    for i, key in enumerate(REGIONS):  # three regions, each tested vectorised over all incidents
        geom = geoms[key]
        if not geom.is_empty:
            inside = ok & (region < 0) & shapely.contains_xy(geom, x, y)
            region[inside] = i
    keep = region >= 0
    n_months = hi - lo + 1
    flat = np.bincount(region[keep] * n_months + (month_idx[keep] - lo), minlength=3 * n_months)
    out = flat.reshape(3, n_months).astype("float64")
    for i, key in enumerate(REGIONS):
        if geoms[key].is_empty:
            out[i] = np.nan
    return out


def _dispersion(counts: np.ndarray) -> float:
    """Variance over mean of monthly counts (1 for Poisson); NaN for fewer than 6 months or no incidents."""
    counts = counts[np.isfinite(counts)]
    if len(counts) < 6 or counts.mean() <= 0:
        return float("nan")
    return float(counts.var(ddof=1) / counts.mean())


def _before_check(
    monthly: np.ndarray, *, before: tuple[int, int], data_lo: int, has_control: bool, confidence: float
) -> dict[str, object]:
    """Regression to the mean / pre-trend: the before window against every earlier month of the data."""
    b_lo, b_hi = before
    n_before = b_hi - b_lo + 1
    earlier = monthly[:, : b_lo - data_lo]
    h = earlier.shape[1]
    out: dict[str, object] = {
        "before_months": n_before,
        "earlier_months": h,
        "rule": (
            f"unusually high when the {confidence:.0%} interval of the before window's rate against the earlier months "
            "(relative to the control) lies wholly above 1; already falling when it lies wholly below 1"
        ),
    }
    if h == 0:
        out.update(
            status="not checked",
            text="no months before the before window in the data, so whether it was unusually high cannot be checked.",
        )
        return out
    window = monthly[:, b_lo - data_lo : b_hi - data_lo + 1]
    r_b, r_e = float(window[0].sum()), float(earlier[0].sum())
    if has_control:
        ratio, low, high = rate_ratio(r_b, r_e, float(window[2].sum()), float(earlier[2].sum()), confidence=confidence)
    else:
        ratio, low, high = rate_ratio(r_b, r_e, after_months=n_before, before_months=h, confidence=confidence)
    sums = np.convolve(earlier[0], np.ones(n_before), mode="valid") if h >= n_before else np.array([])
    out.update(
        target_before=r_b,
        target_earlier=r_e,
        ratio=ratio,
        ratio_low=low,
        ratio_high=high,
        earlier_windows=len(sums),
        earlier_windows_lower=int((sums < r_b).sum()),
    )
    against = "relative to the control" if has_control else "(no control area)"
    figures = (
        (
            f"the before window's monthly rate was {ratio:.2f} times that of the {h} earlier months {against} "
            f"({confidence:.0%} interval {low:.2f} to {high:.2f})"
        )
        if np.isfinite(ratio)
        else "too few incidents to compare the before window with the earlier months"
    )
    if len(sums):
        figures += (
            f"; its count ({r_b:.0f}) is above {int((sums < r_b).sum())} of the {len(sums)} earlier "
            f"{n_before}-month windows"
        )
    if np.isfinite(low) and low > 1:
        out.update(
            status="unusually high",
            text=f"{figures}. The before window was UNUSUALLY HIGH: part of any "
            "fall afterwards may be regression to the mean (the peak passing), not the operation.",
        )
    elif np.isfinite(high) and high < 1:
        out.update(
            status="already falling",
            text=f"{figures}. The target was ALREADY FALLING before the "
            "operation: part of any fall afterwards may be that trend continuing.",
        )
    else:
        out.update(
            status="not unusual", text=f"{figures}: not unusually high, and no pre-trend distinguishable from chance."
        )
    return out


def _comparison(
    counts: pd.DataFrame,
    rates: pd.DataFrame,
    base: str,
    months: dict[str, int],
    *,
    has_control: bool,
    confidence: float,
) -> dict[str, object]:
    """Every figure of one baseline, each with its interval."""
    r0, r1 = counts.loc["target", base], counts.loc["target", "after"]
    b0, b1 = counts.loc["buffer", base], counts.loc["buffer", "after"]
    c0, c1 = counts.loc["control", base], counts.loc["control", "after"]
    n0, n1 = months[base], months["after"]
    row: dict[str, object] = {"status": "used"}
    own: dict[str, tuple[float, float, float]] = {}
    for key, (x0, x1) in (("target", (r0, r1)), ("buffer", (b0, b1)), ("control", (c0, c1))):
        ratio, low, high = own[key] = rate_ratio(x1, x0, after_months=n1, before_months=n0, confidence=confidence)
        row.update({f"{key}_change": ratio - 1, f"{key}_change_low": low - 1, f"{key}_change_high": high - 1})
    nan = float("nan")
    row.update(
        did_per_km2_month=nan,
        did_per_km2_month_low=nan,
        did_per_km2_month_high=nan,
        relative_effect=nan,
        relative_effect_low=nan,
        relative_effect_high=nan,
        effect_verdict=verdict(own["target"][1] - 1, own["target"][2] - 1) + " (no control area)",
        expected_target=nan,
        prevented=nan,
        buffer_relative=nan,
        buffer_relative_low=nan,
        buffer_relative_high=nan,
        wdd_local=nan,
        wdd_local_se=nan,
        wdd_buffer=nan,
        wdd_buffer_se=nan,
        wdd=nan,
        wdd_se=nan,
        wdd_low=nan,
        wdd_high=nan,
        wdd_verdict="not known (no control area)",
        success_measure=nan,
        buffer_measure=nan,
        wdq=nan,
        wdq_meaningful=False,
        wdq_verdict="no control area",
    )
    if not has_control or min(r0, c0, c1) <= 0:
        if has_control:
            row["wdq_verdict"] = row["wdd_verdict"] = "too few incidents before or in the control"
        return row
    z = stats.norm.ppf(0.5 + confidence / 2)
    effect, e_low, e_high = rate_ratio(r1, r0, c1, c0, confidence=confidence)
    ring, g_low, g_high = rate_ratio(b1, b0, c1, c0, confidence=confidence)
    t = n1 / n0  # before counts scaled to the after window's length
    w_t, w_b = r0 / c0, b0 / c0  # the control scaled to each area's own before count
    local, local_se = wdd((r0, r1), (c0, c1), control_weight=w_t, before_weight=t)
    ring_wdd, ring_se = wdd((b0, b1), (c0, c1), control_weight=w_b, before_weight=t)
    total, total_se = wdd((r0, r1), (c0, c1), (b0, b1), control_weight=w_t + w_b, before_weight=t)
    value = wdq(r0, r1, b0, b1, c0, c1)
    effect_words = verdict(e_low - 1, e_high - 1)
    did_value = did(
        rates.loc["target", base],
        rates.loc["target", "after"],
        rates.loc["control", base],
        rates.loc["control", "after"],
    )
    a_t, a_c = counts.loc["target", "area_km2"], counts.loc["control", "area_km2"]
    # Poisson counts: Var(count / (area x months)) = count / (area x months)^2
    did_se = float(np.sqrt(r1 / (a_t * n1) ** 2 + r0 / (a_t * n0) ** 2 + c1 / (a_c * n1) ** 2 + c0 / (a_c * n0) ** 2))
    row.update(
        did_per_km2_month=did_value,
        did_per_km2_month_low=did_value - z * did_se,
        did_per_km2_month_high=did_value + z * did_se,
        relative_effect=effect - 1,
        relative_effect_low=e_low - 1,
        relative_effect_high=e_high - 1,
        effect_verdict=effect_words,
        expected_target=r0 * c1 / c0,
        prevented=r0 * c1 / c0 - r1,
        buffer_relative=ring - 1,
        buffer_relative_low=g_low - 1,
        buffer_relative_high=g_high - 1,
        wdd_local=local,
        wdd_local_se=local_se,
        wdd_buffer=ring_wdd,
        wdd_buffer_se=ring_se,
        wdd=total,
        wdd_se=total_se,
        wdd_low=total - z * total_se,
        wdd_high=total + z * total_se,
        wdd_verdict=verdict(
            total - z * total_se,
            total + z * total_se,
            fall="fewer incidents than expected",
            rise="more incidents than expected",
        ),
        success_measure=r1 / c1 - r0 / c0,
        buffer_measure=b1 / c1 - b0 / c0,
        wdq=value,
        wdq_meaningful=bool(np.isfinite(value)),
        wdq_verdict=_wdq_verdict(value, effect_words, g_low - 1, g_high - 1),
    )
    return row


def review_operation(
    incidents: pd.DataFrame,
    *,
    footprint: shapely.Geometry,
    start: str | date | pd.Timestamp,
    end: str | date | pd.Timestamp,
    borough: shapely.Geometry | None = None,
    comparison: shapely.Geometry | None = None,
    operations: pd.DataFrame | None = None,
    name: str = "operation",
    buffer_m: float = 200.0,
    small_count: int = SMALL_COUNT,
    confidence: float = CONFIDENCE,
) -> OperationReview:
    """Before/after review of an operation with a control area, a displacement buffer and intervals.

    Parameters
    ----------
    incidents
        Located incidents with ``month`` (``YYYY-MM``), ``easting`` and ``northing`` (EPSG:27700), e.g.
        ``store.read_incidents(..., located_only=True)``. Rows outside every region are ignored.
    footprint
        The operation's area (EPSG:27700).
    start, end
        First and last day of the operation; the review uses whole months.
    borough
        Borough outline (EPSG:27700): the default control is the borough outside footprint + buffer.
    comparison
        A control area to use instead (e.g. the union of matched wards); the footprint and buffer are
        cut out of it.
    operations
        The operations register (:func:`geo_csp.layers.read_operations`): the footprints of operations
        other than ``name`` live in any month of the review's windows are cut out of the control;
        borough-wide ones (at least 95% of ``borough``) cannot be and are named in the caveats.
    name
        The operation's name, for the outputs (and to tell it from the others in ``operations``).
    buffer_m
        Width of the displacement ring around the footprint.
    small_count
        Counts below this are flagged as too small to read much into.
    confidence
        Level of every interval (0.95: 95%).
    """
    _check_review_options(incidents, buffer_m=buffer_m, confidence=confidence, borough=borough, comparison=comparison)
    caveats: list[str] = []
    first, last, data_first, data_last, months = _review_months(start, end, incidents, caveats)
    windows, status = _review_windows(first, last, data_first, caveats)
    data_lo, data_hi = periods.months_to_index([data_first, data_last])
    geoms, control_label, cut_names, wide_names = _review_regions(
        footprint,
        borough=borough,
        comparison=comparison,
        operations=operations,
        name=name,
        buffer_m=buffer_m,
        windows=windows,
        status=status,
        caveats=caveats,
    )
    month_idx = periods.months_to_index(months)
    monthly = _monthly(incidents, geoms, month_idx, int(data_lo), int(data_hi))
    counts, rates, window_months = _window_counts(monthly, geoms, windows, int(data_lo))
    has_control = not geoms["control"].is_empty
    comparisons = _baseline_comparisons(
        counts, rates, status, window_months, has_control=has_control, confidence=confidence
    )
    b0, b1 = periods.months_to_index([windows["before"][0], windows["before"][1]])
    check = _before_check(
        monthly, before=(int(b0), int(b1)), data_lo=int(data_lo), has_control=has_control, confidence=confidence
    )
    check["dispersion"] = _dispersion(monthly[0, : int(b1) - int(data_lo) + 1])
    caveats += _reading_caveats(counts, geoms, status, comparisons, check, small_count=small_count)
    params = {
        "buffer_m": buffer_m,
        "control": control_label if has_control else "none (borough-wide footprint)",
        "control_excludes": cut_names,
        "borough_wide_operations_in_windows": wide_names,
        "small_count": small_count,
        "confidence": confidence,
        "baselines": {k: status[k] for k in BASELINES},
        "wdd_weights": "control scaled to each area's before count (R0/C0, B0/C0); before counts x after/before months",
        "relative_effect_interval": "exact conditional (Fisher non-central hypergeometric) on the 2 x 2 counts",
        "start": str(start),
        "end": str(end),
    }
    monthly_frame = pd.DataFrame(
        monthly.T, index=periods.index_to_months(np.arange(data_lo, data_hi + 1)), columns=list(REGIONS)
    )
    return OperationReview(
        operation=name,
        windows=windows,
        counts=counts,
        rates=rates,
        comparisons=comparisons,
        caveats=tuple(caveats),
        params=params,
        before_check=check,
        monthly=monthly_frame,
    )


def _check_review_options(
    incidents: pd.DataFrame,
    *,
    buffer_m: float,
    confidence: float,
    borough: shapely.Geometry | None,
    comparison: shapely.Geometry | None,
) -> None:
    """Refuse incidents without the columns a review reads, and options out of range."""
    _check_incidents(incidents)
    if buffer_m <= 0:
        raise ParameterError(f"buffer_m must be positive, got {buffer_m}")
    if not 0.5 <= confidence < 1:
        raise ParameterError(f"confidence must be in [0.5, 1), e.g. 0.95; got {confidence}")
    if borough is None and comparison is None:
        raise ParameterError("give `borough` (control = the rest of the borough) or a `comparison` area")


def _review_months(
    start: str | date | pd.Timestamp, end: str | date | pd.Timestamp, incidents: pd.DataFrame, caveats: list[str]
) -> tuple[str, str, str, str, Any]:
    """The operation's first and last month (the last cut to the data's end, with a caveat), the data's
    first and last month, and the incidents' months; refused when the data hold no month before it."""
    first, last = _month(start, "start"), _month(end, "end")
    if last < first:
        raise ParameterError(f"the operation ends ({end}) before it starts ({start})")
    months = periods.validate_months(incidents[schema.MONTH])
    data_first, data_last = (min(months), max(months)) if len(months) else (first, last)
    if first > data_last:
        raise ParameterError(f"the operation starts in {first}, after the data ends ({data_last}); nothing to review")
    if last < data_first:
        raise ParameterError(
            f"the operation ended in {last}, before the data start ({data_first}); ingest the months of the "
            "operation and the year before it to review it"
        )
    if first <= data_first:
        raise ParameterError(
            f"the operation starts in {first}, the data's first month ({data_first}): there are no months "
            "before it to compare with; ingest the year before the operation to review it"
        )
    if last > data_last:
        caveats.append(
            f"The data end in {data_last}, before the operation ends ({last}): 'after' stops at {data_last}."
        )
        last = data_last
    return first, last, data_first, data_last, months


def _review_windows(
    first: str, last: str, data_first: str, caveats: list[str]
) -> tuple[dict[str, tuple[str, str, int]], dict[str, str]]:
    """The before, year-earlier and after windows (first month, last month, months) and whether each
    baseline is used (``"used"`` or why not), with their caveats."""
    n = len(periods.month_range(first, last))
    before_first = max(_shift(first, -n), data_first)
    n_before = len(periods.month_range(before_first, _shift(first, -1)))
    windows = {
        "before": (before_first, _shift(first, -1), n_before),
        "year_earlier": (_shift(first, -12), _shift(last, -12), n),
        "after": (first, last, n),
    }
    if n_before < n:
        caveats.append(
            f"The data start in {data_first}, so the 'before' window has only {n_before} of the operation's {n} "
            "months: rates are compared per month, and seasonal differences between the windows are not allowed for."
        )
    status = {"before": "used", "year_earlier": _year_earlier_status(windows, n, data_first, caveats)}
    for key in BASELINES:
        if status[key] != "used":
            caveats.append(f"The '{key.replace('_', ' ')}' baseline is not used: {status[key]}.")
    return windows, status


def _year_earlier_status(windows: dict[str, tuple[str, str, int]], n: int, data_first: str, caveats: list[str]) -> str:
    """Whether the year-earlier baseline is used (``"used"``) or why not; a caveat when it shares months
    with the before window."""
    year = windows["year_earlier"]
    if n > 12:
        return (
            f"the operation lasts {n} months, so the same months a year earlier ({year[0]} to "
            f"{year[1]}) include {n - 12} of the operation's own months: that is not a baseline"
        )
    if year[:2] == windows["before"][:2]:
        return (
            "for a 12-month operation the same months a year earlier are the months before: one baseline, "
            "not two agreeing ones"
        )
    if year[0] < data_first:
        return f"the data start in {data_first}, after the start of that window ({year[0]}), so it would undercount"
    a0, a1 = periods.months_to_index([windows["before"][0], windows["before"][1]])
    y0, y1 = periods.months_to_index([year[0], year[1]])
    shared = max(0, min(a1, y1) - max(a0, y0) + 1)
    if shared:
        caveats.append(
            f"The 'before' and 'year earlier' windows share {shared} of their {n} months, so their agreement "
            "is partly the same data counted twice, not two independent confirmations."
        )
    return "used"


def _review_regions(
    footprint: shapely.Geometry,
    *,
    borough: shapely.Geometry | None,
    comparison: shapely.Geometry | None,
    operations: pd.DataFrame | None,
    name: str,
    buffer_m: float,
    windows: dict[str, tuple[str, str, int]],
    status: dict[str, str],
    caveats: list[str],
) -> tuple[dict[str, shapely.Geometry], str, list[str], list[str]]:
    """The target, buffer and control regions, other live operations cut out of the control, with the
    caveats on the control; the control's label, the operations cut out and the borough-wide ones."""
    used_windows = [windows[k] for k in WINDOWS if k == "after" or status[k] == "used"]
    span = periods.months_to_index([min(w[0] for w in used_windows), max(w[1] for w in used_windows)])
    cut_names, cut_geoms, wide_names = _other_operations(
        operations, name=name, first_idx=int(span[0]), last_idx=int(span[1]), borough=borough
    )
    geoms, control_label, borough_wide = _regions(
        footprint, borough=borough, comparison=comparison, buffer_m=buffer_m, cut=cut_geoms
    )
    if geoms["control"].is_empty:
        caveats.append(
            "The footprint covers the whole borough (a day of action), so there is no control area or buffer: "
            "only before/after and year-on-year changes are shown, and any change may be borough-wide trend."
            if borough_wide
            else "No control area is left once the footprint and buffer are removed."
        )
    if cut_names:
        overlap = [
            nm
            for nm, g in zip(cut_names, cut_geoms, strict=True)
            if shapely.intersects(g, shapely.buffer(geoms["target"], buffer_m))
        ]
        caveats.append(
            f"Other operations live during the review's windows were cut out of the control area: "
            f"{'; '.join(cut_names)}, so their effect is not counted as the control's trend."
            + (
                f" {'; '.join(overlap)} also overlapped the footprint or its ring: the figures there mix their "
                "effects with this operation's."
                if overlap
                else ""
            )
        )
    if wide_names:
        caveats.append(
            f"Borough-wide operations fell in the review's windows and cover the target and the control alike, "
            f"so they cannot be cut out: {'; '.join(wide_names)}."
        )
    return geoms, control_label, cut_names, wide_names


def _window_counts(
    monthly: np.ndarray, geoms: dict[str, shapely.Geometry], windows: dict[str, tuple[str, str, int]], data_lo: int
) -> tuple[pd.DataFrame, pd.DataFrame, pd.Series]:
    """Counts per region and window (with each region's ``area_km2``), rates per km² per month, and each
    window's months."""
    counts = pd.DataFrame(np.nan, index=list(REGIONS), columns=list(WINDOWS))
    for key, (a, b, _) in windows.items():
        lo, hi = periods.months_to_index([a, b])
        if lo >= data_lo:
            counts[key] = monthly[:, lo - data_lo : hi - data_lo + 1].sum(axis=1)
    area_km2 = np.array([shapely.area(geoms[k]) / 1e6 for k in REGIONS])
    window_months = pd.Series({k: w[2] for k, w in windows.items()})
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = counts.div(np.where(area_km2 > 0, area_km2, np.nan), axis=0).div(window_months, axis=1)
    counts["area_km2"] = area_km2
    return counts, rates, window_months


def _baseline_comparisons(
    counts: pd.DataFrame,
    rates: pd.DataFrame,
    status: dict[str, str],
    window_months: pd.Series,
    *,
    has_control: bool,
    confidence: float,
) -> pd.DataFrame:
    """One row per baseline: the comparison of the after window with it, or only why it is not used."""
    rows: dict[str, dict[str, object]] = {}
    for base in BASELINES:
        if status[base] != "used":
            rows[base] = {"status": status[base]}
            continue
        rows[base] = _comparison(
            counts, rates, base, window_months.to_dict(), has_control=has_control, confidence=confidence
        )
    comparisons = pd.DataFrame.from_dict(rows, orient="index").reindex(list(BASELINES))
    if "wdq_meaningful" in comparisons:
        comparisons["wdq_meaningful"] = comparisons["wdq_meaningful"].fillna(False).astype(bool)
    return comparisons


def _reading_caveats(
    counts: pd.DataFrame,
    geoms: dict[str, shapely.Geometry],
    status: dict[str, str],
    comparisons: pd.DataFrame,
    check: dict[str, Any],
    *,
    small_count: int,
) -> list[str]:
    """The plain-English caveats on reading the figures: small numbers, regression to the mean, where the
    WDQ means nothing, the Poisson intervals (against the target's dispersion) and police.uk locations."""
    caveats = []
    small = [
        (reg, win, int(counts.loc[reg, win]))
        for reg in REGIONS
        for win in WINDOWS
        if not geoms[reg].is_empty
        and np.isfinite(counts.loc[reg, win])
        and counts.loc[reg, win] < small_count
        and (win == "after" or status[win] == "used")
    ]
    if small:
        listed = ", ".join(f"{reg} {win.replace('_', ' ')} = {c}" for reg, win, c in small)
        caveats.append(
            f"Small numbers (below {small_count}): {listed}. Changes this small can be chance; do not read "
            "much into them on their own."
        )
    caveats.append(
        "Regression to the mean: operations usually start where crime has just been unusually high, and such "
        "peaks tend to fall back on their own. The control area allows for borough-wide change, not for this; "
        f"the before-window check tests it against the earlier months ({check['status']})."
    )
    for base, row in comparisons.iterrows():
        if row["status"] == "used" and np.isfinite(row.get("success_measure", np.nan)) and not row["wdq_meaningful"]:
            caveats.append(
                f"Against the {base.replace('_', ' ')} baseline the target did not improve relative to the control, "
                "so the Weighted Displacement Quotient is not meaningful there."
            )
    dispersion = check["dispersion"]
    if np.isfinite(dispersion) and dispersion > DISPERSION_WARN:
        caveats.append(
            f"Intervals assume Poisson counts, but the target's monthly counts before the operation vary "
            f"{dispersion:.1f} times as much as Poisson counts would (seasonality, sprees): read every interval "
            f"as about {np.sqrt(dispersion):.1f} times wider than shown."
        )
    else:
        caveats.append(
            "Intervals assume Poisson counts; crime is often more variable than that (overdispersed), so the true "
            "uncertainty can be wider than shown."
        )
    caveats.append(
        "police.uk locations are moved to the nearest anonymous snap point and dated by month only, so "
        "incidents near the footprint's edge may fall on either side and part-months are counted whole."
    )
    return caveats


# ------------------------------------------------------------------ repeated one-day operations
@dataclass(frozen=True)
class PooledReview:
    """A repeated one-day operation pooled over its dates.

    Attributes
    ----------
    operation
        Its name.
    dates
        One row per action day: ``date``, ``month``, ``matched_months`` (the neighbouring months without an
        action day), ``target_action``, ``target_matched`` (incidents in the footprint in the action month
        and in the matched months), ``control_action``, ``control_matched`` (NaN when borough-wide).
    pooled
        ``action_months``, ``matched_months``, the pooled counts, ``ratio`` (the action months' monthly rate
        over the matched months', relative to the control when there is one), ``ratio_low``/``ratio_high``
        and ``change`` / ``change_low`` / ``change_high`` (ratio - 1), ``verdict``.
    caveats
        Plain-English cautions.
    params
        Buffer width, confidence, the matching rule.
    """

    operation: str
    dates: pd.DataFrame
    pooled: dict[str, object]
    caveats: tuple[str, ...]
    params: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (NaN becomes None)."""
        return {
            "operation": self.operation,
            "dates": [
                {k: (None if _isna(v) else _scalar(v)) for k, v in r.items()}
                for r in self.dates.to_dict(orient="records")
            ],
            "pooled": {k: _scalar(v) for k, v in self.pooled.items()},
            "caveats": list(self.caveats),
            "params": self.params,
        }

    def to_text(self) -> str:
        """A short plain-English summary for a meeting paper."""
        p: dict[str, Any] = self.pooled
        against = " relative to the control area" if p["with_control"] else ""
        lines = [
            (
                f"Operation {self.operation}: {p['action_months']} months holding an action day, pooled against "
                f"{p['matched_months']} neighbouring months without one."
            ),
            (
                f"Incidents in the footprint: {p['target_action']:.0f} in the action months, "
                f"{p['target_matched']:.0f} in the matched months. Monthly rate change in action months{against}: "
                f"{_pct(p['change'])} ({_interval(p['change_low'], p['change_high'])}): {p['verdict']}."
            ),
        ]
        lines.extend(f"Caution: {c}" for c in self.caveats)
        return "\n".join(lines)


def _one_day_rows(operations: pd.DataFrame | None, *, name: str, buffer_m: float) -> tuple[pd.DataFrame, pd.Series]:
    """The rows of a repeated operation that have a footprint, by start date, and their start dates;
    refused when there are none, a row lasts more than one day, or ``buffer_m`` is not positive."""
    if operations is None or len(operations) == 0:
        raise ParameterError(f"operation {name!r} has no dated rows to pool")
    if buffer_m <= 0:
        raise ParameterError(f"buffer_m must be positive, got {buffer_m}")
    rows = operations[operations.geometry.notna() & ~operations.geometry.is_empty].sort_values("start_date")
    starts, ends = pd.to_datetime(rows["start_date"]), pd.to_datetime(rows["end_date"])
    long = rows[(ends - starts).dt.days >= 1]
    if len(long):
        raise ParameterError(
            f"operation {name!r} has rows lasting more than one day (e.g. {starts.iloc[0]:%Y-%m-%d} to "
            f"{ends.iloc[0]:%Y-%m-%d}); pool only one-day operations, review longer ones one at a time"
        )
    return rows, starts


def _action_days(
    incidents: pd.DataFrame,
    rows: pd.DataFrame,
    starts: pd.Series,
    action: np.ndarray,
    month_idx: np.ndarray,
    data_months: tuple[int, int],
    *,
    borough: shapely.Geometry,
    buffer_m: float,
) -> pd.DataFrame:
    """One row per action day inside the data's months (index range ``data_months``): its month, the
    neighbouring months without an action day it is matched with, and the footprint's and control's counts
    in both. Two days of one footprint in one month count once."""
    data_lo, data_hi = data_months
    action_set = {int(a) for a in action}
    records = []
    seen: set[tuple[int, bytes]] = set()
    for (_, row), day, a in zip(rows.iterrows(), starts, action, strict=True):
        a = int(a)
        key = (a, shapely.to_wkb(row.geometry))
        if not data_lo <= a <= data_hi or key in seen:  # two days of one footprint in a month count once
            continue
        seen.add(key)
        matched = [m for m in (a - 1, a + 1) if data_lo <= m <= data_hi and m not in action_set]
        geoms, _, _ = _regions(row.geometry, borough=borough, comparison=None, buffer_m=buffer_m, cut=[])
        monthly = _monthly(incidents, geoms, month_idx, data_lo, data_hi)
        cols = [m - data_lo for m in matched]
        records.append(
            {
                "date": f"{day:%Y-%m-%d}",
                "month": str(periods.index_to_months(np.array([a]))[0]),
                "matched_months": ", ".join(periods.index_to_months(np.array(matched))) if matched else "",
                "n_matched": len(matched),
                "target_action": monthly[0, a - data_lo],
                "target_matched": monthly[0, cols].sum(),
                "control_action": monthly[2, a - data_lo],
                "control_matched": monthly[2, cols].sum() if cols else 0.0,
            }
        )
    return pd.DataFrame.from_records(records)


def review_repeated(
    incidents: pd.DataFrame,
    *,
    operations: pd.DataFrame,
    borough: shapely.Geometry,
    name: str = "operation",
    buffer_m: float = 200.0,
    confidence: float = CONFIDENCE,
) -> PooledReview:
    """Pool a repeated one-day operation (e.g. a monthly day of action) over its dates.

    Each action day's month is matched with its neighbouring months (one before, one after) that hold no
    action day of this operation and lie in the data. The footprint's incidents in the action months are
    pooled against those in the matched months; when the footprint is not borough-wide (a day of action
    rotating through districts), the rest of the borough outside each day's footprint and buffer is its
    control over the same months and the pooled figure is the ratio of ratios, with the exact conditional
    interval (:func:`rate_ratio`); borough-wide days have no control, and the interval is the exact
    binomial one of the monthly rates.

    Parameters
    ----------
    incidents
        Located incidents (``month``, ``easting``, ``northing``; EPSG:27700).
    operations
        The operation's dated rows (``name``, ``start_date``, ``end_date``, footprint geometry), e.g. the
        rows of :func:`geo_csp.layers.read_operations` with one name.
    borough
        Borough outline (EPSG:27700).
    name, buffer_m, confidence
        As :func:`review_operation`.
    """
    _check_incidents(incidents)
    rows, starts = _one_day_rows(operations, name=name, buffer_m=buffer_m)
    months = periods.validate_months(incidents[schema.MONTH])
    if not len(months):
        raise ParameterError("no incidents to review")
    data_lo, data_hi = (int(v) for v in periods.months_to_index([min(months), max(months)]))
    month_idx = periods.months_to_index(months)
    action = periods.months_to_index(starts.dt.strftime("%Y-%m").to_numpy())
    caveats: list[str] = []
    outside = [f"{d:%Y-%m-%d}" for d, a in zip(starts, action, strict=True) if not data_lo <= a <= data_hi]
    if outside:
        caveats.append(f"Action days outside the data's months are left out: {', '.join(outside)}.")
    dates = _action_days(
        incidents, rows, starts, action, month_idx, (data_lo, data_hi), borough=borough, buffer_m=buffer_m
    )
    if dates.empty or dates["n_matched"].sum() == 0:
        raise ParameterError(f"operation {name!r}: no action day has a neighbouring month without one in the data")
    dates = dates[dates["n_matched"] > 0].reset_index(drop=True)
    with_control = bool(np.isfinite(dates["control_action"]).all())
    k_a, k_m = len(dates), int(dates["n_matched"].sum())
    t_a, t_m = float(dates["target_action"].sum()), float(dates["target_matched"].sum())
    if with_control:
        c_a, c_m = float(dates["control_action"].sum()), float(dates["control_matched"].sum())
        # the matched months outnumber the action months; the ratio of ratios is unaffected by that
        ratio, low, high = rate_ratio(t_a, t_m, c_a, c_m, confidence=confidence)
    else:
        c_a = c_m = float("nan")
        ratio, low, high = rate_ratio(t_a, t_m, after_months=k_a, before_months=k_m, confidence=confidence)
    pooled = {
        "action_months": k_a,
        "matched_months": k_m,
        "target_action": t_a,
        "target_matched": t_m,
        "control_action": c_a,
        "control_matched": c_m,
        "with_control": with_control,
        "ratio": ratio,
        "ratio_low": low,
        "ratio_high": high,
        "change": ratio - 1,
        "change_low": low - 1,
        "change_high": high - 1,
        "verdict": verdict(low - 1, high - 1),
    }
    caveats.append(
        "police.uk dates incidents by month only: a one-day action is about a thirtieth of its month, so even "
        "a large effect on the day shows as a small monthly change; the interval says how large a monthly "
        "change the pooled days can rule out."
    )
    if not with_control:
        caveats.append(
            "The action days cover the whole borough, so there is no control area: seasonal and "
            "borough-wide changes between action and matched months are not allowed for."
        )
    caveats.append(
        "Intervals assume Poisson counts; crime is often more variable than that, so the true "
        "uncertainty can be wider than shown."
    )
    params = {
        "buffer_m": buffer_m,
        "confidence": confidence,
        "matching": "each action month against its neighbouring months (before and after) without an action "
        "day of this operation, within the data",
    }
    return PooledReview(operation=name, dates=dates, pooled=pooled, caveats=tuple(caveats), params=params)
