"""The shared sidebar (store, period, crimes, unit, measure, mode, basemap) and small display helpers.

:func:`sidebar` draws the sidebar on every run (from ``app.py``) and returns the choices as a frozen
:class:`Choices`; pages read them with :func:`current`. Nothing here computes on data beyond choosing
among values the store summary already lists.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import pandas as pd
import streamlit as st

from geo_csp import display, periods, settings, store
from geo_csp.app import cache

if TYPE_CHECKING:
    from geo_csp import cube as cube_mod

ASSETS = Path(__file__).resolve().parent / "assets"
STORE_ENV = "GEO_CSP_STORE"  # a store folder to open instead of the demo borough
DEMO_ENV = "GEO_CSP_DEMO_DIR"  # where the demo borough is built (default data/demo)
_CHOICES_KEY = "geo_csp_choices"

UNITS: dict[str, cube_mod.UnitKind] = {"H3 hexagons": "h3", "Wards": "ward", "LSOAs": "lsoa"}
MEASURES: dict[str, cube_mod.Measure] = {
    "Count": "count",
    "Harm (CCHI)": "harm",
    "Rate per 1,000 residents (per period)": "rate",
    "Rate per 1,000, Empirical-Bayes smoothed": "rate_eb",
}
OFFLINE_MAP = "Offline map (names from the data)"
BASEMAP_LABELS = {"OpenStreetMap": "osm", "Light basemap (CARTO)": "light", OFFLINE_MAP: None}
CHOOSE_MONTHS = "Choose months…"
#: Period kinds in the sidebar; weeks, fortnights and 28 days need timed (partner) sources.
PERIOD_KINDS: dict[str, periods.PeriodKind | Literal["auto"]] = {
    "Months": "month",
    "Quarters (financial)": "quarter",
    "Weeks (timed sources)": "week",
    "Fortnights (timed sources)": "fortnight",
    "28 days (timed sources)": "28day",
    "Automatic (from the data's span)": "auto",
}
ALL_CRIME = "All crime and ASB"
CUSTOM = "Choose crime types…"


@dataclass(frozen=True)
class Choices:
    """What the sidebar chose; every page reads these, never the widgets directly."""

    store_dir: str
    stamp: float
    has_store: bool
    months: tuple[str, ...]
    period_label: str
    sources: tuple[str, ...] | None
    crime_types: tuple[str, ...] | None
    group: str | None
    unit: cube_mod.UnitKind
    resolution: int | None
    measure: cube_mod.Measure
    public: bool
    basemap: str | None
    synthetic: bool
    status: dict[str, Any]
    ward_names: tuple[str, ...] = ()
    online: bool = False
    period_kind: periods.PeriodKind | Literal["auto"] = "month"

    @property
    def area_label(self) -> str:
        """Where the analysis looks: the whole store's area or the wards chosen."""
        if not self.ward_names:
            return "whole borough"
        names = ", ".join(self.ward_names) if len(self.ward_names) <= 3 else f"{len(self.ward_names)} wards"
        return f"{'ward' if len(self.ward_names) == 1 else 'wards'}: {names}"

    @property
    def months_label(self) -> str:
        """The months analysed, as people write them ("Jan 2025 to Dec 2025 (12 months)")."""
        if not self.months:
            return "no months"
        first, last = (pd.Period(m, freq="M") for m in (self.months[0], self.months[-1]))
        return f"{first:%b %Y} to {last:%b %Y} ({len(self.months)} months)"

    @property
    def month_range(self) -> tuple[str, str] | None:
        """First and last month chosen, or ``None`` when the store has none."""
        return (self.months[0], self.months[-1]) if self.months else None

    @property
    def crime_label(self) -> str:
        """A short description of the crime filter for titles and exports."""
        if self.group:
            return self.group.replace("_", " ")
        if self.crime_types:
            return ", ".join(self.crime_types) if len(self.crime_types) <= 3 else f"{len(self.crime_types)} crime types"
        return ALL_CRIME


def hotspot_args(choices: Choices) -> dict[str, Any]:
    """The arguments of :func:`cache.hotspots` (and the map) for these choices."""
    return {
        "unit": choices.unit,
        "resolution": choices.resolution,
        "crime_types": choices.crime_types,
        "group": choices.group,
        "measure": choices.measure,
        "sources": choices.sources,
        "ward_names": choices.ward_names,
        "period": choices.period_kind,
    }


def app_sources(available: list[str], chosen: list[str] | None = None) -> Any:
    """What the app counts: the library's source contract (:func:`geo_csp.sources.resolve_sources`) on the
    store's sources; nothing chosen is the default, exactly as on the command line."""
    from geo_csp import sources as sources_mod

    return sources_mod.resolve_sources(list(chosen) if chosen else None, available=available)


def run_choices(metadata: dict[str, Any]) -> None:
    """What a hotspot run counted and chose (the command line prints the same), with its warnings."""
    from geo_csp import hotspot_run

    for warning in metadata.get("warnings", []):
        st.warning(warning)
    with st.expander("How this was counted and analysed"):
        st.write(metadata["counted"]["note"])
        st.write(hotspot_run.describe_run(metadata))


def default_store() -> tuple[str, str | None]:
    """The store to open first and, when it is the demo's, the demo folder to build it in."""
    if os.environ.get(STORE_ENV):
        return os.environ[STORE_ENV], None
    demo_dir = os.environ.get(DEMO_ENV) or str(settings.DEMO_DIR)
    return str(Path(demo_dir) / "store"), demo_dir


def period_options(months: list[str]) -> dict[str, tuple[str, ...]]:
    """Period choices for the store's months: all, last 12 and 24 months, each financial year."""
    if not months:
        return {"No data": ()}
    full = tuple(periods.month_range(months[0], months[-1]).tolist())
    options: dict[str, tuple[str, ...]] = {}
    for n in (12, 24):  # the CLI's --months last-12 / last-24 (periods.resolve_months)
        if len(full) > n:
            window = periods.resolve_months(f"last-{n}", months)
            options[f"Last {n} months"] = tuple(periods.month_range(*window).tolist()) if window else full
    options[f"All {len(full)} months ({full[0]} to {full[-1]})"] = full
    options[CHOOSE_MONTHS] = full
    keys = periods.period_keys(list(full), period="year")
    labels = periods.period_labels(keys, period="year")
    for key, label in zip(*[list(dict.fromkeys(x)) for x in (keys.tolist(), labels.tolist())], strict=True):
        chosen = tuple(m for m, k in zip(full, keys.tolist(), strict=True) if k == key)
        if len(chosen) >= 6:
            options[f"Financial year {label}"] = chosen
    return options


def _store_choice(default_dir: str, demo_dir: str | None) -> tuple[str, float, bool, dict[str, Any], bool]:
    """The sidebar's store folder (building the demo borough on first start): folder, stamp, whether a store
    is there, its status, and whether it is SYNTHETIC."""
    store_dir = st.text_input(
        "Store folder",
        value=default_dir,
        key="store_dir",
        help="The incident store to analyse. The demo borough (SYNTHETIC data) opens by default.",
    ).strip()
    if demo_dir is not None and store_dir == default_dir and cache.store_stamp(store_dir) == 0.0:
        with st.spinner("Building the SYNTHETIC demo borough (first start only, a few seconds)…"):
            try:
                cache.ensure_demo(demo_dir)
            except Exception as exc:  # the page still opens; the Data page can fill a store
                st.error(f"Could not build the demo borough: {exc}")
    stamp = cache.store_stamp(store_dir)
    has_store = stamp > 0.0
    status: dict[str, Any] = (
        cache.status(store_dir, stamp)
        if has_store
        else {"months": [], "sources": [], "config": store.StoreConfig(Path(store_dir))}
    )
    if not has_store:
        st.warning(f"No store at {store_dir}. Ingest files on the Data page or choose another folder.")
    synthetic = status["config"].synthetic or Path(store_dir).resolve().is_relative_to(
        Path(os.environ.get(DEMO_ENV) or settings.DEMO_DIR).resolve()
    )
    if synthetic:
        st.error(f"**{settings.SYNTHETIC_LABEL}** demo data: invented incidents, not real crime.")
    return store_dir, stamp, has_store, status, synthetic


def _months_choice(store_months: list[str]) -> tuple[str, tuple[str, ...]]:
    """The sidebar's period and, for chosen months, its month range (at least 3 months): label and months."""
    options = period_options(store_months)
    period_label = st.selectbox(
        "Period", list(options), key="period", help="Months analysed; choose months for any range the store holds."
    )
    months = options[period_label]
    if period_label == CHOOSE_MONTHS and len(months) > 1:
        first, last = st.select_slider(
            "From and to month",
            options=list(months),
            value=(months[max(0, len(months) - 12)], months[-1]),
            key="month_range",
            format_func=lambda m: f"{pd.Period(m, freq='M'):%b %Y}",
        )
        months = tuple(m for m in months if first <= m <= last)
        if len(months) < 3:
            st.caption("Hot spot trends need at least 3 months: the range was widened to 3.")
            end = list(options[CHOOSE_MONTHS]).index(last)
            months = tuple(options[CHOOSE_MONTHS][max(0, end - 2) : max(3, end + 1)])
    return period_label, months


def _crime_choice(sources_all: list[str]) -> tuple[list[str], tuple[str, ...] | None, str | None]:
    """The sidebar's sources and crime group (custom crime types): sources, crime types and group."""
    from geo_csp import harm

    default_sources = [s for s in app_sources(sources_all).sources or () if s in sources_all]
    sources = st.multiselect(
        "Sources",
        sources_all,
        default=default_sources,
        format_func=display.source_label,
        key="sources",
        help="What is counted. Default: victim-reported police.uk street records. Stop and search records "
        "where officers searched, and partner sources (council ASB) repeat incidents police.uk holds: "
        "add them only to study them.",
    )
    counted = app_sources(sources_all, sources)
    (st.warning if counted.mixed else st.caption)(counted.note)
    from geo_csp import qualifiers

    group_label = st.selectbox(
        "Crime group",
        [ALL_CRIME, *harm.CRIME_GROUPS, *qualifiers.QUALIFIED_GROUPS, CUSTOM],
        key="crime_group",
        format_func=lambda g: (
            f"{qualifiers.QUALIFIED_GROUPS[g].label} (flag)"
            if g in qualifiers.QUALIFIED_GROUPS
            else g.replace("_", " ")
        ),
        help="Groups marked (flag) count partner records by their qualifier flag (domestic, knife-enabled, "
        "victim's sex): police.uk records carry none.",
    )
    flagged = qualifiers.QUALIFIED_GROUPS.get(group_label)
    if flagged is not None and set(sources) == set(default_sources):
        # the default sources: a flag group counts the sources that record its flag, as on the command line
        sources = []
        st.caption(f"{flagged.label}: {flagged.definition}.")
    crime_types: tuple[str, ...] | None = None
    if group_label == CUSTOM:
        from geo_csp import schema

        picked = st.multiselect("Crime types", list(schema.CRIME_TYPES), default=["Burglary"], key="crime_types")
        crime_types = tuple(picked) or None
    group = group_label if group_label in harm.CRIME_GROUPS or flagged is not None else None
    return sources, crime_types, group


def _unit_choice() -> tuple[cube_mod.UnitKind, int | None, cube_mod.Measure]:
    """The sidebar's unit, H3 resolution and measure (wards for rates on H3): unit, resolution and measure."""
    unit_label = st.radio("Unit", list(UNITS), key="unit", horizontal=True)
    unit = UNITS[unit_label]
    resolution = None
    if unit == "h3":
        resolutions: list[str | int] = ["auto", 7, 8, 9, 10]
        res = st.select_slider(
            "H3 resolution",
            options=resolutions,
            value="auto",
            key="resolution",
            help="auto picks a cell size from the borough's area",
        )
        resolution = None if res == "auto" else int(res)
    measure_label = st.radio("Measure", list(MEASURES), key="measure")
    measure = MEASURES[measure_label]
    if measure in ("rate", "rate_eb") and unit == "h3":
        st.caption("Rates need residents: H3 cells have none, so wards are used for rates.")
        unit, resolution = "ward", None
    return unit, resolution, measure


def sidebar() -> Choices:
    """Draw the shared sidebar and return the choices (also kept for :func:`current`)."""
    default_dir, demo_dir = default_store()
    with st.sidebar:
        st.header("geo-csp")
        store_dir, stamp, has_store, status, synthetic = _store_choice(default_dir, demo_dir)
        period_label, months = _months_choice(status["months"])
        ward_frame = cache.wards(store_dir, stamp) if has_store else None
        ward_options = [] if ward_frame is None else sorted(ward_frame["ward_name"].astype(str))
        ward_names = st.multiselect(
            "Wards or neighbourhood areas",
            ward_options,
            key="ward_filter",
            placeholder="Whole borough",
            help="Analyse only these wards (the map, priorities, gaps and walkabouts follow); empty for all.",
        )
        period_kind = PERIOD_KINDS[
            st.selectbox(
                "Periods",
                list(PERIOD_KINDS),
                key="period_kind",
                help="Months and quarters for police.uk (it publishes months only, never a day); weeks, fortnights "
                "and 28-day periods count partner records by their recorded day, so choose timed sources.",
            )
        ]
        sources, crime_types, group = _crime_choice(status["sources"])
        unit, resolution, measure = _unit_choice()
        online = cache.tiles_reachable()
        basemap_names = list(BASEMAP_LABELS)
        basemap_label = st.selectbox(
            "Basemap",
            basemap_names,
            index=0 if online else basemap_names.index(OFFLINE_MAP),
            key="basemap",
            help="Street tiles come from OpenStreetMap over the internet; the offline map names places, wards "
            "and streets from this store's own data and fetches nothing.",
        )
        if not online:
            st.caption(
                "Street tiles cannot be reached from here, so the map is offline: names come from the store's own data."
            )
        mode = st.radio(
            "Mode",
            ["Partnership (sensitive)", "Public"],
            key="mode",
            help="Public mode applies disclosure control to every export and hides sensitive layers.",
        )
    choices = Choices(
        store_dir=store_dir,
        stamp=stamp,
        has_store=has_store,
        months=months,
        period_label=period_label
        if period_label != CHOOSE_MONTHS
        else f"{pd.Period(months[0], freq='M'):%b %Y} to {pd.Period(months[-1], freq='M'):%b %Y}",
        sources=tuple(sources) or None,
        crime_types=crime_types,
        group=group,
        unit=unit,
        resolution=resolution,
        measure=measure,
        public=mode == "Public",
        basemap=BASEMAP_LABELS[basemap_label],
        synthetic=synthetic,
        status=status,
        ward_names=tuple(ward_names),
        online=online,
        period_kind=period_kind,
    )
    st.session_state[_CHOICES_KEY] = choices
    return choices


def current() -> Choices:
    """The choices the sidebar made on this run."""
    if _CHOICES_KEY not in st.session_state:
        return sidebar()
    choices: Choices = st.session_state[_CHOICES_KEY]
    return choices


def need_store(choices: Choices) -> None:
    """Stop the page with a message when there is no store to read."""
    if not choices.has_store:
        st.info("There is no incident store yet: add police.uk or partner files on the **Data** page.")
        st.stop()


def synthetic_banner(choices: Choices) -> None:
    """A SYNTHETIC banner at the top of a page of demo data."""
    if choices.synthetic:
        st.markdown(
            f":red-background[**{settings.SYNTHETIC_LABEL}**] demo borough: every figure on this page "
            "comes from invented incidents."
        )


def running(what: str) -> Any:
    """A spinner for work that may take more than a second (Streamlit shows it only once it has run
    for a moment, so cached reruns do not flash it)."""
    return st.spinner(what, show_time=True)


_UNIT_NOUNS = {"h3": "Hexagons", "ward": "Wards", "lsoa": "LSOAs"}


def unit_noun(unit: str) -> str:
    """What the map's units are called on screen ("Hexagons", "Wards", "LSOAs")."""
    return _UNIT_NOUNS.get(unit, "Areas")


def unit_caption(unit: str, resolution: int | None = None) -> str:
    """The unit in words, e.g. "H3 hexagons of about 0.1 km² (resolution 9)"."""
    if unit == "h3":
        import h3

        size = (
            f" of about {h3.average_hexagon_area(int(resolution), unit='km^2'):.2g} km²"
            if resolution is not None
            else ""
        )
        return f"H3 hexagons{size}" + (f" (resolution {resolution})" if resolution is not None else "")
    return {"ward": "wards", "lsoa": "LSOAs"}.get(unit, unit)


def measure_label(measure: str) -> str:
    """The measure in words."""
    return {
        "count": "counting incidents",
        "harm": "weighting by harm (crime-days)",
        "rate": "incidents per 1,000 residents",
        "rate_eb": "incidents per 1,000 residents, Empirical-Bayes smoothed",
    }.get(measure, measure)


def month_name(month: str) -> str:
    """A month "YYYY-MM" as people write it ("Dec 2025")."""
    return f"{pd.Period(month, freq='M'):%b %Y}"


def table(
    frame: pd.DataFrame, *, columns: list[str] | None = None, key: str | None = None, height: Any = "auto"
) -> None:
    """A table for people (:func:`geo_csp.display.for_people`): plain column names with units, shares as
    percentages, whole numbers with thousands separators. Downloads keep the technical columns."""
    from geo_csp import display

    shown = display.for_people(frame, columns=columns)
    config: dict[str, Any] = {}
    for col in shown.columns:
        values = shown[col]
        if not pd.api.types.is_numeric_dtype(values) or pd.api.types.is_bool_dtype(values):
            continue
        finite = values.dropna()
        whole = bool(len(finite)) and bool((finite == finite.round(0)).all())
        fmt = (
            "%.1f%%"
            if col.endswith("(%)")
            else ("localized" if whole else "%.2f" if (finite.abs() < 1).all() else "%.1f")
        )
        config[col] = st.column_config.NumberColumn(col, format=fmt)
    st.dataframe(shown, hide_index=True, width="stretch", column_config=config, key=key, height=height)


#: Fixed Vega-Lite field names of :func:`line_chart`: user text (area and ward names) goes in as data values,
#: never as field names, which Vega-Lite parses (a colon is a type code, quotes and brackets an access path).
CHART_FIELDS = ("period", "series", "incidents")


#: Fixed field names of the operation markers of :func:`line_chart_spec` (names go in as values).
MARK_FIELDS = ("operation", "dates", "last")


def line_chart_spec(frame: Any, *, y_title: str = "incidents", marks: Any = None) -> Any:
    """The Altair chart of :func:`line_chart`: one line per column of ``frame`` over its index (periods in order).

    Column names and index labels are any text (``"Monument: around Neville Street"``, ``"Arthur's Hill"``,
    ``"[a] <b>"``): they become values of the fixed fields :data:`CHART_FIELDS`, shown as given.

    ``marks`` (:func:`geo_csp.trends.operation_marks` on the chart's periods) adds, per operation, a rule at
    the first period it covers, and a shaded band to the last when it runs longer; beside each rule the names
    of the operations marked there (joined by " · "). Names are values of the fixed fields :data:`MARK_FIELDS`.
    """
    import altair as alt
    import numpy as np
    import pandas as pd

    period, series, value = CHART_FIELDS
    labels = [str(x) for x in frame.index]
    names = [str(c) for c in frame.columns]
    values = frame.to_numpy(dtype="float64")
    long = pd.DataFrame(
        {period: np.repeat(labels, len(names)), series: np.tile(names, len(labels)), value: values.reshape(-1)}
    )
    x = alt.X(f"{period}:O", sort=labels, scale=alt.Scale(domain=labels), title=None)  # markers keep the order
    lines = (
        alt.Chart(long)
        .mark_line(point=True)
        .encode(
            x=x,
            y=alt.Y(f"{value}:Q", title=y_title),
            color=alt.Color(f"{series}:N", sort=names, title=None, legend=alt.Legend(orient="bottom", labelLimit=400)),
            tooltip=[
                alt.Tooltip(f"{series}:N", title="series"),
                alt.Tooltip(f"{period}:O", title="period"),
                alt.Tooltip(f"{value}:Q", title=y_title, format=",.0f"),
            ],
        )
    )
    if marks is None or not len(marks):
        return lines
    name, dates, last = MARK_FIELDS
    start = marks["start_date"].astype(str).to_numpy()
    end = marks["end_date"].astype(str).to_numpy()
    ops = pd.DataFrame(
        {
            period: marks["first"].astype(str).to_numpy(),
            last: marks["last"].astype(str).to_numpy(),
            name: marks["name"].astype(str).to_numpy(),
            dates: np.where(start == end, start, np.char.add(np.char.add(start.astype(str), " to "), end.astype(str))),
        }
    )
    tips = [alt.Tooltip(f"{name}:N", title="operation"), alt.Tooltip(f"{dates}:N", title="dates")]
    longer = ops[ops[period] != ops[last]]
    layers = [lines]
    if len(longer):
        layers.append(
            alt.Chart(longer).mark_rect(color="#7f7f7f", opacity=0.12).encode(x=x, x2=f"{last}:O", tooltip=tips)
        )
    layers.append(alt.Chart(ops).mark_rule(color="#555555", strokeDash=[4, 3]).encode(x=x, tooltip=tips))
    labels_at = ops.groupby(period, sort=False)[name].agg(" · ".join).reset_index()  # one label per period
    layers.append(
        alt.Chart(labels_at)
        .mark_text(angle=270, align="right", baseline="bottom", dx=-4, dy=-2, fontSize=10, color="#333333")
        .encode(x=x, y=alt.value(0), text=f"{name}:N")
    )
    return alt.layer(*layers)


def line_chart(frame: Any, *, height: int, y_title: str = "incidents", marks: Any = None) -> None:
    """Draw :func:`line_chart_spec` (use this, not ``st.line_chart``, for series named by user text); ``marks``
    are the operations drawn on it (:func:`geo_csp.trends.operation_marks`)."""
    st.altair_chart(line_chart_spec(frame, y_title=y_title, marks=marks).properties(height=height), width="stretch")
