"""Synthetic incidents in the store schema, and real police.uk files read into it, for hotspot tests."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
from pyproj import Transformer

from geo_csp import schema

_TO_BNG = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
_TO_LONLAT = Transformer.from_crs("EPSG:27700", "EPSG:4326", always_xy=True)


def incidents(easting, northing, months, crime_types="Burglary", *, located=True, location=None) -> pd.DataFrame:
    """An incident table with the store's columns from coordinates (EPSG:27700) and months."""
    x = np.asarray(easting, dtype="float64")
    y = np.asarray(northing, dtype="float64")
    n = x.size
    lon, lat = _TO_LONLAT.transform(x, y)
    frame = pd.DataFrame(
        {
            schema.INCIDENT_ID: [f"f:{i + 2}" for i in range(n)],
            schema.SOURCE: schema.SOURCE_STREET,
            schema.FORCE: "test",
            schema.MONTH: np.array(np.broadcast_to(np.asarray(months, dtype=object), (n,))),
            schema.CRIME_TYPE: np.array(np.broadcast_to(np.asarray(crime_types, dtype=object), (n,))),
            schema.LON: lon,
            schema.LAT: lat,
            schema.EASTING: x,
            schema.NORTHING: y,
            schema.LOCATED: np.array(np.broadcast_to(np.asarray(located, dtype=bool), (n,))),
            schema.LOCATION: np.array(np.broadcast_to(np.asarray(location, dtype=object), (n,))),
            schema.LSOA_CODE: None,
            schema.WEIGHT: 1.0,
        }
    )
    return frame


def random_incidents(
    n: int = 2000, *, seed: int = 0, months: int = 12, centre=(380_500.0, 410_500.0), spread_m: float = 2500.0
) -> pd.DataFrame:
    """Random incidents around a centre in Bury, on 300 repeated snap points, over ``months`` months."""
    rng = np.random.default_rng(seed)
    snaps = rng.normal(0, spread_m, size=(300, 2)) + np.asarray(centre)
    pick = rng.integers(0, 300, size=n)
    month_idx = rng.integers(0, months, size=n)
    month_text = np.array([f"{2021 + (m // 12)}-{m % 12 + 1:02d}" for m in range(months)], dtype=object)[month_idx]
    types = np.asarray(schema.CRIME_TYPES, dtype=object)[rng.integers(0, 14, size=n)]
    frame = incidents(
        snaps[pick, 0],
        snaps[pick, 1],
        month_text,
        types,
        location=np.array([f"On or near Street {k % 40}" for k in range(300)], dtype=object)[pick],
    )
    frame.loc[rng.random(n) < 0.02, [schema.EASTING, schema.NORTHING, schema.LON, schema.LAT]] = np.nan
    frame[schema.LOCATED] = frame[schema.EASTING].notna()
    return frame


def read_points_csv(
    path: Path, *, month="Month", crime_type="Crime type", lon="Longitude", lat="Latitude", location=None
) -> pd.DataFrame:
    """A reduced police.uk points CSV (real data folder) as incidents in the store schema."""
    raw = pd.read_csv(path)
    x, y = _TO_BNG.transform(raw[lon].to_numpy(dtype="float64"), raw[lat].to_numpy(dtype="float64"))
    loc = raw[location].to_numpy(dtype=object) if location else None
    return incidents(x, y, raw[month].to_numpy(dtype=object), raw[crime_type].to_numpy(dtype=object), location=loc)


def timed_incidents(
    easting, northing, when, crime_types="Anti-social behaviour", *, source: str = "council_asb"
) -> pd.DataFrame:
    """A partner incident table with recorded local date-times (``when``: "YYYY-MM-DD HH:MM" text, Europe/London)."""
    local = pd.DatetimeIndex(pd.to_datetime(np.asarray(when, dtype=object)))
    frame = incidents(easting, northing, local.strftime("%Y-%m").to_numpy(dtype=object), crime_types)
    frame[schema.SOURCE] = source
    frame[schema.OCCURRED_DATE] = local.normalize().date
    frame[schema.OCCURRED_AT] = local.tz_localize("Europe/London").tz_convert("UTC")
    return frame
