"""Time periods as partnerships report them: months, financial quarters and years, and for timed data weeks.

police.uk publishes months only ("YYYY-MM"), so its periods are whole numbers of months. The UK
public-sector financial year runs April to March: Q1 is Apr-Jun, Q2 Jul-Sep, Q3 Oct-Dec, Q4 Jan-Mar,
and the year 2022/23 runs from April 2022 to March 2023. Labels read as in a scrutiny report:
"Q1 Apr-Jun 2022", "2022/23".

**Day periods** (``"week"``, ``"fortnight"``, ``"28day"``) are for timed data only: partner extracts
with a recorded day (``occurred_date``). police.uk street crime has a month and nothing finer, so it
is never given a day: a cube of weeks refuses rows without a date. Day periods run Monday to Sunday
and are counted from Monday 5 January 1970 (:data:`DAY_ANCHOR`), so a date always falls in the same
week, fortnight or 28-day period whatever the data's span. Labels: "w/c 2024-03-04" for a week,
"2024-03-04 to 2024-03-17" for a fortnight or 28-day period.

**Automatic choice** (:func:`choose_period`, ``period="auto"``), after sfhotspot's rule but in the
periods a partnership meets on: timed data spanning up to 13 weeks (91 days) use weeks, up to 26
weeks (182 days) fortnights, up to two years (731 days) 28-day periods, and longer spans months;
untimed data (police.uk) use months up to five years (60 months), then financial quarters up to ten
years, then financial years.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import numpy as np
import pandas as pd

from geo_csp._errors import ParameterError, SchemaError

PeriodKind = Literal["month", "quarter", "year", "week", "fortnight", "28day"]
#: Periods of whole months (any source).
MONTH_PERIOD_KINDS: tuple[PeriodKind, ...] = ("month", "quarter", "year")
#: Periods of whole days (sources with a recorded day only).
DAY_PERIOD_KINDS: tuple[PeriodKind, ...] = ("week", "fortnight", "28day")
PERIOD_KINDS: tuple[PeriodKind, ...] = MONTH_PERIOD_KINDS + DAY_PERIOD_KINDS
#: Length in days of each day period.
PERIOD_DAYS: dict[str, int] = {"week": 7, "fortnight": 14, "28day": 28}
#: Day periods are counted from this Monday (day 4 of the Unix epoch).
DAY_ANCHOR = np.datetime64("1970-01-05", "D")
_ANCHOR_DAY = int(DAY_ANCHOR.astype(np.int64))
#: Upper bounds (days) of the data's span for each automatic choice on timed data.
AUTO_TIMED_DAYS: tuple[tuple[int, PeriodKind], ...] = ((91, "week"), (182, "fortnight"), (731, "28day"))
#: Upper bounds (months) of the span for each automatic choice on untimed data; longer spans use years.
AUTO_MONTHS: tuple[tuple[int, PeriodKind], ...] = ((60, "month"), (120, "quarter"))
_WORDS = {
    "month": "month",
    "quarter": "quarter",
    "year": "year",
    "week": "week",
    "fortnight": "fortnight",
    "28day": "28-day period",
}

_QUARTER_MONTHS = ("Apr-Jun", "Jul-Sep", "Oct-Dec", "Jan-Mar")

__all__ = [
    "AUTO_MONTHS",
    "AUTO_TIMED_DAYS",
    "DAY_ANCHOR",
    "DAY_PERIOD_KINDS",
    "MONTH_PERIOD_KINDS",
    "PERIOD_DAYS",
    "PERIOD_KINDS",
    "choose_period",
    "date_period_keys",
    "dates_to_days",
    "is_day_period",
    "period_dates",
    "period_word",
    "month_range",
    "months_to_index",
    "period_keys",
    "period_labels",
    "period_months",
    "partial_periods",
    "index_to_months",
    "resolve_months",
    "validate_months",
]


_MONTH_RE = r"\d{4}-(0[1-9]|1[0-2])"


def _month_codes(months: pd.Series | np.ndarray | list[str], *, name: str) -> tuple[np.ndarray, np.ndarray]:
    """Each value's position among the distinct months, and those months: ``uniques[codes]`` is the input.

    A store holds a few dozen distinct months in millions of rows, so each distinct value is checked
    and converted once. Raises ``SchemaError`` naming the first bad value in the input's order.
    """
    codes, uniques = pd.Series(months, dtype="string").factorize()
    ok = uniques.str.fullmatch(_MONTH_RE).to_numpy(dtype=bool, na_value=False)
    bad_rows = (codes < 0) | ~np.append(ok, False)[codes]  # code -1 (missing) takes the appended False
    if bad_rows.any():
        first = int(codes[int(np.flatnonzero(bad_rows)[0])])
        bad = pd.NA if first < 0 else uniques[first]
        raise SchemaError(f"{name} value {bad!r} is not a month in YYYY-MM form")
    return codes, uniques.to_numpy(dtype=object).astype(str)


def validate_months(months: pd.Series | np.ndarray | list[str], *, name: str = "month") -> np.ndarray:
    """Months as "YYYY-MM" strings; raise ``SchemaError`` naming the first bad value."""
    codes, uniques = _month_codes(months, name=name)
    out: np.ndarray = uniques[codes]
    return out


def months_to_index(months: pd.Series | np.ndarray | list[str]) -> np.ndarray:
    """Months as integers (year * 12 + month - 1), for arithmetic on whole months."""
    codes, uniques = _month_codes(months, name="month")
    text = pd.Series(uniques)
    years = text.str.slice(0, 4).astype("int64").to_numpy()
    mons = text.str.slice(5, 7).astype("int64").to_numpy()
    out: np.ndarray = (years * 12 + mons - 1)[codes]
    return out


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


def resolve_months(
    spec: str, store_months: list[str] | np.ndarray, *, option: str = "--months", held_by: str = "store"
) -> tuple[str, str] | None:
    """The (first, last) months a ``--months`` choice analyses on a store holding ``store_months``.

    ``"all"``: ``None`` (every month of the store); ``"last-N"``: the N latest months of the store's
    span (the app's "Last 12 months" is ``last-12``); ``"YYYY-MM:YYYY-MM"``: that range, inside the store's.
    Errors name ``option``, the text given and the month range of what holds the months (``held_by``: the
    store, or e.g. the casualty data a command reads from files).
    """
    text = str(spec).strip().lower()
    if text == "all":
        return None
    held = sorted(str(m) for m in validate_months(list(store_months), name="store month"))
    span = f"{held[0]}..{held[-1]}, {len(month_range(held[0], held[-1]))} months" if held else "no months"
    form = "write all, last-N (e.g. last-12) or YYYY-MM:YYYY-MM (e.g. 2024-01:2024-12)"
    if not held:
        raise ParameterError(f"{option} {spec!r}: the {held_by} holds no months; ingest data first or use {option} all")
    full = month_range(held[0], held[-1])
    last = re.fullmatch(r"last-(\d+)", text)
    if last:
        n = int(last.group(1))
        if n < 1 or n > len(full):
            raise ParameterError(
                f"{option} {spec!r}: N must be 1 to {len(full)}, the months of the {held_by} ({span}); "
                f"use {option} all for every month"
            )
        return str(full[-n]), str(full[-1])
    parts = re.fullmatch(r"(\d{4}-\d{2}):(\d{4}-\d{2})", text)
    if parts is None:
        raise ParameterError(f"{option} {spec!r} is not a choice of months: {form}; the {held_by} holds {span}")
    try:
        first, end = validate_months([parts.group(1), parts.group(2)], name=option)
    except SchemaError as exc:
        raise ParameterError(f"{option} {spec!r}: {exc}; {form}") from exc
    if end < first:
        raise ParameterError(f"{option} {spec!r}: the end {end} is before the start {first}")
    if first < held[0] or end > held[-1]:
        raise ParameterError(
            f"{option} {spec!r} reaches outside the {held_by}'s months ({span}): choose a range within {held[0]}..{held[-1]}"
        )
    return str(first), str(end)


def period_keys(months: pd.Series | np.ndarray | list[str], *, period: PeriodKind) -> np.ndarray:
    """A sortable integer key per month for the chosen period kind.

    ``month``: the month index; ``quarter``: financial quarter index (4 per financial year);
    ``year``: the financial year's starting calendar year.
    """
    if period in DAY_PERIOD_KINDS:
        raise ParameterError(
            f"period {period!r} needs a day for every incident, not a month: use date_period_keys on the "
            "incidents' occurred_date (police.uk months have no day)"
        )
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
    """Human labels for period keys: "2022-04", "Q1 Apr-Jun 2022", "2022/23", "w/c 2024-03-04" or
    "2024-03-04 to 2024-03-31"."""
    keys = np.asarray(keys, dtype=np.int64)
    if period in DAY_PERIOD_KINDS:
        first, last = period_dates(keys, period=period)
        a = np.datetime_as_string(first, unit="D")
        if period == "week":
            return np.array([f"w/c {d}" for d in a], dtype=object)
        b = np.datetime_as_string(last, unit="D")
        return np.array([f"{x} to {y}" for x, y in zip(a, b)], dtype=object)
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
    """The months a period key covers (for a day period, the months it touches), as "YYYY-MM" strings."""
    if period in DAY_PERIOD_KINDS:
        first, last = period_dates(np.array([key]), period=period)
        return month_range(str(first[0])[:7], str(last[0])[:7])
    if period == "month":
        return index_to_months(np.array([key]))
    length = 3 if period == "quarter" else 12
    start = key * length + 3
    return index_to_months(np.arange(start, start + length))


def is_day_period(period: str) -> bool:
    """True for the periods of whole days (week, fortnight, 28 days), which need a recorded day."""
    return period in DAY_PERIOD_KINDS


def period_word(period: str) -> str:
    """The period in words for sentences: "month", "week", "28-day period"."""
    if period not in _WORDS:
        raise ParameterError(f"period must be one of {PERIOD_KINDS}, not {period!r}")
    return _WORDS[period]


def dates_to_days(dates: pd.Series | np.ndarray | list[Any], *, name: str = "occurred_date") -> np.ndarray:
    """Calendar days as integers (days since 1970-01-01); missing dates raise ``SchemaError``."""
    values = pd.to_datetime(pd.Series(dates), errors="coerce")
    if values.isna().any():
        raise SchemaError(
            f"{name} has {int(values.isna().sum())} missing or unreadable date(s); day periods "
            "need a day for every incident"
        )
    if getattr(values.dt, "tz", None) is not None:
        values = values.dt.tz_localize(None)
    out: np.ndarray = values.to_numpy(dtype="datetime64[D]").astype(np.int64)
    return out


def date_period_keys(dates: pd.Series | np.ndarray | list[Any], *, period: PeriodKind) -> np.ndarray:
    """A sortable integer key per date for a day period: whole periods since :data:`DAY_ANCHOR`."""
    if period not in DAY_PERIOD_KINDS:
        raise ParameterError(f"date_period_keys takes a day period {DAY_PERIOD_KINDS}, not {period!r}")
    return (dates_to_days(dates) - _ANCHOR_DAY) // PERIOD_DAYS[period]


def period_dates(keys: np.ndarray, *, period: PeriodKind) -> tuple[np.ndarray, np.ndarray]:
    """First and last day (``datetime64[D]``) of each day-period key."""
    if period not in DAY_PERIOD_KINDS:
        raise ParameterError(f"period_dates takes a day period {DAY_PERIOD_KINDS}, not {period!r}")
    length = PERIOD_DAYS[period]
    first = (np.asarray(keys, dtype=np.int64) * length + _ANCHOR_DAY).astype("datetime64[D]")
    return first, first + np.timedelta64(length - 1, "D")


def choose_period(*, first: str, last: str, timed: bool) -> tuple[PeriodKind, str]:
    """The period for a span of data, and the rule as a sentence (see the module docstring).

    Parameters
    ----------
    first, last
        The data's first and last day ("YYYY-MM-DD") when ``timed``, else first and last month ("YYYY-MM").
    timed
        True when every incident has a recorded day (partner data with dates); police.uk is untimed.
    """
    if timed:
        days = int((np.datetime64(last, "D") - np.datetime64(first, "D")).astype(np.int64)) + 1
        if days < 1:
            raise ParameterError(f"the data's span {first}..{last} is empty: the end is before the start")
        chosen: PeriodKind = next((kind for bound, kind in AUTO_TIMED_DAYS if days <= bound), "month")
        rule = "timed data: weeks up to 91 days, fortnights up to 182, 28-day periods up to 731, months beyond"
        return chosen, f"period {chosen!r} chosen automatically: the data span {days} days ({first} to {last}); {rule}"
    n_months = len(month_range(first, last))
    chosen = next((kind for bound, kind in AUTO_MONTHS if n_months <= bound), "year")
    rule = (
        "data with months only (police.uk has no day): months up to 60 months, financial quarters up to 120, "
        "financial years beyond"
    )
    return (
        chosen,
        f"period {chosen!r} chosen automatically: the data span {n_months} months ({first} to {last}); {rule}",
    )


#: Months in each month-based period.
MONTH_LENGTHS: dict[str, int] = {"month": 1, "quarter": 3, "year": 12}


def partial_periods(first: str, last: str, *, period: PeriodKind) -> list[dict[str, Any]]:
    """The periods that the months ``first``..``last`` cover only in part (none for months; day periods are not judged here).

    An extract from 2023-01 to 2025-12 covers financial year 2022/23 for 3 of its 12 months and
    2025/26 for 9: both are partial. Each entry has ``key``, ``label``, ``months_covered``,
    ``months_in_period`` and ``months`` (the first and last month covered), in time order.
    """
    if period not in MONTH_LENGTHS:  # day periods: their partial ends are judged from days, not months
        return []
    months = month_range(first, last)
    keys = period_keys(months, period=period)
    uniq, counts = np.unique(keys, return_counts=True)
    length = MONTH_LENGTHS[period]
    out: list[dict[str, Any]] = []
    for key, count in zip(uniq[counts < length].tolist(), counts[counts < length].tolist(), strict=True):
        covered = months[keys == key]
        out.append(
            {
                "key": int(key),
                "label": str(period_labels(np.array([key]), period=period)[0]),
                "months_covered": int(count),
                "months_in_period": length,
                "months": [str(covered[0]), str(covered[-1])],
            }
        )
    return out
