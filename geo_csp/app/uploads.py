"""Safe handling of uploaded files: size limits and archive checks before anything is extracted or read.

Pure functions (no streamlit): the Data page calls them on every upload. An archive is refused,
before any member is read, when a member name could escape the extraction folder (absolute paths,
``..`` parts, drive letters: "zip-slip"), when it holds too many members, when the declared
uncompressed total is too large, or when a member's compression ratio marks a decompression bomb.
A ``.gz`` file is checked by streaming its decompressed size up to the limit.
"""

from __future__ import annotations

import gzip
import re
import zipfile
from pathlib import Path, PurePosixPath

from geo_csp._errors import InputFileError

MAX_UPLOAD_BYTES = 200 * 1024 * 1024  # matches server.maxUploadSize in .streamlit/config.toml
MAX_UNCOMPRESSED_BYTES = 2 * 1024 * 1024 * 1024
MAX_MEMBERS = 20_000
MAX_RATIO = 200.0  # CSV compresses ~10-20x; far above that is a bomb
ALLOWED_SUFFIXES = (".csv", ".csv.gz", ".zip", ".xlsx", ".toml", ".geojson", ".json", ".gpkg", ".gpx", ".graphml")
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")

__all__ = ["check_archive", "check_gzip", "check_upload", "safe_name"]


def safe_name(name: str) -> str:
    """An upload's file name reduced to a safe base name (no folders, no odd characters)."""
    base = PurePosixPath(name.replace("\\", "/")).name
    cleaned = _SAFE_NAME.sub("_", base).lstrip(".")
    if not cleaned:
        raise InputFileError(f"upload name {name!r} has no usable file name; rename the file")
    return cleaned


def check_upload(name: str, size_bytes: int, *, max_bytes: int = MAX_UPLOAD_BYTES) -> None:
    """Refuse an upload that is too large or of a kind the app does not read."""
    lower = name.lower()
    if not lower.endswith(ALLOWED_SUFFIXES):
        raise InputFileError(f"{name}: not a file type geo-csp reads; use one of {', '.join(ALLOWED_SUFFIXES)}")
    if size_bytes > max_bytes:
        raise InputFileError(
            f"{name} is {size_bytes / 1e6:.0f} MB, over the {max_bytes / 1e6:.0f} MB upload limit; "
            "split it or ingest it with the `geo-csp ingest` command"
        )


def check_archive(
    path: str | Path,
    *,
    max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES,
    max_members: int = MAX_MEMBERS,
    max_ratio: float = MAX_RATIO,
) -> int:
    """Check a zip archive's directory before extraction; return its declared uncompressed size.

    Raises
    ------
    InputFileError
        Naming the member at fault: an unsafe path, too many members, too large in total, or a
        compression ratio above ``max_ratio``.
    """
    path = Path(path)
    try:
        with zipfile.ZipFile(path) as archive:
            members = archive.infolist()
    except zipfile.BadZipFile as exc:
        raise InputFileError(f"{path.name} is not a readable zip archive ({exc}); re-create the archive") from exc
    if len(members) > max_members:
        raise InputFileError(f"{path.name} holds {len(members):,} members, over the limit of {max_members:,}")
    total = 0
    for info in members:
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name):
            raise InputFileError(f"{path.name}: member {info.filename!r} would extract outside its folder; refused")
        if info.compress_size > 0 and info.file_size / info.compress_size > max_ratio:
            raise InputFileError(
                f"{path.name}: member {info.filename!r} expands {info.file_size / info.compress_size:.0f}x "
                f"(limit {max_ratio:.0f}x): refused as a possible decompression bomb"
            )
        total += info.file_size
        if total > max_uncompressed_bytes:
            raise InputFileError(
                f"{path.name} expands to over {max_uncompressed_bytes / 1e9:.1f} GB; ingest it with the CLI instead"
            )
    return total


def check_gzip(path: str | Path, *, max_uncompressed_bytes: int = MAX_UNCOMPRESSED_BYTES) -> int:
    """Stream a ``.gz`` file's decompressed size (up to the limit) and return it."""
    path = Path(path)
    total = 0
    try:
        with gzip.open(path, "rb") as stream:
            while chunk := stream.read(1 << 20):
                total += len(chunk)
                if total > max_uncompressed_bytes:
                    raise InputFileError(
                        f"{path.name} expands to over {max_uncompressed_bytes / 1e9:.1f} GB: refused as a possible "
                        "decompression bomb; ingest it with the CLI instead"
                    )
    except (OSError, EOFError) as exc:
        raise InputFileError(f"{path.name} is not a complete gzip file ({exc}); download it again") from exc
    return total
