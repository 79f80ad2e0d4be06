"""Map explorer: footprints on a Leaflet map, filters, and the selected image with captions and tags."""

import streamlit as st

from skyscript_viz.text import md_code
from skyscript_viz.ui import detail, filters, header, keys, mapui, urlstate
from skyscript_viz.ui.data import cached_count, cached_facets, cached_record, dataset

ds = dataset()
urlstate.seed_from_url(ds)
mapui.ensure_view(ds)
clicked = mapui.absorb_map_return()
if clicked:
    st.session_state[keys.SELECTED] = clicked

header.title_bar(ds, "Map")
urlstate.show_notices()
f = filters.sidebar(ds, bbox=mapui.view_bbox())
mapui.follow_filters(ds, f)
total = cached_count(ds, f)

rec = cached_record(ds, st.session_state[keys.SELECTED]) if st.session_state.get(keys.SELECTED) else None
img = ds.images.image(rec.row) if rec else None

left, right = st.columns([3, 2], gap="medium")
with left:
    top = st.columns([4, 3, 3], vertical_alignment="center")
    top[0].markdown(f"#### {total:,} images match")
    top[1].selectbox(
        "Base map",
        ["offline", "osm", "satellite"],
        key=keys.BASE,
        label_visibility="collapsed",
        format_func={"offline": "Offline map", "osm": "OpenStreetMap", "satellite": "Satellite (Esri)"}.__getitem__,
    )
    if top[2].button("Zoom to results", key="zoom_results", width="stretch"):
        mapui.zoom_to_results(ds, f)
    drape = (img.data, img.mime) if rec and img and img.ok and st.session_state.get(keys.DRAPE) else None
    mapui.map_panel(
        ds,
        f,
        selected_row=rec.row if rec else None,
        drape=drape,
        legend_codes=[
            str(v.value)
            for v in cached_facets(ds, f)["source"]
            if v.value and v.count and (not f.sources or v.value in f.sources)
        ],
        write_url=lambda: urlstate.write_url(urlstate.current_view(f)),
    )

with right:
    if rec is None:
        if st.session_state.get(keys.SELECTED):
            st.error(f"No image {md_code(st.session_state[keys.SELECTED])} in this dataset.")
        st.markdown("Click a footprint on the map to see its image, captions and tags.")
    else:
        detail.selection_nav(ds, f, rec)
        detail.image_panel(ds, rec, img)
        c1, c2 = st.columns(2)
        c1.toggle("Drape on map", key=keys.DRAPE, help="Lay the image on the map at its footprint")
        c2.slider("Opacity", 0.0, 1.0, key=keys.OPACITY, step=0.05, disabled=not st.session_state.get(keys.DRAPE))
        detail.captions_panel(rec)
        detail.metadata_panel(rec)
        detail.tags_panel(rec)
        detail.problems_panel(rec, img)

urlstate.write_url(urlstate.current_view(f))
