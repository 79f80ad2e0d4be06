"""Benchmarks: the classification and retrieval sets in benchmark/, and the ones not downloaded."""

from skyscript_viz.ui import header, overview, urlstate
from skyscript_viz.ui.data import dataset
from skyscript_viz.ui.nav import ensure_navigation

ensure_navigation()  # a shared link opened first on a fresh server runs this file alone

ds = dataset()
urlstate.seed_from_url(ds)
header.title_bar(ds, "Benchmarks")
overview.benchmarks(ds)
