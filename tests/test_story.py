"""The one-paragraph story of a hotspot area (geo_csp.story), on a hand-made area."""

from __future__ import annotations

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_csp import story
from geo_csp._errors import ParameterError

SQUARE = shapely.box(0, 0, 500, 500)


def _area() -> pd.Series:
    return pd.Series(
        {
            "area_id": "HS-0001",
            "name": "The Rock",
            "ward_name": "Bury East",
            "n": 1234.0,
            "harm": 5678.9,
            "share_of_crime": 0.086,
            "share_of_area": 0.014,
            "pattern": "Persistent Hot Spot",
            "top_street": "Kiln Walk",
            "geometry": SQUARE,
        }
    )


def test_story_tells_what_where_since_when_trend_cover_and_what_was_done() -> None:
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    hot = np.zeros((2, 12), dtype=np.int8)
    hot[0, 3:] = 1  # hot from April
    counts = np.vstack([np.arange(12) * 3.0 + 10, np.arange(12) + 1.0])  # rising every month
    ops = gpd.GeoDataFrame(
        {
            "name": ["Heartbeat", "Far", "Avro", "Avro"],
            "type": ["targeted", "targeted", "day_of_action", "day_of_action"],
            "start_date": pd.to_datetime(["2025-01-01", "2025-01-01", "2025-03-16", "2025-07-20"]),
            "end_date": pd.to_datetime(["2025-12-31", "2025-12-31", "2025-03-16", "2025-07-20"]),
            "footprint": ["polygon", "polygon", "borough", "borough"],
        },
        geometry=[
            shapely.box(400, 400, 600, 600),
            shapely.box(5000, 5000, 5100, 5100),
            SQUARE.buffer(9e3),
            SQUARE.buffer(9e3),
        ],
        crs="EPSG:27700",
    )
    cover = pd.Series(
        {
            "cctv_share": 0.4,
            "walkabout_n": 2,
            "walkabout_last": pd.Timestamp("2025-11-05"),
            "nearest_hub": "Bury hub",
            "hub_distance_m": 350.0,
        }
    )
    mix = pd.Series({"Shoplifting": 50, "Anti-social behaviour": 30, "Burglary": 20})
    facts = story.area_facts(
        _area(), hot_cold=hot, counts=counts, period_labels=months, coverage=cover, operations=ops, crime_mix=mix
    )
    assert facts["first_hot"] == "2025-04" and facts["last_hot"] == "2025-12" and len(facts["hot_months"]) == 9
    assert facts["mk_tau"] == pytest.approx(1.0) and facts["mk_p"] < 0.001
    text = story.area_story(facts, months_label="Jan 2025 to Dec 2025 (12 months)")
    assert text.startswith("**The Rock** (HS-0001, Bury East ward) had 1,234 incidents in Jan 2025 to Dec 2025")
    assert "8.6% of crime on 1.4% of the area mapped" in text and "harm 5,679 crime-days" in text
    assert "Mostly shoplifting (50%), anti-social behaviour (30%), burglary (20%)." in text
    assert "significantly hot in 9 of 12 months, first in Apr 2025 and most recently in Dec 2025" in text
    assert "Trend over the months: rising (p < 0.001)." in text
    assert "CCTV sees 40% of it" in text and "2 recorded walkabouts passed it, last on 05 Nov 2025" in text
    assert "Bury hub (350 m away)" in text
    assert "Operation Heartbeat (targeted from 01 Jan 2025 to 31 Dec 2025)" in text and "Far" not in text
    assert "borough-wide Avro (2 days of action)" in text


def test_story_without_cover_or_operations_says_so() -> None:
    facts = story.area_facts(
        _area(), hot_cold=np.zeros((1, 3)), counts=np.ones((1, 3)), period_labels=["2025-01", "2025-02", "2025-03"]
    )
    text = story.area_story(facts)
    assert "No month was significantly hot" in text and "too few months to test a trend" in text
    assert "No CCTV, recorded walkabout or hub covers it" in text and "No operation" in text
    with pytest.raises(ParameterError, match="periods"):
        story.area_facts(_area(), hot_cold=np.zeros((1, 3)), counts=np.ones((1, 4)), period_labels=["a"] * 3)


def test_story_says_when_the_tool_first_named_it_and_the_latest_police_uk_month() -> None:
    months = [f"2025-{m:02d}" for m in range(1, 13)]
    hot = np.zeros((1, 12), dtype=np.int8)
    hot[0, 3:] = 1
    area = pd.concat(
        [
            _area(),
            pd.Series(
                {
                    "problem_started": "2025-04",
                    "first_named": "2025-06",
                    "naming_delay_periods": 2,
                    "latest_police_uk_month": "2025-12",
                }
            ),
        ]
    )
    facts = story.area_facts(area, hot_cold=hot, counts=np.ones((1, 12)), period_labels=months)
    assert facts["first_named"] == "2025-06" and facts["latest_police_uk_month"] == "2025-12"
    text = story.area_story(facts)
    assert "first in Apr 2025" in text
    assert "The tool first named it in Jun 2025, 2 months after its problem started" in text
    assert "The latest month in the store from police.uk is Dec 2025." in text
    # an area row from before the timeline columns: no such sentences
    plain = story.area_story(story.area_facts(_area(), hot_cold=hot, counts=np.ones((1, 12)), period_labels=months))
    assert "first named" not in plain and "police.uk" not in plain
