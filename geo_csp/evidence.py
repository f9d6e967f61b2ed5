"""Safer Streets evidence packs: where crime concentrates in an area, with everything to reproduce it.

:func:`build_evidence` computes the pack for an area of the store's borough, given by name (a named
hotspot area from :func:`geo_csp.analysis.run_hotspots`, a named place, a ward) or as a polygon file:

* counts and rates per 1,000 residents per year (last ``rate_months`` months) of neighbourhood crime
  and serious acquisitive crime (:data:`geo_csp.harm.CRIME_GROUPS`) and all crime, for the area, the
  rest of the borough and the borough (the area's residents are estimated from LSOA populations by
  area share); and for the rest of the force and the force only when the store holds the force's
  other boroughs: its config names an ``areas`` boundary file (``area_code``, ``area_name``,
  ``population``; see :func:`geo_csp.geography.store_areas`) with more than the borough. A store holding
  one borough's extract has no force figures, and the pack says so rather than showing the borough
  plus a few stray points as a "force";
* a 3-year monthly trend chart for the area;
* concentration: the area's share of borough crime against its share of the borough's land;
* harm (CCHI days by default) and its share of borough harm;
* the hotspot classes of the cells inside the area, with their explanations;
* partner coverage (CCTV, walkabouts, operations, hubs) and council ASB reports, when the store has
  partner layers (never in public mode);
* maps.

:func:`write_evidence` writes ``report.html`` (self-contained: images inlined as data URIs),
``report.pdf`` (WeasyPrint), the data (``area.gpkg`` and one CSV per table) and ``manifest.json``
(inputs with sha256 from the store manifest, parameters, software version, date and the figures), so
:func:`build_evidence` with the manifest's parameters gives the same figures again.

``public=True`` applies :mod:`geo_csp.disclosure` to every count table (ONS 10-5 rule, secondary
suppression across area / rest / borough / force), derives rates and shares from the published
counts, and leaves out incident points and partner data; asking for them in public mode raises
:class:`~geo_csp._errors.DisclosureError`. The suppression audit is written outside the pack folder.

Differencing across packs: every public pack written is recorded in its store
(:data:`PUBLIC_REGISTER_NAME`: outline, months, published area counts). A later public pack whose
outline holds an earlier one's, or lies inside it, would publish two counts whose difference is the
crimes between the outlines, known to within the rounding; where that pins a count of 1 to
``threshold - 1``, the group's area counts (and its monthly trend) are suppressed, with the reason in
the audit. Outlines that only overlap bound nothing small (each side's own part stays unknown).
"""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import json
from dataclasses import asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

import geo_csp
from geo_csp import areas as areas_mod
from geo_csp import (
    analysis,
    backtest,
    boundaries,
    coverage,
    figures,
    geography,
    harm,
    layers,
    qualifiers,
    schema,
    store,
)
from geo_csp import ward_summary
from geo_csp._escape import spreadsheet_safe
from geo_csp._errors import ParameterError
from geo_csp.disclosure import SUPPRESSED_MARK, DisclosureParams, protect_table, refuse_in_public
from geo_csp.settings import SNAP_POINT_NOTE, WORKING_CRS
from geo_csp.sources import source_kind
from geo_csp.geography import AREA_CODE, AREA_NAME, StoreGeography, store_areas, store_geography, store_study_area
from geo_csp.table import frame_html

__all__ = ["EvidencePack", "EvidenceParams", "build_evidence", "write_evidence"]

GROUPS = {
    "Neighbourhood crime": harm.CRIME_GROUPS["neighbourhood"],
    "Serious acquisitive crime": harm.CRIME_GROUPS["serious_acquisitive"],
    "All crime": tuple(t for t in schema.CRIME_TYPES if t != harm.ASB),
    "Anti-social behaviour": (harm.ASB,),
}
#: Groups on qualifier flags (:data:`geo_csp.qualifiers.QUALIFIED_GROUPS`) a pack counts when its sources
#: record the qualifiers; "not available" (never 0) otherwise, as for police.uk, which records none.
QUALIFIED_PACK_GROUPS = ("vawg",)
#: Partner groups of the partner counts table (:func:`partner_counts`), per partner source that records them.
PARTNER_QUALIFIED_GROUPS = ("vawg", "domestic_abuse", "knife_crime")
_QUALIFIED_LABELS = tuple(g.label for g in qualifiers.QUALIFIED_GROUPS.values())
#: Printed names of partner sources' record counts (others: "Records of <source>").
PARTNER_LABELS = {"council_asb": "ASB reports to the council"}
#: Sources that publish every police.uk category, so each of :data:`GROUPS` is counted (a zero is a true zero).
FULL_CATEGORY_SOURCES = (schema.SOURCE_STREET,)


def pack_groups(crime_types: pd.Series, sources: tuple[str, ...]) -> dict[str, tuple[str, ...]]:
    """The count columns of a pack: :data:`GROUPS` for police.uk street data, else the groups the sources record.

    A partner source (a council's ASB points, say) records only its own categories: a group of which it
    holds no type is not counted (it would show a false zero), and anti-social behaviour gets its own
    column when the source holds it. A source holding none of these gets one "All records" column.
    """
    if all(x in FULL_CATEGORY_SOURCES for x in sources):
        return dict(GROUPS)
    held = set(crime_types.astype(str).unique())
    out = {g: types for g, types in GROUPS.items() if held & set(types)}
    return out or {"All records": tuple(sorted(held))}


def qualified_masks(incidents: pd.DataFrame, keys: tuple[str, ...]) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Rows counted by each qualified group of ``keys`` whose qualifiers ``incidents`` record, and why the
    others are "not available".

    A group is counted only over the sources that record every qualifier it reads
    (:func:`geo_csp.qualifiers.recording_sources`); a source that records none (police.uk) gives no count,
    not a zero.
    """
    masks: dict[str, np.ndarray] = {}
    missing: dict[str, str] = {}
    held = sorted(incidents[schema.SOURCE].astype(str).unique()) if len(incidents) else []
    for key in keys:
        group = qualifiers.QUALIFIED_GROUPS[key]
        recording = qualifiers.recording_sources(incidents, group)
        if recording:
            counted = qualifiers.group_mask(incidents, group)
            masks[group.label] = counted & incidents[schema.SOURCE].isin(recording).to_numpy()
        else:
            missing[group.label] = (
                f"not available: {', '.join(held) or 'the sources'} record(s) no {' or '.join(group.columns)} "
                "(police.uk records none); ingest a partner extract that maps them and count it with --source"
            )
    return masks, missing


ROWS = ("Area", "Rest of borough", "Borough", "Rest of force", "Force")
BOROUGH_ROWS = ROWS[:3]
RATE_SUFFIX = " per 1,000 per year"
#: Printed names of the hotspot-cell columns in the pack.
CELL_COLUMNS = {
    schema.UNIT_ID: "Cell (H3)",
    schema.N: "Crimes",
    schema.PREDICTED_N: "Expected crimes next month",
    schema.CATEGORY: "Hotspot class (Chainey)",
    schema.PATTERN: "Pattern (ArcGIS)",
    schema.EXPLANATION: "Why",
}


@dataclass(frozen=True)
class EvidenceParams:
    """Run parameters of an evidence pack (written into its manifest).

    Parameters
    ----------
    area
        A hotspot area name or id, a named place, a ward name, or a path to a polygon file; with
        ``area_polygon_wkt``, only the default label.
    area_polygon_wkt
        The area's outline as WKT in EPSG:27700 (e.g. a hotspot area as mapped): it is written into the
        manifest, so the pack can be rebuilt from the manifest alone. See :meth:`for_polygon`.
    area_label
        The printed name of an ``area_polygon_wkt`` area (default ``area``, else "Supplied area").
    trend_months
        Months in the trend chart and the hotspot analysis (the latest ones in the store).
    rate_months
        Months counted for counts, rates, concentration and harm (the latest ones).
    public
        Apply disclosure control and leave out points and partner data.
    include_points, include_partner
        Put incident points / partner data in the pack; default: only when not public. Incident points
        are refused in public mode. In public mode ``include_partner`` adds the partner sources' counts
        (:func:`partner_counts`) through the same disclosure control as the police.uk counts; partner
        layers (CCTV, walkabouts, operations, hubs) never go into a public pack.
    harm_index
        ``"cchi"`` or ``"css"``.
    disclosure
        The rule used in public mode.
    sources
        Store sources counted and analysed: police.uk street data by default, or a partner source (e.g. a
        council's ASB points) for a store that holds only partner data.
    """

    area: str = ""
    area_polygon_wkt: str | None = None
    area_label: str | None = None
    trend_months: int = 36
    rate_months: int = 12
    public: bool = False
    include_points: bool | None = None
    include_partner: bool | None = None
    harm_index: str = "cchi"
    disclosure: DisclosureParams = field(default_factory=DisclosureParams)
    sources: tuple[str, ...] = (schema.SOURCE_STREET,)

    def __post_init__(self) -> None:
        if isinstance(self.sources, str) or not self.sources or not all(str(x).strip() for x in self.sources):
            raise ParameterError(
                f"EvidenceParams.sources must be a non-empty tuple of store source names, not "
                f'{self.sources!r} (e.g. ("police_uk_street",) or a partner source)'
            )
        object.__setattr__(self, "sources", tuple(str(x) for x in self.sources))
        if self.area_polygon_wkt is not None:
            try:
                geom = shapely.from_wkt(self.area_polygon_wkt)
            except shapely.errors.GEOSException as exc:
                raise ParameterError(
                    f"EvidenceParams.area_polygon_wkt is not valid WKT ({exc}); give a polygon "
                    "in EPSG:27700, e.g. from EvidenceParams.for_polygon"
                ) from exc
            if geom is None or geom.geom_type not in ("Polygon", "MultiPolygon") or not geom.area > 0:
                kind = "empty" if geom is None else geom.geom_type
                raise ParameterError(
                    f"EvidenceParams.area_polygon_wkt is a {kind}, not a polygon with an area; "
                    "give the area's outline (EPSG:27700)"
                )
        elif not str(self.area).strip():
            raise ParameterError(
                "EvidenceParams.area is empty; name a hotspot area, ward or polygon file, or give area_polygon_wkt"
            )
        if not 12 <= self.trend_months <= 120:
            raise ParameterError(f"trend_months must be 12..120, not {self.trend_months!r}")
        if not 1 <= self.rate_months <= self.trend_months:
            raise ParameterError(f"rate_months must be 1..trend_months, not {self.rate_months!r}")
        if self.harm_index not in harm.HARM_INDICES:
            raise ParameterError(f"harm_index must be one of {harm.HARM_INDICES}, not {self.harm_index!r}")
        if self.public and self.include_points:
            refuse_in_public("incident points", public=True)

    @classmethod
    def for_polygon(cls, polygon: gpd.GeoDataFrame | gpd.GeoSeries, *, label: str, **options: Any) -> EvidenceParams:
        """Parameters for a pack on a polygon (e.g. a mapped hotspot area), its outline kept in the parameters.

        Parameters
        ----------
        polygon
            One or more polygons in any CRS (reprojected to EPSG:27700 and merged).
        label
            The area's printed name (e.g. ``"3: Bury town centre"``).
        **options
            Other :class:`EvidenceParams` fields (``public``, ``trend_months``, ...).
        """
        if polygon.crs is None:
            raise ParameterError("the area polygon has no CRS; set one (e.g. .set_crs('EPSG:27700'))")
        geom = shapely.union_all(polygon.to_crs(WORKING_CRS).geometry.to_numpy())
        return cls(area=label, area_label=label, area_polygon_wkt=shapely.to_wkt(geom, rounding_precision=3), **options)

    @property
    def points(self) -> bool:
        """Whether incident points go into the pack."""
        return (not self.public) if self.include_points is None else bool(self.include_points)

    @property
    def partner(self) -> bool:
        """Whether partner data go into the pack."""
        return (not self.public) if self.include_partner is None else bool(self.include_partner)

    def to_dict(self) -> dict[str, Any]:
        """JSON-serialisable parameters."""
        out = asdict(self)
        out["disclosure"] = asdict(self.disclosure)
        return out

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> EvidenceParams:
        """Parameters back from :meth:`to_dict` (e.g. a manifest)."""
        known = {f.name for f in fields(cls)}
        kwargs = {k: v for k, v in data.items() if k in known}
        kwargs["disclosure"] = DisclosureParams(**data.get("disclosure", {}))
        return cls(**kwargs)


@dataclass(frozen=True)
class EvidencePack:
    """Everything an evidence pack shows (tables are as published: protected in public mode)."""

    params: EvidenceParams
    store_dir: str
    area: gpd.GeoDataFrame
    borough: gpd.GeoDataFrame
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Any]
    units: gpd.GeoDataFrame
    points: gpd.GeoDataFrame | None
    monthly: pd.DataFrame
    inputs: list[dict[str, Any]]
    synthetic: bool
    notes: tuple[str, ...]
    audit: pd.DataFrame | None = None
    context_units: gpd.GeoDataFrame | None = None
    force_note: str = ""
    wards: gpd.GeoDataFrame | None = None


def _store_boroughs(
    store_dir: str | Path, config: store.StoreConfig, geo: StoreGeography
) -> tuple[gpd.GeoDataFrame, gpd.GeoDataFrame | None]:
    """The borough outline and the force's other boroughs (``None`` for one borough's extract).

    Without ``areas`` in the store config the store's outline (:func:`geo_csp.geography.store_geography`) is
    the borough and there are no other boroughs. With it, the row named by the config's ``borough`` is
    the borough and the other rows are the rest of the force.
    """
    if not config.areas:
        return geo.outline, None

    areas, focus, _ = store_areas(store_dir)
    key = str(focus).lower()
    hit = (areas[AREA_NAME].astype(str).str.lower() == key) | (areas[AREA_CODE].astype(str).str.lower() == key)
    if not hit.any():
        raise ParameterError(
            f"the store config's borough {focus!r} is not a row of its areas file "
            f"({', '.join(areas[AREA_NAME].astype(str))}); fix `borough` in config.json"
        )
    borough = areas[hit.to_numpy()].iloc[:1]
    others = areas[~hit.to_numpy()]
    return borough, (others if len(others) else None)


PUBLIC_REGISTER_NAME = "public_packs.json"
"""In the store folder: every public pack written from the store (its area outline, months and published
area counts), so a later public pack is checked against them for differencing (:func:`_exposed_by_earlier_packs`)."""


def _public_register(store_dir: str | Path) -> list[dict[str, Any]]:
    path = Path(store_dir) / PUBLIC_REGISTER_NAME
    try:
        return list(json.loads(path.read_text(encoding="utf-8")))
    except FileNotFoundError:
        return []


def _exposed_by_earlier_packs(
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
    in_new = shapely.contains_xy(geom, x, y)
    in_old = shapely.contains_xy(old, x, y)
    return (in_new & ~in_old) if new_outside else (in_old & ~in_new)


def _exposed_months(
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
    monthly count between the outlines (as :func:`_exposed_by_earlier_packs` for the 12-month counts)."""
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


def _register_public_pack(pack: EvidencePack) -> None:
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


def _resolve_area(
    params: EvidenceParams, hot_areas: gpd.GeoDataFrame, geo: StoreGeography
) -> tuple[gpd.GeoDataFrame, str]:
    """The area polygon and its kind from the params' polygon, a hotspot area, named place, ward or polygon file."""
    if params.area_polygon_wkt is not None:
        label = params.area_label or str(params.area).strip() or "Supplied area"
        return (
            gpd.GeoDataFrame({"name": [label]}, geometry=[shapely.from_wkt(params.area_polygon_wkt)], crs=WORKING_CRS),
            "supplied polygon",
        )
    return geography.resolve_place(params.area, geo, hot_areas=hot_areas)


def _population_units(geo: StoreGeography, months: np.ndarray) -> tuple[gpd.GeoDataFrame | None, str]:
    """The polygons whose residents estimate an area's (LSOAs, else wards) and their name; ``None`` without any."""
    if geo.lsoas is not None and schema.POPULATION in geo.lsoas.columns:
        return geo.lsoas, "LSOA"
    if "lsoas" in geo.shipped:
        return boundaries.load_lsoas(era=boundaries.lsoa_era_for_months(months[-1:])), "LSOA"
    if geo.wards is not None and schema.POPULATION in geo.wards.columns:
        return geo.wards, "ward"
    return None, ""


def _area_population(geom: shapely.Geometry, units: gpd.GeoDataFrame | None) -> float:
    """Residents of a polygon from unit populations, each unit weighted by the share of it inside.

    NaN when there are no units or the polygon overlaps a unit with no population.
    """
    if units is None:
        return float("nan")
    g = units.geometry.to_numpy()
    share = shapely.area(shapely.intersection(g, geom)) / shapely.area(g)
    pop = units[schema.POPULATION].to_numpy(dtype=float)
    if not np.isfinite(pop[share > 0]).all():
        return float("nan")
    return float((np.nan_to_num(pop) * share).sum())


def _wards_or_empty(geo: StoreGeography) -> gpd.GeoDataFrame:
    """The store's wards, or none at all (so that hotspot areas elsewhere get no Bury ward names)."""
    if geo.wards is not None:
        return geo.wards
    return gpd.GeoDataFrame({schema.WARD_CODE: [], schema.WARD_NAME: []}, geometry=[], crs=WORKING_CRS)


def _round_sig(x: float, sig: int = 2) -> float:
    if not np.isfinite(x) or x == 0:
        return float(x)
    return float(round(x, sig - 1 - int(np.floor(np.log10(abs(x))))))


#: Words in an area's name that mark a place people visit more than live in (the residents undercount
#: the population at risk there).
VISITED_PLACE_WORDS = ("town centre", "city centre", "centre", "center", "retail", "shopping", "station", "park")
#: An area's rate per 1,000 residents this many times the borough's is read as few residents, many visitors.
VISITED_RATE_RATIO = 3.0


def _residents_denominator_note(area_name: str, area_rate: float, borough_rate: float) -> tuple[str, bool]:
    """The caveat on residents as the denominator, and whether it applies strongly to this area.

    Strong when the area's name marks a visited place (:data:`VISITED_PLACE_WORDS`) or its all-crime rate
    per 1,000 residents is at least :data:`VISITED_RATE_RATIO` times the borough's: there the people at
    risk are the visitors (footfall), which residents do not count.
    """
    name = area_name.lower()
    ratio = (
        area_rate / borough_rate if np.isfinite(area_rate) and np.isfinite(borough_rate) and borough_rate else np.nan
    )
    strong = any(w in name for w in VISITED_PLACE_WORDS) or (np.isfinite(ratio) and ratio >= VISITED_RATE_RATIO)
    text = (
        "Rates per 1,000 residents divide by the people who live in an area, not by the people who are there. "
        "In a town centre, retail or night-time-economy area most of the people at risk are visitors "
        "(footfall), so a rate per resident overstates the risk to any one person; compare counts and the "
        "concentration per km² there, or a footfall count if the partnership holds one."
    )
    if strong:
        why = (
            f"its all-crime rate per resident is {ratio:.1f} times the borough's"
            if np.isfinite(ratio) and ratio >= VISITED_RATE_RATIO
            else "its name marks a place people visit"
        )
        text = f"{area_name}: {why}. " + text
    return text, bool(strong)


def _area_timeline(name: str, kind: str, hot: analysis.HotspotResult, *, latest: str | None) -> dict[str, Any]:
    """The hotspot timeline of the pack's area (:data:`geo_csp.areas.TIMELINE_COLUMNS`) and its sentence.

    A hotspot area (found by name among the run's areas) has all of it; any other area only
    ``latest``, the latest month in the store from police.uk.
    """
    out: dict[str, Any] = {areas_mod.LATEST_POLICE_UK_MONTH: latest, "rule": hot.metadata.get("timeline_rule")}
    latest_text = f"The latest month in the store from police.uk is {latest}." if latest else ""
    match = hot.areas[hot.areas[schema.AREA_NAME].astype(str) == name] if len(hot.areas) else hot.areas
    if kind != "hotspot area" or not len(match) or areas_mod.PROBLEM_STARTED not in match.columns:
        out["sentence"] = latest_text
        return out
    row = match.iloc[0]
    started, named = str(row[areas_mod.PROBLEM_STARTED] or ""), str(row[areas_mod.FIRST_NAMED] or "")
    delay = int(row[areas_mod.NAMING_DELAY])
    out.update({areas_mod.PROBLEM_STARTED: started, areas_mod.FIRST_NAMED: named, areas_mod.NAMING_DELAY: delay})
    hot_rule = hot.metadata.get("area_params", {}).get("min_hot_periods")
    text = f"The problem started in {started}" if started else "No cell of it was significantly hot on its own"
    if named:
        text += (
            f"; the tool first named it in {named}, {delay} month{'s' if delay != 1 else ''} later "
            f"(an area is named once a cell has been hot in {hot_rule} months)"
        )
    out["sentence"] = f"{text}. {latest_text}".strip()
    return out


def _concentration_out_of_sample(
    street: pd.DataFrame,
    geom: shapely.Geometry,
    b_geom: shapely.Geometry,
    *,
    trend_months: np.ndarray,
    rate_months: np.ndarray,
    geo: StoreGeography,
    harm_index: str,
    public: bool,
    threshold: int,
    study_area: Any = None,
) -> dict[str, Any]:
    """The concentration of hotspot areas defined on the earlier months, measured on the rate months.

    A hotspot area's concentration measured on the months that defined it is in-sample: the area was
    drawn where crime was high in those very months, so it flatters. Here the areas are found again on
    the months before the rate window only; the one overlapping the pack's area most is measured on the
    rate window's crime (share of borough crime / share of borough land). ``status`` says why not when no
    figure can be given.
    """
    earlier = np.setdiff1d(trend_months, rate_months)
    out: dict[str, Any] = {"defined_on": None, "measured_on": [str(rate_months[0]), str(rate_months[-1])]}
    if len(earlier) < 12:
        out["status"] = (
            f"not computed: only {len(earlier)} months before the rate window ({rate_months[0]}); "
            "12 are needed to define areas out of sample"
        )
        return out
    out["defined_on"] = [str(earlier[0]), str(earlier[-1])]
    early = street[street[schema.MONTH].isin(earlier)]
    early = early[early[schema.LOCATED].to_numpy(dtype=bool)]
    hot = analysis.run_hotspots(
        early,
        months=(str(earlier[0]), str(earlier[-1])),
        named_places=geo.named_places,
        study_area=study_area,
        wards=None if "wards" in geo.shipped else _wards_or_empty(geo),
        harm_index=harm_index,
    )
    areas = hot.areas
    overlap = shapely.area(shapely.intersection(areas.geometry.to_numpy(), geom)) if len(areas) else np.array([])
    if not len(overlap) or overlap.max() <= 0:
        out.update(
            status="no hotspot area found on the earlier months overlaps this area",
            share_of_borough_crime=0.0,
            concentration_ratio=0.0,
        )
        return out
    pick = areas.iloc[int(np.argmax(overlap))]
    late = street[street[schema.MONTH].isin(rate_months)]
    x, y = late[schema.EASTING].to_numpy(), late[schema.NORTHING].to_numpy()
    in_borough = shapely.intersects_xy(b_geom, x, y)  # a point on an outline is inside, as in the counts
    n_area = int((shapely.intersects_xy(pick.geometry, x, y) & in_borough).sum())
    n_borough = int(in_borough.sum())
    share = n_area / n_borough if n_borough else np.nan
    land = shapely.area(shapely.intersection(pick.geometry, b_geom)) / shapely.area(b_geom)
    if public and n_area < threshold:
        share = np.nan
    out.update(
        status="computed",
        area_name=str(pick[schema.AREA_NAME]),
        overlap_share=round(float(overlap.max() / shapely.area(geom)), 3),
        share_of_borough_crime=round(float(share), 2 if public else 4) if np.isfinite(share) else None,
        share_of_borough_land=round(float(land), 4),
        concentration_ratio=round(float(share / land), 3) if np.isfinite(share) and land else None,
    )
    return out


def _concentration_note(kind: str, oos: dict[str, Any] | None, rate_months: np.ndarray) -> str:
    """Whether the pack's concentration is in-sample, and the out-of-sample figure when there is one."""
    if kind != "hotspot area":
        return (
            f"Concentration: the {kind} is a fixed area, not drawn from this data; if it was chosen because "
            "of its crime in these months, its concentration is in-sample and flatters it."
        )
    text = (
        "Concentration is IN-SAMPLE: this hotspot area was drawn from months that include the ones its share "
        "of crime is measured on, which flatters it (some of that concentration is chance that will not recur). "
    )
    if oos is None or oos.get("status") != "computed":
        return text + f"Out of sample: {(oos or {}).get('status', 'not computed')}."
    ratio = oos.get("concentration_ratio")
    return text + (
        f"Out of sample, the hotspot area drawn on {oos['defined_on'][0]} to {oos['defined_on'][1]} only "
        f"({oos['area_name']}, {oos['overlap_share']:.0%} of this area) holds "
        + (
            f"{oos['share_of_borough_crime']:.0%} of the borough's crime of {rate_months[0]} to {rate_months[-1]} "
            f"on {oos['share_of_borough_land']:.1%} of its land: {ratio:.1f} times its share."
            if ratio is not None
            else "a suppressed share of the later crime."
        )
    )


def build_evidence(store_dir: str | Path, params: EvidenceParams) -> EvidencePack:
    """Compute a Safer Streets evidence pack for one area (see the module docstring).

    Parameters
    ----------
    store_dir
        The incident store.
    params
        Area and options.

    Returns
    -------
    EvidencePack
    """
    config = store.read_config(store_dir)
    geo = store_geography(store_dir)  # refuses another borough's data against the shipped Bury outline
    manifest = store.read_manifest(store_dir)
    street = store.read_incidents(store_dir, sources=list(params.sources))
    all_months = np.unique(street[schema.MONTH].astype(str).to_numpy())
    if not all_months.size:
        held = sorted(store.read_incidents(store_dir, columns=[schema.SOURCE])[schema.SOURCE].astype(str).unique())
        raise ParameterError(
            f"the store {store_dir} holds no data of source(s) {', '.join(params.sources)}; it holds "
            f"{', '.join(held) or 'nothing'}: ingest some first, or choose one with --source"
        )
    trend_months = all_months[-params.trend_months :]
    rate_months = all_months[-params.rate_months :]
    street = street[street[schema.MONTH].isin(trend_months)]
    borough, others = _store_boroughs(store_dir, config, geo)
    b_geom = borough.geometry.iloc[0]
    # the same study area, places and wards as `geo-csp areas` on this store, so the HS-xxxx ids agree
    study_area, _ = store_study_area(store_dir)
    hot = analysis.run_hotspots(
        street[street[schema.LOCATED].to_numpy(dtype=bool)],
        months=(trend_months[0], trend_months[-1]),
        study_area=study_area,
        named_places=geo.named_places,
        wards=None if "wards" in geo.shipped else _wards_or_empty(geo),
        harm_index=params.harm_index,
    )
    # the default priority score ranks the cells, and its rolling back-test says how well it predicts
    # (over the run's own study area, as the CLI and app score it, so they share one cached choice)
    hot = backtest.add_priority(
        hot, study_area=study_area if study_area is not None else b_geom, cache_dir=Path(store_dir) / "cache"
    )
    prediction = hot.metadata["priority"]
    area, kind = _resolve_area(params, hot.areas, geo)
    geom = area.geometry.iloc[0]
    inside_km2 = shapely.area(shapely.intersection(geom, b_geom)) / 1e6
    if inside_km2 < 0.5 * shapely.area(geom) / 1e6:
        raise ParameterError(
            f"area {params.area!r} lies mostly outside the borough {geo.borough!r} ({inside_km2:.2f} of its "
            f"{shapely.area(geom) / 1e6:.2f} km2 inside): choose an area of this borough, or configure the store's "
            "borough (geo-csp configure --boundary)"
        )
    geom = shapely.intersection(geom, b_geom)  # the pack reports the area within the borough
    if geom.geom_type == "GeometryCollection":  # edges shared with the outline: keep the polygons
        geom = shapely.union_all([g for g in geom.geoms if g.geom_type in ("Polygon", "MultiPolygon")])
    area = gpd.GeoDataFrame(area.drop(columns="geometry"), geometry=[geom], crs=WORKING_CRS)
    pop_units, pop_kind = _population_units(geo, trend_months)
    pop_area = _area_population(geom, pop_units)
    pop_borough = float(borough[schema.POPULATION].iloc[0]) if schema.POPULATION in borough.columns else np.nan
    rows = list(ROWS) if others is not None else list(BOROUGH_ROWS)
    area_km2 = shapely.area(geom) / 1e6
    borough_km2 = shapely.area(b_geom) / 1e6
    area = area.assign(
        kind=kind, area_km2=area_km2, population_estimate=round(pop_area) if np.isfinite(pop_area) else None
    )

    x, y = street[schema.EASTING].to_numpy(), street[schema.NORTHING].to_numpy()
    # a point on an outline is inside it, as in the partnership table (boundaries.assign_to_polygons)
    in_borough = shapely.intersects_xy(b_geom, x, y)
    in_area = shapely.intersects_xy(geom, x, y) & in_borough
    recent = street[schema.MONTH].isin(rate_months).to_numpy()
    ctype = street[schema.CRIME_TYPE]
    type_groups = pack_groups(ctype, params.sources)
    main = "All crime" if "All crime" in type_groups else next(iter(type_groups))  # concentration is measured on it
    masks = {g: ctype.isin(types).to_numpy() for g, types in type_groups.items()}
    flagged, not_available = qualified_masks(street, QUALIFIED_PACK_GROUPS)
    masks |= flagged
    groups = list(masks)
    where = {"Area": in_area, "Rest of borough": in_borough & ~in_area, "Borough": in_borough}
    pop_rest_force = np.nan
    if others is not None:
        in_others = shapely.intersects_xy(shapely.union_all(others.geometry.to_numpy()), x, y) & ~in_borough
        where |= {"Rest of force": in_others, "Force": in_borough | in_others}
        pop_rest_force = float(others[schema.POPULATION].to_numpy(dtype=float).sum())
        force_note = (
            f"Rest of force: crimes located in the force's other {len(others)} area(s) of the store's "
            f"areas file ({', '.join(others['area_name'].astype(str))}); rates use their populations."
        )
    else:
        force_note = (
            "Force comparison: not available. This store holds one borough's extract of police.uk data "
            "(its config lists no comparator areas), so force-wide counts and rates cannot be worked out "
            "from it; the few crimes placed just outside the borough boundary are not a force. "
            "To compare with the force, ingest the force's data and name a boundary file of its boroughs, "
            'with populations, as "areas" in the store config.'
        )
    counts = pd.DataFrame({g: [int((m & where[r] & recent).sum()) for r in rows] for g, m in masks.items()}, index=rows)
    counts.index.name = "Area"

    rule = params.disclosure
    audit_parts = []
    if params.public:
        hierarchy = {"Borough": ["Area", "Rest of borough"]}
        if others is not None:
            hierarchy["Force"] = ["Borough", "Rest of force"]
        prot = protect_table(counts, params=rule, row_total=None, column_total=None, hierarchy=hierarchy)
        pub_counts = prot.published.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        audit_parts.append(prot.audit.assign(table="counts"))
        # differencing against the public packs already published from this store (nested areas)
        exposed, diff_audit = _exposed_by_earlier_packs(
            store_dir,
            geom,
            x,
            y,
            recent,
            masks,
            pd.DataFrame(pub_counts, index=counts.index, columns=counts.columns),
            rate_months,
            rule,
        )
        for g in exposed:
            j = list(counts.columns).index(g)
            pub_counts[[rows.index("Area"), rows.index("Rest of borough")], j] = np.nan
        if len(diff_audit):
            audit_parts.append(diff_audit.assign(table="counts"))
    else:
        pub_counts = counts.to_numpy(dtype=float)
    pub = pd.DataFrame(pub_counts, index=counts.index, columns=counts.columns)
    per_year = 12.0 / len(rate_months)
    pops = pd.Series(
        [pop_area, pop_borough - pop_area, pop_borough, pop_rest_force, pop_borough + pop_rest_force], index=list(ROWS)
    ).loc[rows]
    rates = pub.mul(1000.0 * per_year).div(pops.where(pops > 0), axis=0)  # no residents: not available

    # monthly trend in the area
    month_idx = pd.Index(trend_months, name=schema.MONTH)
    monthly = pd.DataFrame(
        {
            g: street.loc[in_area & m, schema.MONTH].value_counts().reindex(month_idx, fill_value=0).astype(int)
            for g, m in masks.items()
        }
    ).T
    if params.public:
        mprot = protect_table(monthly, params=rule, row_total="Total", column_total=None)
        monthly_pub = mprot.published.drop(columns="Total").astype("Float64").T.astype(float)
        audit_parts.append(mprot.audit.assign(table="monthly"))
        exposed_months, month_audit = _exposed_months(
            store_dir, geom, x, y, masks, monthly_pub, street[schema.MONTH].astype(str).to_numpy(), rule
        )
        for g in {*exposed, *exposed_months}:  # a nested earlier pack's months would difference the same crimes
            monthly_pub[g] = np.nan
        if len(month_audit):
            audit_parts.append(month_audit.assign(table="monthly"))
    else:
        monthly_pub = monthly.T.astype(float)

    # concentration and harm (all crime, rate window)
    share_crime = pub.loc["Area", main] / pub.loc["Borough", main]
    share_land = area_km2 / borough_km2
    w = harm.incident_harm(ctype.to_numpy(), index=params.harm_index)
    crimes = ctype.isin(GROUPS["All crime"]).to_numpy() & recent
    harm_area = float(w[crimes & in_area].sum())
    harm_borough = float(w[crimes & in_borough].sum())
    harm_share = harm_area / harm_borough if harm_borough else np.nan
    if "All crime" not in groups:  # the sources record no crime: no harm to weigh (not a harm of 0)
        harm_area = harm_borough = np.nan
    if params.public:
        if np.isnan(pub.loc["Area", main]):
            harm_area, harm_share = np.nan, np.nan
        harm_area, harm_borough = _round_sig(harm_area), _round_sig(harm_borough)
        harm_share = round(harm_share, 2) if np.isfinite(harm_share) else np.nan
        share_crime = round(share_crime, 2) if np.isfinite(share_crime) else np.nan

    # concentration out of sample (a hotspot area is defined on the very months it is measured on)
    oos = None
    if kind == "hotspot area":
        oos = _concentration_out_of_sample(
            street,
            geom,
            b_geom,
            trend_months=trend_months,
            rate_months=rate_months,
            geo=geo,
            harm_index=params.harm_index,
            public=params.public,
            threshold=rule.threshold,
            study_area=study_area,
        )
    denominator_note, visited = _residents_denominator_note(
        str(area["name"].iloc[0]), float(rates.loc["Area", main]), float(rates.loc["Borough", main])
    )

    # hotspot cells inside the area (centroid inside)
    cents = shapely.centroid(hot.units.geometry.to_numpy())
    inside = shapely.contains_xy(geom, shapely.get_x(cents), shapely.get_y(cents))
    units = hot.units[inside]
    near = shapely.dwithin(hot.units.geometry.to_numpy(), geom, max(1500.0, np.sqrt(area_km2) * 1e3))
    context_units = hot.units[near & ~inside]
    classes = _present(units[schema.CATEGORY], "Hotspot class (Chainey)")
    patterns = _present(units[schema.PATTERN], "Emerging hot spot pattern (ArcGIS)")
    top_cols = [schema.UNIT_ID, schema.CATEGORY, schema.PATTERN, schema.EXPLANATION]
    if not params.public:
        top_cols[1:1] = [schema.N, schema.PREDICTED_N]
    top = units.sort_values([schema.PREDICTED_N, schema.GI_Z, schema.UNIT_ID], ascending=[False, False, True]).head(8)[
        top_cols
    ]

    tables: dict[str, pd.DataFrame] = {}
    shown = pub.copy()
    for g in groups:
        shown[f"{g}{RATE_SUFFIX}"] = rates[g].round(1)
    tables["counts"] = shown
    tables["hotspot_classes"] = classes
    tables["hotspot_patterns"] = patterns
    tables["hotspot_cells"] = top.reset_index(drop=True)
    tables["monthly"] = monthly_pub
    wards_lead = None if params.public else _ward_lead(street, trend_months, geo, study_area, params)
    if wards_lead is not None:
        tables["wards"] = wards_lead.table

    notes = []
    coverage_table = None
    partner_figures: dict[str, Any] = {}
    if params.partner:
        partner = store.read_incidents(store_dir, sources=partner_sources(store_dir), located_only=True)
        if len(partner):  # a store without partner extracts has no count of them (not 0)
            p_counts, p_masks, p_missing = partner_counts(partner, geom, b_geom, rate_months)
            if params.public:
                px, py = partner[schema.EASTING].to_numpy(), partner[schema.NORTHING].to_numpy()
                p_recent = partner[schema.MONTH].isin(rate_months).to_numpy()
                p_pub, p_audit = _protect_partner(
                    store_dir,
                    p_counts,
                    geom=geom,
                    x=px,
                    y=py,
                    recent=p_recent,
                    masks=p_masks,
                    rate_months=rate_months,
                    rule=rule,
                )
                audit_parts.append(p_audit)
            else:
                p_pub = p_counts.astype(float)
            tables["partner_counts"] = p_pub
            partner_figures = {
                "counts": {
                    r: {g: None if pd.isna(v) else int(v) for g, v in p_pub.loc[r].items()} for r in p_pub.index
                },
                "not_available": p_missing,
            }
        if not params.public:  # partner layers never go into a public pack
            coverage_table = _coverage(config, area, geo)
        if coverage_table is not None:
            tables["partner_coverage"] = coverage_table
    if params.public:
        notes.append(
            (
                "Partner counts are cleared by the same disclosure control as the police.uk counts (and checked "
                "against earlier public packs); partner layers (CCTV, walkabouts, operations, hubs) and "
                "incident points are left out of public packs."
            )
            if params.partner
            else "Partner data (council ASB reports, CCTV, walkabouts, operations) are left out of public packs."
        )

    points = None
    if params.points:
        pts = street[in_area & recent]
        points = store.incidents_to_gdf(pts)[[schema.MONTH, schema.CRIME_TYPE, schema.LOCATION, "geometry"]]

    def num(v: float) -> float | None:
        return None if v is None or not np.isfinite(v) else float(v)

    def count(v: float) -> int | None:
        return None if v is None or not np.isfinite(v) else int(v)

    figures = {
        "area_name": str(area["name"].iloc[0]),
        "area_kind": kind,
        "area_km2": round(area_km2, 4),
        "population_estimate": round(pop_area) if np.isfinite(pop_area) else None,
        "months": [str(trend_months[0]), str(trend_months[-1])],
        "rate_months": [str(rate_months[0]), str(rate_months[-1])],
        "counts": {r: {g: count(pub.loc[r, g]) for g in groups} for r in rows},
        "rates_per_1000_per_year": {r: {g: num(round(rates.loc[r, g], 3)) for g in groups} for r in rows},
        "sources": list(params.sources),
        "not_available": not_available,
        "partner": partner_figures,
        "qualified_groups": {
            g.label: g.to_dict() for g in map(qualifiers.QUALIFIED_GROUPS.get, QUALIFIED_PACK_GROUPS) if g is not None
        },
        "concentration_of": main,
        "share_of_borough_crime": num(round(share_crime, 4)),
        "share_of_borough_land": round(share_land, 4),
        "concentration_ratio": num(round(share_crime / share_land, 3)),
        "concentration_in_sample": kind == "hotspot area",
        "concentration_out_of_sample": oos,
        "residents_denominator_caution": visited,
        "harm_index": params.harm_index,
        "harm": harm.harm_info(cast(harm.HarmIndex, params.harm_index)),  # its source, vintage and weights
        "harm_area": num(round(harm_area, 2)),
        "harm_share_of_borough": num(round(harm_share, 4)),
        "hotspot_cells": {str(k): int(v) for k, v in classes["Cells"].items()},
        "n_cells": int(len(units)),
        "hotspot_timeline": _area_timeline(
            str(area["name"].iloc[0]), kind, hot, latest=store.latest_police_uk_month(store_dir)
        ),
        "wards": None if wards_lead is None else {**wards_lead.metadata, "lead": wards_lead.lead},
        "how_well_it_predicts": {
            k: prediction.get(k)
            for k in (
                "predictor",
                "chosen_by",
                "evidence",
                "n_splits",
                "area_share",
                "hit_rate_mean",
                "pai_mean",
                "counts_hit_rate_mean",
                "counts_pai_mean",
                "out_of_sample_hit_rate_mean",
                "out_of_sample_pai_mean",
            )
        },
    }
    notes += [
        (
            "Counts: police.uk street-level crimes located in each area (a point on an outline counts inside it, "
            "as in the partnership table), "
            if params.sources == FULL_CATEGORY_SOURCES
            else f"Counts: records of {', '.join(params.sources)} located in each area (a point on an outline counts "
            f"inside it), by the categories the source records ({', '.join(groups)}; "
            + (", ".join(g for g in GROUPS if g not in groups) or "none")
            + " not recorded by it, so not counted), "
        )
        + f"{rate_months[0]} to {rate_months[-1]}; rates per 1,000 residents per year. "
        + (
            f"The area's residents are estimated from {pop_kind} populations weighted by the share of each "
            f"{pop_kind} inside the area; the borough's: {geo.population_source}."
            if pop_units is not None
            else "Rates are not available: the store's config gives no population (geo-csp configure --population)."
        ),
        force_note,
        'Neighbourhood crime: burglary, robbery, theft from the person, vehicle crime (police.uk "Burglary" '
        "includes business burglary). Serious acquisitive crime: burglary, robbery, vehicle crime.",
        denominator_note,
        _concentration_note(kind, oos, rate_months),
        SNAP_POINT_NOTE,
        f"Harm: {params.harm_index.upper()} weights (geo_csp.harm), crimes only (no ASB).",
        f"Hotspot classes: Gi* and Mann-Kendall on H3 cells over {trend_months[0]} to {trend_months[-1]} "
        f"(resolution {hot.metadata.get('resolution')}); cells whose centre lies in the area. Only the "
        f"classes found in the area are listed (of the {_n_classes(units[schema.CATEGORY])} Chainey classes "
        f"and {_n_classes(units[schema.PATTERN])} ArcGIS patterns, cold spots included).",
    ]
    notes += [f"{label}: {why}." for label, why in not_available.items()]
    counted_labels = {*groups, *(tables["partner_counts"].columns if "partner_counts" in tables else ())}
    notes += [
        f"{g.label}: {g.definition}; counted from the sources that record {' and '.join(g.columns)}, "
        "records with an unknown value not counted."
        for g in qualifiers.QUALIFIED_GROUPS.values()
        if g.label in counted_labels
    ]
    if prediction.get("evidence"):
        notes.append(
            "How well the hotspot cells predict (borough-wide rolling back-test of the default priority "
            "score, which ranks the cells listed): " + str(prediction["evidence"])
        )
    if params.public:
        notes.append(
            rule.rule + " Rates, shares and harm are derived from the published counts. Gaps in "
            "the public trend chart are months whose count is suppressed."
        )
    inputs = store.input_files(manifest)
    audit = pd.concat(audit_parts, ignore_index=True) if audit_parts else None
    return EvidencePack(
        params=params,
        store_dir=str(store_dir),
        area=area,
        borough=borough,
        tables=tables,
        figures=figures,
        units=units,
        points=points,
        monthly=monthly_pub,
        inputs=inputs,
        synthetic=config.synthetic,
        notes=tuple(notes),
        audit=audit,
        context_units=context_units,
        force_note=force_note,
        wards=geo.wards,
    )


def partner_sources(store_dir: str | Path) -> list[str]:
    """The store's partner sources whose counts a pack shows: second recording channels (a council's ASB
    cases, a force's own crime extract), not police.uk, not road casualties."""
    held = store.store_status(store_dir)["sources"]
    return sorted(s for s in held if source_kind(s) == "second_channel" and s != schema.SOURCE_STATS19)


def partner_counts(
    partner: pd.DataFrame, geom: shapely.Geometry, b_geom: shapely.Geometry, rate_months: np.ndarray
) -> tuple[pd.DataFrame, dict[str, np.ndarray], dict[str, str]]:
    """Partner records located in the area, the rest of the borough and the borough over the rate months.

    One column per partner source (its records; :data:`PARTNER_LABELS` names them) and one per group of
    :data:`PARTNER_QUALIFIED_GROUPS` whose qualifiers the partner sources record (VAWG, domestic abuse,
    knives), counted over the sources that record them.

    Returns
    -------
    counts, masks, not_available
        The counts (rows :data:`BOROUGH_ROWS`), each column's rows of ``partner``, and why the other groups
        are not counted.
    """
    src = partner[schema.SOURCE].astype(str)
    masks = {PARTNER_LABELS.get(s, f"Records of {s}"): (src == s).to_numpy() for s in sorted(src.unique())}
    flagged, missing = qualified_masks(partner, PARTNER_QUALIFIED_GROUPS)
    masks |= flagged
    x, y = partner[schema.EASTING].to_numpy(), partner[schema.NORTHING].to_numpy()
    in_borough = shapely.intersects_xy(b_geom, x, y)
    in_area = shapely.intersects_xy(geom, x, y) & in_borough
    recent = partner[schema.MONTH].isin(rate_months).to_numpy()
    where = (in_area, in_borough & ~in_area, in_borough)
    counts = pd.DataFrame(
        {g: [int((m & w & recent).sum()) for w in where] for g, m in masks.items()}, index=list(BOROUGH_ROWS)
    )
    counts.index.name = "Area"
    return counts, masks, missing


def _protect_partner(
    store_dir: str | Path,
    counts: pd.DataFrame,
    *,
    geom: shapely.Geometry,
    x: np.ndarray,
    y: np.ndarray,
    recent: np.ndarray,
    masks: dict[str, np.ndarray],
    rate_months: np.ndarray,
    rule: DisclosureParams,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Partner counts as published: the 10-5 rule with secondary suppression over area + rest = borough,
    then the differencing check against earlier public packs of the store (as the police.uk counts)."""
    prot = protect_table(
        counts, params=rule, row_total=None, column_total=None, hierarchy={"Borough": ["Area", "Rest of borough"]}
    )
    pub = prot.published.astype("Float64").astype(float)
    exposed, diff = _exposed_by_earlier_packs(store_dir, geom, x, y, recent, masks, pub, rate_months, rule)
    pub.loc[["Area", "Rest of borough"], exposed] = np.nan
    audit = pd.concat([prot.audit, diff], ignore_index=True) if len(diff) else prot.audit
    return pub, audit.assign(table="partner_counts")


def _present(values: pd.Series, name: str) -> pd.DataFrame:
    """Cells per class, only the classes present (most cells first), as a one-column frame."""
    n = values.value_counts()
    out = n[n > 0].rename("Cells").to_frame()
    out.index = out.index.astype(str)
    out.index.name = name
    return out


def _n_classes(values: pd.Series) -> int:
    """How many classes the scheme of a categorical column has (its categories, else its distinct values)."""
    if isinstance(values.dtype, pd.CategoricalDtype):
        return len(values.cat.categories)
    return int(values.nunique())


def _coverage(config: store.StoreConfig, area: gpd.GeoDataFrame, geo: StoreGeography) -> pd.DataFrame | None:
    """Partner coverage of the area by the store's partner layers (:func:`geo_csp.layers.store_layers`,
    operations drawn on the store's own outline and places); ``None`` when the store has no layers folder."""
    folder = layers.layers_folder(config)
    if folder is None or not folder.resolve().is_dir():
        return None
    lay = layers.store_layers(config, folder=folder.resolve(), borough=geo.outline, places=geo.named_places)
    cov = coverage.coverage(
        area[["name", "geometry"]], views=lay.views, walkabouts=lay.walkabouts, operations=lay.operations, hubs=lay.hubs
    )
    out = pd.DataFrame(cov.drop(columns="geometry")).set_index("name")
    out.attrs = {"coverage_params": dict(cov.attrs.get("coverage_params", {}))}
    return out


# --------------------------------------------------------------------------------------------------
# Writing the pack
# --------------------------------------------------------------------------------------------------

_CSS = """
@page { size: A4; margin: 14mm; }
body { font-family: 'DejaVu Sans', sans-serif; font-size: 10pt; color: #111; }
h1 { font-size: 17pt; margin-bottom: 2pt; } h2 { font-size: 13pt; margin-top: 14pt; border-bottom: 1px solid #999; }
table { border-collapse: collapse; margin: 6pt 0; font-size: 8.5pt; }
th, td { border: 1px solid #aaa; padding: 2pt 5pt; text-align: right; vertical-align: top; }
th { background: #e3e9f2; } th:first-child { text-align: left; }
td.text, th.text { text-align: left; }
img { max-width: 100%; } .map { page-break-inside: avoid; }
.pair table { display: inline-table; margin-right: 14pt; vertical-align: top; }
.synthetic { color: #b00; font-weight: bold; border: 2px solid #b00; padding: 4pt; }
.notes { font-size: 8pt; color: #333; } .rule { background: #fff6d6; padding: 4pt; }
"""


def _table_html(frame: pd.DataFrame) -> str:
    """A count table (counts and rates per 1,000) formatted for print."""
    shown = pd.DataFrame(index=frame.index)
    for col in frame.columns:
        values = frame[col].astype(float)
        base = str(col).removesuffix(RATE_SUFFIX)
        if base != str(col) and base in frame.columns:  # a rate: blank count = suppressed, else no population
            gap = np.where(frame[base].isna(), SUPPRESSED_MARK, "not available")
            shown[col] = [g if pd.isna(v) else f"{v:,.1f}" for v, g in zip(values, gap)]
        else:
            shown[col] = [SUPPRESSED_MARK if pd.isna(v) else f"{v:,.0f}" for v in values]
    return frame_html(shown)


def _cells_html(cells: pd.DataFrame, months: list[str]) -> str:
    """The hottest cells with printed column names, whole-number counts and left-aligned reasons."""
    shown = cells.rename(columns=CELL_COLUMNS)
    if schema.N in cells.columns:
        crimes = f"Crimes {months[0]} to {months[-1]}"
        shown = shown.rename(columns={CELL_COLUMNS[schema.N]: crimes})
        shown[crimes] = [f"{v:,.0f}" for v in cells[schema.N].astype(float)]
    if schema.PREDICTED_N in cells.columns:
        shown[CELL_COLUMNS[schema.PREDICTED_N]] = [
            f"{v:,.0f}" if abs(v) >= 10 else f"{v:.2g}" for v in cells[schema.PREDICTED_N].astype(float)
        ]
    text = [CELL_COLUMNS[c] for c in (schema.CATEGORY, schema.PATTERN, schema.EXPLANATION)]
    return frame_html(shown, index=False, text_columns=[CELL_COLUMNS[schema.UNIT_ID], *text])


def _partner_html(pack: EvidencePack) -> str:
    """Council ASB reports and partner coverage of the area in words, with what is missing."""
    rows: dict[str, str] = {}
    months = pack.figures["rate_months"]
    if "partner_counts" in pack.tables:
        for label, n in pack.tables["partner_counts"].loc["Area"].items():
            rows[f"{label}, {months[0]} to {months[-1]}"] = SUPPRESSED_MARK if pd.isna(n) else f"{int(n):,}"
        rows.update(pack.figures.get("partner", {}).get("not_available", {}))
    gaps: list[str] = []
    cov = pack.tables.get("partner_coverage")
    if cov is not None and len(cov):
        c = cov.iloc[0]
        cp = cov.attrs.get("coverage_params", {})
        weeks, as_of = cp.get("weeks", 8), cp.get("as_of", "the latest date")
        op_weeks = cp.get("operation_weeks") or weeks
        if pd.notna(c.get("cctv_share")):
            rows["Share of area in CCTV view"] = f"{float(c['cctv_share']):.1%}"
            if not bool(c["cctv_covered"]):
                gaps.append("no CCTV view")
        if pd.notna(c.get("walkabout_n")):
            last = c.get("walkabout_last")
            when = f" (last on {pd.Timestamp(last):%d %b %Y})" if pd.notna(last) else ""
            key = f"Walkabouts within {cp.get('walk_distance_m', 50):,.0f} m in the {weeks} weeks to {as_of}"
            rows[key] = f"{int(c['walkabout_n']):,}{when}"
            if not int(c["walkabout_n"]):
                gaps.append(f"no walkabout in the last {weeks} weeks")
        if pd.notna(c.get("operation_covered")):
            rows[f"Operations in the {op_weeks} weeks to {as_of}"] = str(c["operations"]) or "none"
            if not bool(c["operation_covered"]):
                gaps.append(f"no operation in the last {op_weeks} weeks")
        if c.get("nearest_hub") is not None and pd.notna(c.get("hub_distance_m")):
            dist = float(c["hub_distance_m"])
            where = "in the area" if dist == 0 else f"{dist:,.0f} m from the area"
            rows["Nearest community hub"] = f"{c['nearest_hub']}, {where}"
        layers = {
            "cctv_share": "CCTV",
            "walkabout_n": "walkabouts",
            "operation_covered": "operations",
            "hub_distance_m": "community hubs",
        }
        missing = [v for k, v in layers.items() if k in cov.columns and pd.isna(c.get(k))]
        if missing:
            rows["Partner layers not supplied"] = ", ".join(missing)
        rows["Gaps in coverage"] = "; ".join(gaps) if gaps else "none found"
    frame = pd.DataFrame(
        {pack.figures["area_name"]: list(rows.values())}, index=pd.Index(list(rows), name="Partner data")
    )
    return frame_html(frame, text_columns=[pack.figures["area_name"]])


def _maps(pack: EvidencePack) -> dict[str, Any]:
    name = pack.figures["area_name"]
    wards = pack.wards
    detail = figures.hotspot_figure(
        borough=pack.borough,
        area=pack.area,
        units=pack.units,
        points=pack.points,
        context_units=pack.context_units,
        wards=wards,
        title=f"{name}: hotspot classes",
        synthetic=pack.synthetic,
    )
    overview = figures.hotspot_figure(
        borough=pack.borough,
        area=pack.area,
        units=None,
        zoom_to_area=False,
        wards=wards,
        title=f"{name} in the borough",
        synthetic=pack.synthetic,
        figsize_in=(6.0, 6.0),
    )
    trend = figures.trend_chart(pack.monthly, title=f"{name}: crimes per month", synthetic=pack.synthetic)
    return {"map_detail": detail, "map_overview": overview, "trend": trend}


def _ward_lead(
    street: pd.DataFrame,
    trend_months: np.ndarray,
    geo: StoreGeography,
    study_area: Any,
    params: EvidenceParams,
) -> ward_summary.FewUnitsSummary | None:
    """Counts, rates and change of the borough's wards, when it has few (:func:`geo_csp.ward_summary.applies`).

    Restricted packs only: the ward counts are not passed through disclosure control.
    """
    wards = geo.wards
    if wards is None or not len(wards) or not ward_summary.applies("ward", len(wards)):
        return None
    run = analysis.run_hotspots(
        street[street[schema.LOCATED].to_numpy(dtype=bool)],
        unit="ward",
        units=wards,
        months=(trend_months[0], trend_months[-1]),
        study_area=study_area,
        harm_index=params.harm_index,
    )
    return ward_summary.summarise_few_units(run)


def _wards_html(pack: EvidencePack) -> str:
    lead = pack.figures.get("wards")
    if not lead:
        return ""
    shown = ward_summary.FewUnitsSummary(table=pack.tables["wards"], lead=lead["lead"], metadata=lead).for_people()
    esc = html.escape
    return (
        "<h2>The borough's wards: counts, rates and change</h2>"
        + "".join(f"<p>{esc(s)}</p>" for s in lead["lead"])
        + f'<p class="rule">{esc(lead["rule"])}; change compares {esc(str(lead["periods_compared"]))}.</p>'
        + frame_html(shown, index=False, text_columns=["Name", "Gi* (with its neighbours)", "Why Gi* says so"])
    )


def _report_html(pack: EvidencePack, images: dict[str, str]) -> str:
    f = pack.figures
    esc = html.escape
    title = f"Safer Streets evidence pack: {f['area_name']}"
    parts = [
        f'<!DOCTYPE html><html lang="en"><head><meta charset="utf-8"><title>{esc(title)}</title>'
        f"<style>{_CSS}</style></head><body>",
        f"<h1>{esc(title)}</h1>",
    ]
    if pack.synthetic:
        parts.append('<p class="synthetic">SYNTHETIC demo data: not real crime.</p>')
    parts.append(
        f"<p>{esc(f['area_kind'].capitalize())}, {f['area_km2']:.2f} km², "
        + (
            f"about {f['population_estimate']:,} residents."
            if f["population_estimate"] is not None
            else "residents not known (no population configured)."
        )
        + f" Crime counted {esc(f['rate_months'][0])} to {esc(f['rate_months'][-1])}; trend and hotspot "
        f"analysis {esc(f['months'][0])} to {esc(f['months'][-1])}."
        + (
            " Public version: disclosure control applied."
            if pack.params.public
            else " <b>Restricted: contains granular and partner data; not for publication.</b>"
        )
        + "</p>"
    )
    if pack.params.public:
        parts.append(f'<p class="rule">{esc(pack.params.disclosure.rule)}</p>')
    parts.append(_wards_html(pack))
    force = "Force" in pack.tables["counts"].index
    parts.append(
        f"<h2>Crime in the area{', the borough and the force' if force else ' and the borough'}</h2>"
        + _table_html(pack.tables["counts"])
        + "".join(f"<p>{esc(label)}: {esc(why)}.</p>" for label, why in f.get("not_available", {}).items())
        + ("" if force else f"<p>{esc(pack.force_note)}</p>")
    )
    ratio = f["concentration_ratio"]
    parts.append(
        "<h2>Concentration and harm</h2><p>"
        + (
            f"The area holds {f['share_of_borough_crime']:.0%} of the borough's recorded "
            f"{f.get('concentration_of', 'All crime').lower()} on "
            f"{f['share_of_borough_land']:.1%} of its land: {ratio:.1f} times its share."
            if ratio is not None
            else "The area's share of borough crime is suppressed."
        )
        + (
            f" Its {f['harm_index'].upper()} harm is {f['harm_share_of_borough']:.0%} of the borough's."
            if f["harm_share_of_borough"] is not None
            else ""
        )
        + "</p>"
        + "".join(f'<p class="rule">{esc(n)}</p>' for n in pack.notes if n.startswith(("Concentration",)))
    )
    if f.get("residents_denominator_caution"):
        parts.append(
            '<p class="rule">' + esc(next(n for n in pack.notes if "Rates per 1,000 residents divide" in n)) + "</p>"
        )
    parts.append(f'<h2>Three-year trend</h2><div class="map"><img alt="trend chart" src="{images["trend"]}"></div>')
    parts.append(
        f'<h2>Maps</h2><div class="map"><img alt="hotspot map" src="{images["map_detail"]}"></div>'
        f'<div class="map"><img alt="overview map" style="max-width:70%" '
        f'src="{images["map_overview"]}"></div>'
    )
    n_cells = f["n_cells"]
    timeline = f.get("hotspot_timeline") or {}
    parts.append(
        "<h2>Hotspot classes inside the area</h2>"
        + (f"<p>{esc(timeline['sentence'])}</p>" if timeline.get("sentence") else "")
        + f"<p>The area holds {n_cells} H3 cells. Only the classes found in it are listed; every other class "
        '(cold spots included) has no cell in the area.</p><div class="pair">'
        + _table_html(pack.tables["hotspot_classes"])
        + _table_html(pack.tables["hotspot_patterns"])
        + "</div><p>The hottest cells (most expected crime next month first, by the default priority score) and why they are classed as they are:</p>"
        + _cells_html(pack.tables["hotspot_cells"], f["months"])
    )
    if "partner_counts" in pack.tables or "partner_coverage" in pack.tables:
        title = "Partner data" if pack.params.public else "Partner data, coverage and gaps"
        parts.append(f"<h2>{title}</h2>" + _partner_html(pack))
    parts.append(
        '<h2>Notes and sources</h2><ol class="notes">' + "".join(f"<li>{esc(n)}</li>" for n in pack.notes) + "</ol>"
    )
    parts.append(
        f'<p class="notes">geo-csp {esc(geo_csp.__version__)}; store {esc(store.store_label(pack.store_dir))}; '
        f"{len(pack.inputs)} input files (sha256 in manifest.json).</p></body></html>"
    )
    return "\n".join(parts)


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_evidence(pack: EvidencePack, out_dir: str | Path, *, audit_dir: str | Path | None = None) -> dict[str, Path]:
    """Write the pack: ``report.html``, ``report.pdf``, ``area.gpkg``, CSVs and ``manifest.json``.

    Parameters
    ----------
    pack
        From :func:`build_evidence`.
    out_dir
        Folder to write into (created).
    audit_dir
        Where the suppression audit of a public pack goes (a sensitive file, kept out of the pack);
        default ``<out_dir>-disclosure-audit`` beside it.

    Returns
    -------
    dict
        Name -> path of every file written.
    """
    from weasyprint import HTML

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written: dict[str, Path] = {}
    images = {k: figures.figure_to_data_uri(fig) for k, fig in _maps(pack).items()}
    page = _report_html(pack, images)
    written["report.html"] = out / "report.html"
    written["report.html"].write_text(page, encoding="utf-8")
    written["report.pdf"] = out / "report.pdf"
    HTML(string=page, base_url=str(out)).write_pdf(written["report.pdf"])
    gpkg = out / "area.gpkg"
    if gpkg.exists():
        gpkg.unlink()
    pack.area.to_file(gpkg, layer="area", driver="GPKG")
    unit_cols = [
        c
        for c in (schema.UNIT_ID, schema.CATEGORY, schema.PATTERN, schema.GI_Z, schema.EXPLANATION)
        if c in pack.units.columns
    ]
    if not pack.params.public:
        unit_cols.insert(1, schema.N)
    pack.units[[*unit_cols, "geometry"]].to_file(gpkg, layer="hotspot_cells", driver="GPKG")
    if pack.points is not None:
        pack.points.to_file(gpkg, layer="incidents", driver="GPKG")
    written["area.gpkg"] = gpkg
    for name, table in pack.tables.items():
        path = out / f"{name}.csv"
        whole = {
            c: "Int64"
            for c in table.columns
            if c in (*GROUPS, *_QUALIFIED_LABELS, "All records", schema.N) or name == "partner_counts"
        }  # counts print as 187, not 187.0
        spreadsheet_safe(table.astype(whole)).to_csv(path, na_rep=SUPPRESSED_MARK if pack.params.public else "")
        written[path.name] = path
    if pack.audit is not None:
        adir = Path(audit_dir) if audit_dir is not None else out.parent / f"{out.name}-disclosure-audit"
        adir.mkdir(parents=True, exist_ok=True)
        spreadsheet_safe(pack.audit).to_csv(adir / "disclosure_audit.csv", index=False)
        written["disclosure_audit.csv"] = adir / "disclosure_audit.csv"
    manifest = {
        "title": f"Safer Streets evidence pack: {pack.figures['area_name']}",
        "software": {"name": "geo-csp", "version": geo_csp.__version__},
        "created": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "store": store.store_label(pack.store_dir),
        "synthetic": pack.synthetic,
        "parameters": pack.params.to_dict(),
        "disclosure_rule": pack.params.disclosure.rule if pack.params.public else None,
        "inputs": pack.inputs,
        "figures": pack.figures,
        "outputs": {k: {"file": p.name, "sha256": _sha256(p)} for k, p in written.items() if p.parent == out},
        "reproduce": "geo_csp.evidence.build_evidence(<the store labelled manifest['store']>,"
        " EvidenceParams.from_dict(manifest['parameters']))"
        ".figures == manifest['figures']",
    }
    written["manifest.json"] = out / "manifest.json"
    written["manifest.json"].write_text(json.dumps(manifest, indent=1, default=str) + "\n", encoding="utf-8")
    if pack.params.public:
        _register_public_pack(pack)
    return written
