"""File-name parsing ({a|w|n}{osm_id}_{SRC}_{YY}.jpg) and OSM links."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from skyscript_viz.naming import OBJECT_TYPES, ParsedName, osm_url, parse_name

_TYPES = st.sampled_from(sorted(OBJECT_TYPES))
_IDS = st.integers(min_value=0, max_value=2**63 - 1)
_SOURCES = st.text(alphabet="ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789", min_size=2, max_size=2)
_YY = st.integers(min_value=0, max_value=99)
# No per-example deadline: the suite shares two cores with other work, and these are pure functions.
_SETTINGS = settings(deadline=None)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("a198234555_CH_19", ParsedName("a", 198234555, "CH", 2019)),
        ("a198234555_CH_19.jpg", ParsedName("a", 198234555, "CH", 2019)),
        ("meta2/a198234555_CH_19.pickle", ParsedName("a", 198234555, "CH", 2019)),
        ("images7/w42_S2_23.jpg", ParsedName("w", 42, "S2", 2023)),
        ("n0_L9_00", ParsedName("n", 0, "L9", 2000)),
        ("n9223372036854775807_US_16", ParsedName("n", 2**63 - 1, "US", 2016)),
        ("w7_XX_21.jpg", ParsedName("w", 7, "XX", 2021)),  # unknown source still parses
    ],
)
def test_parse_valid(name: str, expected: ParsedName) -> None:
    assert parse_name(name) == expected


@pytest.mark.parametrize(
    "name",
    [
        "",
        "x12_CH_19",  # unknown object type
        "A12_CH_19",  # upper-case type
        "a12_ch_19",  # lower-case source
        "a12_CHE_19",  # three-letter source
        "a12_CH_2019",  # four-digit year
        "a_CH_19",  # no id
        "a12_CH_19.png",
        "a12_CH_19.jpg.jpg",
        "a12_CH_19 ",
        "a-12_CH_19",
        "a１２_CH_19",  # full-width digits are not ASCII digits
        "a9223372036854775808_CH_19",  # 2**63: does not fit the index's int64
        "a9999999999999999999_CH_19",
        "a12345678901234567890_CH_19",  # 20 digits
        "a12_CH_19/",
    ],
)
def test_parse_invalid(name: str) -> None:
    assert parse_name(name) is None


@_SETTINGS
@given(_TYPES, _IDS, _SOURCES, _YY)
def test_valid_names_round_trip(obj_type: str, osm_id: int, source: str, yy: int) -> None:
    stem = f"{obj_type}{osm_id}_{source}_{yy:02d}"
    for name in (stem, stem + ".jpg", stem + ".pickle", f"images3/{stem}.jpg"):
        parsed = parse_name(name)
        assert parsed == ParsedName(obj_type, osm_id, source, 2000 + yy)
        assert parsed is not None and parsed.stem == stem


@_SETTINGS
@given(_TYPES, st.integers(min_value=2**63, max_value=10**19 - 1), _SOURCES, _YY)
def test_ids_from_2_63_are_rejected(obj_type: str, osm_id: int, source: str, yy: int) -> None:
    assert parse_name(f"{obj_type}{osm_id}_{source}_{yy:02d}.jpg") is None


@_SETTINGS
@given(st.text())
def test_arbitrary_text_never_raises(text: str) -> None:
    parsed = parse_name(text)
    if parsed is not None:
        assert parsed.obj_type in OBJECT_TYPES
        assert 0 <= parsed.osm_id < 2**63
        assert 2000 <= parsed.year <= 2099


def test_leading_zeros_parse_to_the_number() -> None:
    parsed = parse_name("a007_CH_19")
    assert parsed == ParsedName("a", 7, "CH", 2019)
    assert parsed.stem == "a7_CH_19"


def test_osm_url_node_and_way_are_exact() -> None:
    assert osm_url("n", 123) == ("https://www.openstreetmap.org/node/123", "exact")
    assert osm_url("w", 456) == ("https://www.openstreetmap.org/way/456", "exact")


def test_osm_url_area_is_a_marked_guess() -> None:
    url, note = osm_url("a", 200)
    assert url == "https://www.openstreetmap.org/way/100"
    assert note.startswith("guess")
    url, note = osm_url("a", 201)
    assert url == "https://www.openstreetmap.org/relation/100"
    assert note.startswith("guess")


def test_osm_url_unknown_type() -> None:
    url, note = osm_url("r", 1)
    assert url is None
    assert "unknown" in note


@_SETTINGS
@given(_TYPES, _IDS)
def test_osm_url_always_points_to_openstreetmap(obj_type: str, osm_id: int) -> None:
    url, note = osm_url(obj_type, osm_id)
    assert url is not None and url.startswith("https://www.openstreetmap.org/")
    assert (note == "exact") == (obj_type != "a")
