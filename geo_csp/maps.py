"""Folium maps of hotspots, named areas and partner layers that render with no internet.

Every map here is built by a pure function that returns a :class:`folium.Map` (or adds to one given
as ``m``, like geopandas' ``explore``). Maps never reach a CDN: folium's default scripts and styles
(Leaflet from jsDelivr, jQuery, Bootstrap, awesome-markers, Font Awesome) are replaced by Leaflet
1.9.4 shipped in ``geo_csp/app/assets/leaflet`` (BSD-2, see its LICENSE) and embedded as ``data:``
URLs, so a saved map or a streamlit-folium map works on networks that block tile and CDN servers.
Only core Leaflet is used (GeoJSON, circle markers, the layer control); the legend and the
SYNTHETIC label are plain HTML.

Basemap tiles are optional: ``basemap=None`` draws on a plain background (police and council
networks often block tile servers); ``"light"`` (CARTO Positron) or ``"osm"`` add tiles, and a tile
that fails to load leaves the vector layers drawn. Incidents are drawn as aggregated cells or
polygons, never as one marker each.
"""

from __future__ import annotations

import base64
import functools
import html
import json
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Final

import folium
import geopandas as gpd
import numpy as np
import pandas as pd
import shapely
from branca.element import MacroElement
from jinja2 import Template
from pyproj import Transformer

from geo_csp import schema, settings
from geo_csp._errors import CRSError, ParameterError, SchemaError
from geo_csp.trends import ARCGIS_PATTERNS, CHAINEY_CATEGORIES, NO_PATTERN

__all__ = [
    "AREA_CLASS",
    "BASEMAPS",
    "BOROUGH_WIDE_SHARE",
    "CLASS_COLOURS",
    "LAYER_CLASS_PREFIX",
    "LEAFLET_DIR",
    "UNIT_CLASS",
    "base_map",
    "borough_wide",
    "class_colour",
    "hotspot_map",
    "offline_assets",
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
    "routes": "#33a02c",
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
        </style>
        {% endmacro %}
        {% macro html(this, kwargs) %}
        <div class="geo-csp-box {{ this.css_class }}" style="{{ this.position }}">{{ this.body }}</div>
        {% endmacro %}
        """
    )

    def __init__(self, body: str, *, css_class: str, position: str) -> None:
        super().__init__()
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
        legend += [(f"{edges[i]:,.4g} – {edges[i + 1]:,.4g}", str(palette[i])) for i in range(edges.size - 1)]
    return pd.Series(colours, index=values.index), legend


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
    moved = shapely.transform(frame.geometry.to_numpy(), lambda xy: np.column_stack(to_lonlat.transform(xy[:, 0], xy[:, 1])))
    return frame.set_geometry(gpd.GeoSeries(moved, index=frame.index, crs=settings.DISPLAY_CRS))


def _json_safe(frame: gpd.GeoDataFrame, keep: Sequence[str]) -> gpd.GeoDataFrame:
    """Only ``keep`` columns (those present), as strings or floats, so GeoJSON serialises them."""
    cols = [c for c in keep if c in frame.columns]
    out = frame[cols + [frame.geometry.name]].copy()
    for c in cols:
        if pd.api.types.is_numeric_dtype(out[c]) and not pd.api.types.is_bool_dtype(out[c]):
            out[c] = out[c].astype("float64").round(3)
        elif pd.api.types.is_datetime64_any_dtype(out[c]):
            out[c] = out[c].dt.strftime("%Y-%m-%d").fillna("").astype(object)
        else:
            out[c] = out[c].astype("string").fillna("").astype(object)
    return out


def _geojson(frame: gpd.GeoDataFrame, *, decimals: int = DISPLAY_DECIMALS) -> dict:
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
    merc = lambda lat: np.log(np.tan(np.pi / 4 + np.radians(np.clip(lat, -85, 85)) / 2))  # noqa: E731
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
        super().__init__()
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
    m.fit_bounds([[miny, minx], [maxy, maxx]], padding_top_left=(8, 8), padding_bottom_right=(8 + legend_width_px, 8))
    if synthetic:
        _HtmlOverlay(
            f"{settings.SYNTHETIC_LABEL} DATA — invented incidents for demonstration, not real crime",
            css_class="geo-csp-synthetic",
            position="top: 10px; left: 50px;",
        ).add_to(m)
    return m


#: How each partner layer is drawn, by the first word of its name: style of polygons and lines,
#: legend symbol (``"fill"``, ``"line"``, ``"outline"``, ``"dot"``) and the columns its tooltip shows.
_LAYER_STYLES: Final[dict[str, dict]] = {
    "operations": {"style": {"weight": 2.5, "dashArray": "8 5", "fillOpacity": 0.08}, "symbol": "outline",
                   "tooltip": ("name", "type", "start_date", "end_date")},
    "cctv": {"style": {"weight": 1.5, "fillOpacity": 0.45}, "symbol": "fill",
             "tooltip": ("camera_id", "name", "range_m")},
    "routes": {"style": {"weight": 4, "opacity": 0.9}, "symbol": "line", "tooltip": ("name", "date", "partners")},
    "walkabout": {"style": {"weight": 5, "opacity": 0.95}, "symbol": "line",
                  "tooltip": ("name", "label", "description")},
    "hubs": {"style": {}, "symbol": "dot", "tooltip": ("name", "kind")},
}
_DEFAULT_LAYER_STYLE: Final = {"style": {"weight": 3, "fillOpacity": 0.15}, "symbol": "outline",
                               "tooltip": ("name", "label", "description", "kind")}
#: Drawing order of partner layers (later is on top); unknown layers go before the hubs.
_LAYER_ORDER: Final = ("operations", "cctv", "routes", "walkabout")


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

    rows = pd.DataFrame({
        "name": pd.Series(column("name", "operation"), index=operations.index).astype(str).to_numpy(),
        "type": pd.Series(column("type", ""), index=operations.index).astype("string").fillna("").to_numpy(),
        "start": pd.to_datetime(pd.Series(column("start_date", pd.NaT), index=operations.index), errors="coerce"),
        "end": pd.to_datetime(pd.Series(column("end_date", pd.NaT), index=operations.index), errors="coerce"),
    }).sort_values("start")
    lines = []
    for (name, kind), group in rows.groupby(["name", "type"], sort=False):
        dates = [
            "?" if pd.isna(a) else (f"{a:%d %b %y}" if pd.isna(b) or a == b else f"{a:%d %b %y}–{b:%d %b %y}")
            for a, b in zip(group["start"], group["end"], strict=True)
        ]
        label = f"{name} ({str(kind).replace('_', ' ')})" if kind else str(name)
        lines.append(f"<b>{html.escape(label)}</b>: {html.escape(', '.join(dates))}")
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
    parts = [f"<b>{html.escape(title)}</b>"]
    parts += [f'<div><span class="sw" style="background:{c}"></span>{html.escape(lbl)}</div>' for lbl, c in rows]
    if extra:
        parts.append("<b>Layers</b>")
        parts += [f"<div>{_swatch(c, symbol)}{html.escape(lbl)}</div>" for lbl, c, symbol in extra]
    if note:
        parts.append(f'<div class="note"><b>Borough-wide, not drawn</b><br>{note}</div>')
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
    group = folium.FeatureGroup(name=name, show=show)
    if len(data):
        style = {"color": colour, "fillColor": colour, "weight": 3, "fillOpacity": 0.15, **spec["style"], "className": css}
        if spec["symbol"] == "dot":  # points: a solid dot with a white ring, readable on any fill
            style.update(color="#ffffff", weight=2, fillOpacity=1.0)
        folium.GeoJson(
            _geojson(data),
            name=name,
            style_function=lambda _f, s=style: dict(s),
            marker=folium.CircleMarker(radius=7, fill=True, fill_opacity=1.0, fill_color=colour, color="#ffffff",
                                       weight=2, className=css),
            tooltip=folium.GeoJsonTooltip(fields=label_cols) if label_cols else None,
        ).add_to(group)
    group.add_to(m)
    return spec["symbol"]


def _layer_rank(name: str) -> int:
    kind = _layer_kind(name)
    if kind == "hubs":
        return len(_LAYER_ORDER) + 1
    return _LAYER_ORDER.index(kind) if kind in _LAYER_ORDER else len(_LAYER_ORDER)


#: Leaflet style of the hotspot units: fill from each feature's ``_fill``; cells with no pattern paler,
#: so the hot classes and the partner layers drawn above them stand out.
_UNIT_STYLE: Final = folium.JsCode(
    f"""function(feature) {{
        const none = feature.properties._fill === "{_NONE_COLOUR}";
        return {{fillColor: feature.properties._fill, fillOpacity: none ? 0.35 : 0.75, color: "#777777",
                 weight: 0.4, className: "{UNIT_CLASS}"}};
    }}"""
)
_UNIT_HOVER: Final = folium.JsCode(
    """function(feature, layer) {
        layer.on({
            mouseover: function(e) { e.target.setStyle({weight: 2.5, color: "#000000"}); },
            mouseout: function(e) { e.target.setStyle({weight: 0.4, color: "#777777"}); }
        });
    }"""
)


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
) -> folium.Map:
    """Hotspot units coloured by class, named hotspot areas and partner layers on one map.

    Parameters
    ----------
    units
        Cells, wards or LSOAs (any CRS; EPSG:27700 from :func:`geo_csp.analysis.run_hotspots`) with
        ``unit_id`` and the column to colour by. Units with nothing to show are still drawn (pale
        grey), so the map shows the whole study area.
    areas
        Named hotspot areas (``area_id``, ``name``), drawn as dashed outlines with their names.
    layers
        Partner layers by name (``"cctv"``, ``"routes"``, ``"operations"``, ``"hubs"``,
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
    if m is None:
        if len(shown):
            bounds = shown.total_bounds
        elif areas is not None and len(areas):
            bounds = _to_display(areas, "areas").total_bounds
        else:
            raise ParameterError("`units` is empty and no `areas` are given: nothing to fit the map to")
        m = base_map(bounds, basemap=basemap, synthetic=synthetic, legend_width_px=_LEGEND_WIDTH_PX)

    values = shown[colour_by]
    if pd.api.types.is_numeric_dtype(values) and not isinstance(values.dtype, pd.CategoricalDtype):
        colours, legend_rows = value_colours(values)
    else:
        labels = values.astype("string").fillna(NO_PATTERN)
        colours = labels.map(class_colour)
        present = list(dict.fromkeys(labels.tolist()))
        order = [c for c in (*ARCGIS_PATTERNS, *CHAINEY_CATEGORIES) if c in present]
        order += sorted(set(present) - set(order))
        legend_rows = [(lbl, class_colour(lbl)) for lbl in order]
    tooltip_cols = [
        c
        for c in (schema.UNIT_ID, "name", schema.WARD_NAME, schema.N, schema.HARM, schema.RATE_PER_1000,
                  schema.PATTERN, schema.CATEGORY, schema.GI_Z)
        if c in shown.columns and shown[c].notna().any()
    ]
    data = _json_safe(shown, tooltip_cols).assign(_fill=colours.to_numpy())
    unit_group = folium.FeatureGroup(name=f"hotspots ({colour_by})", show=True)
    folium.GeoJson(
        _geojson(data),
        name="hotspots",
        tooltip=folium.GeoJsonTooltip(fields=tooltip_cols),
        on_each_feature=_UNIT_HOVER,
        style=_UNIT_STYLE,  # a Leaflet style function: no per-feature style table in the page
        className=UNIT_CLASS,
    ).add_to(unit_group)
    unit_group.add_to(m)

    extra: list[tuple[str, str, str]] = []
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
    for name, frame in below:
        colour = _LAYER_COLOURS.get(_layer_kind(name), _OTHER[len(extra) % len(_OTHER)])
        extra.append((name, colour, _add_layer(m, name, frame, colour)))

    if areas is not None and len(areas):
        if schema.AREA_ID not in areas.columns:
            raise SchemaError(f"`areas` needs an {schema.AREA_ID!r} column; it has {list(areas.columns)}")
        area_shown = _to_display(areas, "areas")
        cols = [c for c in (schema.AREA_ID, schema.AREA_NAME, schema.N, schema.HARM) if c in area_shown.columns]
        area_data = _json_safe(area_shown, cols)
        area_data["_selected"] = (area_data[schema.AREA_ID] == (selected_area or "\0")).astype(int)
        area_group = folium.FeatureGroup(name="named hotspot areas", show=True)
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
            tooltip=folium.GeoJsonTooltip(fields=cols),
        ).add_to(area_group)
        if schema.AREA_NAME in area_shown.columns:
            points = area_shown.geometry.representative_point()
            names = area_shown[schema.AREA_NAME].astype(str).to_numpy()
            for x, y, name in zip(points.x.to_numpy(), points.y.to_numpy(), names, strict=True):
                folium.Marker(
                    [round(float(y), DISPLAY_DECIMALS), round(float(x), DISPLAY_DECIMALS)],
                    icon=folium.DivIcon(html=f"<div>{html.escape(name)}</div>", icon_size=(1, 1),
                                        class_name="geo-csp-label"),
                    interactive=False,
                ).add_to(area_group)
        area_group.add_to(m)
        extra.append(("named hotspot areas", "#000000", "dashed"))
    for name, frame in above:
        colour = _LAYER_COLOURS.get(_layer_kind(name), _OTHER[len(extra) % len(_OTHER)])
        extra.append((name, colour, _add_layer(m, name, frame, colour)))

    _HtmlOverlay(
        _legend_html(title or colour_by.replace("_", " "), legend_rows, extra, note),
        css_class="geo-csp-legend",
        position=f"bottom: 30px; right: 10px; max-height: 62%; max-width: {_LEGEND_WIDTH_PX}px; overflow-y: auto;",
    ).add_to(m)
    folium.LayerControl(collapsed=False).add_to(m)
    return m
