"""One HTML escaper: every HTML the package writes escapes user text with :mod:`geo_csp._escape`
(``&``, ``<``, ``>``, quotes and ``{``), and no module escapes HTML another way."""

from __future__ import annotations

import ast
import html
from pathlib import Path

import geopandas as gpd
import pandas as pd
import shapely

import geo_csp
from geo_csp import routes
from geo_csp._escape import html_text, html_values
from geo_csp.table import frame_html

PACKAGE = Path(geo_csp.__file__).parent
NAME = '<b>Old</b> & New\'s "{East}" {{7*7}}'
ESCAPED = "&lt;b&gt;Old&lt;/b&gt; &amp; New&#x27;s &quot;&#123;East}&quot; &#123;&#123;7*7}}"


def test_html_text_known_answer() -> None:
    assert html_text(NAME) == ESCAPED
    assert html.unescape(ESCAPED) == NAME  # shown as the name itself
    assert html_text(12) == "12"
    out = html_values(pd.Series([NAME, None, "a"], dtype=object))
    assert out.tolist() == [ESCAPED, None, "a"]  # missing values stay missing


def test_no_module_escapes_html_but_the_escaper() -> None:
    """``html.escape``, ``markupsafe`` or ``from html import escape`` anywhere but ``_escape.py`` fails."""
    found = []
    for path in sorted(PACKAGE.rglob("*.py")):
        if path.name == "_escape.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Attribute) and node.attr == "escape" and getattr(node.value, "id", "") == "html":
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} html.escape")
            elif isinstance(node, ast.ImportFrom) and node.module in ("html", "markupsafe"):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} from {node.module} import")
            elif isinstance(node, ast.Import) and any(a.name == "markupsafe" for a in node.names):
                found.append(f"{path.relative_to(PACKAGE)}:{node.lineno} import markupsafe")
    assert found == []


def test_frame_html_escapes_labels_values_and_headers_as_the_escaper() -> None:
    frame = pd.DataFrame({NAME: [NAME]}, index=pd.Index([NAME], name=NAME))
    page = frame_html(frame, text_columns=[NAME])
    assert page.count(ESCAPED) == 4  # index name, column name, row label, value
    assert "{East}" not in page and "<b>" not in page


def test_walkabout_sheet_escapes_stop_names_and_title() -> None:
    stops = gpd.GeoDataFrame(
        {"priority": [5.0], "name": [NAME], "purpose": ["{{ look }}"]},
        geometry=shapely.points([(300.0, 0.0)]),
        crs=27700,
    )
    plan = routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=60, dwell_min=5, start_name=NAME)
    page = plan.to_html(title=f"Walkabout from {NAME}")
    assert ESCAPED in page and "&#123;&#123; look }}" in page
    assert "{East}" not in page and "<b>Old" not in page
