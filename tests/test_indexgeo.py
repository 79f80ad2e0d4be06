"""The map queries of ImageIndex (indexgeo): footprints, density cells, overlaps and proximity,
against answers worked out by hand from tests/conftest.py's TINY_RECORDS."""

from __future__ import annotations

from typing import Any

import pytest

from skyscript_viz import BBox, Filters, ImageIndex, InvalidFilterError, indexgeo
from skyscript_viz.indexgeo import FOOTPRINT_ZOOM
from tests.tinyindex import ALL, EUROPE, ID, SWITZERLAND
from tests.tinyindex import ids as _ids


def test_extent(tiny_index: ImageIndex) -> None:
    assert tiny_index.extent(Filters(sources=("CH",))) == BBox(7.44, 46.94, 8.555, 47.385)
    assert tiny_index.extent(Filters(sources=("DE",))) == BBox(13.3, 52.4, 13.415, 52.525)
    assert tiny_index.extent(Filters(sources=("XX",))) is None


def test_footprints(tiny_index: ImageIndex) -> None:
    fp = tiny_index.footprints(Filters(), limit=5)
    assert (_ids(fp.rows), fp.truncated) == ([0, 1, 2, 3, 4], True)
    fp = tiny_index.footprints(Filters(), limit=20)
    assert (_ids(fp.rows), fp.truncated) == (ALL, False)
    fp = tiny_index.footprints(Filters(bbox=SWITZERLAND), limit=6)
    assert (_ids(fp.rows), fp.truncated) == ([0, 1, 2, 3, 4, 5], False)
    fp = tiny_index.footprints(Filters(bbox=SWITZERLAND), limit=5)
    assert fp.truncated
    row = tiny_index.footprints(Filters(ids=(7,))).rows.iloc[0]
    assert (row["west"], row["south"], row["east"], row["north"]) == (-122.42, 37.77, -122.41, 37.78)


def _cells(df: Any) -> set[tuple[Any, ...]]:
    return {
        (
            round(r.west, 3),
            round(r.south, 3),
            round(r.east, 3),
            round(r.north, 3),
            int(r.count),
            r.dominant_source,
            int(r.dominant_count),
            int(r.n_sources),
        )
        for r in df.itertuples()
    }


# Zoom 0, 8 cells per tile: 45° cells in Web-Mercator degrees; the row boundaries 0 / 45 / 90
# are latitudes 0 / 40.980 / 66.513. Hand-placed centres:
LAT45 = 40.98


def test_grid_zoom0(tiny_index: ImageIndex) -> None:
    g = tiny_index.grid(Filters(), zoom=0)
    cells = {(c[0], c[1], c[4], c[5], c[6], c[7]) for c in _cells(g)}
    assert cells == {
        (0.0, LAT45, 10, "CH", 6, 3),  # Switzerland 6, Brandenburg 3, Helsinki 1
        (-135.0, 0.0, 3, "US", 2, 2),  # San Francisco 2 (US) + Kansas 1 (S2)
        (-90.0, 0.0, 2, "US", 2, 1),  # New York
        (-90.0, LAT45, 1, "US", 1, 1),  # Chicago (lat 41.885)
        (-45.0, 0.0, 1, "ES", 1, 1),  # Madrid
        (0.0, 0.0, 1, "L8", 1, 1),
        (135.0, -LAT45, 1, "S2", 1, 1),  # Fiji, west of the antimeridian
        (-180.0, -LAT45, 1, "S2", 1, 1),  # ... and east of it
    }
    assert list(g["count"]) == sorted(g["count"], reverse=True)
    assert int(g["count"].sum()) == 20


@pytest.mark.parametrize("zoom", [0, 3, 6, 12])
@pytest.mark.parametrize("bbox", [None, EUROPE, SWITZERLAND])
def test_grid_cells_partition_the_matches(tiny_index: ImageIndex, zoom: int, bbox: BBox | None) -> None:
    f = Filters(bbox=bbox)
    g = tiny_index.grid(f, zoom=zoom)
    assert int(g["count"].sum()) == tiny_index.count(f)
    centres = tiny_index.page(f, limit=100).rows
    for cx, cy in zip(centres["cx"], centres["cy"], strict=True):
        inside = g[(g.west <= cx) & (cx < g.east) & (g.south <= cy) & (cy < g.north)]
        assert len(inside) == 1
    assert (g["dominant_count"] <= g["count"]).all()


def test_grid_empty(tiny_index: ImageIndex) -> None:
    g = tiny_index.grid(Filters(sources=("XX",)), zoom=3)
    assert g.empty
    assert {"west", "south", "east", "north"} <= set(g.columns)


def test_grid_europe_zoom0(tiny_index: ImageIndex) -> None:
    g = tiny_index.grid(Filters(bbox=EUROPE), zoom=0)
    assert {(c[4], c[5], c[6], c[7]) for c in _cells(g)} == {(10, "CH", 6, 3), (1, "ES", 1, 1)}


def test_map_view_switches_between_footprints_and_cells(tiny_index: ImageIndex) -> None:
    mv = tiny_index.map_view(Filters(), zoom=2, max_footprints=20)
    assert (mv.kind, mv.total, _ids(mv.rows)) == ("footprints", 20, ALL)
    mv = tiny_index.map_view(Filters(), zoom=0, max_footprints=19)
    assert (mv.kind, mv.total, int(mv.rows["count"].sum()), len(mv.rows)) == ("cells", 20, 20, 8)
    mv = tiny_index.map_view(Filters(bbox=SWITZERLAND), zoom=8, max_footprints=6)
    assert (mv.kind, mv.total) == ("footprints", 6)
    mv = tiny_index.map_view(Filters(bbox=SWITZERLAND), zoom=8, max_footprints=5)
    assert (mv.kind, mv.total, int(mv.rows["count"].sum())) == ("cells", 6, 6)
    mv = tiny_index.map_view(Filters(sources=("XX",)), zoom=3)
    assert (mv.kind, mv.total, len(mv.rows)) == ("footprints", 0, 0)


def test_map_view_draws_footprints_at_street_zoom_however_many(tiny_index: ImageIndex) -> None:
    """A cell at street zoom cannot be zoomed into, so its images would never be clickable."""
    mv = tiny_index.map_view(Filters(bbox=SWITZERLAND), zoom=FOOTPRINT_ZOOM - 1, max_footprints=5)
    assert mv.kind == "cells"
    mv = tiny_index.map_view(Filters(bbox=SWITZERLAND), zoom=FOOTPRINT_ZOOM, max_footprints=5)
    assert (mv.kind, mv.total, len(mv.rows)) == ("footprints", 6, 5)


def test_map_view_caps_a_stack_at_street_zoom(tiny_index: ImageIndex, monkeypatch: pytest.MonkeyPatch) -> None:
    """Past the usual limit, street zoom draws the first STREET_MAX_FOOTPRINTS (a stack at one place is heavy)."""
    monkeypatch.setattr(indexgeo, "STREET_MAX_FOOTPRINTS", 3)
    mv = tiny_index.map_view(Filters(bbox=SWITZERLAND), zoom=FOOTPRINT_ZOOM, max_footprints=5)
    assert (mv.kind, mv.total, len(mv.rows)) == ("footprints", 6, 3)
    mv = tiny_index.map_view(Filters(bbox=SWITZERLAND), zoom=FOOTPRINT_ZOOM, max_footprints=6)  # within the limit
    assert (mv.kind, mv.total, len(mv.rows)) == ("footprints", 6, 6)


@pytest.mark.parametrize(
    ("stem", "expected"),
    [
        ("a100_CH_19", ["a102_CH_21", "n1100_CH_19"]),
        ("a102_CH_21", ["a100_CH_19", "n1100_CH_19"]),
        ("w200_CH_19", ["n300_CH_20", "w200_CH_22"]),
        ("n300_CH_20", ["w200_CH_19", "w200_CH_22"]),
        ("a800_DE_20", ["a802_DE_20"]),
        ("a402_US_20", ["n500_US_22"]),
        ("a400_US_18", ["a1200_US_18"]),
        ("w1300_L8_16", []),
        ("a700_S2_17", []),
    ],
)
def test_overlapping(tiny_index: ImageIndex, stem: str, expected: list[str]) -> None:
    assert _ids(tiny_index.overlapping(ID[stem])) == [ID[s] for s in expected]


def test_overlapping_limit(tiny_index: ImageIndex) -> None:
    assert _ids(tiny_index.overlapping(ID["a100_CH_19"], limit=1)) == [ID["a102_CH_21"]]


def test_near(tiny_index: ImageIndex) -> None:
    df = tiny_index.near(8.545, 47.375)  # the centre of a100_CH_19
    assert _ids(df) == [ID["a100_CH_19"], ID["n1100_CH_19"], ID["a102_CH_21"]]
    assert list(df["distance_m"]) == pytest.approx([0.0, 470.0, 671.5], abs=1.0)
    assert _ids(tiny_index.near(8.545, 47.375, radius_m=100)) == [ID["a100_CH_19"]]
    assert _ids(tiny_index.near(8.545, 47.375, limit=2)) == [ID["a100_CH_19"], ID["n1100_CH_19"]]
    assert _ids(tiny_index.near(0.0, -60.0)) == []


def test_near_across_the_antimeridian(tiny_index: ImageIndex) -> None:
    east = tiny_index.near(179.99, -16.9, radius_m=20_000)
    assert _ids(east) == [ID["a700_S2_17"], ID["a702_S2_17"]]
    west = tiny_index.near(-179.99, -16.9, radius_m=20_000)
    assert _ids(west) == [ID["a702_S2_17"], ID["a700_S2_17"]]


@pytest.mark.parametrize("point", [(181.0, 0.0), (0.0, 91.0), (-180.5, 0.0)])
def test_near_rejects_bad_points(tiny_index: ImageIndex, point: tuple[float, float]) -> None:
    with pytest.raises(InvalidFilterError, match="lon/lat"):
        tiny_index.near(*point)


def test_grid_dominant_source_ties_break_by_code(tiny_index: ImageIndex) -> None:
    """A cell where two sources have equally many images is always 'mostly' the same one (the smaller code)."""
    runs = {tuple(tiny_index.grid(Filters(), zoom=z)["dominant_source"]) for z in (0, 3, 6) for _ in range(3)}
    assert len(runs) <= 3  # one answer per zoom, however often asked
    cells = tiny_index.grid(Filters(), zoom=0, cells_per_tile=1)
    assert list(cells["count"]) == sorted(cells["count"], reverse=True)
