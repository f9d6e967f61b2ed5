"""Building an evidence pack: the steps from the store to the published tables, figures and notes."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from geo_csp import periods, store, trends
from geo_csp.evidence import compute
from geo_csp.evidence.area import pack_area, read_store_data
from geo_csp.evidence.notes import pack_notes, residents_denominator_note
from geo_csp.evidence.params import EvidencePack, EvidenceParams
from geo_csp.evidence.partner import pack_partner


def build_evidence(store_dir: str | Path, params: EvidenceParams) -> EvidencePack:
    """Compute a Safer Streets evidence pack for one area (see :mod:`geo_csp.evidence`).

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
    data = read_store_data(store_dir, params)
    hot = compute.pack_hotspots(store_dir, data, params)
    area = pack_area(params, hot.areas, data)
    located = compute.count_area(data, area, params)
    published = compute.publish_counts(store_dir, data, area, located, params)
    concentration = compute.concentration_and_harm(data, area, located, published, params)
    oos = compute.out_of_sample(data, area, params)
    main, rates = located.main, published.rates
    denominator_note, visited = residents_denominator_note(
        area.name, float(rates.loc["Area", main]), float(rates.loc["Borough", main])
    )
    cells = compute.area_cells(hot, area, params)
    wards_lead = compute.ward_lead(data, params)
    partner = pack_partner(store_dir, data, area, params)
    tables = compute.pack_tables(published, cells, wards_lead, partner.tables)
    points = compute.area_points(data, located, params)
    figures = compute.pack_figures(
        store_dir,
        data=data,
        hot=hot,
        area=area,
        located=located,
        published=published,
        concentration=concentration,
        oos=oos,
        visited=visited,
        cells=cells,
        wards_lead=wards_lead,
        partner_figures=partner.figures,
        params=params,
    )
    marks = trends.operation_marks(partner.operations, periods.months_to_index(published.monthly.index.astype(str)))
    figures["operations_marked"] = marks.drop(columns=["first_index", "last_index"]).to_dict(orient="records")
    counted = {*located.groups, *(tables["partner_counts"].columns if "partner_counts" in tables else ())}
    notes = pack_notes(
        data=data,
        hot=hot,
        area=area,
        located=located,
        units=cells.units,
        oos=oos,
        denominator_note=denominator_note,
        counted_labels=counted,
        params=params,
    )
    audit_parts = [*published.audit_parts, *([partner.audit] if partner.audit is not None else [])]
    return EvidencePack(
        params=params,
        store_dir=str(store_dir),
        area=area.frame,
        borough=data.borough,
        tables=tables,
        figures=figures,
        units=cells.units,
        points=points,
        monthly=published.monthly,
        inputs=store.input_files(data.manifest),
        synthetic=data.config.synthetic,
        notes=notes,
        audit=pd.concat(audit_parts, ignore_index=True) if audit_parts else None,
        context_units=cells.context_units,
        force_note=located.force_note,
        wards=data.geo.wards,
        operations=partner.operations,
    )
