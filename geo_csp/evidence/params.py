"""The parameters of an evidence pack (written into its manifest) and the pack itself."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, fields
from typing import Any

import geopandas as gpd
import pandas as pd
import shapely

from geo_csp import harm, schema
from geo_csp._errors import ParameterError
from geo_csp.disclosure import DisclosureParams, refuse_in_public
from geo_csp.settings import WORKING_CRS


def polygon_wkt(polygon: gpd.GeoDataFrame | gpd.GeoSeries) -> str:
    """The outline of one or more polygons as WKT in EPSG:27700, for :attr:`EvidenceParams.area_polygon_wkt`.

    ``EvidenceParams(area="3: Bury town centre", area_polygon_wkt=polygon_wkt(frame), public=True)`` is a
    pack on a mapped hotspot area, its outline kept in the manifest.

    Parameters
    ----------
    polygon
        One or more polygons in any CRS (reprojected to EPSG:27700 and merged).
    """
    if polygon.crs is None:
        raise ParameterError("the area polygon has no CRS; set one (e.g. .set_crs('EPSG:27700'))")
    geom = shapely.union_all(polygon.to_crs(WORKING_CRS).geometry.to_numpy())
    return str(shapely.to_wkt(geom, rounding_precision=3))


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
        manifest, so the pack can be rebuilt from the manifest alone; :func:`polygon_wkt` makes it from a
        GeoDataFrame in any CRS.
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
                    "in EPSG:27700, e.g. from geo_csp.evidence.polygon_wkt(frame)"
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
    #: The store's operations (restricted packs with partner data only), marked on the trend chart.
    operations: pd.DataFrame | None = None
