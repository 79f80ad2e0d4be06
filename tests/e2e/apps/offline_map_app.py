"""Minimal app for the offline map browser test: local Leaflet, offline base tiles, two rectangles."""

from __future__ import annotations

import folium
import streamlit as st
from folium.plugins import Fullscreen
from streamlit_folium import st_folium

from skyscript_viz.assets import MISSING_ASSETS_NOTICE, localize_plugin_assets, make_map

st.set_page_config(page_title="offline map test", layout="wide")
st.title("Offline map")

m, offline_ok = make_map(location=(47.0, 8.0), zoom_start=4)
if not offline_ok:
    st.warning(MISSING_ASSETS_NOTICE)

footprints = folium.FeatureGroup(name="Footprints", show=True)
folium.Rectangle(
    bounds=[[45.8, 5.9], [47.8, 10.5]],
    color="#0E7C86",
    fill=True,
    fill_opacity=0.3,
    tooltip="Switzerland (CH)",
).add_to(footprints)
folium.Rectangle(
    bounds=[[47.3, 5.9], [55.1, 15.0]],
    color="#C0392B",
    fill=True,
    fill_opacity=0.2,
    tooltip="Germany (DE)",
    popup=folium.Popup("<b>DE</b> footprint", max_width=200),
).add_to(footprints)
footprints.add_to(m)
folium.LayerControl(collapsed=False).add_to(m)
Fullscreen().add_to(m)
localize_plugin_assets(m)

st.caption("offline assets: " + ("local" if offline_ok else "CDN"))
st_folium(m, key="map", height=400, width=700, returned_objects=[])
