"""SkyScript Explorer: `streamlit run app.py` (demo sample) or `streamlit run app.py -- --root DIR`."""

from skyscript_viz.ui.nav import run_app

run_app()
