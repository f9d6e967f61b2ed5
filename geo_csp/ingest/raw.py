"""An input's bytes read into a table of text (every column as string) with the physical line of each row:
CSV (plain or gzip, UTF-8 or Windows-1252), batches of police.uk street files, XLSX."""

from __future__ import annotations

import csv
import functools
import re
import zipfile
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from geo_csp import schema
from geo_csp._errors import InputFileError
from geo_csp.ingest import _limits
from geo_csp.ingest._limits import GUNZIP_ERRORS, check_expansion, gunzip_bounded
from geo_csp.ingest.inputs import Unit


@dataclass(frozen=True)
class RawTable:
    """An input's rows as text, each with its physical line, and the malformed records it held."""

    header: list[str]
    table: pa.Table  # every column as string ("" for empty)
    lines: np.ndarray  # physical line of each table row
    malformed_lines: np.ndarray
    malformed_text: list[str]
    notes: tuple[str, ...] = ()  # what the reader chose or repaired (the sheet read, an encoding)


def _is_gzip(unit: Unit, raw: bytes) -> bool:
    return unit.name.lower().endswith(".gz") or raw[:2] == b"\x1f\x8b"


def _gzip_error(unit: Unit, exc: BaseException) -> InputFileError:
    return InputFileError(f"{unit.path}: truncated or corrupt gzip ({exc}); download the file again")


def _head(unit: Unit, raw: bytes, size: int = 65536) -> bytes:
    """The first ``size`` bytes of the (decompressed) file, for layout checks."""
    if not _is_gzip(unit, raw):
        return raw[:size]
    stream = zlib.decompressobj(wbits=31)
    try:  # a slice: the stream would otherwise copy the whole rest of the file as its unconsumed tail
        head = stream.decompress(memoryview(raw)[: _limits.GUNZIP_IN_BYTES], size)
    except zlib.error as exc:
        raise _gzip_error(unit, exc) from exc
    if len(head) < size and not stream.eof:
        raise _gzip_error(unit, EOFError("the compressed stream ends early"))
    return head


#: What inflating a gzip input that is not whole raises (with ISA-L, its own error too).
_GUNZIP_FAILURES: tuple[type[BaseException], ...] = (EOFError, OSError, zlib.error, *GUNZIP_ERRORS)


def _decompress(unit: Unit, raw: bytes) -> bytes:
    if _is_gzip(unit, raw):
        try:
            return gunzip_bounded(unit.path, raw)
        except _GUNZIP_FAILURES as exc:
            raise _gzip_error(unit, exc) from exc
    return raw


def _check_text(unit: Unit, head: bytes) -> None:
    if not head.strip():
        raise InputFileError(f"{unit.path}: the file is empty; nothing to ingest (check the download)")
    if b"\x00" in head or head[:2] == b"PK" or head[:4] == b"%PDF":
        raise InputFileError(
            f"{unit.path}: not a CSV (binary content); give a police.uk CSV, .csv.gz, .zip, or an"
            " XLSX partner file with --mapping"
        )


def checked_header(unit: Unit, raw_bytes: bytes) -> list[str]:
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
    unit: Unit,
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
                    column_names=names,
                    skip_rows=1,
                    encoding=encoding,
                    use_threads=len(source) > _limits.CSV_THREADS_MIN_BYTES,
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


def read_csv_rows(unit: Unit, raw: bytes, header: list[str]) -> RawTable:
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
        return RawTable(header, table, lines if keep is None else lines[keep], np.empty(0, np.int64), [], notes)
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
    return RawTable(header, table, line[good], line[bad], bad_text, notes)


def _records(unit: Unit, data: bytes) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
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


def _as_utf8(unit: Unit, data: bytes) -> tuple[bytes, tuple[str, ...]]:
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
    notes: tuple[str, ...] = ()
    if utf8:
        notes = (
            f"{unit.path}: mixes encodings: {cp1252:,} line(s) are not UTF-8 and were read as"
            f" Windows-1252, {utf8:,} line(s) as UTF-8; check the accented letters of those rows",
        )
    return b"\n".join(out), notes


class NotBatchable(Exception):
    """A batch of street files that cannot be parsed as one text (each file is then read alone)."""


def street_text(unit: Unit, raw_bytes: bytes) -> bytes | None:
    """The decompressed text of a police.uk street file that can join a batch, else None.

    A file joins when its header is the street header and every carriage return ends a line
    (``\r\n``): pyarrow also ends rows at a lone ``\r``, which would move rows between files.
    Raises :class:`InputFileError` for an empty or binary file, as a read on its own would.
    """
    if unit.name.lower().endswith((".xlsx", ".xlsm")):
        return None
    if tuple(checked_header(unit, raw_bytes)) != schema.POLICE_UK_STREET_HEADER:
        return None
    data = _decompress(unit, raw_bytes)
    return data if b"\r" not in data or data.count(b"\r") == data.count(b"\r\n") else None


def read_street_batch(units: Sequence[Unit], texts: Sequence[bytes]) -> tuple[RawTable, np.ndarray]:
    """Parse several police.uk street files as one table; the rows and the file index of each.

    Small files' bodies (header line dropped) are joined and parsed by one pyarrow read. With no
    malformed row and no lone ``\r``, a file's rows are exactly its physical lines (blank lines are
    kept as null rows), so the row count per file is its count of line ends; a line break inside a
    quoted value merges lines and shows as a total that does not add up. Larger files are parsed
    one by one, each checked as a file read alone is, and their tables put end to end without a
    copy. Any doubt raises :class:`NotBatchable`, and the caller reads the files one by one.
    """
    header = list(schema.POLICE_UK_STREET_HEADER)
    invalid: list[str] = []

    def on_invalid(row: Any) -> str:
        invalid.append(row.text)
        return "skip"

    def parse(unit: Unit, text: bytes) -> pa.Table:
        try:
            return _parse_csv(
                unit, text, header, ignore_empty=False, gz=False, on_invalid=on_invalid, encodings=("utf8",)
            )
        except InputFileError as exc:
            raise NotBatchable(str(exc)) from exc

    if len(texts) == 1 or min(len(t) for t in texts) >= _limits.JOIN_MAX_BYTES:
        tables = []
        for unit, text in zip(units, texts, strict=True):
            tables.append(parse(unit, text))
            if invalid or _has_line_breaks_in_values(text, tables[-1]):
                raise NotBatchable("rows do not match the file's lines")
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
            raise NotBatchable("rows do not match the files' lines")
    file_idx = np.repeat(np.arange(len(units), dtype=np.int64), counts)
    starts = np.repeat(np.cumsum(counts) - counts, counts)
    lines = np.arange(table.num_rows, dtype=np.int64) - starts + 2
    table, keep = _drop_blank_rows(table)
    if keep is not None:
        file_idx, lines = file_idx[keep], lines[keep]
    return RawTable(header, table, lines, np.empty(0, np.int64), []), file_idx


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


def read_xlsx(unit: Unit, raw: bytes, sheet: str | None) -> RawTable:
    """The rows of one sheet of a workbook: ``sheet`` by name, else the first (with a note naming
    it when the workbook has more than one)."""
    import io

    try:
        with zipfile.ZipFile(io.BytesIO(raw)) as zf:
            infos = zf.infolist()
    except (zipfile.BadZipFile, ValueError) as exc:
        raise InputFileError(f"{unit.path}: not a readable XLSX workbook ({exc}); re-save it in Excel") from exc
    for info in infos:  # a workbook is a zip of XML: refuse a bomb before openpyxl inflates it
        check_expansion(f"{unit.path}!{info.filename}", info.file_size, info.compress_size, declared=True)
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
    return RawTable(header, table.rename_columns(header), lines[keep], np.empty(0, np.int64), [], notes)
