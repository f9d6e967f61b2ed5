"""User text (area, ward and place names) with colons, quotes, apostrophes, brackets, dollars and HTML goes
through every chart, map tooltip, table and evidence pack without breaking it, and is shown as given.

Real names that broke the tool: "Monument: around Neville Street" (Vega-Lite read the colon as a type code)
and "Arthur's Hill" (an unclosed access path). The charts are compiled by Vega-Lite itself
(``vl-convert-python``, the same compiler the browser runs) so a spec the browser would refuse fails here.
HTML escaping and spreadsheet formula neutralising are tested in their own modules; here a name must
arrive in each output intact (escaped as HTML where the output is HTML).
"""

from __future__ import annotations

import contextlib
import html
import json
import re
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from geo_csp import schema
from geo_csp._escape import html_text

X0, Y0 = 366_000.0, 426_000.0  # a 4 km x 4 km borough near Blackburn, far from Bury
NASTY = [
    "Monument: around Neville Street",
    "Arthur's Hill",
    'The "Quays" [North]',
    "<b>Old</b> & New",
    "St. Mary's: {East} $5 \\ back",
]
#: Characters that mean something to Vega-Lite field paths, HTML, matplotlib mathtext, CSV or JSON.
ALPHABET = st.sampled_from(list("ab Z09:'\"[](){}<>&$\\.,;=+-@#%/|*^~`!?") + ["é", "’", "—"])
NAMES = st.text(ALPHABET, min_size=1, max_size=24).filter(lambda s: s.strip() != "")


def _in_html(name: str, page: str) -> bool:
    """Whether ``name`` appears in an HTML page as text (escaped as :func:`geo_csp._escape.html_text` does,
    or with unescaped quotes)."""
    return any(form in page for form in (html_text(name), html.escape(name, quote=False)))


# ----------------------------------------------------------------------------------------------
# App charts: compiled by Vega-Lite
# ----------------------------------------------------------------------------------------------


def test_vega_lite_refuses_user_text_as_field_names():
    """The oracle: the old way (a series name as the field) fails in Vega-Lite (a name with a dot or brackets
    compiles, but reads a nested field that does not exist: a blank line)."""
    vlc = pytest.importorskip("vl_convert")
    for name in ("Arthur's Hill", 'The "Quays"'):
        spec = {
            "$schema": "https://vega.github.io/schema/vega-lite/v5.json",
            "data": {"values": [{name: 1}]},
            "mark": "line",
            "encoding": {"y": {"field": name, "type": "quantitative"}},
        }
        with pytest.raises(Exception, match="Access path|access path|bracket|quote"):
            vlc.vegalite_to_vega(spec)
    import altair as alt

    with pytest.raises(ValueError, match="not one of the valid encoding data types"):
        alt.Chart(pd.DataFrame({"Monument: around Neville Street": [1]})).encode(
            y="Monument: around Neville Street"
        ).to_dict()


@settings(max_examples=40, deadline=None)
@given(st.lists(NAMES, min_size=1, max_size=3, unique=True), st.lists(NAMES, min_size=2, max_size=4, unique=True))
def test_line_chart_compiles_for_any_series_and_period_names(series, labels):
    vlc = pytest.importorskip("vl_convert")
    from geo_csp.app.widgets import CHART_FIELDS, line_chart_spec

    frame = pd.DataFrame(
        np.arange(len(labels) * len(series)).reshape(len(labels), len(series)), index=labels, columns=series
    )
    spec = line_chart_spec(frame).to_dict()
    fields = {enc["field"] for enc in spec["encoding"].values() if isinstance(enc, dict) and "field" in enc}
    fields |= {t["field"] for t in spec["encoding"]["tooltip"]}
    assert fields <= set(CHART_FIELDS)
    svg = vlc.vegalite_to_svg(spec)  # raises on a field path Vega-Lite cannot parse
    for name in series:  # each series drawn and named in the legend as given (XML-escaped text)
        assert html.escape(name.strip(), quote=False) in svg or html.escape(name, quote=False) in svg
    data = next(iter(spec["datasets"].values()))
    assert sorted({row["series"] for row in data}) == sorted(series)  # shown as given
    assert [row["period"] for row in data[:: len(series)]] == labels
    assert spec["encoding"]["x"]["sort"] == labels  # periods in their order, not alphabetical


# ----------------------------------------------------------------------------------------------
# Maps (folium tooltips, matplotlib figures) and the partnership table
# ----------------------------------------------------------------------------------------------


def _cells(names: list[str]) -> gpd.GeoDataFrame:
    boxes = [shapely.box(X0 + 500 * i, Y0, X0 + 500 * (i + 1), Y0 + 500) for i in range(len(names))]
    return gpd.GeoDataFrame(
        {
            schema.UNIT_ID: [f"u{i}" for i in range(len(names))],
            schema.AREA_ID: "HS-0001",
            schema.AREA_NAME: names,
            schema.WARD_NAME: names,
            schema.N: 5.0,
            schema.PATTERN: "Consecutive Hot Spot",
            schema.CATEGORY: "persistent hotspot",
            schema.EXPLANATION: [f"hot in {n}" for n in names],
        },
        geometry=boxes,
        crs="EPSG:27700",
    )


@settings(max_examples=15, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(NAMES, min_size=1, max_size=3, unique=True))
def test_folium_map_tooltips_render_any_name(names):
    from geo_csp import maps

    cells = _cells(names)
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["HS-0001"], "name": [names[0]], schema.AREA_NAME: [names[0]]},
        geometry=[shapely.union_all(cells.geometry.to_numpy())],
        crs="EPSG:27700",
    )
    page = maps.hotspot_map(cells, areas=areas, title=names[0]).get_root().render()
    strings = set()  # every JSON string of the page's scripts, decoded (folium writes "<" as \u003c)
    for literal in re.findall(r'"(?:[^"\\\n]|\\.)*"', page):
        with contextlib.suppress(json.JSONDecodeError):
            strings.add(json.loads(literal))
    for name in names:  # a tooltip's GeoJSON property, as given or HTML-escaped
        assert (
            name in strings
            or html.escape(name) in strings
            or html.escape(name, quote=False) in strings
            or html_text(name) in strings
        )


@pytest.mark.parametrize(
    "name", ["{{7*7}}zz", "{%", "{% if %}", "{# note", "{{ lipsum.__globals__ }}", "a}}b{{", "{{{"]
)
def test_jinja_tags_in_names_are_never_run_by_the_map(name):
    # branca compiles every element's rendered HTML/script again as a Jinja template: a name holding
    # a Jinja tag was run (template injection: "{{7*7}}" came out as 49) or broke the map ("{%")
    from geo_csp import maps

    cells = _cells([name, "Other"])
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["HS-0001"], "name": [name], schema.AREA_NAME: [name]},
        geometry=[shapely.union_all(cells.geometry.to_numpy())],
        crs="EPSG:27700",
    )
    page = maps.hotspot_map(cells, areas=areas, title=name).get_root().render()
    assert "49zz" not in page and "__builtins__" not in page  # run, these would be 7*7 and lipsum's globals
    assert html_text(name) in page  # shown, as entities the browser displays as the name itself
    assert html.unescape(html_text(name)) == name


@settings(max_examples=5, deadline=None)
@given(NAMES)
def test_matplotlib_figures_show_any_name_as_given(name):
    import matplotlib.pyplot as plt

    from geo_csp import figures

    cells = _cells([name, "Other"])
    borough = gpd.GeoDataFrame(geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 500)], crs="EPSG:27700")
    wards = cells[[schema.WARD_NAME, "geometry"]].assign(**{schema.WARD_CODE: ["W1", "W2"]})
    fig = figures.hotspot_figure(borough=borough, area=borough, units=cells, wards=wards, title=name)
    fig.canvas.draw()  # mathtext would raise here on "$...$"
    texts = [t.get_text() for ax in fig.axes for t in ax.texts] + [fig.axes[0].get_title()]
    assert name in texts
    monthly = pd.DataFrame({"All crime": [3.0, 4.0]}, index=pd.Index(["2023-01", "2023-02"], name=schema.MONTH))
    trend = figures.trend_chart(monthly, title=name)
    trend.canvas.draw()
    assert trend.axes[0].get_title() == name
    plt.close("all")


AREAS_OF = lambda name: gpd.GeoDataFrame(  # noqa: E731
    {"area_code": ["A"], "area_name": [name], "population": [2000]},
    geometry=[shapely.box(X0, Y0, X0 + 1000, Y0 + 1000)],
    crs="EPSG:27700",
)


@settings(max_examples=15, deadline=None)
@given(NAMES)
def test_partnership_table_writers_keep_any_area_name(tmp_path_factory, name):
    import openpyxl

    import _synthetic
    from geo_csp.table import TableParams, partnership_table, write_table_csv, write_table_html, write_table_xlsx

    months = ["2023-04", "2023-05", "2023-06"]
    inc = pd.concat([_synthetic.incidents(np.full(4, X0 + 500), np.full(4, Y0 + 500), m, "Burglary") for m in months])
    inc = inc.assign(**{schema.SOURCE: schema.SOURCE_STREET, schema.OBJECT_OF_SEARCH: None})
    t = partnership_table(inc, AREAS_OF(name), params=TableParams(area=name, n_quarters=1))
    assert t.metadata["area"] == name
    out = tmp_path_factory.mktemp("table")
    assert _in_html(name, write_table_html(t, out / "t.html").read_text(encoding="utf-8"))
    assert name.replace("\n", " ") in write_table_csv(t, out / "t.csv").read_text(encoding="utf-8")
    title = openpyxl.load_workbook(write_table_xlsx(t, out / "t.xlsx")).active["A1"].value
    assert name in title


# ----------------------------------------------------------------------------------------------
# Evidence packs on a configured store whose wards and places carry nasty names
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def nasty_store(tmp_path_factory) -> Path:
    """A store of police.uk rows in a 2 x 2 ward borough whose ward and place names are :data:`NASTY`."""
    from pyproj import Transformer
    from typer.testing import CliRunner

    from geo_csp import ingest
    from geo_csp.cli import app

    root = tmp_path_factory.mktemp("nasty")
    rng = np.random.default_rng(7)
    n = 900
    x, y = rng.uniform(X0 + 50, X0 + 3950, n), rng.uniform(Y0 + 50, Y0 + 3950, n)
    hot = rng.random(n) < 0.3
    x[hot], y[hot] = rng.uniform(X0 + 2900, X0 + 3100, hot.sum()), rng.uniform(Y0 + 2900, Y0 + 3100, hot.sum())
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(x, y)
    months = np.array([f"2023-{m:02d}" for m in range(1, 13)])[rng.integers(0, 12, n)]
    types = np.asarray(["Burglary", "Vehicle crime", "Violence and sexual offences", "Anti-social behaviour"])
    pd.DataFrame(
        {
            "Crime ID": "",
            "Month": months,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": lon.round(6),
            "Latitude": lat.round(6),
            "Location": [f"On or near {NASTY[k % len(NASTY)]}" for k in range(n)],
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": types[rng.integers(0, 4, n)],
            "Last outcome category": "",
            "Context": "",
        }
    ).to_csv(root / "street.csv", index=False)
    ingest.ingest_paths([root / "street.csv"], store_dir=root / "store")
    boxes = [
        shapely.box(X0 + i * 2000, Y0 + j * 2000, X0 + (i + 1) * 2000, Y0 + (j + 1) * 2000)
        for j in range(2)
        for i in range(2)
    ]
    gpd.GeoDataFrame(
        {"ward_code": [f"W{k}" for k in range(4)], "ward_name": NASTY[:4]}, geometry=boxes, crs="EPSG:27700"
    ).to_file(root / "wards.gpkg")
    pd.DataFrame({"ward_code": [f"W{k}" for k in range(4)], "population": [5000, 6000, 7000, 8000]}).to_csv(
        root / "pop.csv", index=False
    )
    gpd.GeoDataFrame(
        {"name": [NASTY[4]]}, geometry=[shapely.Point(X0 + 3000, Y0 + 3000).buffer(300)], crs="EPSG:27700"
    ).to_file(root / "places.gpkg")
    result = CliRunner().invoke(
        app,
        [
            "configure",
            "--store",
            str(root / "store"),
            "--borough",
            "Quay's [Test]: <i>",
            "--wards",
            str(root / "wards.gpkg"),
            "--population",
            str(root / "pop.csv"),
            "--named-places",
            str(root / "places.gpkg"),
        ],
    )
    assert result.exit_code == 0, result.output
    return root / "store"


@pytest.mark.slow
def test_pack_on_a_nasty_ward_and_place(nasty_store, tmp_path):
    from geo_csp.evidence import EvidenceParams, build_evidence, write_evidence

    for area in (NASTY[3], NASTY[4]):  # a ward, a named place
        pack = build_evidence(nasty_store, EvidenceParams(area=area))
        assert pack.figures["area_name"] == area
        written = write_evidence(pack, tmp_path / "pack")
        page = written["report.html"].read_text(encoding="utf-8")
        assert _in_html(area, page) and "<b>Old</b>" not in page
        assert json.loads(written["manifest.json"].read_text(encoding="utf-8"))["figures"]["area_name"] == area
    hot = pack.units  # the place's cells name their areas from the place and streets
    assert len(hot)


@pytest.mark.slow
@settings(max_examples=3, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(NAMES)
def test_pack_on_a_polygon_with_any_label(nasty_store, tmp_path, name):
    from geo_csp.evidence import EvidenceParams, build_evidence, polygon_wkt, write_evidence

    polygon = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 2500, Y0 + 2500, X0 + 3500, Y0 + 3500)], crs="EPSG:27700")
    pack = build_evidence(
        nasty_store, EvidenceParams(area=name, area_label=name, area_polygon_wkt=polygon_wkt(polygon), public=True)
    )
    written = write_evidence(pack, tmp_path / "pub")
    assert _in_html(name, written["report.html"].read_text(encoding="utf-8"))
    assert written["report.pdf"].stat().st_size > 1000


@pytest.mark.slow
def test_app_pages_on_the_nasty_store(nasty_store, monkeypatch):
    """Every page of the app on the store whose wards are named with colons, quotes and HTML."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GEO_CSP_STORE", str(nasty_store))
    app = str(Path(__file__).resolve().parent.parent / "app.py")
    at = AppTest.from_file(app, default_timeout=180)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    pages = sorted(p.stem for p in (Path(app).parent / "geo_csp" / "app" / "pages").glob("*.py"))
    for page in pages:
        at.switch_page(f"geo_csp/app/pages/{page}.py").run()
        assert not at.exception, (page, [e.message for e in at.exception])
    at.switch_page("geo_csp/app/pages/trends.py").run()
    at.radio(key="trend_level").set_value("Wards").run()
    assert not at.exception, [e.message for e in at.exception]
    assert set(at.selectbox(key="trend_a").options) == set(NASTY[:4])
