"""Ingest on Dask: files parsed on the workers, staged in order by the one writer."""

from __future__ import annotations

import functools
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from geo_csp import cluster, settings
from geo_csp._errors import InputFileError, ParameterError
from geo_csp.ingest.batches import batches_of, prepare_batch
from geo_csp.ingest.inputs import expand_inputs
from geo_csp.ingest.parsers import SnapPoints
from geo_csp.ingest.summary import IngestReport
from geo_csp.ingest.writer import write_inputs
from geo_csp.column_mapping import ColumnMapping, load_mapping
from geo_csp.store import (
    StoreTransaction,
)


@functools.cache
def _snap_points() -> SnapPoints:
    """The worker process's projections of the snap points met so far (see :class:`SnapPoints`).

    Kept across tasks, so a national ingest projects each point about once per worker; bounded by
    the number of distinct points.
    """
    return SnapPoints()


def _prepare_files(units: Sequence[Any], *, mapping: Any, known: frozenset[str]) -> list[Any]:
    """Worker side of :func:`ingest_paths_dask`: a batch of inputs read, hashed, validated and encoded.

    Exactly as :func:`ingest_paths` does (the same batched reader); only what the writer needs is
    sent back (``Prepared.staged``: counts and Parquet bytes), or a file's error, raised by the
    writer when the file's turn comes.
    """
    prepared = prepare_batch(
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
) -> IngestReport:
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
            cluster.ordered(client, _prepare_files, batches_of(units), ahead=ahead, mapping=mapping, known=known)
        )

    return write_inputs(store_dir, prepared, n_inputs=len(units), notes=notes, mapping=mapping, progress=progress)
