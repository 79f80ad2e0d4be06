"""SkyScript Explorer: `streamlit run app.py` (demo sample) or `streamlit run app.py -- --root DIR`."""

import streamlit as st

st.set_page_config(page_title="SkyScript Explorer", layout="wide")
st.navigation([
    st.Page("pages/map.py", title="Map", default=True, url_path="map"),
    st.Page("pages/gallery.py", title="Gallery", url_path="gallery"),
    st.Page("pages/image.py", title="Image", url_path="image"),
    st.Page("pages/overview.py", title="Overview", url_path="overview"),
    st.Page("pages/quality.py", title="Quality", url_path="quality"),
    st.Page("pages/audit.py", title="Audit", url_path="audit"),
    st.Page("pages/benchmarks.py", title="Benchmarks", url_path="benchmarks"),
]).run()
