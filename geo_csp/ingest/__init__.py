"""Reading police.uk and partner files into the incident store, losing nothing.

Inputs
------
* data.police.uk **street** CSVs (the 12-column header) and **stop-and-search** CSVs (15 columns),
  as a ``.csv``, a ``.csv.gz``, a folder in the archive layout ``YYYY-MM/YYYY-MM-<force>-street.csv``
  (``*-stop-and-search.csv`` too; ``*-outcomes.csv`` and other files are skipped with a note) or a
  ``.zip`` of that layout. A file's kind is recognised by its header.
* **partner extracts** (CSV, CSV.GZ or XLSX) through a TOML column mapping (:mod:`geo_csp.column_mapping`).

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

import functools
import itertools
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import pyarrow as pa

from geo_csp import schema, settings
from geo_csp._errors import InputFileError, ParameterError, SchemaError
from geo_csp.ingest._dask import ingest_paths_dask
from geo_csp.ingest.batches import batches_of, in_order, prepare, prepare_batch
from geo_csp.ingest.inputs import Unit, expand_inputs, file_month, force_slug
from geo_csp.ingest.parsers import SnapPoints, classify_coordinates, parse_numbers, valid_months
from geo_csp.ingest.summary import SKIPPED_STATUS, FileReport, IngestReport, ProgressCallback
from geo_csp.ingest.writer import Staged, write_inputs
from geo_csp.column_mapping import ColumnMapping, load_mapping
from geo_csp.store import StoreTransaction

__all__ = [
    "SKIPPED_STATUS",
    "FileReport",
    "IngestReport",
    "ProgressCallback",
    "classify_coordinates",
    "expand_inputs",
    "file_month",
    "force_slug",
    "ingest_paths",
    "ingest_paths_dask",
    "input_units",
    "parse_numbers",
    "read_file",
    "read_stats19_files",
    "valid_months",
    "write_inputs",
]


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
    units, mapping, notes = input_units(paths, mapping=mapping)

    def prepared(txn: StoreTransaction) -> Iterator[Staged | Exception]:
        prepare = functools.partial(
            prepare_batch, known=txn.known_file, mapping=mapping, encode=True, points=SnapPoints()
        )
        for item in itertools.chain.from_iterable(in_order(prepare, batches_of(units))):
            yield item if isinstance(item, Exception) else item.staged

    return write_inputs(store_dir, prepared, n_inputs=len(units), notes=notes, mapping=mapping, progress=progress)


def input_units(
    paths: Sequence[str | Path] | str | Path, *, mapping: ColumnMapping | str | Path | None = None
) -> tuple[list[Unit], ColumnMapping | None, list[str]]:
    """The inputs behind ``paths`` (files, archive folders, zip members), the mapping loaded, and notes on
    what was skipped."""
    if isinstance(paths, str | Path):
        paths = [paths]
    if not paths:
        raise InputFileError("no input paths given; name at least one file, folder or zip")
    if mapping is not None and not isinstance(mapping, ColumnMapping):
        mapping = load_mapping(mapping)
    notes: list[str] = []
    return [u for p in paths for u in expand_inputs(p, notes)], mapping, notes


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
    item = prepare(unit, known=lambda _sha: None, mapping=mapping)
    return item.accepted, item.quarantined


def read_stats19_files(paths: Sequence[str | Path]) -> tuple[pd.DataFrame, list[dict[str, Any]]]:
    """The accepted rows of STATS19 road casualty files (:func:`read_file`, without a store) and what each
    file gave (rows accepted and quarantined, the quarantine reasons).

    Raises
    ------
    InputFileError
        If a file does not exist or is not a STATS19 file (it reads as another source).
    """
    frames, files = [], []
    for path in map(Path, paths):
        if not path.is_file():
            raise InputFileError(f"STATS19 file {path} does not exist; give the CSV (or .csv.gz) of road casualties")
        accepted, quarantined = read_file(path)
        rows = accepted.to_pandas()
        if len(rows) and not (rows[schema.SOURCE] == schema.SOURCE_STATS19).all():
            raise InputFileError(
                f"{path} is not a STATS19 file (it reads as {sorted(set(rows[schema.SOURCE]))}); give DfT's or "
                "TfGM's road casualty CSV with a collision reference, date, severity and point"
            )
        q = quarantined.to_pandas()
        files.append(
            {
                "file": path.name,
                "rows_accepted": len(rows),
                "rows_quarantined": len(q),
                "quarantine_reasons": q["reason"].value_counts().to_dict() if len(q) else {},
            }
        )
        frames.append(rows)
    return pd.concat(frames, ignore_index=True), files
