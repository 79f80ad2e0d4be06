"""Overview: headline numbers, density map and charts of the current matches (the page to show stakeholders)."""

from skyscript_viz.ui import header, overview, urlstate

ds, f = header.page_start("Overview")
overview.saved_views(ds, f)
overview.overview(ds, f)
urlstate.write_url(urlstate.current_view(f))
