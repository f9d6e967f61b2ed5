"""Map: the meeting view. Hotspots (or the change on last month / last year) with names, partner layers,
a hotspot's story on a click, and the view as PNG/PDF for the minutes."""

from __future__ import annotations

from typing import Any

import streamlit as st

from geo_csp import display, maps, periods, schema, trends, ward_summary
from geo_csp._escape import markdown_literal
from geo_csp.app import cache, folium_view, widgets

choices = widgets.current()
st.title("Hotspot map")
widgets.synthetic_banner(choices)
widgets.need_store(choices)
COLOUR_BY = {
    "Hot spot pattern": schema.PATTERN,
    "Hotspot category (Chainey)": schema.CATEGORY,
    "Incidents": schema.N,
    "Harm (crime-days)": schema.HARM,
    "Incidents per 1,000 residents": schema.RATE_PER_1000,
}
VIEWS = {"Hot spots": None, "Change on the month before": "month", "Change on the same month last year": "year"}
args = widgets.hotspot_args(choices)
with widgets.running("Finding hot spots…"):
    result = cache.hotspots(choices.store_dir, choices.stamp, choices.months, **args)
available_layers = list(cache.partner_layers(choices.store_dir, choices.stamp))

view_label = st.radio(
    "Show",
    list(VIEWS),
    horizontal=True,
    key="map_view",
    help="The change views compare the last month of the period with the month before it, "
    "or with the same month a year earlier, on the same cells.",
)
change = VIEWS[view_label]
left, mid, right = st.columns([2, 3, 3])
colour_label = left.selectbox("Colour by", list(COLOUR_BY), key="map_colour_by", disabled=change is not None)
layer_names = mid.multiselect(
    "Partner layers",
    available_layers,
    default=available_layers,
    key="map_layers",
    format_func=lambda k: maps.LAYER_LABELS.get(k, k),
)
area_options = result.areas[schema.AREA_ID].tolist()
area_names = dict(zip(result.areas[schema.AREA_ID], result.areas[schema.AREA_NAME], strict=True))
clicked = st.session_state.pop("map_clicked_area", None)
if clicked in area_options:
    st.session_state["map_area"] = clicked  # a click on the map opens that area's story
selected = right.selectbox(
    "Hotspot area",
    [None, *area_options],
    key="map_area",
    format_func=lambda a: "(none: click a hotspot on the map)" if a is None else f"{a}: {area_names[a]}",
)

with widgets.running("Drawing the map…"):
    view = cache.hotspot_map_view(
        choices.store_dir,
        choices.stamp,
        choices.months,
        key="hotspot_map",
        **args,
        colour_by=COLOUR_BY[colour_label],
        basemap=choices.basemap,
        synthetic=choices.synthetic,
        selected_area=selected,
        show_layers=tuple(layer_names),
        change=change,
    )
units = result.units
noun = widgets.unit_noun(choices.unit)
hot = units[schema.PATTERN].astype("string").str.endswith("Hot Spot").fillna(False)
c1, c2, c3, c4 = st.columns(4)
c1.metric(f"{noun} mapped", f"{len(units):,}")
c2.metric(f"Hot {noun.lower()}", f"{int(hot.sum()):,}", help="Significant hot spot pattern over the period")
c3.metric("Named hotspot areas", f"{len(result.areas):,}")
c4.metric("Incidents mapped", f"{int(units[schema.N].sum()):,}")
if ward_summary.applies(choices.unit, len(units)):  # few large units: lead with counts, rates and change
    few = ward_summary.summarise_few_units(result)
    with st.container(border=True, key="few_units_lead"):
        st.markdown("\n\n".join(markdown_literal(s) for s in few.lead))
        st.caption(markdown_literal(f"{ward_summary.FEW_UNITS}; change compares {few.metadata['periods_compared']}"))
        st.dataframe(few.for_people(), hide_index=True, width="stretch", key="few_units_table")
compared = ""
if change is not None:
    changed = cache.change_units(choices.store_dir, choices.stamp, choices.months, against=change, **args)
    before, this = (widgets.month_name(m) for m in changed.attrs["compared"])
    compared = f" · change: {this} against {before}"
    first_month = choices.status["months"][0] if choices.status["months"] else None
    if first_month and changed.attrs["compared"][0] < first_month:
        st.warning(
            f"The store starts in {widgets.month_name(first_month)}: there is nothing to compare {this} "
            f"with in {before}, so every change below is the whole month's count."
        )
if change is not None:
    status = changed[cache.HOTSPOT_CHANGE]
    counts = status.value_counts()
    jaccard = changed.attrs["jaccard"]
    overlap = (
        "no hot spots in either month"
        if jaccard != jaccard
        else f"overlap (Jaccard index: hot in both ÷ hot in either) {jaccard:.2f}"
    )
    with st.container(border=True, key="hotspot_change_summary"):
        st.markdown(
            f"**Hot spots, {this} against {before}**: {counts.get('entered', 0):,} {noun.lower()} entered "
            f"(hot in {this}, not in {before}), {counts.get('remained', 0):,} remained hot, "
            f"{counts.get('left', 0):,} left (hot in {before}, not in {this}); {overlap}. "
            f"On the map, {noun.lower()} that entered are outlined red, remained black, left dashed blue."
        )
        moved = changed[status != ""].copy()
        moved[schema.AREA_NAME] = moved[schema.AREA_ID].map(area_names)
        moved["_o"] = moved[cache.HOTSPOT_CHANGE].map({"entered": 0, "remained": 1, "left": 2})
        moved = moved.sort_values(["_o", "n_change"], ascending=[True, False], kind="mergesort")
        if len(moved):
            widgets.table(
                moved,
                columns=[
                    cache.HOTSPOT_CHANGE,
                    schema.UNIT_ID,
                    *([schema.LSOA_NAME] if moved[schema.LSOA_NAME].notna().any() else []),
                    schema.AREA_NAME,
                    schema.WARD_NAME,
                    "n_this",
                    "n_before",
                    "n_change",
                ],
                key="hotspot_change_table",
            )
st.caption(
    f"{choices.months_label} · {choices.crime_label} · {choices.area_label} · "
    f"{widgets.unit_caption(choices.unit, result.metadata.get('resolution'))} · "
    f"{widgets.measure_label(choices.measure)}{compared}"
    + ("" if choices.basemap else " · offline map: names from the store's own data")
)
widgets.run_choices(result.metadata)
returned = folium_view.show(view, key="hotspot_map", height=620, clicks=True)
click = returned.get("last_object_clicked")
if isinstance(click, dict) and click != st.session_state.get("map_last_click"):
    # each click once: the component sends its last click again on every rerun until the next click
    st.session_state["map_last_click"] = click
    unit = maps.latlng_to_unit(units, lat=float(click["lat"]), lng=float(click["lng"]))
    picked = None if unit is None else units.set_index(schema.UNIT_ID)[schema.AREA_ID].get(unit)
    if picked in area_options:
        if picked != selected:
            st.session_state["map_clicked_area"] = picked
            st.rerun()
    elif unit is not None:
        one = {"Hexagons": "hexagon", "Wards": "ward", "LSOAs": "LSOA"}.get(noun, "area")
        st.info(f"That {one} is not part of a named hotspot area: click inside a dashed outline for an area's story.")

title = f"Hotspot map: {choices.crime_label}" + (" (SYNTHETIC demo data)" if choices.synthetic else "")
subtitle = (
    f"{choices.months_label} · {choices.area_label} · {view_label.lower()}"
    f"{compared} · {widgets.measure_label(choices.measure)}"
)
export_args: dict[str, Any] = dict(
    colour_by=COLOUR_BY[colour_label],
    change=change,
    title=title,
    subtitle=subtitle,
    synthetic=choices.synthetic,
    **args,
)
e1, e2, _ = st.columns([1, 1, 3])
# the printable map is drawn (matplotlib, about a second) only once asked for, so the first map is not slowed
# by it; then for this view the files are drawn before the buttons (a button's deferred callable is served from
# a media file that a rerun may already have dropped: the browser then got an error, not the file)
export_view = repr((choices.store_dir, choices.stamp, choices.months, sorted(export_args.items())))
if st.session_state.get("map_export_view") != export_view:
    e1.button(
        "Prepare the map for download",
        key="prepare_map_export",
        on_click=st.session_state.__setitem__,
        args=("map_export_view", export_view),
        help="Draws this view as a printable A4 landscape map (PNG and PDF) for the minutes",
    )
else:
    with widgets.running("Preparing the map for download…"):
        files = cache.map_export(choices.store_dir, choices.stamp, choices.months, **export_args)
    for col, fmt, mime in ((e1, "png", "image/png"), (e2, "pdf", "application/pdf")):
        col.download_button(
            f"Download the map ({fmt.upper()})",
            files[fmt],
            file_name=f"hotspot_map.{fmt}",
            mime=mime,
            key=f"dl_map_{fmt}",
            on_click="ignore",
            help="This view as a printable A4 landscape map for the minutes",
        )
operations = cache.partner_layers(choices.store_dir, choices.stamp).get("operations")
if operations is not None and "operations" in layer_names:
    wide = operations[maps.borough_wide(operations, extent_m2=float(units.area.sum()))]
    if len(wide):
        dates = (
            wide.sort_values("start_date")
            .groupby("name", sort=False)["start_date"]
            .agg(lambda d: ", ".join(f"{t:%d %b %Y}" for t in d))
        )
        st.caption(
            "Borough-wide operations, listed rather than drawn (they would cover every hotspot): "
            + "; ".join(f"**{name}** {when}" for name, when in dates.items())
        )

if selected is None:
    st.subheader("Named hotspot areas")
    cols = [
        c
        for c in (
            schema.AREA_ID,
            schema.AREA_NAME,
            schema.PATTERN,
            schema.PREDICTED_N,
            schema.N,
            schema.HARM,
            "share_of_crime",
            schema.WARD_NAME,
            "top_street",
        )
        if c in result.areas.columns
    ]
    widgets.table(
        result.areas.sort_values(schema.PREDICTED_N, ascending=False, kind="mergesort")
        if schema.PREDICTED_N in result.areas.columns
        else result.areas,
        columns=cols,
    )
    evidence = result.metadata.get("priority", {}).get("evidence")
    if evidence:
        st.info(evidence)
    st.caption("Click a hotspot on the map, or choose it above, for its story.")
else:
    area = result.areas.set_index(schema.AREA_ID).loc[selected]
    st.subheader(f"{area[schema.AREA_NAME]} ({selected})")
    story, facts = cache.area_story(
        choices.store_dir, choices.stamp, choices.months, area_id=selected, months_label=choices.months_label, **args
    )
    with st.container(border=True, key="hotspot_story"):
        st.markdown(story)
    a1, a2, a3 = st.columns(3)
    a1.metric("Incidents", display.format_value(schema.N, area[schema.N]))
    a2.metric("Harm (crime-days)", display.format_value(schema.HARM, area[schema.HARM]))
    a3.metric("Share of crime", display.format_value("share_of_crime", area.get("share_of_crime")))
    series = cache.area_series(choices.store_dir, choices.stamp, choices.months, area_id=selected, **args)
    st.caption(f"Incidents per {periods.period_word(result.cube.params['period'])} in this area")
    marks = trends.operation_marks(
        cache.partner_layers(choices.store_dir, choices.stamp).get("operations"),
        result.cube.period_keys,
        period=result.cube.params["period"],
    )
    widgets.line_chart(series.rename("Incidents").to_frame(), height=160, y_title="Incidents", marks=marks)
    with st.expander("Why each cell is a hot spot (the test's own words)"):
        in_area = units[schema.AREA_ID] == selected
        for text in units.loc[in_area, schema.EXPLANATION].dropna().unique()[:5]:
            st.markdown(f"- {text}")
