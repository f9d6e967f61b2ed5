"""Time periods as partnerships report them: months, financial quarters and financial years.

police.uk publishes months only ("YYYY-MM"), so every period here is a whole number of months. The UK
public-sector financial year runs April to March: Q1 is Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar,
and the year 2022/23 runs from April 2022 to March 2023. Labels read as in a scrutiny report:
"Q1 Apr-Jun 2022", "2022/23".
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from geo_csp._errors import ParameterError, SchemaError

PeriodKind = Literal["month", "quarter", "year"]
PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter", "year")

_QUARTER_MONTHS = ("Apr-Jun", "Jul-Sep", "Oct-Dec", "Jan-Mar")

__all__ = [
    "PERIOD_KINDS",
    "month_range",
    "months_to_index",
    "period_keys",
    "period_labels",
    "period_months",
    "index_to_months",
    "validate_months",
]


def validate_months(months: pd.Series | np.ndarray | list[str], *, name: str = "month") -> np.ndarray:
    """Months as "YYYY-MM" strings; raise ``SchemaError`` naming the first bad value."""
    arr = np.asarray(pd.Series(months, dtype="string").to_numpy(dtype=object))
    ok = pd.Series(arr, dtype="string").str.fullmatch(r"\d{4}-(0[1-9]|1[0-2])").fillna(False).to_numpy()
    if not ok.all():
        bad = arr[~ok][0]
        raise SchemaError(f"{name} value {bad!r} is not a month in YYYY-MM form")
    return arr.astype(str)


def months_to_index(months: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """Months as integers (year * 12 + month - 1), for arithmetic on whole months."""
    text = pd.Series(validate_months(months))
    years = text.str.slice(0, 4).astype("int64").to_numpy()
    mons = text.str.slice(5, 7).astype("int64").to_numpy()
    return years * 12 + mons - 1


def index_to_months(index: np.ndarray) -> np.ndarray:
    """Inverse of :func:`months_to_index`."""
    index = np.asarray(index, dtype=np.int64)
    years, mons = np.divmod(index, 12)
    return np.array([f"{y:04d}-{m + 1:02d}" for y, m in zip(years, mons)], dtype=object)


def month_range(start: str, end: str) -> np.ndarray:
    """Every month from ``start`` to ``end`` inclusive, as "YYYY-MM" strings."""
    a, b = months_to_index([start, end])
    if b < a:
        raise ParameterError(f"month range {start}..{end} is empty: the end is before the start")
    return index_to_months(np.arange(a, b + 1))


def period_keys(months: pd.Series | np.ndarray | list[str], *, period: PeriodKind) -> np.ndarray:
    """A sortable integer key per month for the chosen period kind.

    ``month``: the month index; ``quarter``: financial quarter index (4 per financial year);
    ``year``: the financial year's starting calendar year.
    """
    if period not in PERIOD_KINDS:
        raise ParameterError(f"period must be one of {PERIOD_KINDS}, not {period!r}")
    idx = months_to_index(months)
    if period == "month":
        return idx
    fin = idx - 3  # months since April of year 0
    if period == "quarter":
        return fin // 3
    return fin // 12


def period_labels(keys: np.ndarray, *, period: PeriodKind) -> np.ndarray:
    """Human labels for period keys: "2022-04", "Q1 Apr-Jun 2022" or "2022/23"."""
    keys = np.asarray(keys, dtype=np.int64)
    if period == "month":
        return index_to_months(keys)
    if period == "quarter":
        fin_year, q = np.divmod(keys, 4)
        cal_year = fin_year + (q == 3)
        return np.array([f"Q{qq + 1} {_QUARTER_MONTHS[qq]} {y}" for qq, y in zip(q, cal_year)], dtype=object)
    if period == "year":
        return np.array([f"{y}/{(y + 1) % 100:02d}" for y in keys], dtype=object)
    raise ParameterError(f"period must be one of {PERIOD_KINDS}, not {period!r}")


def period_months(key: int, *, period: PeriodKind) -> np.ndarray:
    """The months a period key covers, as "YYYY-MM" strings."""
    if period == "month":
        return index_to_months(np.array([key]))
    length = 3 if period == "quarter" else 12
    first = key * length + 3
    return index_to_months(np.arange(first, first + length))
