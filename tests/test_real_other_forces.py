"""Stores that are not Bury, made from real public data as a new user would make them, through the CLI.

* Lancashire ASB points (2022) ingested through a column mapping as a partner source, configured with one
  district (Ribble Valley) as the borough, the force-wide 2022 ward file and the mid-2020 ward population:
  a store holding partner data only.
* Lancashire Constabulary street crime (Nov 2018 - Feb 2019), configured with Preston as the borough and
  the force-wide ward file (no population).
* Cumbria Constabulary street crime (Oct 2018 - Feb 2019: one complete financial quarter), with a study
  outline drawn around the force's own located points (no Cumbria boundary is among the real files).

Every CLI command that applies to a store (all but ``demo`` and ``national-demo``, which write their own
SYNTHETIC data) runs on them without an exception, ``evidence`` finds the same hotspot areas as
``geo-csp areas``, the table works with one quarter, and every app page renders (Streamlit AppTest).
The stores are built once per module.
"""

from __future__ import annotations

import json
from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from typer.testing import CliRunner

from geo_csp import schema
from geo_csp.cli import app
from conftest import REAL_DATA_DIR as SHARED_REAL_DATA_DIR

pytestmark = pytest.mark.slow
RUNNER = CliRunner()
ASB = SHARED_REAL_DATA_DIR / "lancashire-asb-2022"
LANCS = SHARED_REAL_DATA_DIR / "police-uk-street-lancashire-2018-19" / "lancashire_street_2018-11_to_2019-02.csv.gz"
CUMBRIA = SHARED_REAL_DATA_DIR / "police-uk-street-cumbria-2018-19" / "cumbria_street_2018-10_to_2019-02.csv.gz"
MAPPING = """source = "lancashire_asb"
force = "lancashire"
[columns]
month = "month"
date_format = "%Y-%m"
category = "crime_type"
lon = "longitude"
lat = "latitude"
location = "location"
"""


def _cli(*args: str) -> str:
    result = RUNNER.invoke(app, [str(a) for a in args])
    assert result.exit_code == 0, (args, result.output, result.exception)
    return result.output


def _district(root: Path, name: str) -> Path:
    districts = gpd.read_file(ASB / "lancashire_districts_2022.geojson")
    path = root / f"{name.lower().replace(' ', '_')}.geojson"
    districts[districts["district"] == name].to_file(path, driver="GeoJSON")
    return path


def _layers(root: Path, hub: tuple[float, float], op: shapely.Polygon, start: str, end: str) -> dict[str, Path]:
    """A community hub and one operation, as a partnership would list its own (these are planning inputs)."""
    pd.DataFrame({"hub_id": ["H1"], "name": ["Town hall hub"], "lon": [hub[0]], "lat": [hub[1]]}).to_csv(
        root / "hubs.csv", index=False
    )
    gpd.GeoDataFrame(
        {"name": ["Op Test"], "type": ["patrol"], "start_date": [start], "end_date": [end], "footprint": ["polygon"]},
        geometry=[op],
        crs="EPSG:27700",
    ).to_file(root / "operations.geojson", driver="GeoJSON")
    return {"hubs": root / "hubs.csv", "operations": root / "operations.geojson"}


@pytest.fixture(scope="module")
def stores(tmp_path_factory) -> dict[str, dict[str, object]]:
    if not (ASB / "lancashire_wards_2022.gpkg").exists() or not LANCS.exists() or not CUMBRIA.exists():
        pytest.skip("real Lancashire/Cumbria data not present")
    root = tmp_path_factory.mktemp("other_forces")
    wards, pop = ASB / "lancashire_wards_2022.gpkg", ASB / "lancashire_ward_population_mid2020.csv"
    out: dict[str, dict[str, object]] = {}

    (root / "asb.toml").write_text(MAPPING, encoding="utf-8")
    asb = root / "asb"
    _cli("ingest", ASB / "lancashire_asb_2022_points.csv.gz", "--mapping", root / "asb.toml", "--store", asb)
    configured = _cli(
        "configure",
        "--store",
        asb,
        "--borough",
        "Ribble Valley",
        "--boundary",
        _district(root, "Ribble Valley"),
        "--wards",
        wards,
        "--population",
        pop,
    )
    (root / "asb_layers").mkdir()
    out["asb"] = {
        "store": asb,
        "source": ["--source", "lancashire_asb"],
        "split": "2022-07",
        "configured": configured,
        **_layers(
            root / "asb_layers",
            (-2.3930, 53.8711),
            shapely.box(374_000, 441_000, 375_500, 442_500),
            "2022-09-01",
            "2022-10-31",
        ),
    }

    lancs = root / "lancs"
    _cli("ingest", LANCS, "--store", lancs)
    _cli(
        "configure",
        "--store",
        lancs,
        "--borough",
        "Preston",
        "--boundary",
        _district(root, "Preston"),
        "--wards",
        wards,
    )
    (root / "lancs_layers").mkdir()
    out["lancs"] = {
        "store": lancs,
        "source": [],
        "split": "2019-01",
        **_layers(
            root / "lancs_layers",
            (-2.7076, 53.7566),
            shapely.box(353_500, 429_000, 354_500, 430_000),
            "2019-01-01",
            "2019-01-31",
        ),
    }

    cumbria = root / "cumbria"
    _cli("ingest", CUMBRIA, "--store", cumbria)
    raw = pd.read_csv(CUMBRIA, usecols=["Longitude", "Latitude"]).dropna()
    pts = gpd.GeoSeries(gpd.points_from_xy(raw["Longitude"], raw["Latitude"]), crs="EPSG:4326").to_crs("EPSG:27700")
    core = raw["Longitude"].between(-3.7, -2.1).to_numpy() & raw["Latitude"].between(54.0, 55.2).to_numpy()
    outline = shapely.concave_hull(
        shapely.multipoints(shapely.get_coordinates(pts[core].to_numpy())), ratio=0.1
    ).buffer(500.0)
    gpd.GeoDataFrame({"name": ["Cumbria"]}, geometry=[outline], crs="EPSG:27700").to_file(
        root / "cumbria_outline.geojson", driver="GeoJSON"
    )
    _cli("configure", "--store", cumbria, "--borough", "Cumbria", "--boundary", root / "cumbria_outline.geojson")
    (root / "cumbria_layers").mkdir()
    out["cumbria"] = {
        "store": cumbria,
        "source": [],
        "split": "2018-12",
        **_layers(
            root / "cumbria_layers",
            (-2.9330, 54.8904),
            shapely.box(339_500, 555_500, 340_500, 556_500),
            "2018-12-01",
            "2018-12-31",
        ),
    }
    return out


def test_configure_keeps_the_districts_wards_and_lists_the_slivers(stores):
    from geo_csp.geography import store_geography

    text = " ".join(str(stores["asb"]["configured"]).split())
    assert "26 of 271 kept" in text and "more than 50% of its area" in text
    geo = store_geography(stores["asb"]["store"])
    assert len(geo.wards) == 26 and geo.wards["population"].notna().all()
    assert geo.outline["population"].iloc[0] == pytest.approx(geo.wards["population"].sum())
    assert len(store_geography(stores["lancs"]["store"]).wards) == 16  # Preston's 16 wards, none of the slivers


@pytest.mark.parametrize("name", ["asb", "lancs", "cumbria"])
def test_evidence_finds_the_areas_of_geo_csp_areas(stores, name, tmp_path):
    s = stores[name]
    _cli("areas", "--store", s["store"], *s["source"], "--out", tmp_path / "areas.gpkg")
    areas = gpd.read_file(tmp_path / "areas.gpkg", layer="hotspot_areas")
    assert len(areas)
    from geo_csp import evidence

    params = evidence.EvidenceParams(area="HS-0001", sources=tuple(s["source"][1:]) or (schema.SOURCE_STREET,))
    pack = evidence.build_evidence(s["store"], params)
    first = areas[areas["area_id"] == "HS-0001"].iloc[0]
    assert pack.figures["area_name"] == first["name"]
    # the pack's area is the same polygon (clipped to the borough), inside the borough
    assert pack.figures["area_km2"] == pytest.approx(
        shapely.area(shapely.intersection(first.geometry, pack.borough.geometry.iloc[0])) / 1e6, rel=1e-3
    )
    counts = pack.figures["counts"]
    for group, n in counts["Borough"].items():
        assert n == counts["Area"][group] + counts["Rest of borough"][group]
        assert counts["Area"][group] < n  # the area is part of the borough, not the borough plus strays
    for row in pack.figures["rates_per_1000_per_year"].values():
        assert all(v is None or np.isfinite(v) for v in row.values())
    public = evidence.build_evidence(
        s["store"], evidence.EvidenceParams(area="HS-0001", sources=params.sources, public=True)
    )  # passes the hierarchy checks
    assert public.figures["area_name"] == first["name"]


def test_partner_only_store_pack_and_table(stores, tmp_path):
    s = stores["asb"]
    text = _cli(
        "evidence",
        "--store",
        s["store"],
        "--source",
        "lancashire_asb",
        "--area",
        "HS-0001",
        "--out",
        tmp_path / "pack",
        "--public",
    )
    assert "anti-social behaviour" in " ".join(text.split())
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    fig = manifest["figures"]
    assert list(fig["counts"]["Borough"]) == ["Anti-social behaviour"]
    assert fig["population_estimate"] > 0 and fig["rates_per_1000_per_year"]["Borough"]["Anti-social behaviour"] > 0
    from geo_csp.table import NOT_AVAILABLE, table_from_store

    t = table_from_store(s["store"], sources=["lancashire_asb"], n_quarters=4)
    shown = t.display.set_axis([m.key for m in t.measures])
    assert (shown.loc["burglary"] == NOT_AVAILABLE).all() and (shown.loc["drugs"] == NOT_AVAILABLE).all()
    quarters = [c for c in t.values.columns if c.startswith("Q")]
    assert len(quarters) == 4
    # table and pack agree on what lies in the borough (a point on the outline counts inside both)
    from geo_csp.evidence import EvidenceParams, build_evidence

    private = build_evidence(s["store"], EvidenceParams(area="HS-0001", sources=("lancashire_asb",))).figures
    assert t.values.loc["asb_police", quarters].sum() == private["counts"]["Borough"]["Anti-social behaviour"]


def test_table_with_one_quarter(stores, tmp_path):
    s = stores["cumbria"]
    text = _cli(
        "table", "--store", s["store"], "--xlsx", tmp_path / "t.xlsx", "--html", tmp_path / "t.html", "--quarters", "1"
    )
    assert "Q3 Oct-Dec 2018" in text
    from geo_csp.table import NOT_AVAILABLE, RANK, TREND, YEAR_ON_YEAR, table_from_store

    t = table_from_store(s["store"])  # five asked for, one held
    assert list(t.display.columns) == ["Q3 Oct-Dec 2018", TREND, YEAR_ON_YEAR, "Comparator", RANK]
    assert set(t.display[TREND]) == set(t.display[YEAR_ON_YEAR]) == {NOT_AVAILABLE}  # no earlier quarter held
    raw = pd.read_csv(CUMBRIA, usecols=["Month", "Crime type", "Longitude", "Latitude"])
    outline = gpd.read_file(Path(s["store"]).parent / "cumbria_outline.geojson").geometry.iloc[0]
    q = raw[raw["Month"].isin(["2018-10", "2018-11", "2018-12"]) & (raw["Crime type"] == "Burglary")].dropna()
    xy = gpd.GeoSeries(gpd.points_from_xy(q["Longitude"], q["Latitude"]), crs="EPSG:4326").to_crs("EPSG:27700")
    assert t.values.loc["burglary", "Q3 Oct-Dec 2018"] == int(shapely.intersects(outline, xy.to_numpy()).sum())


@pytest.mark.parametrize("name", ["asb", "lancs", "cumbria"])
def test_every_cli_command(stores, name, tmp_path):
    s = stores[name]
    store, src = s["store"], s["source"]
    _cli("version")
    _cli("status", "--store", store, "--json")
    _cli("configure", "--store", store, "--show", "--json")
    _cli("hotspots", "--store", store, *src, "--out", tmp_path / "h.gpkg")
    if name == "cumbria":  # configured with an outline only: the error names the borough and the fix
        result = RUNNER.invoke(
            app, ["hotspots", "--store", str(store), "--unit", "ward", "--out", str(tmp_path / "w.gpkg")]
        )
        message = str(result.exception)
        assert result.exit_code == 1 and "the borough 'Cumbria'" in message and "--wards FILE" in message
        assert "names no borough" not in message
    else:
        _cli("hotspots", "--store", store, *src, "--unit", "ward", "--out", tmp_path / "w.gpkg")
    _cli("areas", "--store", store, *src, "--out", tmp_path / "a.gpkg")
    _cli("backtest", "--store", store, *src, "--split", s["split"], "--json")
    _cli("cube", "--store", store, "--backend", "memory", "--out", tmp_path / "cube.parquet")
    _cli(
        "coverage",
        "--store",
        store,
        *src,
        "--hubs",
        s["hubs"],
        "--operations",
        s["operations"],
        "--out",
        tmp_path / "gaps.csv",
    )
    _cli(
        "route",
        "--store",
        store,
        *src,
        "--start",
        "Town hall hub",
        "--budget-min",
        "60",
        "--hubs",
        s["hubs"],
        "--offline",
        "--gpx",
        tmp_path / "walk.gpx",
    )
    _cli("review", "--store", store, *src, "--operation", "Op Test", "--operations", s["operations"], "--json")
    table_args = ["--source", "lancashire_asb"] if src else []
    if name != "lancs":  # four months, Nov-Feb: no complete financial quarter (a clear error, tested below)
        _cli("table", "--store", store, *table_args, "--xlsx", tmp_path / "t.xlsx", "--csv", tmp_path / "t.csv")
    _cli("evidence", "--store", store, *src, "--area", "HS-0001", "--out", tmp_path / "pack")
    # every study-area command takes the same --boundary
    outline = Path(store).parent / (
        "cumbria_outline.geojson"
        if name == "cumbria"
        else "preston.geojson"
        if name == "lancs"
        else "ribble_valley.geojson"
    )
    _cli("cube", "--store", store, "--backend", "memory", "--boundary", outline, "--out", tmp_path / "c2.parquet")


def test_lancashire_street_table_without_a_complete_quarter_says_so(stores, tmp_path):
    result = RUNNER.invoke(app, ["table", "--store", str(stores["lancs"]["store"]), "--xlsx", str(tmp_path / "t.xlsx")])
    assert result.exit_code != 0 and "no complete financial quarter" in str(result.exception)


@pytest.mark.parametrize("name", ["asb", "cumbria"])
def test_every_app_page(stores, name, monkeypatch):
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GEO_CSP_STORE", str(stores[name]["store"]))
    entry = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(entry), default_timeout=300)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    for page in sorted((entry.parent / "geo_csp" / "app" / "pages").glob("*.py")):
        at.switch_page(f"geo_csp/app/pages/{page.name}").run()
        assert not at.exception, (page.name, [e.message for e in at.exception])


def _top_ward_by_rate_independently() -> tuple[str, float]:
    """Ribble Valley's ward with the highest ASB rate in 2022, by geopandas alone from the raw files."""
    wards = gpd.read_file(ASB / "lancashire_wards_2022.gpkg").to_crs("EPSG:27700")
    district = gpd.read_file(ASB / "lancashire_districts_2022.geojson").to_crs("EPSG:27700")
    outline = district.loc[district["district"] == "Ribble Valley"].geometry.iloc[0]
    wards = wards[wards.geometry.intersection(outline).area > 0.5 * wards.geometry.area]
    raw = pd.read_csv(ASB / "lancashire_asb_2022_points.csv.gz")
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy(raw["longitude"], raw["latitude"]), crs="EPSG:4326").to_crs(
        "EPSG:27700"
    )
    joined = gpd.sjoin(pts, wards, predicate="intersects")
    n = joined.groupby("ward_code").size().reindex(wards["ward_code"], fill_value=0)
    pop = pd.read_csv(ASB / "lancashire_ward_population_mid2020.csv").set_index("gss_code")["population"]
    rate = n / pop.reindex(n.index) * 1000.0  # 12 months of 2022: per 1,000 residents a year
    top = rate.idxmax()
    return str(wards.set_index("ward_code").loc[top, "ward_name"]), float(rate.max())


def test_ward_run_leads_with_the_top_ward_by_rate(stores, tmp_path):
    """On Ribble Valley's 26 wards the CLI, the evidence pack and the app lead with counts and rates."""
    name, rate = _top_ward_by_rate_independently()
    s = stores["asb"]
    text = " ".join(
        _cli("hotspots", "--store", s["store"], *s["source"], "--unit", "ward", "--out", tmp_path / "w.gpkg").split()
    )
    assert f"{name} has the highest rate: {rate:.1f} per 1,000 residents a year (95% interval" in text
    assert "Gi* compares a ward together with its neighbours" in text and "use H3 cells (--unit h3" in text
    meta = json.loads(Path(f"{tmp_path / 'w.gpkg'}.json").read_text(encoding="utf-8"))
    assert meta["few_units"]["lead"][0].startswith(f"{name} has the highest rate")
    areas_text = " ".join(
        _cli("areas", "--store", s["store"], *s["source"], "--unit", "ward", "--out", tmp_path / "a.gpkg").split()
    )
    assert f"{name} has the highest rate" in areas_text
    # H3 runs do not (many small units)
    assert "has the highest rate" not in _cli(
        "hotspots", "--store", s["store"], *s["source"], "--out", tmp_path / "h.gpkg"
    )

    _cli("evidence", "--store", s["store"], *s["source"], "--area", "HS-0001", "--out", tmp_path / "pack")
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["figures"]["wards"]["lead"][0].startswith(f"{name} has the highest rate: {rate:.1f}")
    report = (tmp_path / "pack" / "report.html").read_text(encoding="utf-8")
    assert "The borough&#x27;s wards: counts, rates and change" in report or "The borough's wards" in report
    wards_csv = pd.read_csv(tmp_path / "pack" / "wards.csv")
    assert wards_csv.loc[0, "name"] == name and len(wards_csv) == 26


def test_app_map_page_leads_a_ward_run_with_rates(stores, monkeypatch):
    from streamlit.testing.v1 import AppTest

    name, rate = _top_ward_by_rate_independently()
    monkeypatch.setenv("GEO_CSP_STORE", str(stores["asb"]["store"]))
    entry = Path(__file__).resolve().parent.parent / "app.py"
    at = AppTest.from_file(str(entry), default_timeout=300)
    at.run()
    at.switch_page("geo_csp/app/pages/map.py").run()
    at.radio(key="unit").set_value("Wards").run()
    assert not at.exception, [e.message for e in at.exception]
    lead = next(m.value for m in at.markdown if "has the highest rate" in m.value).replace("\\", "")
    assert lead.startswith(f"{name} has the highest rate: {rate:.1f} per 1,000")
    table = next(d.value for d in at.dataframe if "Why Gi* says so" in d.value.columns)
    assert len(table) == 26 and table.iloc[0]["Name"] == name


def test_a_district_of_a_county_file_on_every_study_area_command(stores, tmp_path):
    """--boundary FILE --district NAME picks one district of the county's file, on configure and the commands."""
    s = stores["lancs"]
    county = ASB / "lancashire_districts_2022.geojson"
    meta_path = tmp_path / "h.gpkg.json"
    _cli("hotspots", "--store", s["store"], "--boundary", county, "--district", "preston", "--out", tmp_path / "h.gpkg")
    meta = json.loads(meta_path.read_text(encoding="utf-8"))
    assert meta["study_area"] == f"{county} (preston)"
    preston = gpd.read_file(Path(s["store"]).parent / "preston.geojson").to_crs("EPSG:27700").geometry.iloc[0]
    assert meta["study_area_km2"] == pytest.approx(preston.area / 1e6, rel=1e-6)
    own = Path(s["store"]).parent / "preston.geojson"
    _cli("hotspots", "--store", s["store"], "--boundary", own, "--out", tmp_path / "p.gpkg")
    same = json.loads(Path(f"{tmp_path / 'p.gpkg'}.json").read_text(encoding="utf-8"))
    assert same["n_units"] == meta["n_units"]
    for command in (
        ["areas", "--out", tmp_path / "a.gpkg"],
        ["cube", "--backend", "memory", "--out", tmp_path / "c.parquet"],
        ["backtest", "--split", s["split"], "--json"],
        ["coverage", "--hubs", s["hubs"], "--operations", s["operations"], "--out", tmp_path / "gaps.csv"],
    ):
        _cli(command[0], "--store", s["store"], "--boundary", county, "--district", "Preston", *command[1:])
    result = RUNNER.invoke(
        app,
        [
            "areas",
            "--store",
            str(s["store"]),
            "--boundary",
            str(county),
            "--district",
            "Prestonn",
            "--out",
            str(tmp_path / "x.gpkg"),
        ],
    )
    assert result.exit_code == 1
    assert "--district 'Prestonn' is not in" in str(result.exception) and "Preston, Ribble Valley" in str(
        result.exception
    )


def test_configure_a_district_of_a_county_file(tmp_path):
    if not (ASB / "lancashire_wards_2022.gpkg").exists():
        pytest.skip("real Lancashire data not present")
    county = ASB / "lancashire_districts_2022.geojson"
    (tmp_path / "asb.toml").write_text(MAPPING, encoding="utf-8")
    store = tmp_path / "asb"
    _cli("ingest", ASB / "lancashire_asb_2022_points.csv.gz", "--mapping", tmp_path / "asb.toml", "--store", store)
    result = RUNNER.invoke(app, ["configure", "--store", str(store), "--boundary", str(county), "--district", "Ribble"])
    assert result.exit_code == 1 and "'district' column holds Blackburn with Darwen" in str(result.exception)
    text = _cli(
        "configure",
        "--store",
        store,
        "--borough",
        "Ribble Valley",
        "--boundary",
        county,
        "--district",
        "Ribble Valley",
        "--wards",
        ASB / "lancashire_wards_2022.gpkg",
        "--population",
        ASB / "lancashire_ward_population_mid2020.csv",
    )
    assert "26 of 271 kept" in " ".join(text.split())
    from geo_csp.geography import store_geography, store_study_area

    geo = store_geography(store)
    assert len(geo.wards) == 26 and geo.wards["population"].notna().all()
    area, label = store_study_area(store)
    assert len(area) == 1 and label.endswith("(Ribble Valley)")
    # --district alone picks another district of the configured county file
    _cli(
        "hotspots", "--store", store, "--source", "lancashire_asb", "--district", "Pendle", "--out", tmp_path / "h.gpkg"
    )
    meta = json.loads(Path(f"{tmp_path / 'h.gpkg'}.json").read_text(encoding="utf-8"))
    assert meta["study_area"].endswith("(Pendle)")
