"""Hostile inputs made at test time (compression bombs, a sparse giant, a named pipe): nothing big
is committed. Each maker writes one file under a folder and returns its path.

The bombs expand to gigabytes from a few MB: deflate blocks of repeated CSV rows, ended by a full
flush so that every block after the first is the same bytes and can be repeated without
compressing gigabytes. Their CRC is not computed (a reader that checks it has already read the
whole bomb, which is what must not happen).
"""

from __future__ import annotations

import io
import os
import struct
import zipfile
import zlib
from collections.abc import Callable
from pathlib import Path

from openpyxl import Workbook

HEADER = (
    b"Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    b"Crime type,Last outcome category,Context\n"
)
ROW = (
    b"abc1,2019-01,Test Constabulary,Test Constabulary,-2.29,53.59,On or near High Street,"
    b"E01005000,Bury 001A,Burglary,Under investigation,\n"
)
CHUNK = ROW * ((8 << 20) // len(ROW))  # 8 MB of rows
GIB = 1 << 30


def _deflate_bomb(first: bytes, repeat: bytes, times: int) -> tuple[bytes, int]:
    """A raw deflate stream of ``first`` then ``repeat`` ``times`` times, and its expanded size."""
    comp = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = comp.compress(first) + comp.flush(zlib.Z_FULL_FLUSH)
    block = comp.compress(repeat) + comp.flush(zlib.Z_FULL_FLUSH)
    again = comp.compress(repeat) + comp.flush(zlib.Z_FULL_FLUSH)
    assert again == block  # after a full flush nothing refers back: the block can be repeated
    body = b"".join([head, block * (times - 1), again, comp.flush()])
    return body, len(first) + times * len(repeat)


def _gzip(deflate: bytes, size: int) -> bytes:
    return b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\x03" + deflate + struct.pack("<II", 0, size & 0xFFFFFFFF)


def gzip_bomb(folder: Path) -> Path:
    """One gzip member: a police.uk header and 4 GB of rows (about 4 MB compressed)."""
    body, size = _deflate_bomb(HEADER + CHUNK, CHUNK, 4 * GIB // len(CHUNK))
    path = folder / "2019-01-bomb-street.csv.gz"
    path.write_bytes(_gzip(body, size))
    return path


def gzip_multimember_bomb(folder: Path) -> Path:
    """500 concatenated gzip members of 8 MB of rows each (4 GB), as ``cat a.gz b.gz`` makes."""
    member = zlib.compress(CHUNK, 9, wbits=31)
    path = folder / "bomb_members.csv.gz"
    path.write_bytes(zlib.compress(HEADER, 9, wbits=31) + member * 500)
    return path


def _zip(members: list[tuple[str, bytes, int, int]]) -> bytes:
    """A zip archive of already-deflated members ``(name, deflate, size, crc)`` (no zip64)."""
    out = io.BytesIO()
    central = []
    for name, data, size, crc in members:
        offset = out.tell()
        raw_name = name.encode()
        out.write(
            struct.pack("<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(data), size, len(raw_name), 0)
            + raw_name
            + data
        )
        central.append(
            struct.pack(
                "<IHHHHHHIIIHHHHHII",
                0x02014B50,
                20,
                20,
                0,
                8,
                0,
                0,
                crc,
                len(data),
                size,
                len(raw_name),
                0,
                0,
                0,
                0,
                0,
                offset,
            )
            + raw_name
        )
    start = out.tell()
    for entry in central:
        out.write(entry)
    out.write(struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, len(central), len(central), out.tell() - start, start, 0))
    return out.getvalue()


def zip_bomb(folder: Path) -> Path:
    """A police.uk-layout zip whose one street member expands to 3 GB (its directory says so)."""
    body, size = _deflate_bomb(HEADER + CHUNK, CHUNK, 3 * GIB // len(CHUNK))
    path = folder / "bomb.zip"
    path.write_bytes(_zip([("2019-01/2019-01-bomb-street.csv", body, size, 0)]))
    return path


def zip_lying_bomb(folder: Path) -> Path:
    """A zip member that declares 1 MB but whose data inflates to 3 GB: read up to what it declares."""
    body, _ = _deflate_bomb(HEADER + CHUNK, CHUNK, 3 * GIB // len(CHUNK))
    path = folder / "lying.zip"
    path.write_bytes(_zip([("2019-01/2019-01-bomb-street.csv", body, 1 << 20, 0)]))
    return path


def gzip_in_zip_bomb(folder: Path) -> Path:
    """A zip whose street member is itself a .csv.gz bomb (the zip's own ratio looks harmless)."""
    inner = gzip_bomb(folder).read_bytes()
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("2019-01/2019-01-bomb-street.csv.gz", inner)
    path = folder / "nested.zip"
    path.write_bytes(buf.getvalue())
    return path


def xlsx_bomb(folder: Path) -> Path:
    """A workbook whose sheet XML expands to 2 GB of padding (openpyxl would inflate all of it)."""
    book = io.BytesIO()
    wb = Workbook()
    wb.active.append(["Ref", "Date reported", "Type", "Longitude", "Latitude"])
    wb.save(book)
    members = []
    with zipfile.ZipFile(book) as zf:
        for info in zf.infolist():
            data = zf.read(info)
            if info.filename.startswith("xl/worksheets/"):
                at = data.index(b"<sheetData")
                pad = b" " * (8 << 20)
                body, size = _deflate_bomb(data[:at], pad, 2 * GIB // len(pad))
                members.append((info.filename, body, size, 0))
            else:
                comp = zlib.compressobj(9, zlib.DEFLATED, -15)
                members.append((info.filename, comp.compress(data) + comp.flush(), len(data), zlib.crc32(data)))
    path = folder / "bomb.xlsx"
    path.write_bytes(_zip(members))
    return path


def sparse_giant(folder: Path) -> Path:
    """A plain CSV of 4 GB that takes no disk space (sparse): refused by its size, never read."""
    path = folder / "giant.csv"
    with open(path, "wb") as fh:
        fh.write(HEADER)
        fh.truncate(4 * GIB)
    return path


def fifo(folder: Path) -> Path:
    """A named pipe with a CSV name: opening it for reading would wait for ever for a writer."""
    path = folder / "2019-01-pipe-street.csv"
    os.mkfifo(path)
    return path


def folder_with_fifo(folder: Path) -> Path:
    """An archive folder holding one good street file and a named pipe under a street-file name."""
    archive = folder / "archive"
    (archive / "2019-01").mkdir(parents=True)
    (archive / "2019-01" / "2019-01-good-street.csv").write_bytes(HEADER + ROW)
    os.mkfifo(archive / "2019-01" / "2019-01-pipe-street.csv")
    return archive


MAKERS: dict[str, Callable[[Path], Path]] = {
    "gzip_bomb": gzip_bomb,
    "gzip_multimember_bomb": gzip_multimember_bomb,
    "zip_bomb": zip_bomb,
    "zip_lying_bomb": zip_lying_bomb,
    "gzip_in_zip_bomb": gzip_in_zip_bomb,
    "xlsx_bomb": xlsx_bomb,
    "sparse_giant": sparse_giant,
    "fifo": fifo,
    "folder_with_fifo": folder_with_fifo,
}
"""Every maker by name (the ``make`` key of a case in tests/data/bad/expected.toml)."""
BOMBS = (
    "gzip_bomb",
    "gzip_multimember_bomb",
    "zip_bomb",
    "zip_lying_bomb",
    "gzip_in_zip_bomb",
    "xlsx_bomb",
    "sparse_giant",
)
