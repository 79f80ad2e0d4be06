"""Map layers: the base-layer switch travels with the dynamic layers, not with the map's own script."""

from __future__ import annotations

import json

import pytest

from skyscript_viz import assets, mapview


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
