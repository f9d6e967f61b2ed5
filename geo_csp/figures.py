"""Static figures for reports and evidence packs: hotspot maps and 3-year monthly trend charts.

Maps are drawn in EPSG:27700 with matplotlib and carry what a printed map needs: a legend, a scale bar
in metres (matplotlib-scalebar; one data unit is one metre in British National Grid), a north arrow
(grid north, which is within a degree of true north across England and Wales), the attribution
(Open Government Licence and the boundary copyright; OpenStreetMap only when an OSM layer is drawn)
and, for demo data, SYNTHETIC stamped diagonally across the figure. No basemap tiles are fetched:
everything is readable from the boundaries, hotspot cells and points alone.

Names on a figure come from input files (area, ward and place names, categories, measure and
operation names), so every figure is drawn with mathtext and TeX off (:func:`literal_text`): a
``$x$``, ``\\``, ``_``, ``%`` or ``{}`` in a name is printed as typed, never typeset or refused,
and a legend label starting with ``_`` is kept (matplotlib hides such labels by default).
"""

from __future__ import annotations

import base64
import functools
import io
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import ParamSpec, TypeVar

import geopandas as gpd
import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import pandas as pd  # noqa: E402
from matplotlib.artist import Artist  # noqa: E402
from matplotlib.axes import Axes  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.lines import Line2D  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402

from geo_csp import periods, schema, trends  # noqa: E402
from geo_csp._errors import SchemaError  # noqa: E402
from geo_csp._validate import require_working_crs  # noqa: E402
from geo_csp.settings import (  # noqa: E402
    BOUNDARY_ATTRIBUTION,
    OGL_ATTRIBUTION,
    OSM_ATTRIBUTION,
    SNAP_POINT_SHORT,
    SYNTHETIC_LABEL,
    WORKING_CRS,
)

__all__ = [
    "AREA_COLOUR",
    "CATEGORY_COLOURS",
    "add_north_arrow",
    "add_scalebar",
    "attribution_text",
    "figure_texts",
    "figure_to_data_uri",
    "figure_bytes",
    "hotspot_figure",
    "OPERATION_GID",
    "literal_text",
    "meeting_map",
    "save_figure",
    "stamp_synthetic",
    "trend_chart",
]

#: Fill colours of the Chainey / sfhotspot categories (ColorBrewer RdBu, hot = red).
CATEGORY_COLOURS = {
    "persistent hotspot": "#b2182b",
    "emerging hotspot": "#ef8a62",
    "intermittent hotspot": "#f4a582",
    "former hotspot": "#fddbc7",
    "mixed hot/coldspot": "#c2a5cf",
    "former coldspot": "#d1e5f0",
    "intermittent coldspot": "#92c5de",
    "emerging coldspot": "#67a9cf",
    "persistent coldspot": "#2166ac",
}
_P = ParamSpec("_P")
_R = TypeVar("_R")

AREA_COLOUR = "#1b7837"  # outline of the evidence-pack area
#: ``gid`` of the artists of an operation marker on :func:`trend_chart`: the line, the band and the name.
OPERATION_GID = {"line": "operation-marker", "band": "operation-band", "name": "operation-name"}
POINT_COLOUR = "#222222"


def literal_text(draw: Callable[_P, _R]) -> Callable[_P, _R]:
    """``draw`` run with mathtext and TeX off, so every text it creates is printed as given.

    Matplotlib reads ``text.parse_math`` when a text is created, so the texts keep the setting when
    the figure is saved later.
    """

    @functools.wraps(draw)
    def literal(*args: _P.args, **kwargs: _P.kwargs) -> _R:
        with matplotlib.rc_context({"text.parse_math": False, "text.usetex": False}):
            return draw(*args, **kwargs)

    return literal


def attribution_text(*, osm: bool = False) -> str:
    """The attribution printed on every map."""
    parts = [OGL_ATTRIBUTION + ".", BOUNDARY_ATTRIBUTION + ".", SNAP_POINT_SHORT]
    if osm:
        parts.append(OSM_ATTRIBUTION + ".")
    return " ".join(parts)


def add_scalebar(ax: Axes) -> None:
    """A scale bar in metres (the axes must be in EPSG:27700, one unit = one metre)."""
    from matplotlib_scalebar.scalebar import ScaleBar

    ax.add_artist(ScaleBar(1.0, units="m", location="lower left", box_alpha=0.8, length_fraction=0.25))


def add_north_arrow(ax: Axes) -> None:
    """An arrow and "N" in the top-right corner (grid north)."""
    ax.annotate(
        "N",
        xy=(0.95, 0.97),
        xytext=(0.95, 0.86),
        xycoords="axes fraction",
        ha="center",
        va="center",
        fontsize=12,
        fontweight="bold",
        arrowprops={"facecolor": "black", "width": 4, "headwidth": 12, "headlength": 10},
    )


def stamp_synthetic(fig: Figure) -> None:
    """Stamp SYNTHETIC diagonally across the figure (demo data)."""
    fig.text(
        0.5,
        0.5,
        SYNTHETIC_LABEL,
        fontsize=64,
        color="red",
        alpha=0.18,
        rotation=30,
        ha="center",
        va="center",
        fontweight="bold",
        zorder=100,
    )


def _check_crs(frame: gpd.GeoDataFrame | None, name: str) -> None:
    if frame is not None:
        require_working_crs(frame, f"`{name}`")


def _check_figure_frames(
    *,
    borough: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | None,
    units: gpd.GeoDataFrame | None,
    points: gpd.GeoDataFrame | None,
    context_units: gpd.GeoDataFrame | None,
    wards: gpd.GeoDataFrame | None,
) -> None:
    """Refuse a frame of :func:`hotspot_figure` not in EPSG:27700, or units without a category column."""
    for frame, name in (
        (borough, "borough"),
        (area, "area"),
        (units, "units"),
        (points, "points"),
        (context_units, "context_units"),
        (wards, "wards"),
    ):
        _check_crs(frame, name)
    for frame, name in ((units, "units"), (context_units, "context_units")):
        if frame is not None and schema.CATEGORY not in frame.columns:
            raise SchemaError(f"`{name}` need a {schema.CATEGORY!r} column to colour the map")


def _draw_units(ax: Axes, units: gpd.GeoDataFrame | None, context_units: gpd.GeoDataFrame | None) -> list[Artist]:
    """Draw the context units (pale) and the units by class; their legend handles."""
    handles: list[Artist] = []
    near = _coloured(context_units)
    if len(near):
        near.plot(
            ax=ax,
            color=near[schema.CATEGORY].astype(str).map(CATEGORY_COLOURS).to_numpy(),
            alpha=0.35,
            edgecolor="white",
            linewidth=0.2,
        )
    shown = _coloured(units)
    around = set(near[schema.CATEGORY].astype(str))
    for category, colour in CATEGORY_COLOURS.items():
        part = shown[shown[schema.CATEGORY].astype(str) == category]
        if len(part):
            part.plot(ax=ax, color=colour, edgecolor="white", linewidth=0.2)
            handles.append(Patch(facecolor=colour, edgecolor="none", label=f"{category} ({len(part)})"))
        elif category in around:
            handles.append(Patch(facecolor=colour, edgecolor="none", label=f"{category} (outside the area only)"))
    if len(near):
        handles.append(
            Patch(facecolor="#bbbbbb", alpha=0.35, edgecolor="none", label="Paler: cells outside the report area")
        )
    return handles


def _draw_points(ax: Axes, points: gpd.GeoDataFrame | None) -> list[Artist]:
    """Draw the incident points; their legend handle (none without points)."""
    if points is None or not len(points):
        return []
    points.plot(ax=ax, color=POINT_COLOUR, markersize=2, alpha=0.5)
    return [
        Line2D(
            [],
            [],
            marker="o",
            linestyle="",
            color=POINT_COLOUR,
            markersize=3,
            label=f"Incidents ({len(points):,}, police.uk snap points)",
        )
    ]


def _draw_area(ax: Axes, area: gpd.GeoDataFrame | None, *, zoom_to_area: bool) -> list[Artist]:
    """Outline the report area (framing the map on it when ``zoom_to_area``); its legend handle."""
    if area is None or not len(area):
        return []
    area.boundary.plot(ax=ax, color=AREA_COLOUR, linewidth=2.5)
    if zoom_to_area:
        x0, y0, x1, y1 = area.total_bounds
        pad = max(x1 - x0, y1 - y0) * 0.35 + 200.0
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
    return [Line2D([], [], color=AREA_COLOUR, linewidth=2.5, label="Report area")]


@literal_text
def hotspot_figure(
    *,
    borough: gpd.GeoDataFrame,
    area: gpd.GeoDataFrame | None = None,
    units: gpd.GeoDataFrame | None = None,
    points: gpd.GeoDataFrame | None = None,
    context_units: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    title: str = "",
    synthetic: bool = False,
    zoom_to_area: bool = True,
    osm: bool = False,
    figsize_in: tuple[float, float] = (8.0, 8.0),
) -> Figure:
    """A static hotspot map in EPSG:27700.

    Parameters
    ----------
    borough
        Outline(s) drawn as the base layer.
    area
        The report's area, outlined in :data:`AREA_COLOUR`.
    units
        Hotspot units with a ``category`` column, filled by :data:`CATEGORY_COLOURS` (no-pattern units
        are left unfilled); the legend counts them per class.
    points
        Incident points (sensitive: never on a public map).
    context_units
        Hotspot units around the area (outside it), drawn paler for context.
    wards
        Ward polygons drawn as thin grey lines for context (labelled with ``ward_name`` on a zoomed map).
    title
        Title above the map.
    synthetic
        Stamp SYNTHETIC across the figure.
    zoom_to_area
        Frame the map on ``area`` (with a margin) rather than the whole borough.
    osm
        Add the OpenStreetMap attribution (when an OSM layer was drawn by the caller).
    figsize_in
        Figure size in inches.
    """
    _check_figure_frames(
        borough=borough, area=area, units=units, points=points, context_units=context_units, wards=wards
    )
    fig, ax = plt.subplots(figsize=figsize_in)
    if wards is not None and len(wards):
        wards.boundary.plot(ax=ax, color="#9a9a9a", linewidth=0.6, linestyle="--")
    borough.boundary.plot(ax=ax, color="#555555", linewidth=1.0)
    handles: list[Artist] = [Line2D([], [], color="#555555", linewidth=1.0, label="Borough boundary")]
    if wards is not None and len(wards):
        handles.append(Line2D([], [], color="#9a9a9a", linewidth=0.6, linestyle="--", label="Ward boundary"))
    handles += _draw_units(ax, units, context_units)
    handles += _draw_points(ax, points)
    handles += _draw_area(ax, area, zoom_to_area=zoom_to_area)
    ax.set_aspect("equal")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    if wards is not None and len(wards) and zoom_to_area and area is not None and len(area):
        _label_wards(ax, wards)
    # below the map, so the legend never hides cells or points
    ax.legend(handles=handles, loc="upper center", bbox_to_anchor=(0.5, -0.01), ncol=2, fontsize=8, frameon=False)
    add_scalebar(ax)
    add_north_arrow(ax)
    if title:
        ax.set_title(title, fontsize=12)
    fig.text(0.01, 0.01, attribution_text(osm=osm), fontsize=6.5, ha="left", va="bottom", wrap=True)
    if synthetic:
        stamp_synthetic(fig)
    fig.tight_layout(rect=(0, 0.03, 1, 1))
    return fig


def _coloured(units: gpd.GeoDataFrame | None) -> gpd.GeoDataFrame:
    """The units whose category has a colour (an empty frame for ``None``)."""
    if units is None:
        return gpd.GeoDataFrame({schema.CATEGORY: []}, geometry=[], crs=WORKING_CRS)
    return units[units[schema.CATEGORY].astype(str).isin(list(CATEGORY_COLOURS))]


def _label_wards(ax: Axes, wards: gpd.GeoDataFrame) -> None:
    """Ward names at a point inside each ward that lies in the map's extent."""
    x0, x1 = ax.get_xlim()
    y0, y1 = ax.get_ylim()
    name_col = schema.WARD_NAME if schema.WARD_NAME in wards.columns else None
    if name_col is None:
        return
    clipped = wards.clip((x0, y0, x1, y1))
    clipped = clipped[~clipped.geometry.is_empty]
    pts = clipped.geometry.representative_point()
    for (px, py), label in zip(zip(pts.x, pts.y), clipped[name_col].astype(str)):
        ax.text(
            px,
            py,
            label,
            fontsize=7,
            color="#555555",
            ha="center",
            va="center",
            style="italic",
            zorder=5,
        )


@literal_text
def trend_chart(
    series: pd.DataFrame,
    *,
    title: str = "",
    ylabel: str = "Incidents per month",
    synthetic: bool = False,
    operations: pd.DataFrame | None = None,
    figsize_in: tuple[float, float] = (9.0, 4.0),
) -> Figure:
    """A monthly trend chart: one line per column, months ("YYYY-MM") on the index.

    Missing values (e.g. suppressed in public mode) are drawn as gaps, not zeros. ``operations``
    (``name``, ``start_date``, ``end_date``; :func:`geo_csp.layers.read_operations`) that overlap the
    months shown are marked (:func:`geo_csp.trends.operation_marks`): a dashed line at the month each
    starts in (police.uk months have no day, so an operation starting mid-month marks its month; one
    started before the chart marks its first month) with its name (the names of operations marked at the
    same month joined by " · "), shaded to the last month it covers.
    The artists carry the gids of :data:`OPERATION_GID`.
    """
    if series.empty:
        raise SchemaError("trend_chart needs at least one month of data")
    fig, ax = plt.subplots(figsize=figsize_in)
    months = periods.validate_months(series.index.astype(str).to_numpy(), name="trend_chart index")
    x = pd.PeriodIndex(months, freq="M").to_timestamp()
    _mark_operations(ax, trends.operation_marks(operations, periods.months_to_index(months)), x)
    lines = [
        ax.plot(x, series[col].to_numpy(dtype=float), marker="o", markersize=3, linewidth=1.5, label=str(col))[0]
        for col in series.columns
    ]
    ax.set_ylabel(ylabel)
    ax.set_ylim(bottom=0)
    ax.grid(True, alpha=0.3)
    # below the axes, so the legend never covers a line
    ax.legend(  # handles given, so a series named "_..." keeps its legend row
        handles=lines,
        fontsize=8,
        loc="upper center",
        bbox_to_anchor=(0.5, -0.08),
        ncol=max(1, len(series.columns)),
        frameon=False,
    )
    if title:
        ax.set_title(title, fontsize=11)
    fig.text(0.01, 0.01, OGL_ATTRIBUTION + ".", fontsize=6.5, ha="left", va="bottom")
    if synthetic:
        stamp_synthetic(fig)
    fig.tight_layout(rect=(0, 0.04, 1, 1))
    return fig


def _mark_operations(ax: Axes, marks: pd.DataFrame, x: pd.DatetimeIndex) -> None:
    """Draw :func:`geo_csp.trends.operation_marks` on a monthly chart whose month starts are ``x``."""
    for row in marks.itertuples():
        start = x[int(row.first_index)]
        ax.axvline(start, color="#555555", linestyle="--", linewidth=1.0, zorder=1, gid=OPERATION_GID["line"])
        if row.last_index != row.first_index:
            ax.axvspan(
                start,
                x[int(row.last_index)] + pd.offsets.MonthBegin(1),
                color="#7f7f7f",
                alpha=0.12,
                zorder=0,
                gid=OPERATION_GID["band"],
            )
    for first, names in marks.groupby("first_index", sort=False)["name"]:
        ax.text(
            x[int(first)],
            0.98,
            " " + " · ".join(names),
            transform=ax.get_xaxis_transform(),
            rotation=90,
            ha="right",
            va="top",
            fontsize=7,
            color="#333333",
            gid=OPERATION_GID["name"],
        )


def _draw_named_areas(ax: Axes, areas: gpd.GeoDataFrame | None) -> list[Artist]:
    """Outline and label the named hotspot areas of :func:`meeting_map`; their legend handle."""
    handles: list[Artist] = []
    if areas is not None and len(areas):
        areas.boundary.plot(ax=ax, color="#000000", linewidth=1.6)
        handles.append(Line2D([], [], color="#000000", linewidth=1.6, label="Named hotspot area"))
        points = areas.geometry.representative_point()
        for x, y, name in zip(points.x, points.y, areas[schema.AREA_NAME].astype(str), strict=True):
            ax.annotate(
                name,
                (x, y),
                xytext=(6, 6),
                textcoords="offset points",
                fontsize=8,
                fontweight="bold",
                zorder=6,
                bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.75},
            )
    return handles


def _draw_route(
    ax: Axes, route: gpd.GeoDataFrame | None, stops: pd.DataFrame | None, hub: gpd.GeoDataFrame | None
) -> tuple[list[Artist], bool]:
    """Draw a walkabout's route (framing the map on it), numbered stops and hub; the legend handles, and
    whether the map was framed on the route."""
    handles: list[Artist] = []
    framed = False
    if route is not None and len(route):
        route.plot(ax=ax, color="#e31a1c", linewidth=2.5, zorder=7)
        handles.append(Line2D([], [], color="#e31a1c", linewidth=2.5, label="Walkabout route"))
        x0, y0, x1, y1 = route.total_bounds
        pad = max(x1 - x0, y1 - y0) * 0.12 + 150.0
        ax.set_xlim(x0 - pad, x1 + pad)
        ax.set_ylim(y0 - pad, y1 + pad)
        framed = True
    if stops is not None and len(stops):
        for x, y, order in zip(stops["easting"], stops["northing"], stops["order"], strict=True):
            ax.annotate(
                str(int(order)),
                (x, y),
                ha="center",
                va="center",
                fontsize=8,
                color="white",
                fontweight="bold",
                zorder=9,
                bbox={"boxstyle": "circle,pad=0.25", "fc": "#e31a1c", "ec": "white", "lw": 1.2},
            )
    if hub is not None and len(hub):
        point = hub.geometry.iloc[0]
        ax.annotate(
            "Start / finish",
            (point.x, point.y),
            ha="center",
            va="center",
            fontsize=7,
            color="white",
            fontweight="bold",
            zorder=9,
            bbox={"boxstyle": "round,pad=0.3", "fc": "#ff7f00", "ec": "white"},
        )
    return handles, framed


@literal_text
def meeting_map(
    units: gpd.GeoDataFrame,
    *,
    fill: Sequence[str],
    legend: Sequence[tuple[str, str]],
    legend_title: str = "",
    areas: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    route: gpd.GeoDataFrame | None = None,
    stops: pd.DataFrame | None = None,
    hub: gpd.GeoDataFrame | None = None,
    title: str = "",
    subtitle: str = "",
    synthetic: bool = False,
    figsize_in: tuple[float, float] = (11.7, 8.3),
) -> Figure:
    """The map on screen as a printable figure (A4 landscape by default), for the minutes.

    Parameters
    ----------
    units
        The units drawn (EPSG:27700), filled with ``fill`` (one colour each, e.g. from
        :func:`geo_csp.maps.unit_colours`, so print and screen agree).
    legend, legend_title
        Legend rows (label, colour) and their heading.
    areas
        Named hotspot areas: black outlines with their names.
    wards
        Ward boundaries and names, for orientation.
    route, stops, hub
        A walkabout: the route line, numbered stops (``order``, ``easting``, ``northing``) and the start
        hub; the map is then framed on the route.
    title, subtitle
        Printed above the map (what, when, which filters).
    synthetic
        Stamp SYNTHETIC across the figure.
    """
    for frame, name in ((units, "units"), (areas, "areas"), (wards, "wards"), (route, "route"), (hub, "hub")):
        _check_crs(frame, name)
    if len(fill) != len(units):
        raise SchemaError(f"`fill` has {len(fill)} colours for {len(units)} units; give one per unit")
    fig, ax = plt.subplots(figsize=figsize_in)
    units.plot(ax=ax, color=list(fill), edgecolor="#9a9a9a", linewidth=0.15)
    handles: list[Artist] = [Patch(facecolor=c, edgecolor="#777777", label=lbl) for lbl, c in legend]
    if wards is not None and len(wards):
        wards.boundary.plot(ax=ax, color="#666666", linewidth=0.6, linestyle="--")
        handles.append(Line2D([], [], color="#666666", linewidth=0.6, linestyle="--", label="Ward boundary"))
    handles += _draw_named_areas(ax, areas)
    route_handles, framed = _draw_route(ax, route, stops, hub)
    handles += route_handles
    ax.set_aspect("equal")
    ax.set_axis_off()
    if wards is not None and len(wards) and schema.WARD_NAME in wards.columns and not framed:
        _label_wards(ax, wards)
    ax.legend(
        handles=handles,
        title=legend_title or None,
        loc="upper left",
        bbox_to_anchor=(1.01, 1.0),
        fontsize=8,
        title_fontsize=9,
        frameon=False,
    )
    add_scalebar(ax)
    add_north_arrow(ax)
    if title:
        fig.suptitle(title, fontsize=13, x=0.02, ha="left")
    if subtitle:
        fig.text(0.02, 0.925, subtitle, fontsize=9, ha="left", color="#333333")
    fig.text(0.01, 0.01, attribution_text(), fontsize=6.5, ha="left", va="bottom")
    if synthetic:
        stamp_synthetic(fig)
    fig.tight_layout(rect=(0, 0.03, 1, 0.91))
    return fig


def figure_bytes(fig: Figure, *, format: str = "png", dpi: int = 150) -> bytes:  # noqa: A002 - matplotlib's name
    """The figure as PNG or PDF bytes; the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format=format, dpi=dpi)
    plt.close(fig)
    return buf.getvalue()


def figure_files(fig: Figure, *, formats: Sequence[str] = ("png", "pdf"), dpi: int = 150) -> dict[str, bytes]:
    """The figure in each of ``formats`` (drawn once, saved to each), keyed by format; the figure is closed."""
    out: dict[str, bytes] = {}
    for fmt in formats:
        buf = io.BytesIO()
        fig.savefig(buf, format=fmt, dpi=dpi)
        out[fmt] = buf.getvalue()
    plt.close(fig)
    return out


def save_figure(fig: Figure, path: str | Path, *, dpi: int = 150) -> Path:
    """Save a figure (format from the suffix) and close it."""
    path = Path(path)
    fig.savefig(path, dpi=dpi)
    plt.close(fig)
    return path


def figure_to_data_uri(fig: Figure, *, dpi: int = 130) -> str:
    """The figure as a PNG ``data:`` URI (for self-contained HTML); the figure is closed."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi)
    plt.close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def figure_texts(fig: Figure) -> Sequence[str]:
    """Every text drawn on a figure (for checks)."""
    return [t.get_text() for t in fig.findobj(matplotlib.text.Text)]
