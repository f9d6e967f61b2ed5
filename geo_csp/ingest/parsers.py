"""Vectorised parsers of text columns: months, decimal numbers and coordinates (checked, projected once per
distinct point)."""

from __future__ import annotations

import functools
import threading
from typing import Any, NamedTuple

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from pyproj import Transformer

from geo_csp import settings

_MONTH_RE = r"^\d{4}-(0[1-9]|1[0-2])$"


_NUMBER_RE = r"^[-+]?(\d+(\.\d*)?|\.\d+)([eE][-+]?\d+)?$"


def text_values(values: Any) -> pa.Array:
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
    valid: np.ndarray = pc.match_substring_regex(text_values(values), _MONTH_RE).to_numpy(zero_copy_only=False)
    return valid


def parse_numbers(values: Any) -> np.ndarray:
    """Decimal numbers parsed from text; NaN where blank or not a plain decimal number."""
    text = text_values(values)
    # Fast path: pyarrow's cast parses exactly the plain decimals, plus nan (NaN either way) and
    # inf/infinity (refused below); any other text makes it raise, and the regex decides.
    try:
        cast = pc.cast(pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text), pa.float64())
    except pa.ArrowInvalid:
        cast = None
    if cast is not None:
        nums: np.ndarray = pc.fill_null(cast, np.nan).to_numpy(zero_copy_only=False)
        if not np.isinf(nums).any():
            return nums
    ok = pc.match_substring_regex(text, _NUMBER_RE)
    if not pc.all(ok).as_py():  # only then pay for trimming blanks around numbers
        text = pc.utf8_trim_whitespace(text)
        ok = pc.match_substring_regex(text, _NUMBER_RE)
    parsed = pc.cast(pc.if_else(ok, text, pa.scalar(None, pa.string())), pa.float64())
    numbers: np.ndarray = pc.fill_null(parsed, np.nan).to_numpy(zero_copy_only=False)
    return numbers


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
    lon, lat, reason, located, *_ = parse_coordinates(x_text, y_text, crs=crs)
    return lon, lat, reason, located


def parse_coordinates(x_text: Any, y_text: Any, *, crs: str, points: SnapPoints | None = None) -> Coordinates:
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
    x_text, y_text = text_values(x_text), text_values(y_text)
    xd, yd = pc.dictionary_encode(x_text), pc.dictionary_encode(y_text)
    ny = len(yd.dictionary)
    pair = xd.indices.to_numpy().astype(np.int64) * ny + yd.indices.to_numpy()
    codes, uniques = pd.factorize(pair)
    x_u = xd.dictionary.take(pa.array(uniques // ny))
    y_u = yd.dictionary.take(pa.array(uniques % ny))
    return Coordinates(*(a[codes] for a in _classify_distinct(x_u, y_u, crs, points)))


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


def _classify_distinct(xt: pa.Array, yt: pa.Array, crs: str, points: SnapPoints | None = None) -> Coordinates:
    """Classify coordinate text pairs: lon, lat, reason, located, easting, northing, ok."""
    x_blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(xt)), 0).to_numpy(zero_copy_only=False)
    y_blank = pc.equal(pc.utf8_length(pc.utf8_trim_whitespace(yt)), 0).to_numpy(zero_copy_only=False)
    return _classify_numbers(parse_numbers(xt), parse_numbers(yt), x_blank, y_blank, crs, points)


class Coordinates(NamedTuple):
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
    x: np.ndarray, y: np.ndarray, x_blank: np.ndarray, y_blank: np.ndarray, crs: str, points: SnapPoints | None
) -> Coordinates:
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
    return Coordinates(lon, lat, reason, located, east, north, code == 0)


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


def _to_working(lon: np.ndarray, lat: np.ndarray, points: SnapPoints | None) -> tuple[np.ndarray, np.ndarray]:
    """WGS84 points (finite) projected to EPSG:27700, each distinct (lon, lat) value once."""
    if points is not None:
        return points.project(lon, lat)
    codes, uniques = pd.factorize(_complex_keys(lon, lat))
    east, north = _transformer(settings.DISPLAY_CRS, settings.WORKING_CRS).transform(uniques.real, uniques.imag)
    return np.asarray(east)[codes], np.asarray(north)[codes]


class SnapPoints:
    """The EPSG:27700 projection of every distinct WGS84 (lon, lat) value met in one ingest run.

    police.uk moves every point to one of a fixed set of anonymous snap points, which recur month
    after month and file after file: a national run projects each once, not once per batch. Shared
    by the threads preparing batches (a lock guards the tables). Points given to six decimals (all
    of police.uk's) are keyed by one int64 (:func:`_microdegree_keys`), others by their exact
    (lon, lat) bits; both kinds of key label rows of the same value table. Memory is bounded by the
    number of distinct snap points met, never by rows or files: about 40 bytes each (an 8-byte key
    and an 8-byte label in the hash table with its spare slots, two float64 values), some 40 MB for
    a million points. The values
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
        if self._hashtable is not None:  # the private tables are in use (set with them, last)
            vector = self._hashtable.Int64Vector() if kind == "int64" else self._hashtable.Complex128Vector()
            known: np.ndarray = self._tables[kind].get_labels(key, vector, n, -1)
            return known
        labels: np.ndarray = self._keys[kind].get_indexer(key)
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
