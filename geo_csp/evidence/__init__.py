"""Safer Streets evidence packs: where crime concentrates in an area, with everything to reproduce it.

:func:`build_evidence` computes the pack for an area of the store's borough, given by name (a named
hotspot area from :func:`geo_csp.hotspot_run.run_hotspots`, a named place, a ward) or as a polygon file:

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

The package's modules: :mod:`~geo_csp.evidence.params` (:class:`EvidenceParams`, :class:`EvidencePack`),
:mod:`~geo_csp.evidence.pack` (:func:`build_evidence`, the steps in order), :mod:`~geo_csp.evidence.area`
(the store's data, the borough and the area), :mod:`~geo_csp.evidence.groups` (what is counted),
:mod:`~geo_csp.evidence.compute` (counts, rates, concentration, harm, cells, figures),
:mod:`~geo_csp.evidence.notes`, :mod:`~geo_csp.evidence.partner`, :mod:`~geo_csp.evidence.differencing`,
:mod:`~geo_csp.evidence.report` (HTML) and :mod:`~geo_csp.evidence.write` (:func:`write_evidence`).
"""

from __future__ import annotations

from geo_csp.evidence.differencing import PUBLIC_REGISTER_NAME
from geo_csp.evidence.groups import (
    BOROUGH_ROWS,
    CELL_COLUMNS,
    FULL_CATEGORY_SOURCES,
    GROUPS,
    PARTNER_LABELS,
    PARTNER_QUALIFIED_GROUPS,
    QUALIFIED_PACK_GROUPS,
    RATE_SUFFIX,
    ROWS,
    pack_groups,
    qualified_masks,
)
from geo_csp.evidence.notes import (
    VISITED_PLACE_WORDS,
    VISITED_RATE_RATIO,
    concentration_note,
    residents_denominator_note,
)
from geo_csp.evidence.pack import build_evidence
from geo_csp.evidence.params import EvidencePack, EvidenceParams, polygon_wkt
from geo_csp.evidence.partner import partner_counts, partner_sources
from geo_csp.evidence.write import write_evidence

__all__ = [
    "BOROUGH_ROWS",
    "CELL_COLUMNS",
    "FULL_CATEGORY_SOURCES",
    "GROUPS",
    "PARTNER_LABELS",
    "PARTNER_QUALIFIED_GROUPS",
    "PUBLIC_REGISTER_NAME",
    "QUALIFIED_PACK_GROUPS",
    "RATE_SUFFIX",
    "ROWS",
    "VISITED_PLACE_WORDS",
    "VISITED_RATE_RATIO",
    "EvidencePack",
    "EvidenceParams",
    "build_evidence",
    "concentration_note",
    "pack_groups",
    "partner_counts",
    "partner_sources",
    "polygon_wkt",
    "qualified_masks",
    "residents_denominator_note",
    "write_evidence",
]
