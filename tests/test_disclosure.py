"""Disclosure control: the 10-5 rule on hand examples, and property tests of non-recoverability.

The property tests solve the attacker's problem independently of the module: from the published table
(every published cell taken at its exact true value, which is more than an attacker sees) and the
additive relations of the table (row totals, column totals, parent = sum of children), the largest
value each small suppressed count can take must not be below the threshold.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from geo_csp._errors import DisclosureError, ParameterError, SchemaError
from geo_csp.disclosure import (
    AUDIT_COLUMNS,
    SUPPRESSED_MARK,
    DisclosureParams,
    protect_cells,
    protect_table,
    refuse_in_public,
    round_counts,
)

# ----------------------------------------------------------------------------------------------
# Hand examples
# ----------------------------------------------------------------------------------------------


def test_rounding_to_nearest_five():
    np.testing.assert_array_equal(
        round_counts(np.array([10, 12, 13, 17, 18, 100]), round_to=5), [10, 10, 15, 15, 20, 100]
    )


def test_primary_and_rounding_without_totals():
    t = pd.DataFrame({"q": [0, 9, 10, 12, 13, 48]}, index=list("abcdef"))
    p = protect_table(t, row_total=None, column_total=None)
    assert p.published["q"].tolist() == [pd.NA, pd.NA, 10, 10, 15, 50]
    assert p.to_display()["q"].tolist() == [SUPPRESSED_MARK] * 2 + ["10", "10", "15", "50"]
    assert set(p.audit["row"]) == {"a", "b"}
    assert p.audit["reason"].str.startswith("below_threshold").all()


def test_sole_suppressed_cell_gets_a_partner_in_its_row():
    # 3 + 20 + 30 = 53: publishing 20, 30 and the total would give 53 - 50 = 3 back.
    t = pd.DataFrame([[3, 20, 30]], index=["ward"], columns=["Q1", "Q2", "Q3"])
    p = protect_table(t, column_total=None)
    assert p.suppressed.loc["ward"].tolist() == [True, True, False, False]
    assert p.published.loc["ward", "Q3"] == 30
    assert p.published.loc["ward", "Total"] == 55  # the rounded true total
    second = p.audit[p.audit["step"] == "secondary"]
    assert second[["row", "column"]].values.tolist() == [["ward", "Q2"]]
    assert second["reason"].iloc[0].startswith("sole_suppressed_in_group")


def test_two_small_cells_summing_below_threshold_need_a_third():
    t = pd.DataFrame([[2, 3, 40, 50]], index=["ward"], columns=list("abcd"))
    p = protect_table(t, column_total=None)
    assert p.suppressed.loc["ward"].tolist() == [True, True, True, False, False]
    assert p.audit["reason"].iloc[-1].startswith("group_sum_below_threshold")


def test_parent_minus_other_children():
    # Borough = A + B + C; publishing borough, B and C would give A = 4 back.
    t = pd.DataFrame({"burglary": [84, 4, 30, 50]}, index=["Borough", "A", "B", "C"])
    p = protect_table(t, row_total=None, column_total=None, hierarchy={"Borough": ["A", "B", "C"]})
    assert p.suppressed["burglary"].tolist() == [False, True, True, False]
    assert p.published.loc["Borough", "burglary"] == 85


def test_two_way_table_rectangle():
    # One small cell in a 3x3 table with both margins needs a rectangle of four suppressions.
    t = pd.DataFrame([[5, 40, 60], [30, 45, 70], [80, 90, 95]], index=list("xyz"), columns=list("abc"))
    p = protect_table(t)
    sup = p.suppressed.loc[list("xyz"), list("abc")].to_numpy()
    assert sup.sum() == 4
    assert (sup.sum(axis=0) != 1).all() and (sup.sum(axis=1) != 1).all()
    assert sup[0, 0] and sup[0, 1] and sup[1, 0] and sup[1, 1]  # the smallest partners: 40 and 30, then 45
    assert not p.suppressed.loc["Total"].any() and not p.suppressed["Total"].any()


def test_linear_audit_catches_what_the_group_rule_misses():
    # A chain: total T = a + b, a = a1 + a2, b = b1 + b2 with a1 small; grouping each pair alone is
    # not enough when the other pair's cells are all published.
    values = np.array([100, 50, 50, 4, 46, 20, 30], dtype=float)  # T, a, b, a1, a2, b1, b2
    groups = [(0, [1, 2]), (1, [3, 4]), (2, [5, 6])]
    published, sup, audit = protect_cells(values, groups)
    assert sup[3]
    assert _attacker_max(values, sup, groups, 3) >= 10
    assert all(entry[1] in {"primary", "secondary"} for entry in audit)


def test_audit_never_holds_values_and_states_the_rule():
    t = pd.DataFrame([[3, 20, 30], [7, 15, 60]], index=["a", "b"], columns=["x", "y", "z"])
    p = protect_table(t)
    assert tuple(p.audit.columns) == AUDIT_COLUMNS
    assert not any(str(v) in {"3", "7"} for v in p.audit[["row", "column", "step", "reason"]].to_numpy().ravel())
    assert "below 10" in p.params.rule and "nearest 5" in p.params.rule


def test_refuse_in_public_names_the_content_and_the_fix():
    refuse_in_public("incident points", public=False)  # fine outside public mode
    with pytest.raises(DisclosureError, match=r"incident points cannot be exported in public mode.*--public"):
        refuse_in_public("incident points", public=True)


def test_invalid_inputs_raise():
    with pytest.raises(ParameterError, match="threshold"):
        DisclosureParams(threshold=0)
    with pytest.raises(SchemaError, match="non-negative"):
        protect_table(pd.DataFrame({"a": [-1, 3]}))
    with pytest.raises(SchemaError, match="not the sum of its children"):
        protect_table(pd.DataFrame({"a": [10, 3, 3]}, index=["P", "c1", "c2"]), hierarchy={"P": ["c1", "c2"]})
    with pytest.raises(ParameterError, match="not in the table"):
        protect_table(pd.DataFrame({"a": [10]}, index=["P"]), hierarchy={"P": ["zz"]})


# ----------------------------------------------------------------------------------------------
# The attacker, written independently of the module
# ----------------------------------------------------------------------------------------------


def _attacker_max(values: np.ndarray, sup: np.ndarray, groups, i: int) -> float:
    """Largest value of suppressed cell ``i`` consistent with the published cells and the groups."""
    unknown = np.flatnonzero(sup)
    col = {c: j for j, c in enumerate(unknown)}
    a_eq, b_eq = [], []
    for total, members in groups:
        row = np.zeros(unknown.size)
        rhs = 0.0
        for c, sign in [(total, 1.0)] + [(m, -1.0) for m in members]:
            if sup[c]:
                row[col[c]] += sign
            else:
                rhs -= sign * values[c]
        a_eq.append(row)
        b_eq.append(rhs)
    c = np.zeros(unknown.size)
    c[col[i]] = -1.0
    res = linprog(c, A_eq=np.array(a_eq), b_eq=np.array(b_eq), bounds=(0, None), method="highs")
    if res.status == 3:
        return float("inf")
    assert res.status == 0, res.message
    return -res.fun


def _table_groups(full: pd.DataFrame, parent_of: dict[str, list[str]], roots: list[str]):
    """Additive relations of a table with a Total column, a Total row and a row hierarchy."""
    pos = {(r, c): k for k, (r, c) in enumerate((r, c) for r in full.index for c in full.columns)}
    inner = [c for c in full.columns if c != "Total"]
    groups = [(pos[(r, "Total")], [pos[(r, c)] for c in inner]) for r in full.index]
    groups += [(pos[("Total", c)], [pos[(r, c)] for r in roots]) for c in full.columns]
    groups += [(pos[(p, c)], [pos[(k, c)] for k in kids]) for p, kids in parent_of.items() for c in full.columns]
    return groups


counts = st.one_of(st.integers(0, 12), st.integers(0, 80))


@st.composite
def hierarchical_tables(draw):
    n_children = draw(st.integers(1, 4))
    n_cols = draw(st.integers(1, 4))
    kids = np.array(
        draw(st.lists(st.lists(counts, min_size=n_cols, max_size=n_cols), min_size=n_children, max_size=n_children))
    )
    with_parent = draw(st.booleans()) and n_children >= 2
    others = draw(st.integers(0, 2))
    extra = np.array(
        draw(st.lists(st.lists(counts, min_size=n_cols, max_size=n_cols), min_size=others, max_size=others))
    ).reshape(others, n_cols)
    labels = [f"c{i}" for i in range(n_children)]
    rows = labels + [f"o{i}" for i in range(others)]
    data = np.vstack([kids, extra])
    parent_of = {}
    if with_parent:
        data = np.vstack([kids.sum(axis=0, keepdims=True), data])
        rows = ["P"] + rows
        parent_of = {"P": labels}
    table = pd.DataFrame(data.astype(int), index=rows, columns=[f"q{j}" for j in range(n_cols)])
    threshold = draw(st.sampled_from([5, 10, 11]))
    round_to = draw(st.sampled_from([1, 5]))
    return table, parent_of, DisclosureParams(threshold=threshold, round_to=round_to)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(hierarchical_tables())
def test_property_no_small_count_is_recoverable(case):
    table, parent_of, params = case
    p = protect_table(table, params=params, hierarchy=parent_of)
    roots = [r for r in table.index if r not in {k for ks in parent_of.values() for k in ks}]
    # the true full table, built here from the input
    full = table.copy()
    full["Total"] = full.sum(axis=1)
    full.loc["Total"] = full.loc[roots].sum(axis=0)
    assert list(p.published.index) == list(full.index) and list(p.published.columns) == list(full.columns)
    values = full.to_numpy(dtype=float).ravel()
    sup = p.suppressed.to_numpy().ravel()
    pub = p.published.to_numpy(dtype=float, na_value=np.nan).ravel()

    # published counts: multiples of round_to, at least the threshold; suppressed exactly where NaN
    assert np.array_equal(np.isnan(pub), sup)
    assert (pub[~sup] % params.round_to == 0).all()
    assert (pub[~sup] >= params.threshold).all()
    # every published value (cells and totals) is its true value rounded
    expected = np.floor(values / params.round_to + 0.5) * params.round_to
    np.testing.assert_array_equal(pub[~sup], expected[~sup])
    # every count below the threshold is suppressed
    assert sup[values < params.threshold].all()

    groups = _table_groups(full, parent_of, roots)
    for total, members in groups:
        n_sup = sup[[total, *members]].sum()
        assert n_sup != 1, "a group with a single suppressed cell gives it away"
    for i in np.flatnonzero(values < params.threshold):
        assert _attacker_max(values, sup, groups, i) >= params.threshold - 1e-6

    # the audit names every suppressed cell once, and nothing else
    audited = set(zip(p.audit["row"], p.audit["column"]))
    assert audited == {(full.index[k // full.shape[1]], full.columns[k % full.shape[1]]) for k in np.flatnonzero(sup)}
    assert len(p.audit) == sup.sum()


@settings(max_examples=60, deadline=None)
@given(st.lists(counts, min_size=1, max_size=12))
def test_property_deterministic_and_input_unchanged(col):
    t = pd.DataFrame({"n": col}, index=[f"r{i}" for i in range(len(col))])
    before = t.copy()
    a = protect_table(t)
    b = protect_table(t)
    pd.testing.assert_frame_equal(t, before)
    pd.testing.assert_frame_equal(a.published, b.published)
    pd.testing.assert_frame_equal(a.audit, b.audit)
