"""The board's monthly partnership table: known answers on hand-made months (month on month, year on year,
public mode with the quarters its months make up), the CLI's --period month, and the app's Monthly choice."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import numpy as np
import pandas as pd
import pytest
import shapely
from streamlit.testing.v1 import AppTest
from typer.testing import CliRunner

from geo_csp import schema
from geo_csp._errors import ParameterError
from geo_csp.cli import app as cli
from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.table import (
    MONTH_ON_MONTH,
    NOT_AVAILABLE,
    TREND,
    YEAR_AGO,
    YEAR_ON_YEAR,
    TableParams,
    partnership_table,
    table_from_store,
)
import _synthetic

AREAS = gpd.GeoDataFrame(
    {"area_code": ["A"], "area_name": ["Alpha"], "population": [2000]},
    geometry=[shapely.box(380_000, 410_000, 381_000, 411_000)],
    crs="EPSG:27700",
)
MONTHS = [f"2022-{m:02d}" for m in range(1, 13)] + [f"2023-{m:02d}" for m in range(1, 7)]
SHOWN = ["Jun 2022", "Jul 2022", "Aug 2022", "Sep 2022", "Oct 2022", "Nov 2022", "Dec 2022"] + [
    f"{m} 2023" for m in ("Jan", "Feb", "Mar", "Apr", "May", "Jun")
]
WEAPONS = {"2023-01": 12, "2023-02": 12, "2023-03": 7}  # Q4 Jan-Mar 2023: 31; every other month 20


def _rows(month: str, crime_type: str, n: int) -> pd.DataFrame:
    frame = _synthetic.incidents(np.full(n, 380_500.0), np.full(n, 410_500.0), month, crime_type)
    return frame.assign(**{schema.SOURCE: schema.SOURCE_STREET, schema.OBJECT_OF_SEARCH: None})


def _hand_incidents() -> pd.DataFrame:
    """2022-01 .. 2023-06: k + 1 burglaries in month k (18 in Jun 2023), 1 drugs offence a month until
    2023-03 (0 after), 10 violent crimes a month, the weapons offences of :data:`WEAPONS`, and 30 criminal
    damage offences a month (counted only in all crimes, so no measure's count is all crimes minus others)."""
    parts = []
    for k, month in enumerate(MONTHS):
        parts += [
            _rows(month, "Burglary", k + 1),
            _rows(month, "Drugs", 1 if month < "2023-04" else 0),
            _rows(month, "Violence and sexual offences", 10),
            _rows(month, "Possession of weapons", WEAPONS.get(month, 20)),
            _rows(month, "Criminal damage and arson", 30),
        ]
    return pd.concat(parts, ignore_index=True)


def test_monthly_known_answers():
    inc = _hand_incidents()
    before = inc.copy()
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha", period="month"))
    pd.testing.assert_frame_equal(inc, before)
    assert list(t.values.columns[:13]) == SHOWN  # 13 months by default: the year-ago month in view
    assert MONTH_ON_MONTH in t.display.columns and TREND not in t.display.columns
    burglary = "Burglaries (residential and business)"
    np.testing.assert_array_equal(t.values.loc["burglary", SHOWN], np.arange(6, 19))
    assert t.display.loc[burglary, MONTH_ON_MONTH] == "↑ +1 (+6%) from 17"
    assert t.display.loc[burglary, YEAR_ON_YEAR] == "↑ +12 (+200%) from 6"
    assert t.values.loc["burglary", YEAR_AGO] == 6
    assert t.display.loc["Drug offences", MONTH_ON_MONTH] == "→ +0 from 0"
    assert t.display.loc["Drug offences", YEAR_ON_YEAR] == "↓ -1 (-100%) from 1"
    # 10 violent crimes a month per 2,000 residents: 5.0 per 1,000
    assert t.display.loc["Violent crime per 1,000 residents", MONTH_ON_MONTH] == "→ +0.0 (+0%) from 5.0"
    # no stop-search or council data: not available, never a number
    assert t.display.loc["Drug-related stop searches", MONTH_ON_MONTH] == NOT_AVAILABLE
    assert t.metadata["periods"] == SHOWN and t.metadata["quarters"] == []
    assert t.metadata["year_on_year_period"] == "Jun 2022" and t.metadata["n_periods"] == 13
    # fewer months: the same month a year earlier is still counted
    three = partnership_table(inc, AREAS, params=TableParams(area="Alpha", period="month", n_months=3))
    assert list(three.values.columns[:3]) == SHOWN[-3:]
    assert three.display.loc[burglary, YEAR_ON_YEAR] == "↑ +12 (+200%) from 6"
    one = partnership_table(inc, AREAS, params=TableParams(area="Alpha", period="month", n_months=1))
    assert set(one.display[MONTH_ON_MONTH]) == {NOT_AVAILABLE}
    assert any("one month (Jun 2023) is shown" in n for n in one.footnotes)
    end = partnership_table(inc, AREAS, params=TableParams(area="Alpha", period="month", end_month="2022-12"))
    assert end.values.columns[11] == "Dec 2022" and end.values.loc["burglary", "Dec 2022"] == 12  # 12 months held


def test_public_monthly_table_protects_months_with_their_quarters():
    """Weapons offences in Jan-Mar 2023 are 12, 12 and 7: March is suppressed, and so is January, as the
    quarter (31, published as 30 by the quarterly table) minus two published months would give March."""
    inc = _hand_incidents()
    t = partnership_table(inc, AREAS, params=TableParams(area="Alpha", period="month", public=True))
    weapons = "Possession of weapons offences"
    shown = t.display.loc[weapons, ["Dec 2022", "Jan 2023", "Feb 2023", "Mar 2023", "Apr 2023"]].tolist()
    assert shown == ["20", SUPPRESSED_MARK, "10", SUPPRESSED_MARK, "20"]
    audit = t.audit[t.audit["row"] == "weapons"]
    reasons = dict(zip(audit["column"], audit["reason"].str.split(":").str[0], strict=True))
    assert reasons["Mar 2023"] == "below_threshold" and reasons["Jan 2023"] == "sole_suppressed_in_group"
    # burglaries 6..9 in Jun..Sep 2022 are below 10; the rest rounded to 5
    burglary = t.display.loc["Burglaries (residential and business)", SHOWN].tolist()
    assert burglary == [SUPPRESSED_MARK] * 4 + ["10", "10", "10", "15", "15", "15", "15", "15", "20"]
    quarterly = partnership_table(inc, AREAS, params=TableParams(area="Alpha", public=True))
    assert quarterly.display.loc[weapons, "Q4 Jan-Mar 2023"] == "30"
    assert any("protected together with the financial quarters" in n for n in t.footnotes)


def test_monthly_errors():
    with pytest.raises(ParameterError, match="n_months must be an integer from 1 to 36"):
        TableParams(area="Alpha", period="month", n_months=0)
    with pytest.raises(ParameterError, match=r"period must be one of \('quarter', 'month'\)"):
        TableParams(area="Alpha", period="week")  # type: ignore[arg-type]
    with pytest.raises(ParameterError, match="end month '2030-01' is not a month of the data"):
        partnership_table(
            _hand_incidents(), AREAS, params=TableParams(area="Alpha", period="month", end_month="2030-01")
        )


def test_cli_period_month(demo_borough, tmp_path):
    out = tmp_path / "board.csv"
    res = CliRunner().invoke(
        cli, ["table", "--store", str(demo_borough.store_dir), "--period", "month", "--months", "3", "--xlsx",
              str(tmp_path / "board.xlsx"), "--csv", str(out)]
    )  # fmt: skip
    assert res.exit_code == 0, res.output
    back = pd.read_csv(out, comment="#", index_col=0)
    assert list(back.columns[:4]) == ["Oct 2025", "Nov 2025", "Dec 2025", MONTH_ON_MONTH]
    assert back.loc["Burglaries (residential and business)", MONTH_ON_MONTH] == "↓ -9 (-9%) from 99"
    res = CliRunner().invoke(
        cli, ["table", "--store", str(demo_borough.store_dir), "--period", "week", "--xlsx", str(tmp_path / "w.xlsx")]
    )
    assert isinstance(res.exception, ParameterError) and "--period must be one of quarter, month" in str(res.exception)


@pytest.fixture()
def evidence_page(demo_borough, monkeypatch: pytest.MonkeyPatch) -> AppTest:
    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(demo_borough.out_dir))
    monkeypatch.setenv("GEO_CSP_STORE", str(demo_borough.store_dir))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("geo_csp/app/pages/evidence.py").run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def test_app_evidence_page_monthly_choice(evidence_page: AppTest, demo_borough) -> None:
    at = evidence_page
    choice = at.radio(key="evidence_table_period")
    assert choice.options == ["Quarterly", "Monthly"] and choice.value == "Quarterly"
    assert at.slider(key="evidence_quarters").value == 5  # the CLI's --quarters default
    choice.set_value("Monthly").run()
    assert not at.exception, [e.message for e in at.exception]
    assert at.slider(key="evidence_months").value == 13  # the CLI's --months default
    shown = at.dataframe[0].value
    expected = table_from_store(demo_borough.store_dir, period="month").display
    pd.testing.assert_frame_equal(shown, expected)
    assert shown.loc["Burglaries (residential and business)", MONTH_ON_MONTH] == "↓ -9 (-9%) from 99"
    names = [b.proto.id.split("-dl_", 1)[1] for b in at.get("download_button")[:3]]  # keyed by file name
    assert names == [
        "partnership_table_monthly.csv",
        "partnership_table_monthly.html",
        "partnership_table_monthly.xlsx",
    ]
    at.radio(key="mode").set_value("Public").run()  # the monthly table obeys public mode
    assert not at.exception, [e.message for e in at.exception]
    public = table_from_store(demo_borough.store_dir, period="month", public=True).display
    pd.testing.assert_frame_equal(at.dataframe[0].value, public)
    assert public.loc["ASB reports to the council", "Dec 2025"] == "190"  # partner counts, through the rule
    at.slider(key="evidence_months").set_value(6).run()
    assert list(at.dataframe[0].value.columns[:6]) == [
        "Jul 2025",
        "Aug 2025",
        "Sep 2025",
        "Oct 2025",
        "Nov 2025",
        "Dec 2025",
    ]
