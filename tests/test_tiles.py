"""skyscript_viz.tiles: the offline base map drawn from the packaged Natural Earth polygons."""

from __future__ import annotations

import io

import pytest
from PIL import Image

from skyscript_viz import tiles


def _colors(png: bytes) -> dict[tuple[int, int, int], int]:
    img = Image.open(io.BytesIO(png)).convert("RGB")
    assert img.size == (256, 256)
    return {c: n for n, c in img.getcolors(maxcolors=1 << 16)}


def test_world_tile_shows_land_and_sea() -> None:
    colors = _colors(tiles.render_tile(0, 0, 0))
    assert tiles.STYLE["sea"] in colors and tiles.STYLE["land"] in colors


@pytest.mark.parametrize(
    ("z", "x", "y", "what"),
    [
        (6, 33, 22, "land"),  # central Europe (~5.6-11.3 E, 45.1-48.9 N)
        (6, 10, 30, "sea"),  # the middle of the North Pacific
        (8, 136, 82, "land"),  # around Frankfurt
        (10, 600, 380, "sea"),  # the middle of the Black Sea (~31 E, 42 N)
        (10, 545, 330, "land"),  # northern Germany (~11.6 E, 53.7 N)
    ],
)
def test_tiles_up_to_z10_are_drawn_where_they_belong(z: int, x: int, y: int, what: str) -> None:
    colors = _colors(tiles.render_tile(z, x, y))
    assert colors.get(tiles.STYLE[what], 0) > 0.8 * 256 * 256, colors


def test_coastline_tile_has_coast() -> None:
    # z8 tile over the Strait of Gibraltar: land, sea and a coastline
    x, y = (int((-5.6 + 180) / 360 * 256), 100)
    colors = _colors(tiles.render_tile(8, x, y))
    assert {tiles.STYLE["land"], tiles.STYLE["sea"], tiles.STYLE["coast"]} <= set(colors)


@pytest.mark.parametrize(("z", "x", "y"), [(-1, 0, 0), (tiles.MAX_ZOOM + 1, 0, 0), (2, 4, 0), (2, 0, -1)])
def test_tiles_outside_the_world_are_refused(z: int, x: int, y: int) -> None:
    with pytest.raises(ValueError, match="no tile"):
        tiles.render_tile(z, x, y)


def test_antimeridian_shapes_show_on_both_edges() -> None:
    # Chukotka crosses 180 E: the easternmost and westernmost z3 tiles at ~65 N both hold land
    y = 2
    assert tiles.STYLE["land"] in _colors(tiles.render_tile(3, 7, y))
    assert tiles.STYLE["land"] in _colors(tiles.render_tile(3, 0, y))


def test_render_world_is_square_rgb() -> None:
    img = tiles.render_world(300)
    assert img.mode == "RGB" and img.size == (300, 300)


# ---- TopoJSON helpers ---------------------------------------------------------------------------


def test_decode_arcs_quantized_delta() -> None:
    topo = {
        "transform": {"scale": [0.5, 0.25], "translate": [-10, 20]},
        "arcs": [[[0, 0], [2, 4], [-1, 0]], [[4, 4], [0, -4]]],
    }
    arcs = tiles.decode_arcs(topo)
    assert arcs[0] == [(-10.0, 20.0), (-9.0, 21.0), (-9.5, 21.0)]
    assert arcs[1] == [(-8.0, 21.0), (-8.0, 20.0)]


def test_ring_coords_reverses_negative_arcs() -> None:
    arcs = [[(0.0, 0.0), (1.0, 0.0), (1.0, 1.0)], [(0.0, 0.0), (0.0, 1.0), (1.0, 1.0)]]
    ring = tiles.ring_coords([0, ~1], arcs)
    assert ring == [(0.0, 0.0), (1.0, 0.0), (1.0, 1.0), (0.0, 1.0), (0.0, 0.0)]


def test_unwrap_and_pole_ring() -> None:
    assert tiles.unwrap([(179.0, 0.0), (-179.0, 1.0), (-178.0, 2.0)]) == [(179.0, 0.0), (181.0, 1.0), (182.0, 2.0)]
    ring = [(-180.0, -70.0), (0.0, -70.0), (179.0, -70.0), (-180.0, -70.0)]
    closed = tiles.close_ring(ring)
    assert closed[-2:] == [(180.0, -90.0), (-180.0, -90.0)]


def test_mercator_bounds() -> None:
    assert tiles.mercator(-180, 0) == (0.0, 0.5)
    x, y = tiles.mercator(180, 89.9)
    assert x == 1.0 and y == pytest.approx(0.0, abs=1e-9)
    assert tiles.mercator(0, -90)[1] == pytest.approx(1.0, abs=1e-9)
