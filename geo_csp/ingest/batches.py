"""Inputs read, hashed, validated and encoded in batches (police.uk street files together, others alone),
split back into one result per file, on a small thread pool in input order."""

from __future__ import annotations

import hashlib
import itertools
import zipfile
import zlib
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from geo_csp import schema
from geo_csp._errors import InputFileError
from geo_csp.ingest import _limits
from geo_csp.ingest.inputs import Unit
from geo_csp.ingest.parsers import SnapPoints
from geo_csp.ingest.quarantine import Parsed, assemble
from geo_csp.ingest.raw import NotBatchable, RawTable, read_street_batch, street_text
from geo_csp.ingest.readers import parse_street, parse_unit
from geo_csp.ingest.writer import Staged
from geo_csp.column_mapping import ColumnMapping
from geo_csp.store import (
    encode_parts,
    part_key,
)


@dataclass(frozen=True)
class Prepared:
    """One input read and validated: what the writer needs of it (``staged``; its ``encoded``
    parts when prepared with ``encode=True``) and its rows (None when its bytes are already stored).

    Encoded for the store from a file that gives its part key (a police.uk monthly file),
    ``accepted`` has :data:`geo_csp.store.PART_ROWS_SCHEMA`: the columns the part holds.
    """

    staged: Staged
    accepted: pa.Table | None = None
    quarantined: pa.Table | None = None


def prepare(
    unit: Unit,
    *,
    known: Callable[[str], str | None],
    mapping: ColumnMapping | None,
    encode: bool = False,
) -> Prepared:
    """Read, hash, parse and validate one input (thread-safe: touches no store file)."""
    item = prepare_batch([unit], known=known, mapping=mapping, encode=encode)[0]
    if isinstance(item, Exception):
        raise item
    return item


def prepare_batch(
    units: Sequence[Unit],
    *,
    known: Callable[[str], str | None],
    mapping: ColumnMapping | None,
    encode: bool = False,
    points: SnapPoints | None = None,
) -> list[Prepared | Exception]:
    """Read, hash, parse and validate several inputs (thread-safe: touches no store file).

    police.uk street files are parsed and validated together, as one table (every check, the
    coordinate projection and the table building run once for the batch), and split back per file;
    other files, and street files the batch cannot place row by row, are read one by one. A file
    that cannot be read gives its exception in its place (the files after it are not read), so the
    caller raises the first failure in input order. ``encode`` also encodes each file's rows as
    Parquet (:func:`geo_csp.store.encode_parts`), so the thread staging the files only writes bytes.
    ``points`` (shared by the batches of one run) projects each distinct street point once.
    """
    results: list[Prepared | Exception | None] = []
    street: list[tuple[int, bytes, str, bytes]] = []  # position, raw bytes, sha, text
    for unit in units:
        try:
            raw_bytes = _read_unit(unit)
            sha = hashlib.sha256(raw_bytes).hexdigest()
            if known(sha) is not None:
                results.append(Prepared(Staged(unit.path, sha, len(raw_bytes))))
                continue
            text = street_text(unit, raw_bytes)
            if text is None:
                results.append(_prepare_alone(unit, raw_bytes, sha, mapping, encode=encode))
            else:
                street.append((len(results), raw_bytes, sha, text))
                results.append(None)
        except Exception as exc:  # raised by the caller when this file's turn comes
            results.append(exc)
            break
    if street:
        _prepare_street(units, street, results, mapping=mapping, encode=encode, points=points)
    return results  # type: ignore[return-value]


def _prepare_street(
    units: Sequence[Unit],
    street: list[tuple[int, bytes, str, bytes]],
    results: list[Prepared | Exception | None],
    *,
    mapping: ColumnMapping | None,
    encode: bool,
    points: SnapPoints | None,
) -> None:
    """Fill ``results`` at the street files' positions: parsed as one batch, or one by one when the batch
    cannot place them row by row (then a failure ends ``results`` there)."""
    batch = [units[pos] for pos, *_ in street]
    try:
        raw, file_idx = read_street_batch(batch, [text for *_, text in street])
    except NotBatchable:
        for pos, raw_bytes, sha, _ in street:
            try:
                results[pos] = _prepare_alone(units[pos], raw_bytes, sha, mapping, encode=encode)
            except Exception as exc:
                results[pos] = exc
                del results[pos + 1 :]
                break
    else:
        parsed = parse_street(raw, [u.name for u in batch], file_idx, points=points)
        shas = [sha for _, _, sha, _ in street]
        prepared = _split(batch, shas, [len(b) for _, b, _, _ in street], raw, parsed, file_idx, encode=encode)
        for (pos, *_), item in zip(street, prepared, strict=True):
            results[pos] = item


def _read_unit(unit: Unit) -> bytes:
    try:
        return unit.read()
    except (zipfile.BadZipFile, zlib.error, EOFError, OSError) as exc:
        raise InputFileError(f"{unit.path}: cannot be read ({exc}); download it again") from exc


def _prepare_alone(unit: Unit, raw_bytes: bytes, sha: str, mapping: ColumnMapping | None, *, encode: bool) -> Prepared:
    """One input read and validated on its own (partner, stop-and-search, or an unusual street file)."""
    raw, parsed = parse_unit(unit, raw_bytes, mapping)
    return _split([unit], [sha], [len(raw_bytes)], raw, parsed, np.zeros(parsed.n, np.int64), encode=encode)[0]


def _split(
    units: Sequence[Unit],
    shas: Sequence[str],
    sizes: Sequence[int],
    raw: RawTable,
    parsed: Parsed,
    file_idx: np.ndarray,
    *,
    encode: bool,
) -> list[Prepared]:
    """Accepted and quarantined rows of files read together, split back into one result per file.

    Rows are in file order, so each file's rows are a zero-copy slice; counts, reasons, forces and
    months per file come from one vectorised pass over the batch.
    """
    k = len(units)
    # the part key of every file known from its name (police.uk): the parts are encoded without
    # building the columns they do not hold
    keys_known = encode and parsed.file_forces is not None and parsed.file_months is not None
    accepted, quarantined, acc_file, q_file = assemble(
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
        for f in np.flatnonzero(n_q):  # files with quarantined rows only
            reasons[f] = {str(names[c]): int(counts[f, c]) for c in np.argsort(names) if counts[f, c]}
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
        staged = Staged(
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
        out.append(Prepared(staged, acc, quar))
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


def batches_of(units: Sequence[Unit]) -> list[list[Unit]]:
    """Consecutive units grouped into batches of at most :data:`_limits.BATCH_BYTES` (estimated text) and
    :data:`_limits.BATCH_FILES` files each."""
    batches: list[list[Unit]] = []
    current: list[Unit] = []
    size = 0
    for unit in units:
        text = unit.size * (_limits.GZIP_TEXT_RATIO if unit.name.lower().endswith(".gz") else 1)
        if current and (size + text > _limits.BATCH_BYTES or len(current) >= _limits.BATCH_FILES):
            batches.append(current)
            current, size = [], 0
        current.append(unit)
        size += text
    if current:
        batches.append(current)
    return batches


def in_order(fn: Callable[[Any], Any], items: Sequence[Any]) -> Iterator[Any]:
    """``fn`` over ``items`` on a small thread pool, yielded in input order.

    At most ``_limits.PREPARE_THREADS + 1`` items are in flight (peak memory does not grow with the number
    of items). An error is raised when its item's turn comes, so the first failing one in input
    order is the one reported, as in a sequential run; items not started yet are then cancelled.
    """
    if len(items) <= 1:
        yield from map(fn, items)
        return
    pool = ThreadPoolExecutor(max_workers=_limits.PREPARE_THREADS, thread_name_prefix="geo-csp-ingest")
    try:
        pending: deque[Future[Any]] = deque()
        queue = iter(items)
        for item in itertools.islice(queue, _limits.PREPARE_THREADS + 1):
            pending.append(pool.submit(fn, item))
        while pending:
            result = pending.popleft().result()
            for item in itertools.islice(queue, 1):
                pending.append(pool.submit(fn, item))
            yield result
    finally:
        pool.shutdown(wait=True, cancel_futures=True)
