"""Overview: headline numbers, density map and charts of the current matches (the page to show stakeholders)."""

from skyscript_viz.ui import filters, header, overview, urlstate
from skyscript_viz.ui.data import dataset

ds = dataset()
urlstate.seed_from_url(ds)
header.title_bar(ds, "Overview")
urlstate.show_notices()
f = filters.sidebar(ds)
overview.saved_views(ds, f)
overview.overview(ds, f)
urlstate.write_url(urlstate.current_view(f))
