"""Minimal app for the offline map browser test: local Leaflet, offline base tiles, two rectangles.

Served like app.py: `streamlit run` finds ``app`` and serves the app's routes (scripts, tiles) with it.
"""

from __future__ import annotations

import folium
import streamlit as st

from skyscript_viz.assets import MISSING_ASSETS_NOTICE, make_map

if __name__ != "__main__":  # imported by `streamlit run` to find the server
    from skyscript_viz.ui.routes import routes

    app = st.App("offline_map_app.py", routes=routes())


def main() -> None:
    # imported here, not at the top: a component declared before the server runs is not served
    from streamlit_folium import st_folium

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

    st.caption("offline assets: " + ("local" if offline_ok else "CDN"))
    st_folium(m, key="map", height=400, width=700, returned_objects=[])


if __name__ == "__main__":
    main()
