"""Column mappings (TOML) that let any partner extract (CSV or XLSX) enter the incident store.

A mapping says which column of a partner file holds each incident field. The format, read with the
standard library's :mod:`tomllib`::

    source = "council_asb"          # required: source name in the store (lower case, digits, _ or -)
    force = "bury_council"          # optional: partition name; defaults to `source`
    timezone = "Europe/London"      # optional: zone of naive date-times (default Europe/London)
    sheet = "Incidents"             # optional, XLSX only: the sheet to read (default the first)

    [columns]
    id = "Ref"                      # optional; if absent the identity is file + line
    date = "Date reported"          # exactly one of `date`, `datetime`, `month` (or none with `datetime_from`)
    date_format = "%d/%m/%Y"        # strptime format of that column, or "iso" (the default)
    time = "Time reported"          # optional, only with `date`: a separate time-of-day column
    time_format = "%H:%M"           # strptime format of `time` (default "%H:%M:%S")
    category = "Type"               # or a constant for every row: category_value = "ASB"
    lon = "Longitude"               # either lon + lat (WGS84) ...
    lat = "Latitude"
    # easting = "X"                 # ... or easting + northing (EPSG:27700 metres)
    # northing = "Y"
    weight = "Priority"             # optional: non-negative number, 1.0 when absent or blank
    location = "Street"             # optional: free-text place description
    datetime_from = "Committed from"  # optional: start and end of the window in which it happened
    datetime_to = "Committed to"      # (a burglary found in the morning); both read with `window_format`
    window_format = "%d/%m/%Y %H:%M"  # strptime format of the window columns (default: `date_format` when
                                      # the time column is a `datetime`, else "iso")
    knife_enabled = "Knife flag"    # optional qualifiers (geo_csp.qualifiers): yes/no/true/false/1/0/Y/N,
    domestic = "DA flag"            # blank or "unknown" kept as unknown (never guessed)
    alcohol_related = "Alcohol"
    drug_related = "Drugs"
    victim_age_band = "Victim age"  # "18-24", "65+", "under 18", or an exact age (banded)
    victim_sex = "Victim sex"       # female/F, male/M, other; blank or "not stated" unknown

    [categories]                    # optional: recode partner categories (others are kept as given)
    "Noise nuisance" = "Anti-social behaviour"

Time semantics: a ``month`` column gives the month only (no day is ever invented); a ``date`` gives
``occurred_date`` and, with a ``time`` column, ``occurred_at``; a ``datetime`` gives both. Date-times
without an offset are local times in ``timezone`` and are converted to UTC for ``occurred_at``;
``month`` and ``occurred_date`` are the local calendar month and day. In the autumn hour that occurs
twice the first (summer-time) reading is taken; a spring-forward time that does not exist is moved
forward by the gap.

From/to windows: ``datetime_from`` and ``datetime_to`` give the window in which an incident happened
when the exact time is unknown; they are stored as ``occurred_from``/``occurred_to`` (UTC) and
spread over the hours of the window by the time profile's aoristic weights
(:func:`geo_csp.timeprofile.aoristic_weights`). Without a `date`/`datetime`/`month` column the
window's start is the incident's date-time (its month, day and ``occurred_at``). A row with
``datetime_to`` before ``datetime_from``, or a ``datetime_to`` without a start, is quarantined
(``bad_window``); a blank ``datetime_to`` means the start is exact.

Qualifiers: the optional ``knife_enabled``, ``domestic``, ``alcohol_related``, ``drug_related``,
``victim_age_band`` and ``victim_sex`` columns are stored under those names, normalised by
:mod:`geo_csp.qualifiers`; a value that is neither yes, no nor unknown (or not an age band, or not a sex)
quarantines its row (``bad_flag``, ``bad_age_band``, ``bad_sex``). A source whose mapping names none of
them records no qualifier, and measures on them are "not available" for it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from geo_csp import schema
from geo_csp._errors import MappingError
from geo_csp._toml import read_toml
from geo_csp.qualifiers import QUALIFIER_COLUMNS

_TOP_KEYS = frozenset({"source", "force", "timezone", "sheet", "columns", "categories"})
_COLUMN_KEYS = frozenset(
    {
        "id",
        "date",
        "datetime",
        "month",
        "date_format",
        "time",
        "time_format",
        "category",
        "category_value",
        "lon",
        "lat",
        "easting",
        "northing",
        "weight",
        "location",
        "datetime_from",
        "datetime_to",
        "window_format",
        *QUALIFIER_COLUMNS,
    }
)
_NAME_RE = re.compile(r"^[a-z0-9][a-z0-9_-]*$")


@dataclass(frozen=True)
class ColumnMapping:
    """A validated partner-extract column mapping (see the module docstring for the TOML format).

    Attributes
    ----------
    source, force
        Source and partition names written to the store.
    time_kind
        ``"date"``, ``"datetime"`` or ``"month"``: what the ``time_column`` holds.
    time_column, date_format
        The column with the date/date-time/month and its strptime format (``"iso"`` for ISO 8601).
    clock_column, clock_format
        Optional separate time-of-day column (only with ``time_kind == "date"``) and its format.
    category_column, category_value
        Exactly one is set: a column of categories or a constant category.
    x_column, y_column, crs
        Coordinate columns and their CRS (``"EPSG:4326"`` for lon/lat, ``"EPSG:27700"``).
    id_column, weight_column, location_column
        Optional columns.
    from_column, to_column, window_format
        Optional from/to window columns and their strptime format (``"iso"`` for ISO 8601).
    qualifiers
        Store qualifier column (:data:`geo_csp.qualifiers.QUALIFIER_COLUMNS`) -> the file's column.
    categories
        Recoding of partner categories to store categories.
    timezone
        IANA zone of naive local date-times.
    sheet
        The XLSX sheet to read, by name; None reads the first sheet (and the ingest says which).
    """

    source: str
    force: str
    time_kind: str
    time_column: str
    date_format: str
    category_column: str | None
    category_value: str | None
    x_column: str
    y_column: str
    crs: str
    id_column: str | None = None
    clock_column: str | None = None
    clock_format: str = "%H:%M:%S"
    weight_column: str | None = None
    location_column: str | None = None
    from_column: str | None = None
    to_column: str | None = None
    window_format: str = "iso"
    qualifiers: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    categories: Mapping[str, str] = field(default_factory=lambda: MappingProxyType({}))
    timezone: str = "Europe/London"
    sheet: str | None = None

    def __post_init__(self) -> None:
        for key in ("source", "force"):
            value = getattr(self, key)
            if not _NAME_RE.match(value):
                raise MappingError(
                    f"mapping key `{key}` = {value!r} must be lower case letters, digits, '_' or '-'"
                    ' (e.g. "council_asb")'
                )
        if self.source in (schema.SOURCE_STREET, schema.SOURCE_STOP_SEARCH):
            raise MappingError(
                f"mapping key `source` = {self.source!r} is reserved for police.uk files;"
                ' choose another name such as "council_asb"'
            )
        unknown = sorted(set(self.qualifiers) - set(QUALIFIER_COLUMNS))
        if unknown:
            raise MappingError(
                f"mapping qualifiers {unknown} are not store qualifier columns {list(QUALIFIER_COLUMNS)}"
            )
        if self.time_kind not in ("date", "datetime", "month"):
            raise MappingError(f"time_kind must be date, datetime or month, not {self.time_kind!r}")
        if (self.category_column is None) == (self.category_value is None):
            raise MappingError(
                "mapping [columns] needs exactly one of `category` (a column) or `category_value` (a constant category)"
            )
        if self.to_column is not None and self.from_column is None:
            raise MappingError("mapping [columns] key `datetime_to` needs `datetime_from` (the start of the window)")
        if self.clock_column is not None and self.time_kind != "date":
            raise MappingError(
                "mapping [columns] key `time` is only allowed with `date`; with `datetime` the"
                " time is already in the column"
            )
        try:
            ZoneInfo(self.timezone)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise MappingError(
                f'mapping key `timezone` = {self.timezone!r} is not an IANA time zone; use e.g. "Europe/London"'
            ) from exc

    @property
    def required_columns(self) -> tuple[str, ...]:
        """Every data column the mapping names, in a stable order."""
        names = (
            self.id_column,
            self.time_column,
            self.clock_column,
            self.category_column,
            self.x_column,
            self.y_column,
            self.weight_column,
            self.location_column,
            self.from_column,
            self.to_column,
            *self.qualifiers.values(),
        )
        return tuple(dict.fromkeys(n for n in names if n is not None))

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready description (written into the manifest with the files it read)."""
        out = {k: getattr(self, k) for k in self.__dataclass_fields__}
        out["categories"] = dict(self.categories)
        out["qualifiers"] = dict(self.qualifiers)
        return out


def _str_key(table: Mapping[str, Any], key: str, where: str) -> str | None:
    value = table.get(key)
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip():
        raise MappingError(f"mapping key `{where}{key}` must be a non-empty string, not {value!r}")
    return value


def mapping_from_dict(data: Mapping[str, Any], *, origin: str = "mapping") -> ColumnMapping:
    """Validate a parsed mapping (the TOML document as a dict) into a :class:`ColumnMapping`.

    Parameters
    ----------
    data
        The parsed TOML document.
    origin
        Name used in error messages (the mapping file path).

    Raises
    ------
    MappingError
        Naming the key at fault and how to fix it.
    """
    unknown = sorted(set(data) - _TOP_KEYS)
    if unknown:
        raise MappingError(
            f"{origin}: unknown top-level key(s) {unknown}; allowed: {sorted(_TOP_KEYS)}"
            " (column names belong under [columns])"
        )
    source = _str_key(data, "source", "")
    if source is None:
        raise MappingError(f'{origin}: missing key `source` (e.g. source = "council_asb")')
    columns = data.get("columns")
    if not isinstance(columns, dict):
        raise MappingError(f"{origin}: missing table [columns] naming the data columns")
    unknown = sorted(set(columns) - _COLUMN_KEYS)
    if unknown:
        raise MappingError(f"{origin}: unknown key(s) {unknown} in [columns]; allowed: {sorted(_COLUMN_KEYS)}")
    col = {k: _str_key(columns, k, "columns.") for k in _COLUMN_KEYS}
    named = {k: v for k, v in col.items() if v is not None}  # the keys given (checked below)
    given = [k for k in ("date", "datetime", "month") if col[k] is not None]
    window_start = not given and col["datetime_from"] is not None
    if len(given) != 1 and not window_start:
        raise MappingError(
            f"{origin}: [columns] needs exactly one of `date`, `datetime` or `month` (or a"
            f" `datetime_from` window start), got {given or 'none'}"
        )
    lonlat = [k for k in ("lon", "lat") if col[k] is not None]
    en = [k for k in ("easting", "northing") if col[k] is not None]
    if lonlat and en or len(lonlat) == 1 or len(en) == 1 or not (lonlat or en):
        raise MappingError(
            f"{origin}: [columns] needs either both `lon` and `lat` (WGS84) or both `easting` and"
            f" `northing` (EPSG:27700), got {lonlat + en or 'none'}"
        )
    categories = data.get("categories", {})
    if not isinstance(categories, dict) or not all(isinstance(v, str) for v in categories.values()):
        raise MappingError(
            f"{origin}: [categories] must map partner category text to store category text,"
            ' e.g. "Noise nuisance" = "Anti-social behaviour"'
        )
    kind = given[0] if given else "datetime"
    date_format = col["date_format"] or "iso"
    if kind == "month" and date_format == "iso":
        date_format = "%Y-%m"
    window_format = col["window_format"] or (date_format if kind == "datetime" else "iso")
    if window_start and col["date_format"] is None:
        date_format = window_format
    return ColumnMapping(
        source=source,
        force=_str_key(data, "force", "") or source,
        time_kind=kind,
        time_column=named[kind] if given else named["datetime_from"],
        date_format=date_format,
        category_column=col["category"],
        category_value=col["category_value"],
        x_column=named["lon"] if lonlat else named["easting"],
        y_column=named["lat"] if lonlat else named["northing"],
        crs="EPSG:4326" if lonlat else "EPSG:27700",
        id_column=col["id"],
        clock_column=col["time"],
        clock_format=col["time_format"] or "%H:%M:%S",
        weight_column=col["weight"],
        location_column=col["location"],
        from_column=col["datetime_from"],
        to_column=col["datetime_to"],
        window_format=window_format,
        qualifiers=MappingProxyType({k: v for k in QUALIFIER_COLUMNS if (v := col[k]) is not None}),
        categories=MappingProxyType(dict(categories)),
        timezone=_str_key(data, "timezone", "") or "Europe/London",
        sheet=_str_key(data, "sheet", ""),
    )


def load_mapping(path: str | Path) -> ColumnMapping:
    """Read and validate a TOML mapping file.

    Parameters
    ----------
    path
        The ``.toml`` file.

    Raises
    ------
    MappingError
        The file is missing, is not valid TOML, or a key is missing or inconsistent.
    """
    data = read_toml(
        path, what="mapping file", option="--mapping", error=MappingError, hint='quote strings and use key = "value"'
    )
    return mapping_from_dict(data, origin=str(path))
