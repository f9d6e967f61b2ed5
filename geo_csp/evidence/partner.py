"""Partner data in an evidence pack: partner sources' counts (through disclosure control in public mode)
and partner coverage of the area (restricted packs only)."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd
import shapely

from geo_csp import coverage, layers, schema, store
from geo_csp.disclosure import DisclosureParams, protect_table
from geo_csp.evidence.area import PackArea, StoreData
from geo_csp.evidence.differencing import exposed_by_earlier_packs
from geo_csp.evidence.groups import BOROUGH_ROWS, PARTNER_LABELS, PARTNER_QUALIFIED_GROUPS, qualified_masks
from geo_csp.evidence.params import EvidenceParams
from geo_csp.geography import StoreGeography
from geo_csp.sources import source_kind


@dataclass(frozen=True)
class PartnerPart:
    """The partner tables of a pack (``partner_counts``, ``partner_coverage``), their figures and audit, and
    the store's operations (marked on the trend chart of a restricted pack)."""

    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    figures: dict[str, Any] = field(default_factory=dict)
    audit: pd.DataFrame | None = None
    operations: pd.DataFrame | None = None


def pack_partner(store_dir: str | Path, data: StoreData, area: PackArea, params: EvidenceParams) -> PartnerPart:
    """The partner part of a pack when ``params.partner``: partner counts (protected in public mode) and,
    in a restricted pack, partner coverage of the area."""
    if not params.partner:
        return PartnerPart()
    tables: dict[str, pd.DataFrame] = {}
    partner_figures: dict[str, Any] = {}
    audit = None
    rate_months = data.rate_months
    partner = store.read_incidents(store_dir, sources=partner_sources(store_dir), located_only=True)
    if len(partner):  # a store without partner extracts has no count of them (not 0)
        p_counts, p_masks, p_missing = partner_counts(partner, area.geom, data.borough_geom, rate_months)
        if params.public:
            px, py = partner[schema.EASTING].to_numpy(), partner[schema.NORTHING].to_numpy()
            p_recent = partner[schema.MONTH].isin(rate_months).to_numpy()
            p_pub, audit = _protect_partner(
                store_dir,
                p_counts,
                geom=area.geom,
                x=px,
                y=py,
                recent=p_recent,
                masks=p_masks,
                rate_months=rate_months,
                rule=params.disclosure,
            )
        else:
            p_pub = p_counts.astype(float)
        tables["partner_counts"] = p_pub
        partner_figures = {
            "counts": {r: {g: None if pd.isna(v) else int(v) for g, v in p_pub.loc[r].items()} for r in p_pub.index},
            "not_available": p_missing,
        }
    lay = None if params.public else _store_layers(data.config, data.geo)  # never in a public pack
    if lay is not None:
        tables["partner_coverage"] = _coverage(lay, area.frame)
    return PartnerPart(
        tables=tables, figures=partner_figures, audit=audit, operations=None if lay is None else lay.operations
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
    exposed, diff = exposed_by_earlier_packs(store_dir, geom, x, y, recent, masks, pub, rate_months, rule)
    pub.loc[["Area", "Rest of borough"], exposed] = np.nan
    audit = pd.concat([prot.audit, diff], ignore_index=True) if len(diff) else prot.audit
    return pub, audit.assign(table="partner_counts")


def _store_layers(config: store.StoreConfig, geo: StoreGeography) -> layers.PartnerLayers | None:
    """The store's partner layers (:func:`geo_csp.layers.store_layers`, operations drawn on the store's own
    outline and places); ``None`` when the store has no layers folder."""
    folder = layers.layers_folder(config)
    if folder is None or not folder.resolve().is_dir():
        return None
    return layers.store_layers(config, folder=folder.resolve(), borough=geo.outline, places=geo.named_places)


def _coverage(lay: layers.PartnerLayers, area: gpd.GeoDataFrame) -> pd.DataFrame:
    """Partner coverage of the area by the store's partner layers."""
    cov = coverage.coverage(
        area[["name", "geometry"]], views=lay.views, walkabouts=lay.walkabouts, operations=lay.operations, hubs=lay.hubs
    )
    out = pd.DataFrame(cov.drop(columns="geometry")).set_index("name")
    out.attrs = {"coverage_params": dict(cov.attrs.get("coverage_params", {}))}
    return out
