"""Reading police.uk and partner files into the incident store, losing nothing.

Inputs
------
* data.police.uk **street** CSVs (the 12-column header) and **stop-and-search** CSVs (15 columns),
  as a ``.csv``, a ``.csv.gz``, a folder in the archive layout ``YYYY-MM/YYYY-MM-<force>-street.csv``
  (``*-stop-and-search.csv`` too; ``*-outcomes.csv`` and other files are skipped with a note) or a
  ``.zip`` of that layout. A file's kind is recognised by its header.
* **partner extracts** (CSV, CSV.GZ or XLSX) through a TOML column mapping (:mod:`geo_csp.mapping`).

Every data row read is either accepted (possibly *unlocated*: no coordinates at all) or quarantined
with a reason code from :data:`geo_csp.schema.REASONS`, a message, the file and the physical line
(header = line 1; for XLSX the sheet row). Per file ``rows_read == accepted + quarantined``. Blank
lines are not rows. A file that cannot be read as a whole raises :class:`InputFileError`.

Policy: an ingest is all-or-nothing per invocation. Every file is read and validated and its parts
staged; any refused file aborts the whole ingest with its error and the store is left unchanged.
Files whose exact bytes (sha256) are already in the store are skipped. Within one invocation a later
file for the same (source, force, month) replaces an earlier one, as a later re-ingest would.

Months: the store replaces data per (source, force, month), so a police.uk file's rows must carry
the month the file is published for. When the file name gives one month (:func:`file_month`:
``2019-06-<force>-street.csv``, ``gmp_stop_and_search_2019-06.csv``):

* stop-and-search rows take that month, whatever their ``Date`` says. police.uk files a search by
  its UK date but the ``Date`` is UTC, so a June file holds searches at 23:xx UTC on 31 May, and a
  search at 23:30 UTC on 30 June (00:30 on 1 July in London) may sit in the June file. Filing it
  under July would put it in (source, force, July), where the July file then replaces it: lost.
* street rows keep their ``Month`` column, which police.uk sets to the file's month; a row whose
  ``Month`` differs is quarantined as ``month_outside_file`` rather than stored under a key it
  would overwrite (or be overwritten by) when that other month's own file is ingested.

A name without exactly one month (``lancashire_street_2018-11_to_2019-02.csv``, a multi-month
extract) is not a monthly file: street rows keep their ``Month``, stop-and-search rows take the
Europe/London month of ``Date``.

Times: police.uk street rows have only a month (``occurred_date``/``occurred_at`` stay null).
Stop-and-search ``Date`` is a UTC date-time: ``occurred_at`` is it exactly and ``occurred_date`` its
Europe/London calendar day (a search at 23:30 UTC on 31 May in summer time was on 1 June).
Stop-and-search rows keep ``Type`` in ``context``, ``Outcome`` in ``outcome`` and ``Object of
search`` in ``object_of_search``; personal fields are not stored.

Force: from the archive file name (``2019-01-lancashire-street.csv`` -> ``lancashire``), else from
``Falls within`` (slugified) for street files, else from a file name such as
``gmp_stop_and_search_2019-06.csv`` (-> ``gmp``) for stop-and-search files.

All validation is vectorised (pyarrow.compute, numpy, pandas); coordinates are projected once per
distinct (lon, lat) pair in a whole ingest (police.uk snap points recur month after month).

Many small files: police.uk street files are read in batches of a few MB (consecutive files,
bounded by bytes): one CSV parse, one pass of every check and one projection per batch, then split
back so that each file keeps its own report, file id, line numbers, quarantine and parts. A file
the batch cannot place row by row (malformed rows, a line break inside a value, not UTF-8) is read
on its own, with the same results. Peak memory is a few batches, whatever the number of files.
"""

from __future__ import annotations

import csv
import dataclasses
import datetime as dt
import functools
import hashlib
import itertools
import re
import stat
import threading
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from pyproj import Transformer

try:  # ISA-L inflates gzip about twice as fast as zlib; the same bytes come out either way
    from isal.igzip_lib import IsalError
    from isal.isal_zlib import decompressobj as _gzip_stream

    _GUNZIP_ERRORS: tuple[type[BaseException], ...] = (IsalError,)
except ImportError:  # pragma: no cover - isal is optional
    _gzip_stream = functools.partial(zlib.decompressobj, wbits=31)
    _GUNZIP_ERRORS = ()

from geo_csp import cluster, schema, settings
from geo_csp._errors import InputFileError, ParameterError, SchemaError
from geo_csp.mapping import ColumnMapping, load_mapping
from geo_csp.store import (
    PART_ROWS_SCHEMA,
    EncodedParts,
    StoreTransaction,
    encode_parts,
    part_key,
    store_transaction,
)

ProgressCallback = Callable[[int, int, str], None]
"""``progress(files_done, files_total, path)``, called after each input file."""

_ARCHIVE_RE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|stop-and-search|outcomes)"
    r"\.csv(\.gz)?$"
)
_LOOSE_STOP_RE = re.compile(r"^(?P<force>[a-z][a-z0-9]*(?:[-_][a-z0-9]+)*?)[-_]stop[-_]and[-_]search")
_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"
_NAME_MONTH_RE = re.compile(r"(?<!\d)(\d{4}-(?:0[1-9]|1[0-2]))(?!\d)")
_NUMBER_RE = r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"
SKIPPED_STATUS = "skipped: already in store"


# --------------------------------------------------------------------------------------------------
# Report
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class FileReport:
    """What happened to one input file."""

    path: str
    rows_read: int
    accepted: int
    unlocated: int
    quarantined: int
    reasons: dict[str, int]
    status: str = "ingested"
    file_id: str = ""
    source: str = ""
    forces: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    superseded: tuple[dict[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if self.rows_read != self.accepted + self.quarantined:
            raise ValueError(f"{self.path}: rows read != accepted + quarantined (a bug)")

    def to_dict(self) -> dict[str, Any]:
        """The JSON contract entry (extra keys after the contract ones)."""
        return {
            "path": self.path,
            "rows_read": self.rows_read,
            "accepted": self.accepted,
            "unlocated": self.unlocated,
            "quarantined": self.quarantined,
            "reasons": dict(self.reasons),
            "status": self.status,
            "file_id": self.file_id,
            "source": self.source,
            "forces": list(self.forces),
            "months": list(self.months),
            "superseded": [dict(s) for s in self.superseded],
        }


@dataclass(frozen=True)
class IngestReport:
    """The result of :func:`ingest_paths`; ``to_dict()`` is the ``--json`` contract."""

    files: tuple[FileReport, ...]
    store_dir: str
    notes: tuple[str, ...] = ()
    report_path: str | None = None

    @property
    def totals(self) -> dict[str, Any]:
        """Sums over files, with the same keys as each file entry."""
        reasons: dict[str, int] = {}
        for f in self.files:
            for code, n in f.reasons.items():
                reasons[code] = reasons.get(code, 0) + n
        return {
            "rows_read": sum(f.rows_read for f in self.files),
            "accepted": sum(f.accepted for f in self.files),
            "unlocated": sum(f.unlocated for f in self.files),
            "quarantined": sum(f.quarantined for f in self.files),
            "reasons": dict(sorted(reasons.items())),
        }

    def to_dict(self) -> dict[str, Any]:
        """``{"files": [...], "totals": {...}}`` plus ``store``, ``notes`` and ``report``."""
        return {
            "files": [f.to_dict() for f in self.files],
            "totals": self.totals,
            "store": self.store_dir,
            "notes": list(self.notes),
            "report": self.report_path,
        }


# --------------------------------------------------------------------------------------------------
# Public vectorised parsers (also property-tested)
# --------------------------------------------------------------------------------------------------
def _text(values: Any) -> pa.Array:
    """Text values as one pyarrow string array, ``""`` for null."""
    arr = _text_or_null(values)
    if isinstance(arr, pa.ChunkedArray):
        arr = arr.combine_chunks()
    return pc.fill_null(arr, "")


def valid_months(values: Any) -> np.ndarray:
    """True where a text value is a month ``YYYY-MM`` (01..12), surrounding blanks not allowed.

    Parameters
    ----------
    values
        Strings (sequence, numpy or pyarrow array).
    """
    return pc.match_substring_regex(_text(values), _MONTH_RE).to_numpy(zero_copy_only=False)


def parse_numbers(values: Any) -> np.ndarray:
    """Decimal numbers parsed from text; NaN where blank or not a plain decimal number."""
    text = _text(values)
    # Fast path: pyarrow's cast parses exactly the plain decimals, plus nan (NaN either way) and
    # inf/infinity (refused below); any other text makes it raise, and the regex decides.
    try:
        cast = pc.cast(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text), pa.float64())
    except pa.ArrowInvalid:
        cast = None
    if cast is not None:
        nums = pc.fill_null(cast, np.nan).to_numpy(zero_copy_only=False)
        if not np.isinf(nums).any():
            return nums
    ok = pc.match_substring_regex(text, _NUMBER_RE)
    if not pc.all(ok).as_py():  # only then pay for trimming blanks around numbers
        text = pc.utf8_trim_whitespace(text)
        ok = pc.match_substring_regex(text, _NUMBER_RE)
    nums = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    return pc.fill_null(nums, np.nan).to_numpy(zero_copy_only=False)


@functools.lru_cache(maxsize=4)
def _transformer(src: str, dst: str) -> Transformer:
    return Transformer.from_crs(src, dst, always_xy=True)


def classify_coordinates(
    x_text: Any, y_text: Any, *, crs: str = "EPSG:4326"
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Parse and check coordinate text columns.

    Parameters
    ----------
    x_text, y_text
        Longitude/latitude text (``crs="EPSG:4326"``) or easting/northing text (``"EPSG:27700"``).
    crs
        CRS of the text values.

    Returns
    -------
    lon, lat, reason, located
        WGS84 coordinates (NaN where not accepted or blank), the reason code per row (``""`` when
        accepted) and whether the row has a usable point. Both values blank is accepted, unlocated.
    """
    lon, lat, reason, located, *_ = _coordinates(x_text, y_text, crs=crs)
    return lon, lat, reason, located


def _coordinates(x_text: Any, y_text: Any, *, crs: str, points: _SnapPoints | None = None) -> _Coordinates:
    """:func:`classify_coordinates` plus easting/northing.

    Fast path (every police.uk file): when every non-blank value of both columns is a plain number
    (pyarrow's cast takes it), the checks run on the parsed numbers of all rows and only the
    projection is deduplicated, by (lon, lat) value: through ``points``, the projections of one
    ingest run, or else within this call. Otherwise each distinct (x, y) text pair is parsed and
    checked once and the results are spread back to the rows by index. Both give the same values.
    """
    if crs not in (settings.DISPLAY_CRS, settings.WORKING_CRS):
        raise ValueError(f"crs must be {settings.DISPLAY_CRS} or {settings.WORKING_CRS}, not {crs!r}")
    if crs == settings.DISPLAY_CRS:
        xs = _plain_numbers(_text_or_null(x_text))
        ys = _plain_numbers(_text_or_null(y_text)) if xs is not None else None
        if xs is not None and ys is not None:
            return _classify_numbers(xs[0], ys[0], xs[1], ys[1], crs, points)
    x_text, y_text = _text(x_text), _text(y_text)
    xd, yd = pc.dictionary_encode(x_text), pc.dictionary_encode(y_text)
    ny = len(yd.dictionary)
    pair = xd.indices.to_numpy().astype(np.int64) * ny + yd.indices.to_numpy()
    codes, uniques = pd.factorize(pair)
    x_u = xd.dictionary.take(pa.array(uniques // ny))
    y_u = yd.dictionary.take(pa.array(uniques % ny))
    return _Coordinates(*(a[codes] for a in _classify_distinct(x_u, y_u, crs, points)))


def _text_or_null(values: Any) -> pa.Array | pa.ChunkedArray:
    """Text values as pyarrow strings, nulls kept and chunks as they are (no copy when they are already)."""
    arr = values if isinstance(values, pa.Array | pa.ChunkedArray) else pa.array(values, pa.string())
    return arr if arr.type == pa.string() else arr.cast(pa.string())


def _plain_numbers(text: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, np.ndarray] | None:
    """Numbers and blank mask of a text column whose every non-blank value pyarrow's cast parses.

    A value is blank when it is null or empty (whitespace alone does not cast). None when some
    value is not a plain number (blanks around a number, words) or is infinite: the text path of
    :func:`parse_numbers` decides those. The numbers are the ones :func:`parse_numbers` gives.
    Text as the CSV reader gives it (empty values already null) is cast in one pass.
    """
    try:
        cast = pc.cast(text, pa.float64())
    except pa.ArrowInvalid:
        try:  # empty values: null them and cast again
            cast = pc.cast(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text), pa.float64())
        except pa.ArrowInvalid:
            return None
    nums = cast.to_numpy(zero_copy_only=False)  # NaN where null
    if np.isinf(nums).any():
        return None
    return nums, pc.is_null(cast).to_numpy(zero_copy_only=False)


def _classify_distinct(xt: pa.Array, yt: pa.Array, crs: str, points: _SnapPoints | None = None) -> _Coordinates:
    """Classify coordinate text pairs: lon, lat, reason, located, easting, northing, ok."""
    x_blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(xt)), 0).to_numpy(zero_copy_only=False)
    y_blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(yt)), 0).to_numpy(zero_copy_only=False)
    return _classify_numbers(parse_numbers(xt), parse_numbers(yt), x_blank, y_blank, crs, points)


class _Coordinates(NamedTuple):
    """Coordinates classified row by row (see :func:`classify_coordinates`); ``ok``: no coordinate
    check failed (located, or both values blank)."""

    lon: np.ndarray
    lat: np.ndarray
    reason: np.ndarray
    located: np.ndarray
    east: np.ndarray
    north: np.ndarray
    ok: np.ndarray


_COORD_REASON_TEXT = np.array(
    ["", "half_coordinates", "non_numeric_coordinates", "zero_coordinates", "swapped_coordinates", "out_of_country"],
    dtype=object,
)


def _classify_numbers(
    x: np.ndarray, y: np.ndarray, x_blank: np.ndarray, y_blank: np.ndarray, crs: str, points: _SnapPoints | None
) -> _Coordinates:
    """Classify parsed coordinates (NaN where not a number): lon, lat, reason, located, easting, northing, ok."""
    half = x_blank ^ y_blank
    non_numeric = ~(x_blank | y_blank) & (np.isnan(x) | np.isnan(y))
    numeric = ~(x_blank | y_blank) & ~non_numeric
    zero = numeric & (x == 0) & (y == 0)
    lon_lo, lon_hi = settings.EW_LON_RANGE
    lat_lo, lat_hi = settings.EW_LAT_RANGE
    if crs == settings.DISPLAY_CRS:
        inside = (x >= lon_lo) & (x <= lon_hi) & (y >= lat_lo) & (y <= lat_hi)
        swapped = (y >= lon_lo) & (y <= lon_hi) & (x >= lat_lo) & (x <= lat_hi)
        lon, lat = x, y
    else:
        e0, n0, e1, n1 = settings.GB_BOUNDS_M
        in_gb = (x >= e0) & (x <= e1) & (y >= n0) & (y <= n1)
        swapped = ~in_gb & (y >= e0) & (y <= e1) & (x >= n0) & (x <= n1)
        lon, lat = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
        sel = numeric & in_gb & ~zero
        lon[sel], lat[sel] = _transformer(settings.WORKING_CRS, settings.DISPLAY_CRS).transform(x[sel], y[sel])
        inside = sel & (lon >= lon_lo) & (lon <= lon_hi) & (lat >= lat_lo) & (lat <= lat_hi)
    rest = numeric & ~zero
    code = np.zeros(x.shape, np.int8)  # reasons as small codes: a numpy pass each, not a Python object per row
    code[half] = 1
    code[non_numeric] = 2
    code[zero] = 3
    code[rest & ~inside & swapped] = 4
    code[rest & ~inside & ~swapped] = 5
    reason = _COORD_REASON_TEXT[code]
    located = rest & inside
    lon = np.where(located, lon, np.nan)
    lat = np.where(located, lat, np.nan)
    east, north = np.full(x.shape, np.nan), np.full(x.shape, np.nan)
    if crs == settings.WORKING_CRS:
        east[located], north[located] = x[located], y[located]
    elif located.any():
        east[located], north[located] = _to_working(lon[located], lat[located], points)
    return _Coordinates(lon, lat, reason, located, east, north, code == 0)


def _complex_keys(lon: np.ndarray, lat: np.ndarray) -> np.ndarray:
    """(lon, lat) as one complex128 per point, bit for bit (``lon + 1j * lat`` would turn -0.0 into 0.0)."""
    key = np.empty(len(lon), np.complex128)
    key.real, key.imag = lon, lat
    return key


_MICRODEGREES = 1e6


def _microdegree_keys(lon: np.ndarray, lat: np.ndarray) -> np.ndarray | None:
    """(lon, lat) as one int64 per point when every value is a whole number of millionths of a
    degree (police.uk's six decimals), else None.

    The key is exact: a value is keyed only if dividing its rounded count of millionths by a
    million gives the value back bit for bit, so two values share a key only if they are equal
    (-0.0 and 0.0, which project to the same point). Hashing 8 bytes instead of 16 halves the
    table a national run looks points up in, and the lookups with it.
    """
    ilon, ilat = np.rint(lon * _MICRODEGREES), np.rint(lat * _MICRODEGREES)
    if not ((ilon / _MICRODEGREES == lon).all() and (ilat / _MICRODEGREES == lat).all()):
        return None
    if len(lon) and max(np.abs(ilon).max(), np.abs(ilat).max()) >= 2**31:
        return None
    return (ilon.astype(np.int64) << 32) | (ilat.astype(np.int64) & 0xFFFFFFFF)


def _to_working(lon: np.ndarray, lat: np.ndarray, points: _SnapPoints | None) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 points (finite) projected to EPSG:27700, each distinct (lon, lat) value once."""
    if points is not None:
        return points.project(lon, lat)
    codes, uniques = pd.factorize(_complex_keys(lon, lat))
    east, north = _transformer(settings.DISPLAY_CRS, settings.WORKING_CRS).transform(uniques.real, uniques.imag)
    return np.asarray(east)[codes], np.asarray(north)[codes]


class _SnapPoints:
    """The EPSG:27700 projection of every distinct WGS84 (lon, lat) value met in one ingest run.

    police.uk moves every point to one of a fixed set of anonymous snap points, which recur month
    after month and file after file: a national run projects each once, not once per batch. Shared
    by the threads preparing batches (a lock guards the tables). Points given to six decimals (all
    of police.uk's) are keyed by one int64 (:func:`_microdegree_keys`), others by their exact
    (lon, lat) bits; both kinds of key label rows of the same value table. Memory is bounded by the
    number of distinct snap points met, never by rows or files: about 40 bytes each (an 8-byte key
    and an 8-byte label in the hash table with its spare slots, two float64 values), some 40 MB for
    a million points (the 20-million-incident national benchmark meets about 710,000). The values
    are pyproj's own, computed on the first occurrence: equal bit for bit to a projection of the
    rows themselves (pyproj projects each point on its own; -0.0 and 0.0, one key here, give the
    same point).
    """

    def __init__(self, *, private_table: bool = True) -> None:
        # pandas' own hash tables (the ones pd.factorize uses) grow in place; they are private API,
        # so a pandas without them falls back to a public pd.Index lookup (rebuilt per new batch of points)
        self._hashtable = None
        self._tables: dict[str, Any] = {}
        if private_table:
            try:
                from pandas._libs import hashtable

                self._tables = {"int64": hashtable.Int64HashTable(), "complex128": hashtable.Complex128HashTable()}
                hashtable.Int64Vector, hashtable.Complex128Vector  # noqa: B018 - names used by _labels
                self._hashtable = hashtable
            except (ImportError, AttributeError):
                self._tables = {}
        self._keys = {"int64": pd.Index(np.empty(0, np.int64)), "complex128": pd.Index(np.empty(0, np.complex128))}
        self._east = np.empty(0)
        self._north = np.empty(0)
        self._n = 0
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return self._n

    def _labels(self, key: np.ndarray, n: int) -> np.ndarray:
        """Each key's label: its row among the known points, continuing from ``n`` for keys not met
        before, in order of first appearance (the caller holds the lock)."""
        kind = key.dtype.name
        if self._tables:
            vector = self._hashtable.Int64Vector() if kind == "int64" else self._hashtable.Complex128Vector()
            return self._tables[kind].get_labels(key, vector, n, -1)
        labels = self._keys[kind].get_indexer(key)
        new = labels < 0
        if new.any():
            codes, uniques = pd.factorize(key[new])
            labels[new] = n + codes
            self._keys[kind] = self._keys[kind].append(pd.Index(uniques))
        return labels

    def project(self, lon: np.ndarray, lat: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Easting and northing of each (finite) point, projecting only the points not met before."""
        key = _microdegree_keys(lon, lat)
        if key is None:
            key = _complex_keys(lon, lat)
        with self._lock:
            n = self._n
            labels = self._labels(key, n)
            new = np.flatnonzero(labels >= n)
            if len(new):
                first = new[np.unique(labels[new], return_index=True)[1]]  # first row of each new label, in label order
                east, north = _transformer(settings.DISPLAY_CRS, settings.WORKING_CRS).transform(lon[first], lat[first])
                end = n + len(first)
                if end > len(self._east):  # capacity doubles: appends cost O(1) per point
                    cap = max(end, 2 * len(self._east), 4096)
                    self._east = np.concatenate([self._east[:n], np.empty(cap - n)])
                    self._north = np.concatenate([self._north[:n], np.empty(cap - n)])
                self._east[n:end], self._north[n:end] = east, north
                self._n = end
            return self._east[labels], self._north[labels]


def file_month(name: str) -> str | None:
    """The publication month a police.uk file name gives, or None.

    ``2019-06-greater-manchester-stop-and-search.csv`` and ``gmp_stop_and_search_2019-06.csv`` give
    ``"2019-06"``; a name with no ``YYYY-MM`` or with several different ones
    (``lancashire_street_2018-11_to_2019-02.csv``) gives None.

    Parameters
    ----------
    name
        The file's base name.
    """
    months = set(_NAME_MONTH_RE.findall(name))
    return months.pop() if len(months) == 1 else None


def force_slug(name: str) -> str:
    """A police.uk force slug from a force name ("Lancashire Constabulary" -> "lancashire")."""
    s = name.strip().lower().replace("&", "and")
    if s == "british transport police":
        return "btp"
    s = re.sub(r"^police service of\s+", "", s)
    s = re.sub(r"\s+(constabulary|police service|police)$", "", s)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


# --------------------------------------------------------------------------------------------------
# Reading bytes into a string table with physical line numbers
# --------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Unit:
    path: str  # as reported
    name: str  # base name, for layout and force detection
    read: Callable[[], bytes]
    size: int = 0  # bytes on disk (uncompressed size for a zip member): only groups files into batches


@dataclass(frozen=True)
class _RawTable:
    header: list[str]
    table: pa.Table  # every column as string ("" for empty)
    lines: np.ndarray  # physical line of each table row
    malformed_lines: np.ndarray
    malformed_text: list[str]
    notes: tuple[str, ...] = ()  # what the reader chose or repaired (the sheet read, an encoding)


def _archive_kind(name: str) -> tuple[str | None, str | None]:
    m = _ARCHIVE_RE.match(name.lower())
    return (m["kind"], m["force"]) if m else (None, None)


def _police_uk_units(found: list[tuple[str, str, Any, int]], notes: list[str], *, empty: str) -> list[_Unit]:
    """The police.uk street and stop-and-search files among ``(label, base name, reader, size)`` entries
    of a folder or zip; outcomes and other files are noted and passed over; none at all raises ``empty``."""
    units = []
    for label, base, read, size in found:
        kind, _ = _archive_kind(base)
        if kind in ("street", "stop-and-search"):
            units.append(_Unit(label, base, read, size))
        elif kind == "outcomes":
            notes.append(f"{label}: outcomes file skipped (outcomes are not incidents)")
        else:
            notes.append(f"{label}: skipped (not a police.uk street or stop-and-search CSV)")
    if not units:
        raise InputFileError(empty)
    return units


def expand_inputs(path_text: str | Path, notes: list[str]) -> list[_Unit]:
    """The readable inputs behind one path: a file, the files of an archive-layout folder, or a zip's members.

    Notes about what was passed over (outcomes files, unknown names) are appended to ``notes``.
    """
    path = Path(path_text)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder; check the path")
    if not path.is_dir() and not path.is_file():
        raise InputFileError(
            f"{path}: not a regular file ({_file_kind(path)}); give a saved .csv, .csv.gz, .xlsx, .zip"
            " or a folder of them (copy a stream to a file first)"
        )
    if path.is_dir():
        entries = sorted(path.rglob("*"))
        found = [(str(p), p.name, p.read_bytes, p.stat().st_size) for p in entries if p.is_file()]
        notes.extend(
            f"{p}: skipped ({_file_kind(p)}, not a regular file)"
            for p in entries
            if not p.is_file() and not p.is_dir() and p.exists()
        )
        for label, _, _, size in found:
            if size > settings.MAX_INPUT_TEXT_BYTES:
                raise InputFileError(_too_large(label, size))
        return _police_uk_units(
            found,
            notes,
            empty=(
                f"{path}: folder holds no police.uk files named YYYY-MM-<force>-street.csv or"
                " YYYY-MM-<force>-stop-and-search.csv; give partner files one by one with --mapping"
            ),
        )
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InputFileError(f"{path}: not a readable zip archive ({exc}); download it again") from exc
        for info in infos:
            _check_expansion(f"{path}!{info.filename}", info.file_size, info.compress_size, declared=True)
        members = {i.filename: i.file_size for i in infos}
        found = [
            (f"{path}!{m}", m.rsplit("/", 1)[-1], functools.partial(_read_member, path, m), members[m])
            for m in sorted(members)
        ]
        return _police_uk_units(
            found,
            notes,
            empty=(
                f"{path}: zip holds no police.uk files named YYYY-MM-<force>-street.csv or"
                " YYYY-MM-<force>-stop-and-search.csv; use a zip downloaded from data.police.uk"
            ),
        )
    size = path.stat().st_size
    if size > settings.MAX_INPUT_TEXT_BYTES:
        raise InputFileError(_too_large(str(path), size))
    return [_Unit(str(path), path.name, path.read_bytes, size)]


def _file_kind(path: Path) -> str:
    mode = path.stat().st_mode
    for test, kind in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a file or folder"


def _too_large(label: str, size: int) -> str:
    return (
        f"{label}: expands to more than {settings.MAX_INPUT_TEXT_BYTES >> 20:,} MB of text"
        f" ({size >> 20:,} MB or more); split it into smaller files (one month or force each)"
    )


def _check_expansion(label: str, expanded: int, compressed: int, *, declared: bool = False) -> None:
    """Refuse a compression bomb: more text than :data:`settings.MAX_INPUT_TEXT_BYTES`, or, past
    :data:`settings.INPUT_RATIO_FLOOR_BYTES`, more than :data:`settings.MAX_COMPRESSION_RATIO` times
    the ``compressed`` bytes read (``declared``: sizes a zip's directory gives, checked before reading)."""
    if expanded > settings.MAX_INPUT_TEXT_BYTES:
        raise InputFileError(_too_large(label, expanded))
    if expanded > settings.INPUT_RATIO_FLOOR_BYTES and expanded > settings.MAX_COMPRESSION_RATIO * compressed:
        what = "declares" if declared else "reached"
        raise InputFileError(
            f"{label}: refused as a likely compression bomb: it {what} {expanded >> 20:,} MB of text from"
            f" {max(compressed, 1):,} compressed bytes (more than {settings.MAX_COMPRESSION_RATIO} times);"
            " if the file is genuine, decompress it yourself and ingest the plain CSV"
        )


def _read_member(path: Path, member: str) -> bytes:
    """A zip member's bytes, inflated no further than the size its directory declares (checked by
    :func:`expand_inputs`): ``ZipFile.read`` would inflate a member that lies about its size whole
    before finding it too long; read by size, its CRC check fails after the declared bytes."""
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        data = fh.read(zf.getinfo(member).file_size)
        if fh.read(1):
            raise zipfile.BadZipFile(f"member {member} holds more than the size its directory declares")
        return data


def _is_gzip(unit: _Unit, raw: bytes) -> bool:
    return unit.name.lower().endswith(".gz") or raw[:2] == b"\x1f\x8b"


def _gzip_error(unit: _Unit, exc: BaseException) -> InputFileError:
    return InputFileError(f"{unit.path}: truncated or corrupt gzip ({exc}); download the file again")


def _head(unit: _Unit, raw: bytes, size: int = 65536) -> bytes:
    """The first ``size`` bytes of the (decompressed) file, for layout checks."""
    if not _is_gzip(unit, raw):
        return raw[:size]
    stream = zlib.decompressobj(wbits=31)
    try:  # a slice: the stream would otherwise copy the whole rest of the file as its unconsumed tail
        head = stream.decompress(memoryview(raw)[:_GUNZIP_IN_BYTES], size)
    except zlib.error as exc:
        raise _gzip_error(unit, exc) from exc
    if len(head) < size and not stream.eof:
        raise _gzip_error(unit, EOFError("the compressed stream ends early"))
    return head


def _decompress(unit: _Unit, raw: bytes) -> bytes:
    if _is_gzip(unit, raw):
        try:
            return _gunzip_bounded(unit, raw)
        except (EOFError, OSError, zlib.error, *_GUNZIP_ERRORS) as exc:
            raise _gzip_error(unit, exc) from exc
    return raw


_GUNZIP_IN_BYTES = 1 << 20
_GUNZIP_OUT_BYTES = 8 << 20


def _gunzip_bounded(unit: _Unit, raw: bytes) -> bytes:
    """The text of a gzip file (every member), refused as soon as it passes the expansion limits
    (:func:`_check_expansion`): a bomb stops after a few MB of text, not when memory runs out.

    Input is fed in slices of :data:`_GUNZIP_IN_BYTES` and text taken in pieces of at most
    :data:`_GUNZIP_OUT_BYTES`, so the ratio is checked on what has been read so far; as fast as a
    one-shot inflate (measured on the Lancashire file: 27 ms against 33 ms).
    """
    view = memoryview(raw)
    parts: list[bytes] = []
    total = pos = 0
    stream = _gzip_stream(wbits=31)
    pending: bytes | memoryview = b""
    while True:
        if not pending:
            if pos >= len(raw):
                break
            pending = view[pos : pos + _GUNZIP_IN_BYTES]
            pos += len(pending)
        out = stream.decompress(pending, _GUNZIP_OUT_BYTES)
        pending = stream.unconsumed_tail
        if out:
            parts.append(out)
            total += len(out)
            _check_expansion(unit.path, total, pos - len(pending) - len(stream.unused_data))
        if stream.eof:  # a member ends: another may follow (zero padding may end the file)
            pending = stream.unused_data
            if not np.frombuffer(pending, np.uint8).any() and not np.frombuffer(view[pos:], np.uint8).any():
                break
            stream = _gzip_stream(wbits=31)
    if not stream.eof:
        raise EOFError("the compressed stream ends early")
    return parts[0] if len(parts) == 1 else b"".join(parts)


def _check_text(unit: _Unit, head: bytes) -> None:
    if not head.strip():
        raise InputFileError(f"{unit.path}: the file is empty; nothing to ingest (check the download)")
    if b"\x00" in head or head[:2] == b"PK" or head[:4] == b"%PDF":
        raise InputFileError(
            f"{unit.path}: not a CSV (binary content); give a police.uk CSV, .csv.gz, .zip, or an"
            " XLSX partner file with --mapping"
        )


def _checked_header(unit: _Unit, raw_bytes: bytes) -> list[str]:
    """The header of a CSV (plain or gzip), after refusing an empty or binary file."""
    head = _head(unit, raw_bytes)
    _check_text(unit, head)
    return _header(head)


def _header(data: bytes) -> list[str]:
    data = _line_ends(data)
    end = data.find(b"\n")
    first = (data if end < 0 else data[:end]).decode("utf-8-sig", errors="replace")
    try:
        row = next(csv.reader([first.rstrip("\r")]), [])
    except csv.Error:  # a header with a quote left open: no known layout, the caller says so
        row = first.rstrip("\r").split(",")
    return [c.strip() for c in row]


def _parse_csv(
    unit: _Unit,
    source: Any,
    header: list[str],
    *,
    ignore_empty: bool,
    gz: bool,
    on_invalid: Callable[[Any], str],
    encodings: tuple[str, ...] = ("utf8", "cp1252"),
    newlines_in_values: bool = False,
) -> pa.Table:
    """pyarrow parse with every column as text (null when empty); retries as cp1252 if not UTF-8.

    A text that is all ASCII (every police.uk file) is parsed as binary and viewed as UTF-8 text
    without a copy: ASCII is valid UTF-8, checked once for the whole text, so pyarrow's per-value
    UTF-8 check (a sixth of the parse) is skipped.
    """
    ncols = len(header)
    names = [f"c{i}" for i in range(ncols)]
    ascii_text = not gz and isinstance(source, bytes) and source.isascii()
    for encoding in encodings:
        stream = pa.input_stream(pa.py_buffer(source), compression="gzip" if gz else None)
        try:
            table = pacsv.read_csv(
                stream,
                read_options=pacsv.ReadOptions(
                    column_names=names, skip_rows=1, encoding=encoding, use_threads=len(source) > _CSV_THREADS_MIN_BYTES
                ),
                parse_options=pacsv.ParseOptions(
                    invalid_row_handler=on_invalid,
                    ignore_empty_lines=ignore_empty,
                    newlines_in_values=newlines_in_values,
                ),
                convert_options=pacsv.ConvertOptions(
                    column_types=dict.fromkeys(names, pa.binary() if ascii_text else pa.string()),
                    strings_can_be_null=True,
                    null_values=[""],
                ),
            )
            if ascii_text:
                table = pa.table(
                    [pa.chunked_array([c.view(pa.string()) for c in col.chunks], pa.string()) for col in table.columns],
                    names=names,
                )
            return table.rename_columns(header)
        except pa.ArrowInvalid as exc:
            if "UTF8" in str(exc) and encoding == "utf8" and len(encodings) > 1:
                continue  # Excel-saved partner CSVs; police.uk files are UTF-8
            raise InputFileError(f"{unit.path}: not a readable CSV ({exc}); check the file") from exc
        except (OSError, EOFError, zlib.error) as exc:
            if gz:
                raise _gzip_error(unit, exc) from exc
            raise InputFileError(f"{unit.path}: cannot be read ({exc})") from exc
    raise AssertionError("unreachable")


def _has_line_breaks_in_values(data: bytes, table: pa.Table) -> bool:
    """Whether a value of the parsed ``table`` holds a line break, decided on the raw bytes.

    A line break inside a value needs a quote character, so a file without ``"`` has none (police.uk
    files are unquoted). Otherwise, with blank lines kept as rows, every row is exactly one physical
    line unless some value spans lines; only a mismatch pays for looking into the values.
    """
    if b'"' not in data:
        return False
    physical = data.count(b"\n") + (0 if data.endswith(b"\n") else 1)
    if table.num_rows + 1 == physical:
        return False
    return any(pc.any(pc.match_substring(col, "\n")).as_py() for col in table.columns if col.null_count < len(col))


def _read_csv_rows(unit: _Unit, raw: bytes, header: list[str]) -> _RawTable:
    """Parse a CSV (plain or gzip) and recover the physical line of every row.

    Fast path (every ordinary file): blank lines kept as all-null rows, so with no malformed row
    and no line break inside a value row i is line i + 2. Otherwise (:func:`_records`) the text's
    records are found on its bytes (a line break inside a quoted value continues the record) and
    their fields counted, vectorised, so that every row keeps its first physical line and every
    malformed record is quarantined with its text.
    """
    ncols = len(header)
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:  # called once per malformed row (rare)
        invalid.append(row.text)
        return "skip"

    data, notes = _as_utf8(unit, _line_ends(_decompress(unit, raw)))
    table = _parse_csv(unit, data, header, ignore_empty=False, gz=False, on_invalid=on_invalid)
    if not invalid and not _has_line_breaks_in_values(data, table):
        lines = np.arange(2, table.num_rows + 2, dtype=np.int64)
        table, keep = _drop_blank_rows(table)
        return _RawTable(header, table, lines if keep is None else lines[keep], np.empty(0, np.int64), [], notes)
    # Rare path (malformed rows or line breaks in values): place the records on the bytes.
    invalid.clear()
    table = _parse_csv(unit, data, header, ignore_empty=True, gz=False, on_invalid=on_invalid, newlines_in_values=True)
    starts, ends, nfields, line = _records(unit, data)
    blank = ends == starts
    data_record = ~blank & (np.arange(len(starts)) > 0)
    good = data_record & (nfields == ncols)
    bad = data_record & (nfields != ncols)
    if good.sum() != table.num_rows or bad.sum() != len(invalid):
        raise InputFileError(
            f"{unit.path}: rows could not be matched to lines ({good.sum()} vs {table.num_rows});"
            " check the file's quoting"
        )
    bad_text = [data[a:b].decode("utf-8", errors="replace") for a, b in zip(starts[bad], ends[bad], strict=True)]
    return _RawTable(header, table, line[good], line[bad], bad_text, notes)


def _records(unit: _Unit, data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """The CSV records of ``data`` (header included, blank lines as empty records): start and end
    byte offsets (end without its line end), number of fields and first physical line of each.

    Vectorised on the bytes: a byte is inside a quoted value when an odd number of ``"`` precede it
    (an escaped ``""`` counts twice), and only line ends and commas outside quotes end records and
    fields. A quote that never closes raises :class:`InputFileError` naming its line.
    """
    b = np.frombuffer(data, np.uint8)
    inside = np.logical_xor.accumulate(b == 0x22) if len(b) else np.zeros(0, bool)
    newline = b == 0x0A
    line_ends = np.flatnonzero(newline)
    ends = np.flatnonzero(newline & ~inside)
    if len(b) and (not len(ends) or ends[-1] != len(b) - 1):
        ends = np.append(ends, len(b))  # a last record without a line end
    starts = np.concatenate([[0], ends[:-1] + 1]).astype(np.int64)
    line = np.searchsorted(line_ends, starts) + 1
    if len(b) and inside[-1]:
        raise InputFileError(
            f'{unit.path}: line {line[-1]}: a quote (") opens a value that never closes, so the rest of'
            " the file would be one value; fix the quoting of that line"
        )
    cr = (ends > starts) & (b[np.maximum(ends - 1, 0)] == 0x0D)
    ends = ends - cr
    commas = np.flatnonzero((b == 0x2C) & ~inside)
    nfields = np.searchsorted(commas, ends) - np.searchsorted(commas, starts) + 1
    return starts, ends, nfields, line


def _line_ends(data: bytes) -> bytes:
    """Lone carriage returns (old Mac "CSV (Macintosh)" files) made line ends; ``\r\n`` is kept."""
    if b"\r" not in data or data.count(b"\r") == data.count(b"\r\n"):
        return data
    return re.sub(rb"\r(?!\n)", b"\n", data)


def _as_utf8(unit: _Unit, data: bytes) -> tuple[bytes, tuple[str, ...]]:
    """UTF-8 text as given; otherwise each line that is not UTF-8 read as Windows-1252 (Excel's
    CSV) and the whole re-encoded as UTF-8, with a note when the file mixes the two."""
    if data.isascii():
        return data, ()
    try:
        data.decode("utf-8")
    except UnicodeDecodeError:
        pass
    else:
        return data, ()
    lines = data.split(b"\n")
    cp1252 = 0
    utf8 = 0
    out = []
    for text in lines:  # only files that are not UTF-8 come here
        if text.isascii():
            out.append(text)
            continue
        try:
            text.decode("utf-8")
            utf8 += 1
            out.append(text)
        except UnicodeDecodeError:
            cp1252 += 1
            out.append(text.decode("cp1252", errors="replace").encode("utf-8"))
    notes = ()
    if utf8:
        notes = (
            f"{unit.path}: mixes encodings: {cp1252:,} line(s) are not UTF-8 and were read as"
            f" Windows-1252, {utf8:,} line(s) as UTF-8; check the accented letters of those rows",
        )
    return b"\n".join(out), notes


class _NotBatchable(Exception):
    """A batch of street files that cannot be parsed as one text (each file is then read alone)."""


def _street_text(unit: _Unit, raw_bytes: bytes) -> bytes | None:
    """The decompressed text of a police.uk street file that can join a batch, else None.

    A file joins when its header is the street header and every carriage return ends a line
    (``\r\n``): pyarrow also ends rows at a lone ``\r``, which would move rows between files.
    Raises :class:`InputFileError` for an empty or binary file, as a read on its own would.
    """
    if unit.name.lower().endswith((".xlsx", ".xlsm")):
        return None
    if tuple(_checked_header(unit, raw_bytes)) != schema.POLICE_UK_STREET_HEADER:
        return None
    data = _decompress(unit, raw_bytes)
    return data if b"\r" not in data or data.count(b"\r") == data.count(b"\r\n") else None


_JOIN_MAX_BYTES = 1 << 20
"""Street files below this size are joined into one text per batch and parsed by one call (a
police.uk file of a small force holds a few hundred kB); when every file of a batch is larger, each
is parsed in place, as its own call (joining them would only copy every byte once more)."""


def _read_street_batch(units: Sequence[_Unit], texts: Sequence[bytes]) -> tuple[_RawTable, np.ndarray]:
    """Parse several police.uk street files as one table; the rows and the file index of each.

    Small files' bodies (header line dropped) are joined and parsed by one pyarrow read. With no
    malformed row and no lone ``\r``, a file's rows are exactly its physical lines (blank lines are
    kept as null rows), so the row count per file is its count of line ends; a line break inside a
    quoted value merges lines and shows as a total that does not add up. Larger files are parsed
    one by one, each checked as a file read alone is, and their tables put end to end without a
    copy. Any doubt raises :class:`_NotBatchable`, and the caller reads the files one by one.
    """
    header = list(schema.POLICE_UK_STREET_HEADER)
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    def parse(unit: _Unit, text: bytes) -> pa.Table:
        try:
            return _parse_csv(
                unit, text, header, ignore_empty=False, gz=False, on_invalid=on_invalid, encodings=("utf8",)
            )
        except InputFileError as exc:
            raise _NotBatchable(str(exc)) from exc

    if len(texts) == 1 or min(len(t) for t in texts) >= _JOIN_MAX_BYTES:
        tables = []
        for unit, text in zip(units, texts, strict=True):
            tables.append(parse(unit, text))
            if invalid or _has_line_breaks_in_values(text, tables[-1]):
                raise _NotBatchable("rows do not match the file's lines")
        counts = np.array([t.num_rows for t in tables], dtype=np.int64)
        table = tables[0] if len(tables) == 1 else pa.concat_tables(tables)
    else:
        bodies: list[bytes | memoryview] = []
        for data in texts:
            start = data.find(b"\n") + 1  # 0: no line end, the file is a header alone
            body = memoryview(data)[start:] if start else b""  # a view: joined below without a copy first
            bodies.append(body if not body or body[-1] == 0x0A else bytes(body) + b"\n")
        # numpy counts a byte about twice as fast as bytes.count
        counts = np.array([np.count_nonzero(np.frombuffer(b, np.uint8) == 0x0A) for b in bodies], dtype=np.int64)
        table = parse(units[0], b"".join([b"h\n", *bodies]))
        if invalid or table.num_rows != counts.sum():
            raise _NotBatchable("rows do not match the files' lines")
    file_idx = np.repeat(np.arange(len(units), dtype=np.int64), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    lines = np.arange(table.num_rows, dtype=np.int64) - starts + 2
    table, keep = _drop_blank_rows(table)
    if keep is not None:
        file_idx, lines = file_idx[keep], lines[keep]
    return _RawTable(header, table, lines, np.empty(0, np.int64), []), file_idx


def _drop_blank_rows(table: pa.Table) -> tuple[pa.Table, np.ndarray | None]:
    """Blank lines (parsed as rows of nulls) removed; the mask of kept rows, None when none was blank."""
    # A column with no null at all rules blank rows out for free.
    if min(col.null_count for col in table.columns) == 0:
        return table, None
    blank = functools.reduce(pc.and_, [pc.is_null(c) for c in table.columns])
    if not pc.any(blank).as_py():
        return table, None
    keep = pc.invert(blank)
    return table.filter(keep), keep.to_numpy(zero_copy_only=False)


def _read_xlsx(unit: _Unit, raw: bytes, sheet: str | None) -> _RawTable:
    """The rows of one sheet of a workbook: ``sheet`` by name, else the first (with a note naming
    it when the workbook has more than one)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InputFileError(f"{unit.path}: not a readable XLSX workbook ({exc}); re-save it in Excel") from exc
    for info in infos:  # a workbook is a zip of XML: refuse a bomb before openpyxl inflates it
        _check_expansion(f"{unit.path}!{info.filename}", info.file_size, info.compress_size, declared=True)
    try:
        book = pd.ExcelFile(io.BytesIO(raw), engine="openpyxl")
        names = [str(n) for n in book.sheet_names]
        if not names:
            raise InputFileError(f"{unit.path}: the workbook has no sheets; nothing to ingest")
        if sheet is not None and sheet not in names:
            raise InputFileError(
                f"{unit.path}: no sheet named {sheet!r} (the sheets are {names}); fix `sheet` in the mapping"
            )
        chosen = sheet if sheet is not None else names[0]
        frame = pd.read_excel(book, sheet_name=chosen, dtype=str, header=None)
    except InputFileError:
        raise
    except Exception as exc:  # openpyxl raises many kinds for a broken workbook
        raise InputFileError(f"{unit.path}: not a readable XLSX workbook ({exc}); re-save it in Excel") from exc
    notes: tuple[str, ...] = ()
    if sheet is None and len(names) > 1:
        notes = (
            f"{unit.path}: read sheet {chosen!r}, the first of {len(names)} ({', '.join(names)});"
            ' to read another, name it in the mapping: sheet = "<name>"',
        )
    if frame.empty:
        raise InputFileError(f"{unit.path}: sheet {chosen!r} of the workbook is empty; nothing to ingest")
    header = [str(c).strip() for c in frame.iloc[0].fillna("")]
    body = frame.iloc[1:]
    lines = body.index.to_numpy(dtype=np.int64) + 1  # sheet rows are 1-based, header is row 1
    keep = body.notna().any(axis=1).to_numpy()
    body = body[keep]
    table = pa.table(
        {f"c{i}": pa.array(body.iloc[:, i].to_numpy(), pa.string(), from_pandas=True) for i in range(len(header))}
    )
    return _RawTable(header, table.rename_columns(header), lines[keep], np.empty(0, np.int64), [], notes)


# --------------------------------------------------------------------------------------------------
# Shared assembly of accepted and quarantined tables
# --------------------------------------------------------------------------------------------------
@dataclass
class _Parsed:
    """Per-row results of one reader, all rows of the file (before splitting)."""

    n: int
    source: str
    force: pa.Array | None  # per row; None when ``file_forces`` gives it
    month: pa.Array
    crime_type: pa.Array
    reason: np.ndarray
    ok: np.ndarray  # passed every check (reason == "")
    lon: np.ndarray
    lat: np.ndarray
    located: np.ndarray
    east: np.ndarray  # EPSG:27700, NaN where not located
    north: np.ndarray
    details: dict[str, list[str]]  # reason -> raw columns shown in its message
    occurred_date: pa.Array | None = None
    occurred_at: pa.Array | None = None
    occurred_from: pa.Array | None = None
    occurred_to: pa.Array | None = None
    optional: dict[str, pa.Array | pa.ChunkedArray] = field(default_factory=dict)
    weight: np.ndarray | None = None
    file_forces: Sequence[str] | None = None  # the force of every row of each file, when known per file
    file_months: Sequence[str] | None = None  # the month of every accepted row of each file, when known


def _assemble(
    paths: Sequence[str],
    raw: _RawTable,
    parsed: _Parsed,
    file_ids: Sequence[str],
    file_idx: np.ndarray,
    *,
    key_columns: bool = True,
) -> tuple[pa.Table, pa.Table, np.ndarray, np.ndarray]:
    """Accepted and quarantined rows of one or more files read together.

    Parameters
    ----------
    paths, file_ids
        Per file: the path as reported and the id.
    raw, parsed
        The rows of all files, in file order and line order within a file.
    file_idx
        The file (index into ``paths``) of each row of ``raw``.

    key_columns
        False: the accepted rows are built without the columns a store part does not hold
        (:data:`geo_csp.store.PART_ROWS_SCHEMA`), for a caller that gives each file's part key.

    Returns
    -------
    accepted, quarantined, accepted_file, quarantined_file
        The tables (quarantine ordered by file, then line) and the file index of each of their rows.
    """
    n = parsed.n
    ok = parsed.ok
    ok_idx = np.flatnonzero(ok)
    acc_lines = raw.lines[ok_idx]
    acc_file = file_idx[ok_idx]
    lon, lat = parsed.lon[ok_idx], parsed.lat[ok_idx]
    located = parsed.located[ok_idx]
    east, north = parsed.east[ok_idx], parsed.north[ok_idx]
    take = pa.array(ok_idx)
    null_str = pa.nulls(len(ok_idx), pa.string())

    all_ok = len(ok_idx) == n

    def col(arr: pa.Array | None, typ: pa.DataType = pa.string()) -> pa.Array:
        if arr is None:
            return pa.nulls(len(ok_idx), typ)
        return arr if all_ok else arr.take(take)  # most files quarantine nothing: no copy

    arrays = {
        schema.OCCURRED_DATE: col(parsed.occurred_date, pa.date32()),
        schema.OCCURRED_AT: col(parsed.occurred_at, pa.timestamp("us", tz="UTC")),
        schema.OCCURRED_FROM: col(parsed.occurred_from, pa.timestamp("us", tz="UTC")),
        schema.OCCURRED_TO: col(parsed.occurred_to, pa.timestamp("us", tz="UTC")),
        schema.CRIME_TYPE: col(parsed.crime_type),
        schema.LON: pa.array(lon, from_pandas=True),
        schema.LAT: pa.array(lat, from_pandas=True),
        schema.EASTING: pa.array(east, from_pandas=True),
        schema.NORTHING: pa.array(north, from_pandas=True),
        schema.LOCATED: pa.array(located),
        schema.WEIGHT: pa.array(np.ones(len(ok_idx)) if parsed.weight is None else parsed.weight[ok_idx]),
        schema.LINE: pa.array(acc_lines, pa.int64()),
    }
    for name in (
        schema.LOCATION,
        schema.LSOA_CODE,
        schema.LSOA_NAME,
        schema.CRIME_ID,
        schema.OUTCOME,
        schema.CONTEXT,
        schema.OBJECT_OF_SEARCH,
    ):
        arr = parsed.optional.get(name)
        arrays[name] = null_str if arr is None else col(arr)
    if key_columns:
        file_id_col = _per_file(file_ids, acc_file)
        arrays |= {
            schema.INCIDENT_ID: pc.binary_join_element_wise(
                file_id_col, pc.cast(pa.array(acc_lines), pa.string()), ":"
            ),
            schema.SOURCE: pa.repeat(pa.scalar(parsed.source, pa.string()), len(ok_idx)),
            schema.FORCE: _per_file(parsed.file_forces, acc_file) if parsed.force is None else col(parsed.force),
            schema.MONTH: col(parsed.month),
            schema.FILE_ID: file_id_col,
        }
    table_schema = schema.INCIDENT_SCHEMA if key_columns else PART_ROWS_SCHEMA
    accepted = pa.table([arrays[f.name] for f in table_schema], schema=table_schema)

    # Quarantine: validation failures, then malformed rows (only a file read alone has those).
    bad_idx = np.flatnonzero(~ok)
    lines, reasons, messages, raws = [], [], [], []
    q_file = [file_idx[bad_idx]]
    if len(bad_idx):
        bad_table = raw.table.take(pa.array(bad_idx))
        bad_reason = parsed.reason[bad_idx]
        message = np.empty(len(bad_idx), dtype=object)
        for code in np.unique(bad_reason):  # one iteration per reason code
            sel = np.flatnonzero(bad_reason == code)
            shown = parsed.details.get(code, [])
            parts: list[Any] = [schema.REASONS[code]]
            for i, name in enumerate(shown):
                parts += [("; " if i == 0 else ", ") + f"{name}=", bad_table[name].take(pa.array(sel))]
            joined = (
                pc.binary_join_element_wise(*parts, "", null_handling="replace")
                if shown
                else pa.array([parts[0]] * len(sel))
            )
            message[sel] = np.asarray(joined.to_pylist(), dtype=object)
        raw_json = bad_table.to_pandas().to_json(orient="records", lines=True, force_ascii=False)
        raws += raw_json.rstrip("\n").split("\n")
        lines += raw.lines[bad_idx].tolist()
        reasons += bad_reason.tolist()
        messages += message.tolist()
    if len(raw.malformed_lines):
        import json

        lines += raw.malformed_lines.tolist()
        reasons += ["malformed_row"] * len(raw.malformed_lines)
        messages += [f"{schema.REASONS['malformed_row']} (expected {len(raw.header)})"] * len(raw.malformed_lines)
        raws += [json.dumps({"text": t}, ensure_ascii=False) for t in raw.malformed_text]
        q_file.append(np.zeros(len(raw.malformed_lines), np.int64))
    q_idx = np.concatenate(q_file).astype(np.int64)
    quarantine = pa.table(
        {
            "file": _per_file(paths, q_idx),
            schema.FILE_ID: _per_file(file_ids, q_idx),
            schema.LINE: pa.array(lines, pa.int64()),
            schema.SOURCE: pa.repeat(pa.scalar(parsed.source, pa.string()), len(lines)),
            "reason": pa.array(reasons, pa.string()),
            "message": pa.array(messages, pa.string()),
            "raw": pa.array(raws, pa.string()),
        },
        schema=schema.QUARANTINE_SCHEMA,
    )
    if len(lines):
        order = np.lexsort((np.asarray(lines, np.int64), q_idx))
        quarantine, q_idx = quarantine.take(pa.array(order)), q_idx[order]
    return accepted, quarantine, acc_file, q_idx


def _per_file(values: Sequence[str], file_idx: np.ndarray) -> pa.Array:
    """A per-file text value spread to rows by their file index."""
    if len(values) == 1:
        return pa.repeat(pa.scalar(values[0], pa.string()), len(file_idx))
    return pa.array(values, pa.string()).take(pa.array(file_idx))


def _dictionary_codes(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
    """Each value's index into the distinct values (nulls are one of them), and those values.

    Chunks as the CSV reader gives them are encoded against one shared dictionary, without first
    joining them into one array.
    """
    encoded = pc.dictionary_encode(values, null_encoding="encode")
    if isinstance(encoded, pa.ChunkedArray):
        if not encoded.num_chunks:
            return np.empty(0, np.int32), pa.array([], values.type)
        indices = [c.indices.to_numpy(zero_copy_only=False) for c in encoded.chunks]
        return (indices[0] if len(indices) == 1 else np.concatenate(indices)), encoded.chunks[0].dictionary
    return encoded.indices.to_numpy(zero_copy_only=False), encoded.dictionary


def _per_distinct(values: pa.Array | pa.ChunkedArray, check: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    """``check`` applied once per distinct value and spread back to every row.

    police.uk repeats months, crime types and codes on thousands of rows each.
    """
    codes, distinct = _dictionary_codes(values)
    return np.asarray(check(distinct))[codes]


def _first_reason(checks: list[tuple[str, np.ndarray]], coords: _Coordinates) -> tuple[np.ndarray, np.ndarray]:
    """Reason per row (the first failing check in priority order, then the coordinates' own reason,
    ``""`` when all pass) and whether the row passed every check.

    Codes are worked out as small integers and the text is only written where a check failed (the
    coordinates' reasons are taken over in place), so a file that passes costs a few numpy passes.
    """
    code = np.zeros(len(coords.ok), np.int8)
    for i in range(len(checks), 0, -1):
        code[checks[i - 1][1]] = i
    reason = coords.reason  # built for this call: completed in place
    failed = np.flatnonzero(code)
    if len(failed):
        reason[failed] = np.array(["", *(name for name, _ in checks)], dtype=object)[code[failed]]
    return reason, (code == 0) & coords.ok


# --------------------------------------------------------------------------------------------------
# Readers
# --------------------------------------------------------------------------------------------------
def _street(
    raw: _RawTable, names: Sequence[str], file_idx: np.ndarray, *, points: _SnapPoints | None = None
) -> _Parsed:
    """Validate police.uk street rows of one or more files (``names``: base names; ``file_idx``: per row;
    ``points``: the run's projections, see :class:`_SnapPoints`)."""
    t, n = raw.table, raw.table.num_rows
    month, crime = t["Month"], t["Crime type"]  # police.uk values are exact: no trimming
    coords = _coordinates(t["Longitude"], t["Latitude"], crs=settings.DISPLAY_CRS, points=points)
    name_forces = [_archive_kind(name)[1] or "" for name in names]
    force = None  # every file's name gives its force: built from them only if a caller needs the column
    no_force = np.zeros(n, bool)
    if not all(name_forces):  # force from "Falls within" for files whose name does not give it
        force = _per_file(name_forces, file_idx)
        falls = _text(t["Falls within"])
        uniques = pc.unique(falls)
        slugs = pa.array([force_slug(s) for s in uniques.to_pylist()], pa.string())  # per distinct name
        from_falls = slugs.take(pc.index_in(falls, uniques))
        named = np.array([bool(f) for f in name_forces])[file_idx]
        force = pc.if_else(pa.array(named), force, from_falls)
        no_force = ~named & pc.equal(from_falls, "").to_numpy(zero_copy_only=False)
    codes, month_values = _dictionary_codes(month)
    bad_month = ~valid_months(month_values)[codes]
    # A file's month is its replacement key: a row of another month must not move keys.
    name_months = [file_month(name) for name in names]
    file_code = pc.fill_null(pc.index_in(pa.array(name_months, pa.string()), month_values), -1)
    has_month = np.array([m is not None for m in name_months])[file_idx]
    outside = ~bad_month & has_month & (codes != file_code.to_numpy(zero_copy_only=False)[file_idx])
    known = pa.array(schema.CRIME_TYPES)
    # every accepted row of a file has the file's force and, when its name gives one, its month
    file_forces = name_forces if all(name_forces) else None
    file_months = name_months if all(m is not None for m in name_months) else None
    checks = [
        ("bad_month", bad_month),
        ("month_outside_file", outside),
        ("unknown_crime_type", ~_per_distinct(crime, lambda u: pc.is_in(u, known).to_numpy(zero_copy_only=False))),
        ("missing_required", no_force),
    ]
    reason, ok = _first_reason(checks, coords)
    coord_columns = ["Longitude", "Latitude"]
    opt = {
        schema.LOCATION: t["Location"],
        schema.LSOA_CODE: t["LSOA code"],
        schema.LSOA_NAME: t["LSOA name"],
        schema.CRIME_ID: t["Crime ID"],
        schema.OUTCOME: t["Last outcome category"],
        schema.CONTEXT: t["Context"],
    }
    return _Parsed(
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


def _stop_search(unit: _Unit, raw: _RawTable) -> _Parsed:
    t, n = raw.table, raw.table.num_rows
    date_text = pc.utf8_trim_whitespace(_text(t["Date"]))
    utc = pd.to_datetime(
        pd.Series(date_text.to_numpy(zero_copy_only=False)), format="ISO8601", utc=True, errors="coerce"
    )
    month, day, at = _local_times(utc, "Europe/London")
    name_month = file_month(unit.name)
    if name_month is not None:  # the published month, whatever the row's own date says
        month = pa.repeat(pa.scalar(name_month, pa.string()), n)
    coords = _coordinates(t["Longitude"], t["Latitude"], crs=settings.DISPLAY_CRS)
    _, name_force = _archive_kind(unit.name)
    if not name_force:
        m = _LOOSE_STOP_RE.match(unit.name.lower())
        name_force = m["force"].replace("_", "-") if m else "unknown"
    blank = pc.equal(date_text, "").to_numpy(zero_copy_only=False)
    checks = [
        ("missing_required", blank),
        ("bad_date", ~blank & utc.isna().to_numpy()),
    ]
    reason, ok = _first_reason(checks, coords)
    coord_columns = ["Latitude", "Longitude"]
    return _Parsed(
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


def _partner(unit: _Unit, raw: _RawTable, mapping: ColumnMapping) -> _Parsed:
    t, n = raw.table, raw.table.num_rows
    missing = [c for c in mapping.required_columns if c not in raw.header]
    if missing:
        raise InputFileError(
            f"{unit.path}: column(s) {missing} named in the mapping are not in the file (it has"
            f" {raw.header}); fix the [columns] names in the mapping file"
        )

    def text(name: str) -> pa.Array:
        return pc.utf8_trim_whitespace(_text(t[name]))

    when = text(mapping.time_column)
    when_s = pd.Series(when.to_numpy(zero_copy_only=False), dtype=object)
    blank_when = (when_s == "").to_numpy()
    details: dict[str, list[str]] = {}
    checks: list[tuple[str, np.ndarray]] = []
    day = at = None
    if mapping.time_kind == "month":
        parsed = _strptime_series(when_s, mapping.date_format)
        month = pc.fill_null(pc.strftime(pa.array(parsed), format="%Y-%m"), "")
        bad_when = ~blank_when & parsed.isna().to_numpy()
        checks += [("missing_required", blank_when), ("bad_month", bad_when)]
        details["bad_month"] = [mapping.time_column]
    else:
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
    details["missing_required"] = list(mapping.required_columns[:3])
    if mapping.category_column is not None:
        cat = text(mapping.category_column)
        checks.append(("missing_required", pc.equal(cat, "").to_numpy(zero_copy_only=False)))
        if mapping.categories:
            keys = pa.array(list(mapping.categories), pa.string())
            vals = pa.array(list(mapping.categories.values()), pa.string())
            idx = pc.index_in(cat, keys)
            cat = pc.if_else(pc.is_null(idx), cat, vals.take(pc.fill_null(idx, 0)))
    else:
        cat = pa.repeat(pa.scalar(mapping.category_value, pa.string()), n)
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
    window_from = window_to = None
    if mapping.from_column is not None:
        window_from, window_to, bad_window = _window(text, mapping, n)
        checks.append(("bad_window", bad_window))
        details["bad_window"] = [c for c in (mapping.from_column, mapping.to_column) if c is not None]
    coords = _coordinates(t[mapping.x_column], t[mapping.y_column], crs=mapping.crs)
    reason, ok = _first_reason(checks, coords)
    for code in _COORD_REASONS:
        details[code] = [mapping.x_column, mapping.y_column]
    return _Parsed(
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


def _parse_unit(unit: _Unit, raw_bytes: bytes, mapping: ColumnMapping | None) -> tuple[_RawTable, _Parsed]:
    name = unit.name.lower()
    if name.endswith((".xlsx", ".xlsm")):
        if mapping is None:
            raise InputFileError(f"{unit.path}: XLSX files are partner extracts; pass --mapping FILE")
        raw = _read_xlsx(unit, raw_bytes, mapping.sheet)
        return raw, _partner(unit, raw, mapping)
    header = _checked_header(unit, raw_bytes)
    layout = _police_uk_layout(header)
    if layout is not None:
        raw = _read_csv_rows(unit, raw_bytes, header)
        if tuple(header) != layout:  # saved again from a spreadsheet with the columns moved: by name
            raw = dataclasses.replace(
                raw,
                header=list(layout),
                table=raw.table.select(list(layout)),
                notes=(*raw.notes, f"{unit.path}: columns are in another order than data.police.uk's; read by name"),
            )
        if layout == schema.POLICE_UK_STREET_HEADER:
            return raw, _street(raw, [unit.name], np.zeros(raw.table.num_rows, np.int64))
        return raw, _stop_search(unit, raw)
    kind, _ = _archive_kind(unit.name)
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
    if mapping is None:
        raise InputFileError(
            f"{unit.path}: unknown layout (header {header[:6]}...); police.uk files need their"
            " standard header, partner extracts need --mapping FILE"
        )
    raw = _read_csv_rows(unit, raw_bytes, header)
    return raw, _partner(unit, raw, mapping)


# --------------------------------------------------------------------------------------------------
# Entry point
# --------------------------------------------------------------------------------------------------
def ingest_paths(
    paths: Sequence[str | Path] | str | Path,
    *,
    store_dir: str | Path = settings.DEFAULT_STORE_DIR,
    mapping: ColumnMapping | str | Path | None = None,
    progress: ProgressCallback | None = None,
    backend: Literal["memory", "dask"] = "memory",
    client: Any = None,
) -> IngestReport:
    """Ingest files into the store, all-or-nothing (see the module docstring for the rules).

    Parameters
    ----------
    paths
        Files (.csv, .csv.gz, .xlsx), archive-layout folders or .zip archives.
    store_dir
        The store folder (created if absent).
    mapping
        A :class:`ColumnMapping` or TOML mapping file for partner extracts (police.uk files are
        recognised by their header and ignore it).
    progress
        Called after each file as ``progress(done, total, path)``.
    backend
        ``"memory"`` reads and validates the files in this process, in batches of a few MB (peak
        memory is a few batches', whatever the number of files); ``"dask"`` validates them on Dask workers (:func:`ingest_paths_dask`,
        same store and report; zips are not read there).
    client
        With ``backend="dask"``: a ``dask.distributed.Client`` (default: a local cluster).

    Returns
    -------
    IngestReport
        Per-file and total counts; also written to ``store_dir/reports/``.

    Raises
    ------
    InputFileError
        A file cannot be read as a whole; the store is unchanged.
    MappingError
        The mapping file is invalid.
    StoreError
        Another ingest holds the store's lock.
    """
    if backend not in ("memory", "dask"):
        raise ParameterError(f"backend must be 'memory' or 'dask', not {backend!r}")
    if backend == "dask":
        return ingest_paths_dask(paths, store_dir=store_dir, mapping=mapping, progress=progress, client=client)
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise InputFileError("no input paths given; name at least one file, folder or zip")
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    notes: list[str] = []
    units = [u for p in paths for u in expand_inputs(p, notes)]

    def prepared(txn: StoreTransaction) -> Iterator[_Staged | Exception]:
        prepare = functools.partial(
            _prepare_batch, known=txn.known_file, mapping=mapping, encode=True, points=_SnapPoints()
        )
        for item in itertools.chain.from_iterable(_in_order(prepare, _batches(units))):
            yield item if isinstance(item, Exception) else item.staged

    return write_inputs(store_dir, prepared, n_inputs=len(units), notes=notes, mapping=mapping, progress=progress)


@dataclass(frozen=True)
class _Staged:
    """What the writer needs of one prepared input: its counts and Parquet bytes, no tables (cheap
    to send from a Dask worker). ``encoded`` is None when the input's bytes are already stored (or
    when it was read without encoding, as :func:`read_file` reads: never given to the writer)."""

    path: str
    sha: str
    size: int
    encoded: EncodedParts | None = None
    source: str = ""
    rows_read: int = 0
    accepted: int = 0
    quarantined: int = 0
    unlocated: int = 0
    reasons: dict[str, int] = field(default_factory=dict)
    forces: tuple[str, ...] = ()
    months: tuple[str, ...] = ()
    notes: tuple[str, ...] = ()  # what reading the input chose or repaired (see _RawTable.notes)


def write_inputs(
    store_dir: str | Path,
    prepared: Callable[[StoreTransaction], Iterable[_Staged | Exception]],
    *,
    n_inputs: int,
    notes: Sequence[str],
    mapping: ColumnMapping | None,
    progress: ProgressCallback | None,
) -> IngestReport:
    """The writing half of an ingest, shared by :func:`ingest_paths` and
    :func:`ingest_paths_dask`: stage each prepared input in input order (an error is
    raised in its place, leaving the store as it was), then commit once and write the report.

    ``prepared(txn)`` gives the inputs, prepared wherever the caller likes, knowing the store's
    files through ``txn``.
    """
    reports: list[FileReport] = []
    notes = list(notes)
    with store_transaction(store_dir) as txn:
        notes.extend(txn.notes)
        for done, item in enumerate(prepared(txn), start=1):
            if isinstance(item, Exception):
                raise item
            notes.extend(item.notes)
            if item.encoded is None and item.rows_read:
                raise AssertionError(f"{item.path}: prepared without encode=True, so it cannot be staged")
            file_id = item.sha[:16]
            # checked again in file order: the same bytes twice in one ingest count once
            if item.encoded is None or txn.known_file(item.sha) is not None:
                reports.append(FileReport(item.path, 0, 0, 0, 0, {}, status=SKIPPED_STATUS, file_id=file_id))
            else:
                entry = {
                    "file_id": file_id,
                    "path": item.path,
                    "sha256": item.sha,
                    "size": item.size,
                    "source": item.source,
                    "forces": list(item.forces),
                    "months": list(item.months),
                    "rows_read": item.rows_read,
                    "accepted": item.accepted,
                    "unlocated": item.unlocated,
                    "quarantined": item.quarantined,
                    "reasons": item.reasons,
                    "ingested_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
                    "mapping": mapping.to_dict() if mapping is not None and item.source == mapping.source else None,
                }
                superseded = txn.stage_encoded(entry, item.encoded)
                reports.append(
                    FileReport(
                        item.path,
                        item.rows_read,
                        item.accepted,
                        item.unlocated,
                        item.quarantined,
                        item.reasons,
                        file_id=file_id,
                        source=item.source,
                        forces=item.forces,
                        months=item.months,
                        superseded=tuple(superseded),
                    )
                )
            if progress is not None:
                progress(done, n_inputs, item.path)
        report = IngestReport(tuple(reports), str(store_dir), tuple(notes))
        report_path = txn.commit({**report.to_dict(), "created_at": dt.datetime.now(dt.UTC).isoformat()})
    return IngestReport(tuple(reports), str(store_dir), tuple(notes), str(report_path))


@dataclass(frozen=True)
class _Prepared:
    """One input read and validated: what the writer needs of it (``staged``; its ``encoded``
    parts when prepared with ``encode=True``) and its rows (None when its bytes are already stored).

    Encoded for the store from a file that gives its part key (a police.uk monthly file),
    ``accepted`` has :data:`geo_csp.store.PART_ROWS_SCHEMA`: the columns the part holds.
    """

    staged: _Staged
    accepted: pa.Table | None = None
    quarantined: pa.Table | None = None


def _prepare(
    unit: _Unit,
    *,
    known: Callable[[str], str | None],
    mapping: ColumnMapping | None,
    encode: bool = False,
) -> _Prepared:
    """Read, hash, parse and validate one input (thread-safe: touches no store file)."""
    item = _prepare_batch([unit], known=known, mapping=mapping, encode=encode)[0]
    if isinstance(item, Exception):
        raise item
    return item


def _prepare_batch(
    units: Sequence[_Unit],
    *,
    known: Callable[[str], str | None],
    mapping: ColumnMapping | None,
    encode: bool = False,
    points: _SnapPoints | None = None,
) -> list[_Prepared | Exception]:
    """Read, hash, parse and validate several inputs (thread-safe: touches no store file).

    police.uk street files are parsed and validated together, as one table (every check, the
    coordinate projection and the table building run once for the batch), and split back per file;
    other files, and street files the batch cannot place row by row, are read one by one. A file
    that cannot be read gives its exception in its place (the files after it are not read), so the
    caller raises the first failure in input order. ``encode`` also encodes each file's rows as
    Parquet (:func:`geo_csp.store.encode_parts`), so the thread staging the files only writes bytes.
    ``points`` (shared by the batches of one run) projects each distinct street point once.
    """
    results: list[_Prepared | Exception | None] = []
    street: list[tuple[int, bytes, str, bytes]] = []  # position, raw bytes, sha, text
    for unit in units:
        try:
            raw_bytes = _read_unit(unit)
            sha = hashlib.sha256(raw_bytes).hexdigest()
            if known(sha) is not None:
                results.append(_Prepared(_Staged(unit.path, sha, len(raw_bytes))))
                continue
            text = _street_text(unit, raw_bytes)
            if text is None:
                results.append(_prepare_alone(unit, raw_bytes, sha, mapping, encode=encode))
            else:
                street.append((len(results), raw_bytes, sha, text))
                results.append(None)
        except Exception as exc:  # raised by the caller when this file's turn comes
            results.append(exc)
            break
    if street:
        batch = [units[pos] for pos, *_ in street]
        try:
            raw, file_idx = _read_street_batch(batch, [text for *_, text in street])
        except _NotBatchable:
            for pos, raw_bytes, sha, _ in street:
                try:
                    results[pos] = _prepare_alone(units[pos], raw_bytes, sha, mapping, encode=encode)
                except Exception as exc:
                    results[pos] = exc
                    del results[pos + 1 :]
                    break
        else:
            parsed = _street(raw, [u.name for u in batch], file_idx, points=points)
            shas = [sha for _, _, sha, _ in street]
            prepared = _split(batch, shas, [len(b) for _, b, _, _ in street], raw, parsed, file_idx, encode=encode)
            for (pos, *_), item in zip(street, prepared, strict=True):
                results[pos] = item
    return results  # type: ignore[return-value]


def _read_unit(unit: _Unit) -> bytes:
    try:
        return unit.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InputFileError(f"{unit.path}: cannot be read ({exc}); download it again") from exc


def _prepare_alone(
    unit: _Unit, raw_bytes: bytes, sha: str, mapping: ColumnMapping | None, *, encode: bool
) -> _Prepared:
    """One input read and validated on its own (partner, stop-and-search, or an unusual street file)."""
    raw, parsed = _parse_unit(unit, raw_bytes, mapping)
    return _split([unit], [sha], [len(raw_bytes)], raw, parsed, np.zeros(parsed.n, np.int64), encode=encode)[0]


def _split(
    units: Sequence[_Unit],
    shas: Sequence[str],
    sizes: Sequence[int],
    raw: _RawTable,
    parsed: _Parsed,
    file_idx: np.ndarray,
    *,
    encode: bool,
) -> list[_Prepared]:
    """Accepted and quarantined rows of files read together, split back into one result per file.

    Rows are in file order, so each file's rows are a zero-copy slice; counts, reasons, forces and
    months per file come from one vectorised pass over the batch.
    """
    k = len(units)
    # the part key of every file known from its name (police.uk): the parts are encoded without
    # building the columns they do not hold
    keys_known = encode and parsed.file_forces is not None and parsed.file_months is not None
    accepted, quarantined, acc_file, q_file = _assemble(
        [u.path for u in units], raw, parsed, [sha[:16] for sha in shas], file_idx, key_columns=not keys_known
    )
    n_acc = np.bincount(acc_file, minlength=k)
    n_q = np.bincount(q_file, minlength=k)
    acc_start = np.cumsum(n_acc) - n_acc
    q_start = np.cumsum(n_q) - n_q
    located = accepted[schema.LOCATED].to_numpy().astype(bool)
    unlocated = np.bincount(acc_file[~located], minlength=k)
    reasons: list[dict[str, int]] = [{} for _ in range(k)]
    if quarantined.num_rows:
        codes, names = pd.factorize(quarantined["reason"].to_numpy(zero_copy_only=False))
        counts = np.bincount(q_file * len(names) + codes, minlength=k * len(names)).reshape(k, len(names))
        for i in np.flatnonzero(n_q):  # files with quarantined rows only
            reasons[i] = {str(names[c]): int(counts[i, c]) for c in np.argsort(names) if counts[i, c]}
    forces = (
        _one_per_file(parsed.file_forces, n_acc)
        if parsed.file_forces is not None
        else _distinct_per_file(accepted[schema.FORCE], acc_file, k)
    )
    months = (
        _one_per_file(parsed.file_months, n_acc)
        if parsed.file_months is not None
        else _distinct_per_file(accepted[schema.MONTH], acc_file, k)
    )
    out = []
    for i, unit in enumerate(units):
        acc = accepted.slice(acc_start[i], n_acc[i])
        quar = quarantined.slice(q_start[i], n_q[i])
        # a monthly police.uk file is one (source, force, month) part: no need to split it again
        key = part_key(parsed.source, forces[i], months[i])
        staged = _Staged(
            unit.path,
            shas[i],
            sizes[i],
            encode_parts(acc, quar, key=key) if encode else None,
            parsed.source,
            rows_read=int(n_acc[i] + n_q[i]),
            accepted=int(n_acc[i]),
            quarantined=int(n_q[i]),
            unlocated=int(unlocated[i]),
            reasons=reasons[i],
            forces=forces[i],
            months=months[i],
            notes=raw.notes,
        )
        out.append(_Prepared(staged, acc, quar))
    return out


def _one_per_file(values: Sequence[str], rows: np.ndarray) -> list[tuple[str, ...]]:
    """Each file's one value, for files whose every accepted row has it (none for a file without rows)."""
    return [(value,) if count else () for value, count in zip(values, rows, strict=True)]


def _distinct_per_file(values: pa.Array, file_idx: np.ndarray, k: int) -> list[tuple[str, ...]]:
    """The sorted distinct values of each file's rows."""
    if k == 1:
        return [tuple(sorted(pc.unique(values).to_pylist()))]
    if isinstance(values, pa.ChunkedArray):
        values = values.combine_chunks()
    encoded = pc.dictionary_encode(values)
    names = encoded.dictionary.to_pylist()
    seen = np.bincount(
        file_idx * len(names) + encoded.indices.to_numpy(zero_copy_only=False), minlength=k * len(names)
    ).reshape(k, len(names))
    return [tuple(sorted(names[c] for c in np.flatnonzero(row))) for row in seen]


_PREPARE_THREADS = 3
"""Batches read, validated and encoded as Parquet at once while the caller writes the bytes of the
previous ones. pyarrow's CSV reader and compute kernels, pyproj and the Parquet encoder release the
GIL, but the Python between their calls holds it: on 2 cores a third preparing thread fills the
gaps (measured: 5% faster than two on the 20-million-incident national archive, for one more batch
of a few tens of MB in memory); more only holds more files in memory."""

_BATCH_BYTES = 8 << 20
"""Files are read and validated in batches of about this many bytes of CSV text (a larger file is a
batch of its own): large enough that a batch's few dozen pyarrow calls and one threaded CSV parse
cost little per file, small enough that the batches in flight hold tens of MB whatever the number
of files."""

_CSV_THREADS_MIN_BYTES = 4 * _BATCH_BYTES
"""Texts up to this size are parsed on the calling thread: inputs are prepared on several threads
at once (:data:`_PREPARE_THREADS`), which already keeps the cores busy, and pyarrow's own thread
pool would only add its overhead (a threaded parse of police.uk files cost about 1.7 times the CPU
time of a plain one). A larger file, a batch of its own, gets pyarrow's threads."""

_BATCH_FILES = 256
"""At most this many files in one batch (many near-empty files still make a batch of bounded size)."""
_GZIP_TEXT_RATIO = 6
"""Assumed text bytes per gzip byte when sizing a batch (police.uk CSVs compress about 5-7 times)."""


def _batches(units: Sequence[_Unit]) -> list[list[_Unit]]:
    """Consecutive units grouped into batches of at most :data:`_BATCH_BYTES` (estimated text) and
    :data:`_BATCH_FILES` files each."""
    batches: list[list[_Unit]] = []
    current: list[_Unit] = []
    size = 0
    for unit in units:
        text = unit.size * (_GZIP_TEXT_RATIO if unit.name.lower().endswith(".gz") else 1)
        if current and (size + text > _BATCH_BYTES or len(current) >= _BATCH_FILES):
            batches.append(current)
            current, size = [], 0
        current.append(unit)
        size += text
    if current:
        batches.append(current)
    return batches


def _in_order(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
    """``fn`` over ``items`` on a small thread pool, yielded in input order.

    At most ``_PREPARE_THREADS + 1`` items are in flight (peak memory does not grow with the number
    of items). An error is raised when its item's turn comes, so the first failing one in input
    order is the one reported, as in a sequential run; items not started yet are then cancelled.
    """
    if len(items) <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=_PREPARE_THREADS, thread_name_prefix="geo-csp-ingest")
    try:
        pending: deque[Future[Any]] = deque()
        queue = iter(items)
        for item in itertools.islice(queue, _PREPARE_THREADS + 1):
            pending.append(pool.submit(fn, item))
        while pending:
            result = pending.popleft().result()
            for item in itertools.islice(queue, 1):
                pending.append(pool.submit(fn, item))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


def read_file(path: str | Path, *, mapping: ColumnMapping | str | Path | None = None) -> tuple[pa.Table, pa.Table]:
    """Read and validate one file without touching any store.

    Returns
    -------
    accepted, quarantined
        Tables with :data:`schema.INCIDENT_SCHEMA` and :data:`schema.QUARANTINE_SCHEMA`.
    """
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    units = expand_inputs(path, [])
    if len(units) != 1:
        raise SchemaError(f"{path}: read_file takes one file; use ingest_paths for folders and zips")
    unit = units[0]
    item = _prepare(unit, known=lambda _sha: None, mapping=mapping)
    return item.accepted, item.quarantined


# --------------------------------------------------------------------------------------------------
# Ingest on Dask: files parsed on the workers, staged in order by the one writer
# --------------------------------------------------------------------------------------------------
@functools.cache
def _snap_points() -> Any:
    """The worker process's projections of the snap points met so far (see :class:`_SnapPoints`).

    Kept across tasks, so a national ingest projects each point about once per worker; bounded by
    the number of distinct points.
    """
    return _SnapPoints()


def _prepare_files(units: Sequence[Any], *, mapping: Any, known: frozenset[str]) -> list[Any]:
    """Worker side of :func:`ingest_paths_dask`: a batch of inputs read, hashed, validated and encoded.

    Exactly as :func:`ingest_paths` does (the same batched reader); only what the writer needs is
    sent back (``_Prepared.staged``: counts and Parquet bytes), or a file's error, raised by the
    writer when the file's turn comes.
    """
    prepared = _prepare_batch(
        units, known=lambda sha: sha if sha in known else None, mapping=mapping, encode=True, points=_snap_points()
    )
    return [item if isinstance(item, Exception) else item.staged for item in prepared]


def ingest_paths_dask(
    paths: Sequence[str | Path] | str | Path,
    *,
    store_dir: str | Path = settings.DEFAULT_STORE_DIR,
    mapping: Any = None,
    progress: Any = None,
    client: Any = None,
    ahead: int = 8,
) -> Any:
    """:func:`ingest_paths` with the files read, validated and encoded on Dask workers.

    The files go to the workers in the in-memory ingest's batches (a few MB of text each), at most
    ``ahead`` batches at a time; each worker hashes, parses, validates and encodes its batch as the
    in-memory ingest does and sends back the Parquet bytes and counts, while this process writes
    them into the store in input order and commits once: the same store, manifest and report as
    :func:`ingest_paths` (all-or-nothing, idempotent, later files replace earlier
    ones). Memory holds at most ``ahead + 1`` batches, whatever the number of files.

    Parameters
    ----------
    paths
        Files (.csv, .csv.gz, .xlsx) or archive-layout folders (not .zip archives: use
        :func:`ingest_paths` for those).
    store_dir, mapping, progress
        As :func:`ingest_paths`.
    client
        A ``distributed.Client``; ``None`` reads the files here, one after another.
    ahead
        Batches in flight on the workers.

    Returns
    -------
    geo_csp.ingest.IngestReport
    """
    if isinstance(paths, (str, Path)):
        paths = [paths]
    if not paths:
        raise InputFileError("no input paths given; name at least one file, folder or zip")
    if isinstance(ahead, bool) or not isinstance(ahead, int) or ahead < 1:
        raise ParameterError(f"`ahead` must be a positive integer; got {ahead!r}")
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    notes: list[str] = []
    units = [u for p in paths for u in expand_inputs(p, notes)]
    zipped = [u.path for u in units if not Path(u.path).is_file()]
    if zipped:
        raise ParameterError(
            f"ingest_paths_dask reads files and folders, not zip members ({zipped[0]}); unzip the archive "
            "or use geo_csp.ingest.ingest_paths"
        )

    def prepared(txn: StoreTransaction) -> Iterator[Any]:
        known = frozenset(e["sha256"] for e in txn.manifest["files"].values())
        return itertools.chain.from_iterable(
            cluster.ordered(client, _prepare_files, _batches(units), ahead=ahead, mapping=mapping, known=known)
        )

    return write_inputs(store_dir, prepared, n_inputs=len(units), notes=notes, mapping=mapping, progress=progress)
