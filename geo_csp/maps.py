"""Folium maps of hotspots, named areas and partner layers that render with no internet.

Every map here is built by a pure function that returns a :class:`folium.Map` (or adds to one given
as ``m``, like geopandas' ``explore``). Maps never reach a CDN: folium's default scripts and styles
(Leaflet from jsDelivr, jQuery, Bootstrap, awesome-markers, Font Awesome) are replaced by Leaflet
1.9.4 shipped in ``geo_csp/app/assets/leaflet`` (BSD-2, see its LICENSE) and embedded as ``data:``
URLs, so a saved map or a streamlit-folium map works on networks that block tile and CDN servers.
Only core Leaflet is used (GeoJSON, circle markers, the layer control); the legend and the
SYNTHETIC label are plain HTML.

Basemap tiles are optional: ``"osm"`` (OpenStreetMap, with its attribution) or ``"light"`` (CARTO
Positron) add tiles, and a tile that fails to load leaves the vector layers drawn; ``basemap=None`` is
the offline map (police and council networks often block tile servers): no tile is requested, the map
says it is offline, and :func:`add_names` writes the places, wards and streets of the store's own data on
it (:func:`street_labels`: police.uk "On or near ..." snap-point names), so the room can still tell where a
hotspot is. Incidents are drawn as aggregated cells or polygons, never as one marker each. Tooltips and
legends use the plain names of :mod:`geo_csp.display` ("Incidents", "Harm (crime-days)").
"""

from __future__ import annotations

import base64
import functools
import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any, Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from pyproj import Transformer

from geo_csp import display, schema, settings
from geo_csp._errors import CRSError, ParameterError, SchemaError
from geo_csp._escape import html_text, html_values
from geo_csp.trends import ARCGIS_PATTERNS, CHAINEY_CATEGORIES, NO_PATTERN

__all__ = [
    "AREA_CLASS",
    "BASEMAPS",
    "BOROUGH_WIDE_SHARE",
    "CHANGE_COLUMN",
    "HOTSPOT_CHANGE_COLUMN",
    "HOTSPOT_CHANGE_OUTLINES",
    "CLASS_COLOURS",
    "NAME_CLASS",
    "OFFLINE_NOTE",
    "STOP_CLASS",
    "LAYER_CLASS_PREFIX",
    "LEAFLET_DIR",
    "UNIT_CLASS",
    "add_names",
    "add_route",
    "base_map",
    "borough_wide",
    "change_colours",
    "class_colour",
    "hotspot_map",
    "latlng_to_unit",
    "offline_assets",
    "street_labels",
    "value_colours",
    "zoom_for_bounds",
]

LEAFLET_DIR: Final = settings.PACKAGE_DIR / "app" / "assets" / "leaflet"

#: Tile layers by choice name: (URL template, attribution, max zoom).
BASEMAPS: Final = {
    "light": (
        "https://{s}.basemaps.cartocdn.com/light_all/{z}/{x}/{y}{r}.png",
        f"{settings.OSM_ATTRIBUTION} &copy; CARTO",
        19,
    ),
    "osm": ("https://tile.openstreetmap.org/{z}/{x}/{y}.png", settings.OSM_ATTRIBUTION, 19),
}

_HOT = ("#67000d", "#a50f15", "#cb181d", "#ef3b2c", "#fb6a4a", "#fc9272", "#fcbba1", "#fee0d2")
_COLD = ("#08306b", "#08519c", "#2171b5", "#4292c6", "#6baed6", "#9ecae1", "#c6dbef", "#deebf7")
_NONE_COLOUR: Final = "#d9d9d9"
#: Fill colour of every hotspot class (ArcGIS emerging hot spot patterns and Chainey categories).
CLASS_COLOURS: Final[dict[str, str]] = {
    **dict(zip(ARCGIS_PATTERNS[:8], _HOT, strict=True)),
    **dict(zip(ARCGIS_PATTERNS[8:16], _COLD, strict=True)),
    NO_PATTERN: _NONE_COLOUR,
    CHAINEY_CATEGORIES[0]: _HOT[1],  # persistent
    CHAINEY_CATEGORIES[1]: _HOT[3],  # emerging
    CHAINEY_CATEGORIES[2]: _HOT[6],  # former
    CHAINEY_CATEGORIES[3]: _HOT[4],  # intermittent
    CHAINEY_CATEGORIES[4]: _COLD[1],
    CHAINEY_CATEGORIES[5]: _COLD[3],
    CHAINEY_CATEGORIES[6]: _COLD[6],
    CHAINEY_CATEGORIES[7]: _COLD[4],
    CHAINEY_CATEGORIES[8]: "#984ea3",  # mixed
    CHAINEY_CATEGORIES[9]: _NONE_COLOUR,
}
#: CSS classes of the drawn shapes (so tests and stylesheets can find them).
UNIT_CLASS: Final = "geo-csp-unit"
AREA_CLASS: Final = "geo-csp-area"
LAYER_CLASS_PREFIX: Final = "geo-csp-layer-"
#: CSS class of the names written on the map (``geo-csp-name-place``, ``-ward``, ``-street`` by kind).
NAME_CLASS: Final = "geo-csp-name"
#: CSS class of a walkabout's numbered stop markers.
STOP_CLASS: Final = "geo-csp-stop"
#: Column of signed differences that :func:`hotspot_map` colours on a diverging scale (the change view).
CHANGE_COLUMN: Final = "n_change"
#: Entered / remained / left hot spot between the two months of a change view (outlined on the map).
HOTSPOT_CHANGE_COLUMN: Final = "hotspot_change"
#: Outline colour of each hot spot change.
HOTSPOT_CHANGE_OUTLINES: Final = {"entered": "#b2182b", "remained": "#000000", "left": "#2166ac"}
#: What the offline map says about itself.
OFFLINE_NOTE: Final = (
    "Offline map: no street tiles are loaded. Places, wards and streets are named from "
    "this store's own data; zoom in for street names."
)
#: Street names appear from this zoom level (the borough fits at about 12).
STREET_NAMES_FROM_ZOOM: Final = 14
_SEQUENTIAL: Final = ("#ffffcc", "#fed976", "#fd8d3c", "#e31a1c", "#800026")
_OTHER: Final = ("#1b9e77", "#d95f02", "#7570b3", "#e7298a", "#66a61e", "#e6ab02", "#a6761d", "#666666")
#: Decimal places of a degree kept in the map's GeoJSON (about 0.1 m).
DISPLAY_DECIMALS: Final = 6
_LEGEND_WIDTH_PX: Final = 250  # the legend's widest, bottom right; maps open fitted to the room left of it
_SIMPLIFY_DEG: Final = 5e-6  # partner-layer simplification tolerance, in degrees (about 0.4 m)
#: An operation whose footprint covers at least this share of the mapped units is drawn as borough-wide
#: (listed in the legend with its dates, not drawn over the hotspots).
BOROUGH_WIDE_SHARE: Final = 0.5
#: Stroke colours of the partner layers, by the layer names :mod:`geo_csp.layers` uses.
_LAYER_COLOURS: Final = {
    "cctv": "#1f78b4",
    "walkabouts": "#33a02c",
    "operations": "#6a3d9a",
    "hubs": "#ff7f00",
    "walkabout": "#e31a1c",
}


def _data_url(path: Path, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(path.read_bytes()).decode('ascii')}"


@functools.lru_cache(maxsize=1)
def offline_assets() -> tuple[tuple[tuple[str, str], ...], tuple[tuple[str, str], ...]]:
    """Leaflet's script and stylesheet as ``data:`` URLs, in folium's ``default_js``/``default_css`` form.

    The stylesheet's image references (layer-control icon, marker icons) are embedded too, so the
    layer control shows its icon offline.
    """
    js = _data_url(LEAFLET_DIR / "leaflet.js", "text/javascript")
    css_text = (LEAFLET_DIR / "leaflet.css").read_text(encoding="utf-8")

    def embed(match: re.Match[str]) -> str:
        image = LEAFLET_DIR / match.group(1)
        return f"url({_data_url(image, 'image/png')})" if image.exists() else match.group(0)

    css_text = re.sub(r"url\((images/[\w.\-]+\.png)\)", embed, css_text)
    css = "data:text/css;base64," + base64.b64encode(css_text.encode("utf-8")).decode("ascii")
    return (("leaflet", js),), (("leaflet_css", css),)


class _HtmlOverlay(MacroElement):
    """A fixed HTML box on the map (legend, SYNTHETIC label); no scripts, no external assets."""

    _template = Template(
        """
        {% macro header(this, kwargs) %}
        <style>
          .geo-csp-box { position: absolute; z-index: 1000; background: rgba(255,255,255,0.92);
            border: 1px solid #888; border-radius: 4px; padding: 6px 8px;
            font: 12px/1.35 sans-serif; color: #222; }
          .geo-csp-box .sw { display: inline-block; width: 12px; height: 12px; margin-right: 5px;
            vertical-align: -2px; border: 1px solid #555; }
          .geo-csp-box .ln { display: inline-block; width: 16px; height: 0; margin-right: 5px;
            vertical-align: 3px; border-top: 3px solid; }
          .geo-csp-box .dot { border-radius: 50%; border: 2px solid #fff; box-shadow: 0 0 0 1px #555; }
          .geo-csp-box .note { color: #444; }
          .geo-csp-synthetic { font-weight: bold; font-size: 15px; color: #b00; letter-spacing: 2px; }
          .geo-csp-label div { font: bold 13px/1.1 sans-serif; color: #111; white-space: nowrap;
            text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 3px #fff, 0 0 5px #fff; }
          .geo-csp-offline { color: #333; max-width: 330px; font-size: 11px; }
          .geo-csp-name span { position: absolute; transform: translate(-50%, -50%); white-space: nowrap;
            pointer-events: none; text-shadow: 0 0 2px #fff, 0 0 2px #fff, 0 0 4px #fff; }
          .geo-csp-name-place span { font: 600 12px/1 sans-serif; color: #3a2a14; }
          .geo-csp-name-ward span { font: italic 11px/1 sans-serif; color: #666; letter-spacing: 1px;
            text-transform: uppercase; }
          .geo-csp-name-street span { font: 10px/1 sans-serif; color: #234; display: none; }
          .geo-csp-show-streets .geo-csp-name-street span { display: inline; }
          .geo-csp-show-streets .geo-csp-name-ward span { display: none; }
          .geo-csp-stop div { width: 22px; height: 22px; margin: -11px 0 0 -11px; border-radius: 50%;
            background: #e31a1c; color: #fff; border: 2px solid #fff; box-shadow: 0 0 0 1px #600;
            font: bold 12px/22px sans-serif; text-align: center; }
          .geo-csp-stop-hub div { background: #ff7f00; width: auto; padding: 0 6px; border-radius: 11px;
            margin: -11px 0 0 -20px; white-space: nowrap; }
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="geo-csp-box {{ this.css_class }}" style="{{ this.position }}">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, css_class: str, position: str) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca ships no annotations
        self._name = "HtmlOverlay"
        self.body = body
        self.css_class = css_class
        self.position = position


def class_colour(label: str) -> str:
    """Fill colour of a hotspot class label (grey for no pattern; a fixed palette otherwise)."""
    if label in CLASS_COLOURS:
        return CLASS_COLOURS[label]
    return _OTHER[sum(map(ord, str(label))) % len(_OTHER)]


def value_colours(values: pd.Series, *, n_classes: int = 5) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Quantile-class colours of a numeric column and the legend rows (label, colour).

    Zero or missing values are grey; the rest fall into up to ``n_classes`` quantile classes.
    """
    v = pd.to_numeric(values, errors="coerce").to_numpy(dtype="float64")
    positive = np.isfinite(v) & (v > 0)
    colours = np.full(v.shape[0], _NONE_COLOUR, dtype=object)
    legend: list[tuple[str, str]] = [("0 or none", _NONE_COLOUR)]
    if positive.any():
        edges = np.unique(np.quantile(v[positive], np.linspace(0, 1, n_classes + 1)))
        if edges.size == 1:
            edges = np.array([edges[0], edges[0]])
        k = np.clip(np.searchsorted(edges, v[positive], side="right") - 1, 0, edges.size - 2)
        palette = np.array(_SEQUENTIAL[-(edges.size - 1) :] if edges.size - 1 < 5 else _SEQUENTIAL, dtype=object)
        colours[positive] = palette[k]
        legend += [(f"{_people(edges[i])} – {_people(edges[i + 1])}", str(palette[i])) for i in range(edges.size - 1)]
    return pd.Series(colours, index=values.index), legend


def _people(x: float) -> str:
    return f"{x:,.0f}" if abs(x) >= 10 else f"{x:.2g}"


_DOWN: Final = ("#08519c", "#4292c6", "#9ecae1")
_UP: Final = ("#fcbba1", "#ef3b2c", "#a50f15")


def change_colours(values: pd.Series) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Diverging colours of signed changes (blue down, grey none, red up) and the legend rows.

    Bins are whole incidents, symmetric about zero, at thirds of the largest absolute change.
    """
    v = pd.to_numeric(values, errors="coerce").fillna(0.0).to_numpy(dtype="float64")
    top = float(np.abs(v).max()) if v.size else 0.0
    if top < 1:
        return pd.Series(_NONE_COLOUR, index=values.index, dtype=object), [("No change", _NONE_COLOUR)]
    a, b = max(1.0, np.ceil(top / 3)), max(2.0, np.ceil(2 * top / 3))
    edges = np.array([-np.inf, -b, -a, -0.5, 0.5, a, b, np.inf])
    palette = np.array([*_DOWN, _NONE_COLOUR, *_UP], dtype=object)
    k = np.clip(np.searchsorted(edges, v, side="right") - 1, 0, 6)
    legend = [
        (f"Down {b:,.0f} or more", _DOWN[0]),
        (f"Down {a:,.0f} to {b - 1:,.0f}", _DOWN[1]),
        (f"Down 1 to {a - 1:,.0f}" if a > 1 else "Down 1", _DOWN[2]),
        ("No change", _NONE_COLOUR),
        (f"Up 1 to {a - 1:,.0f}" if a > 1 else "Up 1", _UP[0]),
        (f"Up {a:,.0f} to {b - 1:,.0f}", _UP[1]),
        (f"Up {b:,.0f} or more", _UP[2]),
    ]
    used = sorted(set(k.tolist()))
    return pd.Series(palette[k], index=values.index), [legend[i] for i in used]


@functools.lru_cache(maxsize=1)
def _working_to_display() -> Transformer:
    return Transformer.from_crs(settings.WORKING_CRS, settings.DISPLAY_CRS, always_xy=True)


def _to_display(frame: gpd.GeoDataFrame, name: str) -> gpd.GeoDataFrame:
    """``frame`` in EPSG:4326 (from EPSG:27700 with one shared transformer: geopandas builds one a call)."""
    if not isinstance(frame, gpd.GeoDataFrame):
        raise SchemaError(f"`{name}` must be a GeoDataFrame, not {type(frame).__name__}")
    if frame.crs is None:
        raise CRSError(f"`{name}` has no CRS; set it with .set_crs() (geo-csp works in {settings.WORKING_CRS})")
    if frame.crs != settings.WORKING_CRS:
        return frame.to_crs(settings.DISPLAY_CRS)
    to_lonlat = _working_to_display()
    moved = shapely.transform(
        frame.geometry.to_numpy(), lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1]))
    )
    return frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=settings.DISPLAY_CRS))


def latlng_to_unit(units: gpd.GeoDataFrame, *, lat: float, lng: float) -> str | None:
    """``unit_id`` of the unit whose polygon holds the point (``lat``, ``lng`` in EPSG:4326), or ``None``.

    What a click on a map picked: the point the browser sends back, looked up in the units themselves,
    so it does not matter which shape (a unit, an area outline, a partner layer) was on top where the
    click landed. A point on the edge shared by two units gives the first of them in ``units``' order.
    """
    if schema.UNIT_ID not in units.columns:
        raise SchemaError(f"`units` needs a {schema.UNIT_ID!r} column; it has {list(units.columns)}")
    if units.crs is None:
        raise CRSError(f"`units` has no CRS; set it with .set_crs() (geo-csp works in {settings.WORKING_CRS})")
    if not (np.isfinite(lat) and np.isfinite(lng) and -90 <= lat <= 90 and -180 <= lng <= 180):
        raise ParameterError(f"`lat`, `lng` = {lat}, {lng} is not a point in EPSG:4326 (degrees)")
    x, y = Transformer.from_crs(settings.DISPLAY_CRS, units.crs, always_xy=True).transform(lng, lat)
    hits = units.sindex.query(shapely.Point(x, y), predicate="intersects")
    if not len(hits):
        return None
    return str(units[schema.UNIT_ID].iloc[int(np.min(hits))])


#: Decimal places of the numbers tooltips show (people's rounding; the browser adds thousands separators).
_TOOLTIP_DECIMALS: Final = {
    schema.N: 0,
    schema.HARM: 0,
    schema.GI_Z: 1,
    schema.RATE_PER_1000: 1,
    "share_of_crime": 1,
    CHANGE_COLUMN: 0,
    "n_this": 0,
    "n_before": 0,
}


def _json_safe(frame: gpd.GeoDataFrame, keep: Sequence[str]) -> gpd.GeoDataFrame:
    """Only ``keep`` columns (those present), as HTML-escaped strings or floats, so GeoJSON serialises them
    and a tooltip shows text from the data as text; numbers rounded as people read them (shares as
    percentages)."""
    cols = [c for c in keep if c in frame.columns]
    out = frame[cols + [frame.geometry.name]].copy()
    for c in cols:
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            scale = 100.0 if c in display.PERCENT_COLUMNS else 1.0
            out[c] = (scale * out[c].astype("float64")).round(_TOOLTIP_DECIMALS.get(c, 3))
        elif pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d").fillna("").astype(object)
        else:  # tooltips insert values as HTML: text from input files is escaped here
            out[c] = html_values(out[c].astype("string").fillna("").astype(object))
    return out


def _geojson(frame: gpd.GeoDataFrame, *, decimals: int = DISPLAY_DECIMALS) -> dict[str, Any]:
    """``frame`` (EPSG:4326) as a GeoJSON dict with coordinates rounded to ``decimals`` and no bboxes.

    Six decimal places of a degree are about 0.1 m: far finer than any screen pixel, and about half
    the characters of full precision, so the map is serialised, sent and parsed faster. Geometries
    are written by GEOS in one call (not one Python mapping per feature); missing values become null.
    """
    geoms = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.round(xy, decimals))
    props = frame.drop(columns=frame.geometry.name)
    records = props.astype(object).where(props.notna(), None).to_dict("records")
    ids = frame.index.astype(str)
    features = [
        {"id": i, "type": "Feature", "properties": p, "geometry": None if g is None else json.loads(g)}
        for i, p, g in zip(ids, records, shapely.to_geojson(geoms), strict=True)
    ]
    return {"type": "FeatureCollection", "features": features}


def zoom_for_bounds(bounds: Sequence[float], *, width_px: int = 900, height_px: int = 600) -> int:
    """The largest web-map zoom level at which lon/lat ``bounds`` fit a map of this size in pixels."""
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    merc: Callable[[float], float] = lambda lat: np.log(np.tan(np.pi / 4 + np.radians(np.clip(lat, -85, 85)) / 2))  # noqa: E731
    lon_span = max(maxx - minx, 1e-6) / 360.0
    lat_span = max(merc(maxy) - merc(miny), 1e-6) / (2 * np.pi)
    zoom = min(np.log2(width_px / 256 / lon_span), np.log2(height_px / 256 / lat_span))
    return int(np.clip(np.floor(zoom), 1, 18))


class _MetricScale(MacroElement):
    """Leaflet's scale bar (bottom left) in metres and kilometres only: UK police and council maps are metric."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.control.scale({imperial: false, metric: true, maxWidth: 150, position: "bottomleft"})
            .addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca ships no annotations
        self._name = "MetricScale"


def base_map(
    bounds: Sequence[float],
    *,
    basemap: str | None = None,
    synthetic: bool = False,
    legend_width_px: int = 0,
) -> folium.Map:
    """An empty folium map fitted to ``bounds`` (lon/lat ``minx, miny, maxx, maxy``), with offline assets.

    The map has a metric scale bar (bottom left) and opens fitted to ``bounds`` whatever its size.

    Parameters
    ----------
    bounds
        Extent to show, in EPSG:4326.
    basemap
        ``None`` for no tiles (works offline), or a key of :data:`BASEMAPS`.
    synthetic
        Put a SYNTHETIC label on the map (every map of the demo borough).
    legend_width_px
        Room kept free on the right when fitting (for a legend there), so it covers no unit.
    """
    if basemap is not None and basemap not in BASEMAPS:
        raise ParameterError(f"basemap={basemap!r} is unknown; choose None or one of {sorted(BASEMAPS)}")
    minx, miny, maxx, maxy = (float(b) for b in bounds)
    m = folium.Map(
        location=[(miny + maxy) / 2, (minx + maxx) / 2],
        zoom_start=zoom_for_bounds((minx, miny, maxx, maxy)),
        tiles=None,
        control_scale=False,
        prefer_canvas=False,
        zoom_snap=0.25,
    )
    js, css = offline_assets()
    m.default_js = list(js)  # instance attributes: folium and streamlit-folium read these
    m.default_css = list(css)
    if basemap is not None:
        url, attribution, max_zoom = BASEMAPS[basemap]
        folium.TileLayer(url, attr=attribution, name=f"basemap: {basemap}", max_zoom=max_zoom).add_to(m)
    _MetricScale().add_to(m)
    _ZoomClasses().add_to(m)
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(8, 8), padding_bottom_right=(8 + legend_width_px, 8))
    if synthetic:
        _HtmlOverlay(
            f"{settings.SYNTHETIC_LABEL} DATA — invented incidents for demonstration, not real crime",
            css_class="geo-csp-synthetic",
            position="top: 10px; left: 50px;",
        ).add_to(m)
    if basemap is None:
        _HtmlOverlay(
            html_text(OFFLINE_NOTE),
            css_class="geo-csp-offline",
            position=f"top: {46 if synthetic else 10}px; left: 50px;",
        ).add_to(m)
    return m


class _ZoomClasses(MacroElement):
    """Street names shown from :data:`STREET_NAMES_FROM_ZOOM` (a class on the map's container), so the
    borough view is not buried under them."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function(map) {
            function names() {
                map.getContainer().classList.toggle("geo-csp-show-streets", map.getZoom() >= {{ this.zoom }});
            }
            map.on("zoomend", names);
            names();
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca ships no annotations
        self._name = "ZoomClasses"
        self.zoom = STREET_NAMES_FROM_ZOOM


class _Names(MacroElement):
    """Names as Leaflet markers from one GeoJSON of points (``t``: escaped text, ``k``: kind): one script,
    not one marker element per name."""

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        L.geoJSON({{ this.data|tojson }}, {
            pointToLayer: function(f, latlng) {
                return L.marker(latlng, {interactive: false, keyboard: false, icon: L.divIcon({
                    className: "{{ this.css }} {{ this.css }}-" + f.properties.k, iconSize: null,
                    html: "<span>" + f.properties.t + "</span>"})});
            }
        }).addTo({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self, data: dict[str, Any]) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca ships no annotations
        self._name = "Names"
        self.data = data
        self.css = NAME_CLASS


def street_labels(incidents: pd.DataFrame, *, max_streets: int = 400) -> gpd.GeoDataFrame:
    """One label point per street of the incidents' police.uk locations ("On or near Kiln Walk" -> "Kiln Walk").

    The point is the median of the street's located snap points (EPSG:27700); police.uk's place-type
    names ("Parking Area", "Supermarket") name no street and are left out. The ``max_streets`` streets
    with most incidents are kept (columns ``name``, ``n``), busiest first.
    """
    for col in (schema.LOCATION, schema.EASTING, schema.NORTHING):
        if col not in incidents.columns:
            raise SchemaError(f"`incidents` needs a {col!r} column for street names; it has {list(incidents.columns)}")
    located = incidents[schema.EASTING].notna() & incidents[schema.NORTHING].notna()
    if schema.LOCATED in incidents.columns:
        located &= incidents[schema.LOCATED].fillna(False).astype(bool)
    frame = incidents.loc[located, [schema.EASTING, schema.NORTHING]]
    # each distinct location is cleaned once (a borough's tens of thousands of rows share a few thousand)
    codes, locations = pd.factorize(incidents.loc[located, schema.LOCATION].astype("string"))
    cleaned = pd.Series(locations, dtype="string").str.replace(r"^\s*On or near\s+", "", regex=True).str.strip()
    usable = (cleaned.notna() & (cleaned != "") & ~cleaned.isin(schema.POLICE_UK_GENERIC_LOCATIONS)).to_numpy()
    street_codes, names = pd.factorize(cleaned)  # locations that clean to one name are one street
    keep = codes >= 0
    keep[keep] = usable[codes[keep]]
    grouped = frame[keep].assign(street=street_codes[codes[keep]]).groupby("street", sort=False)
    streets = grouped[[schema.EASTING, schema.NORTHING]].median().assign(n=grouped.size())
    streets = streets.sort_values("n", ascending=False, kind="mergesort").head(max_streets)
    streets = streets.assign(name=pd.array(names.take(streets.index.to_numpy()), dtype="string")).reset_index(drop=True)
    return gpd.GeoDataFrame(
        streets[["name", "n"]],
        geometry=gpd.points_from_xy(streets[schema.EASTING], streets[schema.NORTHING]),
        crs=settings.WORKING_CRS,
    )


def add_names(
    m: folium.Map,
    *,
    places: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
    skip: Sequence[str] = (),
) -> folium.Map:
    """Write place, ward and street names (each frame's ``name`` or ``ward_name``) on ``m``, as its own layer.

    Names are drawn at each polygon's representative point (streets at their points); ward names
    show at the borough's zoom, street names from :data:`STREET_NAMES_FROM_ZOOM`. Names in ``skip``
    (e.g. those a hotspot area already carries) are left out. Returns ``m``.
    """
    parts = []
    for kind, frame, col in (("ward", wards, schema.WARD_NAME), ("place", places, "name"), ("street", streets, "name")):
        if frame is None or not len(frame) or col not in frame.columns:
            continue
        shown = _to_display(frame, f"{kind} names")
        points = shown.geometry.representative_point()
        text = shown[col].astype("string").fillna("")
        ok = (text != "") & ~text.isin(list(skip))
        parts.append(
            pd.DataFrame(
                {
                    "x": points.x[ok].round(DISPLAY_DECIMALS),
                    "y": points.y[ok].round(DISPLAY_DECIMALS),
                    "t": text[ok].map(html_text),
                    "k": kind,
                }
            )
        )
    if not parts:
        return m
    names = pd.concat(parts, ignore_index=True)
    data = {
        "type": "FeatureCollection",
        "features": [
            {"type": "Feature", "properties": {"t": t, "k": k}, "geometry": {"type": "Point", "coordinates": [x, y]}}
            for x, y, t, k in zip(names["x"], names["y"], names["t"], names["k"], strict=True)
        ],
    }
    group = folium.FeatureGroup(name="Place, ward and street names", show=True)
    _Names(data).add_to(group)
    group.add_to(m)
    _layer_control_last(m)
    return m


def _layer_control_last(m: folium.Map) -> None:
    """Move the map's layer control after every layer: it refers to each layer by its script variable, so
    a layer added after it would be undefined when it runs."""
    for name, child in list(m._children.items()):
        if isinstance(child, folium.LayerControl):
            del m._children[name]
            m._children[name] = child


def add_route(
    m: folium.Map,
    stops: pd.DataFrame,
    *,
    hub: gpd.GeoDataFrame | None = None,
    route: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Number a walkabout's stops on ``m`` (``order``, ``name``, ``easting``, ``northing`` in EPSG:27700, as
    :class:`geo_csp.routes.WalkaboutPlan.stops`), mark the start hub, and open the map fitted to the route.
    Returns ``m``."""
    group = folium.FeatureGroup(name="Walkabout stops", show=True)
    to_lonlat = _working_to_display()
    lon, lat = to_lonlat.transform(
        stops["easting"].to_numpy(dtype="float64"), stops["northing"].to_numpy(dtype="float64")
    )
    for x, y, order, name in zip(lon, lat, stops["order"], stops["name"].astype(str), strict=True):
        folium.Marker(
            [round(float(y), DISPLAY_DECIMALS), round(float(x), DISPLAY_DECIMALS)],
            icon=folium.DivIcon(html=f"<div>{int(order)}</div>", icon_size=(1, 1), class_name=STOP_CLASS),
            tooltip=f"Stop {int(order)}: {html_text(name)}",
        ).add_to(group)
    if hub is not None and len(hub):
        point = _to_display(hub, "hub").geometry.iloc[0]
        folium.Marker(
            [round(point.y, DISPLAY_DECIMALS), round(point.x, DISPLAY_DECIMALS)],
            icon=folium.DivIcon(
                html="<div>Start / finish</div>", icon_size=(1, 1), class_name=f"{STOP_CLASS} {STOP_CLASS}-hub"
            ),
        ).add_to(group)
    group.add_to(m)
    _layer_control_last(m)
    frames = [f for f in (route, hub) if f is not None and len(f)]
    bounds = [_to_display(f, "route").total_bounds for f in frames]
    if len(stops):
        bounds.append(np.array([lon.min(), lat.min(), lon.max(), lat.max()]))
    if bounds:
        b = np.vstack(bounds)
        m.fit_bounds(  # 100 px at the top: the SYNTHETIC label and the offline note cover the map's top 90 px
            [[float(b[:, 1].min()), float(b[:, 0].min())], [float(b[:, 3].max()), float(b[:, 2].max())]],
            padding_top_left=(30, 100),
            padding_bottom_right=(30 + _LEGEND_WIDTH_PX, 30),
        )
    return m


#: How each partner layer is drawn, by the first word of its name: style of polygons and lines,
#: legend symbol (``"fill"``, ``"line"``, ``"outline"``, ``"dot"``) and the columns its tooltip shows.
_LAYER_STYLES: Final[dict[str, dict[str, Any]]] = {
    "operations": {
        "style": {"weight": 2.5, "dashArray": "8 5", "fillOpacity": 0.08},
        "symbol": "outline",
        "tooltip": ("name", "type", "start_date", "end_date"),
    },
    "cctv": {
        "style": {"weight": 1.5, "fillOpacity": 0.45},
        "symbol": "fill",
        "tooltip": ("camera_id", "name", "range_m"),
    },
    "walkabouts": {"style": {"weight": 4, "opacity": 0.9}, "symbol": "line", "tooltip": ("name", "date", "partners")},
    "walkabout": {
        "style": {"weight": 5, "opacity": 0.95},
        "symbol": "line",
        "tooltip": ("name", "label", "description"),
    },
    "hubs": {"style": {}, "symbol": "dot", "tooltip": ("name", "kind")},
}
_DEFAULT_LAYER_STYLE: Final = {
    "style": {"weight": 3, "fillOpacity": 0.15},
    "symbol": "outline",
    "tooltip": ("name", "label", "description", "kind"),
}
#: Drawing order of partner layers (later is on top); unknown layers go before the hubs.
_LAYER_ORDER: Final = ("operations", "cctv", "walkabouts", "walkabout")


#: On-screen names of the partner layers (layer control and legend), by the layer names of :mod:`geo_csp.layers`.
LAYER_LABELS: Final = {
    "cctv": "CCTV camera views",
    "walkabouts": "Recorded walkabouts",
    "operations": "Operations",
    "hubs": "Community hubs",
    "walkabout": "Planned walkabout route",
}
_LAYER_TOOLTIP_LABELS: Final = {
    "name": "Name",
    "type": "Type",
    "start_date": "From",
    "end_date": "To",
    "camera_id": "Camera",
    "range_m": "Range (m)",
    "date": "Date",
    "partners": "Partners",
    "kind": "Kind",
    "label": "Label",
    "description": "Description",
}


def _layer_label(name: str) -> str:
    return LAYER_LABELS.get(name, name)


def _layer_kind(name: str) -> str:
    return name.split()[0].lower() if name.strip() else name


def borough_wide(operations: gpd.GeoDataFrame, *, extent_m2: float | None = None) -> np.ndarray:
    """Boolean mask of the operations that cover the whole borough (e.g. days of action).

    An operation is borough-wide when its ``footprint`` is ``"borough"`` (:func:`geo_csp.layers.read_operations`)
    or, given ``extent_m2`` (the mapped area in m2), when its polygon covers at least
    :data:`BOROUGH_WIDE_SHARE` of it. Such footprints hide every hotspot, so maps list them instead.
    """
    mask = np.zeros(len(operations), dtype=bool)
    if "footprint" in operations.columns:
        mask |= (operations["footprint"].astype("string").str.strip().str.lower() == "borough").fillna(False).to_numpy()
    if extent_m2 is not None and extent_m2 > 0 and operations.crs is not None:
        area = operations.geometry.to_crs(settings.WORKING_CRS).area.to_numpy()
        mask |= area >= BOROUGH_WIDE_SHARE * extent_m2
    return mask


def _borough_wide_note(operations: gpd.GeoDataFrame) -> str:
    """'Avro (day of action): 16 Mar 23, 20 Jul 23' lines for the legend, one per operation name and type."""

    def column(name: str, default: object) -> object:
        return operations[name].to_numpy() if name in operations.columns else default

    rows = pd.DataFrame(
        {
            "name": pd.Series(column("name", "operation"), index=operations.index).astype(str).to_numpy(),
            "type": pd.Series(column("type", ""), index=operations.index).astype("string").fillna("").to_numpy(),
            "start": pd.to_datetime(pd.Series(column("start_date", pd.NaT), index=operations.index), errors="coerce"),
            "end": pd.to_datetime(pd.Series(column("end_date", pd.NaT), index=operations.index), errors="coerce"),
        }
    ).sort_values("start")
    lines = []
    for (name, kind), group in rows.groupby(["name", "type"], sort=False):
        dates = [
            "?" if pd.isna(a) else (f"{a:%d %b %y}" if pd.isna(b) or a == b else f"{a:%d %b %y}–{b:%d %b %y}")
            for a, b in zip(group["start"], group["end"], strict=True)
        ]
        label = f"{name} ({str(kind).replace('_', ' ')})" if kind else str(name)
        lines.append(f"<b>{html_text(label)}</b>: {html_text(', '.join(dates))}")
    return "<br>".join(lines)


def _swatch(colour: str, symbol: str) -> str:
    if symbol == "line":
        return f'<span class="ln" style="border-top-color:{colour}"></span>'
    if symbol == "dot":
        return f'<span class="sw dot" style="background:{colour}"></span>'
    if symbol == "fill":
        return f'<span class="sw" style="background:{colour};opacity:0.8"></span>'
    if symbol == "dashed":
        return f'<span class="sw" style="background:none;border:2px dashed {colour}"></span>'
    return f'<span class="sw" style="background:{colour}33;border:2px dashed {colour}"></span>'


def _legend_html(
    title: str, rows: Sequence[tuple[str, str]], extra: Sequence[tuple[str, str, str]], note: str = ""
) -> str:
    parts = [f"<b>{html_text(title)}</b>"]
    parts += [f'<div><span class="sw" style="background:{c}"></span>{html_text(lbl)}</div>' for lbl, c in rows]
    if extra:
        parts.append("<b>Layers</b>")
        parts += [f"<div>{_swatch(c, symbol)}{html_text(lbl)}</div>" for lbl, c, symbol in extra]
    if note:
        parts.append(f'<div class="note"><b>Borough-wide, not drawn</b><br>{note}</div>')
    parts.append(f'<div class="note">{html_text(settings.SNAP_POINT_SHORT)}</div>')
    return "".join(parts)


def _add_layer(m: folium.Map, name: str, frame: gpd.GeoDataFrame, colour: str, *, show: bool = True) -> str:
    """One partner layer as a feature group (polygons, lines, or points as circle markers); its legend symbol."""
    spec = _LAYER_STYLES.get(_layer_kind(name), _DEFAULT_LAYER_STYLE)
    shown = _to_display(frame, f"layers[{name!r}]")
    shown = shown[~shown.geometry.is_empty & shown.geometry.notna()]
    # camera-view arcs and GPS tracks carry far more vertices than a screen shows: drop those within ~0.4 m
    shown = shown.set_geometry(shown.geometry.simplify(_SIMPLIFY_DEG))
    label_cols = [c for c in spec["tooltip"] if c in shown.columns][:4]
    data = _json_safe(shown, label_cols)
    css = f"{LAYER_CLASS_PREFIX}{re.sub(r'[^a-z0-9]+', '-', name.lower()).strip('-')}"
    group = folium.FeatureGroup(name=html_text(_layer_label(name)), show=show)  # the layer control shows names as HTML
    if len(data):
        style = {
            "color": colour,
            "fillColor": colour,
            "weight": 3,
            "fillOpacity": 0.15,
            **spec["style"],
            "className": css,
        }
        if spec["symbol"] == "dot":  # points: a solid dot with a white ring, readable on any fill
            style.update(color="#ffffff", weight=2, fillOpacity=1.0)
        folium.GeoJson(
            _geojson(data),
            name=html_text(name),
            style_function=lambda _f, s=style: dict(s),
            marker=folium.CircleMarker(
                radius=7, fill=True, fill_opacity=1.0, fill_color=colour, color="#ffffff", weight=2, className=css
            ),
            tooltip=folium.GeoJsonTooltip(
                fields=label_cols, aliases=[_LAYER_TOOLTIP_LABELS.get(c, c) for c in label_cols]
            )
            if label_cols
            else None,
        ).add_to(group)
    group.add_to(m)
    symbol: str = spec["symbol"]
    return symbol


def _layer_rank(name: str) -> int:
    kind = _layer_kind(name)
    if kind == "hubs":
        return len(_LAYER_ORDER) + 1
    return _LAYER_ORDER.index(kind) if kind in _LAYER_ORDER else len(_LAYER_ORDER)


#: Leaflet style of the hotspot units: fill from each feature's ``_fill``; cells with no pattern paler,
#: so the hot classes and the partner layers drawn above them stand out.
_OUTLINE_JS: Final = (
    "const s = feature.properties.hotspot_change; "
    "const o = {" + ", ".join(f'"{k}": "{v}"' for k, v in HOTSPOT_CHANGE_OUTLINES.items()) + "}[s]; "
)
_UNIT_STYLE: Final = folium.JsCode(
    f"""function(feature) {{
        const none = feature.properties._fill === "{_NONE_COLOUR}";
        {_OUTLINE_JS}
        return {{fillColor: feature.properties._fill, fillOpacity: none ? 0.35 : 0.75, color: o || "#777777",
                 weight: o ? 2.5 : 0.4, dashArray: s === "left" ? "4 3" : null, className: "{UNIT_CLASS}"}};
    }}"""
)
_UNIT_HOVER: Final = folium.JsCode(
    f"""function(feature, layer) {{
        {_OUTLINE_JS}
        layer.on({{
            mouseover: function(e) {{ e.target.setStyle({{weight: 3.5, color: "#000000"}}); }},
            mouseout: function(e) {{ e.target.setStyle({{weight: o ? 2.5 : 0.4, color: o || "#777777"}}); }}
        }});
    }}"""
)


def unit_colours(units: pd.DataFrame, *, colour_by: str) -> tuple[pd.Series, list[tuple[str, str]]]:
    """Fill colour of every unit and the legend rows (label, colour), as :func:`hotspot_map` draws them:
    fixed class colours for a class column, quantile classes for a numeric one, a diverging scale for
    :data:`CHANGE_COLUMN`. Static maps of the same view use it too, so print and screen agree."""
    if colour_by not in units.columns:
        raise SchemaError(f"`units` has no column {colour_by!r} to colour by; it has {list(units.columns)}")
    values = units[colour_by]
    if colour_by == CHANGE_COLUMN:
        return change_colours(values)
    if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        return value_colours(values)
    labels = values.astype("string").fillna(NO_PATTERN)
    colours = labels.map(class_colour)
    present = list(dict.fromkeys(labels.tolist()))
    order = [c for c in (*ARCGIS_PATTERNS, *CHAINEY_CATEGORIES) if c in present]
    order += sorted(set(present) - set(order))
    return colours, [(lbl, class_colour(lbl)) for lbl in order]


def _fit_bounds(shown: gpd.GeoDataFrame, areas: gpd.GeoDataFrame | None) -> Any:
    """The bounds a new hotspot map is fitted to: the units', else the areas'; refused when both are empty."""
    if len(shown):
        return shown.total_bounds
    if areas is not None and len(areas):
        return _to_display(areas, "areas").total_bounds
    raise ParameterError("`units` is empty and no `areas` are given: nothing to fit the map to")


def _area_names(areas: gpd.GeoDataFrame | None) -> list[str]:
    """The named hotspot areas' names (none without areas or names), which place names do not repeat."""
    return (
        [] if areas is None or schema.AREA_NAME not in areas.columns else areas[schema.AREA_NAME].astype(str).tolist()
    )


def _unit_tooltip_columns(shown: gpd.GeoDataFrame) -> list[str]:
    """The columns a hotspot unit's tooltip shows: those the units have, with at least one value."""
    return [
        c
        for c in (
            "name",
            schema.LSOA_NAME,
            schema.LSOA_CODE,
            schema.WARD_NAME,
            "n_this",
            "n_before",
            CHANGE_COLUMN,
            HOTSPOT_CHANGE_COLUMN,
            schema.N,
            schema.HARM,
            schema.RATE_PER_1000,
            schema.PATTERN,
            schema.CATEGORY,
            schema.GI_Z,
        )
        if c in shown.columns and shown[c].notna().any()
    ]


def _split_layers(
    layers: Mapping[str, gpd.GeoDataFrame] | None, units: gpd.GeoDataFrame
) -> tuple[list[tuple[str, gpd.GeoDataFrame]], list[tuple[str, gpd.GeoDataFrame]], str]:
    """The partner layers drawn under the area outlines (operations) and above them, in legend order, and the
    note on borough-wide operations (left off the map)."""
    named = [(name, frame) for name, frame in (layers or {}).items() if frame is not None and len(frame)]
    named.sort(key=lambda item: _layer_rank(item[0]))
    note = ""
    drawn: list[tuple[str, gpd.GeoDataFrame]] = []
    for name, frame in named:
        if _layer_kind(name) == "operations":
            wide = borough_wide(frame, extent_m2=float(units.to_crs(settings.WORKING_CRS).area.sum()))
            note = _borough_wide_note(frame[wide]) if wide.any() else ""
            frame = frame[~wide]
        drawn.append((name, frame))
    below = [(n, f) for n, f in drawn if _layer_rank(n) == 0]  # operations: under the area outlines
    above = [(n, f) for n, f in drawn if _layer_rank(n) > 0]
    return below, above, note


def _add_areas(m: folium.Map, areas: gpd.GeoDataFrame, *, selected_area: str | None) -> None:
    """The named hotspot areas' outlines (the selected one bold), tooltips and name labels."""
    if schema.AREA_ID not in areas.columns:
        raise SchemaError(f"`areas` needs an {schema.AREA_ID!r} column; it has {list(areas.columns)}")
    area_shown = _to_display(areas, "areas")
    cols = [
        c
        for c in (
            schema.AREA_ID,
            schema.AREA_NAME,
            schema.PATTERN,
            schema.N,
            schema.HARM,
            "share_of_crime",
            schema.WARD_NAME,
        )
        if c in area_shown.columns
    ]
    area_data = _json_safe(area_shown, cols)
    area_data["_selected"] = (area_data[schema.AREA_ID] == html_text(selected_area or "\0")).astype(int)
    area_group = folium.FeatureGroup(name="Named hotspot areas", show=True)
    folium.GeoJson(
        _geojson(area_data),
        name="areas",
        style_function=lambda f: {
            "fill": False,
            "color": "#000000",
            "weight": 5 if f["properties"]["_selected"] else 2.5,
            "dashArray": None if f["properties"]["_selected"] else "6 4",
            "className": AREA_CLASS,
        },
        tooltip=folium.GeoJsonTooltip(
            fields=cols,
            localize=True,
            aliases=[display.label(c) + (" (%)" if c in display.PERCENT_COLUMNS else "") for c in cols],
        ),
    ).add_to(area_group)
    if schema.AREA_NAME in area_shown.columns:
        points = area_shown.geometry.representative_point()
        names = area_shown[schema.AREA_NAME].astype(str).to_numpy()
        for x, y, name in zip(points.x.to_numpy(), points.y.to_numpy(), names, strict=True):
            folium.Marker(
                [round(float(y), DISPLAY_DECIMALS), round(float(x), DISPLAY_DECIMALS)],
                icon=folium.DivIcon(html=f"<div>{html_text(name)}</div>", icon_size=(1, 1), class_name="geo-csp-label"),
                interactive=False,
            ).add_to(area_group)
    area_group.add_to(m)


def hotspot_map(
    units: gpd.GeoDataFrame,
    *,
    areas: gpd.GeoDataFrame | None = None,
    layers: Mapping[str, gpd.GeoDataFrame] | None = None,
    m: folium.Map | None = None,
    basemap: str | None = None,
    synthetic: bool = False,
    colour_by: str | None = None,
    title: str | None = None,
    selected_area: str | None = None,
    places: gpd.GeoDataFrame | None = None,
    wards: gpd.GeoDataFrame | None = None,
    streets: gpd.GeoDataFrame | None = None,
) -> folium.Map:
    """Hotspot units coloured by class, named hotspot areas and partner layers on one map.

    Parameters
    ----------
    units
        Cells, wards or LSOAs (any CRS; EPSG:27700 from :func:`geo_csp.hotspot_run.run_hotspots`) with
        ``unit_id`` and the column to colour by. Units with nothing to show are still drawn (pale
        grey), so the map shows the whole study area.
    areas
        Named hotspot areas (``area_id``, ``name``), drawn as dashed outlines with their names.
    layers
        Partner layers by name (``"cctv"``, ``"walkabouts"``, ``"operations"``, ``"hubs"``,
        ``"walkabout"``, ...), each its own entry in the layer control, drawn above the hotspots
        (operations lowest, hubs on top). Operations are outlines with a light fill and a tooltip
        (name, type, dates); borough-wide ones (:func:`borough_wide`) are not drawn but listed
        with their dates in the legend.
    m
        A map to add to; a new one (fitted to the units, offline assets) when ``None``.
    basemap
        ``None`` for no tiles or a key of :data:`BASEMAPS` (only used when ``m`` is ``None``).
    synthetic
        Label the map SYNTHETIC (demo data).
    colour_by
        A class column (``pattern``, ``category``: fixed class colours) or a numeric one (``n``,
        ``harm``, ``rate_per_1000``: quantile classes). Default: ``pattern`` if present, else
        ``category``, else ``n``.
    title
        Legend title (default: the column name).
    selected_area
        ``area_id`` of an area to draw highlighted.
    places, wards, streets
        Named places, wards and street label points (:func:`street_labels`) whose names are written
        on the map (:func:`add_names`); a place that names a hotspot area is written once.

    Returns
    -------
    folium.Map
        With a layer control (collapsed off), a legend and a metric scale bar. GeoJSON coordinates
        are rounded to :data:`DISPLAY_DECIMALS` places.
    """
    if schema.UNIT_ID not in units.columns:
        raise SchemaError(f"`units` needs a {schema.UNIT_ID!r} column; it has {list(units.columns)}")
    if colour_by is None:
        colour_by = next((c for c in (schema.PATTERN, schema.CATEGORY, schema.N) if c in units.columns), None)
    if colour_by is None or colour_by not in units.columns:
        raise SchemaError(f"`units` has no column {colour_by!r} to colour by; it has {list(units.columns)}")
    shown = _to_display(units, "units")
    if schema.LSOA_NAME in shown.columns and shown[schema.LSOA_NAME].notna().any():  # LSOAs: name beside code
        shown = shown.assign(**{schema.LSOA_CODE: shown[schema.UNIT_ID].astype(str).to_numpy()})
    if m is None:
        m = base_map(_fit_bounds(shown, areas), basemap=basemap, synthetic=synthetic, legend_width_px=_LEGEND_WIDTH_PX)

    colours, legend_rows = unit_colours(shown, colour_by=colour_by)
    tooltip_cols = _unit_tooltip_columns(shown)
    data = _json_safe(shown, [schema.UNIT_ID, schema.AREA_ID, *tooltip_cols]).assign(_fill=colours.to_numpy())
    unit_group = folium.FeatureGroup(name=f"Hotspots: {display.label(colour_by).lower()}", show=True)
    folium.GeoJson(
        _geojson(data),
        name="hotspots",
        tooltip=folium.GeoJsonTooltip(
            fields=tooltip_cols, aliases=[display.label(c) for c in tooltip_cols], localize=True
        ),
        on_each_feature=_UNIT_HOVER,
        style=_UNIT_STYLE,  # a Leaflet style function: no per-feature style table in the page
        className=UNIT_CLASS,
    ).add_to(unit_group)
    unit_group.add_to(m)
    if places is not None or wards is not None or streets is not None:
        add_names(m, places=places, wards=wards, streets=streets, skip=_area_names(areas))

    extra: list[tuple[str, str, str]] = []
    below, above, note = _split_layers(layers, units)
    for name, frame in below:
        colour = _LAYER_COLOURS.get(_layer_kind(name), _OTHER[len(extra) % len(_OTHER)])
        extra.append((_layer_label(name), colour, _add_layer(m, name, frame, colour)))

    if areas is not None and len(areas):
        _add_areas(m, areas, selected_area=selected_area)
        extra.append(("Named hotspot areas", "#000000", "dashed"))
    for name, frame in above:
        colour = _LAYER_COLOURS.get(_layer_kind(name), _OTHER[len(extra) % len(_OTHER)])
        extra.append((_layer_label(name), colour, _add_layer(m, name, frame, colour)))

    _HtmlOverlay(
        _legend_html(title or display.label(colour_by), legend_rows, extra, note),
        css_class="geo-csp-legend",
        position=f"bottom: 30px; right: 10px; max-height: 62%; max-width: {_LEGEND_WIDTH_PX}px; overflow-y: auto;",
    ).add_to(m)
    folium.LayerControl(collapsed=True).add_to(m)
    return m
