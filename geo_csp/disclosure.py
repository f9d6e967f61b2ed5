"""Disclosure control for public outputs: the ONS 10-5 rule with secondary suppression and an audit.

Granular crime data is sensitive. Anything published (a scrutiny table on a council website, a public
evidence pack) goes through this module first:

* **Primary suppression.** A count below ``threshold`` (default 10), or one that would round to a value
  below it, is suppressed and shown as ``[c]`` (the ONS "confidential" marker).
* **Rounding.** Every other count is rounded to the nearest ``round_to`` (default 5). Totals are the
  rounded *true* totals (rounded independently, as ONS does), so published cells need not add up
  exactly to published totals.
* **Secondary suppression.** A table is a set of cells tied by additive groups: a row total is the sum
  of its row, a column total the sum of its column, a parent area the sum of its children. A
  suppressed cell could be recovered from a published total minus the other published cells, so:

  1. *Group rule*, repeated to a fixed point: in any group with exactly one suppressed cell, or whose
     published total leaves the suppressed members summing to less than ``threshold``, suppress the
     smallest still-published member (the total itself only when no member is left).
  2. *Linear audit* (the attacker's view, as in tau-Argus): with every published cell taken at its
     exact true value (stronger than the rounded value an attacker really sees), solve
     ``max x_i`` subject to the group equations and ``x >= 0`` for every primary-suppressed cell
     ``i`` (scipy's HiGHS LP). If the largest value the equations allow is below ``threshold``, the
     attacker would learn that the count is small (or pin it exactly), so the smallest published cell
     in one of its groups is suppressed and step 1 runs again.

  Suppression only ever grows, so this ends; in the worst case every cell is suppressed, which is
  always safe. Both steps are deterministic (ties broken by position), so a table protects the same
  way every time.
* **Audit.** Every suppression is logged (cell, step, reason, the group it protects) *without* the
  hidden value. The audit log is itself a sensitive file: keep it apart from the public output.
* **Hidden cells.** A piece of a total that no published count shows (the partner records inside a
  total of several sources) can be a cell that is never published (``hidden``): the attacker does not
  know it, and it is protected like any other when it is small.
* **Refusal.** Incident points and partner records and layers are never public (partner *counts* are,
  through this rule): :func:`refuse_in_public` raises :class:`~geo_csp._errors.DisclosureError`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import pandas as pd
from scipy import sparse
from scipy.optimize import linprog

from geo_csp._errors import DisclosureError, ParameterError, SchemaError

__all__ = [
    "SUPPRESSED_MARK",
    "AUDIT_COLUMNS",
    "DisclosureParams",
    "ProtectedTable",
    "protect_cells",
    "protect_table",
    "reason_text",
    "refuse_in_public",
    "round_counts",
]

SUPPRESSED_MARK = "[c]"
AUDIT_COLUMNS = ("row", "column", "step", "reason", "group")

# Reasons written into the audit log (stable: reports key on them).
_REASONS = {
    "below_threshold": "count below the threshold",
    "rounds_below_threshold": "count rounds to a value below the threshold",
    "sole_suppressed_in_group": "only suppressed cell of its group: would be recoverable from the total",
    "group_sum_below_threshold": "suppressed cells of the group sum to less than the threshold",
    "linear_audit": "the group equations bound a small count below the threshold",
}


@dataclass(frozen=True)
class DisclosureParams:
    """The disclosure rule applied to public outputs (the ONS 10-5 rule by default).

    Parameters
    ----------
    threshold
        Counts below this are suppressed (primary suppression).
    round_to
        Published counts are rounded to the nearest multiple of this (1 = no rounding).
    """

    threshold: int = 10
    round_to: int = 5

    def __post_init__(self) -> None:
        for name in ("threshold", "round_to"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < 1:
                raise ParameterError(f"DisclosureParams.{name} must be a positive integer, not {value!r}")

    @property
    def rule(self) -> str:
        """The rule in words, for footnotes and reports."""
        rounding = f"rounded to the nearest {self.round_to}" if self.round_to > 1 else "not rounded"
        return (
            f"Counts below {self.threshold} are suppressed ({SUPPRESSED_MARK}); other counts are {rounding}; "
            "totals are rounded independently, so they may not equal the sum of the rounded cells; "
            "further cells are suppressed where a suppressed count could otherwise be worked out "
            "from totals or from a parent area minus its other parts (ONS 10-5 rule)."
        )

    def to_dict(self) -> dict[str, Any]:
        """The parameters and the rule, for output metadata."""
        return {**asdict(self), "rule": self.rule}


def reason_text(reason: str) -> str:
    """An audit reason as the audit log writes it: its key and its meaning ("below_threshold: count below the threshold")."""
    return f"{reason}: {_REASONS[reason]}"


def round_counts(values: np.ndarray, *, round_to: int) -> np.ndarray:
    """Round non-negative counts to the nearest multiple of ``round_to`` (halves round up)."""
    values = np.asarray(values, dtype=float)
    return np.floor(values / round_to + 0.5) * round_to


def refuse_in_public(what: str, *, public: bool) -> None:
    """Raise :class:`DisclosureError` when a sensitive output (``what``) is asked for in public mode.

    Parameters
    ----------
    what
        The sensitive content, e.g. ``"incident points"`` or ``"partner data (council_asb)"``.
    public
        Whether the output is meant for publication.
    """
    if public:
        raise DisclosureError(
            f"{what} cannot be exported in public mode: granular and partner data may not be published. "
            "Export aggregated counts instead (they are suppressed and rounded), or drop --public / "
            "public=True for an output that stays inside the partnership."
        )


# --------------------------------------------------------------------------------------------------
# The engine: cells tied by additive groups.
# --------------------------------------------------------------------------------------------------


def _group_matrix(n: int, groups: Sequence[tuple[int, Sequence[int]]]) -> sparse.csr_matrix:
    """Signed incidence matrix: +1 for a group's total, -1 for each member (rows sum to zero on v)."""
    rows, cols, vals = [], [], []
    for g, (total, members) in enumerate(groups):
        rows.append(g)
        cols.append(total)
        vals.append(1.0)
        rows.extend([g] * len(members))
        cols.extend(members)
        vals.extend([-1.0] * len(members))
    return sparse.csr_matrix((vals, (rows, cols)), shape=(len(groups), n))


def _max_feasible(a_sup: sparse.csr_matrix, b: np.ndarray, i: int) -> float:
    """Largest value unknown ``i`` can take under ``a_sup @ x == b``, ``x >= 0`` (inf if unbounded)."""
    n = a_sup.shape[1]
    c = np.zeros(n)
    c[i] = -1.0
    res = linprog(c, A_eq=a_sup, b_eq=b, bounds=(0, None), method="highs")
    if res.status == 3:  # unbounded
        return float("inf")
    if res.status != 0:  # infeasible cannot happen with true values; treat as unsafe
        return float("-inf")
    return float(-res.fun)


def protect_cells(
    values: np.ndarray,
    groups: Sequence[tuple[int, Sequence[int]]],
    *,
    params: DisclosureParams = DisclosureParams(),
    hidden: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray, list[tuple[int, str, str, int]]]:
    """Apply the 10-5 rule with secondary suppression to cells tied by additive groups.

    Parameters
    ----------
    values
        Non-negative integer counts, one per cell (totals included).
    groups
        ``(total_index, member_indices)`` per additive relation: ``values[total] == sum(values[members])``.
    params
        The disclosure rule.
    hidden
        Cells that are never published (e.g. the part of one count that no published count separates:
        the crimes of a partner source inside a total of several sources): unknown to the attacker from
        the start, and protected like any other when they are small (no published cell may bound them
        below the threshold). They get no audit entry.

    Returns
    -------
    published, suppressed, audit
        Rounded counts (NaN where suppressed or hidden), the suppression mask (hidden cells included),
        and one ``(cell, step, reason, group)`` entry per suppressed published cell (``group`` is -1 for
        primary).
    """
    v = _checked_cells(values, groups)
    n = v.size
    thr = params.threshold
    never = np.zeros(n, dtype=bool) if hidden is None else np.asarray(hidden, dtype=bool)
    if never.shape != (n,):
        raise ParameterError(f"hidden must be a boolean mask of the {n} cells")
    rounded = round_counts(v, round_to=params.round_to)
    sup = (v < thr) | (rounded < thr)
    primary = sup.copy()
    audit: list[tuple[int, str, str, int]] = [
        (int(i), "primary", "below_threshold" if v[i] < thr else "rounds_below_threshold", -1)
        for i in np.flatnonzero(sup & ~never)
    ]
    sup |= never
    slack = never & ~primary  # hidden and large: unknown, so a group holding one is never solved exactly
    a = _group_matrix(n, groups)
    group_cells = [np.asarray([t, *m], dtype=int) for t, m in groups]
    cell_groups = [np.flatnonzero(col) for col in (a.T.tocsr() != 0).toarray()] if n else []
    rank = np.empty(n, dtype=int)
    rank[np.lexsort((np.arange(n), v))] = np.arange(n)  # smallest value first, ties by position
    while True:
        _apply_group_rule(v, sup, group_cells, rank, threshold=thr, audit=audit, slack=slack)  # step 1
        flagged = _recoverable_primary(a, v, sup, primary, cell_groups, threshold=thr) if len(groups) else None
        if flagged is None:
            break
        cand = np.unique(np.concatenate([group_cells[g] for g in cell_groups[flagged]]))
        pick = _smallest_published(cand, sup, rank)
        if pick is None:
            pick = _smallest_published(np.arange(n), sup, rank)
        if pick is None:  # everything is suppressed: nothing can be recovered
            break
        sup[pick] = True
        group = int(cell_groups[flagged][0])
        audit.append((pick, "secondary", "linear_audit", group))
    published = np.where(sup, np.nan, rounded)
    return published, sup, audit


def _checked_cells(values: np.ndarray, groups: Sequence[tuple[int, Sequence[int]]]) -> np.ndarray:
    """``values`` as floats, refused unless they are whole non-negative counts that add up in every group."""
    v = np.asarray(values, dtype=float)
    if v.ndim != 1 or (v.size and (np.isnan(v).any() or (v < 0).any() or (v != np.round(v)).any())):
        raise SchemaError("values must be a 1-D array of non-negative whole counts (no NaN)")
    n = v.size
    for g, (total, members) in enumerate(groups):
        idx = np.asarray([total, *members])
        if idx.size and (idx.min() < 0 or idx.max() >= n):
            raise ParameterError(f"group {g} refers to a cell index outside 0..{n - 1}")
        if v[total] != v[np.asarray(members, dtype=int)].sum():
            raise SchemaError(f"group {g}: total cell {total} is not the sum of its members; fix the table")
    return v


def _smallest_published(cells: np.ndarray, sup: np.ndarray, rank: np.ndarray, exclude: int | None = None) -> int | None:
    """The published cell of ``cells`` with the smallest value (ties by position), a member rather than
    ``exclude`` (the group's total) when there is one; ``None`` when all are suppressed."""
    cand = cells[~sup[cells]]
    if exclude is not None:
        members_only = cand[cand != exclude]
        cand = members_only if members_only.size else cand
    if not cand.size:
        return None
    return int(cand[np.argmin(rank[cand])])


def _apply_group_rule(
    v: np.ndarray,
    sup: np.ndarray,
    group_cells: list[np.ndarray],
    rank: np.ndarray,
    *,
    threshold: float,
    audit: list[tuple[int, str, str, int]],
    slack: np.ndarray,
) -> None:
    """The group rule to a fixed point, in place: a group with one suppressed cell, or whose suppressed
    members add up to less than the threshold, loses its smallest published cell too (``sup`` and
    ``audit`` are updated). A hidden cell that is not small (``slack``) needs no protecting, and a group
    holding one is not solved exactly (the linear audit bounds what it allows)."""
    changed = True
    while changed:
        changed = False
        for g, cells in enumerate(group_cells):
            n_sup = int((sup[cells] & ~slack[cells]).sum())
            if n_sup == 0:
                continue
            total = int(cells[0])
            members = cells[1:]
            reason = None
            if n_sup == 1 and not slack[cells].any():
                reason = "sole_suppressed_in_group"
            elif not sup[total] and v[members[sup[members]]].sum() < threshold:
                reason = "group_sum_below_threshold"
            if reason is None:
                continue
            pick = _smallest_published(cells, sup, rank, exclude=total)
            if pick is None:
                continue
            sup[pick] = True
            audit.append((pick, "secondary", reason, g))
            changed = True


def _recoverable_primary(
    a: sparse.csr_matrix,
    v: np.ndarray,
    sup: np.ndarray,
    primary: np.ndarray,
    cell_groups: list[np.ndarray],
    *,
    threshold: float,
) -> int | None:
    """The linear audit: the first primary cell whose largest value consistent with the published cells
    and the groups is below the threshold (so it would be known to be small); ``None`` when there is none."""
    unknown = np.flatnonzero(sup)
    if not unknown.size:
        return None
    known = np.flatnonzero(~sup)
    a_sup = a[:, unknown]
    b = -(a[:, known] @ v[known])
    col_of = {int(c): j for j, c in enumerate(unknown)}
    for i in np.flatnonzero(primary):
        if not cell_groups[i].size:
            continue
        if _max_feasible(a_sup, b, col_of[int(i)]) < threshold - 1e-6:
            return int(i)
    return None


# --------------------------------------------------------------------------------------------------
# Tables: rows x columns with optional totals and a row hierarchy.
# --------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class ProtectedTable:
    """A table cleared for publication. It holds no hidden value.

    Attributes
    ----------
    published
        Rounded counts (``Int64``), ``<NA>`` where suppressed; totals included.
    suppressed
        ``True`` where a cell is suppressed.
    audit
        One row per suppressed cell (``row``, ``column``, ``step``, ``reason``, ``group``): a
        sensitive file, never published with the table.
    params
        The rule applied.
    """

    published: pd.DataFrame
    suppressed: pd.DataFrame
    audit: pd.DataFrame
    params: DisclosureParams

    def to_display(self) -> pd.DataFrame:
        """The table as text: counts with thousands separators, ``[c]`` where suppressed."""
        text = self.published.astype("object").map(lambda x: SUPPRESSED_MARK if pd.isna(x) else f"{int(x):,}")
        return text


def _check_counts(counts: pd.DataFrame) -> np.ndarray:
    if not isinstance(counts, pd.DataFrame):
        raise SchemaError(f"counts must be a pandas DataFrame, not {type(counts).__name__}")
    try:
        arr: np.ndarray = counts.to_numpy(dtype=float)
    except (TypeError, ValueError) as exc:
        raise SchemaError(f"counts must hold numbers only: {exc}") from exc
    if arr.size and (np.isnan(arr).any() or (arr < 0).any() or (arr != np.round(arr)).any()):
        raise SchemaError("counts must be non-negative whole numbers with no missing values")
    if counts.index.has_duplicates or counts.columns.has_duplicates:
        raise SchemaError("counts must have unique row and column labels")
    return arr


def protect_table(
    counts: pd.DataFrame,
    *,
    params: DisclosureParams = DisclosureParams(),
    row_total: str | None = "Total",
    column_total: str | None = "Total",
    hierarchy: Mapping[Any, Sequence[Any]] | None = None,
) -> ProtectedTable:
    """Clear a table of counts for publication (10-5 rule, secondary suppression, audit).

    Parameters
    ----------
    counts
        Interior counts: rows (e.g. areas or measures) by columns (e.g. quarters or crime groups).
    params
        The disclosure rule.
    row_total
        Label of an appended column holding each row's total; ``None`` for no row totals.
    column_total
        Label of an appended row holding each column's total over the top-level rows; ``None`` for none.
    hierarchy
        Parent row label -> child row labels, where the parent row is the sum of its children (e.g. a
        borough row and its ward rows). Every parent row must equal the sum of its children.

    Returns
    -------
    ProtectedTable
    """
    arr = _check_counts(counts)
    rows = list(counts.index)
    children_of = _hierarchy_children(arr, rows, dict(hierarchy or {}))
    child_rows = {k for ks in children_of.values() for k in ks}
    roots = [i for i in range(len(rows)) if i not in child_rows]

    full = arr
    cols = list(counts.columns)
    n_int_cols = full.shape[1]
    if row_total is not None:
        if row_total in cols:
            raise ParameterError(f"row_total label {row_total!r} is already a column; choose another")
        full = np.column_stack([full, full.sum(axis=1)]) if full.size else np.zeros((len(rows), 1))
        cols.append(row_total)
    if column_total is not None:
        if column_total in rows:
            raise ParameterError(f"column_total label {column_total!r} is already a row; choose another")
        full = np.vstack([full, full[roots].sum(axis=0)])
        rows = [*rows, column_total]
    n_rows, n_cols = full.shape
    cell = np.arange(n_rows * n_cols).reshape(n_rows, n_cols)
    groups: list[tuple[int, list[int]]] = []
    if row_total is not None:
        groups += [(int(cell[r, n_int_cols]), cell[r, :n_int_cols].tolist()) for r in range(n_rows)]
    if column_total is not None:
        groups += [(int(cell[n_rows - 1, c]), cell[roots, c].tolist()) for c in range(n_cols)]
    for p, ks in children_of.items():
        groups += [(int(cell[p, c]), cell[ks, c].tolist()) for c in range(n_cols)]

    published, sup, audit = protect_cells(full.ravel(), groups, params=params)
    pub = pd.DataFrame(published.reshape(n_rows, n_cols), index=rows, columns=cols).astype("Int64")
    mask = pd.DataFrame(sup.reshape(n_rows, n_cols), index=rows, columns=cols)
    pub.index.name, mask.index.name = counts.index.name, counts.index.name
    audit_df = pd.DataFrame(
        [(rows[c // n_cols], cols[c % n_cols], step, reason, g) for c, step, reason, g in audit],
        columns=list(AUDIT_COLUMNS),
    )
    if len(audit_df):
        audit_df["reason"] = audit_df["reason"].map(reason_text)
    return ProtectedTable(published=pub, suppressed=mask, audit=audit_df, params=params)


def _hierarchy_children(arr: np.ndarray, rows: list[Any], hierarchy: dict[Any, Any]) -> dict[int, list[int]]:
    """Each parent row's position -> its children's positions, refused when a row is missing or a parent
    is not the sum of its children."""
    row_pos = {r: i for i, r in enumerate(rows)}
    children_of: dict[int, list[int]] = {}
    for parent, kids in hierarchy.items():
        missing = [k for k in (parent, *kids) if k not in row_pos]
        if missing:
            raise ParameterError(f"hierarchy names rows not in the table: {missing!r}")
        p, ks = row_pos[parent], [row_pos[k] for k in kids]
        if not np.array_equal(arr[p], arr[ks].sum(axis=0)):
            raise SchemaError(f"hierarchy: row {parent!r} is not the sum of its children {list(kids)!r}")
        children_of[p] = ks
    return children_of
