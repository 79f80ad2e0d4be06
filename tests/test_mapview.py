"""Map layers: the base-layer switch travels with the dynamic layers, not with the map's own script; the
view's footprints stay on the map until they change."""

from __future__ import annotations

import json
import re

import folium
import pandas as pd
import pytest
from streamlit_folium import _get_feature_group_string

from skyscript_viz import assets, mapview
from skyscript_viz.index import MapView


def _payload(base: str) -> dict:
    fg = mapview.base_switch_layer(base)
    (element,) = fg._children.values()
    return json.loads(element.payload)


@pytest.mark.parametrize("base", ["osm", "satellite"])
def test_base_switch_names_the_chosen_layer(base: str) -> None:
    p = _payload(base)
    chosen = next(layer for layer in assets.base_layers() if layer.layer_name == mapview.BASE_LAYER_NAMES[base])
    assert p["want"] == chosen.tiles
    assert set(p["specs"]) == {layer.tiles for layer in assets.base_layers()}
    assert all("maxNativeZoom" in opts and "attribution" in opts for opts in p["specs"].values())


def test_unknown_base_falls_back_to_a_layer_that_exists() -> None:
    p = _payload("no-such-base")
    assert p["want"] in p["specs"]


def _rows(n: int) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "west": [8.50 + i * 0.001 for i in range(n)],
            "south": [47.37] * n,
            "east": [8.5005 + i * 0.001 for i in range(n)],
            "north": [47.3704] * n,
            "source": ["CH"] * n,
            "year": [2021] * n,
            "filepath": [f"images2/a{i}_CH_21.jpg" for i in range(n)],
            "title": ["a <b>roof</b>"] * n,
        }
    )


def _view_script(view: MapView) -> str:
    """The dynamic layer's script as streamlit-folium hands it to the map's iframe."""
    m = folium.Map(location=(47.37, 8.5), zoom_start=15)
    return _get_feature_group_string(mapview.view_layer(view, 15), m)


def _slot_key(script: str) -> str:
    found = re.search(r'old\.key === ("[0-9a-f]+")', script)
    assert found, script
    return str(json.loads(found.group(1)))


def test_view_layer_is_kept_on_the_map_until_its_rectangles_change() -> None:
    a = _view_script(MapView("footprints", _rows(3), 3))
    # drawn into the map's "view" slot (on map_div itself, so streamlit-folium's removal skips it) …
    assert 'keep["view"]' in a and "var map = map_div;" in a and "map.hasLayer(old.layer)" in a and "g.addTo(map)" in a
    assert "&lt;b&gt;roof&lt;/b&gt;" in a and "<b>roof</b>" not in a  # tooltips still escaped
    # … under a key that a rerun with the same rectangles repeats and any other content changes
    assert _slot_key(_view_script(MapView("footprints", _rows(3), 3))) == _slot_key(a)
    assert _slot_key(_view_script(MapView("footprints", _rows(4), 4))) != _slot_key(a)


def test_an_empty_view_clears_the_slot() -> None:
    empty = _view_script(MapView("footprints", _rows(0), 0))
    assert 'keep["view"]' in empty and '"r":[]' in empty
    assert _slot_key(empty) != _slot_key(_view_script(MapView("footprints", _rows(1), 1)))


def test_layers_on_other_maps_are_not_kept() -> None:
    m = folium.Map(location=(47.37, 8.5), zoom_start=15)
    mapview.footprints_layer(_rows(2), zoom=15).add_to(m)
    assert "__svKeep" not in m.get_root().render()
