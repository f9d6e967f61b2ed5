"""The readers: police.uk street and stop-and-search rows, and partner extracts through a column mapping,
validated into per-row results."""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo_csp import qualifiers, roads, schema, settings
from geo_csp._errors import InputFileError
from geo_csp.ingest.inputs import Unit, archive_kind, file_month, force_slug
from geo_csp.ingest.parsers import SnapPoints, parse_coordinates, parse_numbers, text_values, valid_months
from geo_csp.ingest.quarantine import Parsed, dictionary_codes, first_reason, per_distinct, per_file
from geo_csp.ingest.raw import RawTable, checked_header, read_csv_rows, read_xlsx
from geo_csp.column_mapping import ColumnMapping

_LOOSE_STOP_RE = re.compile(r"^(?P<force>[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*?)[-_]stop[-_]and[-_]search")


def parse_street(
    raw: RawTable, names: Sequence[str], file_idx: np.ndarray, *, points: SnapPoints | None = None
) -> Parsed:
    """Validate police.uk street rows of one or more files (``names``: base names; ``file_idx``: per row;
    ``points``: the run's projections, see :class:`SnapPoints`)."""
    t, n = raw.table, raw.table.num_rows
    month, crime = t["Month"], t["Crime type"]  # police.uk values are exact: no trimming
    coords = parse_coordinates(t["Longitude"], t["Latitude"], crs=settings.DISPLAY_CRS, points=points)
    name_forces = [archive_kind(name)[1] or "" for name in names]
    force = None  # every file's name gives its force: built from them only if a caller needs the column
    no_force = np.zeros(n, bool)
    if not all(name_forces):  # force from "Falls within" for files whose name does not give it
        force = per_file(name_forces, file_idx)
        falls = text_values(t["Falls within"])
        uniques = pc.unique(falls)
        slugs = pa.array([force_slug(s) for s in uniques.to_pylist()], pa.string())  # per distinct name
        from_falls = slugs.take(pc.index_in(falls, uniques))
        named = np.array([bool(f) for f in name_forces])[file_idx]
        force = pc.if_else(pa.array(named), force, from_falls)
        no_force = ~named & pc.equal(from_falls, "").to_numpy(zero_copy_only=False)
    codes, month_values = dictionary_codes(month)
    bad_month = ~valid_months(month_values)[codes]
    # A file's month is its replacement key: a row of another month must not move keys.
    name_months = [file_month(name) for name in names]
    file_code = pc.fill_null(pc.index_in(pa.array(name_months, pa.string()), month_values), -1)
    has_month = np.array([m is not None for m in name_months])[file_idx]
    outside = ~bad_month & has_month & (codes != file_code.to_numpy(zero_copy_only=False)[file_idx])
    known = pa.array(schema.CRIME_TYPES)
    # every accepted row of a file has the file's force and, when its name gives one, its month
    file_forces = name_forces if all(name_forces) else None
    given_months = [m for m in name_months if m is not None]
    file_months = given_months if len(given_months) == len(name_months) else None
    checks = [
        ("bad_month", bad_month),
        ("month_outside_file", outside),
        ("unknown_crime_type", ~per_distinct(crime, lambda u: pc.is_in(u, known).to_numpy(zero_copy_only=False))),
        ("missing_required", no_force),
    ]
    reason, ok = first_reason(checks, coords)
    coord_columns = ["Longitude", "Latitude"]
    opt = {
        schema.LOCATION: t["Location"],
        schema.LSOA_CODE: t["LSOA code"],
        schema.LSOA_NAME: t["LSOA name"],
        schema.CRIME_ID: t["Crime ID"],
        schema.OUTCOME: t["Last outcome category"],
        schema.CONTEXT: t["Context"],
    }
    return Parsed(
        n=n,
        source=schema.SOURCE_STREET,
        force=force,
        month=month,
        crime_type=crime,
        reason=reason,
        ok=ok,
        lon=coords.lon,
        lat=coords.lat,
        located=coords.located,
        east=coords.east,
        north=coords.north,
        details={
            "bad_month": ["Month"],
            "month_outside_file": ["Month"],
            "unknown_crime_type": ["Crime type"],
            "missing_required": ["Falls within"],
            **{c: coord_columns for c in _COORD_REASONS},
        },
        optional=opt,  # chunked as parsed: a take or a slice reads them in place
        file_forces=file_forces,
        file_months=file_months,
    )


_COORD_REASONS = (
    "zero_coordinates",
    "non_numeric_coordinates",
    "half_coordinates",
    "swapped_coordinates",
    "out_of_country",
)


def _local_times(utc: pd.Series, timezone: str) -> tuple[pa.Array, pa.Array, pa.Array]:
    """UTC timestamps -> (month text, local date, UTC timestamp) arrays; nulls stay null."""
    local = utc.dt.tz_convert(timezone)
    month = pc.strftime(pa.array(local), format="%Y-%m")
    day = pa.array(local.dt.tz_localize(None).to_numpy().astype("datetime64[D]"), pa.date32())
    day = pc.if_else(pc.is_null(month), pa.scalar(None, pa.date32()), day)
    at = pa.array(utc.dt.as_unit("us"), pa.timestamp("us", tz="UTC"))
    return pc.fill_null(month, ""), day, at


def _stop_search(unit: Unit, raw: RawTable) -> Parsed:
    t, n = raw.table, raw.table.num_rows
    date_text = pc.utf8_trim_whitespace(text_values(t["Date"]))
    utc = pd.to_datetime(
        pd.Series(date_text.to_numpy(zero_copy_only=False)), format="ISO8601", utc=True, errors="coerce"
    )
    month, day, at = _local_times(utc, "Europe/London")
    name_month = file_month(unit.name)
    if name_month is not None:  # the published month, whatever the row's own date says
        month = pa.repeat(pa.scalar(name_month, pa.string()), n)
    coords = parse_coordinates(t["Longitude"], t["Latitude"], crs=settings.DISPLAY_CRS)
    _, name_force = archive_kind(unit.name)
    if not name_force:
        m = _LOOSE_STOP_RE.match(unit.name.lower())
        name_force = m["force"].replace("_", "-") if m else "unknown"
    blank = pc.equal(date_text, "").to_numpy(zero_copy_only=False)
    checks = [
        ("missing_required", blank),
        ("bad_date", ~blank & utc.isna().to_numpy()),
    ]
    reason, ok = first_reason(checks, coords)
    coord_columns = ["Latitude", "Longitude"]
    return Parsed(
        n=n,
        source=schema.SOURCE_STOP_SEARCH,
        force=pa.repeat(pa.scalar(name_force, pa.string()), n),
        month=month,
        crime_type=pa.repeat(pa.scalar(schema.STOP_AND_SEARCH_TYPE, pa.string()), n),
        reason=reason,
        ok=ok,
        lon=coords.lon,
        lat=coords.lat,
        located=coords.located,
        east=coords.east,
        north=coords.north,
        details={"missing_required": ["Date"], "bad_date": ["Date"], **{c: coord_columns for c in _COORD_REASONS}},
        occurred_date=day,
        occurred_at=at,
        optional={
            schema.OUTCOME: t["Outcome"].combine_chunks(),
            schema.CONTEXT: t["Type"].combine_chunks(),
            schema.OBJECT_OF_SEARCH: t["Object of search"].combine_chunks(),
        },
    )


def _strptime_series(text: pd.Series, fmt: str) -> pd.Series:
    if fmt == "iso":
        return pd.to_datetime(text, format="ISO8601", errors="coerce", utc=False)
    return pd.to_datetime(text, format=fmt, errors="coerce")


def _local_to_utc(local: pd.Series, timezone: str) -> pd.Series:
    """Parsed date-times -> UTC: naive ones are local clock times in ``timezone`` (autumn's repeated
    hour read as summer time, spring's missing hour moved forward)."""
    if getattr(local.dt, "tz", None) is None:
        local = local.dt.tz_localize(timezone, ambiguous=np.ones(len(local), bool), nonexistent="shift_forward")
    return local.dt.tz_convert("UTC")


def _window(text: Callable[[str], pa.Array], mapping: ColumnMapping, n: int) -> tuple[pa.Array, pa.Array, np.ndarray]:
    """The from/to window columns as UTC arrays (null unless both are given) and the rows whose window is bad."""

    def parsed(column: str | None) -> tuple[pd.Series, np.ndarray]:
        if column is None:
            return pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"), np.ones(n, bool)
        values = pd.Series(text(column).to_numpy(zero_copy_only=False), dtype=object)
        blank = (values == "").to_numpy()
        return _local_to_utc(_strptime_series(values, mapping.window_format), mapping.timezone), blank

    start, start_blank = parsed(mapping.from_column)
    end, end_blank = parsed(mapping.to_column)
    unreadable = (~start_blank & start.isna().to_numpy()) | (~end_blank & end.isna().to_numpy())
    both = ~start_blank & ~end_blank & ~unreadable
    reversed_ = both & (end < start).to_numpy()
    bad = unreadable | reversed_ | (start_blank & ~end_blank)
    keep = pa.array(both & ~bad)
    typ = pa.timestamp("us", tz="UTC")
    as_arrow = [pc.if_else(keep, pa.array(v.dt.as_unit("us"), typ), pa.scalar(None, typ)) for v in (start, end)]
    return as_arrow[0], as_arrow[1], bad


#: The reader of each qualifier column (geo_csp.qualifiers) and the quarantine reason of its bad values.
_QUALIFIER_READERS: dict[str, Callable[[Any], tuple[pd.Series, np.ndarray]]] = {
    **{name: qualifiers.normalise_flags for name in qualifiers.FLAG_COLUMNS},
    schema.VICTIM_AGE_BAND: qualifiers.normalise_age_bands,
    schema.VICTIM_SEX: qualifiers.normalise_sexes,
}
_QUALIFIER_REASONS = {
    **{name: "bad_flag" for name in qualifiers.FLAG_COLUMNS},
    schema.VICTIM_AGE_BAND: "bad_age_band",
    schema.VICTIM_SEX: "bad_sex",
}


def _stats19(raw: RawTable) -> Parsed:
    """STATS19 road casualty rows (:mod:`geo_csp.roads` reads the fields; the point checks are every reader's)."""
    t, n = raw.table, raw.table.num_rows
    frame = pd.DataFrame({name: text_values(t[name]).to_numpy(zero_copy_only=False) for name in raw.header})
    rows = roads.parse_stats19(frame)
    utc = _local_to_utc(rows.local, roads.TIMEZONE)
    month, day, at = _local_times(utc, roads.TIMEZONE)
    at = pc.if_else(pa.array(rows.has_time), at, pa.scalar(None, at.type))
    coords = parse_coordinates(t[rows.x_column], t[rows.y_column], crs=rows.crs)
    reason, ok = first_reason(list(rows.checks), coords)
    details = dict(rows.details) | {code: [rows.x_column, rows.y_column] for code in _COORD_REASONS}

    def strings(values: pd.Series) -> pa.Array:
        return pa.array(values.astype(object).where(values.notna(), None).tolist(), pa.string())

    return Parsed(
        n=n,
        source=schema.SOURCE_STATS19,
        force=pa.repeat(pa.scalar(schema.SOURCE_STATS19, pa.string()), n),
        month=month,
        crime_type=pa.repeat(pa.scalar(schema.ROAD_CASUALTY_TYPE, pa.string()), n),
        reason=reason,
        ok=ok,
        lon=coords.lon,
        lat=coords.lat,
        located=coords.located,
        east=coords.east,
        north=coords.north,
        details=details,
        occurred_date=day,
        occurred_at=at,
        optional={
            schema.CRIME_ID: strings(rows.collision_id),
            schema.SEVERITY: strings(rows.severity),
            schema.TRAVEL_MODE: strings(rows.travel_mode),
            schema.VICTIM_SEX: strings(rows.victim_sex),
            schema.VICTIM_AGE_BAND: strings(rows.victim_age_band),
        },
        weight=np.nan_to_num(rows.casualties, nan=1.0),
    )


def _partner(unit: Unit, raw: RawTable, mapping: ColumnMapping) -> Parsed:
    t, n = raw.table, raw.table.num_rows
    missing = [c for c in mapping.required_columns if c not in raw.header]
    if missing:
        raise InputFileError(
            f"{unit.path}: column(s) {missing} named in the mapping are not in the file (it has"
            f" {raw.header}); fix the [columns] names in the mapping file"
        )

    def text(name: str) -> pa.Array:
        return pc.utf8_trim_whitespace(text_values(t[name]))

    details: dict[str, list[str]] = {}
    checks: list[tuple[str, np.ndarray]] = []
    month, day, at = _partner_times(text, mapping, n, checks=checks, details=details)
    details["missing_required"] = list(mapping.required_columns[:3])
    cat = _partner_categories(text, mapping, n, checks=checks)
    optional: dict[str, pa.Array] = {}
    if mapping.id_column is not None:
        ids = text(mapping.id_column)
        id_blank = pc.equal(ids, "").to_numpy(zero_copy_only=False)
        dup = pd.Series(ids.to_numpy(zero_copy_only=False)).duplicated().to_numpy() & ~id_blank
        checks += [("missing_required", id_blank), ("duplicate_id", dup)]
        details["duplicate_id"] = [mapping.id_column]
        optional[schema.CRIME_ID] = ids
    if mapping.location_column is not None:
        optional[schema.LOCATION] = text(mapping.location_column)
    weight = None
    if mapping.weight_column is not None:
        wtext = text(mapping.weight_column)
        weight = parse_numbers(wtext)
        w_blank = pc.equal(wtext, "").to_numpy(zero_copy_only=False)
        checks.append(("bad_weight", ~w_blank & ~(weight >= 0)))
        details["bad_weight"] = [mapping.weight_column]
        weight = np.where(w_blank, 1.0, weight)
    for name, column in mapping.qualifiers.items():
        values, bad = _QUALIFIER_READERS[name](text(column).to_numpy(zero_copy_only=False))
        optional[name] = pa.array(values, type=schema.INCIDENT_SCHEMA.field(name).type, from_pandas=True)
        code = _QUALIFIER_REASONS[name]
        checks.append((code, bad))
        details[code] = [*details.get(code, []), column]
    window_from = window_to = None
    if mapping.from_column is not None:
        window_from, window_to, bad_window = _window(text, mapping, n)
        checks.append(("bad_window", bad_window))
        details["bad_window"] = [c for c in (mapping.from_column, mapping.to_column) if c is not None]
    coords = parse_coordinates(t[mapping.x_column], t[mapping.y_column], crs=mapping.crs)
    reason, ok = first_reason(checks, coords)
    for code in _COORD_REASONS:
        details[code] = [mapping.x_column, mapping.y_column]
    return Parsed(
        n=n,
        source=mapping.source,
        force=pa.repeat(pa.scalar(mapping.force, pa.string()), n),
        month=month,
        crime_type=cat,
        reason=reason,
        ok=ok,
        lon=coords.lon,
        lat=coords.lat,
        located=coords.located,
        east=coords.east,
        north=coords.north,
        details=details,
        occurred_date=day,
        occurred_at=at,
        optional=optional,
        weight=weight,
        occurred_from=window_from,
        occurred_to=window_to,
    )


def _partner_times(
    text: Callable[[str], pa.Array],
    mapping: ColumnMapping,
    n: int,
    *,
    checks: list[tuple[str, np.ndarray]],
    details: dict[str, list[str]],
) -> tuple[pa.Array, pa.Array | None, pa.Array | None]:
    """A partner file's month, and its day and time of day (UTC) when the mapping reads them; the rows
    with a blank or bad date are added to ``checks`` and the columns to blame to ``details``."""
    when_s = pd.Series(text(mapping.time_column).to_numpy(zero_copy_only=False), dtype=object)
    blank_when = (when_s == "").to_numpy()
    if mapping.time_kind == "month":
        parsed = _strptime_series(when_s, mapping.date_format)
        month = pc.fill_null(pc.strftime(pa.array(parsed), format="%Y-%m"), "")
        bad_when = ~blank_when & parsed.isna().to_numpy()
        checks += [("missing_required", blank_when), ("bad_month", bad_when)]
        details["bad_month"] = [mapping.time_column]
        return month, None, None
    fmt = mapping.date_format
    clock_blank = np.ones(n, bool)
    if mapping.clock_column is not None:
        clock = pd.Series(text(mapping.clock_column).to_numpy(zero_copy_only=False), dtype=object)
        clock_blank = (clock == "").to_numpy()
        with_clock = when_s.where(clock_blank, when_s + " " + clock)
        date_only = _strptime_series(when_s, fmt).dt.normalize()
        full = _strptime_series(with_clock, fmt + " " + mapping.clock_format if fmt != "iso" else "iso")
        local = full.where(~clock_blank, date_only)
    else:
        local = _strptime_series(when_s, fmt)
    utc = _local_to_utc(local, mapping.timezone)
    month, day, at = _local_times(utc, mapping.timezone)
    has_time = mapping.time_kind == "datetime" or mapping.clock_column is not None
    if not has_time:
        at = None
    elif mapping.clock_column is not None:
        at = pc.if_else(pa.array(clock_blank), pa.scalar(None, at.type), at)
    bad_when = ~blank_when & local.isna().to_numpy()
    checks += [("missing_required", blank_when), ("bad_date", bad_when)]
    details["bad_date"] = [mapping.time_column] + ([mapping.clock_column] if mapping.clock_column else [])
    return month, day, at


def _partner_categories(
    text: Callable[[str], pa.Array], mapping: ColumnMapping, n: int, *, checks: list[tuple[str, np.ndarray]]
) -> pa.Array:
    """A partner file's categories, renamed by the mapping's ``[categories]`` (or its one fixed category);
    blank categories are added to ``checks``."""
    if mapping.category_column is None:
        return pa.repeat(pa.scalar(mapping.category_value, pa.string()), n)
    cat = text(mapping.category_column)
    checks.append(("missing_required", pc.equal(cat, "").to_numpy(zero_copy_only=False)))
    if mapping.categories:
        keys = pa.array(list(mapping.categories), pa.string())
        vals = pa.array(list(mapping.categories.values()), pa.string())
        idx = pc.index_in(cat, keys)
        cat = pc.if_else(pc.is_null(idx), cat, vals.take(pc.fill_null(idx, 0)))
    return cat


def _police_uk_layout(header: list[str]) -> tuple[str, ...] | None:
    """The police.uk header whose columns ``header`` holds exactly once each, in any order."""
    for layout in (schema.POLICE_UK_STREET_HEADER, schema.POLICE_UK_STOP_SEARCH_HEADER):
        if tuple(header) == layout or (len(header) == len(layout) and sorted(header) == sorted(layout)):
            return layout
    return None


def _header_problem(header: list[str], expected: Sequence[str]) -> str:
    missing = [c for c in expected if c not in header]
    extra = [c for c in header if c not in expected]
    if not missing and not extra:
        return "a column is named twice"
    return f"missing {missing}, unexpected {extra}"


def parse_unit(unit: Unit, raw_bytes: bytes, mapping: ColumnMapping | None) -> tuple[RawTable, Parsed]:
    """One input read on its own by the reader its header (or extension) calls for; a clear error otherwise."""
    name = unit.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        if mapping is None:
            raise InputFileError(f"{unit.path}: XLSX files are partner extracts; pass --mapping FILE")
        raw = read_xlsx(unit, raw_bytes, mapping.sheet)
        return raw, _partner(unit, raw, mapping)
    header = checked_header(unit, raw_bytes)
    layout = _police_uk_layout(header)
    if layout is not None:
        raw = read_csv_rows(unit, raw_bytes, header)
        if tuple(header) != layout:  # saved again from a spreadsheet with the columns moved: by name
            raw = dataclasses.replace(
                raw,
                header=list(layout),
                table=raw.table.select(list(layout)),
                notes=(*raw.notes, f"{unit.path}: columns are in another order than data.police.uk's; read by name"),
            )
        if layout == schema.POLICE_UK_STREET_HEADER:
            return raw, parse_street(raw, [unit.name], np.zeros(raw.table.num_rows, np.int64))
        return raw, _stop_search(unit, raw)
    kind, _ = archive_kind(unit.name)
    street_overlap = len(set(header) & set(schema.POLICE_UK_STREET_HEADER))
    stop_overlap = len(set(header) & set(schema.POLICE_UK_STOP_SEARCH_HEADER))
    if kind == "street" or (mapping is None and street_overlap >= 6 and street_overlap >= stop_overlap):
        raise InputFileError(
            f"{unit.path}: wrong header for a police.uk street file ({_header_problem(header, schema.POLICE_UK_STREET_HEADER)});"
            " use the unmodified data.police.uk file"
        )
    if kind == "stop-and-search" or (mapping is None and stop_overlap >= 6):
        raise InputFileError(
            f"{unit.path}: wrong header for a police.uk stop-and-search file"
            f" ({_header_problem(header, schema.POLICE_UK_STOP_SEARCH_HEADER)}); use the unmodified file"
        )
    if mapping is None and roads.stats19_layout(header) is not None:
        raw = read_csv_rows(unit, raw_bytes, header)
        return raw, _stats19(raw)
    if mapping is None:
        raise InputFileError(
            f"{unit.path}: unknown layout (header {header[:6]}...); police.uk files need their"
            " standard header, STATS19 road casualty files DfT's or TfGM's columns, partner extracts"
            " need --mapping FILE"
        )
    raw = read_csv_rows(unit, raw_bytes, header)
    return raw, _partner(unit, raw, mapping)
