"""SkyScript Explorer: `streamlit run app.py` (demo sample) or `streamlit run app.py -- --root DIR`.

`streamlit run` finds ``app`` below and serves the Streamlit app together with its routes (map
scripts, offline tiles, thumbnails: skyscript_viz/ui/routes.py); Streamlit then runs this file as ``__main__``
for every page view.
"""

import streamlit as st

if __name__ == "__main__":
    from skyscript_viz.ui.nav import run_app

    run_app()
else:
    from skyscript_viz.ui.routes import routes
    from skyscript_viz.ui.warmup import warm_up

    app = st.App("app.py", routes=routes(), lifespan=warm_up)
