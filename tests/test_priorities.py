"""Patrol priorities, Koper dosage, and the day x hour time profile (never invented for police.uk)."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import priorities, timeprofile
from geo_csp._errors import ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS


def test_time_profile_known_cells() -> None:
    # 2024-05-03 is a Friday; 17:30 UTC is 18:30 BST. 2024-01-06 is a Saturday, 02:15 UTC = 02:15 GMT.
    inc = pd.DataFrame(
        {"occurred_at": pd.to_datetime(["2024-05-03 17:30", "2024-05-03 17:45", "2024-01-06 02:15", None], utc=True)}
    )
    prof = timeprofile.time_profile(inc)
    assert prof.shape == (7, 24) and list(prof.index) == list(timeprofile.DAYS)
    assert prof.loc["Fri", 18] == 2 and prof.loc["Sat", 2] == 1
    assert prof.to_numpy().sum() == 3
    assert prof.attrs["n_untimed"] == 1


def test_police_uk_rows_have_no_time_and_none_is_invented() -> None:
    inc = pd.DataFrame({"month": ["2024-01"] * 3, "occurred_at": pd.Series([pd.NaT] * 3, dtype="datetime64[us, UTC]")})
    with pytest.raises(SchemaError, match="police.uk gives the month only"):
        timeprofile.time_profile(inc)
    with pytest.raises(SchemaError, match="no 'occurred_at' column"):
        timeprofile.time_profile(inc.drop(columns="occurred_at"))


def test_peak_window_wraps_midnight() -> None:
    prof = pd.DataFrame(0.0, index=list(timeprofile.DAYS), columns=range(24))
    prof.loc["Sat", [22, 23, 0, 1]] = 10
    prof.loc["Mon", 12] = 1
    peak = timeprofile.peak_window(prof, hours=4)
    assert (peak["start_hour"], peak["end_hour"]) == (22, 2)
    assert_allclose(peak["hour_share"], 40 / 41)
    assert peak["days"][0] == "Sat"


def _places() -> gpd.GeoDataFrame:
    return gpd.GeoDataFrame(
        {
            "area_id": ["a", "b", "c"],
            "name": ["A", "B", "C"],
            "harm": [5.0, 50.0, 20.0],
            "n": [9, 3, 4],
            "predicted_n": [1.0, 0.5, 3.0],
        },
        geometry=[shapely.box(0, 0, 100, 100), shapely.box(200, 0, 300, 100), shapely.box(400, 0, 500, 100)],
        crs=WORKING_CRS,
    )


def test_patrol_priorities_rank_and_dosage() -> None:
    out = priorities.patrol_priorities(_places(), params=priorities.PatrolParams(measure="harm", top_n=2))
    assert out["id"].tolist() == ["b", "c"]
    assert_allclose(out["share"], [50 / 75, 20 / 75])
    assert (out["dwell_min_low"] == 10).all() and (out["dwell_min_high"] == 15).all()
    assert "at least every 2 h" in out["visits"].iloc[0]
    assert (out["when"] == priorities.NO_TIME).all()
    assert "Koper 1995" in out.attrs["patrol_params"]["source"]
    by_count = priorities.patrol_priorities(_places(), params=priorities.PatrolParams(measure="n"))
    assert by_count["id"].tolist() == ["a", "c", "b"]
    # the default: the priority score of the rolling back-test (expected incidents next month)
    default = priorities.patrol_priorities(_places())
    assert default["id"].tolist() == ["c", "a", "b"]
    assert default["purpose"].iloc[0].startswith("Hotspot #1 (expected incidents next month 3):")
    assert default.attrs["patrol_params"]["measure"] == "predicted_n"
    with pytest.raises(SchemaError, match="add_priority"):
        priorities.patrol_priorities(_places().drop(columns="predicted_n"))


def _cells() -> gpd.GeoDataFrame:
    """Six 50 m cells: four in area c, two in area a, with their expected incidents."""
    return gpd.GeoDataFrame(
        {
            "unit_id": [f"u{i}" for i in range(6)],
            "area_id": ["c", "c", "c", "c", "a", "a"],
            "predicted_n": [0.2, 1.5, 0.9, 0.4, 0.7, 0.3],
        },
        geometry=[
            shapely.box(400 + 50 * (i % 2), 50 * (i // 2 % 2), 450 + 50 * (i % 2), 50 + 50 * (i // 2 % 2))
            for i in range(4)
        ]
        + [shapely.box(0, 0, 50, 50), shapely.box(50, 0, 100, 50)],
        crs=WORKING_CRS,
    )


def test_patrol_stops_are_micro_places_inside_each_area() -> None:
    params = priorities.PatrolParams(top_n=2, stops_per_place=2)
    ranked = priorities.patrol_priorities(_places(), params=params, units=_cells())
    assert ranked["id"].tolist() == ["c", "a"]
    assert ranked["stops"].tolist() == ["u1, u2", "u4, u5"]  # each area's two busiest cells
    assert "at each of the area's 2 busiest cells (micro-places)" in ranked["visits"].iloc[0]
    stops = priorities.micro_place_stops(ranked, _cells(), params=params)
    assert stops["stop_id"].tolist() == ["u1", "u2", "u4", "u5"]  # areas in rank order, busiest cell first
    assert stops["name"].tolist() == ["C: stop 1 of 2", "C: stop 2 of 2", "A: stop 1 of 2", "A: stop 2 of 2"]
    assert_allclose(stops["priority"], [1.5, 0.9, 0.7, 0.3])
    assert stops["area_rank"].tolist() == [1, 1, 2, 2]
    # every stop is a cell (0.0025 km2 here) inside its area, not a point of the whole area
    assert (stops.geometry.area == 2500.0).all()
    assert all(
        _places().set_index("area_id").geometry[a].intersects(g) for a, g in zip(stops["area_id"], stops.geometry)
    )
    one = priorities.micro_place_stops(ranked, _cells(), params=priorities.PatrolParams(stops_per_place=1))
    assert one["stop_id"].tolist() == ["u1", "u4"]
    with pytest.raises(ParameterError, match="stops_per_place"):
        priorities.PatrolParams(stops_per_place=0)


def test_patrol_priorities_busiest_times_from_timed_incidents() -> None:
    times = pd.date_range("2024-03-01 20:00", periods=30, freq="7D", tz="UTC")  # all Fridays 20:00 GMT/21:00 BST
    inc = pd.DataFrame({"easting": 250.0, "northing": 50.0, "occurred_at": times})
    out = priorities.patrol_priorities(_places(), incidents=inc)
    when_b = out.loc[out["id"] == "b", "when"].iloc[0]
    assert "busiest Fri" in when_b
    assert out.loc[out["id"] == "c", "when"].iloc[0] == "too few timed incidents here (0) to say when"


def test_priorities_errors() -> None:
    with pytest.raises(ParameterError, match="measure"):
        priorities.PatrolParams(measure="count")
    with pytest.raises(SchemaError, match="reproject"):
        priorities.patrol_priorities(_places().to_crs("EPSG:4326"))


@pytest.mark.slow
def test_real_bury_road_casualties_time_profile(real_file: Callable[..., Path], tmp_path: Path) -> None:
    path = real_file("gm-road-casualties-2019-2024", "gm_stats19_road_casualties_2019-01_to_2024-06.csv.gz")
    raw = pd.read_csv(path)
    bury = raw[raw["area_name"] == "Bury"].drop_duplicates("AREFNO")  # one row per collision
    assert len(bury) == 1073  # PROVENANCE: 1,073 Bury collisions
    local = pd.to_datetime(bury["date"] + " " + bury["output_time"])
    occurred = local.dt.tz_localize("Europe/London", ambiguous="NaT", nonexistent="shift_forward").dt.tz_convert("UTC")
    inc = pd.DataFrame({"occurred_at": occurred.to_numpy()})
    prof = timeprofile.time_profile(inc)
    assert prof.to_numpy().sum() == occurred.notna().sum() >= 1070
    # oracle: the published day and hour columns
    ok = occurred.notna().to_numpy()
    expected = pd.crosstab(bury["day"][ok], bury["hour"][ok]).reindex(
        index=list(timeprofile.DAYS), columns=range(24), fill_value=0
    )
    assert_allclose(prof.to_numpy(), expected.to_numpy())
    peak = timeprofile.peak_window(prof, hours=4)
    assert 12 <= peak["start_hour"] <= 17  # collisions peak in the afternoon/evening commute
    fig = timeprofile.plot_time_profile(prof, title="Bury road casualties 2019-2024 (collisions)")
    png = tmp_path / "bury_collisions_heatmap.png"
    fig.savefig(png, dpi=80)
    assert png.stat().st_size > 5_000 and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_hours_are_uk_local_time_across_the_clock_change() -> None:
    # the same 19:30 UK clock time in winter (19:30 UTC) and summer (18:30 UTC); naive values are UTC (schema)
    aware = pd.DataFrame({"occurred_at": pd.to_datetime(["2024-01-05 19:30", "2024-07-05 18:30"], utc=True)})
    naive = aware.assign(occurred_at=aware["occurred_at"].dt.tz_localize(None))
    for frame in (aware, naive):
        prof = timeprofile.time_profile(frame)
        assert prof.loc["Fri", 19] == 2 and prof.to_numpy().sum() == 2
    peak = timeprofile.peak_window(timeprofile.time_profile(aware), hours=1)
    assert peak["text"].startswith("19:00-20:00 UK time (100% of incidents)")


def test_patrol_purpose_numbers_are_readable() -> None:
    places = _places().assign(harm=[5.0, 1_234_567.0, 20.0])
    out = priorities.patrol_priorities(places, params=priorities.PatrolParams(measure="harm", top_n=1))
    assert out["purpose"].iloc[0].startswith("Hotspot #1 (harm 1,234,567): visible presence 10-15 min;")
    assert priorities.NO_TIME in out["purpose"].iloc[0]


def test_walkabout_candidates_are_one_rule_for_app_and_command_line() -> None:
    from types import SimpleNamespace

    cells = _cells().assign(ward_name="Moorside")
    result = SimpleNamespace(areas=_places(), units=cells)
    params = priorities.PatrolParams(top_n=2, stops_per_place=2)
    # `geo-csp route --places areas`: the micro-places of the top areas
    stops = priorities.walkabout_candidates(result, params=params)  # type: ignore[arg-type]
    assert stops["stop_id"].tolist() == ["u1", "u2", "u4", "u5"]
    assert stops["name"].tolist() == ["C: stop 1 of 2", "C: stop 2 of 2", "A: stop 1 of 2", "A: stop 2 of 2"]
    # the app's walkabout page: the same stops of the areas ticked, in rank order
    ticked = priorities.walkabout_candidates(result, params=params, area_ids=["a"])  # type: ignore[arg-type]
    assert ticked["stop_id"].tolist() == ["u4", "u5"] and ticked["name"].tolist() == [
        "A: stop 1 of 2",
        "A: stop 2 of 2",
    ]
    # `--places cells`: the top cells themselves, named after their area
    top = priorities.walkabout_candidates(result, places="cells", params=params)  # type: ignore[arg-type]
    assert top["stop_id"].tolist() == ["u1", "u2"]
    assert top["name"].tolist() == ["C: cell u1", "C: cell u2"]
    with pytest.raises(ParameterError, match="`places` must be one of"):
        priorities.walkabout_candidates(result, places="streets")  # type: ignore[arg-type]
    empty = SimpleNamespace(areas=result.areas.iloc[:0], units=cells)
    with pytest.raises(ParameterError, match="no hotspot areas were found"):
        priorities.walkabout_candidates(empty)  # type: ignore[arg-type]
