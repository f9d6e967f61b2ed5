"""The one-paragraph story of a named hotspot area, for the meeting: what, where, since when, the trend,
who covers it and what was done.

:func:`area_story` reads only what a hotspot run and the coverage analysis already hold (the area row,
its units' per-month significance and counts, the Mann-Kendall test of its monthly series, the
partner coverage columns and the operations layer) and writes them as plain sentences; it computes no
new statistic beyond the trend test of the area's own series. :func:`area_facts` returns the same
facts as a dict, for tests and for the printable meeting sheet.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import display, schema, trends
from geo_csp._errors import ParameterError, SchemaError

__all__ = ["area_facts", "area_story"]

_ALPHA = 0.05


def _month(label: str) -> str:
    try:
        return f"{pd.Period(str(label), freq='M'):%b %Y}"
    except (ValueError, TypeError):
        return str(label)


def area_facts(
    area: pd.Series,
    *,
    hot_cold: np.ndarray,
    counts: np.ndarray,
    period_labels: Sequence[str],
    coverage: pd.Series | None = None,
    operations: gpd.GeoDataFrame | None = None,
    crime_mix: pd.Series | None = None,
) -> dict[str, Any]:
    """The facts the story tells about one hotspot area.

    Parameters
    ----------
    area
        One row of ``HotspotResult.areas`` (``area_id``, ``name``, ``n``, ``harm``, ``pattern``, ...).
    hot_cold
        Significance of the area's units per period, shape ``(n_units, n_periods)`` (+1 hot).
    counts
        Incidents of the area's units per period, same shape.
    period_labels
        Label of each period ("2025-01").
    coverage
        The area's row of :func:`geo_csp.coverage.coverage` (``cctv_share``, ``walkabout_n``, ...), if known.
    operations
        Operations layer (``name``, ``type``, ``start_date``, ``end_date``, geometry in any CRS); those whose
        footprint meets the area, or that are borough-wide, are what was done.
    crime_mix
        Incidents in the area by crime type, if known.
    """
    hot_cold = np.atleast_2d(np.asarray(hot_cold))
    counts = np.atleast_2d(np.asarray(counts, dtype="float64"))
    if hot_cold.shape != counts.shape or hot_cold.shape[1] != len(period_labels):
        raise ParameterError(
            f"hot_cold {hot_cold.shape} and counts {counts.shape} must both be (units, {len(period_labels)} periods)"
        )
    for col in (schema.AREA_ID, schema.N):
        if col not in area.index:
            raise SchemaError(f"`area` needs {col!r}; it has {list(area.index)}")
    hot_any = np.asarray((hot_cold > 0).any(axis=0), dtype=bool).tolist()
    hot_months = [str(p) for p, h in zip(period_labels, hot_any, strict=True) if h]
    series = counts.sum(axis=0)
    facts: dict[str, Any] = {
        "area_id": str(area[schema.AREA_ID]),
        "name": str(area.get(schema.AREA_NAME, area[schema.AREA_ID])),
        "ward": None if pd.isna(area.get(schema.WARD_NAME)) else area.get(schema.WARD_NAME),
        "n": float(area[schema.N]),
        "harm": None if pd.isna(area.get(schema.HARM, np.nan)) else float(area[schema.HARM]),
        "share_of_crime": None if pd.isna(area.get("share_of_crime", np.nan)) else float(area["share_of_crime"]),
        "share_of_area": None if pd.isna(area.get("share_of_area", np.nan)) else float(area["share_of_area"]),
        "pattern": area.get(schema.PATTERN),
        "category": area.get(schema.CATEGORY),
        "top_street": area.get("top_street"),
        "n_periods": len(period_labels),
        "hot_months": hot_months,
        "first_hot": hot_months[0] if hot_months else None,
        "last_hot": hot_months[-1] if hot_months else None,
        "first_period": str(period_labels[0]) if len(period_labels) else None,
        "last_period": str(period_labels[-1]) if len(period_labels) else None,
        "series": series,
    }
    # the hotspot timeline every run's areas carry (geo_csp.areas.TIMELINE_COLUMNS)
    for col in ("problem_started", "first_named", "naming_delay_periods", "latest_police_uk_month"):
        value = area.get(col)
        facts[col] = None if value is None or (not isinstance(value, str) and pd.isna(value)) or value == "" else value
    trend = "too few months to test a trend"
    if len(series) >= 4:
        mk = trends.mann_kendall(series[None, :]).iloc[0]
        tau, p = float(mk[schema.MK_TAU]), float(mk[schema.MK_P])
        facts["mk_tau"], facts["mk_p"] = tau, p
        if p < _ALPHA:
            trend = f"{'rising' if tau > 0 else 'falling'} ({display.format_value(schema.MK_P, p)})"
        else:
            trend = f"no significant trend ({display.format_value(schema.MK_P, p)})"
    facts["trend"] = trend
    if crime_mix is not None and len(crime_mix) and crime_mix.sum() > 0:
        top = crime_mix.sort_values(ascending=False).head(3)
        facts["crime_mix"] = [(str(k), float(v) / float(crime_mix.sum())) for k, v in top.items()]
    facts["coverage"] = _coverage(coverage)
    facts["operations"] = _operations(area, operations)
    return facts


def _coverage(row: pd.Series | None) -> list[str]:
    if row is None:
        return []
    out = []
    share = row.get("cctv_share")
    if share is not None and pd.notna(share) and float(share) > 0:
        out.append(f"CCTV sees {100 * float(share):.0f}% of it")
    walks = row.get("walkabout_n")
    if walks is not None and pd.notna(walks) and int(walks) > 0:
        last = row.get("walkabout_last")
        when = f", last on {pd.Timestamp(last):%d %b %Y}" if last is not None and pd.notna(last) else ""
        out.append(f"{int(walks)} recorded walkabout{'s' if int(walks) != 1 else ''} passed it{when}")
    hub = row.get("nearest_hub")
    dist = row.get("hub_distance_m")
    if hub is not None and pd.notna(hub) and str(hub):
        far = f" ({float(dist):,.0f} m away)" if dist is not None and pd.notna(dist) else ""
        out.append(f"the nearest community hub is {hub}{far}")
    return out


def _operations(area: pd.Series, operations: gpd.GeoDataFrame | None) -> list[str]:
    if operations is None or not len(operations) or not hasattr(area, "geometry") and "geometry" not in area.index:
        return []
    geom = area.get("geometry")
    if geom is None:
        return []
    ops = (
        operations.to_crs("EPSG:27700") if operations.crs is not None and operations.crs != "EPSG:27700" else operations
    )
    wide = (
        (ops["footprint"].astype("string").str.lower() == "borough").fillna(False).to_numpy()
        if "footprint" in ops.columns
        else np.zeros(len(ops), dtype=bool)
    )
    meets = ops.geometry.intersects(geom).to_numpy() & ~wide
    out = []
    for name, group in ops[meets].groupby("name", sort=False):
        start = pd.to_datetime(group.get("start_date"), errors="coerce").min()
        end = pd.to_datetime(group.get("end_date"), errors="coerce").max()
        kind = str(group["type"].iloc[0]).replace("_", " ") if "type" in group.columns else "operation"
        dates = f" from {start:%d %b %Y}" if pd.notna(start) else ""
        dates += f" to {end:%d %b %Y}" if pd.notna(end) else ""
        out.append(f"Operation {name} ({kind}{dates})")
    if wide.any():
        days = int(wide.sum())
        names = ", ".join(dict.fromkeys(ops.loc[wide, "name"].astype(str)))
        out.append(f"borough-wide {names} ({days} day{'s' if days != 1 else ''} of action)")
    return out


def area_story(facts: dict[str, Any], *, months_label: str | None = None) -> str:
    """One paragraph of plain sentences from :func:`area_facts` (Markdown: the place name in bold)."""
    sentences = [_opening_sentence(facts, months_label=months_label)]
    if facts.get("crime_mix"):
        sentences.append("Mostly " + ", ".join(f"{k.lower()} ({100 * s:.0f}%)" for k, s in facts["crime_mix"]) + ".")
    if facts.get("top_street") and pd.notna(facts["top_street"]):
        sentences.append(f"The busiest street is {facts['top_street']}.")
    sentences.append(_hot_sentence(facts))
    if facts.get("first_named"):
        delay = int(facts.get("naming_delay_periods") or 0)
        sentences.append(
            f"The tool first named it in {_month(facts['first_named'])}, {delay} month{'s' if delay != 1 else ''} "
            "after its problem started (an area is named only once a cell has stayed hot for several months)."
        )
    if facts.get("latest_police_uk_month"):
        sentences.append(f"The latest month in the store from police.uk is {_month(facts['latest_police_uk_month'])}.")
    sentences.append(f"Trend over the months: {facts['trend']}.")
    cover = facts.get("coverage") or []
    sentences.append(
        ("Cover: " + "; ".join(cover) + ".")
        if cover
        else "No CCTV, recorded walkabout or hub covers it in the partner layers."
    )
    done = facts.get("operations") or []
    sentences.append(
        ("What was done: " + "; ".join(done) + ".") if done else "No operation in the partner layers touched it."
    )
    return " ".join(sentences)


def _opening_sentence(facts: dict[str, Any], *, months_label: str | None) -> str:
    """The area, its incidents over the months, its shares of crime and of the area mapped, and its harm."""
    where = f"**{facts['name']}** ({facts['area_id']}{', ' + str(facts['ward']) + ' ward' if facts['ward'] else ''})"
    span = months_label or (
        f"{_month(facts['first_period'])} to {_month(facts['last_period'])}"
        if facts.get("first_period")
        else "the months chosen"
    )
    what = f"{where} had {facts['n']:,.0f} incidents in {span}"
    shares = []
    if facts.get("share_of_crime") is not None:
        shares.append(f"{100 * facts['share_of_crime']:.1f}% of crime")
    if facts.get("share_of_area") is not None:
        shares.append(f"on {100 * facts['share_of_area']:.1f}% of the area mapped")
    if shares:
        what += ": " + " ".join(shares)
    if facts.get("harm") is not None:
        what += f", harm {facts['harm']:,.0f} crime-days"
    return what + "."


def _hot_sentence(facts: dict[str, Any]) -> str:
    """In how many months the area was significantly hot, first and last, and its pattern."""
    pattern = facts.get("pattern")
    hot = facts["hot_months"]
    if hot:
        since = (
            f"It has been significantly hot in {len(hot)} of {facts['n_periods']} months, first in "
            f"{_month(facts['first_hot'])} and most recently in {_month(facts['last_hot'])}"
        )
    else:
        since = "No month was significantly hot on its own"
    if pattern is not None and pd.notna(pattern):
        since += f" (a {str(pattern).lower()})"
    return since + "."
