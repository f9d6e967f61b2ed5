"""The evidence pack's report: one self-contained HTML page (images inlined), printed to PDF by
:func:`geo_csp.evidence.write_evidence`."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

import geo_csp
from geo_csp import figures, schema, store, ward_summary
from geo_csp._escape import html_text
from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.evidence.groups import CELL_COLUMNS, RATE_SUFFIX
from geo_csp.evidence.params import EvidencePack
from geo_csp.table import frame_html

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
    cov = pack.tables.get("partner_coverage")
    if cov is not None and len(cov):
        rows.update(_coverage_rows(cov))
    frame = pd.DataFrame(
        {pack.figures["area_name"]: list(rows.values())}, index=pd.Index(list(rows), name="Partner data")
    )
    return frame_html(frame, text_columns=[pack.figures["area_name"]])


#: Coverage columns of each partner layer, and the layer's printed name when it is not supplied.
_COVERAGE_LAYERS = {
    "cctv_share": "CCTV",
    "walkabout_n": "walkabouts",
    "operation_covered": "operations",
    "hub_distance_m": "community hubs",
}


def _coverage_rows(cov: pd.DataFrame) -> dict[str, str]:
    """The area's coverage by each supplied partner layer in words, the layers not supplied and the gaps."""
    c = cov.iloc[0]
    cp = cov.attrs.get("coverage_params", {})
    weeks, as_of = cp.get("weeks", 8), cp.get("as_of", "the latest date")
    op_weeks = cp.get("operation_weeks") or weeks
    rows: dict[str, str] = {}
    gaps: list[str] = []
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
    rows.update(_hub_row(c))
    missing = [v for k, v in _COVERAGE_LAYERS.items() if k in cov.columns and pd.isna(c.get(k))]
    if missing:
        rows["Partner layers not supplied"] = ", ".join(missing)
    rows["Gaps in coverage"] = "; ".join(gaps) if gaps else "none found"
    return rows


def _hub_row(c: pd.Series) -> dict[str, str]:
    """The nearest community hub and its distance from the area, when the hubs layer is supplied."""
    if c.get("nearest_hub") is None or not pd.notna(c.get("hub_distance_m")):
        return {}
    dist = float(c["hub_distance_m"])
    where = "in the area" if dist == 0 else f"{dist:,.0f} m from the area"
    return {"Nearest community hub": f"{c['nearest_hub']}, {where}"}


def pack_maps(pack: EvidencePack) -> dict[str, Any]:
    """The pack's figures for the report: the area's hotspot map, the area in the borough, its trend."""
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
    trend = figures.trend_chart(
        pack.monthly, title=f"{name}: crimes per month", synthetic=pack.synthetic, operations=pack.operations
    )
    return {"map_detail": detail, "map_overview": overview, "trend": trend}


def _operations_html(marked: list[dict[str, Any]]) -> str:
    """The sentence under the trend chart naming the operations marked on it."""
    if not marked:
        return ""
    said = "; ".join(
        f"{m['name']} ({m['start_date']}" + (f" to {m['end_date']})" if m["end_date"] != m["start_date"] else ")")
        for m in marked
    )
    return (
        f'<p class="notes">Dashed lines: the {len(marked)} operation(s) of the store\'s operations layer in these '
        "months, at the month each starts in (police.uk months have no day: an operation starting mid-month marks "
        "its month; one started earlier marks the first month shown), shaded while it runs: "
        f"{html_text(said)}.</p>"
    )


def _wards_html(pack: EvidencePack) -> str:
    lead = pack.figures.get("wards")
    if not lead:
        return ""
    shown = ward_summary.FewUnitsSummary(table=pack.tables["wards"], lead=lead["lead"], metadata=lead).for_people()
    esc = html_text
    return (
        "<h2>The borough's wards: counts, rates and change</h2>"
        + "".join(f"<p>{esc(s)}</p>" for s in lead["lead"])
        + f'<p class="rule">{esc(lead["rule"])}; change compares {esc(str(lead["periods_compared"]))}.</p>'
        + frame_html(shown, index=False, text_columns=["Name", "Gi* (with its neighbours)", "Why Gi* says so"])
    )


def report_html(pack: EvidencePack, images: dict[str, str]) -> str:
    """The report page of a pack, ``images`` (from :func:`pack_maps`) given as data URIs."""
    f = pack.figures
    esc = html_text
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
    parts.append(_operations_html(f.get("operations_marked") or []))
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
