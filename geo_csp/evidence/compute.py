"""The figures of an evidence pack: the hotspot run, counts and rates by area row (protected in public
mode), the monthly trend, concentration and harm, the hotspot cells inside the area, and the pack's
figures (the numbers its manifest holds)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import backtest, harm, hotspot_run, qualifiers, schema, store, ward_summary
from geo_csp.cube import CubeParams
from geo_csp import areas as areas_mod
from geo_csp.disclosure import protect_table
from geo_csp.evidence.area import PackArea, StoreData
from geo_csp.evidence.differencing import exposed_by_earlier_packs, exposed_months
from geo_csp.evidence.groups import (
    BOROUGH_ROWS,
    GROUPS,
    QUALIFIED_PACK_GROUPS,
    RATE_SUFFIX,
    ROWS,
    pack_groups,
    qualified_masks,
)
from geo_csp.evidence.params import EvidenceParams
from geo_csp.geography import StoreGeography

#: The back-test figures of the priority score a pack reports (``how_well_it_predicts``).
PREDICTION_KEYS = (
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


@dataclass(frozen=True)
class AreaCounts:
    """The incidents located in the pack's rows (area, rest of borough, borough, and the force's when the
    store holds it) and their counts over the rate months, by crime group."""

    x: np.ndarray
    y: np.ndarray
    in_borough: np.ndarray
    in_area: np.ndarray
    recent: np.ndarray
    masks: dict[str, np.ndarray]
    main: str
    not_available: dict[str, str]
    rows: list[str]
    counts: pd.DataFrame
    pop_rest_force: float
    force_note: str

    @property
    def groups(self) -> list[str]:
        """The counted groups, in column order."""
        return list(self.masks)


@dataclass(frozen=True)
class PublishedCounts:
    """Counts, rates and the monthly trend as published (protected in public mode), and the audit."""

    counts: pd.DataFrame
    rates: pd.DataFrame
    monthly: pd.DataFrame
    audit_parts: tuple[pd.DataFrame, ...]


@dataclass(frozen=True)
class Concentration:
    """The area's share of borough crime and land, and its harm (rounded in public mode)."""

    share_crime: float
    share_land: float
    harm_area: float
    harm_share: float


@dataclass(frozen=True)
class AreaCells:
    """The hotspot cells of the area (centre inside), the cells around it, and their tables."""

    units: gpd.GeoDataFrame
    context_units: gpd.GeoDataFrame
    classes: pd.DataFrame
    patterns: pd.DataFrame
    top: pd.DataFrame


def pack_hotspots(store_dir: str | Path, data: StoreData, params: EvidenceParams) -> hotspot_run.HotspotResult:
    """The hotspot run over the trend months, on the same study area, places and wards as ``geo-csp areas``,
    with the default priority score and its rolling back-test."""
    geo, street = data.geo, data.street
    hot = hotspot_run.run_hotspots(
        street[street[schema.LOCATED].to_numpy(dtype=bool)],
        cube_params=CubeParams(
            months=(data.trend_months[0], data.trend_months[-1]), harm_index=cast(harm.HarmIndex, params.harm_index)
        ),
        study_area=data.study_area,
        named_places=geo.named_places,
        wards=geo.run_wards,
    )
    # the default priority score ranks the cells, and its rolling back-test says how well it predicts
    # (over the run's own study area, as the CLI and app score it, so they share one cached choice)
    return backtest.add_priority(
        hot,
        study_area=data.study_area if data.study_area is not None else data.borough_geom,
        cache_dir=Path(store_dir) / "cache",
    )


def count_area(data: StoreData, area: PackArea, params: EvidenceParams) -> AreaCounts:
    """Where the incidents lie and the counts of each group per row over the rate months."""
    street, others = data.street, data.others
    x, y = street[schema.EASTING].to_numpy(), street[schema.NORTHING].to_numpy()
    # a point on an outline is inside it, as in the partnership table (boundaries.assign_to_polygons)
    in_borough = shapely.intersects_xy(data.borough_geom, x, y)
    in_area = shapely.intersects_xy(area.geom, x, y) & in_borough
    recent = street[schema.MONTH].isin(data.rate_months).to_numpy()
    ctype = street[schema.CRIME_TYPE]
    type_groups = pack_groups(ctype, params.sources)
    main = "All crime" if "All crime" in type_groups else next(iter(type_groups))  # concentration is measured on it
    masks = {g: ctype.isin(types).to_numpy() for g, types in type_groups.items()}
    flagged, not_available = qualified_masks(street, QUALIFIED_PACK_GROUPS)
    masks |= flagged
    rows = list(ROWS) if others is not None else list(BOROUGH_ROWS)
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
    return AreaCounts(
        x=x,
        y=y,
        in_borough=in_borough,
        in_area=in_area,
        recent=recent,
        masks=masks,
        main=main,
        not_available=not_available,
        rows=rows,
        counts=counts,
        pop_rest_force=pop_rest_force,
        force_note=force_note,
    )


def publish_counts(
    store_dir: str | Path, data: StoreData, area: PackArea, located: AreaCounts, params: EvidenceParams
) -> PublishedCounts:
    """Counts, rates per 1,000 residents per year and the area's monthly trend as published: in public
    mode through disclosure control and the differencing check against earlier public packs."""
    audit_parts: list[pd.DataFrame] = []
    pub, exposed = _published_area_counts(store_dir, data, area, located, params, audit_parts)
    rows, rate_months = located.rows, data.rate_months
    per_year = 12.0 / len(rate_months)
    pop_area, pop_borough, pop_rest_force = area.pop_area, area.pop_borough, located.pop_rest_force
    pops = pd.Series(
        [pop_area, pop_borough - pop_area, pop_borough, pop_rest_force, pop_borough + pop_rest_force], index=list(ROWS)
    ).loc[rows]
    rates = pub.mul(1000.0 * per_year).div(pops.where(pops > 0), axis=0)  # no residents: not available
    monthly_pub = _published_monthly(store_dir, data, area, located, params, exposed, audit_parts)
    return PublishedCounts(counts=pub, rates=rates, monthly=monthly_pub, audit_parts=tuple(audit_parts))


def _published_area_counts(
    store_dir: str | Path,
    data: StoreData,
    area: PackArea,
    located: AreaCounts,
    params: EvidenceParams,
    audit_parts: list[pd.DataFrame],
) -> tuple[pd.DataFrame, list[str]]:
    """The counts as published and the groups suppressed by differencing (audit tables appended)."""
    counts, rows, rule = located.counts, located.rows, params.disclosure
    exposed: list[str] = []
    if params.public:
        hierarchy = {"Borough": ["Area", "Rest of borough"]}
        if data.others is not None:
            hierarchy["Force"] = ["Borough", "Rest of force"]
        prot = protect_table(counts, params=rule, row_total=None, column_total=None, hierarchy=hierarchy)
        pub_counts = prot.published.astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        audit_parts.append(prot.audit.assign(table="counts"))
        # differencing against the public packs already published from this store (nested areas)
        exposed, diff_audit = exposed_by_earlier_packs(
            store_dir,
            area.geom,
            located.x,
            located.y,
            located.recent,
            located.masks,
            pd.DataFrame(pub_counts, index=counts.index, columns=counts.columns),
            data.rate_months,
            rule,
        )
        for g in exposed:
            j = list(counts.columns).index(g)
            pub_counts[[rows.index("Area"), rows.index("Rest of borough")], j] = np.nan
        if len(diff_audit):
            audit_parts.append(diff_audit.assign(table="counts"))
    else:
        pub_counts = counts.to_numpy(dtype=float)
    return pd.DataFrame(pub_counts, index=counts.index, columns=counts.columns), exposed


def _published_monthly(
    store_dir: str | Path,
    data: StoreData,
    area: PackArea,
    located: AreaCounts,
    params: EvidenceParams,
    exposed: list[str],
    audit_parts: list[pd.DataFrame],
) -> pd.DataFrame:
    """The area's monthly trend (months x groups) as published (audit tables appended)."""
    street, rule = data.street, params.disclosure
    month_idx = pd.Index(data.trend_months, name=schema.MONTH)
    monthly = pd.DataFrame(
        {
            g: street.loc[located.in_area & m, schema.MONTH].value_counts().reindex(month_idx, fill_value=0).astype(int)
            for g, m in located.masks.items()
        }
    ).T
    if not params.public:
        return monthly.T.astype(float)
    mprot = protect_table(monthly, params=rule, row_total="Total", column_total=None)
    monthly_pub = mprot.published.drop(columns="Total").astype("Float64").T.astype(float)
    audit_parts.append(mprot.audit.assign(table="monthly"))
    exposed_in_months, month_audit = exposed_months(
        store_dir,
        area.geom,
        located.x,
        located.y,
        located.masks,
        monthly_pub,
        street[schema.MONTH].astype(str).to_numpy(),
        rule,
    )
    for g in {*exposed, *exposed_in_months}:  # a nested earlier pack's months would difference the same crimes
        monthly_pub[g] = np.nan
    if len(month_audit):
        audit_parts.append(month_audit.assign(table="monthly"))
    return monthly_pub


def concentration_and_harm(
    data: StoreData, area: PackArea, located: AreaCounts, published: PublishedCounts, params: EvidenceParams
) -> Concentration:
    """The area's share of borough crime (of the main group) and land, and its harm, over the rate months."""
    pub, main = published.counts, located.main
    ctype = data.street[schema.CRIME_TYPE]
    share_crime = pub.loc["Area", main] / pub.loc["Borough", main]
    share_land = area.area_km2 / area.borough_km2
    w = harm.incident_harm(ctype.to_numpy(), index=cast(harm.HarmIndex, params.harm_index))
    crimes = ctype.isin(GROUPS["All crime"]).to_numpy() & located.recent
    harm_area = float(w[crimes & located.in_area].sum())
    harm_borough = float(w[crimes & located.in_borough].sum())
    harm_share = harm_area / harm_borough if harm_borough else np.nan
    if "All crime" not in located.groups:  # the sources record no crime: no harm to weigh (not a harm of 0)
        harm_area = harm_borough = np.nan
    if params.public:
        if np.isnan(pub.loc["Area", main]):
            harm_area, harm_share = np.nan, np.nan
        harm_area, harm_borough = _round_sig(harm_area), _round_sig(harm_borough)
        harm_share = round(harm_share, 2) if np.isfinite(harm_share) else np.nan
        share_crime = round(share_crime, 2) if np.isfinite(share_crime) else np.nan
    return Concentration(share_crime=share_crime, share_land=share_land, harm_area=harm_area, harm_share=harm_share)


def out_of_sample(data: StoreData, area: PackArea, params: EvidenceParams) -> dict[str, Any] | None:
    """The out-of-sample concentration of a hotspot area (defined on the very months it is measured on);
    ``None`` for any other kind of area."""
    if area.kind != "hotspot area":
        return None
    return _concentration_out_of_sample(
        data.street,
        area.geom,
        data.borough_geom,
        trend_months=data.trend_months,
        rate_months=data.rate_months,
        geo=data.geo,
        harm_index=params.harm_index,
        public=params.public,
        threshold=params.disclosure.threshold,
        study_area=data.study_area,
    )


def area_cells(hot: hotspot_run.HotspotResult, area: PackArea, params: EvidenceParams) -> AreaCells:
    """The hotspot cells whose centre lies in the area, the cells near it, and the tables of classes,
    patterns and the hottest cells (no counts in public mode)."""
    cents = shapely.centroid(hot.units.geometry.to_numpy())
    inside = shapely.contains_xy(area.geom, shapely.get_x(cents), shapely.get_y(cents))
    units = hot.units[inside]
    near = shapely.dwithin(hot.units.geometry.to_numpy(), area.geom, max(1500.0, np.sqrt(area.area_km2) * 1e3))
    top_cols = [schema.UNIT_ID, schema.CATEGORY, schema.PATTERN, schema.EXPLANATION]
    if not params.public:
        top_cols[1:1] = [schema.N, schema.PREDICTED_N]
    top = units.sort_values([schema.PREDICTED_N, schema.GI_Z, schema.UNIT_ID], ascending=[False, False, True]).head(8)[
        top_cols
    ]
    return AreaCells(
        units=units,
        context_units=hot.units[near & ~inside],
        classes=_present(units[schema.CATEGORY], "Hotspot class (Chainey)"),
        patterns=_present(units[schema.PATTERN], "Emerging hot spot pattern (ArcGIS)"),
        top=top,
    )


def pack_tables(
    published: PublishedCounts,
    cells: AreaCells,
    wards_lead: ward_summary.FewUnitsSummary | None,
    partner_tables: dict[str, pd.DataFrame],
) -> dict[str, pd.DataFrame]:
    """The pack's tables as published, in the order the report and the CSVs show them."""
    shown = published.counts.copy()
    for g in published.counts.columns:
        shown[f"{g}{RATE_SUFFIX}"] = published.rates[g].round(1)
    tables = {
        "counts": shown,
        "hotspot_classes": cells.classes,
        "hotspot_patterns": cells.patterns,
        "hotspot_cells": cells.top.reset_index(drop=True),
        "monthly": published.monthly,
    }
    if wards_lead is not None:
        tables["wards"] = wards_lead.table
    return tables | partner_tables


def area_points(data: StoreData, located: AreaCounts, params: EvidenceParams) -> gpd.GeoDataFrame | None:
    """The incident points of the area over the rate months, when the pack shows them."""
    if not params.points:
        return None
    pts = data.street[located.in_area & located.recent]
    return store.incidents_to_gdf(pts)[[schema.MONTH, schema.CRIME_TYPE, schema.LOCATION, "geometry"]]


def ward_lead(data: StoreData, params: EvidenceParams) -> ward_summary.FewUnitsSummary | None:
    """The wards' table of a restricted pack (:func:`_ward_lead`); ``None`` in public mode."""
    return None if params.public else _ward_lead(data.street, data.trend_months, data.geo, data.study_area, params)


def _num(v: float) -> float | None:
    return None if v is None or not np.isfinite(v) else float(v)


def _count(v: float) -> int | None:
    return None if v is None or not np.isfinite(v) else int(v)


def pack_figures(
    store_dir: str | Path,
    *,
    data: StoreData,
    hot: hotspot_run.HotspotResult,
    area: PackArea,
    located: AreaCounts,
    published: PublishedCounts,
    concentration: Concentration,
    oos: dict[str, Any] | None,
    visited: bool,
    cells: AreaCells,
    wards_lead: ward_summary.FewUnitsSummary | None,
    partner_figures: dict[str, Any],
    params: EvidenceParams,
) -> dict[str, Any]:
    """The pack's figures: what its manifest holds and a rebuild from the manifest's parameters gives again."""
    pub, rates, rows, groups = published.counts, published.rates, located.rows, located.groups
    trend_months, rate_months = data.trend_months, data.rate_months
    conc, prediction = concentration, hot.metadata["priority"]
    return {
        "area_name": area.name,
        "area_kind": area.kind,
        "area_km2": round(area.area_km2, 4),
        "population_estimate": round(area.pop_area) if np.isfinite(area.pop_area) else None,
        "months": [str(trend_months[0]), str(trend_months[-1])],
        "rate_months": [str(rate_months[0]), str(rate_months[-1])],
        "counts": {r: {g: _count(pub.loc[r, g]) for g in groups} for r in rows},
        "rates_per_1000_per_year": {r: {g: _num(round(rates.loc[r, g], 3)) for g in groups} for r in rows},
        "sources": list(params.sources),
        "not_available": located.not_available,
        "partner": partner_figures,
        "qualified_groups": {
            g.label: g.to_dict() for g in map(qualifiers.QUALIFIED_GROUPS.get, QUALIFIED_PACK_GROUPS) if g is not None
        },
        "concentration_of": located.main,
        "share_of_borough_crime": _num(round(conc.share_crime, 4)),
        "share_of_borough_land": round(conc.share_land, 4),
        "concentration_ratio": _num(round(conc.share_crime / conc.share_land, 3)),
        "concentration_in_sample": area.kind == "hotspot area",
        "concentration_out_of_sample": oos,
        "residents_denominator_caution": visited,
        "harm_index": params.harm_index,
        "harm": harm.harm_info(cast(harm.HarmIndex, params.harm_index)),  # its source, vintage and weights
        "harm_area": _num(round(conc.harm_area, 2)),
        "harm_share_of_borough": _num(round(conc.harm_share, 4)),
        "hotspot_cells": {str(k): int(v) for k, v in cells.classes["Cells"].items()},
        "n_cells": int(len(cells.units)),
        "hotspot_timeline": _area_timeline(area.name, area.kind, hot, latest=store.latest_police_uk_month(store_dir)),
        "wards": None if wards_lead is None else {**wards_lead.metadata, "lead": wards_lead.lead},
        "how_well_it_predicts": {k: prediction.get(k) for k in PREDICTION_KEYS},
    }


def _round_sig(x: float, sig: int = 2) -> float:
    if not np.isfinite(x) or x == 0:
        return float(x)
    return float(round(x, sig - 1 - int(np.floor(np.log10(abs(x))))))


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
    hot = hotspot_run.run_hotspots(
        early,
        cube_params=CubeParams(months=(str(earlier[0]), str(earlier[-1])), harm_index=cast(harm.HarmIndex, harm_index)),
        named_places=geo.named_places,
        study_area=study_area,
        wards=geo.run_wards,
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


def _present(values: pd.Series, name: str) -> pd.DataFrame:
    """Cells per class, only the classes present (most cells first), as a one-column frame."""
    n = values.value_counts()
    out = n[n > 0].rename("Cells").to_frame()
    out.index = out.index.astype(str)
    out.index.name = name
    return out


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
    run = hotspot_run.run_hotspots(
        street[street[schema.LOCATED].to_numpy(dtype=bool)],
        cube_params=CubeParams(
            unit="ward", months=(trend_months[0], trend_months[-1]), harm_index=cast(harm.HarmIndex, params.harm_index)
        ),
        units=wards,
        study_area=study_area,
    )
    return ward_summary.summarise_few_units(run)


def _area_timeline(name: str, kind: str, hot: hotspot_run.HotspotResult, *, latest: str | None) -> dict[str, Any]:
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
