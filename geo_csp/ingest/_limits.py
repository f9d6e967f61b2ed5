"""Size limits of an ingest: compression bombs refused (zip, gzip, XLSX), and the sizes that bound its batches."""

from __future__ import annotations

import functools
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, Protocol, cast

import numpy as np

from geo_csp import settings
from geo_csp._errors import InputFileError


class _Inflater(Protocol):
    """What :func:`gunzip_bounded` uses of a decompressor: ISA-L's and zlib's both have it."""

    @property
    def unused_data(self) -> bytes: ...
    @property
    def unconsumed_tail(self) -> bytes: ...
    @property
    def eof(self) -> bool: ...
    def decompress(self, data: Any, max_length: int = 0, /) -> bytes: ...


_gzip_stream: Callable[..., _Inflater]
try:  # ISA-L inflates gzip about twice as fast as zlib; the same bytes come out either way
    from isal.igzip_lib import IsalError
    from isal.isal_zlib import decompressobj as _isal_stream

    _gzip_stream = _isal_stream
    # isal's stubs declare IsalError an Exception instance; it is the exception class
    GUNZIP_ERRORS: tuple[type[BaseException], ...] = (cast("type[BaseException]", IsalError),)
except ImportError:  # pragma: no cover - isal is optional
    _gzip_stream = functools.partial(zlib.decompressobj, wbits=31)
    GUNZIP_ERRORS = ()


def too_large(label: str, size: int) -> str:
    return (
        f"{label}: expands to more than {settings.MAX_INPUT_TEXT_BYTES >> 20:,} MB of text"
        f" ({size >> 20:,} MB or more); split it into smaller files (one month or force each)"
    )


def check_expansion(label: str, expanded: int, compressed: int, *, declared: bool = False) -> None:
    """Refuse a compression bomb: more text than :data:`settings.MAX_INPUT_TEXT_BYTES`, or, past
    :data:`settings.INPUT_RATIO_FLOOR_BYTES`, more than :data:`settings.MAX_COMPRESSION_RATIO` times
    the ``compressed`` bytes read (``declared``: sizes a zip's directory gives, checked before reading)."""
    if expanded > settings.MAX_INPUT_TEXT_BYTES:
        raise InputFileError(too_large(label, expanded))
    if expanded > settings.INPUT_RATIO_FLOOR_BYTES and expanded > settings.MAX_COMPRESSION_RATIO * compressed:
        what = "declares" if declared else "reached"
        raise InputFileError(
            f"{label}: refused as a likely compression bomb: it {what} {expanded >> 20:,} MB of text from"
            f" {max(compressed, 1):,} compressed bytes (more than {settings.MAX_COMPRESSION_RATIO} times);"
            " if the file is genuine, decompress it yourself and ingest the plain CSV"
        )


def read_member(path: Path, member: str) -> bytes:
    """A zip member's bytes, inflated no further than the size its directory declares (checked by
    :func:`expand_inputs`): ``ZipFile.read`` would inflate a member that lies about its size whole
    before finding it too long; read by size, its CRC check fails after the declared bytes."""
    with zipfile.ZipFile(path) as zf, zf.open(member) as fh:
        data = fh.read(zf.getinfo(member).file_size)
        if fh.read(1):
            raise zipfile.BadZipFile(f"member {member} holds more than the size its directory declares")
        return data


GUNZIP_IN_BYTES = 1 << 20


GUNZIP_OUT_BYTES = 8 << 20


def gunzip_bounded(label: str, raw: bytes) -> bytes:
    """The text of a gzip file (every member), refused as soon as it passes the expansion limits
    (:func:`check_expansion`): a bomb stops after a few MB of text, not when memory runs out.

    Input is fed in slices of :data:`GUNZIP_IN_BYTES` and text taken in pieces of at most
    :data:`GUNZIP_OUT_BYTES`, so the ratio is checked on what has been read so far; as fast as a
    one-shot inflate (figures: ``benchmarks/README.md``).
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
            pending = view[pos : pos + GUNZIP_IN_BYTES]
            pos += len(pending)
        out = stream.decompress(pending, GUNZIP_OUT_BYTES)
        pending = stream.unconsumed_tail
        if out:
            parts.append(out)
            total += len(out)
            check_expansion(label, total, pos - len(pending) - len(stream.unused_data))
        if stream.eof:  # a member ends: another may follow (zero padding may end the file)
            pending = stream.unused_data
            if not np.frombuffer(pending, np.uint8).any() and not np.frombuffer(view[pos:], np.uint8).any():
                break
            stream = _gzip_stream(wbits=31)
    if not stream.eof:
        raise EOFError("the compressed stream ends early")
    return parts[0] if len(parts) == 1 else b"".join(parts)


JOIN_MAX_BYTES = 1 << 20


"""Street files below this size are joined into one text per batch and parsed by one call (a
police.uk file of a small force holds a few hundred kB); when every file of a batch is larger, each
is parsed in place, as its own call (joining them would only copy every byte once more)."""


PREPARE_THREADS = 3


"""Batches read, validated and encoded as Parquet at once while the caller writes the bytes of the
previous ones. pyarrow's CSV reader and compute kernels, pyproj and the Parquet encoder release the
GIL, but the Python between their calls holds it: on 2 cores a third preparing thread fills the
gaps, for one more batch of a few tens of MB in memory (figures: ``benchmarks/README.md``); more only
holds more files in memory."""


BATCH_BYTES = 8 << 20


"""Files are read and validated in batches of about this many bytes of CSV text (a larger file is a
batch of its own): large enough that a batch's few dozen pyarrow calls and one threaded CSV parse
cost little per file, small enough that the batches in flight hold tens of MB whatever the number
of files."""


CSV_THREADS_MIN_BYTES = 4 * BATCH_BYTES


"""Texts up to this size are parsed on the calling thread: inputs are prepared on several threads
at once (:data:`PREPARE_THREADS`), which already keeps the cores busy, and pyarrow's own thread
pool would only add its overhead (a threaded parse costs more CPU time than a plain one: see
``benchmarks/README.md``). A larger file, a batch of its own, gets pyarrow's threads."""


BATCH_FILES = 256


"""At most this many files in one batch (many near-empty files still make a batch of bounded size)."""


GZIP_TEXT_RATIO = 6


"""Assumed text bytes per gzip byte when sizing a batch (police.uk CSVs compress about 5-7 times)."""
