"""The view as a URL (skyscript_viz.state): every field survives a link, bad values become notices,
and the command-line filter grammar refuses what it cannot understand.

Round trips go through real URL encoding (``urlencode`` -> ``parse_qs``), as a shared link does.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import parse_qs, urlencode

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from skyscript_viz import SOURCES, BBox, Filters, InvalidFilterError, TagExpr
from skyscript_viz.problems import PROBLEM_HELP
from skyscript_viz.state import (
    BASE_LAYERS,
    MAX_LIST,
    MAX_TAGS,
    MAX_ZOOM,
    PAGE_SIZES,
    PARAM_KEYS,
    ViewState,
    filters_from_params,
    filters_to_params,
    parse_filter_args,
    parse_params,
    safe_view,
    to_params,
    with_filters,
)
from skyscript_viz.vocab import SORT_ORDERS


def via_url(params: dict[str, str | list[str]]) -> dict[str, list[str]]:
    """What the app reads back after the params went through a URL."""
    return parse_qs(urlencode(params, doseq=True), keep_blank_values=True)


# ---- strategies ---------------------------------------------------------------------------------------

# text as users write it in OSM tags and captions: letters, digits, punctuation, spaces, non-ASCII
TEXT = st.characters(blacklist_categories=("Cs", "Cc"))
tag_key = st.text(TEXT, min_size=1, max_size=12).filter(lambda k: "=" not in k and k == k.strip() and k)
tag_value = st.none() | st.text(TEXT, max_size=12).filter(lambda v: v == v.rstrip())
role_prefixed_key = st.sampled_from(["s", "f", "any", "surr", "focus", "surrounding"]).map(lambda p: p + ":x")
tags = st.builds(TagExpr, tag_key | role_prefixed_key, tag_value, st.sampled_from(["focus", "surrounding", "any"]))
coord5 = st.integers(-18_000_000, 18_000_000).map(lambda i: i / 100_000)  # 5 decimals, as links carry them
lat5 = st.integers(-8_506_000, 8_506_000).map(lambda i: i / 100_000)


@st.composite
def years(draw: st.DrawFn) -> tuple[int | None, int | None]:
    lo = draw(st.none() | st.integers(1990, 2030))
    hi = draw(st.none() | st.integers(lo if lo is not None else 1990, 2030))
    return lo, hi


@st.composite
def bboxes(draw: st.DrawFn) -> BBox:
    s = draw(st.integers(-9_000_000, 9_000_000))
    n = draw(st.integers(s, 9_000_000))
    return BBox(draw(coord5), s / 100_000, draw(coord5), n / 100_000)


@st.composite
def filters(draw: st.DrawFn) -> Filters:
    ymin, ymax = draw(years())
    tag_list = tuple(draw(st.lists(tags, max_size=3)))
    return Filters(
        sources=tuple(draw(st.lists(st.sampled_from(sorted(SOURCES)), unique=True, max_size=4))),
        year_min=ymin,
        year_max=ymax,
        months=tuple(draw(st.lists(st.integers(1, 12), unique=True, max_size=4))),
        obj_types=tuple(draw(st.lists(st.sampled_from("awn"), unique=True))),
        tags=tag_list,
        tag_mode=draw(st.sampled_from(["all", "any"])) if tag_list else "all",
        caption=draw(st.text(TEXT, max_size=200)),
        subsets=tuple(draw(st.lists(st.from_regex(r"[a-z][a-z0-9_]{0,15}", fullmatch=True), unique=True, max_size=3))),
        bbox=draw(st.none() | bboxes()),
        problems=tuple(draw(st.lists(st.sampled_from(["any", *sorted(PROBLEM_HELP)]), unique=True, max_size=3))),
    )


@st.composite
def view_states(draw: st.DrawFn) -> ViewState:
    f = draw(filters())
    has_pos = draw(st.booleans())
    return ViewState(
        filters=f,
        lat=draw(lat5) if has_pos else None,
        lon=draw(coord5) if has_pos else None,
        zoom=draw(st.none() | st.integers(0, 22)),
        base=draw(st.sampled_from(BASE_LAYERS)),
        selected=draw(st.none() | st.text(TEXT, min_size=1, max_size=60).filter(lambda s: s.strip() == s and s)),
        drape=draw(st.booleans()),
        opacity=draw(st.integers(0, 20).map(lambda k: round(k * 0.05, 2))),
        in_view=f.bbox is not None,
        sort=draw(st.sampled_from(sorted(SORT_ORDERS))),
        seed=draw(st.integers(0, 2**31 - 1)),
        page=draw(st.integers(1, 10**9)),
        size=draw(st.sampled_from(PAGE_SIZES)),
    )


# ---- round trips --------------------------------------------------------------------------------------


@settings(max_examples=300, deadline=None)
@given(view_states())
@example(ViewState(lat=10.0, lon=180.0, zoom=3))  # the antimeridian is east, not west
@example(ViewState(lat=46.8, lon=5.96, zoom=8))  # no 5.960000000000008
@example(ViewState(filters=Filters(tags=(TagExpr("s:x"), TagExpr("any:y", "1"), TagExpr("f:z", None, "focus")))))
def test_every_field_survives_a_link(state: ViewState) -> None:
    params = to_params(state)
    assert set(params) <= set(PARAM_KEYS)  # the one list of link names (the fuzz tests draw from it)
    parsed, notices = parse_params(via_url(params))
    assert notices == []
    assert parsed == state
    # and the link is stable: writing the parsed state gives the same link
    assert to_params(parsed) == params


@settings(max_examples=200, deadline=None)
@given(filters())
def test_filters_survive_params(f: Filters) -> None:
    notices: list[str] = []
    assert filters_from_params(via_url(filters_to_params(f)), notices) == f
    assert notices == []


def test_default_view_is_an_empty_link() -> None:
    assert to_params(ViewState()) == {}
    assert parse_params({}) == (ViewState(), [])


def test_values_equal_to_the_defaults_are_left_out() -> None:
    d = ViewState(sort="id", size=96)
    assert to_params(ViewState(sort="id", size=96, page=2), defaults=d) == {"page": "2"}
    assert to_params(ViewState(sort="year", size=96), defaults=d) == {"sort": "year"}
    assert to_params(ViewState(sort="id", size=48), defaults=d) == {"size": "48"}


def test_a_realistic_link() -> None:
    state, notices = parse_params(
        via_url(
            {
                "src": "ch,US",
                "y": "2018-2021",
                "m": "6,7",
                "type": "a,w",
                "tag": ["focus:sport=tennis", "building"],
                "tags": "any",
                "q": "court",
                "bbox": "5.9,45.8,10.5,47.8",
                "lat": "46.8",
                "lon": "8.2",
                "z": "8",
                "base": "satellite",
                "sel": "images2/a1_CH_19.jpg",
                "drape": "1",
                "op": "0.7",
                "sort": "year",
                "seed": "7",
                "page": "3",
                "size": "24",
                "prob": "blank_image,low_contrast",
            }
        )
    )
    assert notices == []
    assert state.filters == Filters(
        sources=("CH", "US"),
        year_min=2018,
        year_max=2021,
        months=(6, 7),
        obj_types=("a", "w"),
        tags=(TagExpr("sport", "tennis", "focus"), TagExpr("building")),
        tag_mode="any",
        caption="court",
        bbox=BBox(5.9, 45.8, 10.5, 47.8),
        problems=("blank_image", "low_contrast"),
    )
    assert (state.lat, state.lon, state.zoom, state.base, state.selected, state.drape, state.opacity) == (
        46.8,
        8.2,
        8,
        "satellite",
        "images2/a1_CH_19.jpg",
        True,
        0.7,
    )
    assert (state.sort, state.seed, state.page, state.size, state.in_view) == ("year", 7, 3, 24, True)


def test_open_year_ranges_and_panned_longitudes() -> None:
    assert parse_params({"y": "2018-"})[0].filters.year_min == 2018
    assert parse_params({"y": "2018-"})[0].filters.year_max is None
    assert parse_params({"y": "-2020"})[0].filters == Filters(year_max=2020)
    assert parse_params({"y": "2019"})[0].filters == Filters(year_min=2019, year_max=2019)
    # a map panned once around the world: same place
    assert parse_params({"lat": "10", "lon": "368.5"})[0].lon == pytest.approx(8.5)
    assert parse_params({"lat": "10", "lon": "-190"})[0].lon == pytest.approx(170)


def test_with_filters_goes_back_to_page_one() -> None:
    s = ViewState(page=7, seed=3)
    assert with_filters(s, Filters(sources=("CH",))) == replace(s, filters=Filters(sources=("CH",)), page=1)


# ---- bad values: ignored, each with a notice ------------------------------------------------------------


BAD = [
    ("src", "CH,ZZ", "unknown source ZZ"),
    ("y", "abc", "year range 'abc'"),
    ("y", "2021-2018", "year range '2021-2018'"),
    ("m", "13", "months '13'"),
    ("m", "june", "months 'june'"),
    ("type", "a,x", "object types 'a,x'"),
    ("tag", "=tennis", "tag '=tennis'"),
    ("tags", "some", "tag mode 'some'"),
    ("sub", "top1_openai", "unknown subset top1_openai"),
    ("bbox", "1,2,3", "bbox '1,2,3'"),
    ("bbox", "0,50,10,40", "south/north"),
    ("prob", "blank_image,no_such_check", "unknown problem kind no_such_check"),
    ("lat", "abc", "lat='abc'"),
    ("lon", "nan", "lon='nan'"),
    ("z", "30", "z='30'"),
    ("base", "moon", "base layer 'moon'"),
    ("op", "2", "op='2'"),
    ("sort", "bogus", "sort order 'bogus'"),
    ("seed", "-1", "seed='-1'"),
    ("page", "0", "page='0'"),
    ("size", "13", "page size 13"),
    ("size", "many", "size='many'"),
]


@pytest.mark.parametrize(("key", "value", "notice"), BAD, ids=[f"{k}={v}" for k, v, _ in BAD])
def test_bad_values_are_ignored_with_a_notice(key: str, value: str, notice: str) -> None:
    params = {key: value, "lat": "46.8", "lon": "8.2"} if key not in ("lat", "lon") else {key: value}
    state, notices = parse_params(params, known_sources=["CH", "US"], known_subsets=["top30_openai"])
    assert len(notices) == 1 and notice in notices[0], notices
    # nothing else is lost, and what could be kept is kept
    good, _ = parse_params({k: v for k, v in params.items() if k != key})
    if key == "src":
        assert state.filters.sources == ("CH",)
    elif key == "prob":
        assert state.filters.problems == ("blank_image",)
    else:
        assert state == good


def test_several_bad_values_give_several_notices() -> None:
    state, notices = parse_params({"z": "99", "base": "moon", "size": "7", "q": "court"})
    assert len(notices) == 3
    assert state == ViewState(filters=Filters(caption="court"))


def test_overlong_caption_is_cut_not_refused() -> None:
    state, notices = parse_params({"q": "x" * 500})
    assert state.filters.caption == "x" * 200 and notices == []


# ---- the command-line grammar ---------------------------------------------------------------------------


def test_parse_filter_args_reads_the_url_grammar() -> None:
    f = parse_filter_args(
        [
            "src=CH,US",
            "tag=sport=tennis",
            "tag=focus:leisure=pitch",
            "y=2018-2021",
            "bbox=5.9,45.8,10.5,47.8",
            "sub=top30_openai",
            "q=tennis court, clay",
        ],
        known_sources=["CH", "US"],
        known_subsets=["top30_openai"],
    )
    assert f == Filters(
        sources=("CH", "US"),
        tags=(TagExpr("sport", "tennis"), TagExpr("leisure", "pitch", "focus")),
        year_min=2018,
        year_max=2021,
        bbox=BBox(5.9, 45.8, 10.5, 47.8),
        subsets=("top30_openai",),
        caption="tennis court, clay",
    )
    assert parse_filter_args([]) == Filters()


@pytest.mark.parametrize(
    "args",
    [
        ["src=ZZ"],
        ["src"],
        ["lat=4"],
        ["sel=images2/a.jpg"],
        ["bogus=1"],
        ["y=2021-2018"],
        ["m=0"],
        ["type=q"],
        ["tag=="],
        ["tags=maybe"],
        ["bbox=a,b,c,d"],
        ["sub=nope"],
        ["prob=nonsense"],
        ["src=CH", "y=x"],
    ],
)
def test_parse_filter_args_raises_on_bad_input(args: list[str]) -> None:
    with pytest.raises(InvalidFilterError) as exc:
        parse_filter_args(args, known_sources=["CH", "US"], known_subsets=["top30_openai"])
    assert "ignored" not in str(exc.value)  # phrased for a command line: "... is invalid"


def test_parse_filter_args_reports_every_problem_at_once() -> None:
    with pytest.raises(InvalidFilterError) as exc:
        parse_filter_args(["src=ZZ", "m=13"], known_sources=["CH"])
    assert "ZZ" in str(exc.value) and "13" in str(exc.value)


def test_tag_texts_in_links_are_unambiguous() -> None:
    # a key that looks like a role prefix is written with an explicit "any:" so it reads back the same
    f = Filters(tags=(TagExpr("s:x"),))
    assert filters_to_params(f) == {"tag": ["any:s:x"]}
    assert filters_to_params(Filters(tags=(TagExpr("roof:shape", "flat"),))) == {"tag": ["roof:shape=flat"]}


def test_reviewed_as_filter_round_trips_through_the_link() -> None:
    state, notices = parse_params({"rev": "bad_caption,wrong_place"})
    assert state.verdicts == ("bad_caption", "wrong_place") and notices == []
    assert to_params(state)["rev"] == "bad_caption,wrong_place"
    assert parse_params(to_params(state))[0] == state
    bad, notices = parse_params({"rev": "bad_caption,sloppy"})
    assert bad.verdicts == ("bad_caption",)
    assert notices == ["unknown verdict sloppy ignored"]
    assert "rev" not in to_params(parse_params({})[0])


# ---- hostile links: lists are capped, numbers clamped, notices stay short ----------------------------


def test_forty_thousand_tag_values_keep_the_first_few() -> None:
    tags = [f"k{i}=v" for i in range(40_000)]
    state, notices = parse_params({"tag": tags})
    assert [str(t) for t in state.filters.tags] == tags[:MAX_TAGS]
    assert notices == [f"{40_000 - MAX_TAGS:,} tag filters beyond the first {MAX_TAGS} ignored"]


@pytest.mark.parametrize("key", ["src", "m", "type", "sub", "prob", "rev"])
def test_long_comma_lists_are_capped_with_a_short_notice(key: str) -> None:
    value = ",".join(["1"] * 40_000)
    state, notices = parse_params({key: value}, known_sources=["CH"], known_subsets=["top30_openai"])
    assert notices and any("beyond the first 100 ignored" in n for n in notices), notices
    assert sum(len(n) for n in notices) < 1_000  # a notice names a few values, not 40,000
    assert len(state.filters.sources) <= MAX_LIST and len(state.filters.months) <= MAX_LIST


def test_unknown_values_are_named_a_few_at_a_time() -> None:
    _, notices = parse_params({"src": ",".join(f"X{i}" for i in range(50))}, known_sources=["CH"])
    assert notices[-1] == "unknown source X0, X1, X2, X3, X4 and 45 more ignored"


def test_overlong_selection_is_ignored() -> None:
    state, notices = parse_params({"sel": "images2/" + "a" * 100_000})
    assert state.selected is None and notices == ["sel ignored (a file path of 100,008 characters)"]


@pytest.mark.parametrize(
    ("reported", "expected"),
    [
        ((46.8, 8.2, 9), (46.8, 8.2, 9)),
        ((46.8, 368.2, 9.7), (46.8, pytest.approx(8.2), 9)),
        ((91.0, 8.2, 1e308), (85.06, 8.2, MAX_ZOOM)),
        ((-95, 8.2, -3), (-85.06, 8.2, 0)),
        (("46.8", "8.2", "12"), (46.8, 8.2, 12)),
        ((46.8, 8.2, float("nan")), None),
        ((46.8, float("inf"), 3), None),
        ((None, 8.2, 3), None),
        (({"x": 1}, 8.2, 3), None),
        (("1e999", 8.2, 3), None),
    ],
)
def test_map_reports_are_clamped(reported: tuple[object, object, object], expected: object) -> None:
    """The zoom the map returns is used as 2 ** zoom: it must be a small integer whatever arrives."""
    assert safe_view(*reported) == expected
