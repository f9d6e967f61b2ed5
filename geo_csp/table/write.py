"""Writers of the partnership table: CSV, a standalone HTML page, a formatted XLSX sheet; and small HTML tables.

Text a spreadsheet would run as a formula is neutralised and HTML is escaped (:mod:`geo_csp._escape`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from geo_csp._escape import html_text, spreadsheet_safe, spreadsheet_text
from geo_csp.table.build import PartnershipTable
from geo_csp.table.display import TEXT_COLUMNS

__all__ = ["frame_html", "table_html", "write_table_csv", "write_table_html", "write_table_xlsx"]


def _title(table: PartnershipTable) -> str:
    return (
        f"Tackling crime and ASB: {table.metadata['area']}, {table.metadata['periods'][0]} to "
        f"{table.metadata['periods'][-1]}"
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
    esc = html_text
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
    notes = "".join(f"<li>{html_text(n)}</li>" for n in table.footnotes)
    return f'{body}\n<ol class="footnotes">{notes}</ol>'


def write_table_html(table: PartnershipTable, path: str | Path) -> Path:
    """Write the table as a standalone HTML page."""
    path = Path(path)
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html_text(_title(table))}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:right}th{background:#dde5f0}"
        "td:first-child,th:first-child,.text{text-align:left}.footnotes{font-size:85%;color:#333}"
        f"</style></head><body><h1>{html_text(_title(table))}</h1>\n{table_html(table)}</body></html>"
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
    quarter_cols = [c for c in table.display.columns if c not in TEXT_COLUMNS]
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
