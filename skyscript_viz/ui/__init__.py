"""Streamlit glue: the only part of skyscript_viz that imports streamlit."""
