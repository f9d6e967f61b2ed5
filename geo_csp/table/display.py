"""The partnership table as printed: numbers formatted, "not available" and the suppression mark, trend arrows."""

from __future__ import annotations

import numpy as np
import pandas as pd

from geo_csp.disclosure import SUPPRESSED_MARK
from geo_csp.table.measures import Measure
from geo_csp.table.values import TableValues

__all__ = ["ARROWS", "COMPARATOR", "NOT_AVAILABLE", "TREND", "display_frame", "format_value", "trend_arrows"]

NOT_AVAILABLE = "not available"
ARROWS = {1: "↑", -1: "↓", 0: "→"}
TREND = "Trend"
COMPARATOR = "Comparator"


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


def display_frame(tv: TableValues) -> pd.DataFrame:
    """Index the measure labels; the quarter columns, ``Trend`` and ``Comparator`` as text."""
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
    display[TREND] = trend_arrows(tv)
    display[COMPARATOR] = [
        format_value(tv.comparator[i], m, available=bool(tv.comparators_with_data[i]))
        for i, m in enumerate(tv.measures)
    ]
    display.index.name = "Measure"
    return display
