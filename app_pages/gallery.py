"""Gallery: the current matches as a paged, sortable grid of thumbnails."""

import streamlit as st

from skyscript_viz.ui import filters, gallery, header, urlstate
from skyscript_viz.ui.data import dataset

ds = dataset()
urlstate.seed_from_url(ds)
header.title_bar(ds, "Gallery")
urlstate.show_notices()
f = filters.sidebar(ds)
gallery.gallery(ds, f)
urlstate.write_url(urlstate.current_view(f))
st.caption("Thumbnails are cached in memory and on disk next to the index.")
