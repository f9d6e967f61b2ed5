"""Trends over time: Mann-Kendall, emerging hot spot patterns and plain-English explanations.

Three pieces, all vectorised over units (rows):

- :func:`mann_kendall`: the original Mann-Kendall test with the ties correction, as
  ``pymannkendall.original_test`` computes it.
- :func:`arcgis_patterns`: ArcGIS Pro Emerging Hot Spot Analysis patterns (8 hot, 8 cold,
  "No Pattern Detected") from each unit's significant hot/cold bins and the Mann-Kendall trend of its
  Gi* z series.
- :func:`chainey_categories`: the Chainey / sfhotspot scheme (persistent, emerging, former,
  intermittent hot and cold spots, "mixed hot/coldspot", "no pattern"), without sfhotspot's window
  bugs.
- :func:`explain`: one sentence per unit naming its significant periods, its trend and the rule that
  fired.
- :func:`operation_marks`: the operations whose dates overlap a chart's periods, with the first and last
  period each covers, for the markers on every trend chart.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import pandas as pd

from geo_csp import periods, schema
from geo_csp._errors import ParameterError, SchemaError

__all__ = [
    "ARCGIS_PATTERNS",
    "ARCGIS_RULES",
    "CHAINEY_CATEGORIES",
    "CHAINEY_RULES",
    "arcgis_patterns",
    "chainey_categories",
    "explain",
    "mann_kendall",
    "mann_kendall_hamed_rao",
    "operation_marks",
    "recent_window",
    "sens_slope",
]

MK_VAR_S: Final = schema.MK_VAR_S

NO_PATTERN: Final = "No Pattern Detected"
_KINDS: Final = (
    "New",
    "Consecutive",
    "Intensifying",
    "Persistent",
    "Diminishing",
    "Sporadic",
    "Oscillating",
    "Historical",
)
#: The 17 ArcGIS labels, in Esri's order (hot, then cold, then no pattern).
ARCGIS_PATTERNS: Final = (
    *(f"{k} Hot Spot" for k in _KINDS),
    *(f"{k} Cold Spot" for k in _KINDS),
    NO_PATTERN,
)
#: The rule of each ArcGIS pattern, as written into explanations ("hot" reads "cold" for cold spots).
_ARCGIS_RULE_TEMPLATES: Final = {
    "New": "{s} in the last {p} and never significant before",
    "Consecutive": "an unbroken run of at least 2 {s} {p}s ending in the last, never significant before the run, {s} in under {share} of {p}s",
    "Intensifying": "{s} in at least {share} of {p}s including the last, with a significant trend towards stronger {s} clustering",
    "Persistent": "{s} in at least {share} of {p}s including the last, with no significant trend",
    "Diminishing": "{s} in at least {share} of {p}s including the last, with a significant trend towards weaker {s} clustering",
    "Sporadic": "{s} in the last {p}, on and off before, in under {share} of {p}s, never {o}",
    "Oscillating": "{s} in the last {p} and {o} in an earlier {p}, {s} in under {share} of {p}s",
    "Historical": "{s} in at least {share} of {p}s but not in the last",
}
ARCGIS_RULES: Final = {
    **{f"{k} Hot Spot": t for k, t in _ARCGIS_RULE_TEMPLATES.items()},
    **{f"{k} Cold Spot": t for k, t in _ARCGIS_RULE_TEMPLATES.items()},
    NO_PATTERN: "none of the hot or cold spot rules applies",
}

#: Chainey / sfhotspot labels, hot then cold, then mixed and none.
CHAINEY_CATEGORIES: Final = (
    "persistent hotspot",
    "emerging hotspot",
    "former hotspot",
    "intermittent hotspot",
    "persistent coldspot",
    "emerging coldspot",
    "former coldspot",
    "intermittent coldspot",
    "mixed hot/coldspot",
    "no pattern",
)
_CHAINEY_RULE_TEMPLATES: Final = {
    "persistent": "{s} in at least {persistent} of all {p}s",
    "emerging": "{s} in under {hotspot} of the older {p}s and in at least {hotspot} of the last {recent}",
    "former": "{s} in at least {hotspot} of the older {p}s and in under {hotspot} of the last {recent}",
    "intermittent": "{s} in at least {hotspot} of all {p}s, without a persistent, emerging or former pattern",
}
CHAINEY_RULES: Final = {
    **{f"{k} hotspot": t for k, t in _CHAINEY_RULE_TEMPLATES.items()},
    **{f"{k} coldspot": t for k, t in _CHAINEY_RULE_TEMPLATES.items()},
    "mixed hot/coldspot": "meets a hotspot rule and a coldspot rule",
    "no pattern": "significant in under {hotspot} of {p}s",
}

PATTERN_DTYPE: Final = pd.CategoricalDtype(list(ARCGIS_PATTERNS))
CATEGORY_DTYPE: Final = pd.CategoricalDtype(list(CHAINEY_CATEGORIES))


def _as_2d(values: np.ndarray, name: str) -> np.ndarray:
    arr = np.asarray(values, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[None, :]
    if arr.ndim != 2:
        raise ParameterError(f"`{name}` must be 2-D (units x periods); got shape {arr.shape}")
    if not np.isfinite(arr).all():
        raise ParameterError(f"`{name}` contains NaN or infinite values; fill or drop them first")
    return arr


def _tie_term(x: np.ndarray) -> np.ndarray:
    """Sum over tie groups of t(t-1)(2t+5) for every row, without a loop over rows."""
    n_rows, n = x.shape
    srt = np.sort(x, axis=1)
    new_group = np.ones_like(srt, dtype=bool)
    new_group[:, 1:] = srt[:, 1:] != srt[:, :-1]
    group = np.cumsum(new_group, axis=1) - 1  # group id within the row
    flat = (np.arange(n_rows)[:, None] * n + group).ravel()
    t = np.bincount(flat, minlength=n_rows * n).reshape(n_rows, n).astype(np.float64)
    ties: np.ndarray = (t * (t - 1) * (2 * t + 5)).sum(axis=1)
    return ties


def mann_kendall(values: np.ndarray, *, chunk_rows: int = 200_000) -> pd.DataFrame:
    """Original Mann-Kendall trend test on every row, with the ties correction.

    For a series x_1..x_n: S = sum over i < j of sign(x_j - x_i);
    Var(S) = [n(n-1)(2n+5) - sum_g t_g(t_g-1)(2t_g+5)] / 18 over groups g of tied values;
    z = (S - 1)/sqrt(Var S) if S > 0, (S + 1)/sqrt(Var S) if S < 0, else 0;
    p = 2 (1 - Phi(|z|)) (two-sided); tau = S / (n(n-1)/2). This is what
    ``pymannkendall.original_test`` computes. A constant series (or one of length < 2) gives
    S = 0, z = 0, p = 1.

    Parameters
    ----------
    values
        Array (n_units, n_periods), or one series (n_periods,). Must be finite.
    chunk_rows
        Rows processed at once (bounds memory; the result does not depend on it).

    Returns
    -------
    pandas.DataFrame
        One row per unit (index 0..n_units-1) with ``mk_s`` (float), ``mk_var_s``, ``mk_tau``,
        ``mk_z``, ``mk_p``.
    """
    x = _as_2d(values, "values")
    n_rows, n = x.shape
    s = np.zeros(n_rows)
    # Loop over the n-1 lags (O(n) iterations), vectorised over units and pairs at that lag.
    for lag in range(1, n):
        s += np.sign(x[:, lag:] - x[:, :-lag]).sum(axis=1)
    ties = (
        np.concatenate([_tie_term(x[i : i + chunk_rows]) for i in range(0, n_rows, chunk_rows)])
        if n_rows
        else np.zeros(0)
    )
    var_s = (n * (n - 1) * (2 * n + 5) - ties) / 18.0
    sd = np.sqrt(np.where(var_s > 0, var_s, 1.0))
    z = np.where(var_s > 0, (s - np.sign(s)) / sd, 0.0)
    z = np.where(s == 0, 0.0, z)
    from scipy import stats  # imported here: half a second, and a saved run needs none of it

    p = 2.0 * stats.norm.sf(np.abs(z))
    n_pairs = n * (n - 1) / 2.0
    tau = s / n_pairs if n_pairs > 0 else np.zeros(n_rows)
    return pd.DataFrame({schema.MK_S: s, MK_VAR_S: var_s, schema.MK_TAU: tau, schema.MK_Z: z, schema.MK_P: p})


def sens_slope(values: np.ndarray, *, chunk_rows: int = 20_000) -> np.ndarray:
    """Theil-Sen slope of every row: the median of (x_j - x_i) / (j - i) over all pairs i < j.

    What ``pymannkendall.sens_slope`` computes (its ``slope``), vectorised over rows.
    """
    x = _as_2d(values, "values")
    n_rows, n = x.shape
    if n < 2:
        return np.zeros(n_rows)
    i, j = np.triu_indices(n, k=1)
    gap = (j - i).astype(np.float64)
    return (
        np.concatenate(
            [
                np.median((x[a : a + chunk_rows, j] - x[a : a + chunk_rows, i]) / gap, axis=1)
                for a in range(0, n_rows, chunk_rows)
            ]
        )
        if n_rows
        else np.zeros(0)
    )


def _acf(y: np.ndarray, nlags: int) -> np.ndarray:
    """Autocorrelation of every row at lags 0..nlags (biased estimator, divided by n), as pymannkendall."""
    y = y - y.mean(axis=1, keepdims=True)
    n = y.shape[1]
    acov = np.stack([(y[:, : n - k] * y[:, k:]).sum(axis=1) / n for k in range(nlags + 1)], axis=1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(acov[:, :1] > 0, acov / np.where(acov[:, :1] > 0, acov[:, :1], 1.0), 0.0)


def mann_kendall_hamed_rao(values: np.ndarray, *, alpha: float = 0.05, lag: int | None = None) -> pd.DataFrame:
    """Mann-Kendall with Hamed & Rao's (1998) variance correction for serial correlation, on every row.

    Var(S) of :func:`mann_kendall` is multiplied by n / n* = 1 + 2 / (n(n-1)(n-2)) x
    sum_k (n-k)(n-k-1)(n-k-2) r_k over the lags k = 1 .. ``lag`` (default n - 1) whose
    autocorrelation r_k, of the ranks of the series after removing its Theil-Sen trend, lies outside
    +/- Phi^-1(1 - alpha/2) / sqrt(n). This is ``pymannkendall.hamed_rao_modification_test`` (the same
    S, Var(S), z and p), vectorised over rows. Space-time Gi* z series share neighbourhoods between
    consecutive periods; the correction widens Var(S) by the autocorrelation that sharing makes.
    Where the corrected Var(S) is not positive (strong negative autocorrelation) pymannkendall
    returns NaN; here z is 0 and p is 1.

    Returns
    -------
    pandas.DataFrame
        As :func:`mann_kendall`, ``mk_var_s`` being the corrected variance.
    """
    x = _as_2d(values, "values")
    n_rows, n = x.shape
    out = mann_kendall(x)
    if n < 3 or n_rows == 0:
        return out
    lags = n - 1 if lag is None else int(lag)
    if not 1 <= lags <= n - 1:
        raise ParameterError(f"`lag` must be between 1 and n - 1 = {n - 1}; got {lag!r}")
    from scipy import stats

    detrended = x - np.arange(1, n + 1)[None, :] * sens_slope(x)[:, None]
    r = _acf(stats.rankdata(detrended, axis=1), lags)[:, 1:]
    k = np.arange(1, lags + 1, dtype=np.float64)
    bound = stats.norm.ppf(1 - alpha / 2) / np.sqrt(n)
    significant = (r > bound) | (r < -bound)
    sni = (np.where(significant, r, 0.0) * ((n - k) * (n - k - 1) * (n - k - 2))[None, :]).sum(axis=1)
    var_s = out[MK_VAR_S].to_numpy() * (1.0 + 2.0 / (n * (n - 1) * (n - 2)) * sni)
    s = out[schema.MK_S].to_numpy()
    ok = var_s > 0
    z = np.where(ok & (s != 0), (s - np.sign(s)) / np.sqrt(np.where(ok, var_s, 1.0)), 0.0)
    return out.assign(**{MK_VAR_S: var_s, schema.MK_Z: z, schema.MK_P: 2.0 * stats.norm.sf(np.abs(z))})


def _check_hot_cold(hot_cold: np.ndarray) -> np.ndarray:
    hc = np.asarray(hot_cold)
    if hc.ndim != 2:
        raise ParameterError(f"`hot_cold` must be 2-D (units x periods); got shape {hc.shape}")
    if hc.shape[1] < 1:
        raise ParameterError("`hot_cold` has no periods; at least one is needed")
    if not np.isin(hc, (-1, 0, 1)).all():
        raise ParameterError("`hot_cold` may only hold -1 (cold), 0 (not significant) and +1 (hot)")
    return hc.astype(np.int8)


def arcgis_patterns(
    hot_cold: np.ndarray,
    mk_tau: np.ndarray,
    mk_p: np.ndarray,
    *,
    trend_alpha: float = 0.05,
    arcgis_share: float = 0.9,
) -> pd.Categorical:
    """ArcGIS Pro Emerging Hot Spot Analysis pattern of every unit.

    Rules for hot spots (cold spots mirror them with hot and cold swapped and the trend sign
    reversed), where "hot" means a significant hot bin (``hot_cold == +1``), ``share`` is
    ``arcgis_share`` (ArcGIS: 90%) and the trend is Mann-Kendall at ``trend_alpha`` on the series
    :func:`geo_csp.hotspots.unit_trends` chose (ArcGIS: the unit's space-time Gi* z series, which
    over-calls trends; geo-csp's default: its time-window-0 Gi* z series):

    - **Intensifying**: hot in >= share of periods including the last; significant upward trend.
    - **Diminishing**: hot in >= share of periods including the last; significant downward trend.
    - **Persistent**: hot in >= share of periods including the last; no significant trend.
    - **Historical**: hot in >= share of periods but not in the last.
    - **Oscillating**: hot in the last period, cold in some earlier period, hot in < share.
    - **New**: hot in the last period only; no earlier significant (hot or cold) bin.
    - **Consecutive**: a single run of >= 2 hot periods ending in the last, no significant bin before
      the run, hot in < share.
    - **Sporadic**: hot in the last period and hot on and off before (a gap since the first hot
      period), hot in < share, never cold (current Esri text; requires the last period hot).

    The rules are evaluated as a decision tree so that exactly one label applies. Esri's text says
    New and Consecutive are "never hot before"; a unit that was cold earlier is instead labelled
    Oscillating (the Esri rule that mentions a cold history), as sfdep does. A unit meeting no rule
    is "No Pattern Detected". ArcGIS recommends at least 10 periods for these rules.

    Parameters
    ----------
    hot_cold
        int array (n_units, n_periods) with +1 hot, -1 cold, 0 not significant.
    mk_tau, mk_p
        Mann-Kendall tau and two-sided p of each unit's trend series.
    trend_alpha
        Significance level of the trend.
    arcgis_share
        The "90%" share of periods.

    Returns
    -------
    pandas.Categorical
        Labels from :data:`ARCGIS_PATTERNS`, one per unit.
    """
    hc = _check_hot_cold(hot_cold)
    n_units, n_periods = hc.shape
    tau = np.asarray(mk_tau, dtype=np.float64)
    p = np.asarray(mk_p, dtype=np.float64)
    codes = np.full(n_units, len(ARCGIS_PATTERNS) - 1, dtype=np.int16)
    sig_trend = p < trend_alpha
    for offset, sign in ((0, 1), (len(_KINDS), -1)):
        on = hc == sign
        other = hc == -sign
        n_on = on.sum(axis=1)
        last = on[:, -1]
        many = n_on >= arcgis_share * n_periods - 1e-9
        run = np.cumprod(on[:, ::-1], axis=1).sum(axis=1)  # trailing run length
        on_before_run = (n_on - run) > 0
        other_before = other[:, :-1].any(axis=1)
        up = sig_trend & (sign * tau > 0)
        down = sig_trend & (sign * tau < 0)
        rules = {
            "Intensifying": last & many & up,
            "Diminishing": last & many & down,
            "Persistent": last & many & ~up & ~down,
            "Historical": ~last & many,
            "Oscillating": last & ~many & other_before,
            "New": last & ~many & ~other_before & (n_on == 1),
            "Consecutive": last & ~many & ~other_before & (run >= 2) & ~on_before_run,
            "Sporadic": last & ~many & ~other_before & on_before_run,
        }
        for kind, mask in rules.items():
            codes[mask] = offset + _KINDS.index(kind)
    return pd.Categorical.from_codes(codes, dtype=PATTERN_DTYPE)


def recent_window(n_periods: int, *, recent_prop: float = 0.2, recent_periods: int | None = None) -> int:
    """Number of periods in the "recent" window of the Chainey scheme.

    ``recent_periods`` when given, else ``round(recent_prop * n_periods)``, clipped to
    ``1 .. n_periods - 1`` so that both the recent and the older window hold at least one period.
    """
    if n_periods < 2:
        raise ParameterError(f"the Chainey classification needs at least 2 periods; got {n_periods}")
    if recent_periods is not None:
        if not 1 <= recent_periods < n_periods:
            raise ParameterError(
                f"`recent_periods` must be between 1 and n_periods - 1 = {n_periods - 1}; got {recent_periods}"
            )
        return int(recent_periods)
    return int(np.clip(round(recent_prop * n_periods), 1, n_periods - 1))


def chainey_categories(
    hot_cold: np.ndarray,
    *,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
    recent_periods: int | None = None,
) -> pd.Categorical:
    """Chainey / sfhotspot ``hotspot_classify`` category of every unit, with fixed windows.

    The last ``r`` periods form the recent window (``r`` from :func:`recent_window`) and the other
    ``n - r`` the older window: the two are disjoint and each proportion divides by its own window
    length. (sfhotspot 1.0.0 uses ``(n - r):n``, r + 1 columns divided by r and shared with the older
    window, and compares the recent share with ``recent_prop`` instead of the documented
    ``hotspot_prop``; both are fixed here.) For hot (then cold) bins, tested in this order:

    - **persistent**: significant in >= ``persistent_prop`` of all periods;
    - **emerging**: significant in < ``hotspot_prop`` of the older periods and >= ``hotspot_prop`` of
      the recent ones;
    - **former**: significant in >= ``hotspot_prop`` of the older periods and < ``hotspot_prop`` of
      the recent ones;
    - **intermittent**: significant in >= ``hotspot_prop`` of all periods.

    A unit with both a hot and a cold category is "mixed hot/coldspot"; one with neither is
    "no pattern".

    Returns
    -------
    pandas.Categorical
        Labels from :data:`CHAINEY_CATEGORIES`, one per unit.
    """
    hc = _check_hot_cold(hot_cold)
    n_units, n_periods = hc.shape
    r = recent_window(n_periods, recent_prop=recent_prop, recent_periods=recent_periods)
    eps = 1e-9
    found = []
    for sign in (1, -1):
        on = hc == sign
        all_prop = on.mean(axis=1)
        old_prop = on[:, : n_periods - r].mean(axis=1)
        recent = on[:, n_periods - r :].mean(axis=1)
        code = np.full(n_units, -1, dtype=np.int16)
        rules = (
            all_prop >= persistent_prop - eps,
            (old_prop < hotspot_prop - eps) & (recent >= hotspot_prop - eps),
            (old_prop >= hotspot_prop - eps) & (recent < hotspot_prop - eps),
            all_prop >= hotspot_prop - eps,
        )
        for i, mask in reversed(list(enumerate(rules))):  # earlier rules overwrite later ones
            code[mask] = i
        found.append(code)
    hot, cold = found
    codes = np.full(n_units, CHAINEY_CATEGORIES.index("no pattern"), dtype=np.int16)
    codes[hot >= 0] = hot[hot >= 0]
    codes[cold >= 0] = 4 + cold[cold >= 0]
    codes[(hot >= 0) & (cold >= 0)] = CHAINEY_CATEGORIES.index("mixed hot/coldspot")
    return pd.Categorical.from_codes(codes, dtype=CATEGORY_DTYPE)


def _pct(share: float) -> str:
    return f"{100 * share:g}%"


def _fmt(x: np.ndarray, spec: str) -> pd.Series:
    return pd.Series(np.char.mod(spec, x), dtype=object)


def explain(
    hot_cold: np.ndarray,
    mk_tau: np.ndarray,
    mk_p: np.ndarray,
    pattern: pd.Categorical,
    category: pd.Categorical,
    *,
    trend_alpha: float = 0.05,
    arcgis_share: float = 0.9,
    hotspot_prop: float = 0.1,
    persistent_prop: float = 0.8,
    recent_prop: float = 0.2,
    recent_periods: int | None = None,
    period_name: str = "period",
) -> pd.Series:
    """One plain-English sentence per unit: significant periods, trend, and the rules that fired.

    Example: "hot in 34 of 36 months including the last; trend up (tau 0.42, p 0.003): Intensifying
    Hot Spot (hot in at least 90% of months including the last, with a significant trend towards
    stronger hot clustering); Chainey: persistent hotspot (hot in at least 80% of all months)".

    Built column-wise with pandas string operations (no per-unit formatting loop).

    Returns
    -------
    pandas.Series
        ``object`` strings, index 0..n_units-1.
    """
    hc = _check_hot_cold(hot_cold)
    n_units, n_periods = hc.shape
    p_word = period_name
    n_hot = (hc == 1).sum(axis=1)
    n_cold = (hc == -1).sum(axis=1)
    last = hc[:, -1]
    hot_s = "hot in " + _fmt(n_hot, "%d")
    cold_s = "cold in " + _fmt(n_cold, "%d")
    of_s = f" of {n_periods} {p_word}s"
    hist = pd.Series(np.full(n_units, f"not significant in any of {n_periods} {p_word}s"), dtype=object)
    both = (n_hot > 0) & (n_cold > 0)
    only_hot = (n_hot > 0) & ~both
    only_cold = (n_cold > 0) & ~both
    hist[only_hot] = (hot_s + of_s)[only_hot]
    hist[only_cold] = (cold_s + of_s)[only_cold]
    hist[both] = (hot_s + " and " + cold_s + of_s)[both]
    last_s = np.where(
        last == 1, " including the last (hot)", np.where(last == -1, " including the last (cold)", ", not the last")
    )
    last_s = np.where((n_hot + n_cold) > 0, last_s, "")
    hist = hist + pd.Series(last_s, dtype=object)

    tau = np.asarray(mk_tau, dtype=np.float64)
    p = np.asarray(mk_p, dtype=np.float64)
    p_txt = pd.Series(np.where(p < 0.001, "p<0.001", np.char.mod("p %.3f", p)), dtype=object)
    stats_txt = " (tau " + _fmt(tau, "%.2f") + ", " + p_txt + ")"
    direction = np.where(p < trend_alpha, np.where(tau > 0, "trend up", "trend down"), "no significant trend")
    trend = pd.Series(direction, dtype=object) + stats_txt

    fill = {
        "p": p_word,
        "share": _pct(arcgis_share),
        "hotspot": _pct(hotspot_prop),
        "persistent": _pct(persistent_prop),
        "recent": f"{recent_periods} {p_word}s" if recent_periods else f"{_pct(recent_prop)} of {p_word}s",
    }

    def _rule_map(labels: tuple[str, ...], rules: dict[str, str]) -> dict[str, str]:
        out = {}
        for label in labels:
            cold = "Cold" in label or "coldspot" in label and "mixed" not in label
            out[label] = (
                f"{label} ({rules[label].format(s='cold' if cold else 'hot', o='hot' if cold else 'cold', **fill)})"
            )
        return out

    pat_txt = (
        pd.Series(pd.Categorical(pattern, dtype=PATTERN_DTYPE))
        .map(_rule_map(ARCGIS_PATTERNS, ARCGIS_RULES))
        .astype(object)
    )
    cat_txt = (
        pd.Series(pd.Categorical(category, dtype=CATEGORY_DTYPE))
        .map(_rule_map(CHAINEY_CATEGORIES, CHAINEY_RULES))
        .astype(object)
    )
    return (hist + "; " + trend + ": " + pat_txt + "; Chainey: " + cat_txt).rename(schema.EXPLANATION)


#: Columns of :func:`operation_marks`.
OPERATION_MARK_COLUMNS: Final = ("name", "start_date", "end_date", "first", "last", "first_index", "last_index")


def _period_bounds(keys: np.ndarray, period: periods.PeriodKind) -> tuple[np.ndarray, np.ndarray]:
    """First day of each period and the first day after it (``datetime64[D]``)."""
    if periods.is_day_period(period):
        first, last = periods.period_dates(keys, period=period)
        return first, last + np.timedelta64(1, "D")
    if period not in periods.MONTH_PERIOD_KINDS:
        raise ParameterError(f"period must be one of {periods.PERIOD_KINDS}, not {period!r}")
    length = {"month": 1, "quarter": 3, "year": 12}[period]
    first_month = keys * length + (0 if period == "month" else 3)  # quarters and years start in April
    year_zero = np.datetime64("0000-01", "M")  # month index = year * 12 + month - 1
    start = (year_zero + first_month.astype("timedelta64[M]")).astype("datetime64[D]")
    end = (year_zero + (first_month + length).astype("timedelta64[M]")).astype("datetime64[D]")
    return start, end


def operation_marks(
    operations: pd.DataFrame | None, period_keys: np.ndarray, *, period: periods.PeriodKind = "month"
) -> pd.DataFrame:
    """The operations whose dates overlap a chart's periods, with the first and last period each covers.

    An operation covers a period when its ``start_date`` is before the period's end and its ``end_date``
    on or after the period's first day: the rule of the quarterly table's operation notes
    (:func:`geo_csp.table.footnotes.operation_notes`), so a chart's markers fall in the quarters the
    table notes. police.uk months have no day, so on a monthly chart an operation is marked at the
    month it starts in (one starting on 14 May marks May, a one-day operation its month), and one that
    started before the chart at the chart's first month. Operations overlapping no period are left out.

    Parameters
    ----------
    operations
        ``name``, ``start_date`` and ``end_date`` (:func:`geo_csp.layers.read_operations`); ``None`` or
        empty gives no marks.
    period_keys
        The chart's period keys, in order (:func:`geo_csp.periods.period_keys`; for months the month
        index of :func:`geo_csp.periods.months_to_index`).
    period
        The chart's period kind.

    Returns
    -------
    pandas.DataFrame
        :data:`OPERATION_MARK_COLUMNS`: the operation's name and dates, the labels of the first and last
        period it covers and their positions in ``period_keys``; one row per operation (duplicates of
        name and periods dropped), ordered by start date.
    """
    keys = np.asarray(period_keys, dtype=np.int64)
    empty = pd.DataFrame({c: pd.Series(dtype=object) for c in OPERATION_MARK_COLUMNS})
    if operations is None or not len(operations) or not len(keys):
        return empty
    missing = [c for c in ("name", "start_date", "end_date") if c not in operations.columns]
    if missing:
        raise SchemaError(f"`operations` has no {missing[0]!r} column; read them with geo_csp.layers.read_operations()")
    start = pd.to_datetime(operations["start_date"]).to_numpy(dtype="datetime64[D]")
    end = pd.to_datetime(operations["end_date"]).to_numpy(dtype="datetime64[D]")
    p_start, p_end = _period_bounds(keys, period)
    hit = (start[:, None] < p_end[None, :]) & (end[:, None] >= p_start[None, :])  # operations x periods
    rows = np.flatnonzero(hit.any(axis=1))
    if not rows.size:
        return empty
    first = hit[rows].argmax(axis=1)
    last = len(keys) - 1 - hit[rows, ::-1].argmax(axis=1)
    labels = periods.period_labels(keys, period=period).astype(str)
    out = pd.DataFrame(
        {
            "name": operations["name"].astype(str).to_numpy()[rows],
            "start_date": np.datetime_as_string(start[rows], unit="D"),
            "end_date": np.datetime_as_string(end[rows], unit="D"),
            "first": labels[first],
            "last": labels[last],
            "first_index": first,
            "last_index": last,
        }
    )
    out = out.sort_values(["start_date", "name"], kind="stable")
    return out.drop_duplicates(["name", "first", "last"]).reset_index(drop=True)
