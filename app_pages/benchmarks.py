"""Benchmarks: the classification and retrieval sets in benchmark/, and the ones not downloaded."""

from skyscript_viz.ui import benchmarkpage, header, urlstate
from skyscript_viz.ui.data import dataset

ds = dataset()
urlstate.seed_from_url(ds)
header.title_bar(ds, "Benchmarks")
benchmarkpage.benchmarks(ds)
