"""Static maps and trend charts: the furniture every printed map needs, SYNTHETIC on demo output."""

from __future__ import annotations

from pathlib import Path

import geopandas as gpd
import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
import shapely
from hypothesis import given, settings
from hypothesis import strategies as st
from matplotlib_scalebar.scalebar import ScaleBar

from geo_csp import schema
from geo_csp._errors import CRSError, SchemaError
from geo_csp.figures import (
    CATEGORY_COLOURS,
    figure_texts,
    figure_to_data_uri,
    hotspot_figure,
    save_figure,
    trend_chart,
)
from geo_csp.settings import BOUNDARY_ATTRIBUTION, OGL_ATTRIBUTION, OSM_ATTRIBUTION, SNAP_POINT_SHORT, SYNTHETIC_LABEL

ART = Path(__file__).parent / "_artifacts"
BOROUGH = gpd.GeoDataFrame(geometry=[shapely.box(380_000, 405_000, 386_000, 412_000)], crs="EPSG:27700")
AREA = gpd.GeoDataFrame(geometry=[shapely.box(382_000, 408_000, 383_000, 409_000)], crs="EPSG:27700")
UNITS = gpd.GeoDataFrame(
    {schema.CATEGORY: ["persistent hotspot", "emerging hotspot", "no pattern"]},
    geometry=[
        shapely.box(382_000, 408_000, 382_500, 408_500),
        shapely.box(382_500, 408_000, 383_000, 408_500),
        shapely.box(382_000, 408_500, 382_500, 409_000),
    ],
    crs="EPSG:27700",
)


def test_map_has_legend_scalebar_north_arrow_attribution_and_stamp():
    pts = gpd.GeoDataFrame(geometry=gpd.points_from_xy([382_200, 382_700], [408_200, 408_300]), crs="EPSG:27700")
    fig = hotspot_figure(borough=BOROUGH, area=AREA, units=UNITS, points=pts, title="Test", synthetic=True)
    ax = fig.axes[0]
    bars = [a for a in ax.artists if isinstance(a, ScaleBar)]
    assert len(bars) == 1 and bars[0].dx == 1.0 and bars[0].units == "m"
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "Borough boundary",
        "persistent hotspot (1)",
        "emerging hotspot (1)",
        "Incidents (2, police.uk snap points)",
        "Report area",
    ]
    texts = " ".join(figure_texts(fig))
    assert "N" in figure_texts(fig) and SYNTHETIC_LABEL in figure_texts(fig)
    assert OGL_ATTRIBUTION in texts and BOUNDARY_ATTRIBUTION in texts and OSM_ATTRIBUTION not in texts
    assert SNAP_POINT_SHORT in texts
    # framed on the area with a margin, equal aspect (metres both ways)
    x0, x1 = ax.get_xlim()
    assert x0 < 382_000 and x1 > 383_000 and x1 - x0 < 6_000
    ART.mkdir(exist_ok=True)
    path = save_figure(fig, ART / "figure_map.png", dpi=80)
    img = mpimg.imread(path)[..., :3]
    # the persistent-hotspot fill is on the image
    target = np.array([int(CATEGORY_COLOURS["persistent hotspot"][i : i + 2], 16) for i in (1, 3, 5)]) / 255
    assert (np.abs(img - target).max(axis=2) < 0.02).sum() > 100


def test_map_without_stamp_or_points_and_osm_attribution():
    fig = hotspot_figure(borough=BOROUGH, units=UNITS, osm=True)
    texts = figure_texts(fig)
    assert SYNTHETIC_LABEL not in texts
    assert any(OSM_ATTRIBUTION in t for t in texts)
    assert figure_to_data_uri(fig).startswith("data:image/png;base64,")


def test_trend_chart_gaps_and_stamp():
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    data = pd.DataFrame({"Area": np.arange(36.0), "Borough / 10": np.full(36, 20.0)}, index=months)
    data.iloc[5, 0] = np.nan
    fig = trend_chart(data, title="Trend", synthetic=True)
    line = fig.axes[0].get_lines()[0]
    assert len(line.get_xdata()) == 36 and np.isnan(line.get_ydata()[5])
    assert SYNTHETIC_LABEL in figure_texts(fig)
    save_figure(fig, ART / "figure_trend.png", dpi=60)


def test_errors():
    with pytest.raises(CRSError, match="reproject"):
        hotspot_figure(borough=BOROUGH.to_crs("EPSG:4326"))
    with pytest.raises(SchemaError, match="category"):
        hotspot_figure(borough=BOROUGH, units=UNITS.drop(columns=schema.CATEGORY))
    with pytest.raises(SchemaError, match="at least one month"):
        trend_chart(pd.DataFrame())


def _bbox(fig, artist):
    fig.canvas.draw()
    return artist.get_window_extent(fig.canvas.get_renderer())


def test_legends_sit_outside_the_data():
    months = [f"{y}-{m:02d}" for y in (2023, 2024, 2025) for m in range(1, 13)]
    data = pd.DataFrame({"Area": np.full(36, 200.0), "Borough / 10": np.full(36, 190.0)}, index=months)
    fig = trend_chart(data)
    ax = fig.axes[0]
    legend, axes = _bbox(fig, ax.get_legend()), _bbox(fig, ax)
    assert legend.y1 <= axes.y0 + 1, "the trend legend overlaps the plotting area"
    fig = hotspot_figure(borough=BOROUGH, area=AREA, units=UNITS)
    ax = fig.axes[0]
    assert _bbox(fig, ax.get_legend()).y1 <= _bbox(fig, ax).y0 + 1, "the map legend covers the map"


def test_map_context_wards_and_nearby_cells():
    wards = gpd.GeoDataFrame(
        {schema.WARD_NAME: ["West", "East"]},
        geometry=[shapely.box(380_000, 405_000, 382_600, 412_000), shapely.box(382_600, 405_000, 386_000, 412_000)],
        crs="EPSG:27700",
    )
    near = gpd.GeoDataFrame(
        {schema.CATEGORY: ["former hotspot", "persistent hotspot"]},
        geometry=[shapely.box(383_000, 408_000, 383_500, 408_500), shapely.box(381_500, 408_000, 382_000, 408_500)],
        crs="EPSG:27700",
    )
    fig = hotspot_figure(borough=BOROUGH, area=AREA, units=UNITS, context_units=near, wards=wards)
    ax = fig.axes[0]
    texts = figure_texts(fig)
    assert "West" in texts and "East" in texts  # ward names label the zoomed map
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels == [
        "Borough boundary",
        "Ward boundary",
        "persistent hotspot (1)",
        "emerging hotspot (1)",
        "former hotspot (outside the area only)",
        "Paler: cells outside the report area",
        "Report area",
    ]
    # the extent reaches beyond the area by at least 200 m on every side
    (x0, x1), (y0, y1) = ax.get_xlim(), ax.get_ylim()
    assert x0 <= 381_800 and x1 >= 383_200 and y0 <= 407_800 and y1 >= 409_200
    assert ax.get_xlabel() == "" and ax.get_ylabel() == ""


# --------------------------------------------------------------------------------------------------
# User text is printed literally: never mathtext, never TeX, never a hidden legend row
# --------------------------------------------------------------------------------------------------
#: Names as partners type them that mathtext would typeset ("$x$" -> italic x), refuse ("\\nosuchcommand"
#: raises when drawn) or a legend would hide (a label starting with "_").
MATH_NAMES = ["$x$", "Ward $5 & $10", "$\\nosuchcommand{a}$", "back \\\\ slash", "_hidden", "a_b^c", "100%", "{}"]


def _pdf_text(fig: object) -> str:
    """The text a reader of the figure's PDF sees (as pdfium extracts it), without whitespace."""
    from pypdfium2 import PdfDocument

    from geo_csp.figures import figure_bytes

    pdf = PdfDocument(figure_bytes(fig, format="pdf"))
    return "".join("".join(pdf[i].get_textpage().get_text_range().split()) for i in range(len(pdf)))


def _two_boxes(column: str, names: list[str]) -> gpd.GeoDataFrame:
    boxes = [shapely.box(382_000, 408_000, 382_500, 408_500), shapely.box(382_500, 408_500, 383_000, 409_000)]
    return gpd.GeoDataFrame({column: names}, geometry=boxes, crs="EPSG:27700")


def _printed(name: str, text: str) -> bool:
    return "".join(name.split()) in text


def test_trend_chart_prints_series_names_and_title_as_typed():
    monthly = pd.DataFrame(
        {name: [3.0, 4.0, 2.0] for name in MATH_NAMES}, index=pd.Index(["2023-01", "2023-02", "2023-03"])
    )
    fig = trend_chart(monthly, title="Area $y$ \\ {z}_1 at 5%")
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == MATH_NAMES  # "_hidden" kept
    text = _pdf_text(fig)
    for name in [*MATH_NAMES, "Area $y$ \\ {z}_1 at 5%"]:
        assert _printed(name, text), f"{name!r} not printed as typed"


def test_hotspot_figure_prints_title_and_ward_names_as_typed():
    wards = _two_boxes(schema.WARD_NAME, ["$w$ ward", "Low_er {East}"])
    fig = hotspot_figure(borough=BOROUGH, area=AREA, units=UNITS, wards=wards, title="$\\alpha$ 50% \\ area_1")
    text = _pdf_text(fig)
    for name in ["$w$ward", "Low_er{East}", "$\\alpha$ 50% \\ area_1"]:
        assert _printed(name, text), f"{name!r} not printed as typed"


def test_meeting_map_prints_legend_area_names_title_and_subtitle_as_typed():
    from geo_csp.figures import meeting_map

    areas = _two_boxes(schema.AREA_NAME, ["$Op$ Nightsafe_1", "Hub {2} 100%"])
    legend = [(name, "#cccccc") for name in MATH_NAMES]
    fig = meeting_map(
        UNITS,
        fill=["#cccccc"] * len(UNITS),
        legend=legend,
        legend_title="$Harm$ per_ward",
        areas=areas,
        title="$T$ {title}",
        subtitle="Shoplifting_$x$ \\ 10%",
    )
    text = _pdf_text(fig)
    for name in [*MATH_NAMES, "$Harm$ per_ward", "$Op$ Nightsafe_1", "Hub {2} 100%", "$T$ {title}"]:
        assert _printed(name, text), f"{name!r} not printed as typed"
    assert _printed("Shoplifting_$x$ \\ 10%", text)


@settings(max_examples=12, deadline=None)
@given(st.text(st.sampled_from(list("aZ0 $\\_^%{}~#&")), min_size=1, max_size=16).filter(str.strip))
def test_any_ascii_name_is_printed_as_typed(name: str) -> None:
    monthly = pd.DataFrame({name: [1.0, 2.0]}, index=pd.Index(["2023-01", "2023-02"]))
    assert _printed(name, _pdf_text(trend_chart(monthly, title=f"{name} title")))


def test_plotting_leaves_matplotlib_settings_as_they_were():
    import matplotlib

    trend_chart(pd.DataFrame({"$x$": [1.0]}, index=pd.Index(["2023-01"])))
    assert matplotlib.rcParams["text.parse_math"] is True  # only the figure's own texts are literal


def test_trend_chart_marks_operations_in_range() -> None:
    """Each operation overlapping the months gets a dashed line at its month and its name; longer ones a band."""
    from geo_csp.figures import OPERATION_GID

    ops = pd.DataFrame(
        {
            "name": ["Avro $x$ _a", "Lantern", "Old op"],
            "start_date": ["2023-05-14", "2023-06-01", "2020-01-01"],
            "end_date": ["2023-05-14", "2023-09-30", "2020-02-01"],
        }
    )
    months = [f"2023-{m:02d}" for m in range(1, 13)]
    fig = trend_chart(pd.DataFrame({"Area": np.arange(12.0)}, index=months), operations=ops)
    ax = fig.axes[0]
    lines = [ln for ln in ax.lines if ln.get_gid() == OPERATION_GID["line"]]
    assert [pd.Timestamp(ln.get_xdata()[0]).strftime("%Y-%m-%d") for ln in lines] == ["2023-05-01", "2023-06-01"]
    names = [t.get_text().strip() for t in ax.texts if t.get_gid() == OPERATION_GID["name"]]
    assert names == ["Avro $x$ _a", "Lantern"]  # printed as typed, the 2020 operation not drawn
    bands = [p for p in ax.patches if p.get_gid() == OPERATION_GID["band"]]
    assert len(bands) == 1
    x0, x1 = bands[0].get_x(), bands[0].get_x() + bands[0].get_width()
    import matplotlib.dates as mdates

    # from the start of June to the end of September
    assert mdates.num2date(x0).strftime("%Y-%m-%d") == "2023-06-01"
    assert mdates.num2date(x1).strftime("%Y-%m-%d") == "2023-10-01"
    plain = trend_chart(pd.DataFrame({"Area": np.arange(12.0)}, index=months), operations=ops.iloc[2:])
    assert not [ln for ln in plain.axes[0].lines if ln.get_gid() == OPERATION_GID["line"]]
