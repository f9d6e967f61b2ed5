"""A store's geography: the borough outline, wards, LSOAs, named places and population it is reported on.

Every output about a borough (the partnership table, evidence packs, the app's map, the CLI) is drawn on
the same geography, resolved once from the store's ``config.json`` (written by ``geo-csp configure``):
the config's own boundary files first, and Bury's shipped files (:mod:`geo_csp.boundaries`) only where
the store is Bury's. Another borough's data is never reported against Bury's outline or population.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import boundaries, schema, store
from geo_csp._errors import ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS

__all__ = [
    "AREA_CODE",
    "AREA_NAME",
    "SHIPPED_BOROUGH_SHARE_MIN",
    "StoreGeography",
    "StudyGeography",
    "UNIT_SHARE_MIN",
    "configured_units",
    "empty_wards",
    "units_in_outline",
    "store_areas",
    "store_geography",
    "store_study_area",
    "study_geography",
]

#: Columns of an areas frame (the borough outline, comparator boroughs): code, name and ``population``.
AREA_CODE = "area_code"
AREA_NAME = "area_name"


#: Share of a ward's (or LSOA's) own area that must lie inside the borough outline for it to belong to the
#: borough. A force-wide ward file meets a district outline in slivers of the neighbouring wards (often
#: under 1 m2 where the two boundary files were generalised differently); those wards are left out.
UNIT_SHARE_MIN = 0.5


def units_in_outline(units: gpd.GeoDataFrame, outline: Any, *, min_share: float = UNIT_SHARE_MIN) -> gpd.GeoDataFrame:
    """The units (wards or LSOAs) that belong to an outline: more than ``min_share`` of their area inside it.

    Parameters
    ----------
    units
        Polygons in EPSG:27700 with ``<kind>_code`` and ``<kind>_name`` columns.
    outline
        The borough outline (a shapely geometry or a GeoDataFrame/GeoSeries in EPSG:27700).
    min_share
        Share of a unit's own area that must lie inside (0 to 1, exclusive of 0).

    Returns
    -------
    geopandas.GeoDataFrame
        The units kept (input order and index), with ``attrs["membership"]``: the rule in words, and
        ``attrs["dropped"]``: a frame of the units left out (code, name, ``share_inside``, ``m2_inside``)
        among those touching the outline.
    """
    import shapely

    if not 0 < min_share < 1:
        raise ParameterError(f"min_share must be between 0 and 1 (exclusive), not {min_share!r}")
    geom = (
        outline
        if isinstance(outline, shapely.Geometry)
        else shapely.union_all(gpd.GeoSeries(getattr(outline, "geometry", outline)).to_crs(WORKING_CRS).to_numpy())
    )
    g = units.geometry.to_numpy()
    area = shapely.area(g)
    inside = shapely.area(shapely.intersection(g, geom))
    share = np.divide(inside, area, out=np.zeros_like(area), where=area > 0)
    keep = share > min_share
    code, name = (next((c for c in units.columns if c.endswith(suffix)), None) for suffix in ("_code", "_name"))
    touching = ~keep & (inside > 0)
    dropped = pd.DataFrame(
        {
            "code": units.loc[touching, code].astype(str).to_numpy() if code else [],
            "name": units.loc[touching, name].astype(str).to_numpy() if name else [],
            "share_inside": share[touching],
            "m2_inside": inside[touching],
        }
    )
    kept = units[keep].copy()
    kept.attrs = {
        "membership": (
            f"a unit belongs to the borough when more than {min_share:.0%} of its area lies inside the "
            f"borough outline: {int(keep.sum())} of {len(units)} kept, {len(dropped)} touching the "
            "outline left out"
        ),
        "dropped": dropped,
    }
    return kept


@dataclass(frozen=True)
class StoreGeography:
    """The geography a store's outputs are drawn on: its config's files, or Bury's shipped ones.

    Attributes
    ----------
    borough
        The borough's name (config ``borough``; the outline's name otherwise).
    outline
        The borough outline: one row with ``area_code``, ``area_name``, ``population`` (NaN when unknown),
        EPSG:27700.
    wards, lsoas
        ``ward_code, ward_name[, population]`` / ``lsoa_code, lsoa_name[, population]`` polygons, or ``None``.
    named_places
        ``name`` polygons used to name hotspot areas, or ``None``.
    population_source
        Where the outline's population comes from, in words (for footnotes).
    shipped
        Names of the shipped Bury files used (``"outline"``, ``"wards"``, ...): empty for a configured store.
    """

    borough: str
    outline: gpd.GeoDataFrame
    wards: gpd.GeoDataFrame | None
    lsoas: gpd.GeoDataFrame | None
    named_places: gpd.GeoDataFrame | None
    population_source: str
    shipped: tuple[str, ...] = ()

    @property
    def run_wards(self) -> gpd.GeoDataFrame | None:
        """The ``wards`` a hotspot run is given (:func:`geo_csp.hotspot_run.run_hotspots`).

        The configured wards; ``None`` for Bury's shipped wards (the analysis takes those of the data's era:
        2017 wards before 2022); and without wards no wards at all (:func:`empty_wards`), so another
        borough's hotspot areas are never named after Bury's wards.
        """
        if "wards" in self.shipped:
            return None
        return empty_wards() if self.wards is None else self.wards


def empty_wards() -> gpd.GeoDataFrame:
    """No wards (``ward_code``, ``ward_name``, no rows; EPSG:27700): hotspot areas get no ward names."""
    return gpd.GeoDataFrame({schema.WARD_CODE: [], schema.WARD_NAME: []}, geometry=[], crs=WORKING_CRS)


def configured_units(
    config: store.StoreConfig, kind: Literal["ward", "lsoa"], *, outline: Any = None
) -> gpd.GeoDataFrame | None:
    """The config's ward or LSOA file (``wards``/``lsoas``) read with its code/name columns, with population.

    Only the units that belong to the borough are kept (:func:`units_in_outline`): to ``outline`` when
    given (e.g. a ``--boundary`` of one run), else to the config's ``boundary`` file when it has one.
    """
    path = config.path(f"{kind}s")
    if path is None:
        return None
    units = boundaries.read_boundary(
        path,
        code_col=getattr(config, f"{kind}_code_col") or f"{kind}_code",
        name_col=getattr(config, f"{kind}_name_col") or f"{kind}_name",
        kind=kind,
    )
    outline_path = config.path("boundary")
    if outline is None and outline_path is not None:
        outline = boundaries.load_borough(outline_path, district=config.boundary_district)
    if outline is not None:
        units = units_in_outline(units, outline)
    pop_path = config.path("population")
    if pop_path is not None and (config.population_unit or "ward") == kind:
        pop = boundaries.read_population(
            pop_path,
            code_col=config.population_code_col or "code",
            population_col=config.population_col or schema.POPULATION,
        )
        pop = pop[~pop.index.duplicated()]
        attrs = dict(units.attrs)
        units = units.assign(**{schema.POPULATION: units[f"{kind}_code"].map(pop).to_numpy(dtype="float64")})
        units.attrs = attrs
    return units


def _outline_row(geom: Any, *, code: str, name: str, population: float) -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {AREA_CODE: [code], AREA_NAME: [name], schema.POPULATION: [population]}, geometry=[geom], crs=WORKING_CRS
    )


def _units_population(units: gpd.GeoDataFrame | None) -> float:
    """Sum of the units' residents; NaN unless every unit has a population."""
    if units is None or schema.POPULATION not in units.columns or not len(units):
        return float("nan")
    pop = units[schema.POPULATION].to_numpy(dtype="float64")
    return float(pop.sum()) if np.isfinite(pop).all() else float("nan")


def _configured_outline(
    config: store.StoreConfig, wards: gpd.GeoDataFrame | None, lsoas: gpd.GeoDataFrame | None
) -> tuple[gpd.GeoDataFrame | None, str]:
    """The outline row of the configured boundary (else of the wards, else LSOAs) and its population's source."""
    import shapely

    name = config.borough
    outline_path = config.path("boundary")
    outline = None
    pop_source = "unknown (no population configured)"
    units = wards if wards is not None else lsoas
    if outline_path is not None:
        frame = boundaries.load_borough(outline_path, district=config.boundary_district)
        pop = (
            float(pd.to_numeric(frame[schema.POPULATION], errors="coerce").sum(min_count=len(frame)))
            if schema.POPULATION in frame.columns
            else float("nan")
        )
        if np.isfinite(pop):
            pop_source = f"population column of {outline_path.name}"
        outline = _outline_row(
            shapely.union_all(frame.geometry.to_numpy()),
            code=str(name or outline_path.stem),
            name=str(name or outline_path.stem),
            population=pop,
        )
    elif units is not None:
        outline = _outline_row(
            shapely.union_all(units.geometry.to_numpy()),
            code=str(name or "borough"),
            name=str(name or "borough"),
            population=float("nan"),
        )
    return outline, pop_source


def _outline_with_units_population(
    outline: gpd.GeoDataFrame,
    pop_source: str,
    config: store.StoreConfig,
    wards: gpd.GeoDataFrame | None,
    lsoas: gpd.GeoDataFrame | None,
) -> tuple[gpd.GeoDataFrame, str]:
    """The outline with the wards' (else LSOAs') summed population when every one has one, and its source."""
    for units, kind in ((wards, "wards"), (lsoas, "LSOAs")):
        pop = _units_population(units)
        if np.isfinite(pop):
            return outline.assign(**{schema.POPULATION: [pop]}), (
                f"sum of the {kind}' residents in {Path(str(config.population)).name}"
            )
    return outline, pop_source


def store_geography(store_dir: str | Path) -> StoreGeography:
    """The store's borough outline, wards, LSOAs, named places and population (see :class:`StoreGeography`).

    Files named in the store's ``config.json`` (written by ``geo-csp configure``) come first: ``boundary``
    (outline), ``wards`` and ``lsoas`` (with ``ward_code_col``/``ward_name_col``/``lsoa_code_col``/
    ``lsoa_name_col`` when not ``ward_code``/``ward_name``/...), ``population`` (a CSV with
    ``population_code_col``, ``population_col``, for the ``population_unit`` ``"ward"`` or ``"lsoa"``) and
    ``named_places``. Without a ``boundary`` the outline is the union of the wards (else LSOAs); its
    population is the outline file's ``population`` column, else the sum over the wards (else LSOAs) when
    every one has a population, else unknown (NaN).

    Bury's shipped files fill what the config leaves out only when the config names Bury, or names no
    borough and the store's data lie in Bury; otherwise a store with no outline at all is refused.

    Raises
    ------
    ParameterError
        Another borough's store with no boundary of its own.
    """
    config = store.read_config(store_dir)
    name = config.borough
    wards = configured_units(config, "ward")
    lsoas = configured_units(config, "lsoa")
    places_path = config.path("named_places")
    places = boundaries.load_named_places(places_path) if places_path is not None else None
    outline, pop_source = _configured_outline(config, wards, lsoas)
    if outline is not None and not np.isfinite(outline[schema.POPULATION].iloc[0]):
        outline, pop_source = _outline_with_units_population(outline, pop_source, config, wards, lsoas)
    shipped: list[str] = []
    use_shipped = config.is_bury  # Bury's shipped files fill what the config leaves out
    if outline is None:
        if not use_shipped:  # ... or those of a store naming no borough whose data lie in Bury; else refused
            _check_data_in_shipped_borough(config)
            use_shipped = True
        bury = boundaries.load_borough()
        outline = bury.rename(columns={"borough_code": AREA_CODE, "borough_name": AREA_NAME})
        pop_source = "ONS population of the shipped borough outline"
        shipped.append("outline")
    if use_shipped:
        if wards is None:
            wards = boundaries.load_wards()
            shipped.append("wards")
        if lsoas is None:
            shipped.append("lsoas")  # Bury's LSOAs are loaded for the data's era (boundaries.load_lsoas(era=...))
        if places is None:
            places = boundaries.load_named_places()
            shipped.append("named_places")
    return StoreGeography(
        borough=str(name or outline[AREA_NAME].iloc[0]),
        outline=outline,
        wards=wards,
        lsoas=lsoas,
        named_places=places,
        population_source=pop_source,
        shipped=tuple(shipped),
    )


@dataclass(frozen=True)
class StudyGeography:
    """The geography every analysis of a store runs on, the same in every shell (CLI, app, evidence packs).

    Attributes
    ----------
    study_area
        The borough outline (one row, EPSG:27700, :attr:`StoreGeography.outline`), or ``None``: the extent
        of the data (:func:`geo_csp.cube.data_extent`).
    source
        Where the study area comes from, in words (written into every run's metadata).
    geography
        The store's :class:`StoreGeography`, or ``None`` with the data extent.
    warning
        Why the study area is the data's extent and how to give a boundary; ``None`` otherwise.
    """

    study_area: gpd.GeoDataFrame | None
    source: str
    geography: StoreGeography | None = None
    warning: str | None = None

    @property
    def shipped(self) -> tuple[str, ...]:
        """The shipped Bury files used (:attr:`StoreGeography.shipped`)."""
        return () if self.geography is None else self.geography.shipped

    @property
    def wards(self) -> gpd.GeoDataFrame | None:
        """The store's ward polygons (configured or shipped) to show and to choose from, or ``None``."""
        return None if self.geography is None else self.geography.wards

    @property
    def named_places(self) -> gpd.GeoDataFrame | None:
        """Named places that name hotspot areas, or ``None``."""
        return None if self.geography is None else self.geography.named_places

    @property
    def run_wards(self) -> gpd.GeoDataFrame | None:
        """The ``wards`` a hotspot run is given (:attr:`StoreGeography.run_wards`; none with the data's extent)."""
        return empty_wards() if self.geography is None else self.geography.run_wards

    def run_inputs(self, unit: str) -> dict[str, gpd.GeoDataFrame | None]:
        """The ``study_area``, ``units`` (:meth:`units`), ``wards`` (:attr:`run_wards`) and ``named_places``
        every shell gives :func:`geo_csp.hotspot_run.run_hotspots` for a run of ``unit`` on this geography."""
        return {
            "study_area": self.study_area,
            "units": self.units(unit),
            "wards": self.run_wards,
            "named_places": self.named_places,
        }

    def units(self, unit: str) -> gpd.GeoDataFrame | None:
        """The configured ward or LSOA polygons of ``unit``; ``None`` for H3 cells and Bury's shipped ones (the
        cube takes those of the data's era)."""
        if self.geography is None or unit not in ("ward", "lsoa") or f"{unit}s" in self.shipped:
            return None
        return self.geography.wards if unit == "ward" else self.geography.lsoas


def study_geography(store_dir: str | Path) -> StudyGeography:
    """The study area, wards and places of every analysis of a store, by one rule for every shell.

    - a store with a configured geography (``boundary``, ``wards`` or ``lsoas`` in ``config.json``): that
      boundary dissolved to one row (else the union of the configured wards or LSOAs), with the configured
      wards, LSOAs and places (:func:`store_geography`);
    - a store configured as Bury, or configuring no geography and naming no borough while its data lie in
      Bury's shipped outline: Bury's shipped outline, wards and named places;
    - otherwise the extent of the data, with a warning saying why and how to configure a boundary.

    ``geo-csp hotspots``/``areas``, the app's map and an evidence pack on the same store therefore run on
    the same study area and find the same hotspot areas with the same ids.
    """
    config = store.read_config(store_dir)
    configured = bool(config.boundary or config.wards or config.lsoas)
    try:
        geo = store_geography(store_dir)
    except ParameterError as exc:
        if configured:
            raise
        return StudyGeography(
            None, "data extent", None, f"the study area is the extent of the data, as no boundary fits: {exc}"
        )
    outline_path = config.path("boundary")
    if outline_path is not None:
        district = config.boundary_district
        source = f"{outline_path} ({district})" if district else str(outline_path)
    elif configured:
        source = f"outline of the configured {'wards' if config.wards else 'LSOAs'}"
    elif config.is_bury:
        source = "shipped Bury boundary (store config)"
    else:
        source = "shipped Bury boundary (the store's data lie in Bury)"
    return StudyGeography(geo.outline, source, geo)


def store_study_area(store_dir: str | Path) -> tuple[gpd.GeoDataFrame | None, str]:
    """The study area of every analysis of a store and its origin (:func:`study_geography`)."""
    study = study_geography(store_dir)
    return study.study_area, study.source


def store_areas(store_dir: str | Path) -> tuple[gpd.GeoDataFrame, str, str]:
    """The areas a store's table is about: ``(areas, focus area name, population source)``.

    A store whose ``config.json`` has ``"areas"`` (a boundary file, relative to the store or absolute, with
    ``area_code``, ``area_name`` and ``population``, e.g. every borough of a force for comparators) and
    ``"borough"`` uses them; when the borough is not a row of it, its outline (:func:`store_geography`)
    is added. Otherwise the areas are the borough outline alone: the config's own (``boundary``, ``wards``,
    ``lsoas``) or, for a Bury store, the shipped Bury outline (ONS mid-year population).
    The config's ``"comparators"`` (names or codes of rows of ``areas``; ``[]`` for none) picks the
    comparator areas of :func:`table_from_store`; without it every other area is a comparator.
    """
    config = store.read_config(store_dir)
    path = config.path("areas")
    if path:
        full = path.resolve()
        areas = gpd.read_file(full)
        missing = [c for c in (AREA_CODE, AREA_NAME, schema.POPULATION) if c not in areas.columns]
        if missing:
            raise SchemaError(f"areas file {full} lacks column(s) {missing}; add them (population for rates)")
        areas = areas.to_crs(WORKING_CRS)
        focus = str(config.borough or areas[AREA_NAME].iloc[0])
        key = focus.lower()
        listed = (areas[AREA_NAME].astype(str).str.lower() == key) | (areas[AREA_CODE].astype(str).str.lower() == key)
        if not listed.any():
            geo = store_geography(store_dir)
            areas = pd.concat(
                [
                    geo.outline[[AREA_CODE, AREA_NAME, schema.POPULATION, "geometry"]],
                    areas[[AREA_CODE, AREA_NAME, schema.POPULATION, "geometry"]],
                ],
                ignore_index=True,
            )
            return gpd.GeoDataFrame(areas, geometry="geometry", crs=WORKING_CRS), focus, geo.population_source
        return areas, focus, f"population column of {full.name}"
    geo = store_geography(store_dir)
    return geo.outline, geo.borough, geo.population_source


#: Share of a store's located incidents that must lie in the shipped (Bury) outline before a store whose
#: config names no borough is taken to be Bury's.
SHIPPED_BOROUGH_SHARE_MIN = 0.5


def _check_data_in_shipped_borough(config: store.StoreConfig) -> None:
    """Refuse to report another borough's data against the shipped Bury outline and population.

    Raises
    ------
    ParameterError
        When the config names another borough with no boundary of its own, or names none and fewer than
        :data:`SHIPPED_BOROUGH_SHARE_MIN` of the store's located incidents lie inside the outline.
    """
    store_dir = config.store_dir
    fix = (
        f"run `geo-csp configure --store {store_dir} --borough NAME --wards FILE [--population CSV]` "
        f'(or add "borough" and "boundary", "wards" or "areas" (a boundary file with {AREA_CODE}, '
        f"{AREA_NAME} and {schema.POPULATION} columns) to {Path(store_dir) / store.CONFIG_NAME})"
    )
    name = config.borough
    if name and not config.is_bury:
        raise ParameterError(
            f'the store\'s config names the borough {name!r} but no "boundary", "wards" or '
            f'"areas" file, and the only boundary shipped with geo-csp is Bury\'s; {fix}'
        )
    if name:
        return
    xy = store.read_incidents(store_dir, located_only=True, columns=[schema.EASTING, schema.NORTHING])
    if xy.empty:
        return
    if not boundaries.mostly_in_shipped_borough(
        xy[schema.EASTING].to_numpy(), xy[schema.NORTHING].to_numpy(), min_share=SHIPPED_BOROUGH_SHARE_MIN
    ):
        raise ParameterError(
            f"the store {store_dir} names no borough in its config and fewer than {SHIPPED_BOROUGH_SHARE_MIN:.0%} of "
            f"its located incidents lie in Bury, the borough whose boundary and population ship with geo-csp; {fix} "
            '(or "borough": "Bury" for a Bury store holding its force\'s data)'
        )


def resolve_place(
    name: str, geo: StoreGeography, *, hot_areas: gpd.GeoDataFrame | None = None
) -> tuple[gpd.GeoDataFrame, str]:
    """The polygon a user names and what kind of place it is.

    ``name`` is, in this order: a polygon file (``.geojson``/``.gpkg``/``.json``/``.shp``), an H3 cell id,
    a hotspot area of ``hot_areas`` (by name or id), a named place of the store, or a ward (by name or
    code); matching ignores case. Returns a one-row GeoDataFrame (``name``, EPSG:27700) and the kind
    ("supplied polygon", "H3 cell", "hotspot area", "named place", "ward").

    Raises
    ------
    ParameterError
        Naming the hotspot areas there are when nothing matches.
    """
    import h3
    import shapely

    from geo_csp import grid

    key = str(name).strip().lower()
    path = Path(str(name))
    if path.suffix.lower() in {".geojson", ".gpkg", ".json", ".shp"}:
        if not path.exists():
            raise ParameterError(f"area polygon file {path} does not exist")
        frame = gpd.read_file(path)
        if frame.crs is None:
            raise ParameterError(f"area polygon file {path} has no CRS; save it with one (e.g. EPSG:27700)")
        geom = shapely.union_all(frame.to_crs(WORKING_CRS).geometry.to_numpy())
        return gpd.GeoDataFrame({"name": [path.stem]}, geometry=[geom], crs=WORKING_CRS), "supplied polygon"
    if h3.is_valid_cell(key):
        cell = grid.cells_to_polygons(np.array([key], dtype=object))
        return gpd.GeoDataFrame({"name": [key]}, geometry=cell.geometry.to_numpy(), crs=WORKING_CRS), "H3 cell"
    empty = gpd.GeoDataFrame({schema.AREA_NAME: [], schema.AREA_ID: []}, geometry=[], crs=WORKING_CRS)
    hot_areas = empty if hot_areas is None else hot_areas
    for frame, kind, cols in (
        (hot_areas, "hotspot area", [schema.AREA_NAME, schema.AREA_ID]),
        (geo.named_places, "named place", ["name"]),
        (geo.wards, "ward", [schema.WARD_NAME, schema.WARD_CODE]),
    ):
        if frame is None:
            continue
        for col in cols:
            hit = frame[frame[col].astype(str).str.lower() == key] if col in frame.columns else frame.iloc[:0]
            if len(hit):
                label = str(hit.iloc[0][cols[0]])
                return gpd.GeoDataFrame({"name": [label]}, geometry=[hit.geometry.iloc[0]], crs=WORKING_CRS), kind
    options = sorted(hot_areas[schema.AREA_NAME].astype(str)) if len(hot_areas) else []
    raise ParameterError(
        f"area {name!r} is not a hotspot area ({', '.join(options) or 'none found'}), a named place or a ward; "
        "or pass a polygon file (.geojson/.gpkg) or an H3 cell id"
    )
