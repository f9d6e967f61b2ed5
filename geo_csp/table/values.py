"""The partnership table's numbers: counts per measure and period (financial quarter, or month for the
board's table) in the focus area, rates, the comparator.

Incidents are counted in an area when they are *located* inside its polygon (EPSG:27700). A period's
value is "not available" (``available`` false) when the measure's sources have no row at all in that
period, so a true zero and a gap are told apart. In public mode counts go through
:mod:`geo_csp.disclosure` (a monthly table together with the quarters its months make up) and rates
are computed from the rounded counts.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Literal

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import boundaries, periods, schema
from geo_csp._errors import ParameterError, SchemaError
from geo_csp.disclosure import AUDIT_COLUMNS, DisclosureParams, protect_cells, reason_text, round_counts
from geo_csp.geography import AREA_CODE, AREA_NAME
from geo_csp.table.measures import DEFAULT_MEASURES, FULL_CATEGORY_SOURCES, Measure

__all__ = [
    "PERIOD_MONTHS",
    "TABLE_PERIODS",
    "TableParams",
    "TablePeriod",
    "TableValues",
    "area_values",
    "period_labels",
    "places_from_lowest",
    "table_values",
]

TablePeriod = Literal["quarter", "month"]
#: The periods a partnership table is made of: financial quarters, or calendar months (the board's table).
TABLE_PERIODS: tuple[TablePeriod, ...] = ("quarter", "month")
#: Months in one period of each kind.
PERIOD_MONTHS = {"quarter": 3, "month": 1}
_MONTH_NAMES = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


def period_labels(keys: np.ndarray, *, period: TablePeriod) -> list[str]:
    """Column labels of a table's periods: "Q1 Apr-Jun 2025" for quarters, "Dec 2025" for months."""
    if period == "month":
        return [f"{_MONTH_NAMES[int(m[5:]) - 1]} {m[:4]}" for m in periods.index_to_months(np.asarray(keys))]
    return [str(x) for x in periods.period_labels(np.asarray(keys), period="quarter")]


#: The columns of the incidents the table reads.
INCIDENT_COLUMNS = (
    schema.SOURCE,
    schema.MONTH,
    schema.CRIME_TYPE,
    schema.EASTING,
    schema.NORTHING,
    schema.LOCATED,
    schema.OBJECT_OF_SEARCH,
)


@dataclass(frozen=True)
class TableParams:
    """Run parameters of a partnership table (written into its metadata).

    Parameters
    ----------
    area
        Name or code of the focus area (a row of ``areas``).
    comparators
        Names or codes of comparator areas; ``None`` for every other area of ``areas``.
    period
        ``"quarter"`` (financial quarters, the scrutiny report's table) or ``"month"`` (calendar months,
        the board's table).
    n_quarters
        Number of quarters shown (the last complete ones) when ``period`` is ``"quarter"``.
    end_quarter
        Last quarter shown as a label ("Q4 Jan-Mar 2019") or ``None`` for the latest complete one.
    n_months
        Number of months shown when ``period`` is ``"month"`` (13 by default: the latest month and the
        same month a year earlier both in view).
    end_month
        Last month shown ("2025-12") or ``None`` for the latest one.
    public
        Apply disclosure control.
    disclosure
        The disclosure rule used in public mode.
    measures
        The rows of the table (:data:`~geo_csp.table.DEFAULT_MEASURES`, or a partnership's own from a
        measures file: :func:`~geo_csp.table.read_measure_file`).
    measure_files
        The measures files they came from, as :func:`~geo_csp.table.measure_file_label` names them
        (file name and sha256), for the metadata and footnotes; empty for the default measures.
    """

    area: str
    comparators: tuple[str, ...] | None = None
    n_quarters: int = 5
    end_quarter: str | None = None
    public: bool = False
    disclosure: DisclosureParams = field(default_factory=DisclosureParams)
    measures: tuple[Measure, ...] = DEFAULT_MEASURES
    measure_files: tuple[str, ...] = ()
    period: TablePeriod = "quarter"
    n_months: int = 13
    end_month: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.measures, Measure) or not all(isinstance(m, Measure) for m in self.measures):
            raise ParameterError("measures must be a tuple of Measure objects")
        object.__setattr__(self, "measures", tuple(self.measures))
        object.__setattr__(self, "measure_files", tuple(self.measure_files))
        if isinstance(self.n_quarters, bool) or not isinstance(self.n_quarters, int) or not 1 <= self.n_quarters <= 20:
            raise ParameterError(f"n_quarters must be an integer from 1 to 20, not {self.n_quarters!r}")
        if isinstance(self.n_months, bool) or not isinstance(self.n_months, int) or not 1 <= self.n_months <= 36:
            raise ParameterError(f"n_months must be an integer from 1 to 36, not {self.n_months!r}")
        if self.period not in TABLE_PERIODS:
            raise ParameterError(f"period must be one of {TABLE_PERIODS} (--period), not {self.period!r}")
        if self.end_month is not None:
            periods.validate_months([self.end_month], name="end_month")

    @property
    def n_periods(self) -> int:
        """How many periods (quarters or months) the table shows."""
        return self.n_quarters if self.period == "quarter" else self.n_months

    @property
    def months_per_period(self) -> int:
        """Months in one period of the table (3 or 1)."""
        return PERIOD_MONTHS[self.period]

    @property
    def periods_per_year(self) -> int:
        """Periods in a year (4 quarters or 12 months): the year-on-year offset."""
        return 12 // PERIOD_MONTHS[self.period]
        if self.comparators is not None and isinstance(self.comparators, str):
            raise ParameterError("comparators must be a tuple of area names, not one string")


@dataclass(frozen=True)
class TableValues:
    """The numbers of a partnership table before they are formatted.

    Attributes
    ----------
    measures
        The measures shown, in row order (partner measures too: in public mode through the same
        disclosure control as police.uk counts).
    focus, focus_name, names
        The focus area's code and name, and every area's name by code.
    population, has_population
        Residents by area code; whether the focus area has any (else rates are not available).
    period
        ``"quarter"`` or ``"month"`` (:attr:`TableParams.period`).
    period_keys, period_labels
        The periods shown (financial quarter keys or month indices of :mod:`geo_csp.periods`; their
        column labels); ``quarter_keys`` and ``quarter_labels`` are the same.
    counts
        Raw counts (measure x period) in the focus area.
    available
        Whether each count's sources hold data in that quarter.
    recorded
        Whether each measure's sources record what it counts at all.
    values
        As published (rates per 1,000 where the measure says; NaN where not available or suppressed).
    comparator, comparators_with_data
        The comparator average in the latest quarter per measure, and the areas it averages.
    year_ago_label, year_ago, year_ago_available
        The same period a year before the latest, its published value per measure, and whether the
        store holds all its months for the measure's sources (else "not available").
    rank, rank_of
        The focus area's place in the latest quarter among itself and ``comparators_with_data``
        (1 = lowest value; ties share the lower place; 0 where no comparator has data), and how many
        areas were ranked.
    audit
        Suppression log in public mode.
    sources_held
        The sources the incidents hold (a measure none of whose sources is among them is "not
        available" because its data were never loaded).
    """

    measures: tuple[Measure, ...]
    focus: str
    focus_name: str
    names: dict[str, str]
    population: pd.Series
    has_population: bool
    period: TablePeriod
    period_keys: np.ndarray
    period_labels: list[str]
    counts: np.ndarray
    available: np.ndarray
    recorded: np.ndarray
    values: np.ndarray
    comparator: np.ndarray
    comparators_with_data: list[list[str]]
    year_ago_label: str
    year_ago: np.ndarray
    year_ago_available: np.ndarray
    rank: np.ndarray
    rank_of: np.ndarray
    audit: pd.DataFrame | None
    sources_held: frozenset[str] = frozenset()

    @property
    def quarter_keys(self) -> np.ndarray:
        """The periods shown (:attr:`period_keys`; quarters unless the table is monthly)."""
        return self.period_keys

    @property
    def quarter_labels(self) -> list[str]:
        """Their labels (:attr:`period_labels`)."""
        return self.period_labels


def _area_lookup(areas: gpd.GeoDataFrame, names: Sequence[str]) -> list[str]:
    codes = areas[AREA_CODE].astype(str).to_numpy()
    labels = areas[AREA_NAME].astype(str).to_numpy()
    out = []
    for name in names:
        hit = np.flatnonzero((codes == name) | (np.char.lower(labels.astype(str)) == str(name).lower()))
        if not hit.size:
            raise ParameterError(f"area {name!r} is not among the areas ({', '.join(labels)}); check --area")
        out.append(str(codes[hit[0]]))
    return out


def _check_inputs(incidents: pd.DataFrame, areas: gpd.GeoDataFrame) -> None:
    missing = [c for c in INCIDENT_COLUMNS if c not in incidents.columns]
    if missing:
        raise SchemaError(f"incidents lack column(s) {missing}; read them with store.read_incidents()")
    missing = [c for c in (AREA_CODE, AREA_NAME, schema.POPULATION) if c not in areas.columns]
    if missing:
        raise SchemaError(f"areas lack column(s) {missing}; they need {AREA_CODE}, {AREA_NAME}, population")


def _checked_measures(measures: Sequence[Measure]) -> tuple[Measure, ...]:
    """The measures, checked: at least one, keys unique. Partner measures are shown in a public table too,
    through the same disclosure control as police.uk counts (:func:`_published`)."""
    shown = tuple(measures)
    if not shown:
        raise ParameterError("measures is empty; pass at least one Measure")
    keys = [m.key for m in shown]
    if len(set(keys)) != len(keys):
        raise ParameterError(f"measure keys repeat: {keys}")
    return shown


def _recorded_sources(incidents: pd.DataFrame, measures: Sequence[Measure]) -> np.ndarray:
    """Whether each measure's sources record what it counts.

    police.uk files (:data:`FULL_CATEGORY_SOURCES`) publish every category, so no row is a true zero.
    A partner source records only its own categories: a crime type it holds in no row at all (e.g.
    burglary in a council's ASB extract) is "not available", not 0.
    """
    src = incidents[schema.SOURCE].astype(str).to_numpy()
    types = incidents[schema.CRIME_TYPE].astype(str).to_numpy()
    out = np.ones(len(measures), dtype=bool)
    for i, m in enumerate(measures):
        if not m.recorded(incidents):  # its sources record no qualifier it reads: not available
            out[i] = False
            continue
        if m.crime_types is None or all(s in FULL_CATEGORY_SOURCES for s in m.sources):
            continue
        partner = np.isin(src, [s for s in m.sources if s not in FULL_CATEGORY_SOURCES])
        full = np.isin(src, [s for s in m.sources if s in FULL_CATEGORY_SOURCES])
        out[i] = bool(full.any() or np.isin(types[partner], list(m.crime_types)).any())
    return out


def _periods(incidents: pd.DataFrame, params: TableParams, sources: set[str]) -> np.ndarray:
    """Keys of the periods shown: the last complete ones (quarters of three months; months) of police.uk
    street data when the measures count it and the store holds it, else of the measures' ``sources``, else
    of any source."""
    source = incidents[schema.SOURCE]
    street = incidents[source == schema.SOURCE_STREET] if schema.SOURCE_STREET in sources else incidents.iloc[:0]
    counted = incidents[source.isin(list(sources))]
    base = street if len(street) else counted if len(counted) else incidents
    months = np.unique(base[schema.MONTH].astype(str).to_numpy())
    if not months.size:
        raise SchemaError("the store holds no incidents; ingest police.uk files first")
    keys, counts = np.unique(periods.period_keys(months, period=params.period), return_counts=True)
    complete: np.ndarray = keys[counts == params.months_per_period]
    end = params.end_quarter if params.period == "quarter" else params.end_month
    if end is not None:
        labels = (
            np.asarray(period_labels(complete, period="quarter"))
            if params.period == "quarter"
            else periods.index_to_months(complete)
        )
        hit = np.flatnonzero(labels == end)
        if not hit.size:
            word = "complete quarter" if params.period == "quarter" else "month"
            raise ParameterError(
                f"end {params.period} {end!r} is not a {word} of the data; choose one of {list(labels)}"
            )
        complete = complete[: hit[0] + 1]
    if not complete.size:
        raise SchemaError("the data hold no complete financial quarter (three months of police.uk data)")
    return complete[-params.n_periods :]


def _atoms(member: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The pieces the measures split the incidents into, where one measure holds part of another (a total
    of several sources or crime types beside one of its parts: "all ASB" and "ASB (police)"; "all crimes"
    and "burglary").

    ``member`` is incidents x measures (whether each measure counts each incident). Returns the atoms'
    membership patterns (atoms x measures: the measures that count the atom's incidents) and each
    incident's atom (-1 for none). Only atoms of measures that share incidents with another measure are
    kept: a measure sharing none is its own single piece, and protecting it alone is enough.
    """
    n, n_m = member.shape
    if not n or n_m < 2:
        return np.zeros((0, n_m), dtype=bool), np.full(n, -1)
    codes, atom_of = np.unique(member, axis=0, return_inverse=True)
    atom_of = atom_of.reshape(-1)
    shared = codes.sum(axis=1) >= 2
    linked = codes[shared].any(axis=0)  # measures holding a piece another measure holds too
    keep = codes.any(axis=1) & (codes & linked).any(axis=1)
    renumber = np.full(len(codes), -1)
    renumber[keep] = np.arange(int(keep.sum()))
    return codes[keep], renumber[atom_of]


def _published(
    counts: np.ndarray,
    keys: list[str],
    ext_keys: np.ndarray,
    params: TableParams,
    atoms: np.ndarray,
    atom_counts: np.ndarray,
) -> tuple[np.ndarray, pd.DataFrame | None]:
    """Counts as published: disclosure-controlled in public mode (NaN where suppressed).

    Every measure goes through the same rule (:func:`geo_csp.disclosure.protect_cells`), police.uk and
    partner data alike, with the sums that tie the published counts together:

    * a measure that holds others (a total of several sources or crime types) is the sum of its pieces
      (``atoms``: atoms x measures, ``atom_counts``: atoms x periods), and a piece no published count
      separates (the council's reports inside "all ASB" beside "ASB (police)") is a hidden cell, so a
      small partner count cannot be had as one published count minus another;
    * a monthly table is protected together with the financial quarters its months make up (each one
      the sum of its three months, as the quarterly table publishes it), so a suppressed month cannot
      be worked out from its quarter minus the other two months: the months counted are whole quarters
      (:func:`table_values` extends them), and a month hidden to protect another is hidden in every
      monthly table, whatever its window.
    """
    if not params.public:
        return counts.copy(), None
    labels = period_labels(ext_keys, period=params.period)
    n_m, n_e = counts.shape
    m_cell = np.arange(n_m * n_e).reshape(n_m, n_e)
    # an atom that is the whole of a measure is that measure's cell; the others are hidden cells
    whole = atoms & (atoms.sum(axis=0) == 1)[None, :]  # atom a is all of measure m
    own = np.where(whole.any(axis=1), whole.argmax(axis=1), -1)
    unseen = np.flatnonzero(own < 0)
    a_cell = np.zeros((len(atoms), n_e), dtype=int)
    a_cell[own >= 0] = m_cell[own[own >= 0]]
    a_cell[unseen] = m_cell.size + np.arange(unseen.size * n_e).reshape(unseen.size, n_e)
    values = [counts.ravel(), atom_counts[unseen].ravel()]
    groups = [
        (int(m_cell[i, j]), a_cell[atoms[:, i], j].tolist())
        for i in np.flatnonzero(atoms.any(axis=0))
        if not (atoms[:, i].sum() == 1 and own[atoms[:, i]][0] == i)  # a measure of one piece is that piece
        for j in range(n_e)
    ]
    n_hidden = unseen.size * n_e
    cell_labels = [(keys[i], labels[j]) for i in range(n_m) for j in range(n_e)] + [("", "")] * n_hidden
    q_of = np.zeros(0, dtype=int)
    q_keys = np.zeros(0, dtype=int)
    if params.period == "month":
        q_of = periods.period_keys(periods.index_to_months(ext_keys), period="quarter")
        q_keys = np.unique(q_of)
        q_labels = period_labels(q_keys, period="quarter")
        q_cell = m_cell.size + n_hidden + np.arange(n_m * len(q_keys)).reshape(n_m, len(q_keys))
        values.append(np.stack([counts[:, q_of == q].sum(axis=1) for q in q_keys], axis=1).ravel())
        groups += [(int(q_cell[i, k]), m_cell[i, q_of == q].tolist()) for i in range(n_m) for k, q in enumerate(q_keys)]
        cell_labels += [(keys[i], q_labels[k]) for i in range(n_m) for k in range(len(q_keys))]
    flat = np.concatenate(values)
    hidden = np.zeros(flat.size, dtype=bool)
    hidden[m_cell.size : m_cell.size + n_hidden] = True
    out, sup, entries = protect_cells(flat, groups, params=params.disclosure, hidden=hidden)
    published = out[: m_cell.size].reshape(n_m, n_e)
    if params.period == "month":  # a quarter the quarterly table publishes, hidden here: hide its months
        rule = params.disclosure
        quarter = flat[m_cell.size + n_hidden :]
        wide = sup[m_cell.size + n_hidden :] & (round_counts(quarter, round_to=rule.round_to) >= rule.threshold)
        for c in np.flatnonzero(wide & (quarter >= rule.threshold)):
            i, k = divmod(int(c), len(q_keys))
            published[i, q_of == q_keys[k]] = np.nan
    audit = pd.DataFrame(
        [(*cell_labels[c], step, reason_text(reason), g) for c, step, reason, g in entries],
        columns=list(AUDIT_COLUMNS),
    )
    return published, audit


def _comparator(
    measures: Sequence[Measure], sums: np.ndarray, have: list[list[str]], pop: pd.Series, params: TableParams
) -> np.ndarray:
    """The comparator areas' average in the latest quarter: a rate over their combined population, or a mean count."""
    disclosure = params.disclosure
    comp = np.full(len(measures), np.nan)
    for i, m in enumerate(measures):
        if not have[i]:
            continue
        total = float(sums[i])
        if params.public:
            if total < disclosure.threshold:
                continue
            total = float(round_counts(np.array([total]), round_to=disclosure.round_to)[0])
        if m.per_1000:
            comp_pop = pop[have[i]].sum()
            comp[i] = total * 1000.0 / comp_pop if comp_pop > 0 else np.nan
        else:
            comp[i] = total / len(have[i])
            if params.public:
                comp[i] = float(round_counts(np.array([comp[i]]), round_to=disclosure.round_to)[0])
    return comp


def places_from_lowest(values: np.ndarray) -> np.ndarray:
    """Each value's place from the lowest (1) among all ``values``; ties share the lower place."""
    values = np.asarray(values, dtype=float)
    return np.searchsorted(np.sort(values), values, side="left") + 1


def area_values(
    counts: np.ndarray, residents: np.ndarray, *, per_1000: bool, round_to: int | None = None
) -> np.ndarray:
    """The values areas are ranked on: counts (rounded to ``round_to`` in public mode) as rates per 1,000
    residents where every area's residents are known (for count measures too, so that areas of different
    sizes are ranked fairly), else the counts themselves (NaN for a rate measure)."""
    counts = np.asarray(counts, dtype=float)
    if round_to is not None:
        counts = round_counts(counts, round_to=round_to).astype(float)
    residents = np.asarray(residents, dtype=float)
    if (residents > 0).all():
        rates: np.ndarray = counts * 1000.0 / residents
        return rates
    return counts if not per_1000 else np.full(len(counts), np.nan)


def table_values(
    incidents: pd.DataFrame,
    areas: gpd.GeoDataFrame,
    *,
    params: TableParams,
    measures: Sequence[Measure] | None = None,
) -> TableValues:
    """Count every measure (``params.measures`` unless ``measures`` is given) per period (quarter or month)
    in the focus area and its comparators (see the module docstring)."""
    _check_inputs(incidents, areas)
    shown = _checked_measures(tuple(params.measures if measures is None else measures))
    focus = _area_lookup(areas, [params.area])[0]
    if params.comparators is None:
        comparators = [c for c in areas[AREA_CODE].astype(str) if c != focus]
    else:
        comparators = [c for c in _area_lookup(areas, params.comparators) if c != focus]
    pop = pd.Series(areas[schema.POPULATION].to_numpy(dtype=float), index=areas[AREA_CODE].astype(str))
    has_pop = bool(pop.get(focus, np.nan) > 0)  # without residents the rates are "not available"

    q_keys = _periods(incidents, params, {s for m in shown for s in m.sources})
    q_labels = period_labels(q_keys, period=params.period)
    latest = q_keys[-1]
    month_q = periods.period_keys(incidents[schema.MONTH].astype(str).to_numpy(), period=params.period)
    area_of = boundaries.assign_to_polygons(
        incidents[schema.EASTING].to_numpy(),
        incidents[schema.NORTHING].to_numpy(),
        areas[[AREA_CODE, "geometry"]].assign(**{AREA_CODE: areas[AREA_CODE].astype(str)}),
        code_col=AREA_CODE,
    )
    year_ago_key = int(latest) - params.periods_per_year  # keys count quarters (or months)
    ext_keys = np.union1d(q_keys, [year_ago_key])  # the periods counted: shown, and a year before the latest
    if params.period == "month":  # whole financial quarters, protected with their months in public mode
        quarters = np.unique((ext_keys - 3) // 3)
        ext_keys = (quarters[:, None] * 3 + 3 + np.arange(3)).ravel()
    in_quarters = np.isin(month_q, ext_keys)
    n_m = len(shown)
    counts = np.zeros((n_m, len(ext_keys)))
    available = np.zeros((n_m, len(ext_keys)), dtype=bool)
    year_ago_complete = np.zeros(n_m, dtype=bool)
    rank = np.zeros(n_m, dtype=int)
    rank_of = np.zeros(n_m, dtype=int)
    months = incidents[schema.MONTH].astype(str).to_numpy()
    comp_sum = np.zeros(n_m)
    comp_with_data: list[list[str]] = []
    recorded = _recorded_sources(incidents, shown)
    in_focus = in_quarters & (area_of == focus)
    member = np.zeros((int(in_focus.sum()), n_m), dtype=bool)  # which measures count each incident counted
    for i, m in enumerate(shown):
        in_sources = incidents[schema.SOURCE].isin(m.sources).to_numpy()
        available[i] = np.isin(ext_keys, month_q[in_sources]) & recorded[i]
        year_ago_complete[i] = (
            np.unique(months[in_sources & (month_q == year_ago_key)]).size == params.months_per_period
        )
        counted = m.mask(incidents)
        sel = counted & in_focus
        member[:, i] = counted[in_focus]
        counts[i] = np.bincount(np.searchsorted(ext_keys, month_q[sel]), minlength=len(ext_keys))
        # comparators with any row of the measure's sources in the latest quarter
        latest_src = in_sources & (month_q == latest)
        have = [c for c in comparators if recorded[i] and (latest_src & (area_of == c)).any()]
        comp_with_data.append(have)
        comp_sum[i] = (counted & (month_q == latest) & np.isin(area_of, have)).sum()
        if have:
            ranked = [focus, *have]
            hit = counted & (month_q == latest)
            area_counts = pd.Series(area_of[hit]).value_counts().reindex(ranked, fill_value=0).to_numpy()
            per_area = area_values(
                area_counts,
                pop[ranked].to_numpy(dtype=float),
                per_1000=m.per_1000,
                round_to=params.disclosure.round_to if params.public else None,
            )
            if not np.isnan(per_area).any():
                rank[i], rank_of[i] = int(places_from_lowest(per_area)[0]), len(ranked)

    keys = [m.key for m in shown]
    ext_labels = period_labels(ext_keys, period=params.period)
    atoms, atom_of = _atoms(member)
    col = np.searchsorted(ext_keys, month_q[in_focus])
    atom_counts = np.zeros((len(atoms), len(ext_keys)))
    np.add.at(atom_counts, (atom_of[atom_of >= 0], col[atom_of >= 0]), 1.0)
    pub_counts, audit = _published(counts, keys, ext_keys, params, atoms, atom_counts)
    pub_counts[~available] = np.nan
    per = np.array([m.per_1000 for m in shown])
    ext_values = np.where(per[:, None], pub_counts * 1000.0 / pop[focus] if has_pop else np.nan, pub_counts)
    shown_cols = np.searchsorted(ext_keys, q_keys)
    year_col = int(np.searchsorted(ext_keys, year_ago_key))
    names = dict(zip(areas[AREA_CODE].astype(str), areas[AREA_NAME].astype(str)))
    return TableValues(
        measures=shown,
        focus=focus,
        focus_name=names[focus],
        names=names,
        population=pop,
        has_population=has_pop,
        period=params.period,
        period_keys=q_keys,
        period_labels=q_labels,
        counts=counts[:, shown_cols],
        available=available[:, shown_cols],
        recorded=recorded,
        values=ext_values[:, shown_cols],
        comparator=_comparator(shown, comp_sum, comp_with_data, pop, params),
        comparators_with_data=comp_with_data,
        year_ago_label=ext_labels[year_col],
        year_ago=ext_values[:, year_col],
        year_ago_available=available[:, year_col] & year_ago_complete & (has_pop | ~per),
        rank=rank,
        rank_of=rank_of,
        audit=audit,
        sources_held=frozenset(incidents[schema.SOURCE].astype(str).unique()),
    )
