"""Tests of geo_csp.trends: Mann-Kendall against pymannkendall, every class rule, explanations."""

from __future__ import annotations

import warnings

import numpy as np
import pandas as pd
import pymannkendall
import pytest
from numpy.testing import assert_allclose, assert_array_equal

from geo_csp import periods, schema
from geo_csp._errors import ParameterError, SchemaError
from geo_csp.trends import (
    ARCGIS_PATTERNS,
    arcgis_patterns,
    chainey_categories,
    explain,
    mann_kendall,
    mann_kendall_hamed_rao,
    operation_marks,
    recent_window,
    sens_slope,
)

T = 20


def _random_series() -> list[np.ndarray]:
    rng = np.random.default_rng(2024)
    series = []
    for i in range(1200):
        n = int(rng.integers(3, 40))
        kind = i % 4
        if kind == 0:  # heavy ties: small integer counts
            x = rng.poisson(1.5, n).astype(float)
        elif kind == 1:  # continuous with a trend
            x = rng.normal(0, 1, n) + rng.normal(0, 0.1) * np.arange(n)
        elif kind == 2:  # rounded values: ties and a trend
            x = np.round(rng.normal(0, 2, n) + 0.2 * np.arange(n))
        else:
            x = rng.integers(0, 4, n).astype(float)
        series.append(x)
    series += [np.full(12, 3.0), np.zeros(36), np.full(5, -1.5)]
    return series


def test_mann_kendall_equals_pymannkendall_on_1200_series():
    series = _random_series()
    by_length: dict[int, list[int]] = {}
    for i, x in enumerate(series):
        by_length.setdefault(len(x), []).append(i)
    checked = 0
    for n, idx in by_length.items():
        block = np.stack([series[i] for i in idx])
        got = mann_kendall(block)
        for row, i in enumerate(idx):
            ref = pymannkendall.original_test(series[i])
            assert_allclose(got[schema.MK_S].iloc[row], ref.s, atol=1e-9)
            assert_allclose(got["mk_var_s"].iloc[row], ref.var_s, atol=1e-9)
            assert_allclose(got[schema.MK_TAU].iloc[row], ref.Tau, atol=1e-9)
            assert_allclose(got[schema.MK_Z].iloc[row], ref.z, atol=1e-9)
            assert_allclose(got[schema.MK_P].iloc[row], ref.p, atol=1e-9)
            checked += 1
    assert checked >= 1000


def test_mann_kendall_constant_series():
    got = mann_kendall(np.full((3, 10), 7.0))
    assert_array_equal(got[schema.MK_S], 0)
    assert_array_equal(got[schema.MK_Z], 0)
    assert_array_equal(got[schema.MK_P], 1)


def test_mann_kendall_contract():
    x = np.arange(12.0).reshape(2, 6)
    x_copy = x.copy()
    got = mann_kendall(x)
    assert_array_equal(x, x_copy)
    assert list(got.columns) == [schema.MK_S, "mk_var_s", schema.MK_TAU, schema.MK_Z, schema.MK_P]
    assert (got.dtypes == np.float64).all()
    assert_allclose(got[schema.MK_TAU], 1.0)
    with pytest.raises(ParameterError, match="NaN"):
        mann_kendall(np.array([[1.0, np.nan, 2.0]]))


# ---------------------------------------------------------------------------------------------
# ArcGIS patterns: one hand-made series per rule (20 periods; 90% = 18 periods)
# ---------------------------------------------------------------------------------------------
def _bins(hot: list[int] = (), cold: list[int] = ()) -> np.ndarray:
    out = np.zeros(T, dtype=np.int8)
    out[list(hot)] = 1
    out[list(cold)] = -1
    return out


NO_TREND = (0.05, 0.6)
UP = (0.5, 0.001)
DOWN = (-0.5, 0.001)

HOT_CASES = {
    "New": (_bins(hot=[19]), NO_TREND, "hot in the last period and never significant before"),
    "Consecutive": (_bins(hot=[16, 17, 18, 19]), UP, "an unbroken run of at least 2 hot periods ending in the last"),
    "Intensifying": (_bins(hot=range(1, 20)), UP, "with a significant trend towards stronger hot clustering"),
    "Persistent": (
        _bins(hot=range(20)),
        NO_TREND,
        "hot in at least 90% of periods including the last, with no significant trend",
    ),
    "Diminishing": (_bins(hot=range(20)), DOWN, "with a significant trend towards weaker hot clustering"),
    "Sporadic": (_bins(hot=[3, 8, 9, 19]), NO_TREND, "hot in the last period, on and off before"),
    "Oscillating": (_bins(hot=[5, 19], cold=[2]), NO_TREND, "hot in the last period and cold in an earlier period"),
    "Historical": (_bins(hot=range(19)), NO_TREND, "hot in at least 90% of periods but not in the last"),
}


def _classify_one(bins: np.ndarray, trend: tuple[float, float]) -> tuple[str, str]:
    hc = bins[None, :]
    tau, p = np.array([trend[0]]), np.array([trend[1]])
    pattern = arcgis_patterns(hc, tau, p)
    category = chainey_categories(hc)
    text = explain(hc, tau, p, pattern, category)
    return str(pattern[0]), str(text.iloc[0])


@pytest.mark.parametrize("kind", list(HOT_CASES))
def test_arcgis_hot_pattern(kind):
    bins, trend, rule = HOT_CASES[kind]
    label, text = _classify_one(bins, trend)
    assert label == f"{kind} Hot Spot"
    assert f"{kind} Hot Spot (" in text and rule in text


@pytest.mark.parametrize("kind", list(HOT_CASES))
def test_arcgis_cold_pattern(kind):
    bins, (tau, p), rule = HOT_CASES[kind]
    label, text = _classify_one(-bins, (-tau, p))  # mirror: bins and trend direction flip
    assert label == f"{kind} Cold Spot"
    mirrored = rule.replace("hot", "@").replace("cold", "hot").replace("@", "cold")
    assert f"{kind} Cold Spot (" in text and mirrored in text


def test_arcgis_no_pattern():
    label, text = _classify_one(_bins(hot=[4, 5]), NO_TREND)
    assert label == "No Pattern Detected"
    assert "none of the hot or cold spot rules applies" in text


def test_arcgis_sporadic_needs_no_cold_and_persistent_needs_last():
    # hot on and off with one cold bin -> oscillating, not sporadic
    assert _classify_one(_bins(hot=[3, 8, 19], cold=[12]), NO_TREND)[0] == "Oscillating Hot Spot"
    # run of 2 hot at the end after an earlier hot bin -> sporadic, not consecutive
    assert _classify_one(_bins(hot=[3, 18, 19]), NO_TREND)[0] == "Sporadic Hot Spot"


def test_arcgis_labels_and_vectorised_over_units():
    cases = [HOT_CASES[k] for k in HOT_CASES]
    hc = np.stack([c[0] for c in cases] + [-c[0] for c in cases])
    tau = np.array([c[1][0] for c in cases] + [-c[1][0] for c in cases])
    p = np.array([c[1][1] for c in cases] * 2)
    got = arcgis_patterns(hc, tau, p)
    assert list(got) == list(ARCGIS_PATTERNS[:16])


# ---------------------------------------------------------------------------------------------
# Chainey / sfhotspot categories (20 periods: recent = last 4, older = first 16; 10% / 80%)
# ---------------------------------------------------------------------------------------------
CHAINEY_CASES = {
    "persistent": (_bins(hot=range(3, 20)), "in at least 80% of all periods"),
    "emerging": (
        _bins(hot=[2, 17, 18]),
        "in under 10% of the older periods and in at least 10% of the last 20% of periods",
    ),
    "former": (
        _bins(hot=[1, 4, 7, 9]),
        "in at least 10% of the older periods and in under 10% of the last 20% of periods",
    ),
    "intermittent": (
        _bins(hot=[2, 9, 18]),
        "in at least 10% of all periods, without a persistent, emerging or former pattern",
    ),
}


def _chainey_one(bins: np.ndarray, **kw) -> tuple[str, str]:
    hc = bins[None, :]
    tau, p = np.array([0.0]), np.array([1.0])
    category = chainey_categories(hc, **kw)
    text = explain(hc, tau, p, arcgis_patterns(hc, tau, p), category, **kw)
    return str(category[0]), str(text.iloc[0])


@pytest.mark.parametrize("kind", list(CHAINEY_CASES))
def test_chainey_hotspot(kind):
    bins, rule = CHAINEY_CASES[kind]
    label, text = _chainey_one(bins)
    assert label == f"{kind} hotspot"
    assert f"Chainey: {kind} hotspot (hot {rule})" in text


@pytest.mark.parametrize("kind", list(CHAINEY_CASES))
def test_chainey_coldspot(kind):
    bins, rule = CHAINEY_CASES[kind]
    label, text = _chainey_one(-bins)
    assert label == f"{kind} coldspot"
    assert f"Chainey: {kind} coldspot (cold {rule})" in text


def test_chainey_mixed():
    label, text = _chainey_one(_bins(hot=[1, 4, 7], cold=[17, 18]))  # former hot + emerging cold
    assert label == "mixed hot/coldspot"
    assert "Chainey: mixed hot/coldspot (meets a hotspot rule and a coldspot rule)" in text


def test_chainey_no_pattern():
    label, text = _chainey_one(_bins(hot=[5]))
    assert label == "no pattern"
    assert "Chainey: no pattern (significant in under 10% of periods)" in text


def test_chainey_recent_window_is_disjoint_from_older_window():
    # hot in the last two older periods only (2 of 16 older = 12.5%): former.
    # sfhotspot's (n - r):n window would count period 15 as recent too and miss this.
    assert _chainey_one(_bins(hot=[14, 15]))[0] == "former hotspot"
    assert recent_window(20) == 4 and recent_window(36) == 7


def test_chainey_emerging_uses_documented_hotspot_prop():
    # recent window of 10 periods, 1 hot (10%): >= hotspot_prop (0.1) though < recent_prop (0.2)
    assert _chainey_one(_bins(hot=[19]), recent_periods=10)[0] == "emerging hotspot"


def test_chainey_errors():
    with pytest.raises(ParameterError, match="recent_periods"):
        chainey_categories(_bins(hot=[1])[None, :], recent_periods=20)
    with pytest.raises(ParameterError, match="at least 2 periods"):
        recent_window(1)
    with pytest.raises(ParameterError, match="hot_cold"):
        chainey_categories(np.array([[0, 2, 1]]))


def test_explanation_wording():
    hc = np.ones((1, 36), dtype=np.int8)
    hc[0, :2] = 0
    tau, p = np.array([0.42]), np.array([0.003])
    pattern = arcgis_patterns(hc, tau, p)
    text = explain(hc, tau, p, pattern, chainey_categories(hc), period_name="month").iloc[0]
    assert text.startswith(
        "hot in 34 of 36 months including the last (hot); trend up (tau 0.42, p 0.003): Intensifying Hot Spot"
    )
    assert isinstance(explain(hc, tau, p, pattern, chainey_categories(hc)), pd.Series)


def test_hamed_rao_and_sens_slope_equal_pymannkendall():
    rng = np.random.default_rng(7)
    walk = np.cumsum(rng.normal(size=(60, 36)), axis=1)  # strongly autocorrelated
    counts = rng.poisson(2.0, (60, 36)).astype(float)  # ties
    ar = np.zeros((60, 24))
    for t in range(1, 24):  # AR(1), rho 0.6
        ar[:, t] = 0.6 * ar[:, t - 1] + rng.normal(size=60)
    for x in (walk, counts, ar):
        ours = mann_kendall_hamed_rao(x)
        with warnings.catch_warnings():  # pymannkendall takes sqrt of a negative Var(S): NaN and a warning
            warnings.simplefilter("ignore", RuntimeWarning)
            theirs = [pymannkendall.hamed_rao_modification_test(row) for row in x]
        assert_allclose(ours[schema.MK_VAR_S], [t.var_s for t in theirs], rtol=1e-9)
        z = np.array([t.z for t in theirs])
        ok = np.isfinite(z)  # pymannkendall gives NaN where the corrected Var(S) is negative; we say z 0, p 1
        assert ok.mean() > 0.9
        assert_allclose(ours[schema.MK_Z][ok], z[ok], rtol=1e-9, atol=1e-12)
        assert_allclose(ours[schema.MK_P][ok], [t.p for t, f in zip(theirs, ok) if f], rtol=1e-9, atol=1e-12)
        assert (ours[schema.MK_P][~ok] == 1.0).all() and (ours[schema.MK_VAR_S][~ok] <= 0).all()
        assert_allclose(sens_slope(x), [pymannkendall.sens_slope(row).slope for row in x], rtol=1e-12, atol=1e-12)
    lagged = mann_kendall_hamed_rao(walk, lag=3)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        expected = [pymannkendall.hamed_rao_modification_test(r, lag=3).p for r in walk]
    ok = np.isfinite(expected)
    assert_allclose(lagged[schema.MK_P][ok], np.asarray(expected)[ok], rtol=1e-9)
    with pytest.raises(ParameterError, match="lag"):
        mann_kendall_hamed_rao(walk, lag=36)


# ------------------------------------------------------------------ operation markers on trend charts

OPS = pd.DataFrame(
    {
        "name": ["Avro day of action", "Lantern", "Old op", "Heartbeat [a] <b> {{x}}"],
        "start_date": pd.to_datetime(["2023-05-14", "2022-12-20", "2020-01-01", "2023-06-01"]),
        "end_date": pd.to_datetime(["2023-05-14", "2023-01-10", "2020-02-01", "2023-12-31"]),
    }
)
YEAR_2023 = periods.month_range("2023-01", "2023-12")


def test_operation_marks_known_answer_months() -> None:
    """Mid-month starts mark their month; one started before the chart marks its first month; out of range: left out."""
    marks = operation_marks(OPS, periods.months_to_index(YEAR_2023))
    assert marks["name"].tolist() == ["Lantern", "Avro day of action", "Heartbeat [a] <b> {{x}}"]
    assert marks["first"].tolist() == ["2023-01", "2023-05", "2023-06"]
    assert marks["last"].tolist() == ["2023-01", "2023-05", "2023-12"]
    assert marks["first_index"].tolist() == [0, 4, 5] and marks["last_index"].tolist() == [0, 4, 11]
    assert marks["start_date"].tolist() == ["2022-12-20", "2023-05-14", "2023-06-01"]
    # the month before the range and the month after it
    assert operation_marks(OPS, periods.months_to_index(periods.month_range("2023-02", "2023-04"))).empty
    late = operation_marks(OPS, periods.months_to_index(["2024-01"]))
    assert late.empty
    assert operation_marks(None, periods.months_to_index(YEAR_2023)).empty
    with pytest.raises(SchemaError, match="end_date"):
        operation_marks(OPS.drop(columns="end_date"), periods.months_to_index(YEAR_2023))


def test_operation_marks_weeks_and_repeated_days() -> None:
    """Day periods use the days; a one-day operation repeated in the same month is one mark on a monthly chart."""
    weeks = periods.date_period_keys(pd.to_datetime(["2023-05-08", "2023-05-15", "2023-05-22"]), period="week")
    marks = operation_marks(OPS, weeks, period="week")
    assert marks[["name", "first", "last"]].values.tolist() == [
        ["Avro day of action", "w/c 2023-05-08", "w/c 2023-05-08"]
    ]
    twice = pd.concat(
        [OPS.iloc[:1], OPS.iloc[:1].assign(start_date=pd.Timestamp("2023-05-20"), end_date=pd.Timestamp("2023-05-20"))]
    )
    assert len(operation_marks(twice, periods.months_to_index(YEAR_2023))) == 1
    assert len(operation_marks(twice, weeks, period="week")) == 2


def test_operation_marks_fall_in_the_periods_the_table_notes() -> None:
    """The markers' months lie in exactly the quarters (and months) the partnership table notes each operation under."""
    from types import SimpleNamespace

    from geo_csp.table.footnotes import operation_notes

    months = periods.month_range("2022-04", "2023-12")
    marks = operation_marks(OPS, periods.months_to_index(months))
    for kind in ("quarter", "month"):
        keys = np.unique(periods.period_keys(months, period=kind))
        labels = periods.period_labels(keys, period=kind)
        tv = SimpleNamespace(period_keys=keys, period_labels=labels, period=kind)
        notes = operation_notes(tv, OPS)  # type: ignore[arg-type]
        month_label = dict(zip(keys, labels))
        of_month = [month_label[k] for k in periods.period_keys(months, period=kind)]
        for row in marks.itertuples():
            marked = set(of_month[row.first_index : row.last_index + 1])
            noted = {n.split(": ")[0] for n in notes if row.name in n}
            assert marked == noted, (kind, row.name, marked, noted)
        if kind == "quarter":  # Lantern's two, then Avro with Heartbeat in Q1 2023/24, Heartbeat in Q2 and Q3
            assert len(marks) == 3 and len(notes) == 5


def test_line_chart_spec_draws_a_rule_and_name_per_operation() -> None:
    """The Altair spec: one rule and one text per operation in range, at its month, names as values only."""
    from geo_csp.app import widgets

    frame = pd.DataFrame({"Bury: centre": np.arange(12.0)}, index=YEAR_2023)
    spec = widgets.line_chart_spec(frame, marks=operation_marks(OPS, periods.months_to_index(YEAR_2023))).to_dict()
    layers = {layer["mark"]["type"]: layer for layer in spec["layer"]}
    assert set(layers) == {"line", "rect", "rule", "text"}
    datasets = spec["datasets"]
    rule = datasets[layers["rule"]["data"]["name"]]
    text = datasets[layers["text"]["data"]["name"]]
    period, _, _ = widgets.CHART_FIELDS
    name, dates, last = widgets.MARK_FIELDS
    assert [(r[period], r[name]) for r in rule] == [
        ("2023-01", "Lantern"),
        ("2023-05", "Avro day of action"),
        ("2023-06", "Heartbeat [a] <b> {{x}}"),
    ]
    assert [r[name] for r in text] == [r[name] for r in rule]
    assert layers["text"]["encoding"]["text"]["field"] == name
    assert [(r[period], r[last]) for r in datasets[layers["rect"]["data"]["name"]]] == [("2023-06", "2023-12")]
    assert rule[1][dates] == "2023-05-14" and rule[2][dates] == "2023-06-01 to 2023-12-31"
    assert layers["line"]["encoding"]["x"]["scale"]["domain"] == list(YEAR_2023)  # markers keep month order
    # no operation in range: the plain line chart
    plain = widgets.line_chart_spec(frame, marks=operation_marks(OPS.iloc[2:3], periods.months_to_index(YEAR_2023)))
    assert plain.to_dict()["mark"]["type"] == "line"


def test_trends_page_marks_the_demo_operations(demo_borough, monkeypatch: pytest.MonkeyPatch) -> None:
    """On the demo's last 12 months (2025): Lantern (since 2024-01) at the first month, Heartbeat at 2025-01 and
    the two 2025 Avro days at their months; the earlier Avro days are not drawn."""
    import json
    from pathlib import Path

    import pyarrow as pa
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("GEO_CSP_DEMO_DIR", str(demo_borough.out_dir))
    monkeypatch.setenv("GEO_CSP_STORE", str(demo_borough.out_dir / "store"))
    monkeypatch.setenv("GEO_CSP_OFFLINE", "1")
    at = AppTest.from_file(str(Path(__file__).resolve().parent.parent / "app.py"), default_timeout=180)
    at.run()
    at.switch_page("geo_csp/app/pages/trends.py").run()
    assert not at.exception, [e.message for e in at.exception]
    for level in ("Hotspot areas", "Wards"):
        at.radio(key="trend_level").set_value(level).run()
        assert not at.exception, [e.message for e in at.exception]
        chart = at.get("vega_lite_chart")[0].proto
        spec = json.loads(chart.spec)
        data = {ds.name: pa.ipc.open_stream(ds.data.data).read_pandas() for ds in chart.datasets}
        layer = {layer["mark"]["type"]: data[layer["data"]["name"]] for layer in spec["layer"]}
        assert sorted(zip(layer["rule"]["period"], layer["rule"]["operation"])) == [
            ("2025-01", "Heartbeat"),
            ("2025-01", "Lantern"),
            ("2025-03", "Avro"),
            ("2025-07", "Avro"),
        ]
        assert dict(zip(layer["text"]["period"], layer["text"]["operation"])) == {
            "2025-01": "Lantern · Heartbeat",  # started before the chart, and in its first month
            "2025-03": "Avro",
            "2025-07": "Avro",
        }
        assert sorted(layer["rect"]["operation"]) == ["Heartbeat", "Lantern"]
        caption = " ".join(c.value for c in at.caption)
        assert "4 operation" in caption and "marks its month" in caption
    # the operation review's monthly chart marks the register over the whole data: 8 Avro days, Lantern, Heartbeat
    at.switch_page("geo_csp/app/pages/review.py").run()
    assert not at.exception, [e.message for e in at.exception]
    chart = at.get("vega_lite_chart")[0].proto
    spec = json.loads(chart.spec)
    data = {ds.name: pa.ipc.open_stream(ds.data.data).read_pandas() for ds in chart.datasets}
    rule = next(data[layer["data"]["name"]] for layer in spec["layer"] if layer["mark"]["type"] == "rule")
    assert sorted(rule["operation"].value_counts().items()) == [("Avro", 8), ("Heartbeat", 1), ("Lantern", 1)]
    assert dict(zip(rule["operation"], rule["period"]))["Heartbeat"] == "2025-01"
