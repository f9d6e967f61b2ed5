"""Text that came from input files, made harmless in the documents it reaches.

Any string of an input (a police.uk ``Location``, a partner category, a layer, operation, hub,
place or area name) may hold markup or a spreadsheet formula:

* HTML outputs escape it with :func:`html_text` (one string) or :func:`html_values` (a column), the
  package's only HTML escaper (reports, sheets, tables and maps alike), so ``<script>`` is shown as
  text, never run; folium tooltips insert property values as HTML, so the values themselves are
  escaped before they reach the page.
* Markdown (the app's text) backslashes every sign Markdown reads (:func:`markdown_literal`).
* CSV and XLSX exports neutralise a cell that starts with ``=``, ``+``, ``-``, ``@``, a tab or a
  carriage return by putting a ``'`` in front (OWASP, "CSV Injection"), so a spreadsheet shows
  the text instead of running it (:func:`spreadsheet_safe`, :func:`spreadsheet_text`). A plain
  number such as ``-12`` or ``+3.5%`` cannot run and is left alone. XLSX cells also lose the control
  characters XML cannot hold (openpyxl refuses them).
"""

from __future__ import annotations

import re
from typing import Any

import pandas as pd

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
"""A spreadsheet may run a cell starting with one of these (OWASP CSV injection)."""
_PLAIN_NUMBER = r"^[+-]?(?:\d[\d,]*(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?%?$"
_PLAIN_NUMBER_RE = re.compile(_PLAIN_NUMBER)
_XML_ILLEGAL_RE = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def spreadsheet_text(value: Any) -> Any:
    """One cell's value, a ``'`` put in front of text a spreadsheet would run as a formula."""
    if isinstance(value, str):
        if value.startswith(FORMULA_START) and not _PLAIN_NUMBER_RE.match(value):
            value = "'" + value
        return _XML_ILLEGAL_RE.sub("", value)
    return value


def _safe_strings(values: pd.Series) -> pd.Series:
    if not (pd.api.types.is_object_dtype(values) or pd.api.types.is_string_dtype(values)):
        return values
    text = values.astype("string")
    runs = text.str.startswith(FORMULA_START).fillna(False) & ~text.str.match(_PLAIN_NUMBER).fillna(False)
    if not runs.any():
        return values
    return values.where(~runs.to_numpy(), "'" + text)


def spreadsheet_safe(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with every text cell, index label and column name a spreadsheet would run neutralised."""
    out = frame.copy()
    for col in out.columns:
        out[col] = _safe_strings(out[col])
    out.index = (
        pd.Index(_safe_strings(out.index.to_series()).to_numpy(), name=out.index.name)
        if not isinstance(out.index, pd.MultiIndex)
        else out.index
    )
    out.columns = [spreadsheet_text(c) for c in out.columns]
    return out


_HTML_ENTITIES = (("&", "&amp;"), ("<", "&lt;"), (">", "&gt;"), ('"', "&quot;"), ("'", "&#x27;"), ("{", "&#123;"))
"""Signs written as entities in HTML. ``{`` too: folium's elements (branca) compile each element's
rendered HTML and script again as a Jinja template, so ``{{ ... }}`` or ``{% ... %}`` in a name would
be run by Jinja when the map is drawn (template injection) or break it; as ``&#123;`` it is shown as
``{`` and Jinja sees no tag."""


def html_text(text: str) -> str:
    """One string HTML-escaped (``&``, ``<``, ``>``, ``"``, ``'`` and ``{``): shown as itself, never run."""
    text = str(text)
    for char, entity in _HTML_ENTITIES:
        text = text.replace(char, entity)
    return text


def html_values(values: pd.Series) -> pd.Series:
    """Text values HTML-escaped as :func:`html_text` does, vectorised; other values as given."""
    text = values.astype("string")
    for char, entity in _HTML_ENTITIES:
        text = text.str.replace(char, entity, regex=False)
    return text.astype(object).where(values.notna(), values)


_MARKDOWN_SPECIAL_RE = re.compile(r"([\\`*_{}\[\]()#+\-.!|~<>$:])")


def markdown_literal(text: str) -> str:
    """Text shown as itself by a Markdown renderer (Streamlit's): every Markdown/HTML/LaTeX sign backslashed."""
    return _MARKDOWN_SPECIAL_RE.sub(r"\\\1", str(text))
