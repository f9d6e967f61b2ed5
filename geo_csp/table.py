"""The quarterly partnership table: the "Tackling crime and ASB" table of a CSP scrutiny report.

One row per measure, one column per financial quarter for the last five complete quarters
("Q1 Apr-Jun 2022"), a trend arrow for the latest quarter against the one before, and a comparator
column: the average of the comparator areas (e.g. the other Greater Manchester boroughs) in the latest
quarter, when their data is in the store, and "not available" otherwise (never a made-up number).

Incidents are counted in an area when they are *located* inside its polygon (EPSG:27700);
unlocated incidents cannot be placed in a borough and are left out, which the footnote says. A
quarter's value is "not available" when the measure's sources have no row at all in that quarter
(a partner extract that does not reach back that far), so a true zero and a gap are told apart.

Measures are small frozen dataclasses (:class:`Measure`); :data:`DEFAULT_MEASURES` follows the
scrutiny report. In public mode counts go through :mod:`geo_csp.disclosure` (10-5 rule) and rates
are computed from the rounded counts.
"""

from __future__ import annotations

import html
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import boundaries, periods, schema, store
from geo_csp._errors import ParameterError, SchemaError
from geo_csp._escape import spreadsheet_safe, spreadsheet_text
from geo_csp.disclosure import SUPPRESSED_MARK, DisclosureParams, protect_table, round_counts
from geo_csp.geography import AREA_CODE, AREA_NAME, store_areas

__all__ = [
    "AREA_CODE",
    "AREA_NAME",
    "DEFAULT_MEASURES",
    "NOT_AVAILABLE",
    "Measure",
    "PartnershipTable",
    "TableParams",
    "partnership_table",
    "frame_html",
    "measures_from_sources",
    "write_table_csv",
    "write_table_html",
    "write_table_xlsx",
]

NOT_AVAILABLE = "not available"
ARROWS = {1: "↑", -1: "↓", 0: "→"}
TREND = "Trend"
COMPARATOR = "Comparator"

_CRIMES = tuple(t for t in schema.CRIME_TYPES if t != "Anti-social behaviour")


@dataclass(frozen=True)
class Measure:
    """One row of the partnership table.

    Parameters
    ----------
    key
        Stable identifier (``"burglary"``).
    label
        Row label as printed.
    sources
        Store sources counted (``"police_uk_street"``, a partner source name, ...).
    crime_types
        ``crime_type`` values counted; ``None`` for every type of the sources.
    object_of_search
        Stop-and-search ``object_of_search`` values counted; ``None`` for no filter.
    per_1000
        Report a rate per 1,000 residents instead of a count.
    note
        What the measure counts, for the footnote (e.g. what police.uk cannot separate).
    """

    key: str
    label: str
    sources: tuple[str, ...]
    crime_types: tuple[str, ...] | None = None
    object_of_search: tuple[str, ...] | None = None
    per_1000: bool = False
    note: str = ""

    def __post_init__(self) -> None:
        if not self.key or not self.label:
            raise ParameterError("a Measure needs a non-empty key and label")
        for name in ("sources", "crime_types", "object_of_search"):
            value = getattr(self, name)
            if value is not None and (isinstance(value, str) or not len(value)):
                raise ParameterError(f"Measure {self.key!r}: {name} must be a non-empty tuple of names, not {value!r}")

    def describe(self) -> str:
        """Sources and filters in words."""
        parts = [f"sources {', '.join(self.sources)}"]
        if self.crime_types is not None:
            parts.append("crime types " + ", ".join(f'"{t}"' for t in self.crime_types))
        if self.object_of_search is not None:
            parts.append("object of search " + ", ".join(f'"{t}"' for t in self.object_of_search))
        text = f"{self.label}: " + "; ".join(parts) + (" (per 1,000 residents)" if self.per_1000 else "")
        return text + (f". {self.note}" if self.note else "")


DEFAULT_MEASURES: tuple[Measure, ...] = (
    Measure(
        "all_crime_rate",
        "All crimes per 1,000 residents",
        (schema.SOURCE_STREET,),
        _CRIMES,
        per_1000=True,
        note="police.uk street-level crimes, anti-social behaviour excluded",
    ),
    Measure(
        "violence_rate",
        "Violent crime per 1,000 residents",
        (schema.SOURCE_STREET,),
        ("Violence and sexual offences",),
        per_1000=True,
        note='police.uk "Violence and sexual offences"',
    ),
    Measure(
        "burglary",
        "Burglaries (residential and business)",
        (schema.SOURCE_STREET,),
        ("Burglary",),
        note='police.uk "Burglary": police.uk does not separate residential from business burglary, '
        "so this counts both",
    ),
    Measure("asb_police", "ASB incidents (police)", (schema.SOURCE_STREET,), ("Anti-social behaviour",)),
    Measure(
        "asb_council",
        "ASB reports to the council",
        ("council_asb",),
        note="the council's ASB case extract (partner data)",
    ),
    Measure("drugs", "Drug offences", (schema.SOURCE_STREET,), ("Drugs",)),
    Measure(
        "drug_searches",
        "Drug-related stop searches",
        (schema.SOURCE_STOP_SEARCH,),
        (schema.STOP_AND_SEARCH_TYPE,),
        object_of_search=("Controlled drugs",),
    ),
    Measure("weapons", "Possession of weapons offences", (schema.SOURCE_STREET,), ("Possession of weapons",)),
)


@dataclass(frozen=True)
class TableParams:
    """Run parameters of a partnership table (written into its metadata).

    Parameters
    ----------
    area
        Name or code of the focus area (a row of ``areas``).
    comparators
        Names or codes of comparator areas; ``None`` for every other area of ``areas``.
    n_quarters
        Number of quarters shown (the last complete ones).
    end_quarter
        Last quarter shown as a label ("Q4 Jan-Mar 2019") or ``None`` for the latest complete one.
    public
        Apply disclosure control.
    disclosure
        The disclosure rule used in public mode.
    """

    area: str
    comparators: tuple[str, ...] | None = None
    n_quarters: int = 5
    end_quarter: str | None = None
    public: bool = False
    disclosure: DisclosureParams = field(default_factory=DisclosureParams)

    def __post_init__(self) -> None:
        if isinstance(self.n_quarters, bool) or not isinstance(self.n_quarters, int) or not 1 <= self.n_quarters <= 20:
            raise ParameterError(f"n_quarters must be an integer from 1 to 20, not {self.n_quarters!r}")
        if self.comparators is not None and isinstance(self.comparators, str):
            raise ParameterError("comparators must be a tuple of area names, not one string")


@dataclass(frozen=True)
class PartnershipTable:
    """A partnership table ready to write.

    Attributes
    ----------
    values
        Numbers as published: index measure key, columns the quarter labels and ``Comparator``;
        NaN where not available or suppressed.
    display
        The table as printed: index measure label; quarter columns, ``Trend`` and ``Comparator``.
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


def _area_lookup(areas: gpd.GeoDataFrame, names: Sequence[str]) -> list[str]:
    codes = areas[AREA_CODE].astype(str).to_numpy()
    labels = areas[AREA_NAME].astype(str).to_numpy()
    out = []
    for name in names:
        hit = np.flatnonzero((codes == name) | (np.char.lower(labels.astype(str)) == str(name).lower()))
        if not hit.size:
            raise ParameterError(f"area {name!r} is not among the areas ({', '.join(labels)}); check --area")
        out.append(str(codes[hit[0]]))
    return out


def _check_inputs(incidents: pd.DataFrame, areas: gpd.GeoDataFrame) -> None:
    need = [
        schema.SOURCE,
        schema.MONTH,
        schema.CRIME_TYPE,
        schema.EASTING,
        schema.NORTHING,
        schema.LOCATED,
        schema.OBJECT_OF_SEARCH,
    ]
    missing = [c for c in need if c not in incidents.columns]
    if missing:
        raise SchemaError(f"incidents lack column(s) {missing}; read them with store.read_incidents()")
    missing = [c for c in (AREA_CODE, AREA_NAME, schema.POPULATION) if c not in areas.columns]
    if missing:
        raise SchemaError(f"areas lack column(s) {missing}; they need {AREA_CODE}, {AREA_NAME}, population")


def _measure_mask(incidents: pd.DataFrame, m: Measure) -> np.ndarray:
    mask = incidents[schema.SOURCE].isin(m.sources).to_numpy().copy()
    if m.crime_types is not None:
        mask = mask & incidents[schema.CRIME_TYPE].isin(m.crime_types).to_numpy()
    if m.object_of_search is not None:
        mask = mask & incidents[schema.OBJECT_OF_SEARCH].isin(m.object_of_search).to_numpy()
    return mask


#: Sources that publish every police.uk category each month, so a category with no row is a true zero.
FULL_CATEGORY_SOURCES = (schema.SOURCE_STREET, schema.SOURCE_STOP_SEARCH)


def _recorded_sources(incidents: pd.DataFrame, measures: Sequence[Measure]) -> np.ndarray:
    """Whether each measure's sources record what it counts.

    police.uk files (:data:`FULL_CATEGORY_SOURCES`) publish every category, so no row is a true zero.
    A partner source records only its own categories: a crime type it holds in no row at all (e.g.
    burglary in a council's ASB extract) is "not available", not 0.
    """
    src = incidents[schema.SOURCE].astype(str).to_numpy()
    types = incidents[schema.CRIME_TYPE].astype(str).to_numpy()
    out = np.ones(len(measures), dtype=bool)
    for i, m in enumerate(measures):
        if m.crime_types is None or all(s in FULL_CATEGORY_SOURCES for s in m.sources):
            continue
        partner = np.isin(src, [s for s in m.sources if s not in FULL_CATEGORY_SOURCES])
        full = np.isin(src, [s for s in m.sources if s in FULL_CATEGORY_SOURCES])
        out[i] = bool(full.any() or np.isin(types[partner], list(m.crime_types)).any())
    return out


def _quarters(incidents: pd.DataFrame, params: TableParams, sources: set[str]) -> np.ndarray:
    """Keys of the quarters shown: the last complete ones of police.uk street data when the measures count
    it and the store holds it, else of the measures' ``sources``, else of any source."""
    source = incidents[schema.SOURCE]
    street = incidents[source == schema.SOURCE_STREET] if schema.SOURCE_STREET in sources else incidents.iloc[:0]
    counted = incidents[source.isin(list(sources))]
    base = street if len(street) else counted if len(counted) else incidents
    months = np.unique(base[schema.MONTH].astype(str).to_numpy())
    if not months.size:
        raise SchemaError("the store holds no incidents; ingest police.uk files first")
    keys, counts = np.unique(periods.period_keys(months, period="quarter"), return_counts=True)
    complete = keys[counts == 3]
    if params.end_quarter is not None:
        labels = periods.period_labels(complete, period="quarter")
        hit = np.flatnonzero(labels == params.end_quarter)
        if not hit.size:
            raise ParameterError(
                f"end quarter {params.end_quarter!r} is not a complete quarter of the data; "
                f"choose one of {list(labels)}"
            )
        complete = complete[: hit[0] + 1]
    if not complete.size:
        raise SchemaError("the data hold no complete financial quarter (three months of police.uk data)")
    return complete[-params.n_quarters :]


def partnership_table(
    incidents: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    params: TableParams,
    measures: Sequence[Measure] = DEFAULT_MEASURES,
    provenance: dict[str, Any] | None = None,
) -> PartnershipTable:
    """Build the quarterly partnership table for one area.

    Parameters
    ----------
    incidents
        Incidents in the store schema (every source; not modified).
    areas
        Area polygons in EPSG:27700 with ``area_code``, ``area_name`` and ``population``: the focus
        area and, optionally, its comparators.
    params
        Area, comparators, quarters and public mode.
    measures
        Rows of the table.
    provenance
        Where the incidents came from (e.g. ``{"store": ..., "inputs": n}``) for the footnote.

    Returns
    -------
    PartnershipTable
    """
    _check_inputs(incidents, areas)
    measures = tuple(measures)
    police = {schema.SOURCE_STREET, schema.SOURCE_STOP_SEARCH}
    left_out = [m for m in measures if params.public and not set(m.sources) <= police]
    measures = tuple(m for m in measures if m not in left_out)
    if not measures:
        raise ParameterError("measures is empty; pass at least one Measure")
    keys = [m.key for m in measures]
    if len(set(keys)) != len(keys):
        raise ParameterError(f"measure keys repeat: {keys}")
    focus = _area_lookup(areas, [params.area])[0]
    if params.comparators is None:
        comparators = [c for c in areas[AREA_CODE].astype(str) if c != focus]
    else:
        comparators = [c for c in _area_lookup(areas, params.comparators) if c != focus]
    pop = pd.Series(areas[schema.POPULATION].to_numpy(dtype=float), index=areas[AREA_CODE].astype(str))
    has_pop = bool(pop.get(focus, np.nan) > 0)  # without residents the rates are "not available"

    q_keys = _quarters(incidents, params, {s for m in measures for s in m.sources})
    q_labels = list(periods.period_labels(q_keys, period="quarter"))
    latest = q_keys[-1]
    month_q = periods.period_keys(incidents[schema.MONTH].astype(str).to_numpy(), period="quarter")
    area_of = boundaries.assign_to_polygons(
        incidents[schema.EASTING].to_numpy(),
        incidents[schema.NORTHING].to_numpy(),
        areas[[AREA_CODE, "geometry"]].assign(**{AREA_CODE: areas[AREA_CODE].astype(str)}),
        code_col=AREA_CODE,
    )
    in_quarters = np.isin(month_q, q_keys)
    n_m, n_q = len(measures), len(q_keys)
    counts = np.zeros((n_m, n_q))
    available = np.zeros((n_m, n_q), dtype=bool)
    comp_sum = np.zeros(n_m)
    comp_with_data: list[list[str]] = []
    qpos = {int(k): j for j, k in enumerate(q_keys)}
    recorded = _recorded_sources(incidents, measures)
    for i, m in enumerate(measures):
        in_sources = incidents[schema.SOURCE].isin(m.sources).to_numpy()
        available[i] = np.isin(q_keys, month_q[in_sources]) & recorded[i]
        sel = _measure_mask(incidents, m) & in_quarters & (area_of == focus)
        qs = np.fromiter((qpos[int(k)] for k in month_q[sel]), dtype=int, count=int(sel.sum()))
        counts[i] = np.bincount(qs, minlength=n_q)
        # comparators with any row of the measure's sources in the latest quarter
        latest_src = in_sources & (month_q == latest)
        have = [c for c in comparators if recorded[i] and (latest_src & (area_of == c)).any()]
        comp_with_data.append(have)
        sel_c = _measure_mask(incidents, m) & (month_q == latest) & np.isin(area_of, have)
        comp_sum[i] = sel_c.sum()

    disclosure = params.disclosure
    audit = None
    if params.public:
        prot = protect_table(
            pd.DataFrame(counts, index=keys, columns=q_labels).astype(int),
            params=disclosure,
            row_total=None,
            column_total=None,
        )
        pub_counts = prot.published.to_numpy(dtype=float, na_value=np.nan)
        audit = prot.audit
    else:
        pub_counts = counts.copy()
    pub_counts[~available] = np.nan
    per = np.array([m.per_1000 for m in measures])
    values = np.where(per[:, None], pub_counts * 1000.0 / pop[focus] if has_pop else np.nan, pub_counts)

    comp = np.full(n_m, np.nan)
    for i, m in enumerate(measures):
        have = comp_with_data[i]
        if not have:
            continue
        total = comp_sum[i]
        if params.public:
            if total < disclosure.threshold:
                continue
            total = float(round_counts(np.array([total]), round_to=disclosure.round_to)[0])
        if m.per_1000:
            comp_pop = pop[have].sum()
            comp[i] = total * 1000.0 / comp_pop if comp_pop > 0 else np.nan
        else:
            comp[i] = total / len(have)
            if params.public:
                comp[i] = float(round_counts(np.array([comp[i]]), round_to=disclosure.round_to)[0])

    if n_q >= 2:
        prev, last = values[:, -2], values[:, -1]
        trend = np.where(
            np.isnan(prev) | np.isnan(last),
            "",
            np.vectorize(ARROWS.get, otypes=[object])(np.sign(np.nan_to_num(last - prev)).astype(int)),
        )
    else:  # one quarter: nothing to compare with
        trend = np.full(n_m, NOT_AVAILABLE, dtype=object)
    trend = np.where(recorded, trend, NOT_AVAILABLE)
    value_frame = pd.DataFrame(values, index=keys, columns=q_labels)
    value_frame[COMPARATOR] = comp

    def fmt(x: float, m: Measure, avail: bool) -> str:
        if not avail:
            return NOT_AVAILABLE
        if np.isnan(x):
            return SUPPRESSED_MARK
        return f"{x:,.1f}" if m.per_1000 else f"{x:,.0f}"

    display = pd.DataFrame(
        [
            [fmt(values[i, j], m, available[i, j] and (has_pop or not m.per_1000)) for j in range(n_q)]
            for i, m in enumerate(measures)
        ],
        index=[m.label for m in measures],
        columns=q_labels,
    )
    display[TREND] = trend
    display[COMPARATOR] = [
        NOT_AVAILABLE if not comp_with_data[i] else fmt(comp[i], m, True) for i, m in enumerate(measures)
    ]
    display.index.name = "Measure"

    focus_name = str(areas.loc[areas[AREA_CODE].astype(str) == focus, AREA_NAME].iloc[0])
    names = dict(zip(areas[AREA_CODE].astype(str), areas[AREA_NAME].astype(str)))
    months_shown = (
        periods.period_months(int(q_keys[0]), period="quarter")[0],
        periods.period_months(int(latest), period="quarter")[-1],
    )
    prov = provenance or {}
    notes = [
        f"Counts of incidents located inside the {focus_name} boundary (EPSG:27700), months "
        f"{months_shown[0]} to {months_shown[1]}, financial quarters (April to March); unlocated incidents "
        f"are not counted. Source: {prov.get('store', 'the incident store')}"
        + (f" ({prov['inputs']} input files; see its manifest for their sha256)" if "inputs" in prov else "")
        + ".",
        (
            f"Rates per 1,000 residents use a population of {pop[focus]:,.0f}"
            + (f" ({prov['population']})" if "population" in prov else "")
            + "."
            if has_pop
            else f"Rates per 1,000 residents: {NOT_AVAILABLE}, as no population is known for {focus_name} "
            "(give one with geo-csp configure --population)."
        ),
        (
            f"Trend: latest quarter against the previous quarter ({ARROWS[1]} up, {ARROWS[-1]} down, "
            f"{ARROWS[0]} no change)."
            if n_q >= 2
            else f"Trend: {NOT_AVAILABLE}, as the data hold one complete financial quarter ({q_labels[0]}) and there is "
            "no earlier quarter to compare it with."
        ),
    ]
    all_have = sorted({c for h in comp_with_data for c in h})
    if all_have:
        notes.append(
            f"Comparator: average of {len(all_have)} comparator area(s) in {q_labels[-1]} "
            f"({', '.join(names[c] for c in all_have)}), only areas with data for the measure's sources; "
            "rates use their combined population."
        )
    else:
        notes.append(f"Comparator: {NOT_AVAILABLE}, as the store holds no data for comparator areas.")
    notes += [m.describe() for m in measures]
    if params.public:
        notes.append(disclosure.rule + " Rates are computed from the rounded counts.")
    if left_out:
        notes.append(
            "Left out of the public table as partner (sensitive) data: " + ", ".join(m.label for m in left_out) + "."
        )
    if (~recorded).any():
        notes.append(
            f'"{NOT_AVAILABLE}" for '
            + ", ".join(m.label for m, r in zip(measures, recorded) if not r)
            + ": the measure's sources record no such incidents at all (a partner source records only its "
            "own categories), so a count would not be a true zero."
        )
    if (~available[recorded]).any():
        notes.append(f'"{NOT_AVAILABLE}": the source has no data for that quarter.')
    metadata = {
        "area": focus_name,
        "area_code": focus,
        "quarters": q_labels,
        "months": list(months_shown),
        "comparators": [names[c] for c in all_have],
        "public": params.public,
        "disclosure": disclosure.to_dict() if params.public else None,
        "measures": [asdict(m) for m in measures],
        "provenance": prov,
    }
    return PartnershipTable(
        values=value_frame, display=display, measures=measures, footnotes=tuple(notes), metadata=metadata, audit=audit
    )


# --------------------------------------------------------------------------------------------------
# Writers
# --------------------------------------------------------------------------------------------------


def _title(table: PartnershipTable) -> str:
    return (
        f"Tackling crime and ASB: {table.metadata['area']}, {table.metadata['quarters'][0]} to "
        f"{table.metadata['quarters'][-1]}"
    )


def write_table_csv(table: PartnershipTable, path: str | Path) -> Path:
    """Write the table as CSV (as printed), footnotes as trailing ``#`` lines; text a spreadsheet would
    run as a formula is neutralised (:mod:`geo_csp._escape`)."""
    path = Path(path)
    text = spreadsheet_safe(table.display).to_csv(lineterminator="\n")
    text += "".join(f"# {n}\n" for n in table.footnotes)
    path.write_text(text, encoding="utf-8")
    return path


def frame_html(
    frame: pd.DataFrame,
    *,
    index: bool = True,
    text_columns: Sequence[str] = (),
    classes: str = "",
    na_rep: str = "",
) -> str:
    """A small table as HTML: one header row (the index name in its corner), values as given.

    Unlike ``DataFrame.to_html`` there is no second header row for the index name. Cells of
    ``text_columns`` get ``class="text"`` (left-aligned by the page's CSS); the others ``class="num"``.

    Parameters
    ----------
    frame
        Values already formatted for print (anything else is shown with ``str``).
    index
        Show the index as the first column (row headers).
    text_columns
        Columns holding prose rather than numbers.
    classes
        CSS classes of the ``<table>``.
    na_rep
        Text for missing values.
    """
    esc = html.escape
    texts = set(text_columns)

    def cell(v: Any) -> str:
        return na_rep if v is None or (not isinstance(v, str) and pd.isna(v)) else str(v)

    head = ([f"<th>{esc(str(frame.index.name or ''))}</th>"] if index else []) + [
        f'<th class="{"text" if c in texts else "num"}">{esc(str(c))}</th>' for c in frame.columns
    ]
    kinds = ["text" if c in texts else "num" for c in frame.columns]
    rows = []
    for label, values in zip(frame.index, frame.itertuples(index=False, name=None)):
        cells = [f'<td class="{k}">{esc(cell(v))}</td>' for k, v in zip(kinds, values)]
        rows.append("<tr>" + (f"<th>{esc(str(label))}</th>" if index else "") + "".join(cells) + "</tr>")
    cls = f' class="{esc(classes)}"' if classes else ""
    return f"<table{cls}><thead><tr>{''.join(head)}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def table_html(table: PartnershipTable) -> str:
    """The table as an HTML fragment (``<table>`` plus footnotes)."""
    body = frame_html(table.display, classes="partnership")
    notes = "".join(f"<li>{html.escape(n)}</li>" for n in table.footnotes)
    return f'{body}\n<ol class="footnotes">{notes}</ol>'


def write_table_html(table: PartnershipTable, path: str | Path) -> Path:
    """Write the table as a standalone HTML page."""
    path = Path(path)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html.escape(_title(table))}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:right}th{background:#dde5f0}"
        "td:first-child,th:first-child,.text{text-align:left}.footnotes{font-size:85%;color:#333}"
        f"</style></head><body><h1>{html.escape(_title(table))}</h1>\n{table_html(table)}</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def write_table_xlsx(table: PartnershipTable, path: str | Path) -> Path:
    """Write the table as a formatted XLSX sheet: numbers stay numbers, with formats and footnotes; text
    a spreadsheet would run as a formula is neutralised (:mod:`geo_csp._escape`)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Border, Font, PatternFill, Side
    from openpyxl.utils import get_column_letter

    path = Path(path)
    wb = Workbook()
    ws = wb.active
    ws.title = "Partnership table"
    ws["A1"] = spreadsheet_text(_title(table))
    ws["A1"].font = Font(bold=True, size=13)
    header = ["Measure", *table.display.columns]
    thin = Side(style="thin", color="999999")
    for j, h in enumerate(header, start=1):
        c = ws.cell(row=3, column=j, value=spreadsheet_text(h))
        c.font = Font(bold=True)
        c.fill = PatternFill("solid", fgColor="DDE5F0")
        c.alignment = Alignment(horizontal="center", vertical="center", wrap_text=True)
        c.border = Border(top=thin, bottom=thin, left=thin, right=thin)
    quarter_cols = [c for c in table.display.columns if c not in (TREND,)]
    for i, m in enumerate(table.measures):
        r = 4 + i
        ws.cell(row=r, column=1, value=spreadsheet_text(m.label)).border = Border(left=thin, right=thin, bottom=thin)
        for j, col in enumerate(table.display.columns, start=2):
            if col in quarter_cols:
                v = table.values.loc[m.key, col]
                shown = table.display.iloc[i, j - 2]
                cell = ws.cell(row=r, column=j, value=float(v) if not np.isnan(v) else spreadsheet_text(shown))
                if not np.isnan(v):
                    cell.number_format = "#,##0.0" if m.per_1000 else "#,##0"
                    cell.alignment = Alignment(horizontal="right")
                else:
                    cell.alignment = Alignment(horizontal="center")
                    cell.font = Font(italic=True, color="666666")
            else:
                cell = ws.cell(row=r, column=j, value=spreadsheet_text(table.display.iloc[i, j - 2]))
                cell.alignment = Alignment(horizontal="center")
                cell.font = Font(bold=True, size=12)
            cell.border = Border(left=thin, right=thin, bottom=thin)
    ws.column_dimensions["A"].width = 36
    for j in range(2, len(header) + 1):
        ws.column_dimensions[get_column_letter(j)].width = 15
    ws.row_dimensions[3].height = 32
    ws.freeze_panes = "B4"
    r = 5 + len(table.measures)
    ws.cell(row=r, column=1, value="Notes").font = Font(bold=True)
    last_col = get_column_letter(len(header))
    chars_per_line = 36 + 15 * (len(header) - 1)  # the merged width in characters, roughly
    for k, note in enumerate(table.footnotes, start=1):
        text = f"{k}. {note}"
        c = ws.cell(row=r + k, column=1, value=spreadsheet_text(text))
        c.font = Font(size=9)
        c.alignment = Alignment(wrap_text=True, vertical="top")
        ws.merge_cells(f"A{r + k}:{last_col}{r + k}")
        ws.row_dimensions[r + k].height = 13 * (1 + len(text) // chars_per_line)
    wb.save(path)
    return path


def measures_from_sources(measures: Sequence[Measure], sources: Sequence[str]) -> tuple[Measure, ...]:
    """``measures`` with police.uk street counts taken from ``sources`` (other sources holding police.uk categories).

    Measures counted from :data:`geo_csp.schema.SOURCE_STREET` alone count ``sources`` instead, with
    a note saying so; other measures (stop searches, council reports) are unchanged.
    """
    if isinstance(sources, str) or not len(sources):
        raise ParameterError(f"sources must be a non-empty list of store source names, not {sources!r}")
    names = tuple(dict.fromkeys(str(s) for s in sources))
    note = (
        f"Counted from {', '.join(names)} (a source holding police.uk crime categories) instead of "
        "police.uk street-level files"
    )
    return tuple(
        replace(m, sources=names, note=f"{m.note}. {note}" if m.note else note)
        if m.sources == (schema.SOURCE_STREET,)
        else m
        for m in measures
    )


def table_from_store(
    store_dir: str | Path,
    *,
    area: str | None = None,
    public: bool = False,
    measures: Sequence[Measure] = DEFAULT_MEASURES,
    n_quarters: int = 5,
    disclosure: DisclosureParams | None = None,
    sources: Sequence[str] | None = None,
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
    measures, n_quarters, disclosure
        As in :class:`Measure` and :class:`TableParams`.
    sources
        Store sources that hold police.uk crime categories (e.g. ``"gmp_burglary_points"``, a partner
        file of police.uk points ingested through a mapping): the measures counted from police.uk street
        data are counted from these instead (:func:`measures_from_sources`), which their footnotes say.
    """
    if sources:
        measures = measures_from_sources(measures, sources)
    areas, borough, pop_source = store_areas(store_dir)
    cols = [
        schema.SOURCE,
        schema.MONTH,
        schema.CRIME_TYPE,
        schema.EASTING,
        schema.NORTHING,
        schema.LOCATED,
        schema.OBJECT_OF_SEARCH,
    ]
    incidents = store.read_incidents(store_dir, columns=cols)
    held = set(incidents[schema.SOURCE].unique())
    unknown = [s for s in (sources or ()) if s not in held]
    if unknown:
        raise ParameterError(
            f"source(s) {unknown} are not in the store {store_dir}; it holds {sorted(held)} (check --source)"
        )
    manifest = store.read_manifest(store_dir)
    n_inputs = sum(1 for e in manifest.get("files", {}).values() if e.get("active", True))
    listed = store.store_config(store_dir).get("comparators")  # None: every other area of `areas`
    params = TableParams(
        area=area or borough,
        n_quarters=n_quarters,
        public=public,
        comparators=None if listed is None else tuple(listed),
        disclosure=disclosure or DisclosureParams(),
    )
    return partnership_table(
        incidents,
        areas,
        params=params,
        measures=measures,
        provenance={
            "store": f'incident store "{store.store_label(store_dir)}"',
            "inputs": n_inputs,
            "population": pop_source,
        },
    )
