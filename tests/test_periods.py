import re

import numpy as np
import pandas as pd
import pytest

from geo_csp import periods
from geo_csp._errors import ParameterError, SchemaError


def test_financial_quarter_labels_follow_april_year():
    months = periods.month_range("2022-01", "2023-04")
    keys = np.unique(periods.period_keys(months, period="quarter"))
    labels = periods.period_labels(keys, period="quarter").tolist()
    assert labels == [
        "Q4 Jan-Mar 2022",
        "Q1 Apr-Jun 2022",
        "Q2 Jul-Sep 2022",
        "Q3 Oct-Dec 2022",
        "Q4 Jan-Mar 2023",
        "Q1 Apr-Jun 2023",
    ]
    assert periods.period_months(int(keys[1]), period="quarter").tolist() == ["2022-04", "2022-05", "2022-06"]


def test_financial_year_labels():
    keys = np.unique(periods.period_keys(["2022-03", "2022-04", "2023-03", "2023-04"], period="year"))
    assert periods.period_labels(keys, period="year").tolist() == ["2021/22", "2022/23", "2023/24"]


def test_month_index_round_trips():
    months = periods.month_range("2019-11", "2020-02")
    assert months.tolist() == ["2019-11", "2019-12", "2020-01", "2020-02"]
    assert periods.index_to_months(periods.months_to_index(months)).tolist() == months.tolist()


def test_months_of_many_rows_are_each_converted_as_written():
    """Each row's month, not each distinct month's: repeated, shuffled months in any container."""
    rng = np.random.default_rng(3)
    months = rng.choice(periods.month_range("1999-06", "2031-03"), 5000)
    expected = [int(m[:4]) * 12 + int(m[5:]) - 1 for m in months]
    for given in (months, months.tolist(), pd.Series(months, dtype="string"), pd.Series(pd.Categorical(months))):
        assert periods.months_to_index(given).tolist() == expected
        assert periods.validate_months(given).tolist() == months.tolist()
    assert periods.months_to_index([]).tolist() == []


@pytest.mark.parametrize(
    ("months", "named"),
    [
        (["2022-01", "2022-01", "2022-1", "2022-13"], "'2022-1'"),
        (["2022-01", None, "2022-13"], "<NA>"),
        (["2022-02", "2022-02", "x", "2022-02"], "'x'"),
        ([202201, "2022-01"], "'202201'"),
    ],
)
def test_the_first_bad_month_in_the_rows_is_named(months: list[object], named: str) -> None:
    with pytest.raises(SchemaError, match=f"month value {re.escape(named)} is not a month"):
        periods.months_to_index(months)


def test_bad_month_and_period_are_named():
    with pytest.raises(SchemaError, match="'2022-13'"):
        periods.months_to_index(["2022-01", "2022-13"])
    with pytest.raises(ParameterError, match="period must be one of"):
        periods.period_keys(["2022-01"], period="fortnightly")
    with pytest.raises(ParameterError, match="empty"):
        periods.month_range("2022-05", "2022-01")
