"""Operation review: before/after against a comparison area, displacement, intervals and the checks, in plain English."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from geo_csp import periods, review, trends
from geo_csp.app import cache, widgets

choices = widgets.current()
st.title("Operation review")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
operations = cache.partner_layers(choices.store_dir, choices.stamp).get("operations")
if operations is None or len(operations) == 0:
    st.info("No operations in this store's layers: add an operations file (GeoJSON with dates) on the Data page.")
    st.stop()
usable = operations[operations.geometry.notna() & ~operations.geometry.is_empty]
names = list(dict.fromkeys(usable["name"].astype(str)))
left, right = st.columns([3, 2])
name = left.selectbox("Operation", names, key="review_operation")
buffer_m = right.slider("Displacement buffer (m)", 50, 500, 200, step=50, key="review_buffer")
rows = usable[usable["name"].astype(str) == name].sort_values("start_date")
one_day = len(rows) > 1 and bool(((rows["end_date"] - rows["start_date"]).dt.days < 1).all())
date = None
if len(rows) > 1:
    labels = [f"{d:%d %b %Y}" for d in rows["start_date"]]
    options = (["All dates pooled"] if one_day else []) + labels
    picked = st.selectbox(
        f"{name} has {len(rows)} dates", options, index=0 if one_day else len(options) - 1, key="review_date"
    )
    if picked != "All dates pooled":
        date = str(rows["start_date"].iloc[labels.index(picked)].date())
result = cache.operation_review(
    choices.store_dir,
    choices.stamp,
    name=name,
    buffer_m=float(buffer_m),
    sources=choices.sources,
    crime_types=choices.crime_types,
    group=choices.group,
    date=date,
)
sources = ", ".join(choices.sources) if choices.sources else "all sources"
CONF = "95% interval"


def _pct(value: float) -> str:
    return "not known" if not np.isfinite(value) else f"{value:+.0%}"


def _range(low: float, high: float, fmt: str = "{:+.0%}") -> str:
    if not (np.isfinite(low) and np.isfinite(high)):
        return "not known"
    return f"{fmt.format(low)} to {fmt.format(high)}"


def _say(text: str, verdict: str) -> None:
    """A finding, coloured by what its interval supports."""
    if verdict.startswith(("fell", "fewer")):
        st.success(text)
    elif verdict.startswith(("rose", "more")):
        st.error(text)
    else:
        st.info(text)


if isinstance(result, review.PooledReview):
    p: dict[str, Any] = result.pooled  # counts, ratios and the verdict (PooledReview.pooled)
    st.caption(f"{len(result.dates)} one-day operations pooled over their dates · {choices.crime_label} · {sources}")
    a, b, c = st.columns(3)
    a.metric("Months with an action day", p["action_months"])
    b.metric("Matched months without one", p["matched_months"])
    c.metric(
        "Monthly change in action months",
        _pct(p["change"]),
        help=f"{CONF}: {_range(p['change_low'], p['change_high'])}",
    )
    _say(
        f"Pooled over its dates, crime in the months holding a day of action changed {_pct(p['change'])} against "
        f"the neighbouring months without one ({CONF} {_range(p['change_low'], p['change_high'])}): "
        f"**{p['verdict']}**.",
        p["verdict"],
    )
    st.subheader("Action days and their matched months")
    st.dataframe(
        result.dates.rename(
            columns={
                "date": "action day",
                "month": "month",
                "matched_months": "matched months",
                "n_matched": "matched (n)",
                "target_action": "incidents, action month",
                "target_matched": "incidents, matched months",
                "control_action": "control, action month",
                "control_matched": "control, matched months",
            }
        ),
        width="stretch",
    )
    st.subheader("Caveats")
    for caveat in result.caveats:
        st.markdown(f"- {caveat}")
    st.stop()

row = rows.iloc[-1] if date is None else rows[rows["start_date"] == pd.Timestamp(date)].iloc[0]
st.caption(
    f"{row.get('type', '')} · {pd.Timestamp(row['start_date']):%d %b %Y} to {pd.Timestamp(row['end_date']):%d %b %Y}"
    f" · {choices.crime_label} · {sources}"
)
comparisons = result.comparisons
used = comparisons[comparisons["status"] == "used"]
WINDOW_LABEL = {
    "before": "the months before",
    "year_earlier": "the same months a year earlier",
    "after": "the operation's months",
}

st.subheader("What the review found")
for base, c in used.iterrows():
    label = WINDOW_LABEL[base]
    if not np.isfinite(c["relative_effect"]):
        _say(
            f"Against {label}: crime in the area changed {_pct(c['target_change'])} a month ({CONF} "
            f"{_range(c['target_change_low'], c['target_change_high'])}): **{c['effect_verdict']}**. There is no "
            "comparison area, so a borough-wide change cannot be told from the operation's.",
            c["effect_verdict"],
        )
        continue
    m1, m2, m3 = st.columns(3)
    m1.metric(
        f"Relative effect vs {label}",
        _pct(c["relative_effect"]),
        help=f"{CONF}: {_range(c['relative_effect_low'], c['relative_effect_high'])}",
    )
    m2.metric(
        "Net incidents vs expected (WDD)",
        f"{c['wdd']:+,.0f} ± {c['wdd_se']:,.0f}",
        help="Weighted displacement difference (Wheeler & Ratcliffe 2018), ± one standard error",
    )
    m3.metric("Displacement quotient (WDQ)", f"{c['wdq']:.2f}" if c["wdq_meaningful"] else "not read")
    _say(
        f"Against {label}, crime in the operation area changed {_pct(c['target_change'])} while the comparison "
        f"area changed {_pct(c['control_change'])}: a relative effect of {_pct(c['relative_effect'])} "
        f"({CONF} {_range(c['relative_effect_low'], c['relative_effect_high'])}), **{c['effect_verdict']}**.",
        c["effect_verdict"],
    )
    _say(
        f"Counting the ring as well, there were {abs(c['wdd']):,.0f} {'fewer' if c['wdd'] < 0 else 'more'} "
        f"incidents than the comparison area's trend predicts ({CONF} {_range(c['wdd_low'], c['wdd_high'], '{:+,.0f}')}"
        f"): **{c['wdd_verdict']}**.",
        c["wdd_verdict"],
    )
    st.markdown(
        f"Displacement: the {buffer_m} m ring changed {_pct(c['buffer_relative'])} relative to the comparison "
        f"area ({CONF} {_range(c['buffer_relative_low'], c['buffer_relative_high'])}); "
        + (
            f"WDQ {c['wdq']:.2f}: {c['wdq_verdict']}."
            if c["wdq_meaningful"] and c["effect_verdict"].startswith("fell")
            else f"the WDQ is not read: {c['wdq_verdict']}."
        )
    )
check = result.before_check
if check.get("text"):
    (st.warning if check.get("status") in ("unusually high", "already falling") else st.info)(
        f"**Was the before window unusual?** {check['text'][:1].upper()}{check['text'][1:]}"
    )

st.subheader("Review windows")
windows = pd.DataFrame(result.windows, index=["first month", "last month", "months"]).T
windows["used as a baseline"] = [
    (
        "the operation"
        if k == "after"
        else "yes"
        if comparisons.loc[k, "status"] == "used"
        else f"no: {comparisons.loc[k, 'status']}"
    )
    for k in windows.index
]
st.dataframe(windows, width="stretch")
st.subheader("Incidents before and after (target, displacement buffer, comparison area)")
st.dataframe(result.counts, width="stretch")
st.caption(f"Comparison area: {result.params.get('control')}.")

st.subheader("Every figure with its interval")
FIGURES = [
    ("Operation area: change per month", "target_change", "{:+.0%}"),
    ("Comparison area: change per month", "control_change", "{:+.0%}"),
    ("Ring: change per month", "buffer_change", "{:+.0%}"),
    ("Relative effect (area vs comparison)", "relative_effect", "{:+.0%}"),
    ("Ring relative to comparison", "buffer_relative", "{:+.0%}"),
    ("Difference in differences (incidents per km² per month)", "did_per_km2_month", "{:+,.1f}"),
    ("WDD: net incidents vs expected", "wdd", "{:+,.0f}"),
]
table = []
for base, c in used.iterrows():
    for label, key, fmt in FIGURES:
        value = c[key]
        low, high = c.get(f"{key}_low", np.nan), c.get(f"{key}_high", np.nan)
        table.append(
            {
                "baseline": WINDOW_LABEL[base],
                "figure": label,
                "value": fmt.format(value) if np.isfinite(value) else "not known",
                CONF: _range(low, high, fmt),
                "what it supports": review.verdict(low, high) if np.isfinite(value) else "not known",
            }
        )
st.dataframe(pd.DataFrame(table), width="stretch", hide_index=True)
st.caption(
    "Intervals are exact Poisson intervals (the relative effect's is conditional on the 2 × 2 table); "
    "WDD ± standard error follows Wheeler & Ratcliffe (2018). WDQ (Bowers & Johnson 2003): above 0 suggests "
    "diffusion of benefit to the ring, below 0 displacement; it is read only when the fall in the operation "
    "area is distinguishable from zero, and displacement is claimed only when the ring's own interval shows it."
)
st.subheader("Incidents by month")
widgets.line_chart(
    result.monthly[["target", "buffer"]].rename(columns={"target": "operation area", "buffer": f"{buffer_m:g} m ring"}),
    height=300,
    marks=trends.operation_marks(operations, periods.months_to_index(result.monthly.index.astype(str))),
)
st.caption("Dashed lines: the operations of the register, at the month each starts in; shaded while they run.")
st.subheader("Caveats")
for caveat in result.caveats:
    st.markdown(f"- {caveat}")
