"""The writing half of an ingest: prepared inputs staged into the store in input order, committed once."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from geo_csp.ingest.summary import SKIPPED_STATUS, FileReport, IngestReport, ProgressCallback
from geo_csp.column_mapping import ColumnMapping
from geo_csp.store import (
    EncodedParts,
    StoreTransaction,
    store_transaction,
)


@dataclass(frozen=True)
class Staged:
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
    notes: tuple[str, ...] = ()  # what reading the input chose or repaired (see RawTable.notes)


def write_inputs(
    store_dir: str | Path,
    prepared: Callable[[StoreTransaction], Iterable[Staged | Exception]],
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
