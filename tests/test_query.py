"""Filters, tag expressions, boxes and their translation to SQL (pure: no index involved)."""

from __future__ import annotations

import math

import pytest

from skyscript_viz import BBox, Filters, InvalidFilterError, TagExpr, build_where
from skyscript_viz.query import FACET_DIMENSIONS


class FakeResolver:
    """Vocabulary: building = ids 10..14 (building=yes is 13), leisure = 20..22 (leisure=park is 21)."""

    keys = {"building": (10, 14), "leisure": (20, 22)}
    pairs = {("building", "yes"): 13, ("leisure", "park"): 21}
    bits = {"unfiltered": 0, "top30_openai": 1, "val": 2}

    def kv_range(self, key: str, value: str | None) -> tuple[int, int] | None:
        if value is None:
            return self.keys.get(key)
        kv = self.pairs.get((key, value))
        return None if kv is None else (kv, kv)

    def subset_bit(self, slug: str) -> int | None:
        return self.bits.get(slug)


T = TagExpr.parse
IN_TAGS = "id IN (SELECT image_id FROM tags WHERE "

# (filters, expected SQL, expected parameters)
WHERE_CASES: list[tuple[Filters, str, list[object]]] = [
    (Filters(), "TRUE", []),
    (Filters(sources=("CH",)), "source IN (?)", ["CH"]),
    (Filters(sources=("CH", "US")), "source IN (?, ?)", ["CH", "US"]),
    (Filters(year_min=2018), "year >= ?", [2018]),
    (Filters(year_max=2020), "year <= ?", [2020]),
    (Filters(year_min=2018, year_max=2018), "year >= ? AND year <= ?", [2018, 2018]),
    (Filters(months=(6, 7)), "month IN (?, ?)", [6, 7]),
    (Filters(obj_types=("a", "n")), "obj_type IN (?, ?)", ["a", "n"]),
    (Filters(subsets=("val",)), "(subsets & ?) <> 0", [4]),
    (Filters(subsets=("unfiltered", "val")), "(subsets & ?) <> 0", [5]),
    (Filters(subsets=("nope",)), "(subsets & ?) <> 0", [0]),  # unknown subset: matches nothing
    (Filters(bbox=BBox(5.0, 45.0, 11.0, 48.0)), "cy BETWEEN ? AND ? AND cx BETWEEN ? AND ?", [45.0, 48.0, 5.0, 11.0]),
    (
        Filters(bbox=BBox(170.0, -20.0, -170.0, -10.0)),
        "cy BETWEEN ? AND ? AND (cx >= ? OR cx <= ?)",
        [-20.0, -10.0, 170.0, -170.0],
    ),
    (
        Filters(caption="  Tennis "),
        "(contains(lower(title), ?) OR contains(lower(title_multi_objects), ?))",
        ["tennis", "tennis"],
    ),
    (Filters(caption="   "), "TRUE", []),
    (Filters(problems=("any",)), "n_problems > 0", []),
    (Filters(problems=("bad_name", "any")), "n_problems > 0", []),
    (
        Filters(problems=("bad_name", "invalid_box")),
        "id IN (SELECT id FROM problems WHERE kind IN (?, ?) AND id IS NOT NULL)",
        ["bad_name", "invalid_box"],
    ),
    (Filters(ids=()), "FALSE", []),
    (Filters(ids=(3, 1)), "id IN (?, ?)", [3, 1]),
    (Filters(tags=(T("building"),)), IN_TAGS + "kv_id BETWEEN ? AND ?)", [10, 14]),
    (Filters(tags=(T("building=yes"),)), IN_TAGS + "kv_id BETWEEN ? AND ?)", [13, 13]),
    (Filters(tags=(T("focus:building=yes"),)), IN_TAGS + "kv_id BETWEEN ? AND ? AND role = ?)", [13, 13, 0]),
    (Filters(tags=(T("s:leisure"),)), IN_TAGS + "kv_id BETWEEN ? AND ? AND role = ?)", [20, 22, 1]),
    (Filters(tags=(T("building=no"),)), "FALSE", []),
    (Filters(tags=(T("unknown"),)), "FALSE", []),
    (
        Filters(tags=(T("building"), T("leisure=park"))),
        f"{IN_TAGS}kv_id BETWEEN ? AND ?) AND {IN_TAGS}kv_id BETWEEN ? AND ?)",
        [10, 14, 21, 21],
    ),
    (Filters(tags=(T("building"), T("unknown"))), f"{IN_TAGS}kv_id BETWEEN ? AND ?) AND FALSE", [10, 14]),
    (
        Filters(tags=(T("building"), T("focus:leisure=park")), tag_mode="any"),
        IN_TAGS + "(kv_id BETWEEN ? AND ?) OR (kv_id BETWEEN ? AND ? AND role = ?))",
        [10, 14, 21, 21, 0],
    ),
    (Filters(tags=(T("unknown"), T("leisure")), tag_mode="any"), IN_TAGS + "(kv_id BETWEEN ? AND ?))", [20, 22]),
    (Filters(tags=(T("unknown"), T("other")), tag_mode="any"), "FALSE", []),
    (
        Filters(sources=("CH",), year_min=2019, months=(6,), tags=(T("building=yes"),)),
        f"source IN (?) AND year >= ? AND month IN (?) AND {IN_TAGS}kv_id BETWEEN ? AND ?)",
        ["CH", 2019, 6, 13, 13],
    ),
]


@pytest.mark.parametrize(("filters", "sql", "params"), WHERE_CASES)
def test_build_where(filters: Filters, sql: str, params: list[object]) -> None:
    assert build_where(filters, FakeResolver()) == (sql, params)


@pytest.mark.parametrize(("filters", "sql", "params"), WHERE_CASES)
def test_placeholders_match_parameters(filters: Filters, sql: str, params: list[object]) -> None:
    got_sql, got_params = build_where(filters, FakeResolver(), alias="i")
    assert got_sql.count("?") == len(got_params)


def test_alias_prefixes_image_columns() -> None:
    f = Filters(
        sources=("CH",),
        year_min=2019,
        bbox=BBox(5, 45, 11, 48),
        tags=(T("building"),),
        caption="x",
        problems=("any",),
        ids=(1,),
        subsets=("val",),
        months=(1,),
        obj_types=("a",),
    )
    sql, _ = build_where(f, FakeResolver(), alias="i")
    for column in ("source", "year", "month", "obj_type", "subsets", "cy", "cx", "title", "n_problems", "id"):
        assert f"i.{column}" in sql
    assert " source" not in sql and "(source" not in sql


def test_problems_from_another_table() -> None:
    sql, params = build_where(Filters(problems=("any",)), FakeResolver(), problems_table="(SELECT 1)")
    assert sql == "id IN (SELECT id FROM (SELECT 1) WHERE id IS NOT NULL)"
    assert params == []


# -- Filters validation ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"months": (13,)}, "month 13"),
        ({"months": (0,)}, "month 0"),
        ({"year_min": 2021, "year_max": 2019}, "2021–2019"),
        ({"obj_types": ("r",)}, "'r'"),
        ({"obj_types": ("area",)}, "'area'"),
        ({"tag_mode": "some"}, "'some'"),
    ],
)
def test_invalid_filters(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(InvalidFilterError, match=message):
        Filters(**kwargs)  # type: ignore[arg-type]


def test_invalid_filter_error_is_a_value_error() -> None:
    with pytest.raises(ValueError):
        Filters(months=(13,))


def test_filters_without_clears_one_dimension() -> None:
    f = Filters(
        sources=("CH",),
        year_min=2018,
        year_max=2020,
        months=(6,),
        obj_types=("a",),
        subsets=("val",),
        tags=(T("building"),),
        bbox=BBox(0, 0, 1, 1),
        caption="x",
        problems=("any",),
    )
    assert f.without("source").sources == () and f.without("source").year_min == 2018
    assert (f.without("year").year_min, f.without("year").year_max) == (None, None)
    assert f.without("month").months == ()
    assert f.without("obj_type").obj_types == ()
    assert f.without("subset").subsets == ()
    assert f.without("tags").tags == ()
    assert f.without("bbox").bbox is None
    assert f.without("caption").caption == ""
    assert f.without("problems").problems == ()
    for dim in FACET_DIMENSIONS:
        assert f.without(dim) != f
    with pytest.raises(KeyError):
        f.without("colour")


def test_filters_are_values() -> None:
    assert Filters().is_empty
    assert not Filters(sources=("CH",)).is_empty
    assert Filters(tags=(T("a=b"),)) == Filters(tags=(TagExpr("a", "b"),))
    assert hash(Filters(sources=("CH",))) == hash(Filters(sources=("CH",)))


# -- TagExpr ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected", "back"),
    [
        ("building", TagExpr("building", None, "any"), "building"),
        ("  building  ", TagExpr("building", None, "any"), "building"),
        ("sport=tennis", TagExpr("sport", "tennis", "any"), "sport=tennis"),
        ("focus:leisure=pitch", TagExpr("leisure", "pitch", "focus"), "focus:leisure=pitch"),
        ("f:leisure", TagExpr("leisure", None, "focus"), "focus:leisure"),
        ("surrounding:highway", TagExpr("highway", None, "surrounding"), "surrounding:highway"),
        ("surr:highway=primary", TagExpr("highway", "primary", "surrounding"), "surrounding:highway=primary"),
        ("s:highway", TagExpr("highway", None, "surrounding"), "surrounding:highway"),
        ("any:name", TagExpr("name", None, "any"), "name"),
        ("roof:shape=flat", TagExpr("roof:shape", "flat", "any"), "roof:shape=flat"),
        ("name:en=Main Street", TagExpr("name:en", "Main Street", "any"), "name:en=Main Street"),
        ("note=a=b", TagExpr("note", "a=b", "any"), "note=a=b"),
        ("name=", TagExpr("name", "", "any"), "name="),
        (
            "focus:addr:street=Hauptstraße",
            TagExpr("addr:street", "Hauptstraße", "focus"),
            "focus:addr:street=Hauptstraße",
        ),
    ],
)
def test_tag_expr_parse(text: str, expected: TagExpr, back: str) -> None:
    parsed = TagExpr.parse(text)
    assert parsed == expected
    assert str(parsed) == back
    assert TagExpr.parse(str(parsed)) == parsed


@pytest.mark.parametrize("text", ["", "   ", "=", "=value", " =x"])
def test_tag_expr_parse_errors(text: str) -> None:
    with pytest.raises(InvalidFilterError, match="is not key, key=value or role:key=value"):
        TagExpr.parse(text)


# -- BBox ------------------------------------------------------------------------------------------


def test_bbox_parse() -> None:
    assert BBox.parse("5.96,45.82,10.49,47.81") == BBox(5.96, 45.82, 10.49, 47.81)
    assert BBox.parse(" -10 , 35 , 30 , 65 ") == BBox(-10, 35, 30, 65)
    assert str(BBox.parse("1,2,3,4")) == "1.00000,2.00000,3.00000,4.00000"
    assert BBox.parse(str(BBox(1.5, -2.25, 3, 4))) == BBox(1.5, -2.25, 3, 4)


@pytest.mark.parametrize("text", ["", "1,2,3", "1,2,3,4,5", "a,b,c,d", "1;2;3;4"])
def test_bbox_parse_errors(text: str) -> None:
    with pytest.raises(InvalidFilterError, match="is not west,south,east,north"):
        BBox.parse(text)


@pytest.mark.parametrize(
    "args",
    [(0, 10, 1, 5), (0, -91, 1, 0), (0, 0, 1, 91), (math.nan, 0, 1, 1), (0, 0, math.inf, 1), ("0", 0, 1, 1)],
)
def test_bbox_invalid(args: tuple[object, ...]) -> None:
    with pytest.raises(InvalidFilterError):
        BBox(*args)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("view", "expected", "crosses"),
    [
        ((5, 45, 11, 48), (5, 45, 11, 48), False),
        ((170, -20, 190, -10), (170, -20, -170, -10), True),  # panned east across the antimeridian
        ((-200, 0, -170, 10), (160, 0, -170, 10), True),  # panned west across it
        ((190, 0, 200, 10), (-170, 0, -160, 10), False),  # a whole world to the east
        ((0, 0, 180, 10), (0, 0, 180, 10), False),
        ((-180, 0, 0, 10), (-180, 0, 0, 10), False),
        ((-400, -100, 400, 100), (-180, -90, 180, 90), False),  # zoomed out: the world, clamped
        ((-180, -90, 180, 90), (-180, -90, 180, 90), False),
        ((180, 0, 190, 10), (180, 0, -170, 10), True),
        ((10, 0, 540, 10), (-180, 0, 180, 10), False),
    ],
)
def test_bbox_from_view_wraps(view: tuple[float, ...], expected: tuple[float, ...], crosses: bool) -> None:
    b = BBox.from_view(*view)
    assert (b.west, b.south, b.east, b.north) == pytest.approx(expected)
    assert b.crosses_antimeridian is crosses


def test_bbox_parse_wraps_like_a_view() -> None:
    assert BBox.parse("170,-20,190,-10") == BBox(170, -20, -170, -10)


def test_bbox_in_range_values_are_kept_exactly() -> None:
    b = BBox.from_view(5.96, 45.82, 10.49, 47.81)
    assert (b.west, b.south, b.east, b.north) == (5.96, 45.82, 10.49, 47.81)


class BitResolver(FakeResolver):
    """A resolver whose index has bitmask columns for building (bit 3) and sport=tennis (bit 5)."""

    def tag_bit(self, key: str, value: str | None) -> int | None:
        return {("building", None): 3, ("sport", "tennis"): 5}.get((key, value))


@pytest.mark.parametrize(
    ("tags", "mode", "sql", "params"),
    [
        (("building",), "all", "(tb_keys_any & ?) <> 0", [8]),
        (("focus:sport=tennis",), "all", "(tb_pairs_focus & ?) <> 0", [32]),
        (("surrounding:building",), "all", "(tb_keys_surr & ?) <> 0", [8]),
        (("building", "sport=tennis"), "any", "((tb_keys_any & ?) <> 0 OR (tb_pairs_any & ?) <> 0)", [8, 32]),
    ],
)
def test_frequent_tags_use_bitmask_columns(tags: tuple[str, ...], mode: str, sql: str, params: list[object]) -> None:
    f = Filters(tags=tuple(TagExpr.parse(t) for t in tags), tag_mode=mode)  # type: ignore[arg-type]
    assert build_where(f, BitResolver()) == (sql, params)
