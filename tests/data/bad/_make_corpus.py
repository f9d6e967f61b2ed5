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
    # two sheets: a cover sheet first (read by default, with a note), the incidents second (by name)
    wb = Workbook()
    ws = wb.active
    ws.title = "Read me"
    ws.append(["Ref", "Date reported", "Type", "Longitude", "Latitude"])
    ws.append(["C1", "01/01/2023 09:00", "Noise nuisance", "-2.2971", "53.5933"])
    ws = wb.create_sheet("Incidents 2023")
    ws.append(["Ref", "Date reported", "Type", "Longitude", "Latitude"])
    ws.append(["R1", "03/02/2023 14:05", "Noise nuisance", "-2.2971", "53.5933"])
    ws.append(["R2", "31/02/2023 10:00", "Noise nuisance", "-2.2971", "53.5933"])
    ws.append(["R3", "04/02/2023 09:30", "Fly-tipping", "-2.30", "53.60"])
    wb.save(HERE / "partner_two_sheets.xlsx")
    (HERE / "partner_not_xlsx.xlsx").write_bytes(b"Ref,Date reported\nR1,03/02/2023\n")
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        pass
    (HERE / "zip_empty.zip").write_bytes(buf.getvalue())
    buf = io.BytesIO()  # a member named to climb out of a folder: only read, never extracted
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("../../2019-01/2019-01-test-street.csv", HEADER + ROW)
    (HERE / "zip_path_traversal.zip").write_bytes(buf.getvalue())
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("2019-01/2019-01-test-street.csv.gz", gzip.compress((HEADER + ROW * 3).encode()))
        zf.writestr("2019-01/2019-01-test-outcomes.csv", "Crime ID,Month\n")
    (HERE / "zip_gzip_member.zip").write_bytes(buf.getvalue())
    (HERE / "gzip_trailing_garbage.csv.gz").write_bytes(gzip.compress(good) + b"not gzip at all")
    (HERE / "gzip_two_members.csv.gz").write_bytes(gzip.compress((HEADER + ROW).encode()) + gzip.compress(ROW.encode()))


if __name__ == "__main__":
    main()
