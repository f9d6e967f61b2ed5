"""``geo-csp configure`` on tmp stores, and a configured non-Bury store's table and evidence pack.

The synthetic borough lies around Blackburn (EPSG:27700 368,000 / 428,000), far from Bury: four square
wards with made-up names, a population CSV, one named place and 12 months of police.uk-format rows.
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

from geo_csp import schema, store
from geo_csp.cli import app

RUNNER = CliRunner()
X0, Y0 = 366_000.0, 426_000.0  # south-west corner of the synthetic borough (2 km x 2 km wards)
WARD_NAMES = ["Alderbank", "Brookfold", "Cinderhill", "Dunmoor"]
BURY_PLACES = ("Bury", "Moorside", "Whitefield", "Radcliffe", "Ramsbottom", "Prestwich", "Tottington")


def _wards_file(path: Path, *, code_col: str = "WD_CD", name_col: str = "WD_NM") -> Path:
    boxes = [
        shapely.box(X0 + i * 2000, Y0 + j * 2000, X0 + (i + 1) * 2000, Y0 + (j + 1) * 2000)
        for j in range(2)
        for i in range(2)
    ]
    gpd.GeoDataFrame(
        {code_col: [f"X0500000{k}" for k in range(4)], name_col: WARD_NAMES}, geometry=boxes, crs="EPSG:27700"
    ).to_crs("EPSG:4326").to_file(path, driver="GeoJSON")
    return path


def _police_csv(path: Path, *, n: int = 1200, seed: int = 3) -> Path:
    """police.uk street rows in the synthetic borough, 12 months, a quarter of them in a hot square."""
    from pyproj import Transformer

    rng = np.random.default_rng(seed)
    x = rng.uniform(X0 + 50, X0 + 3950, n)
    y = rng.uniform(Y0 + 50, Y0 + 3950, n)
    hot = rng.random(n) < 0.25
    x[hot] = rng.uniform(X0 + 2900, X0 + 3100, hot.sum())
    y[hot] = rng.uniform(Y0 + 2900, Y0 + 3100, hot.sum())
    lon, lat = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True).transform(x, y)
    months = np.array([f"2023-{m:02d}" for m in range(1, 13)])[rng.integers(0, 12, n)]
    types = np.asarray(schema.CRIME_TYPES, dtype=object)[rng.integers(0, 14, n)]
    pd.DataFrame(
        {
            "Crime ID": "",
            "Month": months,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": np.round(lon, 6),
            "Latitude": np.round(lat, 6),
            "Location": [f"On or near Street {k % 30}" for k in range(n)],
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": types,
            "Last outcome category": "",
            "Context": "",
        }
    ).to_csv(path, index=False)
    return path


@pytest.fixture(scope="module")
def borough(tmp_path_factory) -> dict[str, Path]:
    """A store of the synthetic borough, configured with its wards, population and a named place."""
    from geo_csp import ingest

    root = tmp_path_factory.mktemp("blackburn")
    store_dir = root / "store"
    ingest.ingest_paths([_police_csv(root / "street.csv")], store_dir=store_dir)
    (store_dir / "geo").mkdir()
    wards = _wards_file(store_dir / "geo" / "wards.geojson")
    pd.DataFrame({"gss": [f"X0500000{k}" for k in range(4)], "residents": [5000, 6000, 7000, 8000]}).to_csv(
        root / "pop.csv", index=False
    )
    gpd.GeoDataFrame(
        {"name": ["Old Mill Quarter"]}, geometry=[shapely.Point(X0 + 3000, Y0 + 3000).buffer(300)], crs="EPSG:27700"
    ).to_file(root / "places.geojson", driver="GeoJSON")
    result = RUNNER.invoke(
        app,
        [
            "configure",
            "--store",
            str(store_dir),
            "--borough",
            "Blackburn Test",
            "--wards",
            str(wards),
            "--ward-code-col",
            "WD_CD",
            "--ward-name-col",
            "WD_NM",
            "--population",
            str(root / "pop.csv"),
            "--population-code-col",
            "gss",
            "--population-col",
            "residents",
            "--named-places",
            str(root / "places.geojson"),
        ],
    )
    assert result.exit_code == 0, result.output
    return {"root": root, "store": store_dir, "wards": wards}


def test_configure_stores_relative_and_absolute_paths(borough):
    config = store.store_config(borough["store"])
    assert config["wards"] == "geo/wards.geojson"  # inside the store: relative
    assert config["named_places"] == str((borough["root"] / "places.geojson").absolute())  # outside: absolute
    assert config["population"] == str((borough["root"] / "pop.csv").absolute())
    assert (config["ward_code_col"], config["ward_name_col"]) == ("WD_CD", "WD_NM")
    assert (config["population_code_col"], config["population_col"], config["population_unit"]) == (
        "gss",
        "residents",
        "ward",
    )


def test_configure_merges_and_shows(borough, tmp_path):
    import shutil

    store_dir = tmp_path / "store"
    shutil.copytree(borough["store"], store_dir)
    store.update_store_config(store_dir, {"layers_dir": "../layers"})
    result = RUNNER.invoke(app, ["configure", "--store", str(store_dir), "--borough", "Renamed", "--show", "--json"])
    assert result.exit_code == 0, result.output
    shown = json.loads(result.stdout)
    assert shown["config"]["borough"] == "Renamed" and shown["config"]["layers_dir"] == "../layers"
    assert shown["config"]["wards"] == "geo/wards.geojson"  # kept from the earlier configure
    assert shown["files"]["wards"] == {"path": str(store_dir / "geo" / "wards.geojson"), "exists": True}
    result = RUNNER.invoke(app, ["configure", "--store", str(store_dir), "--unset", "population"])
    assert result.exit_code == 0, result.output
    config = store.store_config(store_dir)
    assert config["population"] is None and config["population_unit"] is None and config["borough"] == "Renamed"


@pytest.mark.parametrize(
    "args, pattern",
    [
        (
            ["--wards", "{wards}"],
            r"--wards .*wards\.geojson: .*no column\(s\) \['ward_code', 'ward_name'\].*--ward-code-col",
        ),
        (["--wards", "{missing}"], r"missing\.geojson does not exist"),
        (["--wards", "{points}"], r"points\.geojson: feature 0 is a Point, not a polygon"),
        (["--boundary", "{nocrs}"], r"nocrs\.gpkg has no CRS"),
        (
            [
                "--wards",
                "{wards}",
                "--ward-code-col",
                "WD_CD",
                "--ward-name-col",
                "WD_NM",
                "--population",
                "{short_pop}",
                "--population-code-col",
                "gss",
                "--population-col",
                "residents",
            ],
            r"1 of the 4 wards of .*wards\.geojson have no row in it.*Dunmoor.*configure without --population",
        ),
        (["--population", "{short_pop}"], r"--population .* no code column \(ward_code, lsoa_code, gss_code, code\)"),
        (["--comparators", "Elsewhere"], r"--comparators name rows of an areas file: give --areas"),
        (["--areas", "{wards}"], r"--areas .* no column\(s\) \['area_code', 'area_name', 'population'\]"),
    ],
)
def test_configure_errors_name_the_file_and_the_fix(tmp_path, args, pattern):
    from geo_csp.cli import main  # noqa: F401  (the CLI entry converts errors into one line)

    wards = _wards_file(tmp_path / "wards.geojson")
    gpd.GeoDataFrame(geometry=[shapely.Point(X0, Y0)], crs="EPSG:27700").to_file(tmp_path / "points.geojson")
    with pytest.warns(UserWarning, match="crs"):  # a GeoJSON without CRS is read as WGS84: use a GeoPackage
        gpd.GeoDataFrame(geometry=[shapely.box(0, 0, 1, 1)]).to_file(tmp_path / "nocrs.gpkg")
    pd.DataFrame({"gss": ["X05000000", "X05000001", "X05000002"], "residents": [1, 2, 3]}).to_csv(
        tmp_path / "short_pop.csv", index=False
    )
    names = {
        "wards": wards,
        "missing": tmp_path / "missing.geojson",
        "points": tmp_path / "points.geojson",
        "nocrs": tmp_path / "nocrs.gpkg",
        "short_pop": tmp_path / "short_pop.csv",
    }
    result = RUNNER.invoke(app, ["configure", "--store", str(tmp_path / "store"), *[a.format(**names) for a in args]])
    assert result.exit_code != 0
    assert re_search(pattern, str(result.exception))
    assert not (tmp_path / "store" / store.CONFIG_NAME).exists()  # nothing written


def re_search(pattern: str, text: str) -> bool:
    import re

    return re.search(pattern, text, flags=re.S) is not None


def test_configured_geography_is_the_stores_own(borough):
    from geo_csp.geography import store_geography

    geo = store_geography(borough["store"])
    assert geo.shipped == () and geo.borough == "Blackburn Test"
    assert list(geo.wards["ward_name"]) == WARD_NAMES
    assert geo.outline["population"].iloc[0] == pytest.approx(26_000.0)
    assert geo.outline.geometry.iloc[0].area == pytest.approx(16e6, rel=1e-6)
    assert list(geo.named_places["name"]) == ["Old Mill Quarter"]


def test_table_of_a_configured_non_bury_store(borough, tmp_path):
    result = RUNNER.invoke(
        app,
        [
            "table",
            "--store",
            str(borough["store"]),
            "--xlsx",
            str(tmp_path / "t.xlsx"),
            "--html",
            str(tmp_path / "t.html"),
            "--quarters",
            "3",
        ],
    )
    assert result.exit_code == 0, result.output
    page = (tmp_path / "t.html").read_text(encoding="utf-8")
    assert "Blackburn Test" in page and "26,000" in page
    assert not any(place in page for place in BURY_PLACES)
    # known answer: all crimes (not ASB) per 1,000 in Q1 Apr-Jun 2023, counted here from the CSV
    from geo_csp.table import table_from_store

    t = table_from_store(borough["store"], n_quarters=3)
    raw = pd.read_csv(borough["root"] / "street.csv")
    q1 = raw["Month"].isin(["2023-04", "2023-05", "2023-06"]) & (raw["Crime type"] != "Anti-social behaviour")
    assert t.values.loc["all_crime_rate", "Q1 Apr-Jun 2023"] == pytest.approx(q1.sum() * 1000 / 26_000, rel=1e-9)


@pytest.mark.parametrize("area, kind", [("Brookfold", "ward"), ("Old Mill Quarter", "named place")])
def test_evidence_of_a_configured_non_bury_store(borough, area, kind):
    from geo_csp.evidence import EvidenceParams, build_evidence

    pack = build_evidence(borough["store"], EvidenceParams(area=area, trend_months=12))
    # the hot square is a hotspot area named after the place it lies in, which the lookup finds first
    assert pack.figures["area_kind"] in (kind, "hotspot area") and pack.figures["area_name"] == area
    raw = pd.read_csv(borough["root"] / "street.csv")
    assert pack.figures["counts"]["Borough"]["All crime"] == int((raw["Crime type"] != "Anti-social behaviour").sum())
    if kind == "ward":  # Brookfold: residents 6,000 (its population row), the whole ward
        assert pack.figures["population_estimate"] == 6000
    text = json.dumps(pack.figures) + " ".join(pack.notes) + " ".join(pack.tables["hotspot_cells"].astype(str).sum())
    assert not any(place in text for place in BURY_PLACES)


def test_evidence_pack_written_names_no_bury_place(borough, tmp_path):
    from geo_csp.evidence import EvidenceParams, build_evidence, write_evidence

    pack = build_evidence(borough["store"], EvidenceParams(area="Old Mill Quarter", trend_months=12))
    write_evidence(pack, tmp_path / "pack")
    page = (tmp_path / "pack" / "report.html").read_text(encoding="utf-8")
    assert "Old Mill Quarter" in page and (tmp_path / "pack" / "report.pdf").stat().st_size > 10_000
    assert list(pack.wards["ward_name"]) == WARD_NAMES  # the maps draw and label the store's wards
    assert not any(f">{place}<" in page or f" {place} " in page for place in BURY_PLACES)


def test_polygon_pack_is_reproduced_from_its_manifest(borough, tmp_path):
    from geo_csp.evidence import EvidenceParams, build_evidence, polygon_wkt, write_evidence

    square = gpd.GeoDataFrame(geometry=[shapely.box(X0 + 2500, Y0 + 2500, X0 + 3500, Y0 + 3500)], crs="EPSG:27700")
    params = EvidenceParams(
        area="3: Mill hotspot", area_polygon_wkt=polygon_wkt(square.to_crs("EPSG:4326")), trend_months=12
    )
    pack = build_evidence(borough["store"], params)
    write_evidence(pack, tmp_path / "pack")
    manifest = json.loads((tmp_path / "pack" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["area_polygon_wkt"].startswith("POLYGON")
    again = build_evidence(borough["store"], EvidenceParams.from_dict(manifest["parameters"]))
    assert again.figures == manifest["figures"]
    assert manifest["figures"]["area_name"] == "3: Mill hotspot"
    assert manifest["figures"]["area_km2"] == pytest.approx(1.0, abs=1e-3)
    raw = pd.read_csv(borough["root"] / "street.csv")
    assert manifest["figures"]["counts"]["Area"]["All crime"] == _count_in(raw, square.geometry.iloc[0])


def _count_in(raw: pd.DataFrame, geom) -> int:
    from pyproj import Transformer

    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        raw["Longitude"].to_numpy(), raw["Latitude"].to_numpy()
    )
    crimes = (raw["Crime type"] != "Anti-social behaviour").to_numpy()
    return int((shapely.contains_xy(geom, x, y) & crimes).sum())


def test_bad_polygon_params():
    from geo_csp._errors import ParameterError
    from geo_csp.evidence import EvidenceParams

    with pytest.raises(ParameterError, match="not valid WKT"):
        EvidenceParams(area_polygon_wkt="POLYGON((")
    with pytest.raises(ParameterError, match="is a Point, not a polygon"):
        EvidenceParams(area_polygon_wkt="POINT (1 2)")
    with pytest.raises(ParameterError, match="area is empty"):
        EvidenceParams()


def test_table_source_counts_a_partner_source_with_police_categories(borough, tmp_path):
    import shutil

    from geo_csp import ingest

    store_dir = tmp_path / "store"
    shutil.copytree(borough["store"], store_dir)
    raw = pd.read_csv(borough["root"] / "street.csv")
    burglary = raw[raw["Crime type"] == "Burglary"][["Month", "Crime type", "Longitude", "Latitude"]]
    burglary.rename(columns={"Crime type": "Crime.type"}).to_csv(tmp_path / "points.csv", index=False)
    mapping = Path(__file__).parent / "data" / "mappings" / "gmp_burglary.toml"
    ingest.ingest_paths([tmp_path / "points.csv"], store_dir=store_dir, mapping=mapping)
    result = RUNNER.invoke(
        app,
        [
            "table",
            "--store",
            str(store_dir),
            "--xlsx",
            str(tmp_path / "t.xlsx"),
            "--csv",
            str(tmp_path / "t.csv"),
            "--quarters",
            "3",
            "--source",
            "gmp_burglary_points",
        ],
    )
    assert result.exit_code == 0, result.output
    text = (tmp_path / "t.csv").read_text(encoding="utf-8")
    assert "Counted from gmp_burglary_points" in text
    from geo_csp.table import table_from_store

    t = table_from_store(store_dir, n_quarters=3, sources=["gmp_burglary_points"])
    q = burglary["Month"].isin(["2023-10", "2023-11", "2023-12"])
    assert t.values.loc["burglary", "Q3 Oct-Dec 2023"] == q.sum()
    assert t.measures[3].sources == ("gmp_burglary_points",)  # ASB (police) counted from it too: none there
    result = RUNNER.invoke(
        app, ["table", "--store", str(store_dir), "--xlsx", str(tmp_path / "u.xlsx"), "--source", "no_such_source"]
    )
    assert result.exit_code != 0 and "not in the store" in str(result.exception)


def test_ingest_summary_shows_base_names(tmp_path):
    deep = tmp_path / "a" / "very" / "long" / "folder" / "name" / "that" / "would" / "be" / "truncated"
    deep.mkdir(parents=True)
    _police_csv(deep / "2023-street.csv", n=30)
    result = RUNNER.invoke(app, ["ingest", str(deep / "2023-street.csv"), "--store", str(tmp_path / "store")])
    assert result.exit_code == 0, result.output
    assert "2023-street.csv" in result.output and "truncated/" not in result.output


@pytest.fixture()
def lancashire(real_file) -> Path:
    """The real Lancashire ASB folder (wards, population, points); skipped when absent."""
    return real_file("lancashire-asb-2022", "lancashire_wards_2022.gpkg").parent


@pytest.mark.slow
def test_real_lancashire_store(tmp_path, lancashire):
    folder = lancashire
    wards, pop = folder / "lancashire_wards_2022.gpkg", folder / "lancashire_ward_population_mid2020.csv"
    store_dir = tmp_path / "store"
    result = RUNNER.invoke(
        app,
        [
            "configure",
            "--store",
            str(store_dir),
            "--borough",
            "Lancashire",
            "--wards",
            str(wards),
            "--population",
            str(pop),
        ],
    )
    assert result.exit_code != 0
    message = str(result.exception)
    assert "26 of the 271 wards" in message and "'gss_code'" in message and "without --population" in message
    result = RUNNER.invoke(
        app, ["configure", "--store", str(store_dir), "--borough", "Lancashire", "--wards", str(wards)]
    )
    assert result.exit_code == 0, result.output
    from geo_csp.geography import store_geography

    geo = store_geography(store_dir)
    assert len(geo.wards) == 271 and geo.shipped == () and np.isnan(geo.outline["population"].iloc[0])


def test_hotspots_by_ward_use_the_configured_wards_columns_and_population(borough, tmp_path):
    """Wards configured with their own column names (WD_CD/WD_NM) and population drive `hotspots --unit ward`."""
    import geopandas as gpd

    out = tmp_path / "wards.gpkg"
    result = RUNNER.invoke(app, ["hotspots", "--store", str(borough["store"]), "--unit", "ward", "--out", str(out)])
    assert result.exit_code == 0, result.output
    units = gpd.read_file(out, layer=0)
    assert sorted(units[schema.UNIT_ID]) == [f"X0500000{k}" for k in range(4)]
    assert sorted(units[schema.POPULATION].astype(int)) == [5000, 6000, 7000, 8000]
    assert not any(place in " ".join(units[schema.EXPLANATION]) for place in BURY_PLACES)


def test_force_wide_wards_belong_to_the_borough_by_their_area_inside_it(borough, tmp_path):
    """A district outline and a force-wide ward file: wards more than half inside are the borough's; a
    neighbouring ward meeting the outline in a sliver under 1 m2 is left out and listed, and the population
    file needs rows only for the borough's wards."""
    from geo_csp.geography import store_geography, units_in_outline

    outline = shapely.box(X0, Y0, X0 + 4000, Y0 + 4000)
    gpd.GeoDataFrame({"name": ["Blackburn Test"]}, geometry=[outline], crs="EPSG:27700").to_file(
        tmp_path / "outline.geojson", driver="GeoJSON"
    )
    wards = gpd.read_file(borough["wards"]).to_crs("EPSG:27700")
    sliver = shapely.box(X0 + 4000 - 1e-4, Y0, X0 + 6000, Y0 + 2000)  # 0.2 m2 of it lies in the outline
    half = shapely.box(X0, Y0 + 4000 - 900, X0 + 2000, Y0 + 4000 + 1100)  # 45% inside: out
    force = pd.concat(
        [
            wards,
            gpd.GeoDataFrame(
                {"WD_CD": ["N1", "N2"], "WD_NM": ["Neighbour's End", "Halfway"]},
                geometry=[sliver, half],
                crs="EPSG:27700",
            ),
        ],
        ignore_index=True,
    )
    force.to_file(tmp_path / "force_wards.gpkg")
    kept = units_in_outline(force.rename(columns={"WD_CD": "ward_code", "WD_NM": "ward_name"}), outline)
    assert list(kept["ward_name"]) == WARD_NAMES
    dropped = kept.attrs["dropped"].set_index("name")
    assert list(dropped.index) == ["Neighbour's End", "Halfway"]
    assert dropped.loc["Neighbour's End", "m2_inside"] == pytest.approx(0.2, rel=1e-3)
    assert dropped.loc["Halfway", "share_inside"] == pytest.approx(0.45, abs=1e-9)
    assert "more than 50% of its area" in kept.attrs["membership"]

    store_dir = tmp_path / "store"
    import shutil

    shutil.copytree(borough["store"], store_dir)
    (store_dir / store.CONFIG_NAME).unlink()
    result = RUNNER.invoke(
        app,
        [
            "configure",
            "--store",
            str(store_dir),
            "--borough",
            "Blackburn Test",
            "--boundary",
            str(tmp_path / "outline.geojson"),
            "--wards",
            str(tmp_path / "force_wards.gpkg"),
            "--ward-code-col",
            "WD_CD",
            "--ward-name-col",
            "WD_NM",
            "--population",
            str(borough["root"] / "pop.csv"),
            "--population-code-col",
            "gss",
            "--population-col",
            "residents",
        ],
    )
    assert result.exit_code == 0, result.output
    assert "4 of 6 kept" in result.output and "Neighbour's End (0.2 m2 inside" in result.output
    geo = store_geography(store_dir)
    assert list(geo.wards["ward_name"]) == WARD_NAMES
    assert geo.outline["population"].iloc[0] == 26000
