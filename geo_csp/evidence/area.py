"""What an evidence pack reads from its store, and its area: the borough (and the rest of the force),
the area clipped to the borough, and the residents of both."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import boundaries, geography, schema, store
from geo_csp._errors import ParameterError
from geo_csp.evidence.params import EvidenceParams
from geo_csp.geography import AREA_CODE, AREA_NAME, StoreGeography, store_areas, store_geography, store_study_area
from geo_csp.settings import WORKING_CRS


@dataclass(frozen=True)
class StoreData:
    """What a pack reads from its store: the sources' incidents of the trend months and the borough."""

    config: store.StoreConfig
    geo: StoreGeography
    manifest: dict[str, Any]
    street: pd.DataFrame
    trend_months: np.ndarray
    rate_months: np.ndarray
    borough: gpd.GeoDataFrame
    others: gpd.GeoDataFrame | None
    study_area: Any

    @property
    def borough_geom(self) -> shapely.Geometry:
        """The borough's outline."""
        return self.borough.geometry.iloc[0]


@dataclass(frozen=True)
class PackArea:
    """The pack's area within the borough, with its size and residents."""

    frame: gpd.GeoDataFrame
    kind: str
    geom: shapely.Geometry
    area_km2: float
    borough_km2: float
    pop_units: gpd.GeoDataFrame | None
    pop_kind: str
    pop_area: float
    pop_borough: float

    @property
    def name(self) -> str:
        """The area's printed name."""
        return str(self.frame["name"].iloc[0])


def read_store_data(store_dir: str | Path, params: EvidenceParams) -> StoreData:
    """The store's config, geography, manifest and incidents of the sources over the trend months.

    Raises :class:`~geo_csp._errors.ParameterError` naming the sources the store holds when it holds none
    of ``params.sources``.
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
    # the same study area, places and wards as `geo-csp areas` on this store, so the HS-xxxx ids agree
    study_area, _ = store_study_area(store_dir)
    return StoreData(
        config=config,
        geo=geo,
        manifest=manifest,
        street=street,
        trend_months=trend_months,
        rate_months=rate_months,
        borough=borough,
        others=others,
        study_area=study_area,
    )


def pack_area(params: EvidenceParams, hot_areas: gpd.GeoDataFrame, data: StoreData) -> PackArea:
    """The pack's area within the borough (refused when it lies mostly outside), its size and residents."""
    geo, b_geom = data.geo, data.borough_geom
    area, kind = _resolve_area(params, hot_areas, geo)
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
    pop_units, pop_kind = _population_units(geo, data.trend_months)
    pop_area = _area_population(geom, pop_units)
    borough = data.borough
    pop_borough = float(borough[schema.POPULATION].iloc[0]) if schema.POPULATION in borough.columns else np.nan
    area_km2 = shapely.area(geom) / 1e6
    area = area.assign(
        kind=kind, area_km2=area_km2, population_estimate=round(pop_area) if np.isfinite(pop_area) else None
    )
    return PackArea(
        frame=area,
        kind=kind,
        geom=geom,
        area_km2=area_km2,
        borough_km2=shapely.area(b_geom) / 1e6,
        pop_units=pop_units,
        pop_kind=pop_kind,
        pop_area=pop_area,
        pop_borough=pop_borough,
    )


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
