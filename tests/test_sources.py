"""What is counted: one source contract for the library, the command line and the app."""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest

from geo_csp import schema, sources
from geo_csp.cube import CubeParams

HELD = ["council_asb", "police_uk_stop_search", "police_uk_street"]


def test_default_is_victim_reported_street_records_only():
    sel = sources.resolve_sources(None, available=HELD)
    assert sel.sources == (schema.SOURCE_STREET,)
    assert not sel.mixed and sel.is_default
    assert "victim-reported police.uk street records only" in sel.note
    assert sources.resolve_sources([], available=HELD).sources == (schema.SOURCE_STREET,)


def test_all_and_named_sources_mixed_runs_say_so():
    sel = sources.resolve_sources(["all"], available=HELD)
    assert sel.sources == tuple(HELD)
    assert sel.mixed and sel.note.startswith("MIXED SOURCES")
    assert sel.kinds == {
        "council_asb": "second_channel",
        "police_uk_stop_search": "enforcement",
        "police_uk_street": "victim_reported",
    }
    assert "enforcement activity" in sel.note and "counts some incidents twice" in sel.note
    asb = sources.resolve_sources([schema.SOURCE_STREET, "council_asb"], available=HELD)
    assert asb.mixed and "enforcement" not in asb.note.split("MIXED SOURCES")[1].split(".")[-1]
    alone = sources.resolve_sources(["council_asb"], available=HELD)
    assert not alone.mixed and alone.to_dict()["kinds"] == {"council_asb": "second_channel"}


def test_partner_only_store_counts_its_non_enforcement_sources():
    sel = sources.resolve_sources(None, available=["council_asb", "police_uk_stop_search"])
    assert sel.sources == ("council_asb",)
    assert "no police.uk street records" in sel.note


def test_proactive_categories_left_out_on_request():
    sel = sources.resolve_sources(None, available=HELD, exclude_proactive=True)
    assert sources.counted_crime_types(None, sources.resolve_sources(None)) is None
    types = sources.counted_crime_types(None, sel)
    assert "Drugs" not in types and "Possession of weapons" not in types and "Burglary" in types
    assert sources.counted_crime_types(["Drugs", "Robbery"], sel) == ("Robbery",)
    assert "left out" in sel.note


def test_timing_never_comes_from_stop_and_search_or_found_offences():
    at = pd.Timestamp("2024-03-01 21:00", tz="UTC")
    frame = pd.DataFrame(
        {
            schema.SOURCE: ["police_uk_stop_search", "council_asb", "council_asb", "police_uk_street", "partner"],
            schema.CRIME_TYPE: [
                "Stop and search",
                "Anti-social behaviour",
                "Anti-social behaviour",
                "Burglary",
                "Drugs",
            ],
            schema.OCCURRED_AT: [at, at, pd.NaT, pd.NaT, at],
        }
    )
    timed, names = sources.timing_incidents(frame)
    assert timed.index.tolist() == [1]
    assert names == ("council_asb",)


@pytest.fixture(scope="module")
def demo_store(tmp_path_factory):
    from geo_csp.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo_sources"), seed=2023).store_dir


def test_cli_library_and_app_defaults_count_the_same_sources(demo_store):
    from geo_csp import boundaries, hotspot_run, store
    from geo_csp.app import widgets
    from geo_csp.cli._common import counted_sources

    held = store.store_status(demo_store)["sources"]
    assert set(held) == set(HELD)
    cli = counted_sources(demo_store, None)
    app = widgets.app_sources(held)
    inc = store.read_incidents(demo_store, located_only=True)
    lib = hotspot_run.run_hotspots(inc, study_area=boundaries.load_borough()).metadata["counted"]
    assert cli.sources == app.sources == tuple(lib["sources"]) == (schema.SOURCE_STREET,)
    assert cli.note == app.note == lib["note"]


def test_demo_town_centre_counts_street_crime_only(demo_store, tmp_path):
    """The issue's figures: 8,510 (10.2%) with every source, 6,593 (8.8%) from street crime alone."""
    out = tmp_path / "areas.parquet"
    cli = "from geo_csp.cli import main; main()"
    run = subprocess.run(
        [sys.executable, "-c", cli, "areas", "--store", str(demo_store), "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert run.returncode == 0, run.stderr
    screen = " ".join((run.stdout + run.stderr).split())
    assert "victim-reported police.uk street records only" in screen
    assert "Scope: every H3 cell of the study area" in screen and "Trend: Mann-Kendall (spatial_z)" in screen
    meta = json.loads((tmp_path / "areas.parquet.json").read_text())
    assert meta["counted"]["sources"] == [schema.SOURCE_STREET] and not meta["counted"]["mixed"]
    import geopandas as gpd

    town = gpd.read_parquet(out).set_index(schema.AREA_NAME).loc["Bury Town Centre"]
    assert town[schema.N] == 6593
    assert town["share_of_crime"] == pytest.approx(0.088, abs=0.0005)

    mixed = subprocess.run(
        [
            sys.executable,
            "-c",
            cli,
            "areas",
            "--store",
            str(demo_store),
            "--source",
            "all",
            "--out",
            str(tmp_path / "all.parquet"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert mixed.returncode == 0, mixed.stderr
    assert "MIXED SOURCES" in mixed.stdout + mixed.stderr
    meta = json.loads((tmp_path / "all.parquet.json").read_text())
    assert meta["counted"]["mixed"] and set(meta["counted"]["sources"]) == set(HELD)
    assert (
        gpd.read_parquet(tmp_path / "all.parquet").set_index(schema.AREA_NAME).loc["Bury Town Centre", schema.N] == 8510
    )


def test_public_space_view_leaves_out_violence_in_dwellings():
    from _synthetic import incidents

    from geo_csp import boundaries, hotspot_run

    n = 60
    frame = incidents(
        [380_500.0 + 30 * (i % 12) for i in range(n)],
        [410_500.0 + 30 * (i // 12) for i in range(n)],
        [f"2024-{1 + i % 12:02d}" for i in range(n)],
        ["Violence and sexual offences"] * 40 + ["Burglary"] * 20,
        location=["Dwelling"] * 10 + ["On or near High Street"] * 30 + ["Private house"] * 20,
    )
    mask = sources.dwelling_violence(frame)
    assert mask.sum() == 10 and mask[:10].all()  # burglary in a house stays: only violence is private-space
    kw = dict(study_area=boundaries.load_borough())
    full = hotspot_run.run_hotspots(frame, CubeParams(unit="h3", resolution=9), **kw)
    public = hotspot_run.run_hotspots(frame, CubeParams(unit="h3", resolution=9, public_space=True), **kw)
    assert full.units[schema.N].sum() == 60 and public.units[schema.N].sum() == 50
    assert public.metadata["public_space"]["excluded_dwelling_violence"] == 10 and full.metadata["public_space"] is None
