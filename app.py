"""SkyScript Explorer: `streamlit run app.py` (demo sample) or `streamlit run app.py -- --root DIR`."""

import streamlit as st

from skyscript_viz.ui.thumbroute import thumb_routes

# `streamlit run app.py` finds this st.App and serves its routes (thumbnails by URL) beside the pages
app = st.App("app.py", routes=thumb_routes())

if __name__ == "__main__":  # a script run (Streamlit runs the main script as __main__; uvicorn imports `app`)
    from skyscript_viz.ui.nav import run_app

    run_app()
