"""STATS19 road casualties: their own reader, and casualties per ward.

STATS19 is the police record of personal-injury road collisions that the Department for Transport
publishes. The reader knows two layouts by their header (column names case- and space-insensitive):

* **casualty rows** (one row per casualty), as Transport for Greater Manchester publishes the GM
  extract: ``AREFNO`` (or ``accident_index``), ``date``, ``output_time`` (or ``time``),
  ``casualty_severity``, ``mode`` (or DfT's coded ``casualty_type``), ``sex`` (``sex_of_casualty``),
  ``ageband`` (``age_band_of_casualty``), ``lon``/``lat`` (``longitude``/``latitude``). Each row is one
  casualty (weight 1);
* **collision rows** (one row per collision), as DfT's ``dft-road-casualty-statistics-collision``
  files: ``accident_index`` (or ``collision_index``), ``date`` (dd/mm/yyyy), ``time`` (HH:MM),
  ``accident_severity`` (or ``collision_severity``), ``number_of_casualties``, ``longitude``/``latitude``
  or ``location_easting_osgr``/``location_northing_osgr``. Each row stands for its
  ``number_of_casualties`` casualties (its weight); there is no mode of travel, sex or age (those are in
  DfT's separate casualty file).

Rows are stored as source :data:`geo_csp.schema.SOURCE_STATS19` with category
:data:`geo_csp.schema.ROAD_CASUALTY_TYPE`, the collision reference as ``crime_id``, ``severity``
(Fatal, Serious, Slight; DfT codes 1, 2, 3), ``travel_mode`` and the casualty's sex and age band in the
victim columns (DfT's code -1, "data missing", is unknown). Timestamps are honest: the date and the
clock time as recorded (local time, Europe/London, stored in UTC); a row whose time is blank keeps its
date and has no time of day. A row is quarantined with its reason when its date or time cannot be read
(``bad_date``), its severity is not one of the three (``bad_severity``), its number of casualties is not
a whole number of at least 1 (``bad_casualties``), its collision reference is blank
(``missing_required``), or its point is unusable (the coordinate reasons of every reader).

:func:`casualties_by_ward` counts casualties (the sum of the rows' weights), those killed or seriously
injured (KSI), and collisions, per ward. :func:`ward_casualty_table` is the measure by ward a partnership
reports: casualties by severity and by mode of travel, collisions, and casualties and KSI per 1,000
residents a year, with what was counted in its metadata (:class:`CasualtyParams` included).
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from typing import Any, Final

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import boundaries, periods, qualifiers, schema
from geo_csp._errors import InputFileError, ParameterError, SchemaError
from geo_csp.settings import WORKING_CRS

__all__ = [
    "CASUALTY_MODES",
    "CASUALTY_TABLE_COLUMNS",
    "MODE_PREFIX",
    "CasualtyParams",
    "SEVERITIES",
    "TIMEZONE",
    "WARD_COLUMNS",
    "Stats19Rows",
    "casualties_by_ward",
    "parse_stats19",
    "stats19_layout",
    "ward_casualty_table",
]

#: STATS19 dates and times are local clock times in Great Britain.
TIMEZONE: Final = "Europe/London"
#: Severities in DfT's order (codes 1, 2, 3).
SEVERITIES: Final = ("Fatal", "Serious", "Slight")
#: DfT ``casualty_type`` codes and their published labels (the road user the casualty was).
CASUALTY_MODES: Final = {
    "0": "Pedestrian",
    "1": "Cyclist",
    "2": "Motorcycle 50cc and under rider or passenger",
    "3": "Motorcycle 125cc and under rider or passenger",
    "4": "Motorcycle over 125cc and up to 500cc rider or passenger",
    "5": "Motorcycle over 500cc rider or passenger",
    "8": "Taxi/Private hire car occupant",
    "9": "Car occupant",
    "10": "Minibus (8 - 16 passenger seats) occupant",
    "11": "Bus or coach occupant (17 or more pass seats)",
    "16": "Horse rider",
    "17": "Agricultural vehicle occupant",
    "18": "Tram occupant",
    "19": "Van / Goods vehicle (3.5 tonnes mgw or under) occupant",
    "20": "Goods vehicle (over 3.5t. and under 7.5t.) occupant",
    "21": "Goods vehicle (7.5 tonnes mgw and over) occupant",
    "22": "Mobility scooter rider",
    "23": "Electric motorcycle rider or passenger",
    "90": "Other vehicle occupant",
    "97": "Motorcycle - unknown cc rider or passenger",
    "98": "Goods vehicle (unknown weight) occupant",
}
#: DfT ``age_band_of_casualty`` codes.
_AGE_BAND_CODES: Final = {
    "1": "0-5",
    "2": "6-10",
    "3": "11-15",
    "4": "16-20",
    "5": "21-25",
    "6": "26-35",
    "7": "36-45",
    "8": "46-55",
    "9": "56-65",
    "10": "66-75",
    "11": "76+",
}
_SEX_CODES: Final = {"1": "male", "2": "female", "9": "", "-1": ""}
_MISSING: Final = "-1"  # DfT's "data missing or out of range"

# Column names each field may have (after lower-casing and turning spaces into "_"), first match wins.
_ID = ("arefno", "accident_index", "collision_index")
_DATE = ("date", "accident_date", "collision_date")
_TIME = ("output_time", "time", "accident_time")
_CASUALTY_SEVERITY = ("casualty_severity",)
_COLLISION_SEVERITY = ("accident_severity", "collision_severity")
_N_CASUALTIES = ("number_of_casualties", "number_casualties")
_MODE = ("mode", "casualty_type")
_SEX = ("sex", "sex_of_casualty")
_AGE = ("ageband", "age_band_of_casualty", "age_band")
_LONLAT = (("lon", "lat"), ("longitude", "latitude"))
_EN = (("location_easting_osgr", "location_northing_osgr"), ("easting", "northing"))
#: Columns that mark a casualty row (one row per casualty).
_CASUALTY_MARKS = (*_CASUALTY_SEVERITY, "casualty_type", "casualty_reference", "mode")
#: Ward table columns of :func:`casualties_by_ward`.
WARD_COLUMNS: Final = ("ward_name", "casualties", "killed_or_seriously_injured", "fatal", "collisions")


def _key(name: str) -> str:
    return re.sub(r"\s+", "_", name.strip().lower())


def _find(keys: dict[str, str], names: tuple[str, ...]) -> str | None:
    return next((keys[n] for n in names if n in keys), None)


def stats19_layout(header: list[str]) -> str | None:
    """``"casualty"`` or ``"collision"`` when ``header`` is a STATS19 layout (see the module docstring), else None."""
    keys = {_key(h): h for h in header}
    has_point = any(a in keys and b in keys for a, b in (*_LONLAT, *_EN))
    core = _find(keys, _ID) and _find(keys, _DATE) and has_point
    if not core:
        return None
    if any(m in keys for m in _CASUALTY_MARKS) and _find(keys, (*_CASUALTY_SEVERITY, *_COLLISION_SEVERITY)):
        return "casualty"
    if _find(keys, _COLLISION_SEVERITY) and _find(keys, _N_CASUALTIES):
        return "collision"
    return None


@dataclass(frozen=True)
class Stats19Rows:
    """The fields of a STATS19 file read row by row (before the coordinate checks every reader shares).

    Attributes
    ----------
    layout
        ``"casualty"`` or ``"collision"``.
    collision_id, severity, travel_mode, victim_sex, victim_age_band
        Text per row (``<NA>`` where not given or unknown).
    local
        Local date-time (naive, Europe/London clock) per row; midnight where only the date is known.
    has_time
        Whether the row gave a clock time.
    casualties
        Casualties the row stands for (its weight).
    x_column, y_column, crs
        The coordinate columns and their CRS.
    checks
        ``(reason, rows)`` in order, for the quarantine (reasons of :data:`geo_csp.schema.REASONS`).
    details
        Reason -> the file columns its message shows.
    """

    layout: str
    collision_id: pd.Series
    local: pd.Series
    has_time: np.ndarray
    severity: pd.Series
    travel_mode: pd.Series
    victim_sex: pd.Series
    victim_age_band: pd.Series
    casualties: np.ndarray
    x_column: str
    y_column: str
    crs: str
    checks: tuple[tuple[str, np.ndarray], ...]
    details: dict[str, list[str]] = field(default_factory=dict)


def _text(frame: pd.DataFrame, column: str | None) -> pd.Series:
    if column is None:
        return pd.Series("", index=frame.index, dtype=object)
    return frame[column].fillna("").astype(str).str.strip()


def _dates(text: pd.Series) -> pd.Series:
    """ISO dates (2024-01-31) or DfT's dd/mm/yyyy, whichever the file uses (per row)."""
    iso = pd.to_datetime(text, format="%Y-%m-%d", errors="coerce")
    dmy = pd.to_datetime(text, format="%d/%m/%Y", errors="coerce")
    return iso.fillna(dmy)


def _clock(text: pd.Series) -> pd.Series:
    """Clock times HH:MM or HH:MM:SS as offsets from midnight (NaT where unreadable or blank)."""
    full = text.where(text.str.count(":") != 1, text + ":00")
    ok = full.str.fullmatch(r"(?:[01]?\d|2[0-3]):[0-5]\d:[0-5]\d")
    return pd.to_timedelta(full.where(ok), errors="coerce")


def _severity(text: pd.Series) -> tuple[pd.Series, np.ndarray]:
    codes = {"1": "Fatal", "2": "Serious", "3": "Slight", **{s.lower(): s for s in SEVERITIES}}
    out = text.str.lower().map(codes)
    return out.astype("string"), out.isna().to_numpy()


def parse_stats19(frame: pd.DataFrame, *, origin: str = "STATS19 file") -> Stats19Rows:
    """Read the STATS19 fields of every row of ``frame`` (text columns as in the file).

    Parameters
    ----------
    frame
        The file's rows, every column as text (blank for an empty field).
    origin
        The file, for error messages.

    Raises
    ------
    InputFileError
        The header is not a STATS19 layout (names what is missing).
    """
    layout = stats19_layout(list(frame.columns))
    if layout is None:
        raise InputFileError(
            f"{origin}: not a STATS19 layout (header {list(frame.columns)[:8]}...); it needs a collision reference "
            "(accident_index or AREFNO), a date, a severity and a point (longitude/latitude or "
            "location_easting_osgr/location_northing_osgr), plus number_of_casualties for a collision file"
        )
    keys = {_key(c): c for c in frame.columns}
    id_col, date_col, time_col = _find(keys, _ID), _find(keys, _DATE), _find(keys, _TIME)
    ids = _text(frame, id_col)
    date_text, time_text = _text(frame, date_col), _text(frame, time_col)
    day = _dates(date_text)
    clock = _clock(time_text)
    time_blank = (time_text == "").to_numpy()
    bad_date = (date_text != "").to_numpy() & day.isna().to_numpy() | (~time_blank & clock.isna().to_numpy())
    local = day + clock.fillna(pd.Timedelta(0))
    sev_col = _find(keys, _CASUALTY_SEVERITY) if layout == "casualty" else None
    sev_col = sev_col or _find(keys, _COLLISION_SEVERITY)
    severity, bad_sev = _severity(_text(frame, sev_col))
    checks: list[tuple[str, np.ndarray]] = [
        ("missing_required", (ids == "").to_numpy() | (date_text == "").to_numpy()),
        ("bad_date", bad_date),
        ("bad_severity", bad_sev),
    ]
    details = {
        "missing_required": [c for c in (id_col, date_col) if c],
        "bad_date": [c for c in (date_col, time_col) if c],
        "bad_severity": [c for c in (sev_col,) if c],
    }
    n_col = _find(keys, _N_CASUALTIES)
    if layout == "collision":
        n = pd.to_numeric(_text(frame, n_col), errors="coerce").to_numpy(dtype=float)
        bad_n = ~(n >= 1) | (n != np.round(n))
        checks.append(("bad_casualties", bad_n))
        details["bad_casualties"] = [n_col] if n_col else []
        casualties = np.where(bad_n, np.nan, n)
        empty = pd.Series(pd.NA, index=frame.index, dtype="string")
        mode, sex, age = empty, empty, empty
    else:
        casualties = np.ones(len(frame))
        mode_col = _find(keys, _MODE)
        mode_text = _text(frame, mode_col)
        if mode_col is not None and _key(mode_col) == "casualty_type":
            mode_text = mode_text.map(lambda c: CASUALTY_MODES.get(c, "" if c in ("", _MISSING, "99") else c))
        mode = mode_text.replace("", pd.NA).astype("string")
        sex_text = _text(frame, _find(keys, _SEX)).str.lower()
        sex, bad_sex = qualifiers.normalise_sexes(sex_text.map(lambda v: _SEX_CODES.get(v, v)))
        age_col = _find(keys, _AGE)
        age_text = _text(frame, age_col)
        if age_col is not None and _key(age_col) == "age_band_of_casualty":
            age_text = age_text.map(lambda c: _AGE_BAND_CODES.get(c, c))
        age, bad_age = qualifiers.normalise_age_bands(age_text.replace(_MISSING, ""))
        checks += [("bad_sex", bad_sex), ("bad_age_band", bad_age)]
        details |= {
            "bad_sex": [c for c in (_find(keys, _SEX),) if c],
            "bad_age_band": [c for c in (age_col,) if c],
        }
    pair = next(((a, b, "EPSG:4326") for a, b in _LONLAT if a in keys and b in keys), None)
    pair = pair or next((a, b, "EPSG:27700") for a, b in _EN if a in keys and b in keys)
    return Stats19Rows(
        layout=layout,
        collision_id=ids.replace("", pd.NA).astype("string"),
        local=local,
        has_time=~time_blank & clock.notna().to_numpy(),
        severity=severity,
        travel_mode=mode.set_axis(frame.index),
        victim_sex=sex.set_axis(frame.index),
        victim_age_band=age.set_axis(frame.index),
        casualties=casualties,
        x_column=keys[pair[0]],
        y_column=keys[pair[1]],
        crs=pair[2],
        checks=tuple(checks),
        details=details,
    )


def casualties_by_ward(
    incidents: pd.DataFrame,
    wards: gpd.GeoDataFrame,
    *,
    months: tuple[str, str] | None = None,
) -> pd.DataFrame:
    """Road casualties per ward: casualties, killed or seriously injured (KSI), fatal, and collisions.

    Parameters
    ----------
    incidents
        Store rows (:func:`geo_csp.store.read_incidents`); only STATS19 rows
        (:data:`geo_csp.schema.SOURCE_STATS19`) are counted, located ones only.
    wards
        Ward polygons in EPSG:27700 with ``ward_code`` and ``ward_name``.
    months
        First and last month counted (``"YYYY-MM"``, inclusive); ``None`` for all.

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ward_code`` in the wards' order, columns :data:`WARD_COLUMNS`: casualties are the
        sum of row weights (one per casualty row; a collision row's number of casualties), collisions the
        distinct collision references. ``attrs["counted"]`` says what was counted and how many casualties
        fell in no ward.
    """
    need = [schema.SOURCE, schema.MONTH, schema.EASTING, schema.NORTHING, schema.WEIGHT, schema.SEVERITY]
    missing = [c for c in need if c not in incidents.columns]
    if missing:
        raise SchemaError(f"incidents lack column(s) {missing}; read them with store.read_incidents()")
    for col in (schema.WARD_CODE, schema.WARD_NAME):
        if col not in wards.columns:
            raise SchemaError(f"wards have no column {col!r}; they have {list(wards.columns)}")
    if wards.crs is None or wards.crs != WORKING_CRS:
        raise SchemaError(f"wards are {wards.crs}, not {WORKING_CRS}; reproject them with .to_crs()")
    rows = incidents[incidents[schema.SOURCE].astype(str).to_numpy() == schema.SOURCE_STATS19]
    if months is not None:
        month = rows[schema.MONTH].astype(str)
        rows = rows[((month >= months[0]) & (month <= months[1])).to_numpy()]
    if not len(rows) and not len(incidents[incidents[schema.SOURCE].astype(str) == schema.SOURCE_STATS19]):
        raise SchemaError(
            f"the incidents hold no STATS19 road casualties (source {schema.SOURCE_STATS19!r}); ingest a STATS19 file"
        )
    code = boundaries.assign_to_polygons(
        rows[schema.EASTING].to_numpy(), rows[schema.NORTHING].to_numpy(), wards, code_col=schema.WARD_CODE
    )
    inside = pd.notna(code)
    weight = rows[schema.WEIGHT].to_numpy(dtype=float)
    severity = rows[schema.SEVERITY].astype("string")
    ksi = severity.isin(["Fatal", "Serious"]).to_numpy()
    fatal = (severity == "Fatal").fillna(False).to_numpy()
    order = pd.Index(wards[schema.WARD_CODE].astype(str), name=schema.WARD_CODE)
    frame = pd.DataFrame(
        {
            schema.WARD_CODE: code[inside].astype(str),
            "casualties": weight[inside],
            "killed_or_seriously_injured": (weight * ksi)[inside],
            "fatal": (weight * fatal)[inside],
            "collision": rows[schema.CRIME_ID].astype(str).to_numpy()[inside]
            if schema.CRIME_ID in rows.columns
            else np.arange(int(inside.sum())).astype(str),
        }
    )
    sums = frame.groupby(schema.WARD_CODE)[["casualties", "killed_or_seriously_injured", "fatal"]].sum()
    collisions = frame.groupby(schema.WARD_CODE)["collision"].nunique().rename("collisions")
    out = sums.join(collisions).reindex(order, fill_value=0)
    out = out.astype({c: "int64" for c in out.columns})
    out.insert(0, "ward_name", wards[schema.WARD_NAME].astype(str).to_numpy())
    counted: dict[str, Any] = {
        "source": schema.SOURCE_STATS19,
        "months": list(months) if months is not None else None,
        "casualties": int(weight.sum()),
        "outside_wards": int(weight[~inside].sum()),
        "rule": "casualties are summed per ward of the collision point (a point on a shared edge goes to the "
        "first ward); killed or seriously injured = Fatal + Serious; collisions are distinct references",
    }
    out.attrs["counted"] = counted
    return out[list(WARD_COLUMNS)]


#: Leading columns of :func:`ward_casualty_table` (one ``mode: <mode>`` column per mode of travel follows).
CASUALTY_TABLE_COLUMNS: Final = (
    "ward_name",
    "casualties",
    "fatal",
    "serious",
    "slight",
    "killed_or_seriously_injured",
    "collisions",
    schema.POPULATION,
    "casualties_per_1000_a_year",
    "ksi_per_1000_a_year",
)
#: Prefix of the mode-of-travel columns of :func:`ward_casualty_table`.
MODE_PREFIX: Final = "mode: "
#: The mode column of casualties whose mode is not recorded (collision files, blank modes).
MODE_NOT_RECORDED: Final = "not recorded"


@dataclass(frozen=True)
class CasualtyParams:
    """What :func:`ward_casualty_table` counts (written into its metadata).

    Parameters
    ----------
    first_month, last_month
        First and last month counted ("YYYY-MM", inclusive); ``None``: from the first / to the last month
        of the STATS19 rows given. Rates per year divide by the months from first to last.
    """

    first_month: str | None = None
    last_month: str | None = None

    def __post_init__(self) -> None:
        for name in ("first_month", "last_month"):
            value = getattr(self, name)
            if value is not None:
                periods.validate_months([value], name=name)
        if self.first_month and self.last_month and self.first_month > self.last_month:
            raise ParameterError(f"first_month {self.first_month} is after last_month {self.last_month}; swap them")

    def to_dict(self) -> dict[str, Any]:
        """The parameters, for output metadata."""
        return asdict(self)


def _stats19_only(incidents: pd.DataFrame) -> pd.DataFrame:
    need = [schema.SOURCE, schema.MONTH, schema.EASTING, schema.NORTHING, schema.WEIGHT, schema.SEVERITY]
    missing = [c for c in need if c not in incidents.columns]
    if missing:
        raise SchemaError(f"incidents lack column(s) {missing}; read them with store.read_incidents()")
    rows = incidents[incidents[schema.SOURCE].astype(str).to_numpy() == schema.SOURCE_STATS19]
    if not len(rows):
        raise SchemaError(
            f"the incidents hold no STATS19 road casualties (source {schema.SOURCE_STATS19!r}); ingest a STATS19 file"
        )
    return rows


def ward_casualty_table(
    incidents: pd.DataFrame, wards: gpd.GeoDataFrame, *, params: CasualtyParams | None = None
) -> pd.DataFrame:
    """Road casualties per ward as a partnership measure: by severity, by mode, and per 1,000 residents a year.

    Casualties are counted at the ward of their collision point as in :func:`casualties_by_ward` (whose
    counts the first columns equal). Rates per 1,000 residents a year are casualties (and KSI) / the
    ward's ``population`` x 1,000 x 12 / the months counted; NaN where a ward has no population.

    Parameters
    ----------
    incidents
        Store rows (:func:`geo_csp.store.read_incidents`, or the accepted rows of
        :func:`geo_csp.ingest.read_file`); only located STATS19 rows are counted.
    wards
        Ward polygons in EPSG:27700 with ``ward_code``, ``ward_name`` and optionally ``population``.
    params
        The months counted (:class:`CasualtyParams`; default every month of the rows).

    Returns
    -------
    pandas.DataFrame
        Indexed by ``ward_code`` in the wards' order: :data:`CASUALTY_TABLE_COLUMNS`, then one
        ``mode: <mode>`` column per mode of travel (most casualties first; ``mode: not recorded`` for
        rows without one, e.g. DfT collision files). ``attrs["metadata"]`` holds the parameters, the months
        counted, the casualties counted, in no ward and outside the months, and the rules.
    """
    params = params or CasualtyParams()
    rows = _stats19_only(incidents)
    located = rows[
        np.isfinite(rows[schema.EASTING].to_numpy(dtype=float))
        & np.isfinite(rows[schema.NORTHING].to_numpy(dtype=float))
    ]
    month = located[schema.MONTH].astype(str)
    first = params.first_month or str(rows[schema.MONTH].astype(str).min())
    last = params.last_month or str(rows[schema.MONTH].astype(str).max())
    in_months = ((month >= first) & (month <= last)).to_numpy()
    counted = located[in_months]
    base = casualties_by_ward(rows, wards, months=(first, last))
    order = pd.Index(wards[schema.WARD_CODE].astype(str), name=schema.WARD_CODE)
    code = boundaries.assign_to_polygons(
        counted[schema.EASTING].to_numpy(), counted[schema.NORTHING].to_numpy(), wards, code_col=schema.WARD_CODE
    )
    inside = pd.notna(code)
    weight = counted[schema.WEIGHT].to_numpy(dtype=float)
    severity = counted[schema.SEVERITY].astype("string").fillna("")
    mode = (
        counted[schema.TRAVEL_MODE].astype("string").fillna("").str.strip()
        if schema.TRAVEL_MODE in counted.columns
        else pd.Series("", index=counted.index, dtype="string")
    )
    mode = mode.where(mode != "", MODE_NOT_RECORDED)
    parts = pd.DataFrame(
        {
            schema.WARD_CODE: np.asarray(code, dtype=object)[inside].astype(str),
            "severity": severity.to_numpy()[inside],
            "mode": mode.to_numpy()[inside],
            "w": weight[inside],
        }
    )
    sev = parts.pivot_table(index=schema.WARD_CODE, columns="severity", values="w", aggfunc="sum")
    sev = sev.reindex(index=order, columns=list(SEVERITIES)).fillna(0)
    modes = parts.pivot_table(index=schema.WARD_CODE, columns="mode", values="w", aggfunc="sum")
    totals = parts.groupby("mode")["w"].sum()
    mode_order = sorted(totals.index, key=lambda m: (m == MODE_NOT_RECORDED, -totals[m], m))
    modes = modes.reindex(index=order, columns=mode_order).fillna(0)
    n_months = len(periods.month_range(first, last))
    pop = (
        pd.to_numeric(wards[schema.POPULATION], errors="coerce").to_numpy(dtype=float)
        if schema.POPULATION in wards.columns
        else np.full(len(wards), np.nan)
    )
    pop = np.where(pop > 0, pop, np.nan)
    per_year = 1000.0 * 12.0 / n_months
    out = pd.DataFrame(
        {
            "ward_name": wards[schema.WARD_NAME].astype(str).to_numpy(),
            "casualties": base["casualties"].to_numpy(),
            "fatal": sev["Fatal"].to_numpy(),
            "serious": sev["Serious"].to_numpy(),
            "slight": sev["Slight"].to_numpy(),
            "killed_or_seriously_injured": base["killed_or_seriously_injured"].to_numpy(),
            "collisions": base["collisions"].to_numpy(),
            schema.POPULATION: pop,
            "casualties_per_1000_a_year": base["casualties"].to_numpy() / pop * per_year,
            "ksi_per_1000_a_year": base["killed_or_seriously_injured"].to_numpy() / pop * per_year,
        },
        index=order,
    )
    out = out.astype({c: "int64" for c in ("fatal", "serious", "slight")})
    for m in mode_order:
        out[MODE_PREFIX + str(m)] = modes[m].to_numpy().astype("int64")
    out.attrs["metadata"] = {
        "params": params.to_dict(),
        "source": schema.SOURCE_STATS19,
        "months": [first, last],
        "n_months": n_months,
        "casualties_read": int(rows[schema.WEIGHT].sum()),
        "casualties_unlocated": int(rows[schema.WEIGHT].sum() - located[schema.WEIGHT].sum()),
        "casualties_outside_months": int(located[schema.WEIGHT].to_numpy(dtype=float)[~in_months].sum()),
        "casualties_counted": int(weight.sum()),
        "casualties_in_wards": int(weight[inside].sum()),
        "casualties_outside_wards": int(weight[~inside].sum()),
        "modes": [str(m) for m in mode_order],
        "rules": {
            "ward": "casualties are counted at the ward of their collision point (a point on a shared edge goes to "
            "the first ward)",
            "severity": "the casualty's severity (a collision file: the collision's, for each of its casualties); "
            "killed or seriously injured = Fatal + Serious",
            "collisions": "distinct collision references",
            "rate": f"per 1,000 residents a year: count / population x 1,000 x 12 / {n_months} months "
            f"({first} to {last}); not available where a ward has no population",
            "mode": "the casualty's mode of travel as the file records it; 'not recorded' where it has none (DfT "
            "collision files carry no mode)",
        },
    }
    return out
