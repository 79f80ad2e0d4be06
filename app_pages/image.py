"""One image up close: picture, captions, tags with wiki links, metadata, footprint map, related images."""

import streamlit as st

from skyscript_viz.text import md_code
from skyscript_viz.ui import detail, header, imagepage, keys, review, urlstate
from skyscript_viz.ui.data import cached_record

ds, f = header.page_start("Image")
selected = st.session_state.get(keys.SELECTED)
rec = cached_record(ds, selected) if selected else None
if rec is None:
    if selected:
        st.error(
            f"No image {md_code(selected)} in this dataset. Check the file path in the link "
            "(it is relative to the dataset root, e.g. images2/a123_CH_19.jpg)."
        )
    else:
        st.info("No image selected: open one from the map or the gallery, or add ?sel=FILEPATH to the link.")
else:
    img = ds.images.image(rec.row)
    detail.selection_nav(ds, f, rec)
    left, right = st.columns([3, 2], gap="medium")
    with left:
        detail.image_panel(ds, rec, img)
        detail.captions_panel(rec)
    with right:
        c1, c2 = st.columns(2)
        c1.toggle("Drape on map", key=keys.DRAPE)
        c2.slider("Opacity", 0.0, 1.0, key=keys.OPACITY, step=0.05)
        imagepage.small_map(
            rec,
            img,
            drape=bool(st.session_state.get(keys.DRAPE)),
            opacity=float(st.session_state.get(keys.OPACITY, 0.8)),
            base=st.session_state.get(keys.BASE, "offline"),
        )
        detail.metadata_panel(rec)
        detail.problems_panel(rec, img)
    with right:
        st.markdown("**Your verdict**")
        review.verdict_form(ds, rec, key="image_verdict")
        review.verdict_history(ds, rec)
    imagepage.tags_with_wiki(rec)
    imagepage.related(ds, rec)
urlstate.write_url(urlstate.current_view(f))
