"""AppTest smoke and behaviour tests for every page of the Streamlit app, on a demo borough in a tmp dir."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from geo_csp._errors import InputFileError
from geo_csp.app import uploads
from geo_csp.demo import DemoPaths

APP = str(Path(__file__).resolve().parent.parent / "app.py")
TIMEOUT_S = 180


@pytest.fixture(scope="module")
def demo_store(demo_borough: DemoPaths) -> Path:
    return demo_borough.out_dir


@pytest.fixture()
def app(demo_store: Path, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(demo_store))
    monkeypatch.setenv("GEO_CSP_STORE", str(demo_store / "store"))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")  # no tile probe: the offline map, whatever the network
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _page(at: AppTest, name: str) -> AppTest:
    at.switch_page(f"geo_csp/app/pages/{name}.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def _metric(at: AppTest, label: str) -> str:
    return next(m.value for m in at.metric if m.label == label)


def test_map_page_shows_hotspots_and_choices_change_them(app: AppTest) -> None:
    assert app.title[0].value == "Hotspot map"
    assert any("SYNTHETIC" in e.value for e in app.error)  # sidebar label on demo data
    for key in ("period", "crime_group", "basemap", "map_colour_by", "map_area"):
        assert app.selectbox(key=key)
    basemap = app.selectbox(key="basemap")
    assert basemap.options == ["OpenStreetMap", "Light basemap (CARTO)", "Offline map (names from the data)"]
    assert basemap.value == "Offline map (names from the data)"  # tiles unreachable: the offline map, said so
    assert any("offline" in c.value for c in app.caption)
    assert int(_metric(app, "Named hotspot areas")) >= 1
    # the areas table speaks plain English with units; the technical names stay in downloads
    columns = list(app.dataframe[0].value.columns)
    assert {"Incidents", "Harm (crime-days)", "Share of crime (%)", "Hot spot pattern"} <= set(columns)
    assert not {"n", "harm", "share_of_crime", "gi_z"} & set(columns)
    shares = app.dataframe[0].value["Share of crime (%)"]
    assert 0.5 < shares.max() <= 100  # a percentage, not a 0-1 share
    # the printable map is drawn only when asked for: then this view's PNG and PDF are offered
    assert not app.get("download_button")
    app.button(key="prepare_map_export").click().run()
    assert not app.exception, [e.message for e in app.exception]
    assert [b.label for b in app.get("download_button")][:2] == ["Download the map (PNG)", "Download the map (PDF)"]
    areas = app.selectbox(key="map_area")
    areas.set_value(areas.options[1]).run()  # choose an area: its story appears
    assert not app.exception, [e.message for e in app.exception]
    story = " ".join(m.value for m in app.markdown)
    assert "incidents in" in story and "Trend over the months" in story and "% of crime" in story
    assert "Cover:" in story or "No CCTV" in story
    assert "What was done" in story or "No operation" in story
    hexagons = _metric(app, "Hexagons mapped")
    app.selectbox(key="map_area").set_value(None)
    app.radio(key="unit").set_value("Wards").run()
    assert not app.exception
    assert _metric(app, "Wards mapped") == "17"  # Bury's 17 wards
    assert hexagons != "17"


def test_map_page_filters_wards_and_months(app: AppTest) -> None:
    whole = int(_metric(app, "Incidents mapped").replace(",", ""))
    app.multiselect(key="ward_filter").set_value(["Bury East", "Moorside"]).run()
    assert not app.exception, [e.message for e in app.exception]
    in_wards = int(_metric(app, "Incidents mapped").replace(",", ""))
    assert 0 < in_wards < whole
    assert any("wards: Bury East, Moorside" in c.value for c in app.caption)
    app.selectbox(key="period").set_value("Choose months…").run()
    app.select_slider(key="month_range").set_value(("2025-04", "2025-09")).run()
    assert not app.exception, [e.message for e in app.exception]
    assert any("Apr 2025 to Sep 2025 (6 months)" in c.value for c in app.caption)
    assert int(_metric(app, "Incidents mapped").replace(",", "")) < in_wards


def test_map_page_change_views(app: AppTest) -> None:
    for view, words in (
        ("Change on the month before", "Dec 2025 against Nov 2025"),
        ("Change on the same month last year", "Dec 2025 against Dec 2024"),
    ):
        app.radio(key="map_view").set_value(view).run()
        assert not app.exception, [e.message for e in app.exception]
        assert any(words in c.value for c in app.caption), [c.value for c in app.caption]


def test_map_page_change_views_list_entered_left_and_remained_hot_spots(app: AppTest) -> None:
    """The change view's counts, Jaccard index and table are the tasking sheet's own lists
    (:func:`geo_csp.tasking.change_lists`) for the same two months of the same run."""
    from geo_csp import tasking
    from geo_csp.app import cache, widgets

    column = "Hot spot (entered, remained or left)"
    for view, back in (("Change on the month before", 1), ("Change on the same month last year", 12)):
        app.radio(key="map_view").set_value(view).run()
        assert not app.exception, [e.message for e in app.exception]
        choices = app.session_state["geo_csp_choices"]
        window = cache.change_window(choices.months)
        run = cache.hotspots(choices.store_dir, choices.stamp, window, **widgets.hotspot_args(choices))
        lists, jaccard = tasking.change_lists(run.analysis.hot_cold, run.cube.n, run.cube.units.index, before=-1 - back)
        expected = {s: int((lists["status"] == s).sum()) for s in ("entered", "remained", "left")}
        assert sum(expected.values()) > 0  # the demo has hot spots to compare
        summary = next(m.value for m in app.markdown if m.value.startswith("**Hot spots, "))
        assert (
            f"{expected['entered']:,} hexagons entered" in summary
            and f"{expected['remained']:,} remained hot" in summary
            and f"{expected['left']:,} left" in summary
            and f"{jaccard:.2f}" in summary
        ), (expected, jaccard, summary)
        table = next(d.value for d in app.dataframe if column in d.value.columns)
        shown = table[column].value_counts().to_dict()
        assert shown == {s: n for s, n in expected.items() if n}, (shown, expected)
        assert set(table["Cell or area code"]) == set(lists.index[lists["status"] != ""])


def test_map_page_period_changes_the_counts(app: AppTest) -> None:
    before = _metric(app, "Incidents mapped")
    app.selectbox(key="period").set_value("Last 24 months").run()
    assert _metric(app, "Incidents mapped") != before


def test_trends_page_compares_two_series(app: AppTest) -> None:
    at = _page(app, "trends")
    assert at.title[0].value == "Trends"
    table = at.dataframe[0].value
    assert len(table) == 1
    # plain names with units on screen, no technical column names
    assert {"Series", "Trend", "Incidents", "Trend strength (Kendall's tau)", "p-value of the trend test"} <= set(
        table.columns
    )
    assert not {"trend", "mk_tau", "mk_p", "mk_z", "mk_s", "n"} & set(table.columns)
    assert table["Incidents"].iloc[0] == round(table["Incidents"].iloc[0])
    other = at.selectbox(key="trend_b")
    other.set_value(other.options[1]).run()
    assert len(at.dataframe[0].value) == 2
    at.radio(key="trend_level").set_value("Wards").run()
    assert not at.exception
    assert len(at.selectbox(key="trend_a").options) == 17


def test_gaps_page_ranks_and_downloads(app: AppTest) -> None:
    at = _page(app, "gaps")
    gap_table = at.dataframe[0].value
    assert list(gap_table["Rank"]) == list(range(1, len(gap_table) + 1))
    # ranked by the default priority score, with how well it predicted on this store's months
    assert at.radio(key="gaps_rank_by").value == "Expected next month"
    assert "Expected incidents next month" in gap_table.columns
    assert {"Share of the total (%)", "Covered by CCTV (%)", "Distance to the hub (m)", "Gaps"} <= set(
        gap_table.columns
    )
    technical = {"rank", "predicted_n", "share_of_total", "cctv_share", "hub_distance_m", "n_gaps", "stops", "priority"}
    assert not technical & set(gap_table.columns)
    assert 0 < gap_table["Share of the total (%)"].max() <= 100  # a percentage, not a 0-1 share
    assert (gap_table["Distance to the hub (m)"] == gap_table["Distance to the hub (m)"].round(0)).all()
    assert any(i.value.startswith("On your data, over the last ") for i in at.info)
    prio = at.dataframe[1].value
    assert not technical & set(prio.columns)
    assert prio["Stop at (cells)"].str.len().gt(0).all()  # each area's micro-place cells
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download gap list (CSV)", "Download patrol priorities (CSV)"]
    n_before = len(at.dataframe[1].value)
    at.slider(key="gaps_top_n").set_value(3).run()
    assert len(at.dataframe[1].value) == min(3, n_before) < n_before or n_before <= 3


def test_walkabout_page_plans_a_route_to_every_demo_area(app: AppTest) -> None:
    at = _page(app, "walkabout")
    assert at.selectbox(key="walk_hub").options
    stops = at.multiselect(key="walk_stops")
    assert len(stops.value) >= 1  # pre-filled from the priorities
    every = [o.split(":")[0] for o in stops.options]  # every named hotspot area of the demo
    stops.set_value(every)
    at.slider(key="walk_budget").set_value(360)
    at.button(key="FormSubmitter:walk_form-Plan walkabout").click().run()
    assert not at.exception, [e.message for e in at.exception]
    labels = [b.label for b in at.get("download_button")]
    assert labels == ["Download GPX", "Download printable sheet (HTML)", "Download printable sheet (PDF)"]
    n = len(stops.options)
    assert _metric(at, "Hotspot areas reached") == f"{n} of {n}"  # the borough-wide network reaches all of them
    assert any("busiest cells (micro-places)" in c.value for c in at.caption)
    assert any(c.value.startswith("On your data, over the last ") for c in at.caption)
    table = at.dataframe[0].value
    assert list(table.columns) == [
        "Stop",
        "Place",
        "Arrive",
        "Leave",
        "Stay (min)",
        "Walk to here (m)",
        "What to look for",
    ]
    assert table["Arrive"].iloc[0] > "10:00" and "Mostly" in table["What to look for"].iloc[0]
    assert any("SYNTHETIC" in c.value for c in at.caption)  # the made-up network says so
    at.slider(key="walk_budget").set_value(60)
    at.button(key="FormSubmitter:walk_form-Plan walkabout").click().run()
    assert int(_metric(at, "Hotspot areas reached").split(" of ")[0]) < n
    assert _metric(at, "Total").endswith("of 60 min")


def test_meeting_page_puts_priorities_gaps_and_route_on_one_screen(app: AppTest) -> None:
    at = _page(app, "meeting")
    assert at.title[0].value == "Meeting sheet"
    assert [h.value for h in at.header if h.value != "geo-csp"] == [
        "1. Top priorities",
        "2. Gaps in partner cover",
        "3. This week's walkabout",
    ]
    priorities = at.dataframe[0].value
    assert 1 <= len(priorities) <= 5 and "Rank" in priorities.columns and "rank" not in priorities.columns
    assert sum("Trend over the months" in m.value for m in at.markdown) >= 1  # the top areas' stories
    assert any(m.label == "No activity at all" for m in at.metric)
    assert len(at.get("image")) == 1  # the route map
    route = at.dataframe[-1].value
    assert list(route.columns) == ["Stop", "Place", "Arrive", "What to look for"] and len(route) >= 4
    assert "Download the meeting sheet's route (PDF)" in [b.label for b in at.get("download_button")]


def test_review_page_shows_comparison_and_caveats(app: AppTest) -> None:
    at = _page(app, "review")
    ops = at.selectbox(key="review_operation")
    assert "Heartbeat" in ops.options
    first = at.dataframe[1].value.copy()
    at.slider(key="review_buffer").set_value(450).run()
    assert not at.exception
    assert not at.dataframe[1].value.equals(first)  # a wider buffer holds other counts
    assert any(s.value == "Caveats" for s in at.subheader)


def test_review_page_shows_intervals_verdicts_and_pooling(app: AppTest) -> None:
    at = _page(app, "review")
    at.selectbox(key="review_operation").set_value("Heartbeat").run()
    assert not at.exception, [e.message for e in at.exception]
    found = " ".join(s.value for s in at.success)
    # the fall is distinguishable from zero, with its interval, and the WDD beside the WDQ
    assert "95% interval" in found and "fell, distinguishable from zero" in found
    labels = [m.label for m in at.metric]
    assert "Net incidents vs expected (WDD)" in labels and "Displacement quotient (WDQ)" in labels
    assert "±" in next(m.value for m in at.metric if m.label.startswith("Net incidents"))
    # the year earlier is the before window for a 12-month operation: shown as not used
    windows = at.dataframe[0].value
    assert windows.loc["year_earlier", "used as a baseline"].startswith("no: for a 12-month operation")
    figures = at.dataframe[2].value
    assert {"value", "95% interval", "what it supports"} <= set(figures.columns)
    text = " ".join(m.value for m in at.markdown)
    assert "neither displacement nor diffusion" in text  # the ring's rise is within chance on the demo
    assert any("Was the before window unusual?" in i.value for i in at.info)
    # a repeated day of action is pooled over its dates by default
    at.selectbox(key="review_operation").set_value("Avro").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.selectbox(key="review_date").value == "All dates pooled"
    assert any("not distinguishable from zero" in i.value for i in at.info)
    assert len(at.dataframe[0].value) == 8


def test_evidence_page_table_obeys_public_mode(app: AppTest) -> None:
    at = _page(app, "evidence")
    assert [b.label for b in at.get("download_button")][:3] == ["Download CSV", "Download HTML", "Download XLSX"]
    sensitive = at.dataframe[0].value.copy()
    at.radio(key="mode").set_value("Public").run()
    assert not at.exception
    assert not at.dataframe[0].value.equals(sensitive)  # rounded / suppressed in public mode


def test_evidence_page_packs_a_hotspot_area_of_the_current_run(app: AppTest) -> None:
    at = _page(app, "evidence")
    assert at.radio(key="evidence_kind").options == ["Hotspot area (this map's run)", "Named place", "Ward"]
    areas = at.selectbox(key="evidence_area").options
    assert areas and all(a.startswith("HS-") for a in areas)
    at.selectbox(key="evidence_area").set_value(areas[-1])
    at.button(key="evidence_go").click().run()
    assert not at.exception
    name = areas[-1].split(": ", 1)[1]
    assert "Download report.html" in [b.label for b in at.get("download_button")]
    pack = at.session_state["evidence_pack"]
    assert name in pack["report.html"].decode("utf-8")  # the pack is titled with the chosen area
    at.radio(key="evidence_kind").set_value("Ward").run()
    assert "Bury East" in at.selectbox(key="evidence_area").options


def test_data_page_shows_store_and_quarantine(app: AppTest) -> None:
    at = _page(app, "data")
    assert int(_metric(at, "Quarantined").replace(",", "")) >= 1
    assert at.radio(key="data_kind").options == ["police.uk files", "Partner extract", "Partner layer"]
    assert "raw" in at.dataframe[-1].value.columns
    at.radio(key="mode").set_value("Public").run()
    assert "raw" not in at.dataframe[-1].value.columns  # raw partner text hidden in public mode
    at.radio(key="data_kind").set_value("Partner extract").run()
    assert at.text_input(key="map_time_col").value == "Date"


def test_missing_store_says_what_to_do(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GEO_CSP_STORE", str(tmp_path / "nothing"))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S).run()
    assert not at.exception
    assert any("No store" in w.value for w in at.warning)
    assert any("Data" in i.value for i in at.info)


def test_archive_checks_refuse_zip_slip_and_bombs(tmp_path: Path) -> None:
    slip = tmp_path / "slip.zip"
    with zipfile.ZipFile(slip, "w") as z:
        z.writestr("../../etc/evil.csv", "a,b\n")
    with pytest.raises(InputFileError, match="outside its folder"):
        uploads.check_archive(slip)
    bomb = tmp_path / "bomb.zip"
    with zipfile.ZipFile(bomb, "w", compression=zipfile.ZIP_DEFLATED) as z:
        z.writestr("big.csv", b"0" * 5_000_000)
    with pytest.raises(InputFileError, match="decompression bomb"):
        uploads.check_archive(bomb)
    ok = tmp_path / "ok.zip"
    with zipfile.ZipFile(ok, "w") as z:
        z.writestr("2024-01/2024-01-x-street.csv", "a,b\n1,2\n")
    assert uploads.check_archive(ok) == 8
    with pytest.raises(InputFileError, match="upload limit"):
        uploads.check_upload("x.csv", 10**9, max_bytes=10**6)
    with pytest.raises(InputFileError, match="not a file type"):
        uploads.check_upload("x.exe", 10)
    assert uploads.safe_name("../../a b.csv") == "a_b.csv"


def test_prepared_map_sends_what_st_folium_sends(monkeypatch: pytest.MonkeyPatch) -> None:
    """The Map page renders its map once (folium_view.prepare); the component must get st_folium's arguments."""
    import streamlit_folium

    from geo_csp import boundaries, maps
    from geo_csp.app import folium_view

    wards = boundaries.load_wards()
    units = wards.rename(columns={"ward_code": "unit_id"}).assign(n=range(len(wards)))

    def build() -> object:  # two identical maps: rendering a folium map twice is not idempotent
        return maps.hotspot_map(units, layers={"hubs": wards.assign(geometry=wards.centroid).iloc[:3]}, synthetic=True)

    sent: list[dict] = []
    monkeypatch.setattr(streamlit_folium, "_component_func", lambda **kw: sent.append(kw))
    m = build()
    folium_view._FocusWithoutScrolling().add_to(m)  # what prepare adds to every map a page shows
    streamlit_folium.st_folium(m, key="k", height=620, use_container_width=True, returned_objects=[])
    prepared = folium_view.prepare(build(), key="k")
    folium_view.show(prepared, key="k", height=620)
    expected, got = ({k: v for k, v in kw.items() if k != "on_change"} for kw in sent)
    assert got == expected
    assert "geo-csp-unit" in got["script"] and got["key"] == prepared.hash_key
    # a press focuses the map without scrolling the page (the click then lands on the shape pressed)
    assert "focus({preventScroll: true})" in got["script"] and '"mousedown", keyboard._onMouseDown' in got["script"]
    folium_view.show(prepared, key="k", height=620, clicks=True)
    assert sent[-1]["returned_objects"] == ["last_object_clicked"]


def test_map_page_click_on_a_hotspot_opens_its_story(app: AppTest, monkeypatch: pytest.MonkeyPatch) -> None:
    """A click on the map (the point streamlit-folium sends back) opens the story of the area under it,
    once; a click outside every named area says so and opens nothing."""
    from geo_csp import schema
    from geo_csp.app import cache, folium_view, widgets

    choices = app.session_state["geo_csp_choices"]
    run = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **widgets.hotspot_args(choices))
    units = run.units
    in_area = units[units[schema.AREA_ID].isin(run.areas[schema.AREA_ID])]
    area = str(run.areas[schema.AREA_ID].iloc[-1])  # not the first: the default would prove nothing
    inside = units[units[schema.AREA_ID] == area].geometry.representative_point().to_crs("EPSG:4326").iloc[0]
    outside_units = units.drop(in_area.index)
    outside = outside_units.geometry.representative_point().to_crs("EPSG:4326").iloc[0]
    clicks: list[dict] = []
    real_show = folium_view.show
    monkeypatch.setattr(
        folium_view,
        "show",
        lambda *a, **kw: real_show(*a, **kw) | ({"last_object_clicked": clicks[-1]} if clicks else {}),
    )
    app.run()
    assert app.selectbox(key="map_area").value is None
    assert not any("not part of a named hotspot area" in i.value for i in app.get("info"))
    clicks.append({"lat": inside.y, "lng": inside.x})
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.selectbox(key="map_area").value == area
    story = " ".join(m.value for m in app.markdown)
    assert "incidents in" in story and "Trend over the months" in story
    name = run.areas.set_index(schema.AREA_ID).loc[area, schema.AREA_NAME]
    assert any(h.value == f"{name} ({area})" for h in app.subheader)
    # the same click sent again on the next rerun is not a new click: the chair's next choice stands
    app.selectbox(key="map_area").set_value(None).run()
    assert app.selectbox(key="map_area").value is None
    clicks.append({"lat": outside.y, "lng": outside.x})
    app.run()
    assert not app.exception, [e.message for e in app.exception]
    assert app.selectbox(key="map_area").value is None
    assert any("not part of a named hotspot area" in i.value for i in app.get("info"))


def test_app_on_a_configured_non_bury_store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """A partnership's own store (not the demo, not Bury): its own wards name and bound the map."""
    from test_cli_config import RUNNER, WARD_NAMES, _police_csv, _wards_file

    from geo_csp import ingest
    from geo_csp.cli import app as cli_app

    store_dir = tmp_path / "store"
    ingest.ingest_paths([_police_csv(tmp_path / "street.csv")], store_dir=store_dir)
    wards = _wards_file(tmp_path / "wards.geojson")
    result = RUNNER.invoke(
        cli_app,
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
        ],
    )
    assert result.exit_code == 0, result.output
    monkeypatch.setenv("GEO_CSP_STORE", str(store_dir))
    at = AppTest.from_file(APP, default_timeout=TIMEOUT_S)
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    assert not any("SYNTHETIC" in e.value for e in at.error)  # not demo data: no demo label
    at.radio(key="unit").set_value("Wards").run()
    assert not at.exception, [e.message for e in at.exception]
    assert _metric(at, "Wards mapped") == "4"
    texts = [str(e.value) for kind in (at.title, at.markdown, at.caption, at.subheader, at.metric) for e in kind]
    texts += [str(o) for o in at.selectbox(key="map_area").options]
    assert any("Wards mapped" == m.label for m in at.metric) and texts  # the page really rendered its text
    assert not any(place in t for t in texts for place in ("Moorside", "Bury Town Centre", "Radcliffe"))
    _page(at, "evidence")
    at.radio(key="evidence_kind").set_value("Ward").run()
    assert sorted(at.selectbox(key="evidence_area").options) == sorted(WARD_NAMES)
    # no LSOAs configured for this store: the page says what to do instead of failing
    _page(at, "map")
    at.radio(key="unit").set_value("LSOAs").run()
    assert not at.exception, [e.message for e in at.exception]
    assert any("lsoa" in e.value.lower() for e in list(at.error) + list(at.warning))


def test_weekly_periods_for_timed_sources_and_refused_for_police_uk(app: AppTest) -> None:
    app.selectbox(key="period_kind").set_value("Weeks (timed sources)").run()
    assert not app.exception
    assert any("police.uk publishes months only" in e.value for e in app.error)  # default source is police.uk
    app.multiselect(key="sources").set_value(["council_asb"]).run()
    at = _page(app, "trends")
    assert "Counts per week" in " ".join(c.value for c in at.caption)


def test_when_page_shows_the_town_centre_evening(app: AppTest) -> None:
    at = _page(app, "when")
    assert at.title[0].value == "When incidents happen"
    at.selectbox(key="when_area").set_value("Bury Town Centre").run()
    assert not at.exception, [e.message for e in at.exception]
    assert _metric(at, "Busiest window").startswith(("17:00", "18:00", "19:00"))
    assert int(_metric(at, "Timed incidents").replace(",", "")) > 100


def test_tasking_page_lists_changes_and_offers_the_files(app: AppTest) -> None:
    at = _page(app, "tasking")
    assert at.title[0].value == "Tasking sheet"
    text = " ".join(m.value for m in at.markdown)
    assert "entered" in text and "Jaccard" in text and "Top repeat locations" in text
    assert len(at.dataframe) >= 3


def test_sidebar_names_sources_in_words(app: AppTest) -> None:
    sources = app.multiselect(key="sources")
    assert "police.uk street crime and ASB" in sources.options and "police_uk_street" not in sources.options
    assert "council asb (partner)" in sources.options
    assert sources.value == ["police_uk_street"]  # the value is still the store's source name
