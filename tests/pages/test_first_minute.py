"""The first minute on the map and overview pages (AppTest): the view fits the matches, density
cells say what their colour means and can show the dominant source, every tag bar is labelled."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from skyscript_viz import Filters, mapview
from skyscript_viz.sources import source_info
from skyscript_viz.ui import charts, keys, mapui


def ok(at: Any) -> Any:
    assert not at.exception, [e.value for e in at.exception]
    return at


def inside(view: tuple[float, float, int], ext: Any) -> bool:
    lat, lon, _ = view
    return ext.south <= lat <= ext.north and ext.west <= lon <= ext.east


def cell_colours(at: Any) -> set[str]:
    """Colours of the density cells the map component got."""
    args = json.loads(at.get("component_instance")[0].proto.json_args)
    out: set[str] = set()
    for m in re.finditer(r'\{"r":.*?"k":"sv-cell"\}', args["feature_group"] or ""):
        payload = json.loads(m.group(0).replace("<\\/", "</"))
        out |= {payload["c"][r[4]] for r in payload["r"]}
    return out


def legend_text(at: Any) -> str:
    """The legend's markup with HTML entities decoded (labels go through html_text, which encodes
    punctuation), i.e. the text a user reads."""
    return "\n".join(html.unescape(md.value) for md in at.markdown if "sv-legend" in md.value)


def test_first_view_fits_the_links_matches(app, page_index) -> None:
    """A link filtered to Finland opens on Finland, not on the whole dataset."""
    at = ok(app({"src": "FI"}))
    ext = page_index.extent(Filters(sources=("FI",)))
    view = at.session_state[keys.VIEW]
    assert inside(view, ext) and view[2] >= 5, view


def test_first_view_fits_the_whole_demo(app, page_index) -> None:
    at = ok(app())
    ext = page_index.extent(Filters())
    lat, lon, z = at.session_state[keys.VIEW]
    # before the browser reports the map's size, a laptop-sized map column is assumed
    assert (lat, lon, z) == mapview.zoom_for_bbox(
        ext.west, ext.south, ext.east, ext.north, width_px=mapui._FIT_WIDTH, height_px=mapui.MAP_HEIGHT
    )


def test_filter_change_that_moves_the_data_moves_the_map(app, page_index) -> None:
    at = ok(app())
    world = at.session_state[keys.VIEW]
    ok(at.multiselect(key=keys.SOURCES).set_value(["FI"]).run())
    view = at.session_state[keys.VIEW]
    assert view != world and inside(view, page_index.extent(Filters(sources=("FI",)))) and view[2] >= 5


def test_filter_change_keeps_a_view_the_user_chose_while_it_shows_matches(app, page_index) -> None:
    at = ok(app({"src": "FI"}))
    lat, lon, z = at.session_state[keys.VIEW]
    moved = (lat + 0.01 * 360 / 2**z * 4, lon, z + 1)  # the user zoomed in a bit off-centre
    at.session_state[keys.MAP] = {
        "center": {"lat": moved[0], "lng": moved[1]},
        "zoom": moved[2],
        "bounds": {
            "_southWest": {"lat": moved[0] - 3, "lng": moved[1] - 8},
            "_northEast": {"lat": moved[0] + 3, "lng": moved[1] + 8},
        },
        "last_object_clicked": None,
        "last_object_clicked_tooltip": None,
        "last_object_clicked_count": 0,
    }
    ok(at.run())
    assert at.session_state[keys.VIEW][2] == moved[2]
    years = at.slider(key="f_years_slider")
    ok(years.set_value((years.min, years.max - 1)).run())  # still matches in view: the view stays
    assert at.session_state[keys.VIEW][2] == moved[2]


@pytest.fixture
def cells_view(monkeypatch: pytest.MonkeyPatch) -> None:
    """The small demo has too few images for cells: show cells above 10 footprints in view."""
    import streamlit as st

    from skyscript_viz.index import ImageIndex

    real = ImageIndex.map_view
    monkeypatch.setattr(
        ImageIndex,
        "map_view",
        lambda self, f, *, zoom, max_footprints=10: real(self, f, zoom=zoom, max_footprints=max_footprints),
    )
    st.cache_data.clear()  # map views cached by other tests were drawn with the real threshold
    yield
    st.cache_data.clear()


def test_cells_get_a_count_legend_and_can_show_dominant_sources(app, page_index, cells_view) -> None:
    at = ok(app({"lat": "20", "lon": "0", "z": "1"}))
    assert any("density cells" in c.value for c in at.caption), [c.value for c in at.caption]
    text = legend_text(at)
    assert "Images per cell:" in text and re.search(r"\d+–\d+", text), text
    shades = cell_colours(at)
    assert shades and shades <= set(mapview.DENSITY_COLORS)
    ok(at.toggle(key=keys.CELLS_BY_SOURCE).set_value(True).run())
    text = legend_text(at)
    assert "Most images from:" in text and "Images per cell" not in text, text
    colours = cell_colours(at)
    sources = {str(v.value) for v in page_index.facets(Filters())["source"] if v.value}
    assert len(colours) >= 2 and colours <= {source_info(s).color for s in sources}, colours


def test_overview_map_has_the_cell_legend(app, cells_view) -> None:
    at = ok(app())
    at.switch_page("app_pages/overview.py")
    ok(at.run())
    assert "Images per cell:" in legend_text(at)
    assert any(t.key == keys.CELLS_BY_SOURCE for t in at.toggle)


def test_tag_bars_label_every_bar() -> None:
    import pandas as pd

    df = pd.DataFrame({"tag": [f"key_{i}" for i in range(15)], "images": range(15, 0, -1)})
    spec = charts.bars(df, "images", "tag", title="images").to_dict()
    assert spec["encoding"]["y"]["axis"]["labelOverlap"] is False
    assert spec["height"] >= 15 * 18


def test_server_warm_up_answers_the_first_visits_queries(app, page_index, monkeypatch) -> None:
    """The warm-up at server start computes facets, count and map view under the keys the first visit
    asks for, so a link without filters or place runs none of those queries itself."""
    import streamlit as st

    from skyscript_viz.index import ImageIndex
    from skyscript_viz.ui import firstview

    st.cache_data.clear()
    firstview.warm_first_visit()
    asked: list[str] = []
    for name in ("map_view", "facets", "count"):
        real = getattr(ImageIndex, name)
        monkeypatch.setattr(
            ImageIndex, name, lambda self, *a, _n=name, _r=real, **k: asked.append(_n) or _r(self, *a, **k)
        )
    at = ok(app())
    assert asked == []
    assert at.session_state[keys.VIEW] == mapview.zoom_for_bbox(
        *(getattr(page_index.extent(Filters()), s) for s in ("west", "south", "east", "north")),
        width_px=mapui._FIT_WIDTH,
        height_px=mapui.MAP_HEIGHT,
    )
    ok(at.multiselect(key=keys.SOURCES).set_value(["FI"]).run())
    assert "map_view" in asked  # a query the warm-up did not run is asked for (the check can fail)


def test_warm_up_leaves_the_startup_objects_out_of_every_collection(tmp_path) -> None:
    """Streamlit collects garbage after every script run; after the warm-up that walk skips the objects
    the imports made (it took ~170 ms per run and delayed the page run a click starts by as much)."""
    import subprocess
    import sys
    from pathlib import Path

    probe = (
        "import gc, streamlit.config as c\n"
        "from skyscript_viz.ui import warmup\n"
        "before = len(gc.get_objects())\n"
        "warmup._warm()\n"
        "print(c.get_option('runner.postScriptGC'), before, gc.get_freeze_count(), len(gc.get_objects()))\n"
        "import inspect, sys\n"
        "print('folium.plugins' in sys.modules, len(inspect.modulesbyfile), len(sys.modules))\n"
    )
    env = {"PATH": "/usr/bin:/bin", "SKYSCRIPT_ROOT": str(tmp_path / "no-root"), "HOME": str(tmp_path)}
    out = subprocess.run(
        [sys.executable, "-c", probe],
        env=env,
        capture_output=True,
        text=True,
        check=True,
        cwd=Path(__file__).resolve().parents[2],
    )
    first, second = out.stdout.splitlines()
    post_gc, before, frozen, tracked = first.split()
    assert post_gc == "True"  # Streamlit's own collection still runs; it just has less to walk
    assert int(frozen) > 50_000 and int(frozen) > int(before)
    assert int(tracked) < int(frozen) / 10
    # the map page's first import of streamlit_folium finds its dependencies loaded and inspect's table of
    # module files filled (its component declaration walked ~1,600 module paths: 95-160 ms of a first visit)
    plugins, by_file, loaded = second.split()
    assert plugins == "True"
    assert int(by_file) > int(loaded) / 2
