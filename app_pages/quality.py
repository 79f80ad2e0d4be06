"""Quality: every automatic check with counts, what it flags and why, and the affected images."""

from skyscript_viz.ui import header, qualitypage, urlstate

ds, f = header.page_start("Quality")
qualitypage.quality(ds, f)
urlstate.write_url(urlstate.current_view(f))
