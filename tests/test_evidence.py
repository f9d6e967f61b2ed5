"""Safer Streets evidence pack for the demo's town-centre hotspot: HTML and PDF render (pages rendered
to PNG and checked for the map), the manifest reproduces the figures, public mode is disclosure-safe."""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_csp import schema
from geo_csp.cube import CubeParams
from geo_csp._errors import DisclosureError, ParameterError
from geo_csp.evidence import EvidenceParams, build_evidence, write_evidence
from geo_csp.figures import AREA_COLOUR, CATEGORY_COLOURS

ART = Path(__file__).parent / "_artifacts"
AREA = "Bury Town Centre"


@pytest.fixture(scope="module")
def demo(demo_borough):
    return demo_borough


@pytest.fixture(scope="module")
def pack_dir(demo, tmp_path_factory):
    out = tmp_path_factory.mktemp("pack") / "town-centre"
    pack = build_evidence(demo.store_dir, EvidenceParams(area=AREA))
    write_evidence(pack, out)
    return out, pack


def _hex_rgb(colour: str) -> np.ndarray:
    return np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])


def test_pack_files_and_html(pack_dir):
    out, pack = pack_dir
    names = {p.name for p in out.iterdir()}
    assert {
        "report.html",
        "report.pdf",
        "area.gpkg",
        "manifest.json",
        "counts.csv",
        "monthly.csv",
        "hotspot_classes.csv",
        "partner_counts.csv",
    } <= names
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 3 and 'src="http' not in page  # self-contained
    assert "SYNTHETIC demo data" in page and "Restricted" in page
    assert set(gpd.list_layers(out / "area.gpkg")["name"]) == {"area", "hotspot_cells", "incidents"}
    assert pack.figures["area_kind"] == "hotspot area" and pack.figures["hotspot_cells"]["persistent hotspot"] > 0
    assert (
        pack.figures["harm"]["index"] == "cchi" and pack.figures["harm"]["vintage"]
    )  # the weights' source and vintage
    assert pack.figures["harm"]["weights"]["Drugs"] == 0.0  # CCHI leaves proactively found offences out
    # the area section says when the problem started, when the tool first named it and the latest police.uk month
    timeline = pack.figures["hotspot_timeline"]
    assert timeline["latest_police_uk_month"] == "2025-12"  # the demo store's last police.uk month
    assert timeline["problem_started"] <= timeline["first_named"] and timeline["naming_delay_periods"] >= 0
    assert (
        f"The problem started in {timeline['problem_started']}; the tool first named it in {timeline['first_named']}"
        in page
        and "The latest month in the store from police.uk is 2025-12." in page
    )


def test_counts_match_points_in_the_area(pack_dir, demo):
    _, pack = pack_dir
    from geo_csp import store

    inc = store.read_incidents(demo.store_dir, sources=["police_uk_street"], located_only=True)
    inc = inc[inc[schema.MONTH].between(*pack.figures["rate_months"])]
    geom = pack.area.geometry.iloc[0]
    inside = shapely.contains_xy(geom, inc[schema.EASTING].to_numpy(), inc[schema.NORTHING].to_numpy())
    neigh = inc[schema.CRIME_TYPE].isin(["Burglary", "Robbery", "Theft from the person", "Vehicle crime"])
    assert pack.figures["counts"]["Area"]["Neighbourhood crime"] == int((inside & neigh).sum())
    c = pack.figures["counts"]
    assert c["Borough"]["All crime"] == c["Area"]["All crime"] + c["Rest of borough"]["All crime"]
    share = c["Area"]["All crime"] / c["Borough"]["All crime"]
    assert pack.figures["concentration_ratio"] == pytest.approx(share / pack.figures["share_of_borough_land"], rel=1e-2)
    # the planted town-centre hotspot concentrates crime: several times its share of the land
    assert pack.figures["concentration_ratio"] > 2


def test_pdf_pages_render_with_the_map(pack_dir):
    import pypdfium2 as pdfium

    out, _ = pack_dir
    pdf = pdfium.PdfDocument(out / "report.pdf")
    assert len(pdf) >= 2
    ART.mkdir(exist_ok=True)
    hot, green = _hex_rgb(CATEGORY_COLOURS["persistent hotspot"]), _hex_rgb(AREA_COLOUR)
    map_pages = []
    for i in range(len(pdf)):
        img = np.asarray(pdf[i].render(scale=1.5).to_pil().convert("RGB")).astype(int)
        pdf[i].render(scale=1.5).to_pil().save(ART / f"evidence_page_{i + 1}.png")
        assert img.std() > 5, f"page {i + 1} is blank"
        near = lambda c: (np.abs(img - c).max(axis=2) < 12).sum()  # noqa: E731
        if near(hot) > 2000 and near(green) > 200:
            map_pages.append(i)
    assert map_pages, "no page shows the hotspot map (persistent-hotspot fill and the area outline)"


def test_manifest_reproduces_the_figures(pack_dir, demo):
    out, _ = pack_dir
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    from geo_csp import store

    stored = {e["sha256"] for e in store.read_manifest(demo.store_dir)["files"].values() if e["active"]}
    assert {i["sha256"] for i in manifest["inputs"]} == stored
    assert manifest["software"]["name"] == "geo-csp" and manifest["created"]
    assert manifest["store"] == store.store_label(demo.store_dir)  # the store's label, not its path
    assert all(set(i) == {"file", "sha256", "source", "months"} and "/" not in i["file"] for i in manifest["inputs"])
    assert str(demo.store_dir.parent) not in (out / "manifest.json").read_text(encoding="utf-8")
    assert str(demo.store_dir.parent) not in (out / "report.html").read_text(encoding="utf-8")
    again = build_evidence(demo.store_dir, EvidenceParams.from_dict(manifest["parameters"]))
    assert json.loads(json.dumps(again.figures)) == manifest["figures"]
    assert manifest["outputs"]["report.pdf"]["sha256"]


def test_public_pack_is_disclosure_safe(demo, tmp_path):
    out = tmp_path / "public"
    pack = build_evidence(demo.store_dir, EvidenceParams(area=AREA, public=True))
    written = write_evidence(pack, out)
    assert pack.points is None and "council_asb" not in pack.tables and "partner_coverage" not in pack.tables
    assert pack.operations is None and pack.figures["operations_marked"] == []  # no partner layer, no marker
    assert set(gpd.list_layers(out / "area.gpkg")["name"]) == {"area", "hotspot_cells"}
    assert schema.N not in gpd.read_file(out / "area.gpkg", layer="hotspot_cells").columns
    counts = pack.tables["counts"][["Neighbourhood crime", "Serious acquisitive crime", "All crime"]]
    vals = counts.to_numpy(dtype=float)
    shown = vals[~np.isnan(vals)]
    assert (shown % 5 == 0).all() and (shown >= 10).all()
    monthly = pack.tables["monthly"].to_numpy(dtype=float)
    assert ((monthly[~np.isnan(monthly)] % 5 == 0) & (monthly[~np.isnan(monthly)] >= 10)).all()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Counts below 10 are suppressed" in page and "Restricted" not in page
    # the audit is kept outside the public folder
    if "disclosure_audit.csv" in written:
        assert written["disclosure_audit.csv"].parent != out
    assert not any("audit" in p.name for p in out.iterdir())


def test_small_area_public_suppression(demo, tmp_path):
    # a 150 m square in the town centre: small counts are suppressed together with a partner cell
    poly = tmp_path / "small.geojson"
    gpd.GeoDataFrame(geometry=[shapely.box(380_300, 410_700, 380_450, 410_850)], crs="EPSG:27700").to_file(poly)
    private = build_evidence(demo.store_dir, EvidenceParams(area=str(poly), rate_months=3))
    public = build_evidence(demo.store_dir, EvidenceParams(area=str(poly), rate_months=3, public=True))
    true = private.tables["counts"]
    pub = public.tables["counts"]
    assert true.loc["Area", "Neighbourhood crime"] < 10
    assert pd.isna(pub.loc["Area", "Neighbourhood crime"])
    # not recoverable as borough minus rest of borough
    assert pd.isna(pub.loc["Rest of borough", "Neighbourhood crime"]) or pd.isna(
        pub.loc["Borough", "Neighbourhood crime"]
    )
    assert public.audit is not None and len(public.audit)
    assert "Area" in set(public.audit["row"])
    assert private.figures["area_kind"] == "supplied polygon"


def test_sensitive_exports_refused_in_public_mode():
    with pytest.raises(DisclosureError, match="incident points cannot be exported in public mode"):
        EvidenceParams(area=AREA, public=True, include_points=True)
    # partner counts may be published, through disclosure control (partner layers never)
    assert EvidenceParams(area=AREA, public=True, include_partner=True).partner


def test_asb_and_vawg_groups_on_police_uk(pack_dir):
    _, pack = pack_dir
    counts = pack.tables["counts"]
    # police.uk publishes ASB: its own column; it records no victim sex or domestic flag: VAWG is not 0
    assert "Anti-social behaviour" in counts.columns and counts.loc["Borough", "Anti-social behaviour"] > 0
    assert "Violence against women and girls" not in counts.columns
    why = pack.figures["not_available"]["Violence against women and girls"]
    assert why.startswith("not available") and "victim_sex" in why
    private_asb = pack.tables["partner_counts"].loc["Area", "ASB reports to the council"]
    assert private_asb == pack.figures["partner"]["counts"]["Area"]["ASB reports to the council"] > 0


def _flagged_extract(tmp_path: Path, centre: np.ndarray, month: str) -> tuple[Path, Path]:
    """A force crime extract with qualifiers: 40 records a metre or so apart at ``centre`` in ``month``.

    Record i: a female victim when i is even, male or unknown otherwise; flagged domestic when i % 4 == 0;
    knife-enabled when i < 12; violence and sexual offences when i < 24, else criminal damage.
    """
    rows = ["Ref,Month,Type,E,N,DA,Knife,Sex"]
    for i in range(40):
        crime = "Violence and sexual offences" if i < 24 else "Criminal damage and arson"
        sex = "F" if i % 2 == 0 else ("M" if i % 5 else "")
        domestic, knife = ("Y" if i % 4 == 0 else "N"), ("Y" if i < 12 else "N")
        rows.append(f"c{i},{month},{crime},{centre[0] + i:.1f},{centre[1]:.1f},{domestic},{knife},{sex}")
    csv = tmp_path / "force_crime.csv"
    csv.write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = tmp_path / "force_crime.toml"
    mapping.write_text(
        'source = "force_crime"\n[columns]\nid = "Ref"\nmonth = "Month"\ncategory = "Type"\neasting = "E"\n'
        'northing = "N"\ndomestic = "DA"\nknife_enabled = "Knife"\nvictim_sex = "Sex"\n',
        encoding="utf-8",
    )
    return csv, mapping


def test_public_partner_counts_through_disclosure_control(demo, tmp_path):
    import shutil

    from geo_csp import evidence, ingest, store

    root = tmp_path / "demo"
    shutil.copytree(demo.out_dir, root)
    sdir = root / "store"
    for register in sdir.rglob(evidence.PUBLIC_REGISTER_NAME):
        register.unlink()
    last = sorted(store.read_incidents(sdir, columns=[schema.MONTH])[schema.MONTH].unique())[-1]
    area = build_evidence(sdir, EvidenceParams(area=AREA)).area.geometry.iloc[0]
    # 40 m of points westwards from a point well inside the area
    centre = shapely.get_coordinates(area.buffer(-60).representative_point())[0] - np.array([20.0, 0.0])
    csv, mapping = _flagged_extract(tmp_path, centre, last)
    ingest.ingest_paths([csv], store_dir=sdir, mapping=mapping)
    private = build_evidence(sdir, EvidenceParams(area=AREA, rate_months=12))
    true = private.tables["partner_counts"]
    # by hand: VAWG = female victim (i even) and (violence, i < 24, or domestic, i % 4 == 0):
    # the 12 even i below 24 and 24, 28, 32, 36
    assert true.loc["Area", "Violence against women and girls"] == 16
    assert true.loc["Area", "Domestic abuse"] == 10 and true.loc["Area", "Incidents involving knives"] == 12
    assert true.loc["Area", "Records of force_crime"] == 40
    public = build_evidence(sdir, EvidenceParams(area=AREA, rate_months=12, public=True, include_partner=True))
    pub = public.tables["partner_counts"]
    shown = pub.to_numpy(dtype=float)
    shown = shown[~np.isnan(shown)]
    assert ((shown % 5 == 0) & (shown >= 10)).all()  # the 10-5 rule, as for police.uk counts
    # every flagged record lies in the area: the rest of the borough holds 0, suppressed, so the area's
    # count is suppressed with it (else borough minus area would give the 0); the borough's is published
    assert pub.loc["Borough", "Violence against women and girls"] == 15  # 16 rounds to 15
    assert pub.loc["Borough", "Domestic abuse"] == 10 and pub.loc["Borough", "Incidents involving knives"] == 10
    assert pd.isna(pub.loc["Area", "Violence against women and girls"])
    assert pub.loc["Area", "ASB reports to the council"] >= 10  # a cleared partner count of the area
    # a suppressed cell cannot be recovered as borough minus the rest of the borough
    for g in pub.columns:
        if pd.isna(pub.loc["Area", g]):
            assert pd.isna(pub.loc["Rest of borough", g]) or pd.isna(pub.loc["Borough", g])
    assert set(public.audit.loc[public.audit["table"] == "partner_counts", "row"]) >= {"Area", "Rest of borough"}
    assert "partner_coverage" not in public.tables and public.points is None  # partner layers never public
    out = tmp_path / "public"
    written = write_evidence(public, out)
    page = written["report.html"].read_text(encoding="utf-8")
    assert "Violence against women and girls, " in page and "female victim" in page
    for layer in ("CCTV view", "Walkabouts within", "Nearest community hub"):
        assert layer not in page
    register = json.loads((sdir / evidence.PUBLIC_REGISTER_NAME).read_text(encoding="utf-8"))
    assert register[-1]["area_counts"]["Violence against women and girls"] is None  # suppressed, as published
    assert register[-1]["area_counts"]["ASB reports to the council"] == pub.loc["Area", "ASB reports to the council"]


def test_unknown_area(demo):
    with pytest.raises(ParameterError, match="is not a hotspot area"):
        build_evidence(demo.store_dir, EvidenceParams(area="Atlantis"))


def test_report_tables_are_readable(pack_dir):
    import re

    out, pack = pack_dir
    page = (out / "report.html").read_text(encoding="utf-8")
    # one header row per table: no extra row carrying the index name
    theads = re.findall(r"<thead>(.*?)</thead>", page, flags=re.S)
    assert theads and all(t.count("<tr") == 1 for t in theads)
    assert "<th>Rows</th>" not in page
    # only the classes found in the area, each with at least one cell
    for name in ("hotspot_classes", "hotspot_patterns"):
        cells = pack.tables[name]["Cells"]
        assert len(cells) and (cells > 0).all()
    assert "Persistent Cold Spot" not in page and "persistent coldspot" not in page
    assert sum(pack.figures["hotspot_cells"].values()) == pack.figures["n_cells"]
    # counts print as whole numbers, in the page and in the CSVs
    assert not re.search(r"<td class=\"num\">[\d,]+\.0</td>", page.split("Partner data")[0].split("hottest")[1])
    cells_csv = pd.read_csv(out / "hotspot_cells.csv", dtype=str)
    assert cells_csv[schema.N].str.fullmatch(r"\d+").all()
    counts_csv = pd.read_csv(out / "counts.csv", dtype=str, index_col=0)
    assert counts_csv["All crime"].str.fullmatch(r"\d+").all()
    # the explanation is prose: left-aligned, with printed column names
    assert '<th class="text">Why</th>' in page and '<td class="text">hot in' in page
    assert "td.text, th.text { text-align: left; }" in page
    # partner coverage in words and percentages, not field names and raw floats
    share = pack.tables["partner_coverage"]["cctv_share"].iloc[0]
    assert f'Share of area in CCTV view</th><td class="text">{share:.1%}</td>' in page
    for raw in ("cctv_share", "cctv_covered", "walkabout_n", "hub_distance_m", "00:00:00"):
        assert raw not in page


def test_one_borough_store_has_no_pseudo_force(pack_dir):
    out, pack = pack_dir
    assert list(pack.tables["counts"].index) == ["Area", "Rest of borough", "Borough"]
    assert set(pack.figures["counts"]) == {"Area", "Rest of borough", "Borough"}
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "Rest of force" not in page and "Force comparison: not available" in page
    assert "not available</td>" not in page  # every row shown has its population, so its rate
    rates = pack.figures["rates_per_1000_per_year"]
    assert all(v is not None for row in rates.values() for v in row.values())


@pytest.fixture(scope="module")
def force_store(demo, tmp_path_factory):
    """The demo store with an areas file: Bury and a neighbour ring holding the crimes outside Bury."""
    import shutil

    from geo_csp import boundaries, store

    root = tmp_path_factory.mktemp("force") / "demo"
    shutil.copytree(demo.out_dir, root)
    bury = boundaries.load_borough()
    geom = bury.geometry.iloc[0]
    ring = shapely.difference(shapely.box(*shapely.buffer(geom, 5_000).bounds), geom)
    areas = gpd.GeoDataFrame(
        {
            "area_code": ["E08000002", "X1"],
            "area_name": ["Bury", "Neighbour"],
            "population": [float(bury[schema.POPULATION].iloc[0]), 100_000.0],
        },
        geometry=[geom, ring],
        crs="EPSG:27700",
    )
    areas.to_file(root / "areas.gpkg", driver="GPKG")
    config = store.store_config(root / "store")
    store.write_store_config(root / "store", {**config, "areas": "../areas.gpkg", "comparators": None})
    return root / "store"


def test_force_rows_when_the_store_holds_the_force(force_store):
    from geo_csp import store

    pack = build_evidence(force_store, EvidenceParams(area=AREA))
    c = pack.figures["counts"]
    assert list(pack.tables["counts"].index) == ["Area", "Rest of borough", "Borough", "Rest of force", "Force"]
    inc = store.read_incidents(force_store, sources=["police_uk_street"], located_only=True)
    inc = inc[
        inc[schema.MONTH].between(*pack.figures["rate_months"]) & (inc[schema.CRIME_TYPE] != "Anti-social behaviour")
    ]
    x, y = inc[schema.EASTING].to_numpy(), inc[schema.NORTHING].to_numpy()
    areas = gpd.read_file(force_store.parent / "areas.gpkg")
    in_ring = shapely.contains_xy(areas.geometry.iloc[1], x, y)
    assert c["Rest of force"]["All crime"] == int(in_ring.sum()) > 0
    assert c["Force"]["All crime"] == c["Borough"]["All crime"] + c["Rest of force"]["All crime"]
    r = pack.figures["rates_per_1000_per_year"]
    assert r["Rest of force"]["All crime"] == pytest.approx(c["Rest of force"]["All crime"] * 1000 / 100_000, abs=1e-3)
    pop_force = 100_000.0 + float(areas["population"].iloc[0])
    assert r["Force"]["All crime"] == pytest.approx(c["Force"]["All crime"] * 1000 / pop_force, abs=1e-3)
    assert "Force comparison: not available" not in " ".join(pack.notes)
    assert any("Neighbour" in n for n in pack.notes)


def test_public_pack_states_the_rule_in_plain_words(demo, tmp_path):
    pack = build_evidence(demo.store_dir, EvidenceParams(area=AREA, public=True))
    write_evidence(pack, tmp_path / "pub")
    page = (tmp_path / "pub" / "report.html").read_text(encoding="utf-8")
    rule = page.split('<p class="rule">')[1].split("</p>")[0]
    assert "Counts below 10 are suppressed" in rule and "rounded to the nearest 5" in rule
    assert "further cells are suppressed where a suppressed count could otherwise be worked out" in rule
    assert "Gaps in the public trend chart are months whose count is suppressed" in page
    # the prose under the table publishes no unprotected count (e.g. of crimes outside the borough)
    assert "Force comparison: not available" in page and not any(ch.isdigit() for ch in pack.force_note)


def test_another_boroughs_store_gets_no_pack_against_bury(tmp_path):
    """A Lancashire extract with no borough config must not be reported against Bury's outline and residents."""
    from _synthetic import random_incidents
    from geo_csp import ingest

    inc = random_incidents(400, seed=11, months=6, centre=(368_000.0, 428_000.0), spread_m=800.0)  # Blackburn
    pd.DataFrame(
        {
            "Crime ID": "",
            "Month": inc.month,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": inc.lon.round(6),
            "Latitude": inc.lat.round(6),
            "Location": inc.location,
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": inc.crime_type,
            "Last outcome category": "",
            "Context": "",
        }
    ).to_csv(tmp_path / "street.csv", index=False)
    ingest.ingest_paths([tmp_path / "street.csv"], store_dir=tmp_path / "store")
    area = gpd.GeoDataFrame(geometry=[shapely.box(367_000, 427_000, 369_000, 429_000)], crs="EPSG:27700")
    area.to_file(tmp_path / "area.geojson", driver="GeoJSON")
    with pytest.raises(ParameterError, match=r"fewer than 50% of its located incidents lie in Bury.*\"areas\""):
        build_evidence(tmp_path / "store", EvidenceParams(area=str(tmp_path / "area.geojson")))


def test_pack_says_how_well_its_cells_predict(pack_dir):
    _, pack = pack_dir
    told = pack.figures["how_well_it_predicts"]
    assert told["evidence"].startswith("On your data, over the last 12 rolling months, this selection found ")
    assert told["predictor"] and 0 < told["hit_rate_mean"] < 1
    assert any(n.startswith("How well the hotspot cells predict") for n in pack.notes)
    cells = pack.tables["hotspot_cells"]
    assert cells[schema.PREDICTED_N].is_monotonic_decreasing  # ranked by the default priority score


def test_concentration_in_sample_and_out_of_sample(pack_dir, demo):
    from geo_csp import hotspot_run, store

    out, pack = pack_dir
    f = pack.figures
    oos = f["concentration_out_of_sample"]
    assert f["concentration_in_sample"] and oos["status"] == "computed"
    assert oos["defined_on"] == ["2023-01", "2024-12"] and oos["measured_on"] == f["rate_months"] == [
        "2025-01",
        "2025-12",
    ]
    # the areas found again on 2023-01..2024-12 only; the town centre's is measured on 2025's crime
    street = store.read_incidents(demo.store_dir, sources=["police_uk_street"])
    from geo_csp.geography import store_geography

    geo = store_geography(demo.store_dir)
    early = hotspot_run.run_hotspots(
        street[street[schema.MONTH] <= "2024-12"],
        cube_params=CubeParams(months=("2023-01", "2024-12")),
        named_places=geo.named_places,
    )
    overlap = shapely.area(shapely.intersection(early.areas.geometry.to_numpy(), pack.area.geometry.iloc[0]))
    area = early.areas.geometry.iloc[int(np.argmax(overlap))]
    late = street[street[schema.MONTH] >= "2025-01"]
    borough = pack.borough.geometry.iloc[0]
    x, y = late[schema.EASTING].to_numpy(), late[schema.NORTHING].to_numpy()
    in_b = shapely.contains_xy(borough, x, y)
    share = (shapely.contains_xy(area, x, y) & in_b).sum() / in_b.sum()
    land = shapely.intersection(area, borough).area / borough.area
    assert oos["area_name"] == AREA
    np.testing.assert_allclose(oos["concentration_ratio"], share / land, rtol=1e-3)
    # the planted persistent hotspot holds up out of sample (within 15 % of the in-sample figure)
    assert abs(oos["concentration_ratio"] / f["concentration_ratio"] - 1) < 0.15
    page = (out / "report.html").read_text(encoding="utf-8")
    assert (
        "Concentration is IN-SAMPLE" in page and "Out of sample, the hotspot area drawn on 2023-01 to 2024-12" in page
    )
    # residents are the wrong denominator for a town centre: the pack says so, beside the figures
    assert f["residents_denominator_caution"] and "footfall" in page
    assert "anonymised snap points" in page


def test_residents_denominator_and_concentration_notes():
    from geo_csp import evidence

    text, strong = evidence.residents_denominator_note("Moorside", 60.0, 50.0)
    assert not strong and "footfall" in text
    text, strong = evidence.residents_denominator_note("Moorside", 200.0, 50.0)
    assert strong and text.startswith("Moorside: its all-crime rate per resident is 4.0 times the borough's")
    assert evidence.residents_denominator_note("Bury Town Centre", 60.0, 50.0)[1]
    note = evidence.concentration_note("ward", None, np.array(["2025-01", "2025-12"]))
    assert note.startswith("Concentration: the ward is a fixed area")


def test_trend_chart_marks_the_operations_of_its_months(pack_dir):
    """The restricted pack's 36 months (2023-01 to 2025-12) mark Lantern, Heartbeat and the 8 Avro days at their
    months, on the figure and in the report and manifest."""
    from geo_csp.evidence.report import pack_maps
    from geo_csp.figures import OPERATION_GID

    out, pack = pack_dir
    marked = pack.figures["operations_marked"]
    assert [(m["name"], m["first"], m["last"]) for m in marked] == [
        ("Avro", "2023-03", "2023-03"),
        ("Avro", "2023-07", "2023-07"),
        ("Avro", "2023-11", "2023-11"),
        ("Lantern", "2024-01", "2025-12"),
        ("Avro", "2024-03", "2024-03"),
        ("Avro", "2024-07", "2024-07"),
        ("Avro", "2024-11", "2024-11"),
        ("Heartbeat", "2025-01", "2025-12"),
        ("Avro", "2025-03", "2025-03"),
        ("Avro", "2025-07", "2025-07"),
    ]
    ax = pack_maps(pack)["trend"].axes[0]
    lines = [ln for ln in ax.lines if ln.get_gid() == OPERATION_GID["line"]]
    assert len(lines) == 10
    assert len([p for p in ax.patches if p.get_gid() == OPERATION_GID["band"]]) == 2
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "the 10 operation(s) of the store's operations layer" in page and "Heartbeat (2025-01-01 to" in page
    assert json.loads((out / "manifest.json").read_text(encoding="utf-8"))["figures"]["operations_marked"] == marked
