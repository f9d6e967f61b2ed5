"""Show a folium map through streamlit-folium with its page prepared once, not on every rerun.

``st_folium`` renders the whole map on every script run (GeoJSON serialised three times, the
templates re-run, regular expressions over about a megabyte of script), although a pan, a zoom or an
unrelated widget changes nothing on the map. :func:`prepare` does that work once and keeps the
strings streamlit-folium sends to its component; :func:`show` sends them. The strings are built with
streamlit-folium's own helpers, so the component receives exactly what ``st_folium`` would send
(``tests/test_app_pages.py`` checks this against the installed streamlit-folium).

One thing is added to every map shown in a page: a click no longer scrolls the page. Leaflet focuses
the map on a mouse press (for its arrow-key panning) and, inside streamlit-folium's iframe, the browser
then scrolls the page to bring the whole map into view; when the map's foot was below the fold, the
mouse was released over another spot and the browser sent no click to the shape pressed (a hexagon's
story never opened). The map is now focused without scrolling, and arrow keys still pan it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import folium
import streamlit as st
import streamlit_folium as stf
from branca.element import MacroElement
from jinja2 import Template

__all__ = ["PreparedMap", "prepare", "show"]


@dataclass(frozen=True)
class PreparedMap:
    """The component arguments of one map (what ``st_folium`` computes on every run).

    ``st_folium`` also computes the map's bounds and zoom, but sends them only as default return
    values, and this view returns nothing (``returned_objects=[]``), so they are left out.
    """

    script: str
    header: str
    html: str
    map_id: str
    css_links: tuple[str, ...]
    js_links: tuple[str, ...]
    hash_key: str


class _FocusWithoutScrolling(MacroElement):
    """Leaflet's keyboard handler focuses the map on a mouse press with ``focus({preventScroll: true})``.

    Leaflet 1.9 calls ``container.focus()`` and restores the scroll of its own window only, so the page
    around the iframe scrolled between the press and the release of a click (see the module docstring).
    """

    _template = Template(
        """
        {% macro script(this, kwargs) %}
        (function (map) {
            const keyboard = map.keyboard, container = map.getContainer();
            if (!keyboard) { return; }
            L.DomEvent.off(container, "mousedown", keyboard._onMouseDown, keyboard);
            L.DomEvent.on(container, "mousedown", function () {
                if (!this._focused) { container.focus({preventScroll: true}); }
            }, keyboard);
        })({{ this._parent.get_name() }});
        {% endmacro %}
        """
    )

    def __init__(self) -> None:
        super().__init__()  # type: ignore[no-untyped-call]  # branca ships no annotations
        self._name = "FocusWithoutScrolling"


def _links(m: folium.Map) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Stylesheets and scripts of every element of the map, de-duplicated (as ``st_folium`` lists them)."""
    css: list[str] = []
    js: list[str] = []
    stack = [m]
    while stack:
        element = stack.pop(0)
        if isinstance(element, folium.elements.JSCSSMixin) or element is m:
            css.extend(href for _, href in getattr(element, "default_css", []))
            js.extend(src for _, src in getattr(element, "default_js", []))
        stack[:0] = list(getattr(element, "_children", {}).values())
    return tuple(dict.fromkeys(css)), tuple(dict.fromkeys(js))


def prepare(m: folium.Map, *, key: str) -> PreparedMap:
    """Render ``m`` once into the arguments of streamlit-folium's component, for the widget ``key``.

    The map is rendered (and its element ids normalised, as ``st_folium`` does): do not add to it
    afterwards. A press on the map no longer scrolls the page (:class:`_FocusWithoutScrolling`).
    """
    _FocusWithoutScrolling().add_to(m)
    m.get_root().render()  # st_folium then renders the map a second time: that adds nothing the page uses
    html = stf._get_html(m)
    header = stf._get_header(m)
    script = stf._get_map_string(m)
    css, js = _links(m)
    return PreparedMap(
        script=script,
        header=header,
        html=html,
        map_id=stf.get_full_id(m),
        css_links=css,
        js_links=js,
        hash_key=stf.generate_js_hash(script, key, False),
    )


def show(prepared: PreparedMap, *, key: str, height: int, clicks: bool = False) -> dict[str, Any]:
    """Draw a prepared map at the container's width and return what the browser sent back.

    By default nothing comes back, so panning and zooming never rerun the script. With ``clicks`` the
    point of the shape last clicked comes back (``{"last_object_clicked": {"lat": .., "lng": ..}}``),
    whatever shape it was (a hexagon, or a partner layer or area outline drawn over it): the page looks
    up the unit under that point (:func:`geo_csp.maps.latlng_to_unit`). A click reruns the page once; a
    pan or zoom still changes nothing that is returned.
    """

    def _on_change() -> None:
        st.session_state[key] = st.session_state.get(prepared.hash_key, {})

    value = stf._component_func(
        script=prepared.script,
        header=prepared.header,
        html=prepared.html,
        id=prepared.map_id,
        key=prepared.hash_key,
        height=height,
        width=None,
        # only what is asked for comes back: panning and zooming never rerun (streamlit-folium #77)
        returned_objects=["last_object_clicked"] if clicks else [],
        default={},
        zoom=None,
        center=None,
        feature_group=None,
        return_on_hover=False,
        layer_control=None,
        pixelated=False,
        css_links=list(prepared.css_links),
        js_links=list(prepared.js_links),
        on_change=_on_change,
        wrap_longitude=False,
    )
    return value if isinstance(value, dict) else {}
