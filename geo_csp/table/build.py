"""Building the partnership table: values, then display and footnotes, with the run's metadata."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import layers, qualifiers, schema, store
from geo_csp._errors import ParameterError
from geo_csp.disclosure import DisclosureParams
from geo_csp.geography import AREA_CODE, AREA_NAME, store_areas
from geo_csp.table.display import COMPARATOR, RANK, YEAR_AGO, display_frame
from geo_csp.table.footnotes import comparators_shown, footnotes, months_shown, operation_notes
from geo_csp.table.measures import DEFAULT_MEASURES, Measure, measures_from_sources
from geo_csp.table.values import INCIDENT_COLUMNS, TableParams, TablePeriod, table_values

__all__ = ["PartnershipTable", "partnership_table", "table_from_store"]


@dataclass(frozen=True)
class PartnershipTable:
    """A partnership table ready to write.

    Attributes
    ----------
    values
        Numbers as published: index measure key, columns the period labels (quarters, or months),
        ``Comparator``, ``Year earlier`` (the latest period's value a year before) and the rank among comparators (1 =
        lowest); NaN where not available or suppressed.
    display
        The table as printed: index measure label; period columns, ``Trend`` (quarters) or ``Month on
        month`` (months), ``Year on year``,
        ``Comparator`` and ``Rank among comparators``.
    measures
        The measures, in row order.
    footnotes
        Where every count comes from (store, sources, months, filters), the denominators, the rule.
    metadata
        Parameters and provenance (JSON-serialisable).
    audit
        Suppression log in public mode (a sensitive file; ``None`` otherwise).
    """

    values: pd.DataFrame
    display: pd.DataFrame
    measures: tuple[Measure, ...]
    footnotes: tuple[str, ...]
    metadata: dict[str, Any]
    audit: pd.DataFrame | None = None


def partnership_table(
    incidents: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    params: TableParams,
    measures: Sequence[Measure] | None = None,
    provenance: dict[str, Any] | None = None,
    operations: pd.DataFrame | None = None,
) -> PartnershipTable:
    """Build the partnership table for one area: quarterly, or monthly for the board (``params.period``).

    Parameters
    ----------
    incidents
        Incidents in the store schema (every source; not modified).
    areas
        Area polygons in EPSG:27700 with ``area_code``, ``area_name`` and ``population``: the focus
        area and, optionally, its comparators.
    params
        Area, comparators, quarters, public mode and the measures (the rows).
    measures
        Rows of the table instead of ``params.measures`` (the parameters written into the metadata
        then hold these).
    provenance
        Where the incidents came from (e.g. ``{"store": ..., "inputs": n}``) for the footnote.
    operations
        Operations (``name``, ``start_date``, ``end_date``; :func:`geo_csp.layers.read_operations`),
        noted under the quarters they ran in ("Q1 Apr-Jun 2025: Avro day of action (2025-05-14)").

    Returns
    -------
    PartnershipTable
    """
    if measures is not None:
        params = replace(params, measures=tuple(measures))
    tv = table_values(incidents, areas, params=params)
    prov = provenance or {}
    value_frame = pd.DataFrame(tv.values, index=[m.key for m in tv.measures], columns=tv.period_labels)
    value_frame[COMPARATOR] = tv.comparator
    value_frame[YEAR_AGO] = np.where(tv.year_ago_available, tv.year_ago, np.nan)
    value_frame[RANK] = np.where((tv.rank > 0) & ~np.isnan(tv.values[:, -1]), tv.rank, np.nan)  # hidden if suppressed
    metadata = {
        "area": tv.focus_name,
        "area_code": tv.focus,
        "period": tv.period,
        "periods": tv.period_labels,
        "quarters": tv.period_labels if tv.period == "quarter" else [],
        "operation_notes": operation_notes(tv, operations),
        "year_on_year_period": tv.year_ago_label,
        "year_on_year_quarter": tv.year_ago_label if tv.period == "quarter" else None,
        "n_periods": params.n_periods,
        "months": list(months_shown(tv)),
        "comparators": [tv.names[c] for c in comparators_shown(tv)],
        "public": params.public,
        "disclosure": params.disclosure.to_dict() if params.public else None,
        "measures": [asdict(m) for m in tv.measures],
        "measure_files": list(params.measure_files),
        "provenance": prov,
    }
    return PartnershipTable(
        values=value_frame,
        display=display_frame(tv),
        measures=tv.measures,
        footnotes=footnotes(tv, params, prov, operations),
        metadata=metadata,
        audit=tv.audit,
    )


def table_from_store(
    store_dir: str | Path,
    *,
    area: str | None = None,
    public: bool = False,
    measures: Sequence[Measure] = DEFAULT_MEASURES,
    n_quarters: int = 5,
    period: TablePeriod = "quarter",
    n_months: int = 13,
    disclosure: DisclosureParams | None = None,
    sources: Sequence[str] | None = None,
    measure_files: Sequence[str] = (),
) -> PartnershipTable:
    """The partnership table of a store's borough (see :func:`partnership_table`).

    Parameters
    ----------
    store_dir
        The store folder.
    area
        Focus area (default the store's borough).
    public
        Apply disclosure control.
    measures, n_quarters, period, n_months, disclosure
        As in :class:`Measure` and :class:`TableParams` (a monthly board table: ``period="month"``).
    sources
        Store sources that hold police.uk crime categories (e.g. ``"gmp_burglary_points"``, a partner
        file of police.uk points ingested through a mapping): the measures counted from police.uk street
        data are counted from these instead (:func:`measures_from_sources`), which their footnotes say.
    measure_files
        Where ``measures`` came from (:func:`~geo_csp.table.measures_from_files`), for the metadata.
    """
    if sources:
        measures = measures_from_sources(measures, sources)
    areas, borough, pop_source = store_areas(store_dir)
    qualified = any(m.qualified is not None for m in measures)  # flag groups read the qualifier columns
    columns = [*INCIDENT_COLUMNS, *(qualifiers.QUALIFIER_COLUMNS if qualified else ())]
    incidents = store.read_incidents(store_dir, columns=columns)
    held = set(incidents[schema.SOURCE].unique())
    unknown = [s for s in (sources or ()) if s not in held]
    if unknown:
        raise ParameterError(
            f"source(s) {unknown} are not in the store {store_dir}; it holds {sorted(held)} (check --source)"
        )
    manifest = store.read_manifest(store_dir)
    n_inputs = sum(1 for e in manifest.get("files", {}).values() if e.get("active", True))
    listed = store.read_config(store_dir).comparators  # None: every other area of `areas`
    params = TableParams(
        area=area or borough,
        n_quarters=n_quarters,
        period=period,
        n_months=n_months,
        public=public,
        comparators=None if listed is None else tuple(listed),
        disclosure=disclosure or DisclosureParams(),
        measures=tuple(measures),
        measure_files=tuple(measure_files),
    )
    focus = areas[
        (areas[AREA_CODE].astype(str) == str(params.area))
        | (areas[AREA_NAME].astype(str).str.lower() == str(params.area).lower())
    ]
    found = layers.store_layers(
        store.read_config(store_dir), borough=focus.iloc[:1] if len(focus) else None, errors="skip"
    )
    return partnership_table(
        incidents,
        areas,
        params=params,
        operations=found.operations,
        provenance={
            "store": f'incident store "{store.store_label(store_dir)}"',
            "inputs": n_inputs,
            "population": pop_source,
        },
    )
