"""Time profiles: aoristic weights on worked examples, the busiest window, from/to windows through ingest, the NTE view."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import pandas as pd
import pytest
import shapely
from numpy.testing import assert_allclose

from geo_csp import ingest, schema, store, timeprofile
from geo_csp._errors import ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS


def _utc(local: list[str | None]) -> pd.Series:
    return pd.Series(pd.to_datetime(local)).dt.tz_localize("Europe/London").dt.tz_convert("UTC")


def test_aoristic_weights_worked_example():
    # Fri 1 Mar 2024 18:00 to Sat 2 Mar 08:00 (14 hours, GMT); a 09:30-10:30 window; an exact Monday 00:10
    start = _utc(["2024-03-01 18:00", "2024-03-04 09:30", "2024-03-04 00:10"])
    end = _utc(["2024-03-02 08:00", "2024-03-04 10:30", None])
    w = timeprofile.aoristic_weights(start, end)
    assert w.shape == (3, 168)
    assert_allclose(w.sum(axis=1), 1.0, rtol=1e-12)
    fri18 = 4 * 24 + 18
    assert_allclose(w[0, fri18 : fri18 + 14], 1 / 14, rtol=1e-12)  # Fri 18:00 .. Sat 07:00, one fourteenth each
    assert w[0, :fri18].sum() == 0 and w[0, fri18 + 14 :].sum() == 0
    assert_allclose(w[1, [9, 10]], [0.5, 0.5], rtol=1e-12)  # Monday 09:00 and 10:00 hours
    assert w[2, 0] == 1.0
    # a window of exactly two weeks spreads evenly over the week
    two_weeks = timeprofile.aoristic_weights(_utc(["2024-03-06 13:00"]), _utc(["2024-03-20 13:00"]))
    assert_allclose(two_weeks, 1 / 168, rtol=1e-9)


def test_profile_spreads_windows_and_counts_exact_times():
    frame = pd.DataFrame(
        {
            schema.OCCURRED_AT: _utc(["2024-03-01 18:00", "2024-07-05 21:15", None]),
            schema.OCCURRED_FROM: _utc(["2024-03-01 18:00", None, None]),
            schema.OCCURRED_TO: _utc(["2024-03-02 08:00", None, None]),
        }
    )
    prof = timeprofile.time_profile(frame)
    assert_allclose(prof.loc["Fri", [18, 19, 20, 22, 23]].to_numpy(), 1 / 14)
    assert_allclose(prof.loc["Sat", 0:7].to_numpy(), 1 / 14)
    assert prof.loc["Fri", 21] == pytest.approx(1 + 1 / 14)  # 21:15 BST in July, local clock
    assert prof.to_numpy().sum() == pytest.approx(2.0)
    assert prof.attrs["n_aoristic"] == 1 and prof.attrs["n_untimed"] == 1 and prof.attrs["n_timed"] == 2
    plain = timeprofile.time_profile(frame, aoristic=False)
    assert plain.loc["Fri", 18] == 1 and plain.to_numpy().sum() == 2


def test_busiest_window_finds_an_evening_economy_peak():
    prof = pd.DataFrame(1.0, index=list(timeprofile.DAYS), columns=range(24))
    evening = [18, 19, 20, 21, 22, 23, 0, 1, 2, 3]
    prof.loc[["Fri", "Sat"], evening] = 30.0
    win = timeprofile.busiest_window(prof, share=0.5)
    total = 7 * 24 + 2 * 10 * 29
    # hours 18-04 hold 7 * 10 + 2 * 10 * 29 = 650 of 748; the shortest run with >= 374: 5 hours is 5*7 + 5*2*29 = 325,
    # 6 hours 6 * 7 + 6 * 58 = 390
    assert win["hours"] == 6 and win["n"] == pytest.approx(390) and win["total"] == pytest.approx(total)
    assert (
        win["start_hour"] == 18 and win["end_hour"] == 0 and win["busiest_cell"] == {"day": "Fri", "hour": 0, "n": 30}
    )
    assert win["days"] == ["Fri", "Sat"] and win["text"].startswith("18:00-00:00")
    assert timeprofile.busiest_window(prof, share=0.85)["start_hour"] == 18
    with pytest.raises(ParameterError, match="share"):
        timeprofile.busiest_window(prof, share=0)


def test_police_uk_rows_get_no_profile():
    frame = pd.DataFrame(
        {schema.MONTH: ["2024-01"], schema.OCCURRED_AT: pd.Series([pd.NaT], dtype="datetime64[us, UTC]")}
    )
    with pytest.raises(SchemaError, match="police.uk gives the month only"):
        timeprofile.time_profile(frame)


def test_from_to_window_columns_through_ingest(tmp_path: Path):
    (tmp_path / "burglary.toml").write_text(
        'source = "partner_burglary"\n[columns]\nid = "Ref"\ndatetime_from = "From"\ndatetime_to = "To"\n'
        'window_format = "%d/%m/%Y %H:%M"\ncategory_value = "Burglary"\nlon = "Lon"\nlat = "Lat"\n',
        encoding="utf-8",
    )
    (tmp_path / "burglary.csv").write_text(
        "Ref,From,To,Lon,Lat\n"
        "A,01/03/2024 18:00,02/03/2024 08:00,-2.2971,53.5933\n"
        "B,05/07/2024 21:15,,-2.2971,53.5933\n"
        "C,05/07/2024 21:15,04/07/2024 08:00,-2.2971,53.5933\n"
        "D,,04/07/2024 08:00,-2.2971,53.5933\n",
        encoding="utf-8",
    )
    accepted, quarantined = ingest.read_file(tmp_path / "burglary.csv", mapping=tmp_path / "burglary.toml")
    df = accepted.to_pandas()
    assert df[schema.CRIME_ID].tolist() == ["A", "B"]
    assert str(df.loc[0, schema.OCCURRED_FROM]) == "2024-03-01 18:00:00+00:00"
    assert str(df.loc[0, schema.OCCURRED_TO]) == "2024-03-02 08:00:00+00:00"
    assert str(df.loc[0, schema.OCCURRED_AT]) == "2024-03-01 18:00:00+00:00" and df.loc[0, schema.MONTH] == "2024-03"
    assert pd.isna(df.loc[1, schema.OCCURRED_TO]) and str(df.loc[1, schema.OCCURRED_AT]) == "2024-07-05 20:15:00+00:00"
    q = quarantined.to_pandas()
    assert q["reason"].tolist() == ["bad_window", "missing_required"]  # C ends before it starts; D has no start
    # stored and read back, the profile spreads A over 14 hours
    out = tmp_path / "store"
    ingest.ingest_paths([tmp_path / "burglary.csv"], store_dir=out, mapping=tmp_path / "burglary.toml")
    back = store.read_incidents(out)
    prof = timeprofile.time_profile(back)
    assert_allclose(prof.loc["Fri", 18], 1 / 14) and prof.loc["Fri", 21] == pytest.approx(1.0)


def test_night_time_economy_counts_evening_incidents_near_premises():
    premises = gpd.GeoDataFrame(
        {"place_id": ["p1", "p2"], "name": ["The Swan", "Far Bar"]},
        geometry=[shapely.Point(380_000, 410_000), shapely.Point(381_000, 410_000)],
        crs=WORKING_CRS,
    )
    local = ["2024-03-01 23:30", "2024-03-02 01:10", "2024-03-02 14:00", "2024-03-02 23:00"]
    frame = pd.DataFrame(
        {
            schema.EASTING: [380_010.0, 380_030.0, 380_040.0, 380_200.0],
            schema.NORTHING: [410_000.0, 410_010.0, 409_990.0, 410_000.0],
            schema.OCCURRED_AT: _utc(local),
        }
    )
    out = timeprofile.night_time_economy(frame, premises, params=timeprofile.NteParams(distance_m=50))
    swan = out.set_index("place_id").loc["p1"]
    assert swan[schema.N] == 3 and swan["n_evening"] == 2 and swan["evening_share"] == pytest.approx(2 / 3)
    assert swan["h23"] == 1 and swan["h01"] == 1 and swan["h14"] == 1
    assert out.set_index("place_id").loc["p2", schema.N] == 0 and out["place_id"].iloc[0] == "p1"
    assert out.attrs["nte_params"]["evening"] == "18:00-04:00"
    with pytest.raises(ParameterError, match="empty"):
        timeprofile.NteParams(evening_start_hour=3, evening_end_hour=3)
