"""Regenerate the binary members of the bad-input corpus (gz, zip, xlsx); text files are hand-written.

Run from the repository root: ``python tests/data/bad/_make_corpus.py``.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

from openpyxl import Workbook

HERE = Path(__file__).resolve().parent
HEADER = (
    "Crime ID,Month,Reported by,Falls within,Longitude,Latitude,Location,LSOA code,LSOA name,"
    "Crime type,Last outcome category,Context\n"
)
ROW = (
    "abc1,2019-01,Test Constabulary,Test Constabulary,-2.29,53.59,On or near High Street,"
    "E01005000,Bury 001A,Burglary,Under investigation,\n"
)


def main() -> None:
    good = (HEADER + ROW * 40).encode()
    whole = gzip.compress(good)
    (HERE / "truncated.csv.gz").write_bytes(whole[: len(whole) // 2])
    (HERE / "binary_junk.csv").write_bytes(bytes(range(256)) * 4)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("2019-01/readme.pdf", b"%PDF-1.4 not data")
    (HERE / "zip_non_csv.zip").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_STORED) as zf:
        zf.writestr("2019-01/2019-01-test-street.csv", good)
    data = bytearray(buf.getvalue())
    at = data.find(b"Bury 001A")  # flip bytes inside the stored member: CRC check fails on read
    data[at : at + 4] = b"XXXX"
    (HERE / "zip_corrupt_member.zip").write_bytes(bytes(data))
    (HERE / "not_a_zip.zip").write_bytes(b"this is text, not a zip archive\n")
    wb = Workbook()
    ws = wb.active
    ws.append(["Ref", "Date reported", "Type", "Longitude", "Latitude"])
    ws.append(["R1", "03/02/2023 14:05", "Noise nuisance", "-2.2971", "53.5933"])
    ws.append(["R2", "31/02/2023 10:00", "Noise nuisance", "-2.2971", "53.5933"])
    ws.append(["R3", "04/02/2023 09:30", "Fly-tipping", "-2.30", "53.60"])
    wb.save(HERE / "partner_bad_row.xlsx")


if __name__ == "__main__":
    main()
