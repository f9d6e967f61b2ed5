"""The tasking sheet: what changed in the last period, against the one before and the same period a year earlier.

For a hotspot run (:func:`geo_csp.hotspot_run.run_hotspots`) the sheet lists

- the hot units (significant Gi* hot spots) of the last period that were not hot in the comparison
  period (**entered**), those hot in both (**remained**) and those no longer hot (**left**), with the
  Jaccard index |both| / |either| of the two sets (1: the same places, 0: none in common);
- **escalating** units: more incidents in the last period than in the comparison period, beyond what
  chance allows (one-sided exact conditional test: given the two periods' total, the last period's
  share is tested against one half, p < 0.05);
- the **top repeat locations**: police.uk's snap-point labels ("On or near ...") with their counts
  over the last 3, 6 and 12 months (a snap point stands for several nearby addresses: it is a place
  to look at, not an address);
- the **coverage gaps** (:func:`geo_csp.coverage.gap_list`): the hotspot areas that CCTV, recent
  walkabouts and operations do not reach, blind spots first, with the share of next month's expected
  crime (or of the incidents) that sits in them; when no partner layer was given the sheet says that
  coverage was not assessed rather than showing every area as covered;
- statistical caution: a period of few incidents moves by chance (a count of ``n`` varies by about
  ``2 sqrt(n)`` from one period to the next with nothing changed), so lists from short windows or
  small counts are marked, and the sheet says so.

The year-earlier comparison is the period 12 months (52 weeks, 26 fortnights, 13 28-day periods)
before the last; it is left out, and the sheet says why, when the cube does not reach back so far.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
from scipy import stats

from geo_csp import areas as areas_mod
from geo_csp import coverage, display, periods, priorities, schema, settings
from geo_csp._errors import ParameterError
from geo_csp._escape import html_text

__all__ = [
    "SHEET_LABELS",
    "TaskingParams",
    "TaskingSheet",
    "change_lists",
    "hotspot_timeline",
    "printed_table",
    "recommended_stops",
    "repeat_locations",
    "tasking_sheet",
    "write_tasking",
]

#: Periods back to "the same period a year earlier", per period kind.
YEAR_BACK = {"month": 12, "quarter": 4, "year": 1, "week": 52, "fortnight": 26, "28day": 13}
_STATUS_ORDER = ("entered", "remained", "left")
_ROWS = 8  # rows per list on the printed page (all of them in the XLSX)


@dataclass(frozen=True)
class TaskingParams:
    """What the sheet compares and how cautious it is; written into the sheet.

    Parameters
    ----------
    alpha
        Significance of the escalation test.
    min_incidents
        Periods (borough-wide) with fewer incidents than this get a caution line.
    top_locations
        Repeat locations listed.
    location_months
        Windows (months, ending with the last month) of the repeat-location counts.
    """

    alpha: float = 0.05
    min_incidents: int = 100
    top_locations: int = 10
    location_months: tuple[int, ...] = (3, 6, 12)

    def __post_init__(self) -> None:
        if not 0 < self.alpha < 1:
            raise ParameterError(f"`alpha` must be in (0, 1); got {self.alpha!r}")
        if not self.location_months or any(m < 1 for m in self.location_months):
            raise ParameterError(f"`location_months` must be positive month counts; got {self.location_months!r}")


def change_lists(
    hot_cold: np.ndarray,
    counts: np.ndarray,
    unit_ids: pd.Index,
    *,
    last: int = -1,
    before: int = -2,
    alpha: float = 0.05,
) -> tuple[pd.DataFrame, float]:
    """Entered / remained / left hot units between two periods, escalation, and the Jaccard index.

    Parameters
    ----------
    hot_cold
        ``(n_units, n_periods)`` +1 hot / -1 cold / 0 (:attr:`geo_csp.hotspots.CubeAnalysis.hot_cold`).
    counts
        ``(n_units, n_periods)`` incidents.
    unit_ids
        The units, in row order.
    last, before
        The two periods compared (column positions).
    alpha
        Significance of the escalation test.

    Returns
    -------
    (pandas.DataFrame, float)
        Units hot in either period or escalating, indexed by ``unit_id``: ``status`` (entered, remained,
        left, or "" when hot in neither), ``n_last``, ``n_before``, ``change``, ``p_escalation``,
        ``escalating``; and the Jaccard index of the two hot sets (NaN when both are empty).
    """
    hc = np.asarray(hot_cold)
    n = np.asarray(counts, dtype="float64")
    hot_last, hot_before = hc[:, last] == 1, hc[:, before] == 1
    n_last, n_before = n[:, last], n[:, before]
    total = n_last + n_before
    # P(X >= n_last) for X ~ Binomial(n_last + n_before, 1/2): the last period's excess beyond chance
    p = np.where(total > 0, stats.binom.sf(n_last - 1, total, 0.5), 1.0)
    escalating = (n_last > n_before) & (p < alpha)
    status = np.select(
        [hot_last & ~hot_before, hot_last & hot_before, ~hot_last & hot_before], list(_STATUS_ORDER), default=""
    )
    keep = hot_last | hot_before | escalating
    union = int((hot_last | hot_before).sum())
    jaccard = float((hot_last & hot_before).sum() / union) if union else float("nan")
    out = pd.DataFrame(
        {
            "status": status,
            "n_last": n_last,
            "n_before": n_before,
            "change": n_last - n_before,
            "p_escalation": p,
            "escalating": escalating,
        },
        index=pd.Index(np.asarray(unit_ids, dtype=object), name=schema.UNIT_ID),
    )[keep]
    order = out["status"].map({s: i for i, s in enumerate(_STATUS_ORDER)}).fillna(len(_STATUS_ORDER))
    out = out.assign(_o=order).sort_values(["_o", "change"], ascending=[True, False], kind="mergesort")
    return out.drop(columns="_o"), jaccard


def repeat_locations(
    incidents: pd.DataFrame, *, last_month: str, months: tuple[int, ...] = (3, 6, 12), top: int = 10
) -> pd.DataFrame:
    """The snap-point labels with most incidents over the last ``months`` windows ending ``last_month``.

    Returns a frame ``location`` and one ``n_<k>m`` column per window, ordered by the shortest window
    then the longer ones; generic labels ("On or near Parking Area") are left out: they name a kind of
    place, not a place.
    """
    if schema.LOCATION not in incidents.columns:
        return pd.DataFrame(columns=["location", *[f"n_{k}m" for k in months]])
    last = int(periods.months_to_index([last_month])[0])
    idx = periods.months_to_index(incidents[schema.MONTH].astype(str).to_numpy())
    label = incidents[schema.LOCATION].astype("string").str.strip()
    bare = label.str.replace(r"^On or near\s*", "", regex=True)
    ok = (label.notna() & (bare != "") & ~bare.isin(list(schema.POLICE_UK_GENERIC_LOCATIONS))).to_numpy()
    cols = {}
    for k in sorted(months):
        window = ok & (idx > last - k) & (idx <= last)
        cols[f"n_{k}m"] = label[window].value_counts()
    table = pd.DataFrame(cols).fillna(0).astype(np.int64)
    table = table.sort_values(list(table.columns), ascending=False, kind="mergesort").head(top)
    return table.rename_axis("location").reset_index()


def hotspot_timeline(result: Any) -> pd.DataFrame:
    """When each named hotspot's problem started, when the tool first named it, and the latest police.uk month.

    The columns of :data:`geo_csp.areas.TIMELINE_COLUMNS` that every hotspot run's areas carry
    (:func:`geo_csp.areas.area_timeline`): ``problem_started`` is the first period in which any of
    the area's units was a significant hot spot; ``first_named`` the first period by which one of its
    units had been hot in ``min_hot_periods`` periods (the rule that names an area), so
    ``naming_delay_periods`` after the start; ``latest_police_uk_month`` the latest month in the data
    from police.uk. ``attrs["rule"]`` says so in words.
    """
    cube = result.cube
    min_hot = int(result.metadata.get("area_params", {}).get("min_hot_periods", 3))
    areas_frame = result.areas
    if len(areas_frame) and all(c in areas_frame.columns for c in areas_mod.TIMELINE_COLUMNS):
        table = areas_frame.set_index(schema.AREA_ID)[list(areas_mod.TIMELINE_COLUMNS)]
        latest = result.metadata.get("latest_police_uk_month")
    else:  # a run from before the areas carried their timeline
        latest = cube.params["months"][1]
        table = areas_mod.area_timeline(
            result.analysis.hot_cold == 1,
            result.units[schema.AREA_ID].to_numpy(dtype=object),
            areas_frame[schema.AREA_ID].to_numpy(dtype=object) if len(areas_frame) else [],
            [str(p) for p in cube.period_labels],
            min_hot_periods=min_hot,
            latest_police_uk=latest,
        )
    names = areas_frame.set_index(schema.AREA_ID)[schema.AREA_NAME] if len(areas_frame) else pd.Series(dtype=object)
    table = table[table[areas_mod.PROBLEM_STARTED] != ""]
    out = table.reset_index(names=schema.AREA_ID)
    out.insert(1, "name", names.reindex(table.index).to_numpy(dtype=object))
    out.attrs["rule"] = areas_mod.timeline_rule(
        min_hot_periods=min_hot, period_word=periods.period_word(cube.params["period"]), latest_police_uk=latest
    )
    return out


@dataclass(frozen=True)
class TaskingSheet:
    """The sheet's parts: comparisons, repeat locations, recommended stops, cautions and parameters."""

    title: str
    last_label: str
    comparisons: dict[str, pd.DataFrame]
    jaccard: dict[str, float]
    totals: dict[str, float]
    locations: pd.DataFrame
    stops: pd.DataFrame
    cautions: list[str]
    params: dict[str, Any] = field(default_factory=dict)
    timeline: pd.DataFrame = field(default_factory=pd.DataFrame)
    gaps: coverage.GapList | None = None
    synthetic: bool = False

    @property
    def gaps_assessed(self) -> bool:
        """Whether any partner layer (CCTV, walkabouts, operations) was given to find the gaps."""
        return self.gaps is not None and any(k in self.gaps.shares for k in coverage.ACTIVITY_KINDS)

    def gaps_summary(self) -> str:
        """One sentence on the coverage gaps, or why there are none to show."""
        if self.gaps is None or not self.gaps_assessed:
            return (
                "Coverage gaps not assessed: no partner layer (CCTV, walkabouts, operations) was found for this "
                "store; add them (a layers folder beside the store, or geo-csp coverage --cctv ...)."
            )
        g = self.gaps
        missing = int((g.table["gaps"] != "covered").sum())
        kinds = [k for k in coverage.ACTIVITY_KINDS if k in g.shares]
        return (
            f"{missing} of {len(g.table)} hotspot areas miss some partner activity ({', '.join(kinds)} assessed); "
            f"{g.shares['all']:.0%} of the {g.total_label} sits in hotspots no activity reaches."
        )


def recommended_stops(areas: pd.DataFrame, *, top_n: int = 5) -> pd.DataFrame:
    """The top ``top_n`` areas as patrol stops (:func:`geo_csp.priorities.patrol_priorities`), ranked by the
    default priority score when the run carries it, else by incident count."""
    if not len(areas):
        return pd.DataFrame()
    measure = schema.PREDICTED_N if schema.PREDICTED_N in areas.columns else schema.N
    ranked = priorities.patrol_priorities(areas, params=priorities.PatrolParams(measure=measure, top_n=top_n))
    return ranked[["rank", "id", "name", "priority", "visits"]]


def tasking_sheet(
    result: Any,
    incidents: pd.DataFrame,
    *,
    params: TaskingParams | None = None,
    stops: pd.DataFrame | None = None,
    title: str | None = None,
    gaps: coverage.GapList | None = None,
    synthetic: bool = False,
) -> TaskingSheet:
    """The sheet for the last period of a hotspot run.

    Parameters
    ----------
    result
        A :class:`geo_csp.hotspot_run.HotspotResult` (its cube, Gi* hot/cold and units).
    incidents
        The incidents the run counted (for the repeat locations); not modified.
    params
        :class:`TaskingParams`.
    stops
        Recommended stops, shown as given; default :func:`recommended_stops` of the run's areas.
    title
        The sheet's heading; default "Tasking sheet: <last period>".
    gaps
        The coverage gap list of the run's areas (:func:`geo_csp.coverage.gap_list`); without it the
        sheet says coverage gaps were not assessed.
    synthetic
        The store holds the SYNTHETIC demo borough: every page and file of the sheet says so.
    """
    params = params or TaskingParams()
    cube = result.cube
    kind = cube.params["period"]
    n_periods = cube.n.shape[1]
    if n_periods < 2:
        raise ParameterError(f"the tasking sheet compares periods: this run has {n_periods}; choose a longer window")
    labels = [str(p) for p in cube.period_labels]
    hc = result.analysis.hot_cold
    comparisons, jaccard = {}, {}
    pairs = {f"against the {periods.period_word(kind)} before ({labels[-2]})": -2}
    back = YEAR_BACK[kind]
    cautions = []
    if n_periods > back:
        pairs[f"against a year earlier ({labels[-1 - back]})"] = -1 - back
    else:
        cautions.append(
            f"No year-earlier comparison: the run holds {n_periods} {periods.period_word(kind)}s, "
            f"fewer than the {back + 1} needed."
        )
    units = result.units
    where = pd.DataFrame(
        {"area": units[schema.AREA_ID].to_numpy(dtype=object), "ward": units[schema.WARD_NAME].to_numpy(dtype=object)},
        index=cube.units.index,
    )
    if schema.LSOA_NAME in units.columns and units[schema.LSOA_NAME].notna().any():  # LSOAs: name beside code
        where.insert(0, "lsoa", units[schema.LSOA_NAME].to_numpy(dtype=object))
    names = result.areas.set_index(schema.AREA_ID)[schema.AREA_NAME] if len(result.areas) else pd.Series(dtype=object)
    where["area"] = where["area"].map(lambda a: f"{a} {names.get(a, '')}".strip() if isinstance(a, str) else "")
    for name, col in pairs.items():
        table, jaccard[name] = change_lists(hc, cube.n, cube.units.index, before=col, alpha=params.alpha)
        table = table.join(where).astype({"n_last": np.int64, "n_before": np.int64, "change": np.int64})
        comparisons[name] = table[["lsoa", *table.columns.drop("lsoa")]] if "lsoa" in table.columns else table
    totals = {labels[-1]: float(cube.n[:, -1].sum()), labels[-2]: float(cube.n[:, -2].sum())}
    n_last = totals[labels[-1]]
    if n_last < params.min_incidents:
        cautions.append(
            f"Only {n_last:,.0f} incidents in {labels[-1]}: with so few, hot spots come and go by chance; "
            "read the lists as places to check, not as change."
        )
    if periods.is_day_period(kind):
        cautions.append(
            f"{periods.period_word(kind).capitalize()}s are short windows: a count of n moves by about "
            "2 x sqrt(n) between periods with nothing changed."
        )
    cautions.append(
        "A count of n in one period and m in another differ beyond chance only when the escalation "
        f"test says so (p < {params.alpha:g}); a place entering or leaving the hot list can be chance "
        "at the edge of significance."
    )
    last_month = cube.params["months"][1]
    locations = repeat_locations(
        incidents, last_month=last_month, months=params.location_months, top=params.top_locations
    )
    if stops is None:
        stops = recommended_stops(result.areas)
    return TaskingSheet(
        title=title or f"Tasking sheet: {labels[-1]}",
        last_label=labels[-1],
        comparisons=comparisons,
        jaccard=jaccard,
        totals=totals,
        locations=locations,
        stops=stops,
        cautions=cautions,
        timeline=hotspot_timeline(result),
        gaps=gaps,
        synthetic=synthetic,
        params={
            **asdict(params),
            "period": kind,
            "months": cube.params["months"],
            "sources": cube.params.get("sources"),
            "crime_types": cube.params.get("crime_types"),
            "group": cube.params.get("group"),
        },
    )


#: The printed names of the sheet's own columns, where they differ from :data:`display.COLUMN_LABELS`
#: (downloads keep the technical names).
SHEET_LABELS: Final[dict[str, str]] = {
    "unit_id": "Cell",
    "lsoa": "LSOA",
    "status": "Hot spot",
    "n_last": "Incidents",
    "n_before": "Compared",
    "change": "Change",
    "p_escalation": "p (rise)",
    "escalating": "Rising",
    "area": "Area",
    "ward": "Ward",
    "location": "Location",
    "n_3m": "Last 3 months",
    "n_6m": "6 months",
    "n_12m": "12 months",
    "name": "Place",
    areas_mod.PROBLEM_STARTED: "Problem started",
    areas_mod.FIRST_NAMED: "First named",
    "naming_delay_periods": "Delay (periods)",
    areas_mod.LATEST_POLICE_UK_MONTH: "Latest police.uk month",
    "share": "Share",
    "gaps": "Missing activity",
    "priority": "Priority",
}


def sheet_label(column: str) -> str:
    """The printed name of a sheet column: :data:`SHEET_LABELS`, else :func:`display.label`."""
    return SHEET_LABELS.get(column, display.label(column))


def printed_table(frame: pd.DataFrame) -> pd.DataFrame:
    """``frame`` as the printed sheet shows it: plain column names, numbers as people write them
    (:func:`display.format_value`: ``1,234``, ``8.6%``), p-values to three places."""
    out = pd.DataFrame(index=frame.index.rename(sheet_label(str(frame.index.name)) if frame.index.name else None))
    for column in frame.columns:
        values = frame[column]
        if column == "p_escalation":
            out[sheet_label(column)] = values.map(
                lambda p: "" if pd.isna(p) else "< 0.001" if p < 0.001 else f"{p:.3f}"
            )
        elif pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values):
            out[sheet_label(column)] = values.map(lambda v, c=column: display.format_value(c, v))
        else:
            out[sheet_label(column)] = values
    return out


def _html(sheet: TaskingSheet) -> str:
    from geo_csp.table import frame_html

    parts = [
        f"<h1>{html_text(sheet.title)}</h1>",
        f"<p class='sub'>Last period: <b>{html_text(sheet.last_label)}</b>; incidents "
        + ", ".join(f"{html_text(k)}: {v:,.0f}" for k, v in sheet.totals.items())
        + "</p>",
        "<div class='caution'><b>Caution.</b> " + " ".join(html_text(c) for c in sheet.cautions) + "</div>",
    ]
    if sheet.synthetic:
        parts.insert(
            1,
            f"<p class='synthetic'>{html_text(settings.SYNTHETIC_LABEL)} demo data: invented incidents, not real crime.</p>",
        )
    for name, table in sheet.comparisons.items():
        j = sheet.jaccard[name]
        counts = table["status"].value_counts()
        parts.append(
            f"<h2>Hot spots {html_text(name)}</h2><p>{counts.get('entered', 0)} entered, "
            f"{counts.get('remained', 0)} remained, {counts.get('left', 0)} left; Jaccard "
            f"{'n/a' if np.isnan(j) else f'{j:.2f}'}; {int(table['escalating'].sum())} escalating.</p>"
        )
        shown = table.head(_ROWS).assign(
            p_escalation=table["p_escalation"].head(_ROWS).round(3),
            escalating=table["escalating"].head(_ROWS).map({True: "yes", False: ""}),
        )
        more = f"<p class='sub'>{len(table) - _ROWS} more in the XLSX.</p>" if len(table) > _ROWS else ""
        parts.append(
            frame_html(
                printed_table(shown),
                text_columns=[sheet_label(c) for c in ("lsoa", "status", "area", "ward") if c in shown],
            )
            + more
        )
    parts.append("<h2>Top repeat locations (police.uk snap points)</h2>")
    parts.append(frame_html(printed_table(sheet.locations), index=False, text_columns=[sheet_label("location")]))
    if len(sheet.timeline):
        parts.append(
            "<h2>When each hotspot started and was first named</h2>"
            + frame_html(
                printed_table(sheet.timeline),
                index=False,
                text_columns=[
                    sheet_label(c)
                    for c in (
                        "area_id",
                        "name",
                        areas_mod.PROBLEM_STARTED,
                        areas_mod.FIRST_NAMED,
                        areas_mod.LATEST_POLICE_UK_MONTH,
                    )
                    if c in sheet.timeline.columns
                ],
            )
            + f"<p class='sub'>{html_text(sheet.timeline.attrs.get('rule', ''))}</p>"
        )
    parts.append("<h2>Coverage gaps</h2><p>" + html_text(sheet.gaps_summary()) + "</p>")
    if sheet.gaps is not None and sheet.gaps_assessed and len(sheet.gaps.table):
        shown = _gap_rows(sheet.gaps)
        more = f"<p class='sub'>{len(shown) - _ROWS} more in the XLSX.</p>" if len(shown) > _ROWS else ""
        parts.append(
            frame_html(
                printed_table(shown.head(_ROWS)),
                index=False,
                text_columns=[sheet_label(c) for c in ("id", "name", "share", "gaps")],
            )
            + more
        )
    if len(sheet.stops):
        text = [sheet_label(c) for c in sheet.stops.columns if not pd.api.types.is_numeric_dtype(sheet.stops[c])]
        parts.append(
            "<h2>Recommended stops</h2>" + frame_html(printed_table(sheet.stops), index=False, text_columns=text)
        )

    style = (
        "<style>@page{size:A4;margin:10mm} body{font-family:sans-serif;font-size:7pt} h1{font-size:13pt;"
        "margin:0} h2{font-size:9.5pt;margin:5pt 0 1pt} p{margin:1pt 0} table{border-collapse:collapse} "
        "td,th{border:1px solid #bbb;padding:0.5pt 3pt} .sub{color:#444} .caution{background:#fff4d6;"
        "padding:3pt;margin:3pt 0} .synthetic{color:#b00;font-weight:bold;border:2px solid #b00;padding:3pt}</style>"
    )
    return f"<!doctype html><html><head><meta charset='utf-8'>{style}</head><body>{''.join(parts)}</body></html>"


def _gap_rows(gaps: coverage.GapList) -> pd.DataFrame:
    """The gap list's printed columns: rank, area, the measure and its share, and what is missing."""
    table = gaps.table
    return pd.DataFrame(
        {
            "rank": table["rank"].to_numpy(),
            "id": table["id"].to_numpy(dtype=object),
            "name": table["name"].to_numpy(dtype=object),
            gaps.measure: table[gaps.measure].round(1).to_numpy(),
            "share": (100 * table["share_of_total"]).round(1).map(lambda v: f"{v:.1f}%").to_numpy(),
            "gaps": table["gaps"].to_numpy(dtype=object),
        }
    )


def write_tasking(sheet: TaskingSheet, out_dir: str | Path) -> dict[str, Path]:
    """Write ``tasking.html``, ``tasking.pdf`` (weasyprint) and ``tasking.xlsx``; returns name -> path."""
    from weasyprint import HTML

    from geo_csp._escape import spreadsheet_safe

    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    page = _html(sheet)
    paths = {
        "tasking.html": out / "tasking.html",
        "tasking.pdf": out / "tasking.pdf",
        "tasking.xlsx": out / "tasking.xlsx",
    }
    paths["tasking.html"].write_text(page, encoding="utf-8")
    HTML(string=page).write_pdf(paths["tasking.pdf"])
    with pd.ExcelWriter(paths["tasking.xlsx"]) as xl:
        for i, (name, table) in enumerate(sheet.comparisons.items()):
            spreadsheet_safe(table.reset_index()).to_excel(xl, sheet_name=f"hot spots {i + 1}", index=False)
        spreadsheet_safe(sheet.locations).to_excel(xl, sheet_name="repeat locations", index=False)
        if len(sheet.timeline):
            spreadsheet_safe(sheet.timeline).to_excel(xl, sheet_name="hotspot timeline", index=False)
        if sheet.gaps is not None and sheet.gaps_assessed:
            spreadsheet_safe(sheet.gaps.table).to_excel(xl, sheet_name="coverage gaps", index=False)
        if len(sheet.stops):
            spreadsheet_safe(sheet.stops).to_excel(xl, sheet_name="stops", index=False)
        notes = pd.DataFrame(
            {
                "note": [*sheet.comparisons, *sheet.cautions, sheet.gaps_summary()],
                "value": [sheet.jaccard[k] for k in sheet.comparisons] + [None] * (len(sheet.cautions) + 1),
            }
        )
        spreadsheet_safe(notes).to_excel(xl, sheet_name="notes", index=False)
    return paths
