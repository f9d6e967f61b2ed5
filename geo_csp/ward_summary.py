"""What a run on a handful of large units (wards) should lead with: counts, rates and their change.

On a borough's 20-odd wards the space-time Gi* answers a narrower question than "which ward has the
most?": it adds each ward's value to its neighbours' and asks whether that local total stands out
from the borough's average. A ward with the highest rate whose neighbours are low is then not a hot
spot, and its low neighbours can be, because each counts the high ward among its neighbours. So a
run on few polygon units leads with what the user asks (:func:`summarise_few_units`):

- each unit's count, its share of the borough, and its rate per 1,000 residents per year with an
  exact (Garwood) Poisson interval (:func:`poisson_rate_interval`),
- the change between the earlier and the later part of the window as a rate ratio with the exact
  conditional-binomial interval (:func:`rate_ratio_interval`): given ``n = n_before + n_after``,
  ``n_after`` is binomial with ``p = R t_after / (R t_after + t_before)``, so the Clopper-Pearson
  interval for ``p`` maps to one for the ratio ``R``,
- why Gi* says what it says about each unit (its own mean against its neighbours' and the borough's),
- a recommendation to detect hot spots on H3 cells or LSOAs.

Rule (:data:`FEW_UNITS`): the lead is given when a run is on wards or LSOAs and there are fewer than
:data:`geo_csp.hotspot_run.MIN_POLYGON_UNITS` (30) of them. Periods compared: the latest 12 months
against the 12 before when the window holds at least 24 months (same seasons), else the later half
of the periods against the earlier half (an odd first period is left out).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Final, cast

import numpy as np
import pandas as pd

from geo_csp import hotspot_run, periods, schema
from geo_csp._errors import ParameterError

#: The trigger rule, in words, written into every lead's metadata and shown beside it.
FEW_UNITS: Final = (
    f"a run on wards or LSOAs with fewer than {hotspot_run.MIN_POLYGON_UNITS} units leads with counts, rates "
    "and their change (with intervals); Gi* on so few large units compares each with a handful of neighbours"
)
#: Columns of :attr:`FewUnitsSummary.table`, in order.
SUMMARY_COLUMNS: Final = (
    schema.UNIT_ID,
    "name",
    schema.N,
    "share_pct",
    schema.POPULATION,
    schema.RATE_PER_1000,
    "rate_low",
    "rate_high",
    "n_before",
    "n_after",
    "change_ratio",
    "change_low",
    "change_high",
    "change",
    "own_mean",
    "neighbours_mean",
    "n_neighbours",
    schema.GI_Z,
    schema.PATTERN,
    "why_gi",
)


def _alpha(confidence: float) -> float:
    if not 0.0 < confidence < 1.0:
        raise ParameterError(f"`confidence` must lie strictly between 0 and 1, not {confidence!r}")
    return 1.0 - confidence


def poisson_rate_interval(
    n: np.ndarray | float, exposure: np.ndarray | float, *, confidence: float = 0.95
) -> tuple[np.ndarray, np.ndarray]:
    """Exact (Garwood) interval for a Poisson rate ``n / exposure``.

    ``low = chi2.ppf(a/2, 2n) / 2 / exposure`` (0 when ``n = 0``) and
    ``high = chi2.ppf(1 - a/2, 2n + 2) / 2 / exposure``, with ``a = 1 - confidence``. Vectorised;
    NaN where the exposure is not positive. E.g. 10 events in 1 unit of exposure: 4.795 to 18.39.
    """
    from scipy import stats  # imported here: the app's Map page imports this module for every map

    a = _alpha(confidence)
    n_arr = np.asarray(n, dtype="float64")
    t = np.asarray(exposure, dtype="float64")
    with np.errstate(divide="ignore", invalid="ignore"):
        low = np.where(n_arr > 0, stats.chi2.ppf(a / 2, 2 * n_arr) / 2, 0.0) / t
        high = stats.chi2.ppf(1 - a / 2, 2 * n_arr + 2) / 2 / t
    bad = ~(t > 0)
    return np.where(bad, np.nan, low), np.where(bad, np.nan, high)


def rate_ratio_interval(
    n_after: np.ndarray | float,
    n_before: np.ndarray | float,
    *,
    exposure_after: np.ndarray | float = 1.0,
    exposure_before: np.ndarray | float = 1.0,
    confidence: float = 0.95,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Ratio of two Poisson rates (after / before) with its exact conditional-binomial interval.

    Conditional on the total ``N``, ``n_after ~ Binomial(N, p)`` with ``p = R ta / (R ta + tb)``; the
    Clopper-Pearson bounds of ``p`` (beta quantiles, as ``scipy.stats.binomtest(...).proportion_ci(
    method="exact")``) give ``R = p / (1 - p) * tb / ta``. Returns ``(ratio, low, high)``: the ratio
    is NaN when both counts are 0, ``inf`` when only the earlier one is; the high bound is ``inf``
    when ``n_before = 0`` and the low bound 0 when ``n_after = 0``.
    """
    from scipy import stats

    a = _alpha(confidence)
    x = np.asarray(n_after, dtype="float64")
    y = np.asarray(n_before, dtype="float64")
    scale = np.asarray(exposure_before, dtype="float64") / np.asarray(exposure_after, dtype="float64")
    total = x + y
    with np.errstate(divide="ignore", invalid="ignore"):
        p_low = np.where(x > 0, stats.beta.ppf(a / 2, x, y + 1), 0.0)
        p_high = np.where(y > 0, stats.beta.ppf(1 - a / 2, x + 1, y), 1.0)
        ratio = np.where(total > 0, x / y * scale, np.nan)
        low = np.where(total > 0, p_low / (1 - p_low) * scale, np.nan)
        high = np.where(total > 0, np.where(p_high < 1, p_high / (1 - p_high) * scale, np.inf), np.nan)
    return ratio, low, high


def applies(unit: str, n_units: int) -> bool:
    """Whether a run on ``n_units`` units of kind ``unit`` should lead with counts and rates (:data:`FEW_UNITS`)."""
    return unit in ("ward", "lsoa") and n_units < hotspot_run.MIN_POLYGON_UNITS


@dataclass(frozen=True)
class FewUnitsSummary:
    """Counts, rates and change of a run's units, and the sentences to lead with.

    Attributes
    ----------
    table
        One row per unit (:data:`SUMMARY_COLUMNS`), highest rate first (highest count when there is
        no population).
    lead
        Sentences, in order: the top unit by rate (or count), the clearest changes, why Gi* says what
        it says about the top unit, and the recommendation to use H3 cells or LSOAs.
    metadata
        The rule, the confidence level, the periods compared and the methods (JSON-serialisable).
    """

    table: pd.DataFrame
    lead: list[str]
    metadata: dict[str, Any] = field(default_factory=dict)

    def text(self) -> str:
        """The lead as one paragraph."""
        return " ".join(self.lead)

    def for_people(self) -> pd.DataFrame:
        """:attr:`table` as text for a page or a report: plain headings, each figure with its interval."""
        t = self.table
        pct = f"{self.metadata.get('confidence', 0.95):.0%}"

        def _iv(v: pd.Series, lo: pd.Series, hi: pd.Series, digits: int) -> list[str]:
            return [
                "n/a" if not np.isfinite(a) else f"{a:.{digits}f} ({b:.{digits}f} to {c:.{digits}f})"
                for a, b, c in zip(v, lo, hi, strict=True)
            ]

        return pd.DataFrame(
            {
                "Name": t["name"].astype(str),
                "Incidents": t[schema.N].map("{:,.0f}".format),
                "Share (%)": t["share_pct"].map("{:.1f}".format),
                f"Rate per 1,000 a year ({pct} interval)": _iv(
                    t[schema.RATE_PER_1000], t["rate_low"], t["rate_high"], 1
                ),
                f"Change, rate ratio ({pct} interval)": [
                    f"{c}: {r}"
                    for c, r in zip(
                        t["change"], _iv(t["change_ratio"], t["change_low"], t["change_high"], 2), strict=True
                    )
                ],
                "Gi* (with its neighbours)": t[schema.PATTERN].astype(str),
                "Why Gi* says so": t["why_gi"].astype(str),
            }
        )


def _period_exposure(cube_params: dict[str, Any], keys: np.ndarray) -> np.ndarray:
    """Months each period holds (1 per day period, which are all whole and of one length)."""
    covered = cube_params.get("period_months_covered")
    if covered is not None:
        return np.asarray(covered, dtype="float64")
    period = cast(periods.PeriodKind, str(cube_params["period"]))
    if periods.is_day_period(period):
        return np.ones(len(keys))
    return np.array([len(periods.period_months(int(k), period=period)) for k in keys], dtype="float64")


def _halves(exposure: np.ndarray, *, monthly: bool) -> tuple[np.ndarray, np.ndarray]:
    """Boolean masks of the earlier and later periods compared."""
    n = exposure.size
    before, after = np.zeros(n, bool), np.zeros(n, bool)
    if monthly and n >= 24:
        after[n - 12 :], before[n - 24 : n - 12] = True, True
    elif n >= 2:
        half = n // 2
        after[n - half :], before[n - 2 * half : n - half] = True, True
    return before, after


def _names(units: pd.DataFrame) -> np.ndarray:
    for col in (schema.LSOA_NAME, schema.WARD_NAME):  # an LSOA run's ward_name is the LSOA's ward, not its name
        if col in units.columns and units[col].notna().any():
            named = units[col].astype(object).where(units[col].notna(), units[schema.UNIT_ID])
            out: np.ndarray = named.to_numpy(dtype=object)
            return out
    ids: np.ndarray = units[schema.UNIT_ID].to_numpy(dtype=object)
    return ids


def _fmt(x: float, digits: int = 1) -> str:
    return "n/a" if not np.isfinite(x) else f"{x:,.{digits}f}"


def _why(own: float, nb: float, borough: float, z: float, pattern: str, word: str, *, hot: bool) -> str:
    if not np.isfinite(nb):
        return f"no neighbours, so Gi* has nothing to compare it with (z {_fmt(z, 2)})"
    rel_own = "above" if own > borough else "below"
    rel_nb = "above" if nb > borough else "below"
    head = f"its own mean {_fmt(own)} {word} is {rel_own} the borough's {_fmt(borough)}, its neighbours' {_fmt(nb)} {rel_nb}"
    if hot and own <= borough:
        tail = "it is hot through its neighbours, not its own count"
    elif own > borough and nb <= borough:
        tail = "Gi* adds its low neighbours in, so the local total does not stand out"
    elif own > borough and nb > borough:
        tail = "with its neighbours also high the local total stands out"
    else:
        tail = "the local total is not high"
    return f"{head}: {tail} (latest z {_fmt(z, 2)}, {pattern})"


def summarise_few_units(result: hotspot_run.HotspotResult, *, confidence: float = 0.95) -> FewUnitsSummary:
    """Counts, rates with exact intervals, change with intervals and the Gi* explanation of a run's units.

    Works for any run on wards or LSOAs (the CLI and the app show it when :func:`applies`); raises
    :class:`~geo_csp._errors.ParameterError` for H3 cells, which have no residents and are many.
    """
    unit = str(result.metadata.get("unit"))
    if unit not in ("ward", "lsoa"):
        raise ParameterError(f"a few-units summary is for ward or LSOA runs, not {unit!r} units")
    units = result.units
    cube = result.cube
    n = units[schema.N].to_numpy(dtype="float64")
    total = float(n.sum())
    pop = units[schema.POPULATION].to_numpy(dtype="float64")
    n_months = float(result.metadata.get("rate_months") or 12)
    person_years = np.where(pop > 0, pop / 1000.0 * n_months / 12.0, np.nan)  # thousands of residents x years
    rate_low, rate_high = poisson_rate_interval(n, person_years, confidence=confidence)

    exposure = _period_exposure(cube.params, cube.period_keys)
    before, after = _halves(exposure, monthly=str(cube.params["period"]) == "month")
    n_before = cube.n[:, before].sum(axis=1)
    n_after = cube.n[:, after].sum(axis=1)
    ratio, ch_low, ch_high = rate_ratio_interval(
        n_after,
        n_before,
        exposure_after=max(float(exposure[after].sum()), 1e-12),
        exposure_before=max(float(exposure[before].sum()), 1e-12),
        confidence=confidence,
    )
    change = np.where(
        ch_low > 1, "up", np.where(ch_high < 1, "down", np.where(np.isnan(ratio), "none recorded", "no clear change"))
    )

    measure = str(result.metadata.get("measure", "count"))
    per = f"a {periods.period_word(str(cube.params['period']))}"
    word = f"per 1,000 residents {per}" if measure.startswith("rate") else (f"harm {per}" if measure == "harm" else per)
    values = {"count": cube.n, "harm": cube.harm}.get(measure)
    if values is None:
        values = cube.rates(smoothing="empirical_bayes" if measure == "rate_eb" else "none")
    own = np.nanmean(values, axis=1) if values.shape[1] else np.full(len(units), np.nan)
    w = hotspot_run.unit_weights(
        cube.units,
        unit=unit,
        k=int(result.metadata.get("hotspot_params", {}).get("k", 1) or 1),
        weights=str(result.metadata.get("weights", "auto")),  # type: ignore[arg-type]
        distance_m=result.metadata.get("distance_m"),
    )
    degree = np.asarray(w.sum(axis=1)).ravel()
    with np.errstate(divide="ignore", invalid="ignore"):
        nb_mean = np.where(degree > 0, (w @ np.nan_to_num(own)) / degree, np.nan)
    borough = float(np.nanmean(own)) if own.size else float("nan")
    z = units[schema.GI_Z].to_numpy(dtype="float64")
    pattern = units[schema.PATTERN].astype(str).to_numpy()
    hot = units[schema.AREA_ID].notna().to_numpy() | (z > 0) & (units[schema.GI_P].to_numpy(dtype=float) < 0.05)
    why = [
        _why(own[i], nb_mean[i], borough, z[i], pattern[i], word, hot=bool(hot[i])) for i in range(len(units))
    ]  # one short sentence per unit of a run that has fewer than 30 of them

    table = pd.DataFrame(
        {
            schema.UNIT_ID: units[schema.UNIT_ID].to_numpy(dtype=object),
            "name": _names(units),
            schema.N: n,
            "share_pct": n / total * 100.0 if total > 0 else np.full(len(n), np.nan),
            schema.POPULATION: pop,
            schema.RATE_PER_1000: units[schema.RATE_PER_1000].to_numpy(dtype="float64"),
            "rate_low": rate_low,
            "rate_high": rate_high,
            "n_before": n_before,
            "n_after": n_after,
            "change_ratio": ratio,
            "change_low": ch_low,
            "change_high": ch_high,
            "change": change,
            "own_mean": own,
            "neighbours_mean": nb_mean,
            "n_neighbours": degree.astype(np.int64),
            schema.GI_Z: z,
            schema.PATTERN: pattern,
            "why_gi": why,
        }
    )
    has_rates = bool(np.isfinite(table[schema.RATE_PER_1000]).any())
    order = [schema.RATE_PER_1000, schema.N] if has_rates else [schema.N]
    table = table.sort_values(order, ascending=False, kind="stable", na_position="last").reset_index(drop=True)

    labels = [str(x) for x in cube.period_labels]
    compared = (
        f"{labels[np.flatnonzero(after)[0]]}..{labels[np.flatnonzero(after)[-1]]} against "
        f"{labels[np.flatnonzero(before)[0]]}..{labels[np.flatnonzero(before)[-1]]}"
        if after.any() and before.any()
        else None
    )
    lead = _lead(table, unit=unit, n_units=len(units), has_rates=has_rates, compared=compared, confidence=confidence)
    metadata = {
        "rule": FEW_UNITS,
        "applies": applies(unit, len(units)),
        "confidence": confidence,
        "rate_interval": "exact Poisson (Garwood, chi-square quantiles) on incidents per 1,000 residents per year",
        "change_interval": "exact conditional binomial (Clopper-Pearson) on the rate ratio later/earlier",
        "periods_compared": compared,
        "gi_measure": measure,
        "borough_mean": borough,
    }
    return FewUnitsSummary(table=table, lead=lead, metadata=metadata)


def _lead(
    table: pd.DataFrame, *, unit: str, n_units: int, has_rates: bool, compared: str | None, confidence: float
) -> list[str]:
    pct = f"{confidence:.0%}"
    top = table.iloc[0]
    if has_rates:
        first = (
            f"{top['name']} has the highest rate: {_fmt(top[schema.RATE_PER_1000])} per 1,000 residents a year "
            f"({pct} interval {_fmt(top['rate_low'])} to {_fmt(top['rate_high'])}), {int(top[schema.N]):,} "
            f"incidents, {_fmt(top['share_pct'])}% of the borough's."
        )
        most = table.loc[table[schema.N].idxmax()]
        if most[schema.UNIT_ID] != top[schema.UNIT_ID]:
            first += (
                f" {most['name']} has the most: {int(most[schema.N]):,} ({_fmt(most['share_pct'])}%), "
                f"{_fmt(most[schema.RATE_PER_1000])} per 1,000 ({_fmt(most['rate_low'])} to {_fmt(most['rate_high'])})."
            )
    else:
        first = (
            f"{top['name']} has the most incidents: {int(top[schema.N]):,}, {_fmt(top['share_pct'])}% of the "
            "borough's (no population, so no rates)."
        )
    out = [first]
    if compared is not None:
        moved = table[table["change"].isin(["up", "down"])]
        if len(moved):
            parts = [
                f"{r['name']} {r['change']} x{_fmt(r['change_ratio'], 2)} ({_fmt(r['change_low'], 2)} to "
                f"{_fmt(r['change_high'], 2)})"
                for _, r in moved.head(3).iterrows()
            ]
            out.append(
                f"Change {compared} (rate ratio, {pct} interval): "
                + "; ".join(parts)
                + f" (each interval on its own: of {n_units} {unit}s about 1 in 20 clears 1 by chance)."
            )
        else:
            out.append(f"No {unit} changed clearly {compared} (every {pct} interval of the rate ratio spans 1).")
    out.append(
        f"Gi* compares a {unit} together with its neighbours against the borough's average, not the {unit} alone: "
        f"for {top['name']}, {top['why_gi']}."
    )
    out.append(
        f"With {n_units} {unit}s (fewer than {hotspot_run.MIN_POLYGON_UNITS}), read the counts and rates above; for "
        "hotspot detection use H3 cells (--unit h3, the default) or LSOAs (--unit lsoa)."
    )
    return out
