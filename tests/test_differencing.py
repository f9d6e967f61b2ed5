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
once, unknowns per piece, month and class of crime types), a partner count inside a total of several
sources against a published part of that total, and the board's public monthly table against the
public quarterly table (months against the quarters they make up). Also: the public
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

import geopandas as gpd
import numpy as np
import pandas as pd
import pyogrio
import pytest
import shapely
from scipy.optimize import linprog

from geo_csp import boundaries, evidence, schema, store
from geo_csp.geography import AREA_NAME, store_areas
from geo_csp.disclosure import DisclosureParams
from geo_csp.evidence import PUBLIC_REGISTER_NAME, EvidencePack, EvidenceParams, build_evidence, write_evidence
from geo_csp.table import YEAR_AGO, Measure, PartnershipTable, TableParams, partnership_table
import _synthetic

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
    published: list[float | None], rows: list[list[int]], n: int, target: list[int], *, half: float = HALF
) -> tuple[float, float]:
    """The smallest and largest value the sum of unknowns ``target`` can take given the published values
    (as :func:`_max_hidden`), each within ``half`` of the truth (half the rounding base)."""
    a_ub, b_ub = [], []
    for value, members in zip(published, rows, strict=True):
        if value is None or not np.isfinite(value):
            continue
        row = np.zeros(n)
        row[members] = 1.0
        a_ub += [row, -row]
        b_ub += [value + half, -(value - half)]
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


#: the two pieces the attacker splits the borough into
PIECES = ("Area", "Rest of borough")


class _Unknowns:
    """The attacker's unknowns: the true count of each (piece, month, class of crime types), where a class
    is the crime types with the same membership in every published set (no published figure tells them
    apart); ``true`` holds each unknown's true count, from the store's located street records."""

    def __init__(self, inc: pd.DataFrame, in_area: np.ndarray, months: list[str], sets: list[tuple[str, ...]]) -> None:
        classes: dict[tuple[bool, ...], list[str]] = {}
        for t in schema.CRIME_TYPES:
            classes.setdefault(tuple(t in s for s in sets), []).append(t)
        self.class_types = list(classes.values())
        atoms = [(p, m, c) for p in PIECES for m in months for c in range(len(self.class_types))]
        self.index = {a: i for i, a in enumerate(atoms)}
        self.true = np.zeros(len(atoms))
        piece = np.where(in_area, "Area", "Rest of borough")
        cls = {t: c for c, types in enumerate(self.class_types) for t in types}
        keys = pd.MultiIndex.from_arrays([piece, inc[schema.MONTH].astype(str), inc[schema.CRIME_TYPE].map(cls)])
        for atom, n in pd.Series(1, index=keys).groupby(level=[0, 1, 2]).sum().items():
            if atom in self.index:
                self.true[self.index[atom]] = n

    def members(self, ps: tuple[str, ...], ms: list[str], types: tuple[str, ...]) -> list[int]:
        """The unknowns summed by a published figure of pieces ``ps``, months ``ms`` and crime ``types``."""
        cs = [c for c, tt in enumerate(self.class_types) if set(tt) <= set(types)]
        return [self.index[(p, m, c)] for p in ps for m in ms for c in cs]


def _quarter_of_month(inc: pd.DataFrame) -> dict[str, str]:
    from geo_csp import periods

    months = inc[schema.MONTH].astype(str)
    labels = periods.period_labels(periods.period_keys(months.to_numpy(), period="quarter"), period="quarter")
    return dict(zip(months, labels, strict=True))


def _pack_figures(
    pack: EvidencePack, unknowns: _Unknowns, window: list[str]
) -> tuple[list[float | None], list[list[int]]]:
    """Every figure of the pack (monthly counts per group; area, rest and borough over the rate window)
    with the unknowns it sums."""
    published: list[float | None] = []
    rows: list[list[int]] = []
    for g, types in evidence.GROUPS.items():
        for m in map(str, pack.monthly.index):
            published.append(pack.monthly.loc[m, g])
            rows.append(unknowns.members(("Area",), [m], types))
        for r, ps in (("Area", ("Area",)), ("Rest of borough", ("Rest of borough",)), ("Borough", PIECES)):
            published.append(pack.tables["counts"].loc[r, g])
            rows.append(unknowns.members(ps, window, types))
    return published, rows


def _table_figures(
    table: PartnershipTable,
    measures: list[Measure],
    quarter_months: dict[str, list[str]],
    residents: float,
    unknowns: _Unknowns,
) -> tuple[list[float | None], list[list[int]]]:
    """Every figure of the table's street-crime measures per quarter with the unknowns it sums; a rate
    per 1,000 is the published count times 1,000 / residents, so the attacker reads the count back."""
    published: list[float | None] = []
    rows: list[list[int]] = []
    for m in measures:
        for q, qm in quarter_months.items():
            value = float(table.values.loc[m.key, q])
            published.append(value * residents / 1000.0 if m.per_1000 else value)
            rows.append(unknowns.members(PIECES, qm, tuple(m.crime_types or ())))
    return published, rows


def _small_count_targets(
    pack: EvidencePack,
    table: PartnershipTable,
    measures: list[Measure],
    quarter_months: dict[str, list[str]],
    name: str,
    unknowns: _Unknowns,
) -> list[tuple[str, list[int]]]:
    """The hidden counts the attacker goes for: the pack's suppressed months, the table's suppressed cells,
    and the area's and the rest's count per measure and quarter (which neither output publishes)."""
    targets: list[tuple[str, list[int]]] = []
    for g, types in evidence.GROUPS.items():
        for m in map(str, pack.monthly.index):
            if not np.isfinite(pack.monthly.loc[m, g]):
                targets.append((f"pack {name} {g} {m}", unknowns.members(("Area",), [m], types)))
    for m in measures:
        types = tuple(m.crime_types or ())
        for q, qm in quarter_months.items():
            if not np.isfinite(table.values.loc[m.key, q]):
                targets.append((f"table {m.key} {q}", unknowns.members(PIECES, qm, types)))
            targets.extend((f"{p} of {name} {m.key} {q}", unknowns.members((p,), qm, types)) for p in PIECES)
    return targets


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
    q_of = _quarter_of_month(inc)
    quarters = [q for q in table.values.columns if str(q).startswith("Q")]
    rate = pack.figures["rate_months"]
    months = sorted({*map(str, pack.monthly.index), *(m for m, q in q_of.items() if q in quarters)})
    quarter_months = {q: [m for m in months if q_of.get(m) == q] for q in quarters}
    sets = [tuple(types) for types in evidence.GROUPS.values()] + [tuple(m.crime_types or ()) for m in measures]
    unknowns = _Unknowns(inc, in_area, months, sets)
    window = [m for m in months if str(rate[0]) <= m <= str(rate[1])]
    pack_published, pack_rows = _pack_figures(pack, unknowns, window)
    table_published, table_rows = _table_figures(table, measures, quarter_months, residents, unknowns)
    published, rows = pack_published + table_published, pack_rows + table_rows
    if exact:  # the control: every figure published as its true count, none suppressed
        published = [float(unknowns.true[r].sum()) for r in rows]
    tried = []
    for label, target in _small_count_targets(pack, table, measures, quarter_months, name, unknowns):
        value = int(unknowns.true[target].sum())
        if 0 < value < RULE.threshold:
            lo, hi = _feasible_range(published, rows, len(unknowns.true), target)
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


# --------------------------------------------------------------------------------------------------
# The partnership table: partner counts inside totals, and months against quarters
# --------------------------------------------------------------------------------------------------

_ASB_AREA = gpd.GeoDataFrame(
    {"area_code": ["A"], "area_name": ["Alpha"], "population": [2000]},
    geometry=[shapely.box(380_000, 410_000, 381_000, 411_000)],
    crs="EPSG:27700",
)
_ALL_ASB = Measure(
    "all_asb", "All ASB (police and council)", (schema.SOURCE_STREET, "council_asb"), ("Anti-social behaviour",)
)
_POLICE_ASB = Measure("asb_police", "ASB (police)", (schema.SOURCE_STREET,), ("Anti-social behaviour",))


def _asb_rows(month: str, n: int, source: str) -> pd.DataFrame:
    frame = _synthetic.incidents(np.full(n, 380_500.0), np.full(n, 410_500.0), month, "Anti-social behaviour")
    return frame.assign(**{schema.SOURCE: source, schema.OBJECT_OF_SEARCH: None})


def _asb_incidents() -> pd.DataFrame:
    """Two quarters (2023-01 .. 2023-06) of police.uk ASB, 43 a quarter, and council reports: 25 in the first
    quarter, 3 in the second (a small partner count)."""
    police = {"2023-01": 14, "2023-02": 14, "2023-03": 15, "2023-04": 14, "2023-05": 14, "2023-06": 15}
    council = {"2023-01": 8, "2023-02": 8, "2023-03": 9, "2023-04": 1, "2023-05": 1, "2023-06": 1}
    parts = [_asb_rows(m, n, schema.SOURCE_STREET) for m, n in police.items()]
    parts += [_asb_rows(m, n, "council_asb") for m, n in council.items()]
    return pd.concat(parts, ignore_index=True)


def _partner_attack(tables: list) -> list[tuple[str, int, float, float]]:  # noqa: ANN001
    """Every quarter's council count (a piece no measure shows alone) against the published all-ASB and
    police ASB counts of ``tables``: the true count and its feasible range (unknowns: police and council
    per quarter)."""
    quarters = ["Q4 Jan-Mar 2023", "Q1 Apr-Jun 2023"]
    true = {"Q4 Jan-Mar 2023": (43, 25), "Q1 Apr-Jun 2023": (43, 3)}
    published: list[float | None] = []
    rows: list[list[int]] = []
    for t in tables:
        for k, q in enumerate(quarters):
            for key, members in (("all_asb", [2 * k, 2 * k + 1]), ("asb_police", [2 * k])):
                if key in t.values.index:
                    published.append(float(t.values.loc[key, q]))
                    rows.append(members)
    tried = []
    for k, q in enumerate(quarters):
        lo, hi = _feasible_range(published, rows, 4, [2 * k + 1])
        tried.append((q, true[q][1], lo, hi))
    return tried


def test_a_partner_count_inside_a_total_cannot_be_had_by_differencing():
    """'All ASB' (police and council) beside 'ASB (police)': the council's 3 reports in Q1 Apr-Jun 2023 are
    all ASB minus police ASB. Published in one public table the police count is suppressed with them
    (the council's piece is a hidden cell of the all-ASB sum), so the attacker cannot show it is small;
    the same figures in two tables of one measure each (protected apart) give it away."""
    inc = _asb_incidents()
    params = TableParams(area="Alpha", n_quarters=2, public=True, measures=(_ALL_ASB, _POLICE_ASB))
    table = partnership_table(inc, _ASB_AREA, params=params)
    last = "Q1 Apr-Jun 2023"
    assert table.values.loc["all_asb", last] == 45 and np.isnan(table.values.loc["asb_police", last])
    assert table.values.loc["asb_police", "Q4 Jan-Mar 2023"] == 45  # council 25: nothing to hide there
    audit = table.audit.set_index(["row", "column"])
    assert audit.loc[("asb_police", last), "reason"].startswith("sole_suppressed_in_group")
    assert any(n.startswith("Partner data (All ASB (police and council)) are published") for n in table.footnotes)
    (_, _, _, hi_first), (_, true, lo, hi) = _partner_attack([table])
    assert true == 3 and lo <= true <= hi and hi >= RULE.threshold, (lo, hi)
    # the control: one measure per table, each protected alone, differenced
    apart = [
        partnership_table(inc, _ASB_AREA, params=TableParams(area="Alpha", n_quarters=2, public=True, measures=(m,)))
        for m in (_ALL_ASB, _POLICE_ASB)
    ]
    (_, _, _, _), (_, true, lo, hi) = _partner_attack(apart)
    assert hi < RULE.threshold, "the attack has no teeth"
    # a partner measure on its own passes through the same rule: 25 -> 25, 3 -> [c]
    council = Measure("asb_council", "ASB reports to the council", ("council_asb",))
    alone = partnership_table(
        inc, _ASB_AREA, params=TableParams(area="Alpha", n_quarters=2, public=True, measures=(council,))
    )
    assert alone.display.loc["ASB reports to the council", ["Q4 Jan-Mar 2023", last]].tolist() == ["25", "[c]"]
    assert set(alone.audit["column"]) == {last, "Q1 Apr-Jun 2022"}  # the year-ago quarter (no data: 0) too
    assert alone.audit["reason"].str.startswith("below_threshold").all()


def _month_quarter_attack(
    quarterly, monthly, true: pd.DataFrame, residents: float, rule: DisclosureParams
) -> list[tuple[str, str, int, float, float]]:  # noqa: ANN001
    """A public quarterly and a public monthly table of one area published together, measure by measure:
    unknowns the measure's count in each month of both windows; published figures each month of the
    monthly table, each quarter of the quarterly one (the sum of its months) and both year-ago values.
    Returns every month with a true count from 1 to threshold - 1 and its feasible range."""
    months = list(true.columns)
    label = {m: pd.Period(m, "M").strftime("%b %Y") for m in months}
    fin = {m: (pd.Period(m, "M").month - 4) % 12 // 3 for m in months}
    tried = []
    for key in true.index:
        per = 1000.0 / residents if key.endswith("_rate") else 1.0
        published: list[float | None] = []
        rows: list[list[int]] = []
        for j, m in enumerate(months):
            if label[m] in monthly.values.columns:
                published.append(monthly.values.loc[key, label[m]] / per)
                rows.append([j])
        quarter_of = {}
        for j, m in enumerate(months):
            year = pd.Period(m, "M").year - (pd.Period(m, "M").month < 4)
            names = ("Apr-Jun", "Jul-Sep", "Oct-Dec", "Jan-Mar")
            quarter_of.setdefault(f"Q{fin[m] + 1} {names[fin[m]]} {year + (fin[m] == 3)}", []).append(j)
        for q, members in quarter_of.items():
            if q in quarterly.values.columns and len(members) == 3:
                published.append(quarterly.values.loc[key, q] / per)
                rows.append(members)
        year_q = quarterly.metadata["year_on_year_period"]
        if year_q in quarter_of and len(quarter_of[year_q]) == 3:
            published.append(quarterly.values.loc[key, YEAR_AGO] / per)
            rows.append(quarter_of[year_q])
        year_m = next(m for m in months if label[m] == monthly.metadata["year_on_year_period"])
        published.append(monthly.values.loc[key, YEAR_AGO] / per)
        rows.append([months.index(year_m)])
        for j, m in enumerate(months):
            value = int(true.loc[key, m])
            if 0 < value < rule.threshold:
                lo, hi = _feasible_range(published, rows, len(months), [j], half=rule.round_to / 2)
                assert lo - 1e-6 <= value <= hi + 1e-6, (key, m, value, lo, hi)  # the model holds the truth
                tried.append((key, m, value, lo, hi))
    return tried


@pytest.mark.parametrize("rule", [RULE, DisclosureParams(round_to=1)], ids=["10-5", "10, unrounded"])
def test_monthly_and_quarterly_tables_together_reveal_no_suppressed_month(demo_borough, rule) -> None:  # noqa: ANN001
    """The board's monthly table and the scrutiny report's quarterly table of a ward, both public: no month
    of 1 to 9 incidents (a suppressed month, or one outside the monthly window inside a published quarter)
    is shown to be below the threshold, under the 10-5 rule and under a rule that does not round (where
    rounding cannot hide a difference). The control: months suppressed one by one, with no regard to the
    quarters, do give some away (without rounding)."""
    from geo_csp.disclosure import protect_cells

    inc = store.read_incidents(demo_borough.store_dir)
    wards = boundaries.load_wards().rename(columns={"ward_code": "area_code", "ward_name": "area_name"})
    wards = wards[["area_code", "area_name", "population", "geometry"]]
    tried, pinned_apart = [], []
    for ward in ("Besses", "Radcliffe West", "Tottington"):
        common = {"area": ward, "comparators": (), "disclosure": rule}
        quarterly = partnership_table(inc, wards, params=TableParams(**common, public=True))
        monthly = partnership_table(inc, wards, params=TableParams(**common, public=True, period="month"))
        truth = partnership_table(inc, wards, params=TableParams(**common, period="month", n_months=15))
        residents = float(wards.loc[wards["area_name"] == ward, "population"].iloc[0])
        cols = list(truth.values.columns[:15])
        months = [pd.Period(c, "M").strftime("%Y-%m") for c in pd.to_datetime(cols, format="%b %Y")]
        true = truth.values[cols].set_axis(months, axis=1)
        rate = np.broadcast_to(np.asarray(true.index.str.endswith("_rate"))[:, None], true.shape)
        true = true.where(~rate, true * residents / 1000.0).round().fillna(0).astype(int)
        true = true.loc[[k for k in true.index if monthly.values.loc[k].notna().any()]]  # measures with data
        found = _month_quarter_attack(quarterly, monthly, true, residents, rule)
        tried += found
        assert [t for t in found if t[4] < rule.threshold] == [], f"{ward}: {found[:3]}"
        # the control: the same monthly table with each month protected alone
        apart = monthly.values.copy()
        shown = list(monthly.values.columns[:13])
        for key in true.index:
            per = 1000.0 / residents if key.endswith("_rate") else 1.0
            raw = true.loc[key, months[2:]].to_numpy(dtype=float)
            apart.loc[key, shown] = protect_cells(raw, [], params=rule)[0] * per
        lone = type(monthly)(**{**monthly.__dict__, "values": apart})
        attack = _month_quarter_attack(quarterly, lone, true, residents, rule)
        pinned_apart += [t for t in attack if t[4] < rule.threshold]
    assert len(tried) >= 30, f"too few small months tried: {len(tried)}"
    if rule.round_to == 1:
        assert pinned_apart, "the attack has no teeth against months protected one by one"
