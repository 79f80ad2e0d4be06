"""Audit: a seeded random sample of the current matches, judged one by one, with a running error rate."""

import streamlit as st

from skyscript_viz.audit import MODES
from skyscript_viz.ui import detail, header, review, urlstate

ds, f = header.page_start("Audit")
st.markdown(
    "Draw a sample of the current matches, judge each image, and read the error rate with its "
    "95 % confidence interval. The same filters, design and seed always give the same sample, so "
    "several reviewers can share an audit by its link."
)
c = st.columns(4)
mode = c[0].radio(
    "Design",
    list(MODES),
    key="audit_mode",
    horizontal=True,
    help="stratified: k images per source and year, so rare sources are not drowned by NAIP",
)
size = c[1].number_input(
    "Sample size" if mode == "plain" else "k per source·year", 1, 5000, 100 if mode == "plain" else 5, key="audit_size"
)
seed = c[2].number_input("Seed", 0, 2**31 - 1, 1, key="audit_seed")
if c[3].button("Start / resume audit", key="audit_start", width="stretch"):
    st.session_state[review.AUDIT] = review.start_audit(ds, f, str(mode), int(size), int(seed))
audit = st.session_state.get(review.AUDIT)
if audit:
    review.audit_step(ds, audit, detail)
urlstate.write_url(urlstate.current_view(f))
