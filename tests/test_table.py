"""The quarterly partnership table: known answers on a hand-made table, the demo borough checked against
counts made independently from its raw police.uk CSVs, the writers, and the real GMP burglary table."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely

from geo_csp import schema
from geo_csp._errors import ParameterError
from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.table import (
    COMPARATOR,
    DEFAULT_MEASURES,
    NOT_AVAILABLE,
    RANK,
    TREND,
    YEAR_AGO,
    YEAR_ON_YEAR,
    Measure,
    TableParams,
    frame_html,
    partnership_table,
    write_table_csv,
    write_table_html,
    write_table_xlsx,
)
import _synthetic

# Two 1 km squares side by side: A (focus, 2,000 residents) and B (comparator, 4,000 residents).
AREAS = gpd.GeoDataFrame(
    {"area_code": ["A", "B"], "area_name": ["Alpha", "Beta"], "population": [2000, 4000]},
    geometry=[shapely.box(380_000, 410_000, 381_000, 411_000), shapely.box(381_000, 410_000, 382_000, 411_000)],
    crs="EPSG:27700",
)


def _rows(
    area: str, month: str, crime_type: str, n: int, source: str = schema.SOURCE_STREET, obj: str | None = None
) -> pd.DataFrame:
    x0 = 380_500 if area == "A" else 381_500
    frame = _synthetic.incidents(np.full(n, float(x0)), np.full(n, 410_500.0), month, crime_type)
    return frame.assign(**{schema.SOURCE: source, schema.OBJECT_OF_SEARCH: obj})


def _hand_incidents() -> pd.DataFrame:
    parts = []
    # six quarters of street data, 2022-01 .. 2023-06 (Q4 2021/22 .. Q1 2023/24): three months each
    months = [f"2022-{m:02d}" for m in range(1, 13)] + [f"2023-{m:02d}" for m in range(1, 7)]
    for k, month in enumerate(months):
        q = k // 3  # 0..5
        parts.append(_rows("A", month, "Burglary", 2 + q))  # per quarter: 3 * (2 + q)
        parts.append(_rows("A", month, "Violence and sexual offences", 10))
        parts.append(_rows("B", month, "Burglary", 4))
        parts.append(_rows("A", month, "Drugs", 1 if q < 5 else 0))
    # stop and search: drug searches in A only in the last quarter, and one weapons search
    parts.append(_rows("A", "2023-05", schema.STOP_AND_SEARCH_TYPE, 7, schema.SOURCE_STOP_SEARCH, "Controlled drugs"))
    parts.append(_rows("A", "2023-05", schema.STOP_AND_SEARCH_TYPE, 1, schema.SOURCE_STOP_SEARCH, "Offensive weapons"))
    # an unlocated burglary (never counted in an area) and one outside both areas
    parts.append(_rows("A", "2023-04", "Burglary", 1).assign(easting=np.nan, northing=np.nan, located=False))
    parts.append(_rows("A", "2023-04", "Burglary", 1).assign(easting=300_000.0))
    return pd.concat(parts, ignore_index=True)


def test_hand_table_known_answers():
    inc = _hand_incidents()
    before = inc.copy()
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha"))
    pd.testing.assert_frame_equal(inc, before)
    quarters = ["Q1 Apr-Jun 2022", "Q2 Jul-Sep 2022", "Q3 Oct-Dec 2022", "Q4 Jan-Mar 2023", "Q1 Apr-Jun 2023"]
    assert list(t.display.columns) == quarters + [TREND, YEAR_ON_YEAR, COMPARATOR, RANK]
    v = t.values
    # burglary in A: 3 * (2 + q) for q = 1..5
    np.testing.assert_array_equal(v.loc["burglary", quarters], [9, 12, 15, 18, 21])
    assert t.display.loc["Burglaries (residential and business)", TREND] == "↑"
    # comparator: B is the only comparator, 12 burglaries in the latest quarter
    assert v.loc["burglary", COMPARATOR] == 12
    # violence: 30 per quarter per 2,000 residents = 15.0 per 1,000; B has none (a true zero, with data)
    np.testing.assert_allclose(v.loc["violence_rate", quarters], 15.0)
    assert t.display.loc["Violent crime per 1,000 residents", TREND] == "→"
    assert v.loc["violence_rate", COMPARATOR] == 0.0
    # all crime rate: burglary + violence + drugs per 1,000
    np.testing.assert_allclose(
        v.loc["all_crime_rate", quarters], (np.array([9, 12, 15, 18, 21]) + 30 + [3, 3, 3, 3, 0]) / 2.0
    )
    np.testing.assert_allclose(v.loc["all_crime_rate", COMPARATOR], 12 * 1000 / 4000)
    assert t.display.loc["Drug offences", TREND] == "↓"
    # stop and search: only in the latest quarter, so earlier quarters are not available
    assert v.loc["drug_searches", quarters[-1]] == 7
    assert (t.display.loc["Drug-related stop searches", quarters[:-1]] == NOT_AVAILABLE).all()
    assert t.display.loc["Drug-related stop searches", TREND] == ""
    # no council data at all: not available everywhere, comparator too; never a number
    assert (t.display.loc["ASB reports to the council"].drop(TREND) == NOT_AVAILABLE).all()
    notes = " ".join(t.footnotes)
    assert "2022-04 to 2023-06" in notes and "police.uk does not separate residential" in notes
    assert "Beta" in notes and "unlocated incidents are not counted" in notes


def test_public_mode_suppresses_and_rounds():
    t = partnership_table(_hand_incidents(), AREAS, params=TableParams(area="Alpha", public=True))
    quarters = list(t.display.columns[:5])
    burglary = "Burglaries (residential and business)"
    # the burglaries alone (9, 12, 15, 18, 21) round to [c], 10, 15, 20, 20 ...
    alone = partnership_table(
        _hand_incidents(), AREAS, params=TableParams(area="Alpha", public=True, measures=(DEFAULT_MEASURES[2],))
    )
    assert alone.display.loc[burglary, quarters].tolist() == [SUPPRESSED_MARK, "10", "15", "20", "20"]
    assert alone.display.loc[burglary, TREND] == "→"  # compared as published
    # ... but here all crimes are burglary + violence + drugs: the drug offences (3 a quarter, [c]) would be
    # all crimes minus the other two, so the smallest other part, burglary, is suppressed too
    assert t.display.loc[burglary, quarters].tolist() == [SUPPRESSED_MARK] * 5
    secondary = t.audit[(t.audit["row"] == "burglary") & (t.audit["step"] == "secondary")]
    assert list(secondary["column"]) == quarters[1:]
    assert secondary["reason"].str.startswith("sole_suppressed_in_group").all()
    np.testing.assert_allclose(t.values.loc["all_crime_rate", quarters], [20.0, 22.5, 25.0, 25.0, 25.0])
    assert t.display.loc["Drug-related stop searches", quarters[-1]] == SUPPRESSED_MARK
    assert t.display.loc["Drug offences", quarters].tolist() == [SUPPRESSED_MARK] * 4 + [SUPPRESSED_MARK]
    assert set(t.audit["row"]) >= {"burglary", "drugs", "drug_searches"}
    # partner measures are shown in a public table too (here the store has no council data)
    assert (t.display.loc["ASB reports to the council", quarters] == NOT_AVAILABLE).all()
    assert any(n.startswith("Partner data (ASB reports to the council) are published") for n in t.footnotes)
    assert "suppressed" in t.footnotes[-2] or any("suppressed" in n for n in t.footnotes)
    assert (
        t.values.drop(columns=[COMPARATOR, RANK])  # the rank is a place, not a count
        .stack()
        .dropna()
        .pipe(lambda s: s[~s.index.get_level_values(0).str.endswith("rate")])
        % 5
        == 0
    ).all()


def test_writers(tmp_path):
    from openpyxl import load_workbook

    t = partnership_table(_hand_incidents(), AREAS, params=TableParams(area="A"))
    xlsx = write_table_xlsx(t, tmp_path / "t.xlsx")
    ws = load_workbook(xlsx).active
    assert ws["A4"].value == DEFAULT_MEASURES[0].label
    # burglary row (3rd measure) keeps numbers as numbers with a count format
    assert ws.cell(row=6, column=2).value == 9 and ws.cell(row=6, column=2).number_format == "#,##0"
    assert ws.cell(row=4, column=2).number_format == "#,##0.0"
    assert ws.cell(row=6, column=7).value == "↑"
    assert ws.cell(row=8, column=2).value == NOT_AVAILABLE
    texts = [c.value for c in ws["A"] if isinstance(c.value, str)]
    assert any("police.uk does not separate" in s for s in texts)
    csv = write_table_csv(t, tmp_path / "t.csv")
    back = pd.read_csv(csv, comment="#", index_col=0)
    assert back.loc["Burglaries (residential and business)", "Q1 Apr-Jun 2023"] == "21"
    assert csv.read_text(encoding="utf-8").count("\n# ") == len(t.footnotes)
    page = write_table_html(t, tmp_path / "t.html").read_text(encoding="utf-8")
    assert "<table" in page and "Burglaries (residential and business)" in page and "↑" in page


def test_errors():
    with pytest.raises(ParameterError, match="not among the areas"):
        partnership_table(_hand_incidents(), AREAS, params=TableParams(area="Gamma"))
    with pytest.raises(ParameterError, match="not a complete quarter"):
        partnership_table(_hand_incidents(), AREAS, params=TableParams(area="A", end_quarter="Q1 Apr-Jun 2030"))
    with pytest.raises(ParameterError, match="sources must be a non-empty tuple"):
        Measure("x", "X", ())


# ----------------------------------------------------------------------------------------------
# The demo borough, against counts made here from its raw CSVs (pandas + shapely, not the store)
# ----------------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    from geo_csp.demo import make_demo

    return make_demo(tmp_path_factory.mktemp("demo"))


def _raw_demo_counts(demo, borough: shapely.Geometry, *, period: str = "quarter") -> pd.DataFrame:
    """Counts per (measure key, financial quarter label, or month label "Dec 2025") from the raw police.uk
    and council CSVs."""
    from pyproj import Transformer

    to_bng = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True)
    street = pd.concat([pd.read_csv(p, dtype=str) for p in sorted(Path(demo.police_uk_dir).glob("*/*-street.csv"))])
    search = pd.concat(
        [pd.read_csv(p, dtype=str) for p in sorted(Path(demo.police_uk_dir).glob("*/*-stop-and-search.csv"))]
    )
    council = pd.read_csv(demo.council_csv, dtype=str)

    def inside_lonlat(lon, lat):
        x, y = to_bng.transform(
            pd.to_numeric(lon, errors="coerce").to_numpy(), pd.to_numeric(lat, errors="coerce").to_numpy()
        )
        return shapely.contains_xy(borough, x, y)

    street = street[inside_lonlat(street["Longitude"], street["Latitude"])]
    search = search[inside_lonlat(search["Longitude"], search["Latitude"])]
    search_month = pd.to_datetime(search["Date"], utc=True).dt.tz_convert("Europe/London").dt.strftime("%Y-%m")
    when = pd.to_datetime(council["Reported"], format="%d/%m/%Y %H:%M", errors="coerce")
    ex, no = pd.to_numeric(council["Easting"], errors="coerce"), pd.to_numeric(council["Northing"], errors="coerce")
    ok = (
        when.notna()
        & council["Type"].notna()
        & ~council["Ref"].duplicated()
        & shapely.contains_xy(borough, ex.to_numpy(), no.to_numpy())
    )
    council_month = when[ok].dt.strftime("%Y-%m")

    def by_quarter(months: pd.Series) -> pd.Series:
        m = pd.PeriodIndex(months, freq="M")
        if period == "month":
            return pd.Series(m.strftime("%b %Y")).value_counts()
        fy = m.year - (m.month < 4)
        q = ((m.month - 4) % 12) // 3
        names = np.array(["Apr-Jun", "Jul-Sep", "Oct-Dec", "Jan-Mar"])
        label = pd.Series("Q" + (q + 1).astype(str) + " " + names[q] + " " + (fy + (q == 3)).astype(str))
        return label.value_counts()

    crimes = street["Crime type"] != "Anti-social behaviour"
    return pd.DataFrame(
        {
            "all_crime": by_quarter(street.loc[crimes, "Month"]),
            "violence": by_quarter(street.loc[street["Crime type"] == "Violence and sexual offences", "Month"]),
            "burglary": by_quarter(street.loc[street["Crime type"] == "Burglary", "Month"]),
            "asb_police": by_quarter(street.loc[~crimes, "Month"]),
            "asb_council": by_quarter(council_month),
            "drugs": by_quarter(street.loc[street["Crime type"] == "Drugs", "Month"]),
            "drug_searches": by_quarter(search_month[search["Object of search"] == "Controlled drugs"]),
            "weapons": by_quarter(street.loc[street["Crime type"] == "Possession of weapons", "Month"]),
        }
    ).T.fillna(0)


def test_demo_table_matches_raw_csvs(demo, tmp_path):
    from geo_csp.boundaries import load_borough
    from geo_csp.table import table_from_store

    t = table_from_store(demo.store_dir)
    quarters = ["Q3 Oct-Dec 2024", "Q4 Jan-Mar 2025", "Q1 Apr-Jun 2025", "Q2 Jul-Sep 2025", "Q3 Oct-Dec 2025"]
    assert list(t.display.columns) == quarters + [TREND, YEAR_ON_YEAR, COMPARATOR, RANK]
    borough = load_borough()
    raw = _raw_demo_counts(demo, borough.geometry.iloc[0])[quarters]
    pop = float(borough["population"].iloc[0])
    expected = raw.astype(float)
    expected.loc["all_crime"] *= 1000 / pop
    expected.loc["violence"] *= 1000 / pop
    expected.index = [m.key for m in DEFAULT_MEASURES]
    np.testing.assert_allclose(t.values[quarters].to_numpy(), expected.to_numpy(), rtol=1e-12)
    arrows = np.sign(expected[quarters[-1]] - expected[quarters[-2]]).map({1: "↑", -1: "↓", 0: "→"})
    assert t.display[TREND].tolist() == arrows.tolist()
    # a single borough in the store: the comparator is not available, never a number
    assert (t.display[COMPARATOR] == NOT_AVAILABLE).all() and t.values[COMPARATOR].isna().all()
    from geo_csp import store

    assert (
        f'incident store "{store.store_label(demo.store_dir)}"' in t.footnotes[1]
        and "2024-10 to 2025-12" in t.footnotes[1]
    )
    # the store's operations layer, noted under the quarters they ran in
    assert t.footnotes[0].startswith("Operations: ") and "Avro" in t.footnotes[0]
    assert any(n.startswith(q) and "Avro" in n for n in t.metadata["operation_notes"] for q in quarters)
    print("\n" + t.display.to_string() + "\n" + "\n".join(t.footnotes[:2]))
    assert str(demo.store_dir.parent) not in " ".join(t.footnotes)  # the store by its label, no local path
    write_table_xlsx(t, tmp_path / "demo.xlsx")
    print("\n" + t.display.to_string())


def test_demo_monthly_table_matches_raw_csvs(demo):
    """The board's monthly table (13 months to Dec 2025) against counts made here from the raw CSVs, with its
    month-on-month and year-on-year columns (burglary 90 in Dec 2025, 99 in Nov, 90 a year before)."""
    from geo_csp.boundaries import load_borough
    from geo_csp.table import MONTH_ON_MONTH, table_from_store

    t = table_from_store(demo.store_dir, period="month")
    months = [f"{m} 2025" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")]
    months = ["Dec 2024", *months]
    assert list(t.display.columns) == months + [MONTH_ON_MONTH, YEAR_ON_YEAR, COMPARATOR, RANK]
    borough = load_borough()
    raw = _raw_demo_counts(demo, borough.geometry.iloc[0], period="month")[months].astype(float)
    raw.loc[["all_crime", "violence"]] *= 1000 / float(borough["population"].iloc[0])
    raw.index = [m.key for m in DEFAULT_MEASURES]
    np.testing.assert_allclose(t.values[months].to_numpy(), raw.to_numpy(), rtol=1e-12)
    np.testing.assert_allclose(t.values[YEAR_AGO], raw["Dec 2024"], rtol=1e-12)  # 13 months: the year-ago month in view
    burglary, council = "Burglaries (residential and business)", "ASB reports to the council"
    assert t.values.loc["burglary", months[-2:]].tolist() == [99, 90]
    assert t.display.loc[burglary, MONTH_ON_MONTH] == "↓ -9 (-9%) from 99"
    assert t.display.loc[burglary, YEAR_ON_YEAR] == "→ +0 (+0%) from 90"
    assert t.display.loc[council, MONTH_ON_MONTH] == "↑ +5 (+3%) from 187"
    assert t.display.loc[council, YEAR_ON_YEAR] == "↑ +48 (+33%) from 144"
    assert t.metadata["period"] == "month" and t.metadata["year_on_year_period"] == "Dec 2024"
    assert any("calendar months" in n and "2024-12 to 2025-12" in n for n in t.footnotes)
    assert any(n.startswith("Month on month: Dec 2025 against Nov 2025") for n in t.footnotes)
    # the store's operations, noted under the months they ran in
    assert any(n.split(":")[0] in months and "Avro" in n for n in t.metadata["operation_notes"])
    six = table_from_store(demo.store_dir, period="month", n_months=6)  # the year-ago month counted out of view
    assert list(six.values.columns[:6]) == months[-6:] and six.values.loc["burglary", YEAR_AGO] == 90
    assert six.display.loc[burglary, YEAR_ON_YEAR] == "→ +0 (+0%) from 90"


# ----------------------------------------------------------------------------------------------
# Real data: Bury burglary 2016-2019 with the other nine GM boroughs as comparators
# ----------------------------------------------------------------------------------------------

GM_LAS = (
    "E08000001",
    "E08000002",
    "E08000003",
    "E08000004",
    "E08000005",
    "E08000006",
    "E08000007",
    "E08000008",
    "E08000009",
    "E08000010",
)


def _gmp_burglary_incidents(path: Path) -> pd.DataFrame:
    """The 4-column GMP burglary file (Month, Crime.type, Longitude, Latitude) in the store's columns."""
    from pyproj import Transformer

    raw = pd.read_csv(path)
    x, y = Transformer.from_crs("EPSG:4326", "EPSG:27700", always_xy=True).transform(
        raw["Longitude"].to_numpy(), raw["Latitude"].to_numpy()
    )
    return pd.DataFrame(
        {
            schema.SOURCE: schema.SOURCE_STREET,
            schema.MONTH: raw["Month"],
            schema.CRIME_TYPE: raw["Crime.type"],
            schema.EASTING: x,
            schema.NORTHING: y,
            schema.LOCATED: True,
            schema.OBJECT_OF_SEARCH: None,
        }
    )


@pytest.mark.slow
def test_real_bury_burglary_table_with_gm_comparators(real_file, tmp_path):
    points = real_file("gmp-burglary-2016-2019", "gmp_burglary_points_2016-02_to_2019-01.csv.gz")
    bury_points = real_file("gmp-burglary-2016-2019", "bury_burglary_points_2016-02_to_2019-01.csv.gz")
    las_path = real_file("gm-local-authorities", "gm_local_authority_2021_generalised.geojson")
    pop_path = real_file("population", "mid2017_population_lsoa11_ward_la_england_wales.csv.gz")
    pop = pd.read_csv(pop_path, dtype={"area_code": str}).set_index("area_code")["population_mid2017"]
    las = gpd.read_file(las_path).to_crs("EPSG:27700")
    las["population"] = las["area_code"].map(pop)
    assert sorted(las["area_code"]) == list(GM_LAS) and las["population"].notna().all()

    measures = (
        Measure(
            "burglary",
            "Burglaries (police.uk)",
            (schema.SOURCE_STREET,),
            ("Burglary",),
            note='police.uk "Burglary": residential and business together',
        ),
        Measure(
            "burglary_rate", "Burglaries per 1,000 residents", (schema.SOURCE_STREET,), ("Burglary",), per_1000=True
        ),
    )
    inc = _gmp_burglary_incidents(points)
    t = partnership_table(
        inc,
        las,
        params=TableParams(area="Bury", n_quarters=11),
        measures=measures,
        provenance={"store": "gmp_burglary_points_2016-02_to_2019-01.csv.gz", "population": "ONS mid-2017 estimates"},
    )
    quarters = [c for c in t.display.columns if c.startswith("Q")]
    assert quarters[0] == "Q1 Apr-Jun 2016" and quarters[-1] == "Q3 Oct-Dec 2018"
    # independent oracle: the Bury subset made upstream by point-in-polygon, counted by quarter here
    bury = pd.read_csv(bury_points)
    month = pd.PeriodIndex(bury["Month"], freq="M")
    fin_q = (month.year - (month.month < 4)).astype(str) + "Q" + (((month.month - 4) % 12) // 3 + 1).astype(str)
    expected = bury.groupby(fin_q.to_numpy()).size()
    np.testing.assert_array_equal(t.values.loc["burglary", quarters].to_numpy(), expected.loc["2016Q1":"2018Q3"])
    # comparator: nine boroughs, latest quarter, average count and combined-population rate
    assert len(t.metadata["comparators"]) == 9 and "Bury" not in t.metadata["comparators"]
    lat = inc[inc[schema.MONTH].isin(["2018-10", "2018-11", "2018-12"])]
    from geo_csp.boundaries import assign_to_polygons

    code = assign_to_polygons(
        lat[schema.EASTING].to_numpy(), lat[schema.NORTHING].to_numpy(), las, code_col="area_code"
    )
    others = pd.Series(code).value_counts().drop("E08000002")
    assert t.values.loc["burglary", COMPARATOR] == pytest.approx(others.sum() / 9)
    assert t.values.loc["burglary_rate", COMPARATOR] == pytest.approx(
        others.sum() * 1000 / pop.loc[list(others.index)].sum()
    )
    # rank among the ten districts, oracle: every district's rate in the latest quarter, ranked here
    all_counts = pd.Series(code).value_counts().reindex(las["area_code"], fill_value=0)
    rates = all_counts * 1000 / pop.loc[las["area_code"]].to_numpy()
    place = int((rates < rates.loc["E08000002"]).sum()) + 1
    assert t.values.loc["burglary_rate", RANK] == place and t.values.loc["burglary", RANK] == place
    assert t.display.loc["Burglaries per 1,000 residents", RANK].endswith("of 10")
    # year on year: Q3 Oct-Dec 2018 against Q3 Oct-Dec 2017, from the upstream Bury subset
    assert t.values.loc["burglary", YEAR_AGO] == expected.loc["2017Q3"]
    print(
        f"\nBury burglary {quarters[-1]}: {rates.loc['E08000002']:.2f} per 1,000, place {place} of 10 from the lowest"
    )
    print(rates.sort_values().round(2).to_string())
    Path(__file__).parent.joinpath("_artifacts").mkdir(exist_ok=True)
    write_table_xlsx(t, Path(__file__).parent / "_artifacts" / "bury_burglary_2016_2019.xlsx")
    write_table_html(t, Path(__file__).parent / "_artifacts" / "bury_burglary_2016_2019.html")
    print("\n" + t.display.T.to_string())
    print("\n".join(t.footnotes))


def test_frame_html_known_answer():
    frame = pd.DataFrame({"Cells": ["19"], "Why": ["hot <always>"]}, index=pd.Index(["a & b"], name="Class"))
    assert frame_html(frame, text_columns=["Why"], classes="t") == (
        '<table class="t"><thead><tr><th>Class</th><th class="num">Cells</th><th class="text">Why</th></tr>'
        '</thead><tbody><tr><th>a &amp; b</th><td class="num">19</td><td class="text">hot &lt;always&gt;</td>'
        "</tr></tbody></table>"
    )
    shown = frame_html(frame.assign(Cells=[np.nan]), index=False, na_rep="-")
    assert "<th>Class</th>" not in shown and '<td class="num">-</td>' in shown


def _street_store(tmp_path: Path, centre: tuple[float, float], config: dict | None) -> Path:
    """A store of 300 police.uk street rows around ``centre`` (EPSG:27700), with ``config`` if given."""
    from _synthetic import random_incidents
    from geo_csp import ingest, store

    inc = random_incidents(300, seed=9, months=6, centre=centre, spread_m=800.0)
    rows = pd.DataFrame(
        {
            "Crime ID": "",
            "Month": inc.month,
            "Reported by": "Lancashire Constabulary",
            "Falls within": "Lancashire Constabulary",
            "Longitude": inc.lon.round(6),
            "Latitude": inc.lat.round(6),
            "Location": inc.location,
            "LSOA code": "",
            "LSOA name": "",
            "Crime type": inc.crime_type,
            "Last outcome category": "",
            "Context": "",
        }
    )
    rows.to_csv(tmp_path / "street.csv", index=False)
    ingest.ingest_paths([tmp_path / "street.csv"], store_dir=tmp_path / "store")
    if config is not None:
        store.write_store_config(tmp_path / "store", config)
    return tmp_path / "store"


@pytest.mark.parametrize(
    "config, pattern",
    [
        (None, r"names no borough in its config and fewer than 50% of its located incidents lie in Bury.*config\.json"),
        (
            {"borough": "Blackburn with Darwen"},
            r"names the borough 'Blackburn with Darwen' but no \"boundary\", \"wards\" or \"areas\" file.*geo-csp configure",
        ),
    ],
)
def test_another_boroughs_store_is_not_reported_against_bury(tmp_path, config, pattern):
    from geo_csp.geography import store_areas
    from geo_csp.table import table_from_store

    store_dir = _street_store(tmp_path, (368_000.0, 428_000.0), config)  # Blackburn
    with pytest.raises(ParameterError, match=pattern):
        store_areas(store_dir)
    with pytest.raises(ParameterError, match=pattern):
        table_from_store(store_dir)


def test_a_bury_store_without_config_keeps_the_shipped_borough(tmp_path):
    from geo_csp.geography import store_areas

    areas, focus, source = store_areas(_street_store(tmp_path, (380_500.0, 410_500.0), None))  # Bury town centre
    assert len(areas) == 1 and focus == "Bury" and "shipped borough outline" in source


def test_one_complete_quarter():
    """A store holding one complete financial quarter gives a one-column table, its trend "not available"."""
    inc = _hand_incidents()
    inc = inc[inc[schema.MONTH].isin(["2022-03", "2022-04", "2022-05", "2022-06", "2022-07"])]
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha", n_quarters=1))
    assert list(t.display.columns) == ["Q1 Apr-Jun 2022", TREND, YEAR_ON_YEAR, COMPARATOR, RANK]
    assert t.values.loc["burglary", "Q1 Apr-Jun 2022"] == 9  # 3 months x (2 + 1)
    assert set(t.display[TREND]) == {NOT_AVAILABLE}
    assert any("one complete financial quarter (Q1 Apr-Jun 2022)" in n for n in t.footnotes)
    same = partnership_table(inc, AREAS, params=TableParams(area="Alpha"))  # 5 asked, 1 held
    pd.testing.assert_frame_equal(same.display, t.display)


def test_crime_types_a_partner_source_does_not_record_are_not_available():
    """Counted from an ASB-only partner source, burglary is "not available", not 0; ASB is counted."""
    from geo_csp.table import measures_from_sources

    inc = _hand_incidents()
    asb = pd.concat(
        [
            _rows("A", m, "Anti-social behaviour", 5, source="asb_points")
            for m in ("2023-01", "2023-02", "2023-03", "2023-04", "2023-05", "2023-06")
        ]
    )
    measures = measures_from_sources(DEFAULT_MEASURES, ["asb_points"])
    t = partnership_table(asb, AREAS, params=TableParams(area="Alpha", n_quarters=2), measures=measures)
    shown = t.display.set_axis([m.key for m in measures])
    assert list(shown.loc["asb_police", ["Q4 Jan-Mar 2023", "Q1 Apr-Jun 2023"]]) == ["15", "15"]
    for key in ("burglary", "drugs", "weapons", "violence_rate"):
        assert list(shown.loc[key]) == [NOT_AVAILABLE] * 6, key
    assert any("record no such incidents at all" in n and "Burglaries" in n for n in t.footnotes)
    # police.uk street data publish every category: a month without drugs offences is a true 0
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha"))
    assert t.display.loc["Drug offences", "Q1 Apr-Jun 2023"] == "0"


def test_year_on_year_known_answer():
    """The latest quarter against the same quarter a year earlier, counted even when that quarter is not shown."""
    inc = _hand_incidents()
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha"))
    burglary = "Burglaries (residential and business)"
    # Q1 Apr-Jun 2023: 3 x (2 + 5) = 21 burglaries; Q1 Apr-Jun 2022: 3 x (2 + 1) = 9
    assert t.values.loc["burglary", YEAR_AGO] == 9
    assert t.display.loc[burglary, YEAR_ON_YEAR] == "↑ +12 (+133%) from 9"
    assert t.display.loc["Drug offences", YEAR_ON_YEAR] == "↓ -3 (-100%) from 3"
    assert t.display.loc["Violent crime per 1,000 residents", YEAR_ON_YEAR] == "→ +0.0 (+0%) from 15.0"
    # stop searches only in the latest quarter: the year-ago quarter is not in the store
    assert t.display.loc["Drug-related stop searches", YEAR_ON_YEAR] == NOT_AVAILABLE
    assert t.metadata["year_on_year_quarter"] == "Q1 Apr-Jun 2022"
    two = partnership_table(inc, AREAS, params=TableParams(area="Alpha", n_quarters=2))
    assert "Q1 Apr-Jun 2022" not in two.display.columns
    assert two.display.loc[burglary, YEAR_ON_YEAR] == "↑ +12 (+133%) from 9"
    # a year-ago quarter the store holds only in part is not available, not a smaller number
    part = partnership_table(inc[inc[schema.MONTH] != "2022-05"], AREAS, params=TableParams(area="Alpha"))
    assert part.display.loc[burglary, YEAR_ON_YEAR] == NOT_AVAILABLE and np.isnan(part.values.loc["burglary", YEAR_AGO])
    # public mode: the year-ago count goes through the same rule (9 < 10 is suppressed)
    pub = partnership_table(inc, AREAS, params=TableParams(area="Alpha", public=True))
    assert pub.display.loc[burglary, YEAR_ON_YEAR] == SUPPRESSED_MARK


def test_rank_among_hand_made_districts():
    """Four districts: the focus's place from the lowest rate per 1,000, counts ranked by rate too."""
    pops = {"A": 1000, "B": 4000, "C": 2000, "D": 500}
    areas = gpd.GeoDataFrame(
        {"area_code": list(pops), "area_name": ["Ash", "Birch", "Cedar", "Dale"], "population": list(pops.values())},
        geometry=[shapely.box(380_000 + 1000 * k, 410_000, 381_000 + 1000 * k, 411_000) for k in range(4)],
        crs="EPSG:27700",
    )
    burglaries = {"A": 10, "B": 20, "C": 6, "D": 1}  # a month; the quarter per 1,000: 30, 15, 9, 6
    parts = []
    for k, (code, n) in enumerate(burglaries.items()):
        for month in ("2023-04", "2023-05", "2023-06"):
            x = np.full(n, 380_500.0 + 1000 * k)
            frame = _synthetic.incidents(x, np.full(n, 410_500.0), month, "Burglary")
            parts.append(frame.assign(**{schema.SOURCE: schema.SOURCE_STREET, schema.OBJECT_OF_SEARCH: None}))
    inc = pd.concat(parts, ignore_index=True)
    rate = Measure("rate", "Burglaries per 1,000", (schema.SOURCE_STREET,), ("Burglary",), per_1000=True)
    count = Measure("count", "Burglaries", (schema.SOURCE_STREET,), ("Burglary",))
    expected = {"Dale": "lowest of 4", "Cedar": "2nd lowest of 4", "Birch": "3rd lowest of 4", "Ash": "highest of 4"}
    for name, words in expected.items():
        t = partnership_table(inc, areas, params=TableParams(area=name, n_quarters=1), measures=(rate, count))
        assert t.display[RANK].tolist() == [words, words], name
    t = partnership_table(inc, areas, params=TableParams(area="Birch", comparators=("Ash",)), measures=(rate, count))
    assert t.display[RANK].tolist() == ["lowest of 2"] * 2  # Birch has more burglaries than Ash, at half the rate
    assert t.values.loc["rate", RANK] == 1
    # no comparator with data: not available
    alone = partnership_table(inc, areas.iloc[[3]], params=TableParams(area="Dale"), measures=(rate,))
    assert alone.display.loc["Burglaries per 1,000", RANK] == NOT_AVAILABLE
    # public mode: a suppressed count keeps its place hidden
    pub = partnership_table(inc, areas, params=TableParams(area="Dale", public=True), measures=(count,))
    assert pub.display.loc["Burglaries", "Q1 Apr-Jun 2023"] == SUPPRESSED_MARK  # 3 burglaries
    assert pub.display.loc["Burglaries", RANK] == SUPPRESSED_MARK
    pub = partnership_table(inc, areas, params=TableParams(area="Birch", public=True), measures=(count,))
    assert pub.display.loc["Burglaries", RANK] == "3rd lowest of 4"  # from the rounded counts (30, 60, 20, 0 or 5)


def test_operation_notes_known_answer():
    """An operation is noted under every quarter its dates overlap, one-day operations with one date."""
    ops = pd.DataFrame(
        {
            "name": ["Avro day of action", "Lantern", "Old op"],
            "start_date": pd.to_datetime(["2023-05-14", "2022-12-20", "2020-01-01"]),
            "end_date": pd.to_datetime(["2023-05-14", "2023-01-10", "2020-02-01"]),
        }
    )
    t = partnership_table(_hand_incidents(), AREAS, params=TableParams(area="Alpha"), operations=ops)
    assert t.metadata["operation_notes"] == [
        "Q3 Oct-Dec 2022: Lantern (2022-12-20 to 2023-01-10)",
        "Q4 Jan-Mar 2023: Lantern (2022-12-20 to 2023-01-10)",
        "Q1 Apr-Jun 2023: Avro day of action (2023-05-14)",
    ]
    assert t.footnotes[0] == "Operations: " + ". ".join(t.metadata["operation_notes"]) + "."
    none = partnership_table(_hand_incidents(), AREAS, params=TableParams(area="Alpha"), operations=ops.iloc[2:])
    assert none.metadata["operation_notes"] == [] and not none.footnotes[0].startswith("Operations")


def test_qualified_measures_count_flags_and_say_not_available_for_police_uk():
    """A domestic-abuse rate and a VAWG count from a force extract with flags; from police.uk (no flags) "not available"."""
    inc = _hand_incidents()
    flagged = pd.concat(
        [
            _rows("A", m, "Violence and sexual offences", 4, source="force_crime")
            for m in ("2023-04", "2023-05", "2023-06")
        ],
        ignore_index=True,
    )
    # per month: rows 0, 1 domestic with a female victim; row 2 female, not domestic; row 3 male, not domestic
    flagged[schema.DOMESTIC] = pd.array([True, True, False, False] * 3, dtype="boolean")
    flagged[schema.VICTIM_SEX] = pd.array(["female", "female", "female", "male"] * 3, dtype="string")
    inc = pd.concat([inc, flagged], ignore_index=True)
    measures = (
        Measure(
            "da_rate", "Domestic abuse per 1,000 residents", ("force_crime",), per_1000=True, qualified="domestic_abuse"
        ),
        Measure("vawg", "Violence against women and girls", ("force_crime",), qualified="vawg"),
        Measure("da_police", "Domestic abuse (police.uk)", (schema.SOURCE_STREET,), qualified="domestic_abuse"),
    )
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha", n_quarters=2), measures=measures)
    last = t.values.columns[1]
    assert t.values.loc["da_rate", last] == 6 * 1000 / 2000  # 6 domestic records per 2,000 residents
    assert t.values.loc["vawg", last] == 9  # 9 female victims of violence
    assert (t.display.loc["Domestic abuse (police.uk)"].iloc[:2] == NOT_AVAILABLE).all()  # never 0
    assert any("female victim" in n for n in t.footnotes)
    with pytest.raises(ParameterError, match="qualified must be one of"):
        Measure("x", "X", ("force_crime",), qualified="knives")
