"""SkyScript Explorer: `streamlit run app.py` (demo sample) or `streamlit run app.py -- --root DIR`."""

import streamlit as st

st.set_page_config(page_title="SkyScript Explorer", page_icon=":material/satellite_alt:", layout="wide")
st.navigation([
    st.Page("pages/map.py", title="Map", icon=":material/map:", default=True, url_path="map"),
    st.Page("pages/gallery.py", title="Gallery", icon=":material/photo_library:", url_path="gallery"),
    st.Page("pages/image.py", title="Image", icon=":material/image_search:", url_path="image"),
    st.Page("pages/overview.py", title="Overview", icon=":material/bar_chart:", url_path="overview"),
    st.Page("pages/quality.py", title="Quality", icon=":material/health_and_safety:", url_path="quality"),
    st.Page("pages/audit.py", title="Audit", icon=":material/fact_check:", url_path="audit"),
    st.Page("pages/benchmarks.py", title="Benchmarks", icon=":material/flag:", url_path="benchmarks"),
]).run()
