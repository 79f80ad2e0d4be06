"""Quality: every automatic check with counts, what it flags and why, and the affected images."""

from skyscript_viz.ui import filters, header, qualitypage, urlstate
from skyscript_viz.ui.data import dataset

ds = dataset()
urlstate.seed_from_url(ds)
header.title_bar(ds, "Quality")
urlstate.show_notices()
f = filters.sidebar(ds)
qualitypage.quality(ds, f)
urlstate.write_url(urlstate.current_view(f))
