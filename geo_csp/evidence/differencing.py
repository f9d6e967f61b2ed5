"""Differencing across public packs: the store's register of public packs, and the crime groups whose
counts, set against a nested earlier pack's, would reveal a small count."""

from __future__ import annotations

import datetime as dt
import json
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import shapely

from geo_csp import store
from geo_csp.disclosure import DisclosureParams
from geo_csp.evidence.params import EvidencePack


PUBLIC_REGISTER_NAME = "public_packs.json"
"""In the store folder: every public pack written from the store (its area outline, months and published
area counts), so a later public pack is checked against them for differencing (:func:`exposed_by_earlier_packs`)."""


def _public_register(store_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(store_dir) / PUBLIC_REGISTER_NAME
    try:
        return list(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return []


def exposed_by_earlier_packs(
    store_dir: str | Path,
    geom: shapely.Geometry,
    x: np.ndarray,
    y: np.ndarray,
    recent: np.ndarray,
    masks: dict[str, np.ndarray],
    published: pd.DataFrame,
    rate_months: np.ndarray,
    rule: DisclosureParams,
) -> tuple[list[str], pd.DataFrame]:
    """Crime groups whose published area count, set against an earlier public pack of the same months,
    would reveal a small count: the attacker's view of two nested outlines.

    With one outline inside the other (the part of one outside the other has no area), the crimes
    between them are the difference of two published counts, known to within the rounding (each
    published count is within ``round_to / 2`` of the truth). If that difference could be pinned
    below ``threshold`` while the true count there is not zero, the group's area counts are suppressed
    (and the audit says why, without the value). Outlines that only overlap leave each side's own part
    unknown and nonnegative, so they bound nothing small.
    """
    exposed: list[str] = []
    rows = []
    months = [str(m) for m in rate_months]
    for entry in _public_register(store_dir):
        if entry.get("rate_months") != [months[0], months[-1]]:
            continue
        between = _nested_with(entry, geom, x, y)
        if between is None:
            continue
        for g, mask in masks.items():
            was, now = entry["area_counts"].get(g), published.loc["Area", g]
            if was is None or not np.isfinite(now) or g in exposed:
                continue
            true = int((between & mask & recent).sum())
            most = abs(float(now) - float(was)) + rule.round_to  # the largest difference the roundings allow
            if 0 < true < rule.threshold and most < rule.threshold:
                exposed.append(g)
                rows.append(
                    (
                        "Area",
                        g,
                        "cross-output",
                        "nested_pack_difference: with the public pack for "
                        f"{entry.get('area_name', 'another area')}, the crimes between the two outlines "
                        "would be known to be below the threshold",
                        f"pack {entry.get('area_name', '')}",
                    )
                )
    return exposed, pd.DataFrame(rows, columns=["row", "column", "step", "reason", "group"])


def _nested_with(entry: dict[str, Any], geom: shapely.Geometry, x: np.ndarray, y: np.ndarray) -> np.ndarray | None:
    """The crimes between ``geom`` and an earlier pack's outline when one holds the other, else None."""
    old = shapely.from_wkt(entry["area_wkt"])
    tol = 1e-6 * max(shapely.area(geom), shapely.area(old), 1.0)
    new_outside = shapely.area(shapely.difference(geom, old)) > tol
    old_outside = shapely.area(shapely.difference(old, geom)) > tol
    if new_outside and old_outside:
        return None  # overlapping, not nested: the parts outside each other are unbounded
    in_new: np.ndarray = shapely.contains_xy(geom, x, y)
    in_old: np.ndarray = shapely.contains_xy(old, x, y)
    out: np.ndarray = (in_new & ~in_old) if new_outside else (in_old & ~in_new)
    return out


def exposed_months(
    store_dir: str | Path,
    geom: shapely.Geometry,
    x: np.ndarray,
    y: np.ndarray,
    masks: dict[str, np.ndarray],
    monthly: pd.DataFrame,
    month_of: np.ndarray,
    rule: DisclosureParams,
) -> tuple[list[str], pd.DataFrame]:
    """Crime groups whose monthly trend, set against a nested earlier public pack's, would pin a small
    monthly count between the outlines (as :func:`exposed_by_earlier_packs` for the 12-month counts)."""
    exposed: list[str] = []
    rows = []
    for entry in _public_register(store_dir):
        between = _nested_with(entry, geom, x, y)
        if between is None:
            continue
        for g, mask in masks.items():
            earlier = entry.get("monthly", {}).get(g, {})
            if g in exposed or not earlier:
                continue
            for month, now in monthly[g].items():
                was = earlier.get(str(month))
                if was is None or not np.isfinite(now):
                    continue
                true = int((between & mask & (month_of == month)).sum())
                if 0 < true < rule.threshold and abs(float(now) - was) + rule.round_to < rule.threshold:
                    exposed.append(g)
                    rows.append(
                        (
                            str(month),
                            g,
                            "cross-output",
                            "nested_pack_difference: with the public pack for "
                            f"{entry.get('area_name', 'another area')}, a month's crimes between the two "
                            "outlines would be known to be below the threshold",
                            f"pack {entry.get('area_name', '')}",
                        )
                    )
                    break
    return exposed, pd.DataFrame(rows, columns=["row", "column", "step", "reason", "group"])


def register_public_pack(pack: EvidencePack) -> None:
    """Record a public pack in its store's register (see :data:`PUBLIC_REGISTER_NAME`)."""
    entries = _public_register(pack.store_dir)
    counts = pack.tables["counts"]
    entry = {
        "area_name": pack.figures["area_name"],
        "area_wkt": pack.area.geometry.iloc[0].wkt,
        "rate_months": list(pack.figures["rate_months"]),
        # the groups the pack holds (a partner-only store holds no crime groups)
        "area_counts": {
            g: (None if pd.isna(table.loc["Area", g]) else float(table.loc["Area", g]))
            for table in (counts, pack.tables.get("partner_counts", counts))
            for g in table.columns
        },
        "monthly": {
            g: {str(m): (None if pd.isna(v) else float(v)) for m, v in pack.monthly[g].items()}
            for g in pack.monthly.columns
        },
        "written": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
    }
    if entry["area_wkt"] in {e["area_wkt"] for e in entries if e.get("rate_months") == entry["rate_months"]}:
        return
    store.write_json_atomic(Path(pack.store_dir) / PUBLIC_REGISTER_NAME, [*entries, entry])
