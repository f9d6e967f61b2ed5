"""Operation review: did crime fall where the operation ran, and did it move next door?

For an operation's footprint and dates, incidents are counted in three places:

- the **target** area R (the footprint);
- a **buffer** ring B around it (``buffer_m`` wide), where displacement or diffusion of benefit shows;
- a **control** area C: matched wards or, by default, the rest of the borough outside the buffer;

and in three windows of whole calendar months (police.uk publishes nothing finer):

- **after**: the operation's months (clipped to the data);
- **before**: the same number of months immediately before;
- **year earlier**: the after window's months one year earlier, to allow for seasonality.

For each baseline (before, year earlier) the review gives the difference-in-differences of rates
(incidents per km² per month, target minus control), the relative effect ``(R1/R0) / (C1/C0) - 1``, and the
Weighted Displacement Quotient of Bowers & Johnson (2003)::

    WDQ = (B1/C1 - B0/C0) / (R1/C1 - R0/C0)

whose denominator (the success measure) must be negative, i.e. the target improved relative to the
control, for the WDQ to mean anything. WDQ > 0: diffusion of benefit into the buffer; WDQ < 0:
displacement; WDQ < -1: more displaced than was prevented. Plain-English caveats come with every review.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import numpy as np
import pandas as pd
import shapely

from geo_csp import periods, schema
from geo_csp._errors import ParameterError, SchemaError

__all__ = ["OperationReview", "did", "review_operation", "wdq"]

REGIONS = ("target", "buffer", "control")
WINDOWS = ("before", "year_earlier", "after")
SMALL_COUNT = 20


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
        One row per baseline (``before``, ``year_earlier``): ``target_change``, ``control_change``
        (relative), ``did_per_km2_month``, ``relative_effect``, ``expected_target``, ``success_measure``,
        ``buffer_measure``, ``wdq`` and ``wdq_meaningful``.
    caveats
        Plain-English cautions for the report.
    params
        Buffer width, comparison choice, small-count threshold.
    """

    operation: str
    windows: dict[str, tuple[str, str, int]]
    counts: pd.DataFrame
    rates: pd.DataFrame
    comparisons: pd.DataFrame
    caveats: tuple[str, ...]
    params: dict[str, object] = field(default_factory=dict)

    def to_dict(self) -> dict[str, object]:
        """A JSON-ready dictionary (NaN becomes None)."""

        def clean(frame: pd.DataFrame) -> dict:
            return {
                str(k): {str(c): (None if pd.isna(v) else (v.item() if hasattr(v, "item") else v)) for c, v in row.items()}
                for k, row in frame.to_dict(orient="index").items()
            }

        return {
            "operation": self.operation,
            "windows": {k: {"first": a, "last": b, "months": n} for k, (a, b, n) in self.windows.items()},
            "counts": clean(self.counts),
            "rates_per_km2_month": clean(self.rates),
            "comparisons": clean(self.comparisons),
            "caveats": list(self.caveats),
            "params": self.params,
        }

    def to_text(self) -> str:
        """A short plain-English summary for a meeting paper."""
        lines = [f"Operation {self.operation}: months {self.windows['after'][0]} to {self.windows['after'][1]}."]
        c = self.counts
        lines.append(
            "Target area: {a:.0f} incidents after vs {b:.0f} before and {y:.0f} in the same months a year earlier.".format(
                a=c.loc["target", "after"], b=c.loc["target", "before"], y=c.loc["target", "year_earlier"]
            )
        )
        for base, row in self.comparisons.iterrows():
            if pd.isna(row["relative_effect"]):
                continue
            label = "the months before" if base == "before" else "the same months a year earlier"
            lines.append(
                f"Against {label}: target changed {row['target_change']:+.0%}, control {row['control_change']:+.0%}; "
                f"relative effect {row['relative_effect']:+.0%}"
                + (f"; WDQ {row['wdq']:.2f} ({_wdq_words(row['wdq'])})" if row["wdq_meaningful"]
                   else "; WDQ not meaningful")
                + "."
            )
        lines.extend(f"Caution: {c}" for c in self.caveats)
        return "\n".join(lines)


def _wdq_words(value: float) -> str:
    """What a (meaningful) WDQ says, in plain English (Bowers & Johnson 2003)."""
    if value > 0:
        return "diffusion of benefit: crime also fell in the surrounding ring"
    if value < -1:
        return "displacement larger than the reduction: more crime moved next door than was prevented"
    if value < 0:
        return "some displacement into the surrounding ring, less than the reduction achieved"
    return "no change in the surrounding ring"


def _month(value: str | date | pd.Timestamp, name: str) -> str:
    try:
        return pd.Timestamp(value).strftime("%Y-%m")
    except (ValueError, TypeError) as exc:
        raise ParameterError(f"`{name}` {value!r} is not a date; write it as YYYY-MM-DD") from exc


def _shift(month: str, k: int) -> str:
    return str(periods.index_to_months(periods.months_to_index([month]) + k)[0])


def review_operation(
    incidents: pd.DataFrame,
    *,
    footprint: shapely.Geometry,
    start: str | date | pd.Timestamp,
    end: str | date | pd.Timestamp,
    borough: shapely.Geometry | None = None,
    comparison: shapely.Geometry | None = None,
    name: str = "operation",
    buffer_m: float = 200.0,
    small_count: int = SMALL_COUNT,
) -> OperationReview:
    """Before/after review of an operation with a control area and a displacement buffer.

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
    name
        The operation's name, for the outputs.
    buffer_m
        Width of the displacement ring around the footprint.
    small_count
        Counts below this are flagged as too small to read much into.
    """
    for col in (schema.MONTH, schema.EASTING, schema.NORTHING):
        if col not in incidents.columns:
            raise SchemaError(f"`incidents` has no {col!r} column; read them with store.read_incidents()")
    if buffer_m <= 0:
        raise ParameterError(f"buffer_m must be positive, got {buffer_m}")
    first, last = _month(start, "start"), _month(end, "end")
    if last < first:
        raise ParameterError(f"the operation ends ({end}) before it starts ({start})")
    months = periods.validate_months(incidents[schema.MONTH])
    data_first, data_last = (min(months), max(months)) if len(months) else (first, last)
    caveats: list[str] = []
    if first > data_last:
        raise ParameterError(f"the operation starts in {first}, after the data ends ({data_last}); nothing to review")
    if last < data_first:
        raise ParameterError(
            f"the operation ended in {last}, before the data start ({data_first}); ingest the months of the "
            "operation and the year before it to review it"
        )
    if last > data_last:
        caveats.append(f"The data end in {data_last}, before the operation ends ({last}): 'after' stops at {data_last}.")
        last = data_last
    n = len(periods.month_range(first, last))
    windows = {
        "before": (_shift(first, -n), _shift(first, -1), n),
        "year_earlier": (_shift(first, -12), _shift(last, -12), n),
        "after": (first, last, n),
    }
    for key in ("before", "year_earlier"):
        if windows[key][0] < data_first:
            caveats.append(
                f"The data start in {data_first}, after the start of the '{key.replace('_', ' ')}' window "
                f"({windows[key][0]}): that comparison undercounts and is left out."
            )

    # regions: target, buffer ring, control
    footprint = shapely.make_valid(footprint)
    ring = shapely.difference(shapely.buffer(footprint, buffer_m), footprint)
    outer = shapely.buffer(footprint, buffer_m)
    if comparison is not None:
        control = shapely.difference(comparison, outer)
        control_label = "the comparison area given (footprint and buffer removed)"
    elif borough is not None:
        control = shapely.difference(borough, outer)
        control_label = "the rest of the borough outside the footprint and buffer"
    else:
        raise ParameterError("give `borough` (control = the rest of the borough) or a `comparison` area")
    borough_wide = borough is not None and shapely.area(footprint) >= 0.95 * shapely.area(borough)
    if borough_wide or control.is_empty or control.area <= 0:
        control = shapely.Polygon()
        ring = shapely.Polygon() if borough_wide else ring
        caveats.append(
            "The footprint covers the whole borough (a day of action), so there is no control area or buffer: "
            "only before/after and year-on-year changes are shown, and any change may be borough-wide trend."
        )
    geoms = {"target": footprint, "buffer": ring, "control": control}
    x = incidents[schema.EASTING].to_numpy(dtype="float64")
    y = incidents[schema.NORTHING].to_numpy(dtype="float64")
    ok = np.isfinite(x) & np.isfinite(y)
    region = np.full(len(incidents), -1)
    for i, key in enumerate(REGIONS):  # three regions, each tested vectorised over all incidents
        geom = geoms[key]
        if not geom.is_empty:
            inside = ok & (region < 0) & shapely.contains_xy(geom, x, y)
            region[inside] = i
    month_idx = periods.months_to_index(months)
    counts = pd.DataFrame(0.0, index=list(REGIONS), columns=list(WINDOWS))
    for key, (a, b, _) in windows.items():
        lo, hi = periods.months_to_index([a, b])
        in_window = (month_idx >= lo) & (month_idx <= hi) & (region >= 0)
        counts[key] = np.bincount(region[in_window], minlength=3).astype("float64")
    absent = [k for k in REGIONS if geoms[k].is_empty]
    counts.loc[absent] = np.nan  # no such region (borough-wide footprint): unknown, not zero
    area_km2 = np.array([shapely.area(geoms[k]) / 1e6 for k in REGIONS])
    with np.errstate(divide="ignore", invalid="ignore"):
        rates = counts.div(np.where(area_km2 > 0, area_km2, np.nan), axis=0) / n
    counts["area_km2"] = area_km2

    rows = {}
    for base in ("before", "year_earlier"):
        usable = windows[base][0] >= data_first and not control.is_empty
        r0, r1 = counts.loc["target", base], counts.loc["target", "after"]
        b0, b1 = counts.loc["buffer", base], counts.loc["buffer", "after"]
        c0, c1 = counts.loc["control", base], counts.loc["control", "after"]
        target_change = (r1 / r0 - 1) if r0 > 0 and windows[base][0] >= data_first else np.nan
        if not usable or min(r0, c0, c1) <= 0:
            rows[base] = {
                "target_change": target_change, "control_change": np.nan, "did_per_km2_month": np.nan,
                "relative_effect": np.nan, "expected_target": np.nan, "success_measure": np.nan,
                "buffer_measure": np.nan, "wdq": np.nan, "wdq_meaningful": False,
            }
            continue
        success = r1 / c1 - r0 / c0
        value = wdq(r0, r1, b0, b1, c0, c1)
        rows[base] = {
            "target_change": target_change,
            "control_change": c1 / c0 - 1,
            "did_per_km2_month": did(rates.loc["target", base], rates.loc["target", "after"],
                                     rates.loc["control", base], rates.loc["control", "after"]),
            "relative_effect": (r1 / r0) / (c1 / c0) - 1,
            "expected_target": r0 * c1 / c0,
            "success_measure": success,
            "buffer_measure": b1 / c1 - b0 / c0,
            "wdq": value,
            "wdq_meaningful": bool(np.isfinite(value)),
        }
    comparisons = pd.DataFrame.from_dict(rows, orient="index")

    # plain-English caveats
    small = [(reg, win, int(counts.loc[reg, win])) for reg in REGIONS for win in WINDOWS
             if not geoms[reg].is_empty and counts.loc[reg, win] < small_count]
    if small:
        listed = ", ".join(f"{reg} {win.replace('_', ' ')} = {c}" for reg, win, c in small)
        caveats.append(
            f"Small numbers (below {small_count}): {listed}. Changes this small can be chance; do not read "
            "much into them on their own."
        )
    caveats.append(
        "Regression to the mean: operations usually start where crime has just been unusually high, and such "
        "peaks tend to fall back on their own. The control area allows for borough-wide change, not for this; "
        "the year-earlier comparison helps if the peak was recent."
    )
    for base, row in comparisons.iterrows():
        if np.isfinite(row["success_measure"]) and not row["wdq_meaningful"]:
            caveats.append(
                f"Against the {base.replace('_', ' ')} baseline the target did not improve relative to the control, "
                "so the Weighted Displacement Quotient is not meaningful there."
            )
    caveats.append(
        "police.uk locations are moved to the nearest anonymous snap point and dated by month only, so "
        "incidents near the footprint's edge may fall on either side and part-months are counted whole."
    )
    params = {
        "buffer_m": buffer_m,
        "control": control_label if not control.is_empty else "none (borough-wide footprint)",
        "small_count": small_count,
        "start": str(start),
        "end": str(end),
    }
    return OperationReview(
        operation=name,
        windows=windows,
        counts=counts,
        rates=rates,
        comparisons=comparisons,
        caveats=tuple(caveats),
        params=params,
    )
