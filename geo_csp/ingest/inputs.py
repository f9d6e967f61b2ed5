"""The inputs behind a path: a file, the files of a police.uk archive-layout folder, or a zip's members; the
month and force a police.uk file name gives."""

from __future__ import annotations

import functools
import re
import stat
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from geo_csp import settings
from geo_csp._errors import InputFileError
from geo_csp.ingest._limits import check_expansion, read_member, too_large

_ARCHIVE_RE = re.compile(
    r"^(?P<month>\d{4}-\d{2})-(?P<force>[a-z0-9-]+?)-(?P<kind>street|stop-and-search|outcomes)"
    r"\.csv(\.gz)?$"
)


_NAME_MONTH_RE = re.compile(r"(?<!\d)(\d{4}-(?:0[1-9]|1[0-2]))(?!\d)")


def file_month(name: str) -> str | None:
    """The publication month a police.uk file name gives, or None.

    ``2019-06-greater-manchester-stop-and-search.csv`` and ``gmp_stop_and_search_2019-06.csv`` give
    ``"2019-06"``; a name with no ``YYYY-MM`` or with several different ones
    (``lancashire_street_2018-11_to_2019-02.csv``) gives None.

    Parameters
    ----------
    name
        The file's base name.
    """
    months = set(_NAME_MONTH_RE.findall(name))
    return months.pop() if len(months) == 1 else None


def force_slug(name: str) -> str:
    """A police.uk force slug from a force name ("Lancashire Constabulary" -> "lancashire")."""
    s = name.strip().lower().replace("&", "and")
    if s == "british transport police":
        return "btp"
    s = re.sub(r"^police service of\s+", "", s)
    s = re.sub(r"\s+(constabulary|police service|police)$", "", s)
    return re.sub(r"[^a-z0-9]+", "-", s).strip("-")


@dataclass(frozen=True)
class Unit:
    """One readable input: a file, or a member of a folder or zip, read when its turn comes."""

    path: str  # as reported
    name: str  # base name, for layout and force detection
    read: Callable[[], bytes]
    size: int = 0  # bytes on disk (uncompressed size for a zip member): only groups files into batches


def archive_kind(name: str) -> tuple[str | None, str | None]:
    """The kind (``street``, ``stop-and-search``, ``outcomes``) and force a police.uk archive file name gives."""
    m = _ARCHIVE_RE.match(name.lower())
    return (m["kind"], m["force"]) if m else (None, None)


def _police_uk_units(found: list[tuple[str, str, Any, int]], notes: list[str], *, empty: str) -> list[Unit]:
    """The police.uk street and stop-and-search files among ``(label, base name, reader, size)`` entries
    of a folder or zip; outcomes and other files are noted and passed over; none at all raises ``empty``."""
    units = []
    for label, base, read, size in found:
        kind, _ = archive_kind(base)
        if kind in ("street", "stop-and-search"):
            units.append(Unit(label, base, read, size))
        elif kind == "outcomes":
            notes.append(f"{label}: outcomes file skipped (outcomes are not incidents)")
        else:
            notes.append(f"{label}: skipped (not a police.uk street or stop-and-search CSV)")
    if not units:
        raise InputFileError(empty)
    return units


def expand_inputs(path_text: str | Path, notes: list[str]) -> list[Unit]:
    """The readable inputs behind one path: a file, the files of an archive-layout folder, or a zip's members.

    Notes about what was passed over (outcomes files, unknown names) are appended to ``notes``.
    """
    path = Path(path_text)
    if not path.exists():
        raise InputFileError(f"{path}: no such file or folder; check the path")
    if not path.is_dir() and not path.is_file():
        raise InputFileError(
            f"{path}: not a regular file ({_file_kind(path)}); give a saved .csv, .csv.gz, .xlsx, .zip"
            " or a folder of them (copy a stream to a file first)"
        )
    if path.is_dir():
        entries = sorted(path.rglob("*"))
        found = [(str(p), p.name, p.read_bytes, p.stat().st_size) for p in entries if p.is_file()]
        notes.extend(
            f"{p}: skipped ({_file_kind(p)}, not a regular file)"
            for p in entries
            if not p.is_file() and not p.is_dir() and p.exists()
        )
        for label, _, _, size in found:
            if size > settings.MAX_INPUT_TEXT_BYTES:
                raise InputFileError(too_large(label, size))
        return _police_uk_units(
            found,
            notes,
            empty=(
                f"{path}: folder holds no police.uk files named YYYY-MM-<force>-street.csv or"
                " YYYY-MM-<force>-stop-and-search.csv; give partner files one by one with --mapping"
            ),
        )
    if path.suffix.lower() == ".zip":
        try:
            with zipfile.ZipFile(path) as zf:
                infos = [i for i in zf.infolist() if not i.is_dir()]
        except (zipfile.BadZipFile, OSError, ValueError) as exc:
            raise InputFileError(f"{path}: not a readable zip archive ({exc}); download it again") from exc
        for info in infos:
            check_expansion(f"{path}!{info.filename}", info.file_size, info.compress_size, declared=True)
        members = {i.filename: i.file_size for i in infos}
        found = [
            (f"{path}!{m}", m.rsplit("/", 1)[-1], functools.partial(read_member, path, m), members[m])
            for m in sorted(members)
        ]
        return _police_uk_units(
            found,
            notes,
            empty=(
                f"{path}: zip holds no police.uk files named YYYY-MM-<force>-street.csv or"
                " YYYY-MM-<force>-stop-and-search.csv; use a zip downloaded from data.police.uk"
            ),
        )
    size = path.stat().st_size
    if size > settings.MAX_INPUT_TEXT_BYTES:
        raise InputFileError(too_large(str(path), size))
    return [Unit(str(path), path.name, path.read_bytes, size)]


def _file_kind(path: Path) -> str:
    mode = path.stat().st_mode
    for test, kind in (
        (stat.S_ISFIFO, "a named pipe"),
        (stat.S_ISCHR, "a character device"),
        (stat.S_ISBLK, "a block device"),
        (stat.S_ISSOCK, "a socket"),
    ):
        if test(mode):
            return kind
    return "not a file or folder"
