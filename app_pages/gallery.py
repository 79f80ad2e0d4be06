"""Gallery: the current matches as a paged, sortable grid of thumbnails."""

import streamlit as st

from skyscript_viz.ui import gallery, header, urlstate

ds, f = header.page_start("Gallery")
gallery.gallery(ds, f)
urlstate.write_url(urlstate.current_view(f))
st.caption("Thumbnails are cached in memory and on disk next to the index.")
