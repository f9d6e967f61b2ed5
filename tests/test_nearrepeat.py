"""Near-repeat: Knox test finds a planted series, finds nothing once the dates are shuffled, holds its size."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from _synthetic import incidents, timed_incidents
from geo_csp import nearrepeat, schema
from geo_csp._errors import ParameterError

_FAST = nearrepeat.NearRepeatParams(permutations=199, seed=1)


def _background(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    xy = rng.uniform(0, 6000, (n, 2)) + [377_000, 407_000]
    days = rng.integers(0, 365, n)
    when = (np.datetime64("2024-01-01") + days.astype("timedelta64[D]")).astype(str)
    return timed_incidents(xy[:, 0], xy[:, 1], [f"{d} 10:00" for d in when], "Burglary", source="gmp_crimes")


def _planted(seed: int = 0) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    base = _background(300, seed)
    xy = rng.normal(0, 40, (8, 2)) + [380_000, 410_000]  # eight burglaries on one street
    days = np.sort(rng.integers(0, 12, 8))  # over twelve days in June
    when = (np.datetime64("2024-06-03") + days.astype("timedelta64[D]")).astype(str)
    series = timed_incidents(xy[:, 0], xy[:, 1], [f"{d} 03:00" for d in when], "Burglary", source="gmp_crimes")
    series[schema.LOCATION] = "On or near Elm Street"
    series[schema.INCIDENT_ID] = [f"series:{i}" for i in range(8)]
    return pd.concat([base, series], ignore_index=True)


def test_planted_series_is_found_and_listed():
    frame = _planted()
    result = nearrepeat.knox_test(frame, params=_FAST)
    assert result.significant and result.p_value <= 0.01
    assert result.observed >= 28 * 0.8 and result.knox_ratio > 2  # 28 planted pairs, most within 14 days
    assert result.params["permutations"] == 199 and result.params["n_incidents"] == 308
    assert "a near-repeat pattern" in result.text
    row = result.table[(result.table["distance_band"] == "0-100 m") & (result.table["day_band"] == "0-7 days")]
    assert row["knox_ratio"].iloc[0] > 3 and row["p_value"].iloc[0] <= 0.01
    series = nearrepeat.near_repeat_series(frame, params=_FAST)
    top = series[series["location"] == "On or near Elm Street"]
    assert len(top) == 1 and top["n"].iloc[0] >= 8
    # background burglaries within 200 m and 14 days of the series may join it (single linkage)
    assert (
        "2024-05-20" <= top["first_date"].iloc[0] <= "2024-06-03"
        and "2024-06-14" <= top["last_date"].iloc[0] <= "2024-06-29"
    )
    assert {f"series:{i}" for i in range(8)} <= set(top["incident_ids"].iloc[0].split(";"))


def test_shuffled_dates_show_no_near_repeat():
    frame = _planted()
    rng = np.random.default_rng(7)
    shuffled = frame.assign(**{schema.OCCURRED_DATE: rng.permutation(frame[schema.OCCURRED_DATE].to_numpy())})
    result = nearrepeat.knox_test(shuffled, params=_FAST)
    assert not result.significant and result.p_value > 0.05
    assert "no near-repeat pattern" in result.text


def test_false_positive_rate_under_the_null_is_near_alpha():
    # 60 data sets of random places and dates: the 5% test should fire in about 3 of them
    params = nearrepeat.NearRepeatParams(permutations=99, seed=3)
    fired = sum(nearrepeat.knox_test(_background(150, seed), params=params).significant for seed in range(60))
    assert fired <= 8  # binomial(60, 0.05): P(X > 8) < 0.01


def test_same_seed_same_answer_and_police_uk_refused():
    frame = _planted()
    a = nearrepeat.knox_test(frame, params=_FAST)
    b = nearrepeat.knox_test(frame, params=_FAST)
    assert a.p_value == b.p_value and a.table.equals(b.table)
    street = incidents([380_000.0, 380_050.0, 380_100.0], [410_000.0] * 3, "2024-03")
    with pytest.raises(ParameterError, match="police.uk publishes months only"):
        nearrepeat.knox_test(street)
    with pytest.raises(ParameterError, match="permutations"):
        nearrepeat.NearRepeatParams(permutations=5)
