"""The per-row results of a reader assembled into accepted rows and quarantined rows (reason, message, raw text)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from geo_csp import qualifiers, schema
from geo_csp.ingest.parsers import Coordinates
from geo_csp.ingest.raw import RawTable
from geo_csp.store import (
    PART_ROWS_SCHEMA,
)


@dataclass
class Parsed:
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


#: Columns a reader may leave out (null); :attr:`Parsed.optional` holds those it reads.
_OPTIONAL_COLUMNS = (
    schema.LOCATION,
    schema.LSOA_CODE,
    schema.LSOA_NAME,
    schema.CRIME_ID,
    schema.OUTCOME,
    schema.CONTEXT,
    schema.OBJECT_OF_SEARCH,
    *qualifiers.QUALIFIER_COLUMNS,
    schema.SEVERITY,
    schema.TRAVEL_MODE,
)


def assemble(
    paths: Sequence[str],
    raw: RawTable,
    parsed: Parsed,
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
    ok_idx = np.flatnonzero(parsed.ok)
    acc_file = file_idx[ok_idx]
    accepted = _accepted_table(raw, parsed, ok_idx, file_ids=file_ids, acc_file=acc_file, key_columns=key_columns)
    # Quarantine: validation failures, then malformed rows (only a file read alone has those).
    rows = _quarantined_rows(raw, parsed, file_idx)
    quarantine, q_idx = _quarantine_table(rows, paths=paths, file_ids=file_ids, source=parsed.source)
    return accepted, quarantine, acc_file, q_idx


def _take_rows(arr: pa.Array | None, ok_idx: np.ndarray, *, all_ok: bool, typ: pa.DataType) -> pa.Array:
    """The accepted rows (``ok_idx``) of a per-row column, all nulls of ``typ`` when the reader has none."""
    if arr is None:
        return pa.nulls(len(ok_idx), typ)
    return arr if all_ok else arr.take(pa.array(ok_idx))  # most files quarantine nothing: no copy


def _accepted_table(
    raw: RawTable,
    parsed: Parsed,
    ok_idx: np.ndarray,
    *,
    file_ids: Sequence[str],
    acc_file: np.ndarray,
    key_columns: bool,
) -> pa.Table:
    """The accepted rows as an incident table.

    Parameters
    ----------
    raw, parsed
        The rows of all files read together.
    ok_idx
        The rows that passed every check.
    file_ids, acc_file
        The id of each file, and the file (index into ``file_ids``) of each accepted row.
    key_columns
        False: without the columns a store part does not hold (:data:`geo_csp.store.PART_ROWS_SCHEMA`).
    """
    n_ok = len(ok_idx)
    acc_lines = raw.lines[ok_idx]
    all_ok = n_ok == parsed.n

    def col(arr: pa.Array | None, typ: pa.DataType = pa.string()) -> pa.Array:
        return _take_rows(arr, ok_idx, all_ok=all_ok, typ=typ)

    arrays = {
        schema.OCCURRED_DATE: col(parsed.occurred_date, pa.date32()),
        schema.OCCURRED_AT: col(parsed.occurred_at, pa.timestamp("us", tz="UTC")),
        schema.OCCURRED_FROM: col(parsed.occurred_from, pa.timestamp("us", tz="UTC")),
        schema.OCCURRED_TO: col(parsed.occurred_to, pa.timestamp("us", tz="UTC")),
        schema.CRIME_TYPE: col(parsed.crime_type),
        schema.LON: pa.array(parsed.lon[ok_idx], from_pandas=True),
        schema.LAT: pa.array(parsed.lat[ok_idx], from_pandas=True),
        schema.EASTING: pa.array(parsed.east[ok_idx], from_pandas=True),
        schema.NORTHING: pa.array(parsed.north[ok_idx], from_pandas=True),
        schema.LOCATED: pa.array(parsed.located[ok_idx]),
        schema.WEIGHT: pa.array(np.ones(n_ok) if parsed.weight is None else parsed.weight[ok_idx]),
        schema.LINE: pa.array(acc_lines, pa.int64()),
    }
    null_str = pa.nulls(n_ok, pa.string())
    for name in _OPTIONAL_COLUMNS:
        arr = parsed.optional.get(name)
        typ = schema.INCIDENT_SCHEMA.field(name).type
        arrays[name] = (null_str if typ == pa.string() else pa.nulls(n_ok, typ)) if arr is None else col(arr, typ)
    if key_columns:
        file_id_col = per_file(file_ids, acc_file)
        arrays |= {
            schema.INCIDENT_ID: pc.binary_join_element_wise(
                file_id_col, pc.cast(pa.array(acc_lines), pa.string()), ":"
            ),
            schema.SOURCE: pa.repeat(pa.scalar(parsed.source, pa.string()), n_ok),
            # a reader gives the forces per file exactly when it leaves the per-row column out
            schema.FORCE: col(parsed.force) if parsed.file_forces is None else per_file(parsed.file_forces, acc_file),
            schema.MONTH: col(parsed.month),
            schema.FILE_ID: file_id_col,
        }
    table_schema = schema.INCIDENT_SCHEMA if key_columns else PART_ROWS_SCHEMA
    return pa.table([arrays[f.name] for f in table_schema], schema=table_schema)


@dataclass(frozen=True)
class _QuarantinedRows:
    """The quarantined rows of files read together, unordered: per row its line, reason code, message,
    raw text (JSON) and file (index into the files)."""

    lines: list[int]
    reasons: list[str]
    messages: list[str]
    raws: list[str]
    file_idx: np.ndarray


def _failure_messages(bad_table: pa.Table, bad_reason: np.ndarray, details: dict[str, list[str]]) -> np.ndarray:
    """The message of each row that failed a check: its reason's text, then the raw columns that reason shows.

    Parameters
    ----------
    bad_table
        The raw columns of the failed rows.
    bad_reason
        Each failed row's reason code.
    details
        Reason code -> the raw columns shown in its message.
    """
    message = np.empty(len(bad_reason), dtype=object)
    for code in np.unique(bad_reason):  # one iteration per reason code
        sel = np.flatnonzero(bad_reason == code)
        shown = details.get(code, [])
        parts: list[Any] = [schema.REASONS[code]]
        for i, name in enumerate(shown):
            parts += [("; " if i == 0 else ", ") + f"{name}=", bad_table[name].take(pa.array(sel))]
        joined = (
            pc.binary_join_element_wise(*parts, "", null_handling="replace")
            if shown
            else pa.array([parts[0]] * len(sel))
        )
        message[sel] = np.asarray(joined.to_pylist(), dtype=object)
    return message


def _quarantined_rows(raw: RawTable, parsed: Parsed, file_idx: np.ndarray) -> _QuarantinedRows:
    """The rows that failed a check (in row order), then the malformed rows (of the first file).

    Parameters
    ----------
    raw, parsed
        The rows of all files read together.
    file_idx
        The file of each row of ``raw``.
    """
    bad_idx = np.flatnonzero(~parsed.ok)
    lines: list[int] = []
    reasons: list[str] = []
    messages: list[str] = []
    raws: list[str] = []
    q_file = [file_idx[bad_idx]]
    if len(bad_idx):
        bad_table = raw.table.take(pa.array(bad_idx))
        bad_reason = parsed.reason[bad_idx]
        message = _failure_messages(bad_table, bad_reason, parsed.details)
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
    return _QuarantinedRows(lines=lines, reasons=reasons, messages=messages, raws=raws, file_idx=q_idx)


def _quarantine_table(
    rows: _QuarantinedRows, *, paths: Sequence[str], file_ids: Sequence[str], source: str
) -> tuple[pa.Table, np.ndarray]:
    """The quarantine table ordered by file, then line, and the file index of each of its rows.

    Parameters
    ----------
    rows
        The quarantined rows (:func:`_quarantined_rows`).
    paths, file_ids
        Per file: the path as reported and the id.
    source
        The source of the rows.
    """
    lines, q_idx = rows.lines, rows.file_idx
    quarantine = pa.table(
        {
            "file": per_file(paths, q_idx),
            schema.FILE_ID: per_file(file_ids, q_idx),
            schema.LINE: pa.array(lines, pa.int64()),
            schema.SOURCE: pa.repeat(pa.scalar(source, pa.string()), len(lines)),
            "reason": pa.array(rows.reasons, pa.string()),
            "message": pa.array(rows.messages, pa.string()),
            "raw": pa.array(rows.raws, pa.string()),
        },
        schema=schema.QUARANTINE_SCHEMA,
    )
    if len(lines):
        order = np.lexsort((np.asarray(lines, np.int64), q_idx))
        quarantine, q_idx = quarantine.take(pa.array(order)), q_idx[order]
    return quarantine, q_idx


def per_file(values: Sequence[str], file_idx: np.ndarray) -> pa.Array:
    """A per-file text value spread to rows by their file index."""
    if len(values) == 1:
        return pa.repeat(pa.scalar(values[0], pa.string()), len(file_idx))
    return pa.array(values, pa.string()).take(pa.array(file_idx))


def dictionary_codes(values: pa.Array | pa.ChunkedArray) -> tuple[np.ndarray, pa.Array]:
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


def per_distinct(values: pa.Array | pa.ChunkedArray, check: Callable[[pa.Array], np.ndarray]) -> np.ndarray:
    """``check`` applied once per distinct value and spread back to every row.

    police.uk repeats months, crime types and codes on thousands of rows each.
    """
    codes, distinct = dictionary_codes(values)
    out: np.ndarray = np.asarray(check(distinct))[codes]
    return out


def first_reason(checks: list[tuple[str, np.ndarray]], coords: Coordinates) -> tuple[np.ndarray, np.ndarray]:
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
