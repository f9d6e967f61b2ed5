"""Writers for the SYNTHETIC demo's incident files in the formats the ingest reads.

* police.uk street CSVs in the archive layout ``police-uk/YYYY-MM/YYYY-MM-bury-synthetic-street.csv``
* police.uk stop-and-search CSVs ``police-uk/YYYY-MM/YYYY-MM-bury-synthetic-stop-and-search.csv``
* a council ASB extract (CSV with timestamps and easting/northing) and its TOML column mapping, with
  a few deliberately bad rows so the ingest quarantine shows.

Files are written with fixed formatting (6-decimal lon/lat, ``\\n`` line ends) so the same seed gives
the same bytes.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd
import shapely

from geo_csp import schema
from geo_csp.demo.incidents import N_MONTHS, months
from geo_csp.demo.places import DemoPlaces
from geo_csp.settings import SYNTHETIC_LABEL

__all__ = ["FORCE_SLUG", "REPORTED_BY", "write_police_uk", "write_stop_search", "write_council_asb", "COUNCIL_BAD_ROWS"]

FORCE_SLUG = "bury-synthetic"
REPORTED_BY = f"Bury {SYNTHETIC_LABEL} demo"
CONTEXT = f"{SYNTHETIC_LABEL} demo data"

# Last outcome categories used by police.uk (weights are rough shares for a recorded crime).
_OUTCOMES = {
    "Investigation complete; no suspect identified": 0.30,
    "Unable to prosecute suspect": 0.25,
    "Status update unavailable": 0.10,
    "Under investigation": 0.07,
    "Court result unavailable": 0.05,
    "Local resolution": 0.05,
    "Further investigation is not in the public interest": 0.04,
    "Offender given a caution": 0.03,
    "Formal action is not in the public interest": 0.03,
    "Action to be taken by another organisation": 0.03,
    "Awaiting court outcome": 0.03,
    "Offender sent to prison": 0.02,
}


def _hex_ids(rng: np.random.Generator, n: int) -> np.ndarray:
    """``n`` random 64-hex-digit Crime IDs, vectorised."""
    raw = rng.bytes(32 * n).hex().encode("ascii")
    return np.frombuffer(raw, dtype="S64").astype(str).astype(object)


def _write_csv(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    frame.to_csv(path, index=False, lineterminator="\n", float_format="%.6f")


def police_uk_rows(table: pd.DataFrame, places: DemoPlaces, rng: np.random.Generator) -> pd.DataFrame:
    """The incidents as police.uk street rows (12 columns, in the published order)."""
    pts = places.points
    month_names = np.array(months(), dtype=object)
    types = np.array(schema.CRIME_TYPES, dtype=object)
    n = len(table)
    p = table["point"].to_numpy()
    located = p >= 0
    safe = np.where(located, p, 0)
    crime_type = types[table["type"].to_numpy()]
    is_asb = crime_type == "Anti-social behaviour"
    ids = _hex_ids(rng, n)
    ids[is_asb] = ""
    outcome = rng.choice(
        np.array(list(_OUTCOMES), dtype=object), size=n, p=np.array(list(_OUTCOMES.values())) / sum(_OUTCOMES.values())
    )
    recent = table["month"].to_numpy() >= N_MONTHS - 3  # the latest months are still being worked on
    outcome[recent & (rng.random(n) < 0.5)] = "Under investigation"
    outcome[is_asb] = ""

    def col(name: str) -> np.ndarray:
        values: np.ndarray = pts[name].to_numpy()[safe].astype(object)
        values[~located] = "" if values.dtype == object else np.nan
        return values

    lon = np.where(located, pts["lon"].to_numpy()[safe], np.nan)
    lat = np.where(located, pts["lat"].to_numpy()[safe], np.nan)
    location = col("location")
    location[~located] = "No Location"
    return pd.DataFrame(
        {
            "Crime ID": ids,
            "Month": month_names[table["month"].to_numpy()],
            "Reported by": REPORTED_BY,
            "Falls within": REPORTED_BY,
            "Longitude": lon,
            "Latitude": lat,
            "Location": location,
            "LSOA code": col("lsoa_code"),
            "LSOA name": col("lsoa_name"),
            "Crime type": crime_type,
            "Last outcome category": outcome,
            "Context": CONTEXT,
        },
        columns=list(schema.POLICE_UK_STREET_HEADER),
    )


def write_police_uk(rows: pd.DataFrame, folder: Path) -> list[Path]:
    """One archive-layout street CSV per month; returns the paths."""
    paths = []
    for month, part in rows.groupby("Month", sort=True):
        path = folder / month / f"{month}-{FORCE_SLUG}-street.csv"
        _write_csv(part, path)
        paths.append(path)
    return paths


_SEARCH_OBJECTS = {
    "Controlled drugs": (0.62, "Misuse of Drugs Act 1971 (section 23)"),
    "Offensive weapons": (0.14, "Police and Criminal Evidence Act 1984 (section 1)"),
    "Stolen goods": (0.10, "Police and Criminal Evidence Act 1984 (section 1)"),
    "Article for use in theft": (0.08, "Police and Criminal Evidence Act 1984 (section 1)"),
    "Articles for use in criminal damage": (0.03, "Police and Criminal Evidence Act 1984 (section 1)"),
    "Firearms": (0.03, "Firearms Act 1968 (section 47)"),
}
_SEARCH_OUTCOMES = {
    "A no further action disposal": 0.70,
    "Arrest": 0.12,
    "Khat or Cannabis warning": 0.07,
    "Community resolution": 0.06,
    "Summons / charged by post": 0.03,
    "Penalty Notice for Disorder": 0.02,
}


def _choice(rng: np.random.Generator, table: Mapping[str, float | tuple[float, str]], n: int) -> np.ndarray:
    keys = np.array(list(table), dtype=object)
    w = np.array([v[0] if isinstance(v, tuple) else v for v in table.values()], dtype=float)
    return rng.choice(keys, size=n, p=w / w.sum())


def stop_search_rows(
    places: DemoPlaces,
    rng: np.random.Generator,
    *,
    per_month: float,
    heartbeat_footprint: shapely.Geometry,
    heartbeat_from: int,
) -> pd.DataFrame:
    """Stop-and-search rows (15 columns), half of them on the town-centre network."""
    pts = places.points
    month_starts = pd.PeriodIndex(months(), freq="M").to_timestamp()
    n_per = rng.poisson(per_month, size=N_MONTHS)
    m = np.repeat(np.arange(N_MONTHS), n_per)
    n = len(m)
    tc = places.points_in(places.place("Bury Town Centre"))
    p = np.where(
        rng.random(n) < 0.5,
        tc[rng.integers(0, len(tc), size=n)],
        rng.choice(len(pts), size=n, p=pts["weight"].to_numpy()),
    )
    month_len = np.asarray(pd.PeriodIndex(months(), freq="M").days_in_month)[m]
    day = rng.integers(0, month_len)
    hour = rng.choice(np.arange(24), size=n, p=_evening_hours())
    minute = rng.integers(0, 12, size=n) * 5
    local = (
        month_starts[m]
        + pd.to_timedelta(day, unit="D")
        + pd.to_timedelta(hour, unit="h")
        + pd.to_timedelta(minute, unit="min")
    )
    # police.uk files a search by its Europe/London month and publishes the time in UTC
    when = local.tz_localize("Europe/London", ambiguous=np.ones(n, bool), nonexistent="shift_forward").tz_convert("UTC")
    obj = _choice(rng, _SEARCH_OBJECTS, n)
    legislation = np.array([_SEARCH_OBJECTS[o][1] for o in _SEARCH_OBJECTS], dtype=object)[
        pd.Index(list(_SEARCH_OBJECTS)).get_indexer(obj)
    ]
    outcome = _choice(rng, _SEARCH_OUTCOMES, n)
    outcome[(obj != "Controlled drugs") & (outcome == "Khat or Cannabis warning")] = "A no further action disposal"
    linked = np.where(
        outcome == "A no further action disposal", "", np.where(rng.random(n) < 0.7, "True", "False")
    ).astype(object)
    located = rng.random(n) >= 0.01
    lat = np.where(located, pts["lat"].to_numpy()[p], np.nan)
    lon = np.where(located, pts["lon"].to_numpy()[p], np.nan)
    in_op = shapely.contains_xy(heartbeat_footprint, pts["easting"].to_numpy()[p], pts["northing"].to_numpy()[p])
    in_op &= (m >= heartbeat_from) & located
    return pd.DataFrame(
        {
            "Type": _choice(rng, {"Person search": 0.82, "Person and Vehicle search": 0.13, "Vehicle search": 0.05}, n),
            "Date": when.strftime("%Y-%m-%dT%H:%M:%S+00:00"),
            "Part of a policing operation": np.where(in_op, "True", "False"),
            "Policing operation": np.where(in_op, "Heartbeat", ""),
            "Latitude": lat,
            "Longitude": lon,
            "Gender": _choice(rng, {"Male": 0.86, "Female": 0.10, "": 0.04}, n),
            "Age range": _choice(rng, {"10-17": 0.2, "18-24": 0.33, "25-34": 0.24, "over 34": 0.2, "": 0.03}, n),
            "Self-defined ethnicity": _choice(
                rng,
                {
                    "White - English/Welsh/Scottish/Northern Irish/British": 0.72,
                    "Asian/Asian British - Pakistani": 0.08,
                    "White - Any other White background": 0.05,
                    "Black/African/Caribbean/Black British - Caribbean": 0.03,
                    "Other ethnic group - Not stated": 0.09,
                    "": 0.03,
                },
                n,
            ),
            "Officer-defined ethnicity": _choice(
                rng, {"White": 0.8, "Asian": 0.1, "Black": 0.05, "Other": 0.02, "": 0.03}, n
            ),
            "Legislation": legislation,
            "Object of search": obj,
            "Outcome": outcome,
            "Outcome linked to object of search": linked,
            "Removal of more than just outer clothing": np.where(rng.random(n) < 0.02, "True", "False"),
        },
        columns=list(schema.POLICE_UK_STOP_SEARCH_HEADER),
    ).iloc[np.argsort(when.to_numpy(), kind="stable")]


def _evening_hours() -> np.ndarray:
    """Hour-of-day probabilities peaking in the evening (ASB and street searches)."""
    hours = np.arange(24)
    w = 0.25 + np.exp(-0.5 * (((hours - 20.5 + 12) % 24 - 12) / 2.8) ** 2) * 3.0
    w[2:7] *= 0.3
    probabilities: np.ndarray = w / w.sum()
    return probabilities


def write_stop_search(rows: pd.DataFrame, folder: Path) -> list[Path]:
    """One stop-and-search CSV per police.uk month (the Europe/London month of the search)."""
    paths = []
    month = pd.to_datetime(rows["Date"]).dt.tz_convert("Europe/London").dt.strftime("%Y-%m")
    for key, part in rows.groupby(month, sort=True):
        path = folder / key / f"{key}-{FORCE_SLUG}-stop-and-search.csv"
        _write_csv(part, path)
        paths.append(path)
    return paths


_COUNCIL_TYPES = {
    "Noise nuisance": 0.30,
    "Neighbour dispute": 0.18,
    "Youth nuisance": 0.20,
    "Fly-tipping": 0.14,
    "Drug-related ASB": 0.06,
    "Abandoned vehicle": 0.05,
    "Graffiti": 0.04,
    "Dog fouling": 0.03,
}
COUNCIL_SOURCE = "council_asb"
COUNCIL_MAPPING = f"""# Column mapping for the {SYNTHETIC_LABEL} demo council ASB extract (geo-csp partner format).
source = "{COUNCIL_SOURCE}"
force = "bury-council-synthetic"
timezone = "Europe/London"

[columns]
id = "Ref"
datetime = "Reported"
date_format = "%d/%m/%Y %H:%M"
category = "Type"
easting = "Easting"
northing = "Northing"
location = "Street"

[categories]
{chr(10).join(f'"{k}" = "Anti-social behaviour"' for k in _COUNCIL_TYPES)}
"""
# The deliberately bad rows appended to the council extract: (what is wrong, expected reason code).
COUNCIL_BAD_ROWS: tuple[tuple[str, str], ...] = (
    ("date is not a date", "bad_date"),
    ("impossible date 31/02", "bad_date"),
    ("zeroed coordinates", "zero_coordinates"),
    ("point in Aberdeen, outside England and Wales", "out_of_country"),
    ("empty category", "missing_required"),
    ("non-numeric easting", "non_numeric_coordinates"),
    ("northing missing", "half_coordinates"),
    ("reference repeats an earlier row", "duplicate_id"),
)


def council_rows(
    places: DemoPlaces,
    rng: np.random.Generator,
    *,
    per_month: float,
    hotspot_points: dict[str, tuple[np.ndarray, np.ndarray]],
) -> pd.DataFrame:
    """Council ASB reports with date-times, easting/northing to the metre, and the bad rows last.

    ``hotspot_points`` maps a place to (snap-point positions, extra reports per month).
    """
    pts = places.points
    month_starts = pd.PeriodIndex(months(), freq="M").to_timestamp()
    month_len = np.asarray(pd.PeriodIndex(months(), freq="M").days_in_month)
    m_bg = np.repeat(np.arange(N_MONTHS), rng.poisson(per_month, size=N_MONTHS))
    p_bg = rng.choice(len(pts), size=len(m_bg), p=pts["weight"].to_numpy())
    ms, ps = [m_bg], [p_bg]
    for idx, lam in hotspot_points.values():
        m = np.repeat(np.arange(N_MONTHS), rng.poisson(lam))
        ms.append(m)
        ps.append(idx[rng.integers(0, len(idx), size=len(m))])
    m, p = np.concatenate(ms), np.concatenate(ps)
    n = len(m)
    # days: weekends twice as likely; hours: evenings
    day = rng.integers(0, month_len[m])
    date = month_starts[m] + pd.to_timedelta(day, unit="D")
    weekend = date.day_of_week.to_numpy() >= 5
    redraw = ~weekend & (rng.random(n) < 0.45)
    day2 = rng.integers(0, month_len[m])
    date2 = month_starts[m] + pd.to_timedelta(day2, unit="D")
    date = pd.DatetimeIndex(np.where(redraw & (date2.day_of_week.to_numpy() >= 5), date2, date))
    hour = rng.choice(np.arange(24), size=n, p=_evening_hours())
    minute = rng.integers(0, 60, size=n)
    when = date + pd.to_timedelta(hour, unit="h") + pd.to_timedelta(minute, unit="min")
    order = np.argsort(when.to_numpy(), kind="stable")
    when, p = when[order], p[order]
    easting = np.round(pts["easting"].to_numpy()[p] + rng.normal(0, 15, n)).astype(int)
    northing = np.round(pts["northing"].to_numpy()[p] + rng.normal(0, 15, n)).astype(int)
    year = when.year.to_numpy()
    seq = np.arange(1, n + 1)
    frame = pd.DataFrame(
        {
            "Ref": "ASB-" + pd.Series(year).astype(str) + "-" + pd.Series(seq).astype(str).str.zfill(6),
            "Reported": when.strftime("%d/%m/%Y %H:%M"),
            "Type": _choice(rng, _COUNCIL_TYPES, n),
            "Easting": easting.astype(str),
            "Northing": northing.astype(str),
            "Street": pts["street"].to_numpy()[p],
            "Status": rng.choice(np.array(["Closed", "Closed", "Closed", "Open"], dtype=object), size=n),
            "Note": f"{SYNTHETIC_LABEL} demo record",
        }
    )
    good = frame.iloc[-1]
    bad = pd.DataFrame([good] * len(COUNCIL_BAD_ROWS)).reset_index(drop=True)
    bad["Ref"] = [f"ASB-BAD-{i + 1:03d}" for i in range(len(bad))]
    bad.loc[0, "Reported"] = "not known"
    bad.loc[1, "Reported"] = "31/02/2025 21:15"
    bad.loc[2, ["Easting", "Northing"]] = ["0", "0"]
    bad.loc[3, ["Easting", "Northing"]] = ["394000", "806000"]
    bad.loc[4, "Type"] = ""
    bad.loc[5, "Easting"] = "38O512"
    bad.loc[6, "Northing"] = ""
    bad.loc[7, "Ref"] = frame["Ref"].iloc[0]
    return pd.concat([frame, bad], ignore_index=True)


def write_council_asb(rows: pd.DataFrame, folder: Path) -> tuple[Path, Path]:
    """The council extract CSV and its TOML mapping."""
    csv_path = folder / "bury_council_asb_synthetic.csv"
    _write_csv(rows, csv_path)
    mapping_path = folder / "council_asb_mapping.toml"
    mapping_path.write_text(COUNCIL_MAPPING, encoding="utf-8", newline="\n")
    return csv_path, mapping_path
