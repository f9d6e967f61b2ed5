"""The differencing attacker against public outputs: from published (rounded, suppressed) counts of
public packs and their known outlines, recover any count below the threshold; the attack must fail.

The attacker knows every outline and that each published count is within ``round_to / 2`` of the
truth (a suppressed one is only known to be >= 0), and solves for the largest value a hidden count
can take (scipy's linear programme). A count is disclosed when its true value is between 1 and
``threshold - 1`` and the attacker can show it is below ``threshold``.

Attacks: two public packs of nested outlines (a ward, and the ward with a few streets more), the
12 months of a pack's trend against its 12-month count (monthly against the longer period), the
area against the rest of the borough and the borough (ward against borough), and the public quarterly
table's borough counts (quarters) against a pack's monthly counts (every published figure of both at
once, unknowns per piece, month and class of crime types). Also: the public
GeoPackage, HTML and PDF are read back for incident points and partner layers, and the public quarterly
table's CSV, XLSX and HTML for small counts, coordinates, partner layer names and local paths.
"""

from __future__ import annotations

import csv
import html
import io
import json
import re
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from scipy.optimize import linprog

from geo_csp import boundaries, evidence, schema, store
from geo_csp.geography import AREA_NAME, store_areas
from geo_csp.disclosure import DisclosureParams
from geo_csp.evidence import PUBLIC_REGISTER_NAME, EvidenceParams, build_evidence, write_evidence

RULE = DisclosureParams()
HALF = RULE.round_to / 2


@pytest.fixture()
def demo_copy(demo_borough, tmp_path: Path) -> Path:  # noqa: ANN001
    """A copy of the demo borough (its store gets a register of public packs: the shared one stays as it is)."""
    root = tmp_path / "demo"
    shutil.copytree(demo_borough.out_dir, root)
    # other tests may have written public packs into the shared demo store: this copy starts with none
    for register in (root / "store").rglob(PUBLIC_REGISTER_NAME):
        register.unlink()
    return root / "store"


def _max_hidden(published: list[float | None], rows: list[list[int]], n: int, target: int) -> float:
    """The largest value unknown ``target`` can take: ``rows[k]`` lists the unknowns summed by published
    value ``k`` (None: suppressed, no constraint); every unknown is a nonnegative count."""
    return _feasible_range(published, rows, n, [target])[1]


def _feasible_range(
    published: list[float | None], rows: list[list[int]], n: int, target: list[int]
) -> tuple[float, float]:
    """The smallest and largest value the sum of unknowns ``target`` can take given the published values
    (as :func:`_max_hidden`)."""
    a_ub, b_ub = [], []
    for value, members in zip(published, rows, strict=True):
        if value is None or not np.isfinite(value):
            continue
        row = np.zeros(n)
        row[members] = 1.0
        a_ub += [row, -row]
        b_ub += [value + HALF, -(value - HALF)]
    c = np.zeros(n)
    c[target] = 1.0
    ends = []
    for sign in (1.0, -1.0):
        res = linprog(
            sign * c,
            A_ub=np.array(a_ub) if a_ub else None,
            b_ub=np.array(b_ub) if b_ub else None,
            bounds=[(0, None)] * n,
            method="highs",
        )
        assert res.status in (0, 3), res.message  # the true counts are feasible: never infeasible
        ends.append(np.inf if res.status == 3 else sign * res.fun)
    return ends[0], ends[1]


def _ward_and_streets_more(store_dir: Path) -> tuple[shapely.Geometry, shapely.Geometry, pd.DataFrame]:
    """A ward, the ward with a small square of streets next to it added, and the true crimes in that
    square (police.uk street rows of the trend window): 1 to 3 in the last 12 months."""
    inc = store.read_incidents(store_dir, sources=[schema.SOURCE_STREET], located_only=True)
    last = sorted(inc[schema.MONTH].unique())[-12:]
    pts = shapely.points(inc[schema.EASTING].to_numpy(), inc[schema.NORTHING].to_numpy())
    recent = inc[schema.MONTH].isin(last).to_numpy()
    for ward in boundaries.load_wards().to_crs(27700).geometry:
        ring = shapely.difference(ward.buffer(250), ward)
        for p in pts[recent & shapely.contains(ring, pts)][:300]:
            square = shapely.difference(shapely.box(p.x - 40, p.y - 40, p.x + 40, p.y + 40), ward)
            inside = shapely.contains(square, pts)
            if 1 <= int((inside & recent).sum()) <= 3:
                return ward, shapely.union(ward, square), inc[inside]
    pytest.skip("no small square of a few crimes next to a ward in the demo")


def _pack(store_dir: Path, geom: shapely.Geometry, name: str, out: Path) -> evidence.EvidencePack:
    pack = build_evidence(
        store_dir, EvidenceParams(area_polygon_wkt=geom.wkt, area_label=name, rate_months=12, public=True)
    )
    write_evidence(pack, out / name)
    return pack


def _nested_attack(small: evidence.EvidencePack, large: evidence.EvidencePack, between: pd.DataFrame) -> list[str]:
    """Every small count between two nested outlines the attacker pins below the threshold: per crime
    group the 12-month counts, and each month of the trend (x = inside the small outline, z = between)."""
    found = []
    months = small.figures["rate_months"]
    for g, types in evidence.GROUPS.items():
        rows = between[between[schema.CRIME_TYPE].isin(types)]
        true = int(rows[schema.MONTH].between(months[0], months[1]).sum())
        a, b = small.tables["counts"].loc["Area", g], large.tables["counts"].loc["Area", g]
        if 0 < true < RULE.threshold and _max_hidden([a, b], [[0], [0, 1]], 2, 1) < RULE.threshold:
            found.append(f"{g}: {true} between the outlines, shown to be below {RULE.threshold}")
        per_month = rows[schema.MONTH].value_counts()
        for month in small.monthly.index:
            true_m = int(per_month.get(month, 0))
            ma, mb = small.monthly.loc[month, g], large.monthly.loc[month, g]
            if 0 < true_m < RULE.threshold and _max_hidden([ma, mb], [[0], [0, 1]], 2, 1) < RULE.threshold:
                found.append(f"{g} {month}: {true_m} between the outlines, shown to be below {RULE.threshold}")
    return found


def test_nested_public_packs_do_not_reveal_the_crimes_between_them(
    demo_copy: Path, tmp_path: Path, demo_borough
) -> None:  # noqa: ANN001
    ward, larger, between = _ward_and_streets_more(demo_copy)
    # without the register (the ward's pack never published from this store), the attack works
    fresh = tmp_path / "fresh"
    shutil.copytree(demo_borough.out_dir, fresh)
    unguarded_small = build_evidence(
        fresh / "store", EvidenceParams(area_polygon_wkt=ward.wkt, area_label="ward", rate_months=12, public=True)
    )
    unguarded_large = build_evidence(
        fresh / "store", EvidenceParams(area_polygon_wkt=larger.wkt, area_label="larger", rate_months=12, public=True)
    )
    assert _nested_attack(unguarded_small, unguarded_large, between), "the attack has no teeth"
    # published one after the other from the same store: the second is checked against the first
    small = _pack(demo_copy, ward, "ward", tmp_path / "packs")
    large = _pack(demo_copy, larger, "larger", tmp_path / "packs")
    assert _nested_attack(small, large, between) == []
    assert large.audit is not None and large.audit["reason"].str.startswith("nested_pack_difference").any()
    # the other way round (the larger outline first) is caught too
    again = tmp_path / "again"
    shutil.copytree(demo_borough.out_dir, again)
    for register in (again / "store").rglob(PUBLIC_REGISTER_NAME):  # other tests' public packs are not this test's
        register.unlink()
    first = _pack(again / "store", larger, "larger", tmp_path / "packs2")
    second = _pack(again / "store", ward, "ward", tmp_path / "packs2")
    assert _nested_attack(second, first, between) == []
    assert len(json.loads((again / "store" / evidence.PUBLIC_REGISTER_NAME).read_text())) == 2


def test_months_against_the_year_and_area_against_borough(demo_copy: Path, tmp_path: Path) -> None:
    ward = boundaries.load_wards().to_crs(27700).geometry.iloc[0]
    small_box = shapely.box(380_300, 410_700, 380_450, 410_850)  # a few crimes: suppressed cells to attack
    for name, geom in (("ward", ward), ("small", small_box)):
        pack = _pack(demo_copy, geom, name, tmp_path)
        private = build_evidence(demo_copy, EvidenceParams(area_polygon_wkt=geom.wkt, area_label=name, rate_months=12))
        counts, true = pack.tables["counts"], private.tables["counts"]
        months = list(pack.figures["rate_months"])
        window = [m for m in pack.monthly.index if months[0] <= m <= months[1]]
        true_monthly = private.monthly.loc[window]
        for g in evidence.GROUPS:
            # the 12 months of the trend and the 12-month count: one equation over the months
            published = [pack.monthly.loc[m, g] for m in window] + [counts.loc["Area", g]]
            rows = [[k] for k in range(len(window))] + [list(range(len(window)))]
            for k, m in enumerate(window):
                if not np.isfinite(pack.monthly.loc[m, g]) and 0 < true_monthly.loc[m, g] < RULE.threshold:
                    assert _max_hidden(published, rows, len(window), k) >= RULE.threshold, (name, g, m)
            # area + rest of borough = borough (the ward against the borough)
            published = [counts.loc[r, g] for r in ("Area", "Rest of borough", "Borough")]
            for k, r in enumerate(("Area", "Rest of borough")):
                if 0 < true.loc[r, g] < RULE.threshold:
                    assert _max_hidden(published, [[0], [1], [0, 1]], 2, k) >= RULE.threshold, (name, g, r)
            shown = counts[g].dropna().to_numpy()
            assert ((shown % RULE.round_to == 0) & (shown >= RULE.threshold)).all()


def test_public_files_hold_no_points_and_no_partner_data(demo_copy: Path, tmp_path: Path) -> None:
    from pypdfium2 import PdfDocument

    pack = build_evidence(demo_copy, EvidenceParams(area="Bury Town Centre", public=True))
    written = write_evidence(pack, tmp_path / "public")
    layers = {name for name, _ in pyogrio.list_layers(written["area.gpkg"])}
    assert layers == {"area", "hotspot_cells"}
    for layer in layers:
        frame = pyogrio.read_dataframe(written["area.gpkg"], layer=layer)
        assert set(frame.geometry.geom_type) <= {"Polygon", "MultiPolygon"}
        assert schema.N not in frame.columns
    html_text = written["report.html"].read_text(encoding="utf-8")
    pdf = PdfDocument(str(written["report.pdf"]))
    pdf_text = " ".join(pdf[i].get_textpage().get_text_range() for i in range(len(pdf)))
    for text in (html_text, pdf_text):
        assert "Partner data, coverage and gaps" not in text
        for partner in ("CCTV view", "Walkabouts within", "ASB reports to the council", "Nearest community hub"):
            assert partner not in text
    assert "Public version: disclosure control applied" in pdf_text.replace("\r\n", " ").replace("\n", " ")
    assert not [p for p in written if p.endswith(".csv") and "council" in p]
    for path in written.values():
        if path.suffix == ".csv" and path.parent == tmp_path / "public":
            frame = pd.read_csv(path, index_col=0)
            numbers = pd.to_numeric(frame.stack(), errors="coerce").dropna()
            assert len(numbers) >= 0  # counts read back; their rounding is checked above


def _partner_names(store_dir: Path) -> set[str]:
    """Names in the store's partner layers that must never reach a public document: cameras, hubs, walks."""
    folder = store_dir.parent / "layers"
    names = set(pd.read_csv(folder / "cctv.csv")["name"]) | set(pd.read_csv(folder / "hubs.csv")["name"])
    gpx = (folder / "walkabouts.gpx").read_text(encoding="utf-8")
    return names | {n for n in re.findall(r"<name>([^<]+)</name>", gpx) if "walkabout:" in n}


def test_public_table_files_hold_no_points_partner_layers_or_small_counts(demo_copy: Path, tmp_path: Path) -> None:
    """The public quarterly table read back from CSV, XLSX and HTML: every count shown is rounded and at
    least the threshold (else suppressed), no coordinates and no partner layer names, no local path."""
    from openpyxl import load_workbook
    from typer.testing import CliRunner

    from geo_csp.cli import app

    out = {k: tmp_path / f"public.{k}" for k in ("csv", "xlsx", "html")}
    args = ["table", "--store", str(demo_copy), "--public", *[a for k, p in out.items() for a in (f"--{k}", str(p))]]
    res = CliRunner().invoke(app, args)
    assert res.exit_code == 0, res.output
    csv_rows = [r for r in csv.reader(io.StringIO(out["csv"].read_text(encoding="utf-8"))) if r and r[0][:1] != "#"]
    xlsx_rows = [[c.value for c in r] for r in load_workbook(out["xlsx"]).active.iter_rows()]
    page = out["html"].read_text(encoding="utf-8")
    html_rows = [
        [html.unescape(re.sub(r"<[^>]+>", "", c)).strip() for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", row, re.S)]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", page, re.S)
    ]
    for name, rows in (("csv", csv_rows), ("xlsx", xlsx_rows), ("html", html_rows)):
        header = next(r for r in rows if r and r[0] == "Measure")
        quarters = [i for i, h in enumerate(header) if isinstance(h, str) and h.startswith("Q")]
        counts = [r for r in rows[rows.index(header) + 1 :] if r and r[0] and "per 1,000" not in str(r[0])]
        assert len(quarters) == 5 and len(counts) >= 4, name
        for row in counts:
            for i in quarters:
                cell = row[i]
                if cell in ("[c]", None, ""):
                    continue
                value = float(str(cell).replace(",", ""))
                assert value % RULE.round_to == 0 and value >= RULE.threshold, (name, row[0], header[i], cell)
    text = "\n".join([out["csv"].read_text(encoding="utf-8"), page, *(str(v) for r in xlsx_rows for v in r)])
    leaked = [n for n in _partner_names(demo_copy) if n in text]
    assert leaked == [], f"partner layer names in the public table: {leaked[:3]}"
    assert not re.search(r"\b(easting|northing|longitude|latitude)\b", text, re.I)
    assert str(demo_copy) not in text and str(tmp_path) not in text


def _table_against_pack_attack(
    store_dir: Path, geom: shapely.Geometry, name: str, *, exact: bool = False
) -> list[tuple[str, int, float, float]]:
    """The public quarterly table (the borough's counts per measure and quarter; a rate per 1,000 is a
    published count times 1,000 / residents, so the attacker reads the count back) set against a public
    pack for ``geom`` (its monthly counts per crime group, its 12-month area, rest-of-borough and borough
    counts). Unknowns: the true count of each (piece: area or rest of borough, month, class of crime
    types: types no published figure tells apart). Every published figure sums its unknowns to within
    ``round_to / 2``. Returns every small true count tried, with its feasible range: the pack's suppressed
    months, the table's suppressed cells, and the area's and the rest's count per measure and quarter
    (which neither output publishes). ``exact``: every figure published unrounded and unsuppressed
    (the control: the attack must then pin small counts)."""
    from geo_csp import periods
    from geo_csp.table import table_from_store

    pack = build_evidence(
        store_dir, EvidenceParams(area_polygon_wkt=geom.wkt, area_label=name, rate_months=12, public=True)
    )
    table = table_from_store(store_dir, public=True)
    areas, borough, _ = store_areas(store_dir)
    residents = float(areas.loc[areas[AREA_NAME] == borough, schema.POPULATION].iloc[0])
    measures = [m for m in table.measures if m.sources == (schema.SOURCE_STREET,) and m.crime_types]
    inc = store.read_incidents(store_dir, sources=[schema.SOURCE_STREET], located_only=True)
    inc = inc[inc[schema.CRIME_TYPE].isin(schema.CRIME_TYPES)]
    in_area = shapely.contains_xy(geom, inc[schema.EASTING].to_numpy(), inc[schema.NORTHING].to_numpy())
    q_of = dict(
        zip(
            inc[schema.MONTH].astype(str),
            periods.period_labels(
                periods.period_keys(inc[schema.MONTH].astype(str).to_numpy(), period="quarter"), period="quarter"
            ),
            strict=True,
        )
    )
    quarters = [q for q in table.values.columns if str(q).startswith("Q")]
    rate = pack.figures["rate_months"]
    months = sorted({*map(str, pack.monthly.index), *(m for m, q in q_of.items() if q in quarters)})
    # classes: crime types with the same membership in every published set
    sets = [tuple(types) for types in evidence.GROUPS.values()] + [tuple(m.crime_types or ()) for m in measures]
    classes: dict[tuple[bool, ...], list[str]] = {}
    for t in schema.CRIME_TYPES:
        classes.setdefault(tuple(t in s for s in sets), []).append(t)
    class_types = list(classes.values())
    pieces = ("Area", "Rest of borough")
    atoms = [(p, m, c) for p in pieces for m in months for c in range(len(class_types))]
    index = {a: i for i, a in enumerate(atoms)}
    true = np.zeros(len(atoms))
    piece = np.where(in_area, "Area", "Rest of borough")
    cls = {t: c for c, types in enumerate(class_types) for t in types}
    for (p, m, c), n in (
        pd.Series(
            1, index=pd.MultiIndex.from_arrays([piece, inc[schema.MONTH].astype(str), inc[schema.CRIME_TYPE].map(cls)])
        )
        .groupby(level=[0, 1, 2])
        .sum()
        .items()
    ):
        if (p, m, c) in index:
            true[index[(p, m, c)]] = n

    def members(ps: tuple[str, ...], ms: list[str], types: tuple[str, ...]) -> list[int]:
        cs = [c for c, tt in enumerate(class_types) if set(tt) <= set(types)]
        return [index[(p, m, c)] for p in ps for m in ms for c in cs]

    published: list[float | None] = []
    rows: list[list[int]] = []
    window = [m for m in months if str(rate[0]) <= m <= str(rate[1])]
    for g, types in evidence.GROUPS.items():
        for m in map(str, pack.monthly.index):
            published.append(pack.monthly.loc[m, g])
            rows.append(members(("Area",), [m], types))
        for r, ps in (("Area", ("Area",)), ("Rest of borough", ("Rest of borough",)), ("Borough", pieces)):
            published.append(pack.tables["counts"].loc[r, g])
            rows.append(members(ps, window, types))
    for m in measures:
        for q in quarters:
            value = float(table.values.loc[m.key, q])
            # a rate per 1,000 is the published count times 1,000 / residents: the attacker reads it back
            published.append(value * residents / 1000.0 if m.per_1000 else value)
            rows.append(members(pieces, [mm for mm in months if q_of.get(mm) == q], tuple(m.crime_types or ())))
    if exact:  # the control: every figure published as its true count, none suppressed
        published = [float(true[r].sum()) for r in rows]
    n = len(atoms)
    tried = []
    targets: list[tuple[str, list[int]]] = []
    for g, types in evidence.GROUPS.items():
        for m in map(str, pack.monthly.index):
            if not np.isfinite(pack.monthly.loc[m, g]):
                targets.append((f"pack {name} {g} {m}", members(("Area",), [m], types)))
    for m in measures:
        for q in quarters:
            qm = [mm for mm in months if q_of.get(mm) == q]
            if not np.isfinite(table.values.loc[m.key, q]):
                targets.append((f"table {m.key} {q}", members(pieces, qm, tuple(m.crime_types or ()))))
            for p in pieces:
                targets.append((f"{p} of {name} {m.key} {q}", members((p,), qm, tuple(m.crime_types or ()))))
    for label, target in targets:
        value = int(true[target].sum())
        if 0 < value < RULE.threshold:
            lo, hi = _feasible_range(published, rows, n, target)
            assert lo - 1e-6 <= value <= hi + 1e-6, (label, value, lo, hi)  # the attack model holds the truth
            tried.append((label, value, lo, hi))
    return tried


def test_public_table_against_public_packs_reveals_no_small_count(demo_copy: Path) -> None:
    """The quarterly table's borough counts (quarters of three months) against a pack's monthly counts
    for a ward and for a few streets: no small count (a pack's suppressed month, a table cell, the area's
    or the rest of the borough's count of a measure in a quarter) is shown to be below the threshold."""
    ward = boundaries.load_wards().to_crs(27700).geometry.iloc[0]
    small_box = shapely.box(380_300, 410_700, 380_450, 410_850)
    tried = []
    for name, geom in (("ward", ward), ("small", small_box)):
        tried += _table_against_pack_attack(demo_copy, geom, name)
    assert len(tried) >= 20, "the attack tried too few small counts to mean anything"
    control = _table_against_pack_attack(demo_copy, small_box, "small", exact=True)
    assert [t for t in control if t[3] < RULE.threshold], "the attack has no teeth against unrounded figures"
    pinned = [t for t in tried if t[3] < RULE.threshold]
    assert pinned == [], f"{len(pinned)} of {len(tried)} small counts pinned below the threshold: {pinned[:3]}"
