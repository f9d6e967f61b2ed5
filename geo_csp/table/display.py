"""The partnership table as printed: numbers formatted, "not available" and the suppression mark, trend arrows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.table.measures import Measure
from geo_csp.table.values import TableValues

__all__ = [
    "ARROWS",
    "COMPARATOR",
    "MONTH_ON_MONTH",
    "NOT_AVAILABLE",
    "RANK",
    "TREND",
    "YEAR_AGO",
    "YEAR_ON_YEAR",
    "change_text",
    "display_frame",
    "format_value",
    "month_on_month",
    "ordinal",
    "rank_text",
    "trend_arrows",
]

NOT_AVAILABLE = "not available"
ARROWS = {1: "↑", -1: "↓", 0: "→"}
TREND = "Trend"
COMPARATOR = "Comparator"
YEAR_ON_YEAR = "Year on year"
MONTH_ON_MONTH = "Month on month"
RANK = "Rank among comparators"
YEAR_AGO = "Year earlier"
#: Columns printed as words (the others are numbers in the XLSX).
TEXT_COLUMNS = (TREND, MONTH_ON_MONTH, YEAR_ON_YEAR, RANK)


def ordinal(n: int) -> str:
    """1st, 2nd, 3rd, 4th, 11th, 12th, 13th, 21st..."""
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


def rank_text(rank: int, of: int) -> str:
    """Words for a place: "3rd lowest of 10", "lowest of 10", "highest of 10"; "not available" if none."""
    if rank < 1 or of < 2:
        return NOT_AVAILABLE
    if rank == 1:
        return f"lowest of {of}"
    if rank == of:
        return f"highest of {of}"
    return f"{ordinal(rank)} lowest of {of}"


def change_text(last: float, before: float, m: Measure, *, available: bool) -> str:
    """The latest period against an earlier one (the period before, or a year before): "↑ +3 (+17%) from 18";
    "not available" when either is, the suppression mark when either is suppressed."""
    if not available:
        return NOT_AVAILABLE
    if np.isnan(last) or np.isnan(before):
        return SUPPRESSED_MARK
    diff = last - before
    shown = f"{before:,.1f}" if m.per_1000 else f"{before:,.0f}"
    change = f"{diff:+,.1f}" if m.per_1000 else f"{diff:+,.0f}"
    pct = f" ({diff / before:+.0%})" if before > 0 else ""
    return f"{ARROWS[int(np.sign(diff))]} {change}{pct} from {shown}"


def format_value(x: float, m: Measure, *, available: bool) -> str:
    """One cell: "not available", the suppression mark, a rate to one decimal or a whole count."""
    if not available:
        return NOT_AVAILABLE
    if np.isnan(x):
        return SUPPRESSED_MARK
    return f"{x:,.1f}" if m.per_1000 else f"{x:,.0f}"


def trend_arrows(tv: TableValues) -> np.ndarray:
    """The latest quarter against the one before, as published (blank where either is missing)."""
    n_m, n_q = tv.values.shape
    if n_q < 2:  # one quarter: nothing to compare with
        return np.full(n_m, NOT_AVAILABLE, dtype=object)
    prev, last = tv.values[:, -2], tv.values[:, -1]
    sign = np.sign(np.nan_to_num(last - prev)).astype(int)
    trend = np.where(np.isnan(prev) | np.isnan(last), "", np.array([ARROWS[s] for s in sign], dtype=object))
    return np.where(tv.recorded, trend, NOT_AVAILABLE)


def per_1000(tv: TableValues) -> np.ndarray:
    """Which measures are rates per 1,000 residents."""
    return np.array([m.per_1000 for m in tv.measures], dtype=bool)


def month_on_month(tv: TableValues) -> list[str]:
    """The latest month against the month before, as published (:func:`change_text`)."""
    if tv.values.shape[1] < 2:  # one month: nothing to compare with
        return [NOT_AVAILABLE] * len(tv.measures)
    rates = tv.has_population | ~per_1000(tv)
    available = tv.available[:, -1] & tv.available[:, -2] & rates
    return [
        change_text(tv.values[i, -1], tv.values[i, -2], m, available=bool(available[i]))
        for i, m in enumerate(tv.measures)
    ]


def display_frame(tv: TableValues) -> pd.DataFrame:
    """Index the measure labels; the period columns, ``Trend`` (quarters) or ``Month on month`` (months),
    ``Year on year``, ``Comparator`` and the rank as text."""
    rows = [
        [
            format_value(
                tv.values[i, j], m, available=bool(tv.available[i, j]) and (tv.has_population or not m.per_1000)
            )
            for j in range(len(tv.quarter_labels))
        ]
        for i, m in enumerate(tv.measures)
    ]
    display = pd.DataFrame(rows, index=[m.label for m in tv.measures], columns=tv.quarter_labels)
    if tv.period == "month":
        display[MONTH_ON_MONTH] = month_on_month(tv)
    else:
        display[TREND] = trend_arrows(tv)
    available = tv.available[:, -1] & tv.year_ago_available & (tv.has_population | ~per_1000(tv))
    display[YEAR_ON_YEAR] = [
        change_text(tv.values[i, -1], tv.year_ago[i], m, available=bool(available[i]))
        for i, m in enumerate(tv.measures)
    ]
    display[COMPARATOR] = [
        format_value(tv.comparator[i], m, available=bool(tv.comparators_with_data[i]))
        for i, m in enumerate(tv.measures)
    ]
    latest = tv.values[:, -1]
    display[RANK] = [
        NOT_AVAILABLE
        if not tv.available[i, -1]
        else SUPPRESSED_MARK
        if np.isnan(latest[i])
        else rank_text(int(r), int(n))
        for i, (r, n) in enumerate(zip(tv.rank, tv.rank_of))
    ]  # a suppressed count keeps its place hidden too
    display.index.name = "Measure"
    return display
