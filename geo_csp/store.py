"""The incident store: partitioned Parquet files, a manifest that is the commit point, and readers.

Layout under ``store_dir``::

    incidents/source=<s>/force=<f>/<YYYY-MM>_<file_id>.parquet         accepted rows (INCIDENT_SCHEMA, see below)
    quarantine/<file_id>.parquet                                       rejected rows (QUARANTINE_SCHEMA)
    manifest.json                                                      every input and its parts
    reports/<timestamp>.json                                           one report per ingest
    config.json                                                        borough settings (store_config)
    .lock                                                              present while an ingest writes

Readers only read the files the manifest lists. A writer holds ``.lock``, writes new part files
under names no manifest lists yet and fsyncs each on the writing threads while the next files are
prepared, so at the commit every staged file is already durable; it then replaces ``manifest.json`` atomically
(``os.replace``, fsynced with its folder) and only then deletes superseded parts. An ingest killed
at any point therefore leaves the previous manifest and every file it lists untouched; leftover
unlisted files are removed by the next ingest.

A part holds the rows of one input file in one (source, force, month). The columns every row of
a part shares are not repeated in it, as in any Hive-style partitioned Parquet store: ``source`` and
``force`` are in its folder names, ``month`` and ``file_id`` in its file name (all four in its manifest
entry), and ``incident_id`` is ``<file_id>:<line>``; a column with no value in the part (the times of
police.uk rows, for example) is left out too. The readers here (:func:`read_parts`,
:func:`read_incidents`, :func:`read_store_dask`) put them all back. Parts written
before this, with every column, read the same way.

Revisions: the unit of replacement is the partition key (source, force, month). A file whose accepted
rows fall in a key that an older file already holds replaces that older file's part for the key (the
manifest records both directions). A file all of whose parts were replaced becomes inactive and its
quarantine rows are dropped from :func:`read_quarantine`; a partly replaced file keeps its quarantine.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import functools
import json
import os
import secrets
import socket
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
import pyarrow.parquet as pq

from geo_csp import schema, settings
from geo_csp._errors import ParameterError, SchemaError, StoreError, StoreNotFoundError

if TYPE_CHECKING:
    import geopandas as gpd

MANIFEST_NAME = "manifest.json"
CONFIG_NAME = "config.json"
LOCK_NAME = ".lock"
MANIFEST_FORMAT = "geo-csp-store"
MANIFEST_VERSION = 1
# Test hook: seconds to sleep after the parts are written and before the manifest is replaced, so a
# test can kill a real ingest process at the worst moment. Unset in normal use.
PAUSE_ENV = "GEO_CSP_INGEST_PAUSE_BEFORE_COMMIT_S"


# --------------------------------------------------------------------------------------------------
# Small atomic file helpers
# --------------------------------------------------------------------------------------------------
def _fsync_dir(path: Path) -> None:
    with contextlib.suppress(OSError):
        fd = os.open(path, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)


def write_json_atomic(path: Path, data: Any, *, durable: bool = True) -> None:
    """Replace ``path`` atomically; ``durable`` also fsyncs the file and its folder (commit points)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{secrets.token_hex(4)}")
    with open(tmp, "w", encoding="utf-8") as fh:
        # Compact, in one string: json.dumps without indent runs the C encoder (json.dump, or any
        # indent, runs the Python one: a tenth of a second per 1,000 inputs in the manifest)
        fh.write(json.dumps(data, separators=(",", ":")))
        if durable:
            fh.flush()
            os.fsync(fh.fileno())
    os.replace(tmp, path)
    if durable:
        _fsync_dir(path.parent)


_UNIQUE_TEXT = frozenset({schema.CRIME_ID, "raw", "message"})
# Snappy only where it pays (measured per column on police.uk parts; figures in benchmarks/README.md):
# locations, LSOAs, the all-ones weight and the quarantine's text. Coordinates, the 64-hex-digit crime
# ids and small dictionaries gain little: compressing them costs time for nothing. (Parts hold no
# incident ids: see the module docstring.)
_COMPRESSED = frozenset({schema.LOCATION, schema.LSOA_CODE, schema.LSOA_NAME, schema.WEIGHT, "raw", "message"})
# Line numbers rise by one from row to row (by a few where rows were quarantined): delta-encoded
# they take a fraction of a byte a row and encode faster than with snappy.
_DELTA = frozenset({schema.LINE})
# Min/max statistics only on the columns reads filter on (``located``; the times for date ranges):
# parts are chosen through the manifest, so statistics elsewhere prune nothing.
_STATISTICS = frozenset({schema.LOCATED, schema.OCCURRED_DATE, schema.OCCURRED_AT})


def _parquet_options(table: pa.Table) -> dict[str, Any]:
    """Per-column Parquet choices, measured on police.uk parts (worked out once per schema).

    Text that repeats heavily (crime types, locations, LSOAs, outcomes) is dictionary-encoded;
    crime ids are unique (a dictionary is waste), and dictionaries of coordinates cost a fifth of the
    write time for ~2% of size. Compression and statistics only where they pay
    (:data:`_COMPRESSED`, :data:`_STATISTICS`): about 6% less encoding time per part than snappy
    and statistics on every column, for the same size. Line numbers are delta-encoded
    (:data:`_DELTA`): 4% of a police.uk part's bytes saved. Any Parquet reader reads the parts, and
    stores written with the earlier choices read as before.
    """
    return _schema_parquet_options(table.schema)


@functools.lru_cache(maxsize=8)
def _schema_parquet_options(table_schema: pa.Schema) -> dict[str, Any]:
    text = [f.name for f in table_schema if pa.types.is_string(f.type)]
    return {
        "use_dictionary": [c for c in text if c not in _UNIQUE_TEXT],
        "write_statistics": [c for c in table_schema.names if c in _STATISTICS],
        "compression": {c: ("snappy" if c in _COMPRESSED else "none") for c in table_schema.names},
        "column_encoding": {c: "DELTA_BINARY_PACKED" for c in table_schema.names if c in _DELTA} or None,
    }


def _parquet_bytes(table: pa.Table) -> pa.Buffer:
    """A table encoded as a Parquet file in memory (pyarrow releases the GIL while encoding)."""
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, **_parquet_options(table))
    return sink.getvalue()


PART_KEY_COLUMNS: Final = (schema.SOURCE, schema.FORCE, schema.MONTH, schema.FILE_ID)
"""The columns every row of a part shares: written in its path and manifest entry, not in the part."""

_NOT_IN_PARTS = frozenset({*PART_KEY_COLUMNS, schema.INCIDENT_ID})
"""Never written into a part: its key, and ``incident_id`` (``<file_id>:<line>``)."""

_READ_SCHEMA = pa.schema([f for f in schema.INCIDENT_SCHEMA if f.name != schema.INCIDENT_ID])
"""What a part is read as (``incident_id`` is derived from ``file_id`` and ``line``)."""

PART_ROWS_SCHEMA: Final = pa.schema([f for f in schema.INCIDENT_SCHEMA if f.name not in _NOT_IN_PARTS])
"""Accepted rows without the columns a part does not hold (its key and ``incident_id``): what
:func:`encode_parts` also takes, with the key, from a reader that knows it (a police.uk monthly file)
and so never builds those columns."""


def _part_columns(table: pa.Table) -> pa.Table:
    """The columns of one part's rows that are written into it: not the part's key
    (:data:`PART_KEY_COLUMNS`), not ``incident_id`` (``<file_id>:<line>``), not a column with no
    value at all (read back as nulls). A third less encoding for a police.uk part."""
    drop = [
        name
        for name, col in zip(table.column_names, table.columns, strict=True)
        if name in _NOT_IN_PARTS or (col.null_count == len(col) and len(col))
    ]
    return table.drop_columns(drop)


def _write_bytes(data: pa.Buffer, path: Path) -> None:
    """Write a part under its final name and fsync it (on a writing thread; no temporary name).

    A part is invisible until the manifest lists it, so it needs no rename: a crash before the
    commit leaves an unlisted file that the next ingest deletes. It is fsynced here, on the writing
    thread, while the next files are still being prepared, so :meth:`StoreTransaction.commit` finds
    every staged part durable and replaces the manifest without waiting. (Syncing them all at the
    commit instead leaves the cores idle while it waits, and the dirty pages piling up until then
    make the writes themselves slower: ``benchmarks/README.md``.) One write of the
    encoded bytes costs less than streaming the encoder into a Python file object. A missing folder
    is created (several threads may race to).
    """
    try:
        fh = open(path, "wb")  # noqa: SIM115 - closed below
    except FileNotFoundError:
        path.parent.mkdir(parents=True, exist_ok=True)
        fh = open(path, "wb")  # noqa: SIM115
    with fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())


def _part_path(source: str, force: str, month: str, file_id: str) -> str:
    """Where a part lives in the store, relative to it: one folder per source and force, the month
    leading the file name (``source=<s>/force=<f>/<YYYY-MM>_<file_id>.parquet``).

    The month is a column of every part too, and readers find parts through the manifest, so a folder
    per month would add nothing but a directory to create for every police.uk file (a tenth of the
    national ingest's time went on them). Stores written with the earlier ``month=<YYYY-MM>/``
    folders read as before: the manifest holds each part's path.
    """
    return f"incidents/source={source}/force={force}/{month}_{file_id}.parquet"


@dataclass(frozen=True)
class EncodedParts:
    """One input's rows split by (source, force, month) and encoded as Parquet, not yet written.

    Built by :func:`encode_parts` without touching the store (so on any thread), then written by
    :meth:`StoreTransaction.stage_encoded`.
    """

    parts: tuple[tuple[tuple[str, str, str], int, int, pa.Buffer], ...]  # key, rows, unlocated, bytes
    quarantine: pa.Buffer | None


def part_key(source: str, forces: Sequence[str], months: Sequence[str]) -> tuple[str, str, str] | None:
    """The one (source, force, month) partition holding all of a file's accepted rows, from their
    distinct forces and months; None when they span several partitions (or there are none)."""
    return (source, forces[0], months[0]) if len(forces) == len(months) == 1 else None


def encode_parts(accepted: pa.Table, quarantined: pa.Table, *, key: tuple[str, str, str] | None = None) -> EncodedParts:
    """Split accepted rows by (source, force, month) and encode them and the quarantine as Parquet.

    Parameters
    ----------
    accepted
        Accepted rows, :data:`schema.INCIDENT_SCHEMA`, or :data:`PART_ROWS_SCHEMA` with ``key``.
    quarantined
        Quarantined rows, :data:`schema.QUARANTINE_SCHEMA`.
    key
        The (source, force, month) of every accepted row, when the caller already knows it
        (:func:`part_key`; a police.uk monthly file): the rows are then one part, without looking at
        the columns.

    Raises
    ------
    SchemaError
        ``accepted`` has neither schema, or :data:`PART_ROWS_SCHEMA` without a ``key``.
    """
    if accepted.schema != schema.INCIDENT_SCHEMA and not (
        accepted.schema == PART_ROWS_SCHEMA and (key is not None or not accepted.num_rows)
    ):
        raise SchemaError("accepted rows do not have schema.INCIDENT_SCHEMA (or store.PART_ROWS_SCHEMA and a key)")
    if not accepted.num_rows:
        split = []
    elif key is not None:
        split = [(key, accepted)]
    else:
        split = list(_partitions(accepted))
    if len(split) <= 1:
        encoded = [_parquet_bytes(_part_columns(part_table)) for _, part_table in split]
    else:  # a multi-month file: its parts encode side by side (pyarrow releases the GIL)
        with ThreadPoolExecutor(max_workers=2) as pool:
            encoded = list(
                pool.map(lambda t: _parquet_bytes(_part_columns(t)), [part_table for _, part_table in split])
            )
    parts = []
    for (key, part_table), data in zip(split, encoded, strict=True):
        located = int(pc.sum(part_table[schema.LOCATED]).as_py() or 0)
        parts.append((key, part_table.num_rows, part_table.num_rows - located, data))
    return EncodedParts(tuple(parts), _parquet_bytes(quarantined) if quarantined.num_rows else None)


_WRITE_THREADS = 4
"""Threads writing and fsyncing staged files: both release the GIL, and several syncs at once
share journal commits (and, on a disk busy with other work, wait side by side rather than one
after another)."""

_WRITES_IN_FLIGHT = 64
"""Staged files queued for writing at most (each holds its encoded bytes until written)."""


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")


# --------------------------------------------------------------------------------------------------
# Manifest
# --------------------------------------------------------------------------------------------------
def _empty_manifest() -> dict[str, Any]:
    return {"format": MANIFEST_FORMAT, "version": MANIFEST_VERSION, "updated_at": None, "files": {}}


def read_manifest(store_dir: str | Path) -> dict[str, Any]:
    """The store's manifest: every input ever ingested, its counts, parts and revisions.

    ``files`` maps file_id to ``{path, sha256, size, source, forces, months, rows_read, accepted,
    unlocated, quarantined, reasons, ingested_at, active, parts: [{path, source, force, month, rows,
    unlocated}], quarantine, superseded: [{file_id, source, force, month, rows}], superseded_by}``.

    Raises
    ------
    StoreNotFoundError
        No store (no manifest) at ``store_dir``.
    StoreError
        The manifest is not readable.
    """
    path = Path(store_dir) / MANIFEST_NAME
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError as exc:
        raise StoreNotFoundError(
            f"no store at {store_dir} (no {MANIFEST_NAME}); create one with `geo-csp ingest PATH"
            f" --store {store_dir}` or `geo-csp demo`"
        ) from exc
    try:
        manifest: dict[str, Any] = json.loads(text)
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path} is not valid JSON ({exc}); restore it from a backup") from exc
    if manifest.get("format") != MANIFEST_FORMAT:
        raise StoreError(f"{path} is not a geo-csp store manifest; point --store at a store folder")
    return manifest


def _active_parts(
    manifest: dict[str, Any],
    *,
    sources: str | Sequence[str] | None = None,
    forces: str | Sequence[str] | None = None,
    months: str | Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The parts the manifest lists, each with its input's ``file_id``, in manifest order; only
    those of the given sources, forces and months when given."""
    want = [
        (key, wanted)
        for key, values in (("source", sources), ("force", forces), ("month", months))
        if (wanted := _as_set(values)) is not None
    ]
    return [
        {**part, "file_id": fid}
        for fid, entry in manifest["files"].items()
        for part in entry["parts"]
        if all(part[key] in values for key, values in want)
    ]


# --------------------------------------------------------------------------------------------------
# Writing: one transaction per ingest
# --------------------------------------------------------------------------------------------------
class StoreTransaction:
    """An exclusive write session on a store; use through :func:`store_transaction`.

    Stage files with :meth:`stage_file`, then :meth:`commit`. Leaving the ``with`` block without a
    commit discards every staged file and leaves the store as it was.
    """

    def __init__(self, store_dir: Path) -> None:
        self.store_dir = store_dir
        try:
            self.manifest = read_manifest(store_dir)
        except StoreNotFoundError:
            self.manifest = _empty_manifest()
        self._staged: list[Path] = []
        self._writer: ThreadPoolExecutor | None = None
        self._writes: deque[Future[None]] = deque()
        self._delete_after_commit: list[Path] = []
        self._sha_index = {e["sha256"]: fid for fid, e in self.manifest["files"].items()}
        # (source, force, month) -> file_id holding its active part: a new file's parts find the
        # ones they replace without scanning the manifest (linear, not quadratic, in files).
        self._key_owner = {
            (part["source"], part["force"], part["month"]): fid
            for fid, e in self.manifest["files"].items()
            for part in e["parts"]
        }
        self.committed = False
        self.notes: tuple[str, ...] = ()  # what taking the lock found (a stale lock, leftovers)

    def known_file(self, sha256: str) -> str | None:
        """The file_id already in the store (active or superseded) with these exact bytes."""
        return self._sha_index.get(sha256)

    def stage_file(
        self,
        entry: dict[str, Any],
        accepted: pa.Table,
        quarantined: pa.Table,
    ) -> list[dict[str, Any]]:
        """Write one input's parts and record it in the (uncommitted) manifest.

        Parameters
        ----------
        entry
            Manifest fields of the input (path, sha256, size, counts, ...); ``file_id`` required.
            With ``source``, ``forces`` and ``months`` (the accepted rows' distinct values), a file
            whose rows are one partition is encoded as one part without splitting (:func:`part_key`).
        accepted
            Accepted rows, :data:`schema.INCIDENT_SCHEMA`.
        quarantined
            Quarantined rows, :data:`schema.QUARANTINE_SCHEMA`.

        Returns
        -------
        list of dict
            The (source, force, month) parts this input superseded.
        """
        key = part_key(entry.get("source", ""), entry.get("forces", ()), entry.get("months", ()))
        return self.stage_encoded(entry, encode_parts(accepted, quarantined, key=key))

    def stage_encoded(self, entry: dict[str, Any], encoded: EncodedParts) -> list[dict[str, Any]]:
        """:meth:`stage_file` for rows already encoded by :func:`encode_parts` (on another thread).

        Parameters
        ----------
        entry
            Manifest fields of the input; ``file_id`` required.
        encoded
            The input's encoded parts and quarantine.

        Returns
        -------
        list of dict
            The (source, force, month) parts this input superseded.
        """
        file_id = entry["file_id"]
        files = self.manifest["files"]
        parts: list[dict[str, Any]] = []
        for (source, force, month), rows, unlocated, data in encoded.parts:
            rel = _part_path(source, force, month, file_id)
            path = self.store_dir / rel
            self._staged.append(path)
            self._write(data, path)
            parts.append(
                {"path": rel, "source": source, "force": force, "month": month, "rows": rows, "unlocated": unlocated}
            )
        superseded = self._supersede(file_id, parts)
        quarantine_rel = None
        if encoded.quarantine is not None:
            quarantine_rel = f"quarantine/{file_id}.parquet"
            path = self.store_dir / quarantine_rel
            self._staged.append(path)
            self._write(encoded.quarantine, path)
        files[file_id] = {
            **entry,
            "active": True,
            "parts": parts,
            "quarantine": quarantine_rel,
            "superseded": superseded,
            "superseded_by": [],
        }
        self._sha_index[entry["sha256"]] = file_id
        return superseded

    def _supersede(self, file_id: str, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Replace the older parts of each (source, force, month) of ``parts`` (the input ``file_id``'s):
        the older inputs lose them (and become inactive with none left); returns the parts superseded."""
        files = self.manifest["files"]
        superseded: list[dict[str, Any]] = []
        replaced: dict[str, set[tuple[str, str, str]]] = {}
        for p in parts:
            key = (p["source"], p["force"], p["month"])
            owner = self._key_owner.get(key)
            if owner is not None:
                replaced.setdefault(owner, set()).add(key)
            self._key_owner[key] = file_id
        if len(replaced) > 1:  # in manifest order, as a scan of the manifest would give them
            position = {fid: i for i, fid in enumerate(files)}
            replaced = dict(sorted(replaced.items(), key=lambda item: position[item[0]]))
        for old_id, keys in replaced.items():
            old = files[old_id]
            keep = []
            for part in old["parts"]:
                if (part["source"], part["force"], part["month"]) in keys:
                    superseded.append(
                        {
                            "file_id": old_id,
                            "source": part["source"],
                            "force": part["force"],
                            "month": part["month"],
                            "rows": part["rows"],
                        }
                    )
                    old.setdefault("superseded_by", []).append(
                        {"file_id": file_id, "month": part["month"], "force": part["force"]}
                    )
                    self._delete_after_commit.append(self.store_dir / part["path"])
                else:
                    keep.append(part)
            old["parts"] = keep
            if not keep and old["accepted"]:
                old["active"] = False
                if old.get("quarantine"):
                    self._delete_after_commit.append(self.store_dir / old["quarantine"])
                    old["quarantine"] = None
        return superseded

    def _write(self, data: pa.Buffer, path: Path) -> None:
        """Write a staged file on the writing threads (at most :data:`_WRITES_IN_FLIGHT` queued).

        Writes are independent of the manifest bookkeeping, which stays in the caller's order; a
        disk slowed by other work then delays only the writing threads, not the staging of the next
        files. :meth:`commit` and :meth:`discard` wait for every write first.
        """
        if self._writer is None:
            self._writer = ThreadPoolExecutor(max_workers=_WRITE_THREADS, thread_name_prefix="geo-csp-write")
        while len(self._writes) >= _WRITES_IN_FLIGHT:  # bounded memory: wait for the oldest write
            self._writes.popleft().result()
        self._writes.append(self._writer.submit(_write_bytes, data, path))

    def _finish_writes(self, *, raise_errors: bool = True) -> None:
        """Wait for every queued write; raise the first failure (unless ``raise_errors`` is False)."""
        errors = []
        while self._writes:
            try:
                self._writes.popleft().result()
            except Exception as exc:  # noqa: PERF203 - rare; every write must be waited for
                errors.append(exc)
        if self._writer is not None:
            self._writer.shutdown(wait=True)
            self._writer = None
        if errors and raise_errors:
            raise errors[0]

    def commit(self, report: dict[str, Any] | None = None) -> Path | None:
        """Make the staged files durable, then visible (atomic manifest replace), then tidy up.

        Every staged file was fsynced by its writing thread (:func:`_write_bytes`, several at a
        time, so the file system batches them into shared journal commits), and the writes are
        waited for *before* the manifest that lists them is written, fsynced and renamed into place,
        and its folder fsynced. So when
        the new manifest can be seen after a crash, every part it lists is already on disk; a crash
        earlier leaves the old manifest, whose parts were never touched, plus unlisted files that
        the next ingest removes. The new part folders' entries are made durable by the same journal
        commits on a journalled file system (ext4, xfs), as before.

        Returns
        -------
        Path or None
            The report file written under ``reports/``, if a report was given.
        """
        self._finish_writes()
        pause = os.environ.get(PAUSE_ENV)
        if pause:
            import time

            time.sleep(float(pause))
        self.manifest["updated_at"] = _now()
        write_json_atomic(self.store_dir / MANIFEST_NAME, self.manifest)
        self.committed = True
        listed = {self.store_dir / p["path"] for p in _active_parts(self.manifest)}
        for path in self._delete_after_commit:
            if path not in listed:
                with contextlib.suppress(FileNotFoundError):
                    path.unlink()
        report_path = None
        if report is not None:
            stamp = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%S%fZ")
            report_path = self.store_dir / "reports" / f"{stamp}.json"
            write_json_atomic(report_path, report, durable=False)  # a log, written after the commit
        return report_path

    def discard(self) -> None:
        """Remove every staged file (the manifest was not replaced, so nothing else changes)."""
        self._finish_writes(raise_errors=False)
        for path in self._staged:
            with contextlib.suppress(FileNotFoundError):
                path.unlink()

    def remove_orphans(self) -> int:
        """Delete part, quarantine and temporary files the manifest does not list (crash leftovers)."""
        listed = {self.store_dir / p["path"] for p in _active_parts(self.manifest)}
        listed |= {self.store_dir / e["quarantine"] for e in self.manifest["files"].values() if e.get("quarantine")}
        removed = 0
        for sub in ("incidents", "quarantine"):
            for path in (self.store_dir / sub).rglob("*"):
                if path.is_file() and path not in listed:
                    path.unlink()
                    removed += 1
        for tmp in self.store_dir.glob(f".{MANIFEST_NAME}.tmp-*"):
            tmp.unlink()
            removed += 1
        return removed


def _partitions(table: pa.Table) -> Iterator[tuple[tuple[str, str, str], pa.Table]]:
    """Split rows by (source, force, month), in key order, with one sort and zero-copy slices."""
    keys = pc.binary_join_element_wise(table[schema.SOURCE], table[schema.FORCE], table[schema.MONTH], "\x1f")
    encoded = pc.dictionary_encode(keys)
    if isinstance(encoded, pa.ChunkedArray):
        encoded = encoded.unify_dictionaries().combine_chunks()
    names = encoded.dictionary.to_pylist()
    rank = np.argsort(np.argsort(names))  # dictionary index -> position in key order
    group = rank[encoded.indices.to_numpy(zero_copy_only=False)]
    if (group[1:] >= group[:-1]).all():  # police.uk files come grouped by month: no copy needed
        ordered, sorted_group = table, group
    else:
        order = np.argsort(group, kind="stable")  # keeps file order (line order) within a partition
        ordered, sorted_group = table.take(pa.array(order)), group[order]
    bounds = np.searchsorted(sorted_group, np.arange(len(names) + 1))
    for g, name in enumerate(sorted(names)):
        yield tuple(name.split("\x1f")), ordered.slice(bounds[g], bounds[g + 1] - bounds[g])


def _process_start(pid: int) -> str | None:
    """When process ``pid`` started (clock ticks since boot, from /proc), None where unknown: with
    the pid it names one process, so a pid reused by a later process is not taken for the writer."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii", errors="replace") as fh:
            return fh.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        return None


def _writer_alive(holder: dict[str, Any]) -> bool:
    """Whether the writer a lock names still runs on this host (a lock we could flock was left by a
    writer that died, unless it is an older writer that did not flock, or a file system without locks)."""
    pid = holder.get("pid")
    if not isinstance(pid, int) or pid <= 0 or pid == os.getpid():
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's process with that pid
        pass
    started = holder.get("started")
    return started is None or _process_start(pid) in (None, started)


def _lock_holder(fd: int) -> dict[str, Any]:
    try:
        os.lseek(fd, 0, os.SEEK_SET)
        text = os.read(fd, 4096).decode("utf-8", errors="replace")
        holder = json.loads(text) if text.strip() else {}
    except (OSError, json.JSONDecodeError):
        return {"pid": "?"}  # unreadable: still a lock someone left
    return holder if isinstance(holder, dict) else {"pid": "?"}


def _acquire_lock(store_dir: Path) -> tuple[int, list[str]]:
    """Hold the store's write lock: an open ``.lock`` file under an exclusive ``flock`` (released by
    the kernel when its writer dies, even by ``kill -9``), naming the writer's pid, host and start.

    A lock file left by a writer whose process is gone on this host is taken over, with a note; one
    left by a writer on another host is refused naming that host (its process cannot be checked from
    here); a live writer's is refused naming it. The descriptor and the notes are returned.
    """
    import fcntl

    lock = store_dir / LOCK_NAME
    host = socket.gethostname()
    for _ in range(100):
        fd = os.open(lock, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = _lock_holder(fd)
            os.close(fd)
            raise StoreError(
                f"store {store_dir} is locked by another ingest (pid {holder.get('pid', '?')} on"
                f" {holder.get('host', '?')} since {holder.get('since', '?')}); wait for it to finish"
            ) from None
        try:  # a writer that just finished unlinked the file we opened: open the current one
            current = os.stat(lock).st_ino == os.fstat(fd).st_ino
        except FileNotFoundError:
            current = False
        if current:
            break
        os.close(fd)
    else:  # pragma: no cover - a hundred writers finishing in a row
        raise StoreError(f"store {store_dir}: could not take the write lock; try again")
    notes: list[str] = []
    holder = _lock_holder(fd)
    if holder:
        where = f"pid {holder.get('pid', '?')} on {holder.get('host', '?')} since {holder.get('since', '?')}"
        if holder.get("host") not in (host, None):
            os.close(fd)
            raise StoreError(
                f"store {store_dir} is locked by an ingest on another host ({where}); this machine cannot"
                f" tell whether it still runs: wait for it, or if it stopped, delete {lock.name} in the store"
            )
        if _writer_alive(holder):
            os.close(fd)
            raise StoreError(f"store {store_dir} is locked by another ingest ({where}); wait for it to finish")
        notes.append(f"took over the lock left by an ingest that is no longer running ({where})")
    mine = {"pid": os.getpid(), "host": host, "since": _now(), "started": _process_start(os.getpid())}
    os.ftruncate(fd, 0)
    os.lseek(fd, 0, os.SEEK_SET)
    os.write(fd, json.dumps(mine).encode("utf-8"))
    return fd, notes


@contextlib.contextmanager
def store_transaction(store_dir: str | Path) -> Iterator[StoreTransaction]:
    """Lock the store for writing and yield a :class:`StoreTransaction`.

    A lock left by an ingest that was killed is taken over and the files it staged are removed
    (both said in ``txn.notes``); see :func:`_acquire_lock`.

    Raises
    ------
    StoreError
        Another writer holds the lock (or one on another host left it).
    """
    store_dir = Path(store_dir)
    store_dir.mkdir(parents=True, exist_ok=True)
    lock = store_dir / LOCK_NAME
    fd, notes = _acquire_lock(store_dir)
    try:
        txn = StoreTransaction(store_dir)
        removed = txn.remove_orphans()
        if removed:
            notes.append(f"removed {removed} file(s) an interrupted ingest had staged but not committed")
        txn.notes = tuple(notes)
        try:
            yield txn
        except BaseException:
            if not txn.committed:
                txn.discard()
            raise
    finally:
        with contextlib.suppress(FileNotFoundError):
            lock.unlink()  # while still holding the flock: the next writer opens a fresh file
        os.close(fd)


# --------------------------------------------------------------------------------------------------
# Reading
# --------------------------------------------------------------------------------------------------
def _as_set(values: str | Iterable[str] | None) -> set[str] | None:
    if values is None:
        return None
    if isinstance(values, str):
        return {values}
    return set(values)


#: Text columns :func:`read_incidents` returns as categoricals with ``categorical=True`` (few distinct values).
CATEGORICAL_COLUMNS: Final = (
    schema.SOURCE,
    schema.FORCE,
    schema.MONTH,
    schema.CRIME_TYPE,
    schema.LOCATION,
    schema.LSOA_CODE,
    schema.LSOA_NAME,
    schema.OUTCOME,
    schema.CONTEXT,
    schema.OBJECT_OF_SEARCH,
    schema.FILE_ID,
)


def read_incidents(
    store_dir: str | Path,
    *,
    sources: str | Sequence[str] | None = None,
    forces: str | Sequence[str] | None = None,
    months: str | Sequence[str] | None = None,
    crime_types: str | Sequence[str] | None = None,
    located_only: bool = False,
    columns: Sequence[str] | None = None,
    categorical: bool = False,
) -> pd.DataFrame:
    """Read accepted incidents, optionally filtered.

    Parameters
    ----------
    store_dir
        The store folder.
    sources, forces, months
        Keep only these partition values (pruned from the manifest, so other files are not opened).
    crime_types
        Keep only these ``crime_type`` values.
    located_only
        Drop unlocated rows (no coordinates).
    columns
        Columns to return (default: all of :data:`schema.INCIDENT_COLUMNS`).
    categorical
        Return the repeating text columns (:data:`CATEGORICAL_COLUMNS`: source, force, month, crime
        type, location, LSOA, outcome, ...) as pandas categoricals: one small integer per row and
        each distinct text once, instead of a string per row: for national volumes, where these
        columns hold a few thousand distinct values over millions of rows.

    Returns
    -------
    pandas.DataFrame
        One row per incident; ``month`` is a "YYYY-MM" string, ``occurred_at`` UTC datetimes.
    """
    manifest = read_manifest(store_dir)
    cols = list(columns) if columns is not None else list(schema.INCIDENT_COLUMNS)
    unknown = sorted(set(cols) - set(schema.INCIDENT_COLUMNS))
    if unknown:
        raise SchemaError(f"unknown column(s) {unknown}; choose from schema.INCIDENT_COLUMNS {schema.INCIDENT_COLUMNS}")
    parts = _active_parts(manifest, sources=sources, forces=forces, months=months)
    table = read_parts(
        store_dir, parts, columns=cols, crime_types=crime_types, located_only=located_only, categorical=categorical
    )
    if not categorical:
        return table.to_pandas()
    frame = table.to_pandas()
    del table
    pa.default_memory_pool().release_unused()  # the text buffers read: give them back (1 GB at 20 million rows)
    return frame


def parts_dataset(store_dir: str | Path, parts: Sequence[dict[str, Any]]) -> ds.Dataset:
    """The given parts (manifest entries, as :func:`part_entries` lists them) as one pyarrow dataset.

    Each part's key columns (:data:`PART_KEY_COLUMNS`) come from its entry, as a partition
    expression: pyarrow fills them in where a part does not hold them and prunes parts by them
    when a filter names them. ``incident_id`` is not in the dataset (see :func:`read_parts`).
    """
    import pyarrow.fs as pafs

    root = Path(store_dir)
    field = ds.field
    return ds.FileSystemDataset.from_paths(
        [str(root / p["path"]) for p in parts],
        schema=_READ_SCHEMA,
        format=ds.ParquetFileFormat(),
        filesystem=pafs.LocalFileSystem(),
        partitions=[
            (field(schema.SOURCE) == p["source"])
            & (field(schema.FORCE) == p["force"])
            & (field(schema.MONTH) == p["month"])
            & (field(schema.FILE_ID) == p["file_id"])
            for p in parts
        ],
    )


def part_entries(
    store_dir: str | Path,
    *,
    sources: str | Sequence[str] | None = None,
    forces: str | Sequence[str] | None = None,
    months: str | Sequence[str] | None = None,
) -> list[dict[str, Any]]:
    """The manifest entries of the store's active parts, pruned by partition as :func:`read_incidents`
    prunes them and sorted by (source, force, month, path), so that one force's parts are together:
    ``path`` (relative to the store), ``source``, ``force``, ``month``, ``file_id``, ``rows`` and
    ``unlocated``."""
    parts = _active_parts(read_manifest(store_dir), sources=sources, forces=forces, months=months)
    return sorted(parts, key=lambda p: (p["source"], p["force"], p["month"], p["path"]))


def read_parts(
    store_dir: str | Path,
    parts: Sequence[dict[str, Any]],
    *,
    columns: Sequence[str] | None = None,
    crime_types: str | Sequence[str] | None = None,
    located_only: bool = False,
    categorical: bool = False,
) -> pa.Table:
    """Rows of the given parts as a pyarrow table with every requested column, whatever the part holds.

    The reader under :func:`read_incidents` and the Dask readers (:func:`read_store_dask`, :mod:`geo_csp.cube._dask`) (one
    call per task). Arguments as :func:`read_incidents`; ``parts`` as :func:`part_entries` gives them.
    """
    cols = list(columns) if columns is not None else list(schema.INCIDENT_COLUMNS)
    if not parts:
        table = schema.INCIDENT_SCHEMA.empty_table().select(cols)
        return _dictionary_encoded(table) if categorical else table
    dataset = parts_dataset(store_dir, parts)
    expr = None
    types = _as_set(crime_types)
    if types is not None:
        expr = ds.field(schema.CRIME_TYPE).isin(sorted(types))
    if located_only:
        located = ds.field(schema.LOCATED) == True  # noqa: E712 - a pyarrow expression
        expr = located if expr is None else expr & located
    read = [c for c in cols if c != schema.INCIDENT_ID]
    if schema.INCIDENT_ID in cols:
        read += [c for c in (schema.FILE_ID, schema.LINE) if c not in read]

    def finish(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
        if schema.INCIDENT_ID in cols:
            ids = pc.binary_join_element_wise(data[schema.FILE_ID], pc.cast(data[schema.LINE], pa.string()), ":")
            data = data.append_column(schema.INCIDENT_ID, ids)
        data = data.select(cols)
        return _dictionary_encoded(data) if categorical else data

    if categorical:
        # encoded batch by batch: the text of the whole store is never in memory at once
        batches = [finish(b) for b in dataset.to_batches(columns=read, filter=expr)]
        if batches:
            return pa.Table.from_batches(batches)
    return finish(dataset.to_table(columns=read, filter=expr))


def _dictionary_encoded(data: pa.Table | pa.RecordBatch) -> pa.Table | pa.RecordBatch:
    """``data`` with the :data:`CATEGORICAL_COLUMNS` it holds dictionary-encoded (pandas categoricals)."""
    names = list(data.schema.names)
    arrays = [
        data.column(i).dictionary_encode()
        if name in CATEGORICAL_COLUMNS and not pa.types.is_dictionary(data.schema.field(i).type)
        else data.column(i)
        for i, name in enumerate(names)
    ]
    return type(data).from_arrays(arrays, names=names)


def incidents_to_gdf(df: pd.DataFrame) -> gpd.GeoDataFrame:
    """Located incidents as points in EPSG:27700 (from ``easting``/``northing``), index preserved.

    Parameters
    ----------
    df
        Incidents as returned by :func:`read_incidents` (needs ``easting``, ``northing``,
        ``located``).
    """
    import geopandas as gpd  # only readers that want geometry pay for it

    missing = [c for c in (schema.EASTING, schema.NORTHING, schema.LOCATED) if c not in df.columns]
    if missing:
        raise SchemaError(f"incidents lack column(s) {missing}; read them with read_incidents(columns=None)")
    located = df[df[schema.LOCATED].astype(bool)]
    geometry = gpd.points_from_xy(located[schema.EASTING], located[schema.NORTHING])
    return gpd.GeoDataFrame(located.copy(), geometry=geometry, crs=settings.WORKING_CRS)


def read_quarantine(store_dir: str | Path) -> pd.DataFrame:
    """Every quarantined row of the active inputs (:data:`schema.QUARANTINE_SCHEMA` columns)."""
    manifest = read_manifest(store_dir)
    paths = [str(Path(store_dir) / e["quarantine"]) for e in manifest["files"].values() if e.get("quarantine")]
    if not paths:
        return schema.QUARANTINE_SCHEMA.empty_table().to_pandas()
    return ds.dataset(paths, schema=schema.QUARANTINE_SCHEMA, format="parquet").to_table().to_pandas()


def store_status(store_dir: str | Path) -> dict[str, Any]:
    """A summary of the store from its manifest (no data file is opened).

    Returns
    -------
    dict
        ``rows``, ``quarantined``, ``unlocated``, ``sources``, ``forces``, ``months`` (sorted lists),
        ``files`` (active inputs), ``superseded_files``, ``rows_by_source`` and ``store``.
    """
    manifest = read_manifest(store_dir)
    parts = _active_parts(manifest)
    entries = manifest["files"].values()
    by_source: dict[str, int] = {}
    for p in parts:
        by_source[p["source"]] = by_source.get(p["source"], 0) + p["rows"]
    return {
        "store": str(store_dir),
        "rows": sum(p["rows"] for p in parts),
        "quarantined": sum(e["quarantined"] for e in entries if e.get("quarantine")),
        "unlocated": sum(p["unlocated"] for p in parts),
        "sources": sorted({p["source"] for p in parts}),
        "forces": sorted({p["force"] for p in parts}),
        "months": sorted({p["month"] for p in parts}),
        "files": sum(1 for e in entries if e["active"]),
        "superseded_files": sum(1 for e in entries if not e["active"]),
        "rows_by_source": dict(sorted(by_source.items())),
        "updated_at": manifest.get("updated_at"),
    }


def latest_police_uk_month(store_dir: str | Path) -> str | None:
    """The latest month the store holds from police.uk (sources ``police_uk_*``), from the manifest; ``None`` if none.

    It is the latest month downloaded and ingested, not a claim about what police.uk has published since.
    """
    months = [p["month"] for p in _active_parts(read_manifest(store_dir)) if str(p["source"]).startswith("police_uk")]
    return max(months) if months else None


def store_config(store_dir: str | Path) -> dict[str, Any]:
    """The store's ``config.json`` (borough name, boundary files, synthetic flag); ``{}`` if none."""
    path = Path(store_dir) / CONFIG_NAME
    try:
        config: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return {}
    except json.JSONDecodeError as exc:
        raise StoreError(f"{path} is not valid JSON ({exc}); rewrite it with write_store_config") from exc
    return config


#: Keys of ``config.json`` holding one text (a name, a column, or a file path relative to the store).
_CONFIG_TEXT_KEYS: Final = (
    "borough",
    "label",
    "boundary",
    "boundary_district",
    "wards",
    "ward_code_col",
    "ward_name_col",
    "lsoas",
    "lsoa_code_col",
    "lsoa_name_col",
    "population",
    "population_unit",
    "population_code_col",
    "population_col",
    "named_places",
    "areas",
    "layers_dir",
    "stats19",
)
#: Kinds of unit a configured population CSV can belong to.
POPULATION_UNITS: Final = ("ward", "lsoa")


@dataclass(frozen=True)
class StoreConfig:
    """A store's ``config.json`` (written by ``geo-csp configure``), typed and validated once on reading.

    Text fields are ``None`` when not configured (absent, JSON ``null`` or empty); file fields hold the
    path as written (relative to the store folder, or absolute): :meth:`path` resolves them.

    Attributes
    ----------
    store_dir
        The store folder the config belongs to (relative paths are taken from it).
    borough, label
        The borough's name, and how documents name the store (``geo-csp configure --label``).
    synthetic
        The store holds invented (demo) incidents.
    boundary_district
        The borough's area in a ``boundary`` file of several (``geo-csp configure --district``), by name.
    boundary, wards, lsoas, named_places, areas, population
        Files: the borough outline, its wards and LSOAs, named places, comparator areas, residents per
        ward or LSOA.
    ward_code_col, ward_name_col, lsoa_code_col, lsoa_name_col
        The columns of the ward and LSOA files (default ``ward_code`` ...).
    population_unit, population_code_col, population_col
        What the population CSV counts (``"ward"`` or ``"lsoa"``; default ward) and its columns.
    comparators
        Names or codes of the comparator rows of ``areas`` (``()`` for none); ``None``: every other area.
    layers_dir
        The partner layers folder (``cctv``, ``walkabouts``, ``operations``, ``hubs``, a ``.graphml``).
    layers
        Partner layer files named one by one (kind -> path), ahead of the folder's.
    stats19
        A STATS19 road casualty file (:mod:`geo_csp.roads`) that the app's road casualties page reads.
    extra
        Any other key of the file, kept as written (e.g. the demo's ``truth``).
    """

    store_dir: Path
    borough: str | None = None
    label: str | None = None
    synthetic: bool = False
    boundary: str | None = None
    boundary_district: str | None = None
    wards: str | None = None
    ward_code_col: str | None = None
    ward_name_col: str | None = None
    lsoas: str | None = None
    lsoa_code_col: str | None = None
    lsoa_name_col: str | None = None
    population: str | None = None
    population_unit: str | None = None
    population_code_col: str | None = None
    population_col: str | None = None
    named_places: str | None = None
    areas: str | None = None
    comparators: tuple[str, ...] | None = None
    layers_dir: str | None = None
    stats19: str | None = None
    layers: tuple[tuple[str, str], ...] = ()
    extra: tuple[tuple[str, Any], ...] = ()

    @classmethod
    def from_dict(cls, store_dir: str | Path, raw: Any) -> StoreConfig:
        """The config of ``store_dir`` from its JSON object; a clear error naming the file and key when wrong."""
        where = Path(store_dir) / CONFIG_NAME
        if not isinstance(raw, dict):
            raise StoreError(f"{where} must hold a JSON object (key: value), not {type(raw).__name__}")
        values: dict[str, Any] = {}
        for key in _CONFIG_TEXT_KEYS:
            value = raw.get(key)
            if value is not None and not isinstance(value, str):
                raise StoreError(f"{where}: {key!r} must be text or null, not {value!r}")
            values[key] = value.strip() or None if isinstance(value, str) else None
        if values["population_unit"] is not None and values["population_unit"] not in POPULATION_UNITS:
            raise StoreError(
                f"{where}: 'population_unit' must be one of {POPULATION_UNITS}, not {values['population_unit']!r}"
            )
        synthetic = raw.get("synthetic", False)
        if not isinstance(synthetic, bool) and synthetic is not None:
            raise StoreError(f"{where}: 'synthetic' must be true or false, not {synthetic!r}")
        comparators = raw.get("comparators")
        if comparators is not None and (
            not isinstance(comparators, list) or not all(isinstance(c, str) for c in comparators)
        ):
            raise StoreError(f"{where}: 'comparators' must be a list of area names or codes, or null")
        layer_files = raw.get("layers") or {}
        if not isinstance(layer_files, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in layer_files.items()
        ):
            raise StoreError(f'{where}: \'layers\' must map a layer kind to a file path, e.g. {{"cctv": "cctv.csv"}}')
        known = {*_CONFIG_TEXT_KEYS, "synthetic", "comparators", "layers"}
        return cls(
            store_dir=Path(store_dir),
            synthetic=bool(synthetic),
            comparators=None if comparators is None else tuple(comparators),
            layers=tuple(sorted(layer_files.items())),
            extra=tuple(sorted((k, v) for k, v in raw.items() if k not in known)),
            **values,
        )

    def path(self, key: str) -> Path | None:
        """The file a path field names (``"wards"``, ``"layers_dir"``, ...), from the store folder; ``None`` if unset."""
        if key not in _CONFIG_TEXT_KEYS:
            raise ParameterError(f"{key!r} is not a file of the store config; the keys are {_CONFIG_TEXT_KEYS}")
        return config_path(self.store_dir, getattr(self, key))

    @property
    def is_bury(self) -> bool:
        """The config names Bury, the borough whose geography ships with geo-csp."""
        return (self.borough or "").lower() == "bury"


def read_config(store_dir: str | Path) -> StoreConfig:
    """The store's config (:class:`StoreConfig`), validated; an empty one when the store has no ``config.json``."""
    return StoreConfig.from_dict(store_dir, store_config(store_dir))


def store_label(store_dir: str | Path) -> str:
    """How a document names the store: its configured ``label`` (``geo-csp configure --label``), else
    the name of its folder; never a path of the machine that wrote the document."""
    label = read_config(store_dir).label
    return label if label else (Path(store_dir).resolve().name or "store")


def input_files(manifest: dict[str, Any]) -> list[dict[str, Any]]:
    """The store's active inputs as a document lists them: file name (a zip member as ``archive.zip!member``,
    without folders) and sha256, with source and months; no path of the machine that ingested them."""
    out = []
    for e in manifest.get("files", {}).values():
        if not e.get("active", True):
            continue
        archive, _, member = str(e["path"]).partition("!")
        name = Path(archive).name + (f"!{member.rsplit('/', 1)[-1]}" if member else "")
        out.append({"file": name, "sha256": e["sha256"], "source": e.get("source"), "months": e.get("months")})
    return out


def write_store_config(store_dir: str | Path, config: dict[str, Any]) -> None:
    """Atomically replace the store's ``config.json`` with ``config`` (must be JSON-serialisable)."""
    try:
        json.dumps(config)
    except TypeError as exc:
        raise StoreError(f"store config is not JSON-serialisable ({exc}); use str for paths") from exc
    write_json_atomic(Path(store_dir) / CONFIG_NAME, config)


#: Config keys whose values are file paths (relative to the store folder, or absolute).
CONFIG_PATH_KEYS = ("boundary", "wards", "lsoas", "population", "named_places", "areas", "stats19")


def config_path(store_dir: str | Path, value: str | None) -> Path | None:
    """The file a config path names: relative paths are taken from the store folder; ``None`` for none."""
    if not value:
        return None
    path = Path(value)
    return path if path.is_absolute() else Path(store_dir) / path


def path_for_config(store_dir: str | Path, path: str | Path) -> str:
    """How a file is written into the config: relative to the store when inside it, else absolute.

    A file under the store folder is stored relative (the store can then be moved with its files);
    any other file keeps its own path, made absolute from the current folder (not resolved through
    symbolic links) so that commands run elsewhere still find it.
    """
    given = Path(path).absolute()
    root = Path(store_dir).absolute()
    try:
        return given.relative_to(root).as_posix()
    except ValueError:
        return str(given)


def update_store_config(store_dir: str | Path, changes: dict[str, Any]) -> dict[str, Any]:
    """Merge ``changes`` into the store's config and write it atomically; returns the new config.

    Keys not in ``changes`` are kept; a key whose value is ``None`` in ``changes`` is set to null
    (JSON ``null``: "not configured").
    """
    merged = {**store_config(store_dir), **changes}
    Path(store_dir).mkdir(parents=True, exist_ok=True)
    write_store_config(store_dir, merged)
    return merged


# --------------------------------------------------------------------------------------------------
# The store as a Dask dataframe (dask is optional: imported when these run)
# --------------------------------------------------------------------------------------------------
def _as_list(values: str | Iterable[str] | None) -> list[str] | None:
    if values is None:
        return None
    return [values] if isinstance(values, str) else list(values)


def store_part_paths(
    store_dir: str | Path,
    *,
    sources: str | Sequence[str] | None = None,
    forces: str | Sequence[str] | None = None,
    months: str | Sequence[str] | None = None,
) -> list[str]:
    """Paths of the store's active Parquet parts, pruned by partition and sorted by (source, force, month).

    Only parts listed in the manifest are returned (superseded revisions and crash leftovers never).
    """
    root = Path(store_dir)
    return [str(root / p["path"]) for p in part_entries(store_dir, sources=sources, forces=forces, months=months)]


def read_store_dask(
    store_dir: str | Path,
    *,
    sources: str | Sequence[str] | None = None,
    forces: str | Sequence[str] | None = None,
    months: str | Sequence[str] | None = None,
    crime_types: str | Sequence[str] | None = None,
    located_only: bool = False,
    columns: Sequence[str] | None = None,
) -> Any:
    """The store's incidents as a lazy :class:`dask.dataframe.DataFrame`, one partition per part file.

    The Dask counterpart of :func:`read_incidents` with the same arguments:
    ``sources``/``forces``/``months`` prune part files through the manifest, ``crime_types`` and
    ``located_only`` become Parquet row filters.

    Returns
    -------
    dask.dataframe.DataFrame
        Partitions ordered by (source, force, month).

    Raises
    ------
    StoreNotFoundError
        No store at ``store_dir``.
    ParameterError
        No part matches the partition filters.
    """
    import dask.dataframe as dd

    cols = list(columns) if columns is not None else list(schema.INCIDENT_COLUMNS)
    unknown = sorted(set(cols) - set(schema.INCIDENT_COLUMNS))
    if unknown:
        raise SchemaError(f"unknown column(s) {unknown}; choose from schema.INCIDENT_COLUMNS {schema.INCIDENT_COLUMNS}")
    parts = part_entries(store_dir, sources=sources, forces=forces, months=months)
    if not parts:
        raise ParameterError(
            f"no part of the store {store_dir} matches sources={sources!r} forces={forces!r} months={months!r};"
            " check them against `geo-csp status`"
        )
    read = functools.partial(
        _read_part_frame, str(store_dir), columns=cols, crime_types=_as_list(crime_types), located_only=located_only
    )
    # dask.dataframe.from_map carries no annotations
    return dd.from_map(  # type: ignore[no-untyped-call]
        read, parts, meta=read(None), label="read-store-part", enforce_metadata=False
    )


def _read_part_frame(store_dir: str, part: dict[str, Any] | None, **kwargs: Any) -> pd.DataFrame:
    """One part of the store as a pandas partition (None: the empty frame with the columns' types)."""
    return read_parts(store_dir, [part] if part is not None else [], **kwargs).to_pandas()
