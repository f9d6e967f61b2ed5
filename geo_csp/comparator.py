"""The comparator pack: every district of a force area measured alike, and one district's place among them.

Given a force's police.uk records, the local-authority boundaries and their residents, the pack counts
the chosen crime types in every district by financial quarter and gives, for the latest quarter, each
district's count, rate per 1,000 residents, place from the lowest ("5th lowest of 10"), the region's
average and the change on the same quarter a year earlier (where that quarter is complete in the data).

Rules
-----
* Only **complete** financial quarters are counted: a quarter with all three of its months among the
  records' months (police.uk publishes every category each month, so a month with no record of the chosen
  types is a true zero, but a month with no record at all is missing).
* A record is counted in a district when its point (EPSG:27700) lies inside the district's polygon; a
  point on a shared edge goes to the first district in the file's order
  (:func:`geo_csp.boundaries.assign_to_polygons`).
* Every record is accounted for, in this order: of another crime type; in an incomplete quarter; in a
  complete quarter that is not counted (before the quarters shown, when ``n_quarters`` limits them, and not
  the year-earlier quarter); without coordinates; outside every district; inside one. The counts are in
  :attr:`ComparatorPack.accounting` and the metadata.
* Places are ranked on rates per 1,000 residents, from the lowest (ties share the lower place), with the
  partnership table's own helpers (:func:`geo_csp.table.values.area_values`,
  :func:`~geo_csp.table.values.places_from_lowest`): the place equals the rank the quarterly partnership
  table shows when the other districts are its comparators.
* The region average is over every district: the region's count over its residents, and the mean count.
* In public mode the districts x quarters counts, with the region total, pass through
  :func:`geo_csp.disclosure.protect_table` (the 10-5 rule with secondary suppression); rates are computed
  from the published counts, places from the rounded counts (as the partnership table does) and hidden
  where a district's count is suppressed. The pack then holds no unpublished count.
"""

from __future__ import annotations

import functools
import itertools
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import geopandas as gpd
import numpy as np
import pandas as pd

from geo_csp import periods, schema
from geo_csp._errors import DenominatorError, ParameterError, SchemaError
from geo_csp._escape import html_text, spreadsheet_safe, spreadsheet_text
from geo_csp._validate import require_working_crs
from geo_csp.boundaries import assign_to_polygons, load_borough, read_population
from geo_csp.disclosure import SUPPRESSED_MARK, DisclosureParams, protect_table, round_counts
from geo_csp.geography import AREA_CODE, AREA_NAME
from geo_csp.column_mapping import ColumnMapping
from geo_csp.table.display import NOT_AVAILABLE, rank_text
from geo_csp.table.values import area_values, places_from_lowest
from geo_csp.table.write import frame_html

__all__ = [
    "ACCOUNTING_KEYS",
    "CHANGE_PCT",
    "COUNT",
    "FOCUS",
    "PLACE",
    "RANK",
    "RATE",
    "REGION_RATE",
    "YEAR_AGO_COUNT",
    "YEAR_AGO_RATE",
    "ComparatorPack",
    "ComparatorParams",
    "comparator_pack",
    "comparator_from_store",
    "comparator_pack_from_files",
    "crime_type_display",
    "read_records",
    "write_comparator",
]

#: Columns of :attr:`ComparatorPack.districts` (besides ``area_name`` and ``population``).
COUNT = "count"
RATE = "rate_per_1000"
PLACE = "place"
RANK = "rank"
YEAR_AGO_COUNT = "year_ago_count"
YEAR_AGO_RATE = "year_ago_rate_per_1000"
CHANGE_PCT = "change_pct"
FOCUS = "focus"
REGION_RATE = "region_rate_per_1000"

#: Where every record went, in the order the rules are applied (see the module docstring).
ACCOUNTING_KEYS = (
    "other_crime_type",
    "incomplete_quarter",
    "earlier_quarter",
    "unlocated",
    "outside_districts",
    "inside_districts",
)
_ACCOUNTING_WORDS = {
    "other_crime_type": "of another crime type",
    "incomplete_quarter": "in an incomplete quarter",
    "earlier_quarter": "in a complete quarter before those counted",
    "unlocated": "without coordinates",
    "outside_districts": "outside every district",
    "inside_districts": "inside a district",
}

#: Columns of the records the pack reads.
RECORD_COLUMNS = (schema.MONTH, schema.CRIME_TYPE, schema.EASTING, schema.NORTHING, schema.LOCATED)


@dataclass(frozen=True)
class ComparatorParams:
    """Run parameters of a comparator pack (written into its metadata).

    Parameters
    ----------
    district
        Name or code of the focus district (a row of the boundaries; case ignored).
    crime_types
        police.uk categories counted together (e.g. ``("Burglary",)``).
    n_quarters
        Number of latest complete quarters shown; ``None`` for every complete quarter of the data.
    region
        Name of the region the districts make up ("Greater Manchester"), used in the words.
    code_col, name_col
        Columns of the boundary file holding each district's code and name.
    population_code_col, population_col
        Columns of the population CSV holding the code and the residents; ``population_col=None`` takes
        the column named ``population``, else the only column whose name contains "population".
    public
        Apply disclosure control.
    disclosure
        The disclosure rule used in public mode.
    """

    district: str
    crime_types: tuple[str, ...]
    n_quarters: int | None = None
    region: str = "the region"
    code_col: str = AREA_CODE
    name_col: str = AREA_NAME
    population_code_col: str = AREA_CODE
    population_col: str | None = None
    public: bool = False
    disclosure: DisclosureParams = field(default_factory=DisclosureParams)

    def __post_init__(self) -> None:
        if not isinstance(self.district, str) or not self.district.strip():
            raise ParameterError("district is empty; give the name or code of one district (--district)")
        if isinstance(self.crime_types, str):
            raise ParameterError("crime_types must be a tuple of crime types, not one string")
        if not self.crime_types or not all(isinstance(t, str) and t.strip() for t in self.crime_types):
            raise ParameterError(
                f"crime_types must name at least one police.uk crime type (--crime-type), not {self.crime_types!r}"
            )
        n = self.n_quarters
        if n is not None and (isinstance(n, bool) or not isinstance(n, int) or not 1 <= n <= 200):
            raise ParameterError(f"n_quarters must be an integer from 1 to 200 or None (every quarter), not {n!r}")
        for name in ("region", "code_col", "name_col", "population_code_col"):
            if not isinstance(getattr(self, name), str) or not getattr(self, name).strip():
                raise ParameterError(f"{name} must be a non-empty text, not {getattr(self, name)!r}")

    def to_dict(self) -> dict[str, Any]:
        """The parameters, the disclosure rule in words included, for output metadata."""
        out = asdict(self)
        out["crime_types"] = list(self.crime_types)
        out["disclosure"] = self.disclosure.to_dict()
        return out


@dataclass(frozen=True)
class ComparatorPack:
    """Every district's measures and the focus district's place (as published in public mode).

    Attributes
    ----------
    districts
        One row per district (index ``area_code``), in the boundary file's order: ``area_name``,
        ``population``, the latest quarter's ``count`` and ``rate_per_1000``, ``place`` from the lowest
        (NaN where hidden), ``rank`` in words, ``year_ago_count``, ``year_ago_rate_per_1000`` and
        ``change_pct`` (NaN where the year-earlier quarter is not complete in the data), ``focus``.
    quarterly
        Counts per district (index ``area_code``) and quarter shown (columns the quarter labels), with a
        last row for the region (index the region's name); NaN where suppressed.
    rates
        The same as rates per 1,000 residents.
    display
        The latest quarter as printed, lowest rate first, the region average last.
    by_crime_type
        With several crime types: the focus district's latest quarter per type (index ``crime_type``):
        ``count``, ``rate_per_1000``, ``place`` among the districts, ``rank`` and the region's
        ``region_rate_per_1000``; ``None`` with one.
    region
        The region's latest-quarter ``count``, ``mean_count`` and ``rate_per_1000``.
    summary
        The focus district's place in one sentence.
    accounting
        Records by :data:`ACCOUNTING_KEYS`, plus ``records`` (their sum).
    notes
        Where the numbers come from and the rules, for the page's footnotes.
    metadata
        Parameters, quarters, accounting and provenance (JSON-serialisable).
    audit
        Suppression log in public mode (a sensitive file; ``None`` otherwise).
    """

    districts: pd.DataFrame
    quarterly: pd.DataFrame
    rates: pd.DataFrame
    display: pd.DataFrame
    by_crime_type: pd.DataFrame | None
    region: dict[str, float]
    summary: str
    accounting: dict[str, int]
    notes: tuple[str, ...]
    metadata: dict[str, Any]
    audit: pd.DataFrame | None = None


def _district_frame(boundaries_frame: gpd.GeoDataFrame, params: ComparatorParams) -> gpd.GeoDataFrame:
    """The boundaries as ``area_code``, ``area_name``, geometry (EPSG:27700), checked."""
    require_working_crs(boundaries_frame, "`boundaries`")
    missing = [c for c in (params.code_col, params.name_col) if c not in boundaries_frame.columns]
    if missing:
        raise SchemaError(
            f"the boundaries have no column(s) {missing}; their columns are "
            f"{[c for c in boundaries_frame.columns if c != 'geometry']} (choose them with --code-col/--name-col)"
        )
    if not len(boundaries_frame):
        raise SchemaError("the boundaries hold no district; give a file of the region's districts")
    codes = boundaries_frame[params.code_col].astype(str).str.strip()
    dup = codes.duplicated()
    if dup.any():
        raise SchemaError(
            f"district code {codes[dup].iloc[0]!r} appears in more than one row of the boundaries; "
            "give one polygon (or multipolygon) per district"
        )
    return gpd.GeoDataFrame(
        {AREA_CODE: codes.to_numpy(), AREA_NAME: boundaries_frame[params.name_col].astype(str).str.strip().to_numpy()},
        geometry=boundaries_frame.geometry.to_numpy(),
        crs=boundaries_frame.crs,
    )


def _focus_code(districts: gpd.GeoDataFrame, district: str) -> str:
    want = district.strip().casefold()
    hit = (districts[AREA_NAME].str.casefold() == want) | (districts[AREA_CODE].str.casefold() == want)
    if not hit.any():
        raise ParameterError(
            f"district {district!r} is not among the districts of the boundaries "
            f"({', '.join(districts[AREA_NAME])}); check --district"
        )
    return str(districts.loc[hit.to_numpy(), AREA_CODE].iloc[0])


def _residents(districts: gpd.GeoDataFrame, population: pd.Series) -> np.ndarray:
    pop = pd.Series(
        pd.to_numeric(population, errors="coerce").to_numpy(dtype=float), index=population.index.astype(str)
    )
    pop = pop[~pop.index.duplicated()]
    residents: np.ndarray = pop.reindex(districts[AREA_CODE]).to_numpy(dtype=float)
    bad = ~(residents > 0)
    if bad.any():
        names = [f"{n} ({c})" for c, n in zip(districts[AREA_CODE][bad], districts[AREA_NAME][bad])]
        raise DenominatorError(
            f"no residents for district(s) {', '.join(names)}; the population must give every district's "
            "code a positive number (check --population and its code column)"
        )
    return residents


def _check_records(records: pd.DataFrame) -> None:
    missing = [c for c in RECORD_COLUMNS if c not in records.columns]
    if missing:
        raise SchemaError(
            f"records lack column(s) {missing}; read police.uk files with comparator.read_records() "
            "or a store with store.read_incidents()"
        )
    if not len(records):
        raise SchemaError("there are no records; give the force's police.uk street files")


def _check_crime_types(records: pd.DataFrame, crime_types: Sequence[str]) -> None:
    """Refuse a crime type no record has (a misspelling would count 0 everywhere and rank every district 1st)."""
    held = set(records[schema.CRIME_TYPE].dropna().astype(str).unique())
    missing = [t for t in crime_types if t not in held]
    if missing:
        raise ParameterError(
            f"crime type(s) {missing} are in no record; the records hold {sorted(held)} (check --crime-type)"
        )


def _quarters(months: np.ndarray, n_quarters: int | None) -> tuple[np.ndarray, np.ndarray]:
    """Keys of every complete quarter of the data, and of those shown (the last ``n_quarters``)."""
    held = np.unique(months)
    keys, n = np.unique(periods.period_keys(held, period="quarter"), return_counts=True)
    complete = keys[n == 3]
    if not complete.size:
        first, last = held[0], held[-1]
        raise SchemaError(
            f"the records hold no complete financial quarter (all three months of Apr-Jun, Jul-Sep, Oct-Dec or "
            f"Jan-Mar); their months run {first} to {last} ({held.size} months); give at least one whole quarter"
        )
    return complete, complete if n_quarters is None else complete[-n_quarters:]


@dataclass(frozen=True)
class _Published:
    """Counts as published (NaN where suppressed): districts x quarters, the region per quarter, the same by
    crime type (districts x types x quarters, region types x quarters), and the audit in public mode."""

    districts: np.ndarray
    region: np.ndarray
    by_type: np.ndarray
    region_by_type: np.ndarray
    audit: pd.DataFrame | None


def _published(counts: np.ndarray, codes: list[str], labels: list[str], params: ComparatorParams) -> _Published:
    """``counts`` (districts x crime types x quarters) as published.

    In public mode one table is protected: each district's row is the sum of its crime-type rows, the region's
    row the sum of the districts' and each region crime-type row the sum of the districts' rows of that type
    (with one crime type, only the districts and the region), so no suppressed cell can be worked out from
    the others.
    """
    combined = counts.sum(axis=1)
    if not params.public:
        raw = counts.astype(float)
        return _Published(combined.astype(float), combined.sum(axis=0).astype(float), raw, raw.sum(axis=0), None)
    types = params.crime_types if len(params.crime_types) > 1 else ()
    n, t = len(codes), len(types)
    if params.region in codes:
        raise ParameterError(f"region {params.region!r} is also a district's code; give the region another name")
    rows = [
        *codes,
        *(f"{c} | {k}" for c in codes for k in types),
        params.region,
        *(f"{params.region} | {k}" for k in types),
    ]
    table = np.vstack(
        [combined, counts.reshape(n * t, -1) if t else np.empty((0, combined.shape[1])), combined.sum(axis=0)[None]]
        + ([counts.sum(axis=0)] if t else [])
    )
    hierarchy = {params.region: codes}
    for i, code in enumerate(codes):
        if t:
            hierarchy[code] = rows[n + i * t : n + (i + 1) * t]
    for j, k in enumerate(types):
        hierarchy[f"{params.region} | {k}"] = [rows[n + i * t + j] for i in range(n)]
    prot = protect_table(
        pd.DataFrame(table.astype(int), index=rows, columns=labels),
        params=params.disclosure,
        row_total=None,
        column_total=None,
        hierarchy=hierarchy,
    )
    pub = prot.published.to_numpy(dtype=float, na_value=np.nan)
    districts, region = pub[:n], pub[n + n * t]
    by_type = pub[n : n + n * t].reshape(n, t, -1) if t else districts[:, None, :]
    region_by_type = pub[n + n * t + 1 :] if t else region[None, :]
    return _Published(districts, region, by_type, region_by_type, prot.audit)


def _year_on_year_pct(last: np.ndarray, year_ago: np.ndarray) -> np.ndarray:
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(year_ago > 0, (last - year_ago) / year_ago * 100.0, np.nan)


def comparator_pack(
    records: pd.DataFrame,
    *,
    boundaries: gpd.GeoDataFrame,
    population: pd.Series | None = None,
    params: ComparatorParams,
    provenance: dict[str, Any] | None = None,
) -> ComparatorPack:
    """Build the comparator pack (see the module docstring for the rules).

    Parameters
    ----------
    records
        Records in the store schema (``month``, ``crime_type``, ``easting``, ``northing``, ``located``;
        e.g. :func:`read_records` or :func:`geo_csp.store.read_incidents`); not modified.
    boundaries
        District polygons in EPSG:27700 with ``params.code_col`` and ``params.name_col``.
    population
        Residents by district code; ``None`` takes the boundaries' ``population`` column.
    params
        District, crime types, quarters, region, columns and public mode.
    provenance
        Where the records, boundaries and population came from (into the notes and metadata).

    Returns
    -------
    ComparatorPack
    """
    _check_records(records)
    districts = _district_frame(boundaries, params)
    if population is None:
        if schema.POPULATION not in boundaries.columns:
            raise DenominatorError(
                "no population given and the boundaries have no 'population' column; give --population"
            )
        population = pd.Series(boundaries[schema.POPULATION].to_numpy(), index=districts[AREA_CODE])
    residents = _residents(districts, population)
    focus = _focus_code(districts, params.district)
    codes = districts[AREA_CODE].tolist()
    names = districts[AREA_NAME].tolist()

    months = records[schema.MONTH].astype(str).to_numpy()
    periods.validate_months(months, name="records' month")
    complete, shown = _quarters(months, params.n_quarters)
    latest = int(shown[-1])
    year_ago_key = latest - 4  # quarter keys count quarters
    year_ago_held = bool(np.isin(year_ago_key, complete))
    counted_keys = np.union1d(shown, [year_ago_key]) if year_ago_held else shown

    month_q = periods.period_keys(months, period="quarter")
    _check_crime_types(records, params.crime_types)
    of_type = records[schema.CRIME_TYPE].isin(list(params.crime_types)).to_numpy()
    in_complete = np.isin(month_q, complete)
    in_counted = np.isin(month_q, counted_keys)
    east = records[schema.EASTING].to_numpy(dtype=float)
    north = records[schema.NORTHING].to_numpy(dtype=float)
    located = records[schema.LOCATED].fillna(False).to_numpy(dtype=bool) & np.isfinite(east) & np.isfinite(north)
    candidate = of_type & in_counted & located
    area_of = np.full(len(records), None, dtype=object)
    area_of[candidate] = assign_to_polygons(east[candidate], north[candidate], districts, code_col=AREA_CODE)
    inside = candidate & pd.notna(area_of)
    accounting = {
        "other_crime_type": int((~of_type).sum()),
        "incomplete_quarter": int((of_type & ~in_complete).sum()),
        "earlier_quarter": int((of_type & in_complete & ~in_counted).sum()),
        "unlocated": int((of_type & in_counted & ~located).sum()),
        "outside_districts": int((candidate & ~inside).sum()),
        "inside_districts": int(inside.sum()),
    }
    accounting["records"] = int(sum(accounting.values()))

    district_idx = pd.Index(codes).get_indexer(area_of[inside])
    type_idx = pd.Index(params.crime_types).get_indexer(records[schema.CRIME_TYPE].to_numpy()[inside])
    quarter_idx = np.searchsorted(counted_keys, month_q[inside])
    counts = np.zeros((len(codes), len(params.crime_types), len(counted_keys)), dtype=np.int64)
    np.add.at(counts, (district_idx, type_idx, quarter_idx), 1)
    counted_labels = list(periods.period_labels(counted_keys, period="quarter"))
    pub = _published(counts, codes, counted_labels, params)
    published, region_total, audit = pub.districts, pub.region, pub.audit
    latest_col = int(np.searchsorted(counted_keys, latest))
    last = published[:, latest_col]
    rate = last * 1000.0 / residents
    place = _places(counts.sum(axis=1)[:, latest_col], last, residents, params)
    n = len(codes)
    if year_ago_held:
        year_col = int(np.searchsorted(counted_keys, year_ago_key))
        year_ago = published[:, year_col]
    else:
        year_ago = np.full(n, np.nan)
    year_ago_rate = year_ago * 1000.0 / residents
    frame = pd.DataFrame(
        {
            AREA_NAME: names,
            schema.POPULATION: residents,
            COUNT: last,
            RATE: rate,
            PLACE: place,
            RANK: [rank_text(int(p), n) if np.isfinite(p) else SUPPRESSED_MARK for p in place],
            YEAR_AGO_COUNT: year_ago,
            YEAR_AGO_RATE: year_ago_rate,
            CHANGE_PCT: _year_on_year_pct(last, year_ago),
            FOCUS: [c == focus for c in codes],
        },
        index=pd.Index(codes, name=AREA_CODE),
    )
    total_residents = float(residents.sum())
    region_last = float(region_total[latest_col])
    mean_count = region_last / n
    if params.public and np.isfinite(mean_count):
        mean_count = float(round_counts(np.array([mean_count]), round_to=params.disclosure.round_to)[0])
    region = {COUNT: region_last, "mean_count": mean_count, RATE: region_last * 1000.0 / total_residents}

    shown_cols = np.searchsorted(counted_keys, shown)
    shown_labels = [counted_labels[i] for i in shown_cols]
    quarterly = pd.DataFrame(
        np.vstack([published[:, shown_cols], region_total[shown_cols]]),
        index=pd.Index([*codes, params.region], name=AREA_CODE),
        columns=shown_labels,
    )
    rates = quarterly.div(np.append(residents, total_residents), axis=0) * 1000.0
    latest_label = counted_labels[latest_col]
    year_ago_label = str(periods.period_labels(np.array([year_ago_key]), period="quarter")[0])
    what = " and ".join(params.crime_types)
    focus_row = frame.loc[focus]
    summary = _summary(focus_row, what, latest_label, params.region, region)
    by_type = _by_crime_type(counts[:, :, latest_col], pub, latest_col, residents, codes.index(focus), params)
    notes = _notes(params, latest_label, year_ago_label, year_ago_held, accounting, provenance or {})
    metadata = {
        "params": params.to_dict(),
        "district": str(focus_row[AREA_NAME]),
        "district_code": focus,
        "districts": names,
        "quarter": latest_label,
        "quarters": shown_labels,
        "year_ago_quarter": year_ago_label if year_ago_held else None,
        "complete_quarters": list(periods.period_labels(complete, period="quarter")),
        "place": None if np.isnan(focus_row[PLACE]) else int(focus_row[PLACE]),
        "rank": str(focus_row[RANK]),
        "of": n,
        "rate_per_1000": None if np.isnan(focus_row[RATE]) else float(focus_row[RATE]),
        "region_rate_per_1000": None if np.isnan(region[RATE]) else float(region[RATE]),
        "accounting": accounting,
        "by_crime_type": None if by_type is None else json.loads(by_type.to_json(orient="index")),
        "summary": summary,
        "provenance": provenance or {},
    }
    return ComparatorPack(
        districts=frame,
        quarterly=quarterly,
        rates=rates,
        display=_display(frame, region, params, latest_label, year_ago_label if year_ago_held else None),
        by_crime_type=by_type,
        region=region,
        summary=summary,
        accounting=accounting,
        notes=notes,
        metadata=metadata,
        audit=audit,
    )


def _places(raw: np.ndarray, published: np.ndarray, residents: np.ndarray, params: ComparatorParams) -> np.ndarray:
    """Places from the lowest rate (on the rounded counts in public mode, as the partnership table ranks),
    NaN where the published count is suppressed (a suppressed count keeps its place hidden)."""
    round_to = params.disclosure.round_to if params.public else None
    place = places_from_lowest(area_values(raw, residents, per_1000=True, round_to=round_to)).astype(float)
    place[np.isnan(published)] = np.nan
    return place


def _by_crime_type(
    latest: np.ndarray, pub: _Published, col: int, residents: np.ndarray, focus: int, params: ComparatorParams
) -> pd.DataFrame | None:
    """The focus district's latest quarter per crime type (``None`` for one type): count, rate, place, rank
    and the region's rate."""
    if len(params.crime_types) < 2:
        return None
    n = len(residents)
    rows = []
    for j, kind in enumerate(params.crime_types):
        shown = pub.by_type[:, j, col]
        place = _places(latest[:, j], shown, residents, params)[focus]
        region = pub.region_by_type[j, col]
        rows.append(
            {
                COUNT: shown[focus],
                RATE: shown[focus] * 1000.0 / residents[focus],
                PLACE: place,
                RANK: rank_text(int(place), n) if np.isfinite(place) else SUPPRESSED_MARK,
                REGION_RATE: region * 1000.0 / residents.sum(),
            }
        )
    return pd.DataFrame(rows, index=pd.Index(list(params.crime_types), name=schema.CRIME_TYPE))


def _summary(row: pd.Series, what: str, quarter: str, region_name: str, region: dict[str, float]) -> str:
    """The focus district's place in one sentence: "Bury: Burglary in Q3 Oct-Dec 2018, 2.48 per 1,000 ..."."""
    if not np.isfinite(row[RATE]):
        return f"{row[AREA_NAME]}: {what} in {quarter} is suppressed ({SUPPRESSED_MARK}); its place is hidden."
    average = f"{region[RATE]:.2f}" if np.isfinite(region[RATE]) else SUPPRESSED_MARK
    return (
        f"{row[AREA_NAME]}: {what} in {quarter}, {row[RATE]:.2f} per 1,000 residents ({row[COUNT]:,.0f}), "
        f"{row[RANK]} districts in {region_name} (average {average} per 1,000)."
    )


def _notes(
    params: ComparatorParams,
    latest: str,
    year_ago: str,
    year_ago_held: bool,
    accounting: dict[str, int],
    provenance: dict[str, Any],
) -> tuple[str, ...]:
    words = "; ".join(f"{accounting[k]:,} {_ACCOUNTING_WORDS[k]}" for k in ACCOUNTING_KEYS)
    notes = [
        f"Counts: police.uk records of {', '.join(params.crime_types)} whose point lies inside each district, "
        "by financial quarter; only complete quarters (all three months in the data) are counted.",
        f"Records: {accounting['records']:,}: {words}.",
        "Place: from the lowest rate per 1,000 residents among every district (ties share the lower place); "
        f"the region average is {params.region}'s count over its residents.",
        f"Year on year: {latest} against {year_ago}."
        if year_ago_held
        else f"Year on year: not available ({year_ago} is not a complete quarter of the data).",
    ]
    for key in ("records", "boundaries", "population"):
        if provenance.get(key):
            notes.append(f"{key.capitalize()}: {provenance[key]}.")
    if params.public:
        notes.append(params.disclosure.rule + " Rates are computed from the published counts.")
    return tuple(notes)


def _number(x: float, fmt: str) -> str:
    return SUPPRESSED_MARK if not np.isfinite(x) else format(x, fmt)


def _display(
    frame: pd.DataFrame, region: dict[str, float], params: ComparatorParams, latest: str, year_ago: str | None
) -> pd.DataFrame:
    """The latest quarter as printed: lowest rate first (hidden places last), the region average below;
    ``year_ago`` is the year-earlier quarter's label, ``None`` when it is not complete in the data."""
    order = frame.sort_values([PLACE, AREA_NAME], na_position="last")
    has_year = year_ago is not None
    rows = []
    for _, r in order.iterrows():
        change = r[CHANGE_PCT]
        yoy = (
            NOT_AVAILABLE
            if not has_year
            else SUPPRESSED_MARK
            if not (np.isfinite(r[COUNT]) and np.isfinite(r[YEAR_AGO_COUNT]))
            else f"{change:+.0f}% from {r[YEAR_AGO_RATE]:.2f}"
            if np.isfinite(change)
            else f"from {r[YEAR_AGO_RATE]:.2f}"
        )
        rows.append(
            [
                f"{r[AREA_NAME]}{' (focus)' if r[FOCUS] else ''}",
                f"{r[schema.POPULATION]:,.0f}",
                _number(r[COUNT], ",.0f"),
                _number(r[RATE], ".2f"),
                r[RANK],
                yoy,
            ]
        )
    rows.append(
        [
            f"{params.region} (average)",
            f"{frame[schema.POPULATION].sum():,.0f}",
            _number(region["mean_count"], ",.0f") + " (mean)",
            _number(region[RATE], ".2f"),
            "",
            "",
        ]
    )
    columns = [
        "District",
        "Residents",
        f"Count {latest}",
        "Per 1,000 residents",
        "Place",
        f"Year on year (from {year_ago})" if year_ago else "Year on year",
    ]
    return pd.DataFrame(rows, columns=columns).set_index("District")


# --- reading files ------------------------------------------------------------------------------------


def read_records(
    paths: Sequence[str | Path] | str | Path, *, mapping: ColumnMapping | str | Path | None = None
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Read police.uk street CSVs, archive folders or zips (and partner files through ``mapping``) into
    records, as an ingest would, without a store.

    A later file for the same (source, force, month) replaces an earlier one, as in the store;
    stop-and-search rows (searches, not crimes) are left out. Returns the records and a summary
    (``files``, ``rows_read``, ``quarantined``, ``stop_and_search``, ``replaced``, ``records``, ``notes``).
    """
    from geo_csp.ingest import input_units
    from geo_csp.ingest.batches import batches_of, in_order, prepare_batch

    units, mapping, notes = input_units(paths, mapping=mapping)
    prepare = functools.partial(prepare_batch, known=lambda _sha: None, mapping=mapping)
    frames: list[pd.DataFrame] = []
    rows_read = quarantined = 0
    for item in itertools.chain.from_iterable(in_order(prepare, batches_of(units))):
        if isinstance(item, Exception):
            raise item
        rows_read += item.staged.rows_read
        quarantined += item.staged.quarantined
        if item.accepted is not None and item.accepted.num_rows:
            cols = [schema.SOURCE, schema.FORCE, *RECORD_COLUMNS]
            frames.append(item.accepted.select(cols).to_pandas().assign(_file=len(frames)))
    if not frames:
        raise SchemaError(f"no record could be read from {', '.join(u.path for u in units)}; {' '.join(notes)}".strip())
    table = pd.concat(frames, ignore_index=True)
    searches = (table[schema.SOURCE] == schema.SOURCE_STOP_SEARCH).to_numpy()
    table = table[~searches]
    key = [schema.SOURCE, schema.FORCE, schema.MONTH]
    last_file = table.groupby(key, observed=True)["_file"].transform("max")
    kept = (table["_file"] == last_file).to_numpy()
    records = table[kept].drop(columns="_file").reset_index(drop=True)
    summary = {
        "files": len(units),
        "rows_read": rows_read,
        "quarantined": quarantined,
        "stop_and_search": int(searches.sum()),
        "replaced": int((~kept).sum()),
        "records": len(records),
        "notes": notes,
    }
    return records, summary


def _population_series(path: str | Path, params: ComparatorParams) -> tuple[pd.Series, str]:
    """Residents by code from a CSV, and the column they came from."""
    column = params.population_col
    if column is None:
        header = pd.read_csv(path, nrows=0).columns.tolist()
        if schema.POPULATION in header:
            column = schema.POPULATION
        else:
            found = [c for c in header if "population" in c.lower()]
            if len(found) != 1:
                raise SchemaError(
                    f"population file {path}: cannot tell which column holds the residents (columns {header}); "
                    "name it with --population-col"
                )
            column = found[0]
    series = read_population(path, code_col=params.population_code_col, population_col=column)
    return series, column


def comparator_pack_from_files(
    records: Sequence[str | Path] | str | Path,
    *,
    boundaries_path: str | Path,
    population_path: str | Path | None,
    params: ComparatorParams,
    mapping: ColumnMapping | str | Path | None = None,
) -> ComparatorPack:
    """The comparator pack from files: police.uk street CSVs, archive folders or zips (:func:`read_records`;
    partner files of police.uk points through ``mapping``), the district boundaries (GeoJSON or
    GeoPackage, any CRS) and a population CSV (``None``: the boundaries' ``population`` column)."""
    frame, read = read_records(records, mapping=mapping)
    districts = load_borough(boundaries_path)
    population, pop_col = (
        (None, "population") if population_path is None else _population_series(population_path, params)
    )
    names = [Path(str(p)).name for p in ([records] if isinstance(records, str | Path) else records)]
    provenance = {
        "records": f"{', '.join(names)} ({read['files']} file(s), {read['rows_read']:,} rows read, "
        f"{read['quarantined']:,} quarantined, {read['stop_and_search']:,} stop-and-search rows left out, "
        f"{read['replaced']:,} replaced by a later file for the same month)",
        "boundaries": f"{Path(boundaries_path).name} (columns {params.code_col}, {params.name_col})",
        "population": f"{Path(population_path).name if population_path else Path(boundaries_path).name}, column {pop_col}",
        "read": read,
    }
    return comparator_pack(frame, boundaries=districts, population=population, params=params, provenance=provenance)


def comparator_from_store(
    store_dir: str | Path,
    *,
    crime_types: Sequence[str],
    district: str | None = None,
    sources: Sequence[str] | None = None,
    n_quarters: int | None = None,
    region: str = "the region",
    public: bool = False,
    disclosure: DisclosureParams | None = None,
) -> ComparatorPack:
    """The comparator pack of a store's borough among its comparator areas (``geo-csp configure --areas``,
    and ``--comparators`` when only some of them are), from the store's records.

    Parameters
    ----------
    store_dir
        The store folder.
    crime_types
        Crime types counted together.
    district
        The focus district (a name or code of the areas); default the store's borough.
    sources
        Store sources counted (default police.uk street crime); e.g. ``("gmp_burglary_points",)``.
    n_quarters, region, public, disclosure
        As in :class:`ComparatorParams`.
    """
    from geo_csp import store
    from geo_csp.geography import store_areas

    areas, borough, pop_source = store_areas(store_dir)
    borough = district or borough
    listed = store.read_config(store_dir).comparators
    if listed is not None:
        keep = {borough.lower(), *(c.lower() for c in listed)}
        areas = areas[areas[AREA_NAME].str.lower().isin(keep) | areas[AREA_CODE].str.lower().isin(keep)]
    if len(areas) < 2:
        raise ParameterError(
            f"the store {store_dir} has no comparator areas for {borough}; give it the region's districts with "
            "`geo-csp configure --store DIR --areas FILE` (area_code, area_name, population)"
        )
    chosen = tuple(sources or (schema.SOURCE_STREET,))
    records = store.read_incidents(store_dir, sources=list(chosen), columns=[schema.SOURCE, *RECORD_COLUMNS])
    if not len(records):
        raise SchemaError(f"the store {store_dir} holds no records of source(s) {list(chosen)}; check the source")
    params = ComparatorParams(
        district=borough,
        crime_types=tuple(crime_types),
        n_quarters=n_quarters,
        region=region,
        public=public,
        disclosure=disclosure or DisclosureParams(),
    )
    provenance = {
        "records": f'incident store "{store.store_label(store_dir)}", source(s) {", ".join(chosen)}',
        "boundaries": "the store's comparator areas",
        "population": pop_source,
    }
    return comparator_pack(records, boundaries=areas, params=params, provenance=provenance)


# --- writing ------------------------------------------------------------------------------------------


def _title(pack: ComparatorPack) -> str:
    p = pack.metadata["params"]
    return f"{' and '.join(p['crime_types'])}: {pack.metadata['district']} among the districts of {p['region']}, {pack.metadata['quarter']}"


def _csv_frame(pack: ComparatorPack) -> pd.DataFrame:
    """The districts' latest-quarter figures with every shown quarter's count and rate (numbers)."""
    q = pack.quarterly.iloc[:-1]
    r = pack.rates.iloc[:-1]
    return pd.concat(
        [pack.districts, q.add_prefix("count "), r.add_prefix("per 1,000 ")],
        axis=1,
    )


def write_comparator(pack: ComparatorPack, out_dir: str | Path) -> dict[str, Path]:
    """Write ``comparator.html``, ``comparator.xlsx``, ``comparator.csv`` and ``comparator.json`` (metadata),
    ``comparator_by_crime_type.csv`` with several crime types, and in public mode ``disclosure_audit.csv``
    (sensitive: keep it apart from what is published)."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    written = {
        "comparator.html": _write_html(pack, out / "comparator.html"),
        "comparator.xlsx": _write_xlsx(pack, out / "comparator.xlsx"),
    }
    csv = out / "comparator.csv"
    spreadsheet_safe(_csv_frame(pack)).to_csv(csv, lineterminator="\n")
    written["comparator.csv"] = csv
    meta = out / "comparator.json"
    meta.write_text(json.dumps(pack.metadata, indent=2, default=_json_default) + "\n", encoding="utf-8")
    written["comparator.json"] = meta
    if pack.by_crime_type is not None:
        by_type = out / "comparator_by_crime_type.csv"
        spreadsheet_safe(pack.by_crime_type).to_csv(by_type, lineterminator="\n")
        written["comparator_by_crime_type.csv"] = by_type
    if pack.audit is not None:
        audit = out / "disclosure_audit.csv"
        spreadsheet_safe(pack.audit).to_csv(audit, index=False, lineterminator="\n")
        written["disclosure_audit.csv"] = audit
    return written


def _json_default(value: Any) -> Any:
    if isinstance(value, np.integer | np.floating | np.bool_):
        return value.item()
    raise TypeError(f"{type(value).__name__} is not JSON-serialisable")


def _printed_quarters(frame: pd.DataFrame, names: dict[str, str], fmt: str) -> pd.DataFrame:
    shown = frame.map(lambda x: _number(float(x), fmt))
    shown.index = [names.get(str(c), str(c)) for c in frame.index]
    shown.index.name = "District"
    return shown


def crime_type_display(pack: ComparatorPack) -> pd.DataFrame | None:
    """The focus district's crime types as printed (``None`` with one type): count, rate per 1,000, place
    among the districts and the region's rate, with a last row for the types together."""
    if pack.by_crime_type is None:
        return None
    focus = pack.districts[pack.districts[FOCUS]].iloc[0]
    together = pd.DataFrame(
        {COUNT: [focus[COUNT]], RATE: [focus[RATE]], RANK: [focus[RANK]], REGION_RATE: [pack.region[RATE]]},
        index=["All of these"],
    )
    both = pd.concat([pack.by_crime_type, together])
    quarter, region = pack.metadata["quarter"], pack.metadata["params"]["region"]
    shown = pd.DataFrame(
        {
            f"Count {quarter}": [_number(x, ",.0f") for x in both[COUNT]],
            "Per 1,000 residents": [_number(x, ".2f") for x in both[RATE]],
            "Place": both[RANK].to_numpy(),
            f"{region} per 1,000": [_number(x, ".2f") for x in both[REGION_RATE]],
        },
        index=pd.Index(both.index, name="Crime type"),
    )
    return shown


def _write_html(pack: ComparatorPack, path: Path) -> Path:
    names = pack.districts[AREA_NAME].to_dict()
    text_cols = ["Place", pack.display.columns[-1]]
    body = [
        f"<h1>{html_text(_title(pack))}</h1>",
        f'<p class="summary">{html_text(pack.summary)}</p>',
        frame_html(pack.display, text_columns=text_cols, classes="comparator"),
    ]
    by_type = crime_type_display(pack)
    if by_type is not None:
        body += [
            f"<h2>{html_text(pack.metadata['district'])} by crime type, {html_text(pack.metadata['quarter'])}</h2>",
            frame_html(by_type, text_columns=["Place"], classes="comparator"),
        ]
    body += [
        "<h2>Per 1,000 residents by quarter</h2>",
        frame_html(_printed_quarters(pack.rates, names, ".2f"), classes="comparator"),
        "<h2>Counts by quarter</h2>",
        frame_html(_printed_quarters(pack.quarterly, names, ",.0f"), classes="comparator"),
        '<ol class="footnotes">' + "".join(f"<li>{html_text(n)}</li>" for n in pack.notes) + "</ol>",
    ]
    page = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        f"<title>{html_text(_title(pack))}</title><style>"
        "body{font-family:sans-serif;margin:2em}table{border-collapse:collapse;margin-bottom:1.5em}"
        "th,td{border:1px solid #999;padding:4px 8px;text-align:right}th{background:#dde5f0}"
        "td:first-child,th:first-child,.text{text-align:left}.summary{font-size:115%}"
        ".footnotes{font-size:85%;color:#333}</style></head><body>" + "\n".join(body) + "</body></html>"
    )
    path.write_text(page, encoding="utf-8")
    return path


def _text_rows(sheet: Any, frame: pd.DataFrame, *, corner: str, first_row: int, width: int) -> None:
    """A printed table on ``sheet`` from ``first_row``: a bold header (``corner`` over the index), then text."""
    from openpyxl.styles import Font

    for j, h in enumerate([corner, *frame.columns], start=1):
        sheet.cell(row=first_row, column=j, value=spreadsheet_text(str(h))).font = Font(bold=True)
    for i, (label, row) in enumerate(frame.iterrows(), start=first_row + 1):
        for j, v in enumerate([label, *row.tolist()], start=1):
            sheet.cell(row=i, column=j, value=spreadsheet_text(v))
    sheet.column_dimensions["A"].width = width


def _number_rows(sheet: Any, frame: pd.DataFrame, names: dict[str, str], *, number_format: str) -> None:
    """Districts x quarters on ``sheet`` as numbers (the suppression mark where suppressed)."""
    from openpyxl.styles import Font

    for j, h in enumerate(["District", *frame.columns], start=1):
        sheet.cell(row=1, column=j, value=spreadsheet_text(str(h))).font = Font(bold=True)
    for i, (code, values) in enumerate(frame.iterrows(), start=2):
        sheet.cell(row=i, column=1, value=spreadsheet_text(names.get(str(code), str(code))))
        for j, v in enumerate(values.tolist(), start=2):
            cell = sheet.cell(row=i, column=j, value=float(v) if np.isfinite(v) else SUPPRESSED_MARK)
            cell.number_format = number_format
    sheet.column_dimensions["A"].width = 28


def _write_xlsx(pack: ComparatorPack, path: Path) -> Path:
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    ws = wb.active
    ws.title = "Latest quarter"
    ws["A1"] = spreadsheet_text(_title(pack))
    ws["A1"].font = Font(bold=True, size=13)
    ws["A2"] = spreadsheet_text(pack.summary)
    _text_rows(ws, pack.display, corner="District", first_row=4, width=28)
    names = pack.districts[AREA_NAME].to_dict()
    _number_rows(wb.create_sheet("Per 1,000 by quarter"), pack.rates, names, number_format="0.00")
    _number_rows(wb.create_sheet("Counts by quarter"), pack.quarterly, names, number_format="#,##0")
    by_type = crime_type_display(pack)
    if by_type is not None:
        _text_rows(wb.create_sheet("By crime type"), by_type, corner="Crime type", first_row=1, width=34)
    notes = wb.create_sheet("Notes")
    for i, n in enumerate(pack.notes, start=1):
        notes.cell(row=i, column=1, value=spreadsheet_text(f"{i}. {n}"))
    wb.save(path)
    return path
