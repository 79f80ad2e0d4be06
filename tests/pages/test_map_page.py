"""The map page under Streamlit's AppTest, on a small generated demo root.

Every count the page shows is compared with ``ImageIndex.count(Filters(...))`` on the same index;
the URL is read and written the way a shared link would carry it.
"""

from __future__ import annotations

import html
import json
import re
from typing import Any

import pytest

from skyscript_viz import BBox, Filters, TagExpr
from skyscript_viz.naming import osm_url
from skyscript_viz.text import md_table, md_text
from skyscript_viz.ui import keys

YEAR_SLIDER = "f_years_slider"
HEADLINE = re.compile(r"#### ([\d,]+) images match")
SIDEBAR_COUNT = re.compile(r"\*\*([\d,]+)\*\* of ([\d,]+) images match")
HOSTILE_TAG = "<img src=x onerror=alert(1)>"
HOSTILE_CAPTION = "<script>alert(2)</script>"
RAW_TAG = re.compile(r"(?<!\\)<\s*/?\s*(script|img)", re.IGNORECASE)  # "<img" not written as "\<img"


# ---- helpers ----------------------------------------------------------------------------------


def ok(at: Any) -> Any:
    """``at`` after asserting its last run raised nothing."""
    assert not at.exception, [e.value for e in at.exception]
    return at


def headline(at: Any) -> int:
    """The "N images match" headline above the map."""
    found = [int(m.group(1).replace(",", "")) for md in at.main.markdown if (m := HEADLINE.fullmatch(md.value.strip()))]
    assert len(found) == 1, [md.value[:80] for md in at.main.markdown]
    return found[0]


def count(at: Any) -> int:
    """The headline count, checked against the sidebar's "**N** of M images match"."""
    n = headline(at)
    side = [SIDEBAR_COUNT.fullmatch(md.value.strip()) for md in at.sidebar.markdown]
    side = [m for m in side if m]
    assert len(side) == 1 and int(side[0].group(1).replace(",", "")) == n, [md.value for md in at.sidebar.markdown]
    return n


def has_widget(widgets: Any, key: str) -> bool:
    return any(getattr(w, "key", None) == key for w in widgets)


def markdown_text(at: Any) -> str:
    return "\n".join(md.value for md in at.markdown)


def notices(at: Any) -> list[str]:
    return [i.value for i in at.info if "ignored" in i.value]


def add_tag(at: Any, query: str, pick: str, role: str = "any") -> Any:
    """Find ``query`` in the tag box, pick ``pick`` on ``role`` and press "Add tag filter"."""
    ok(at.text_input(key=keys.TAG_QUERY).input(query).run())
    box = at.selectbox(key=keys.TAG_PICK)
    assert pick in box.options or any(o.startswith(pick + " (") for o in box.options), box.options
    box.set_value(pick)
    at.radio(key=keys.TAG_ROLE).set_value(role)
    return ok(at.button(key="add_tag").click().run())


def widget_values(at: Any) -> dict[str, Any]:
    """What the filter widgets show (tags and tag mode only exist once a tag filter is set)."""
    return {
        "sources": list(at.multiselect(key=keys.SOURCES).value),
        "years": tuple(at.slider(key=YEAR_SLIDER).value),
        "months": list(at.multiselect(key=keys.MONTHS).value),
        "types": list(at.multiselect(key=keys.TYPES).value),
        "tags": list(at.multiselect(key=keys.TAGS).value) if has_widget(at.multiselect, keys.TAGS) else [],
        "tag_mode": at.radio(key=keys.TAG_MODE).value if has_widget(at.radio, keys.TAG_MODE) else "all",
        "caption": at.text_input(key=keys.CAPTION).value,
        "subsets": list(at.multiselect(key=keys.SUBSETS).value),
        "in_view": at.checkbox(key=keys.IN_VIEW).value,
        "problems": at.checkbox(key=keys.PROBLEMS_ONLY).value,
    }


def year_range(index: Any) -> tuple[int, int]:
    years = [int(v.value) for v in index.facets(Filters())["year"] if v.value is not None]
    return min(years), max(years)


def pick_caption_word(index: Any) -> str:
    """A word some but not all captions contain."""
    total = index.n_images
    for word in ("road", "building", "park", "river", "farmland", "forest", "tennis"):
        if 0 < index.count(Filters(caption=word)) < total:
            return word
    pytest.fail("no caption word filters the demo sample")


def pick_tag(index: Any, key: str) -> str:
    """The most frequent ``key=value`` on a focus object that not every image has."""
    for s in index.autocomplete(f"{key}=", limit=20):
        if s.n_focus and 0 < index.count(Filters(tags=(TagExpr(s.key, s.value, "focus"),))) < index.n_images:
            return s.text
    pytest.fail(f"no {key}=... tag on a focus object in the demo sample")


def faulty(manifest: Any, kind: str) -> str:
    paths = manifest.faults.get(kind) or []
    assert paths, f"demo sample has no planted {kind} fault: {manifest.faults}"
    return paths[0]


# ---- rendering ----------------------------------------------------------------------------------


def test_page_renders_on_demo_with_headline_and_banner(app, page_index) -> None:
    at = ok(app())
    total = page_index.count(Filters())
    assert total == page_index.n_images > 0
    assert count(at) == total
    side = [m for md in at.sidebar.markdown if (m := SIDEBAR_COUNT.fullmatch(md.value.strip()))]
    assert int(side[0].group(2).replace(",", "")) == total
    banner = [i.value for i in at.info if "Synthetic demo data" in i.value]
    assert len(banner) == 1, [i.value for i in at.info]
    assert "built-in demo sample" in markdown_text(at)
    assert notices(at) == []
    # nothing selected yet: the right column says how to select, and no error
    assert "Click a footprint on the map" in markdown_text(at)
    assert len(at.error) == 0
    # the page wrote its view (map position) to the URL and nothing else
    assert set(at.query_params) == {"lat", "lon", "z"}, at.query_params


def test_map_component_gets_escaped_tooltips(app, page_manifest, page_index) -> None:
    """The map layers sent to the browser carry the hostile caption only HTML-escaped."""
    sel = faulty(page_manifest, "hostile_text")
    rec = page_index.get(sel)
    at = ok(app({"lat": f"{rec.row['cy']:.5f}", "lon": f"{rec.row['cx']:.5f}", "z": "17"}))
    comps = at.get("component_instance")
    assert len(comps) == 1
    payload = str(comps[0].proto)
    assert sel in payload  # the hostile image's footprint is in the layer data
    assert "&lt;script&gt;alert(2)&lt;/script&gt;" in payload
    assert HOSTILE_CAPTION not in payload and "<script>alert" not in payload


# ---- each filter changes the count exactly as the library says -----------------------------------


def test_source_filter(app, page_index) -> None:
    at = ok(app())
    srcs = ["CH", "FI"]
    at.multiselect(key=keys.SOURCES).set_value(srcs)
    ok(at.run())
    expected = page_index.count(Filters(sources=tuple(srcs)))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    assert at.query_params["src"] == "CH,FI"


def test_year_slider(app, page_index) -> None:
    at = ok(app())
    lo, hi = year_range(page_index)
    assert at.slider(key=YEAR_SLIDER).value == (lo, hi)
    at.slider(key=YEAR_SLIDER).set_value((lo + 1, hi - 1))
    ok(at.run())
    expected = page_index.count(Filters(year_min=lo + 1, year_max=hi - 1))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    assert at.query_params["y"] == f"{lo + 1}-{hi - 1}"
    # an open end of the range: the slider at its minimum means "no lower bound" (images without a
    # year are then still excluded by the upper bound, exactly as the library counts it)
    at.slider(key=YEAR_SLIDER).set_value((lo, hi - 2))
    ok(at.run())
    assert count(at) == page_index.count(Filters(year_max=hi - 2))
    assert at.query_params["y"] == f"-{hi - 2}"
    # the whole range again: no year filter at all (images without a year come back)
    at.slider(key=YEAR_SLIDER).set_value((lo, hi))
    ok(at.run())
    assert count(at) == page_index.n_images
    assert "y" not in at.query_params


def test_month_filter(app, page_index) -> None:
    at = ok(app())
    at.multiselect(key=keys.MONTHS).set_value([6, 7, 8])
    ok(at.run())
    expected = page_index.count(Filters(months=(6, 7, 8)))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    assert at.query_params["m"] == "6,7,8"


def test_object_type_filter(app, page_index) -> None:
    at = ok(app())
    at.multiselect(key=keys.TYPES).set_value(["w"])
    ok(at.run())
    expected = page_index.count(Filters(obj_types=("w",)))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    at.multiselect(key=keys.TYPES).set_value(["a", "n"])
    ok(at.run())
    assert count(at) == page_index.count(Filters(obj_types=("a", "n")))


def test_tag_add_via_query_pick_role_and_button(app, page_index) -> None:
    at = ok(app())
    tag = pick_tag(page_index, "highway")
    add_tag(at, "highway", tag, role="focus")
    expr = TagExpr.parse(f"focus:{tag}")
    assert at.session_state[keys.TAGS] == [str(expr)]
    assert at.multiselect(key=keys.TAGS).value == [str(expr)]
    assert at.text_input(key=keys.TAG_QUERY).value == ""  # the search box is cleared after adding
    expected = page_index.count(Filters(tags=(expr,)))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    assert at.query_params["tag"] == str(expr)
    # the same tag on any object matches at least as many images
    add_tag(at, "highway", tag, role="any")
    any_expr = TagExpr.parse(tag)
    assert at.session_state[keys.TAGS] == [str(expr), str(any_expr)]
    assert count(at) == page_index.count(Filters(tags=(expr, any_expr)))
    # adding a tag that is already there changes nothing
    add_tag(at, "highway", tag, role="any")
    assert at.session_state[keys.TAGS] == [str(expr), str(any_expr)]
    # removing it with the multiselect's × goes back to the first count
    at.multiselect(key=keys.TAGS).set_value([str(expr)])
    ok(at.run())
    assert count(at) == expected


def test_tag_key_only_and_autocomplete_labels(app, page_index) -> None:
    at = ok(app())
    ok(at.text_input(key=keys.TAG_QUERY).input("leisure").run())
    box = at.selectbox(key=keys.TAG_PICK)
    sugg = page_index.autocomplete("leisure", limit=25)
    assert box.options == [f"{s.text} ({s.n_images:,}; focus {s.n_focus:,})" for s in sugg]
    box.set_value("leisure")
    ok(at.button(key="add_tag").click().run())
    assert count(at) == page_index.count(Filters(tags=(TagExpr("leisure"),)))
    # a query nothing starts with says so instead of offering an empty list
    ok(at.text_input(key=keys.TAG_QUERY).input("zzzz-no-such-tag").run())
    assert any("No tag starts with that" in c.value for c in at.sidebar.caption)
    assert not has_widget(at.selectbox, keys.TAG_PICK)


def test_tag_mode_all_any(app, page_index) -> None:
    at = ok(app())
    t1, t2 = pick_tag(page_index, "highway"), pick_tag(page_index, "landuse")
    add_tag(at, "highway", t1)
    add_tag(at, "landuse", t2)
    tags = (TagExpr.parse(t1), TagExpr.parse(t2))
    assert at.radio(key=keys.TAG_MODE).value == "all"
    n_all = page_index.count(Filters(tags=tags, tag_mode="all"))
    n_any = page_index.count(Filters(tags=tags, tag_mode="any"))
    assert n_all < n_any  # the two modes are told apart by this sample
    assert count(at) == n_all
    at.radio(key=keys.TAG_MODE).set_value("any")
    ok(at.run())
    assert count(at) == n_any
    assert at.query_params["tags"] == "any"
    assert at.query_params["tag"] == [t1, t2]


def test_caption_contains(app, page_index) -> None:
    at = ok(app())
    word = pick_caption_word(page_index)
    ok(at.text_input(key=keys.CAPTION).input(word).run())
    assert count(at) == page_index.count(Filters(caption=word))
    ok(at.text_input(key=keys.CAPTION).input(word.upper()).run())  # case-insensitive
    assert count(at) == page_index.count(Filters(caption=word))
    assert at.query_params["q"] == word.upper()


def test_subset_filter(app, page_index) -> None:
    at = ok(app())
    slugs = [s.slug for s in page_index.subsets]
    assert "top30_openai" in slugs and "val" in slugs, slugs
    at.multiselect(key=keys.SUBSETS).set_value(["top30_openai"])
    ok(at.run())
    expected = page_index.count(Filters(subsets=("top30_openai",)))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    at.multiselect(key=keys.SUBSETS).set_value(["top30_openai", "val"])
    ok(at.run())
    assert count(at) == page_index.count(Filters(subsets=("top30_openai", "val")))
    assert at.query_params["sub"] == "top30_openai,val"


def test_only_problems(app, page_index) -> None:
    at = ok(app())
    at.checkbox(key=keys.PROBLEMS_ONLY).check()
    ok(at.run())
    expected = page_index.count(Filters(problems=("any",)))
    assert 0 < expected < page_index.n_images
    assert count(at) == expected
    assert at.query_params["prob"] == "any"


def test_only_map_view(app, page_index) -> None:
    at = ok(app())
    at.checkbox(key=keys.IN_VIEW).check()
    ok(at.run())
    bbox = at.session_state["m_bounds"]
    assert count(at) == page_index.count(Filters(bbox=bbox))
    assert "bbox" in at.query_params


def test_all_filters_together_and_facet_counts(app, page_index) -> None:
    at = ok(app())
    lo, hi = year_range(page_index)
    tag = pick_tag(page_index, "highway")
    at.slider(key=YEAR_SLIDER).set_value((lo + 1, hi))
    at.multiselect(key=keys.TYPES).set_value(["a", "w"])
    ok(at.run())
    add_tag(at, "highway", tag)
    f = Filters(year_min=lo + 1, obj_types=("a", "w"), tags=(TagExpr.parse(tag),))
    assert count(at) == page_index.count(f)
    # each source option's count is under the other filters
    facets = {v.value: v.count for v in page_index.facets(f)["source"]}
    ms = at.multiselect(key=keys.SOURCES)
    for code in ("CH", "US", "FI"):
        assert any(o.startswith(f"{code} ") and o.endswith(f"({facets.get(code, 0):,})") for o in ms.options), (
            code,
            ms.options,
        )
    ms.set_value(["CH", "US", "DE", "FI"])
    ok(at.run())
    f2 = Filters(sources=("CH", "US", "DE", "FI"), year_min=lo + 1, obj_types=("a", "w"), tags=(TagExpr.parse(tag),))
    assert count(at) == page_index.count(f2)


# ---- reset ------------------------------------------------------------------------------------


def test_reset_clears_every_filter(app, page_index) -> None:
    at = ok(app())
    lo, hi = year_range(page_index)
    at.multiselect(key=keys.SOURCES).set_value(["CH", "DE"])
    at.slider(key=YEAR_SLIDER).set_value((lo + 1, hi - 1))
    at.multiselect(key=keys.MONTHS).set_value([5, 6, 7, 8, 9])
    at.multiselect(key=keys.TYPES).set_value(["a", "w"])
    at.text_input(key=keys.CAPTION).input("a")
    at.multiselect(key=keys.SUBSETS).set_value(["unfiltered"])
    at.checkbox(key=keys.PROBLEMS_ONLY).check()
    at.checkbox(key=keys.IN_VIEW).check()
    ok(at.run())
    add_tag(at, "highway", "highway")
    at.radio(key=keys.TAG_MODE).set_value("any")
    ok(at.run())
    assert count(at) < page_index.n_images
    ok(at.button(key="reset_filters").click().run())
    assert count(at) == page_index.n_images
    assert widget_values(at) == {
        "sources": [],
        "years": (lo, hi),
        "months": [],
        "types": [],
        "tags": [],
        "tag_mode": "all",
        "caption": "",
        "subsets": [],
        "in_view": False,
        "problems": False,
    }
    assert not has_widget(at.multiselect, keys.TAGS)  # no tag filters, so no list of them
    assert set(at.query_params) == {"lat", "lon", "z"}, at.query_params
    # and the widgets work again after a reset
    at.multiselect(key=keys.SOURCES).set_value(["FI"])
    ok(at.run())
    assert count(at) == page_index.count(Filters(sources=("FI",)))


# ---- URL round trip -----------------------------------------------------------------------------


def test_query_params_round_trip_into_a_new_session(app, page_index, page_manifest) -> None:
    lo, hi = year_range(page_index)
    tag_a, tag_b = pick_tag(page_index, "highway"), pick_tag(page_index, "landuse")
    word = pick_caption_word(page_index)
    start = faulty(page_manifest, "hostile_text")
    at1 = ok(app({"sel": start}))
    at1.multiselect(key=keys.SOURCES).set_value(["CH", "DE", "FI", "US", "S2"])
    at1.slider(key=YEAR_SLIDER).set_value((lo + 1, hi))
    at1.multiselect(key=keys.MONTHS).set_value([4, 5, 6, 7, 8, 9, 10])
    at1.multiselect(key=keys.TYPES).set_value(["a", "w"])
    at1.multiselect(key=keys.SUBSETS).set_value(["unfiltered"])
    ok(at1.run())
    add_tag(at1, "highway", tag_a, role="surrounding")
    add_tag(at1, "landuse", tag_b)
    at1.radio(key=keys.TAG_MODE).set_value("any")
    ok(at1.run())
    at1.text_input(key=keys.CAPTION).input(word[:-1])
    at1.selectbox(key=keys.BASE).set_value("satellite")
    ok(at1.run())
    # move the selection with "Next ▶" (the selected image need not match the filters)
    nxt = at1.button(key="sel_next")
    if not nxt.disabled:
        ok(nxt.click().run())
    selected = at1.session_state[keys.SELECTED]
    assert selected
    n1 = count(at1)
    f = Filters(
        sources=("CH", "DE", "FI", "US", "S2"),
        year_min=lo + 1,
        months=(4, 5, 6, 7, 8, 9, 10),
        obj_types=("a", "w"),
        tags=(TagExpr.parse(f"surrounding:{tag_a}"), TagExpr.parse(tag_b)),
        tag_mode="any",
        caption=word[:-1],
        subsets=("unfiltered",),
    )
    assert n1 == page_index.count(f) > 0
    params = dict(at1.query_params)
    assert params["sel"] == selected and params["base"] == "satellite", params
    for key in ("src", "y", "m", "type", "tag", "tags", "q", "sub", "lat", "lon", "z"):
        assert key in params, (key, params)

    at2 = ok(app(params))
    assert notices(at2) == []
    assert widget_values(at2) == widget_values(at1)
    assert count(at2) == n1
    assert at2.session_state[keys.SELECTED] == selected
    assert at2.selectbox(key=keys.BASE).value == "satellite"
    assert at2.session_state[keys.VIEW] == pytest.approx(at1.session_state[keys.VIEW], abs=1e-4)
    rec = page_index.get(selected)
    assert f"**File:** `{selected}`" in markdown_text(at2)
    if rec.row.get("title"):
        assert f"**Caption:** {md_text(rec.row['title'])}" in markdown_text(at2)
    # the second session writes the same link back
    assert dict(at2.query_params) == params


def test_year_from_url_sets_the_slider(app, page_index) -> None:
    lo, hi = year_range(page_index)
    at = ok(app({"y": f"{lo + 1}-{hi - 1}", "m": "6,7", "type": "w", "src": "ch,fi"}))
    assert at.slider(key=YEAR_SLIDER).value == (lo + 1, hi - 1)
    assert at.multiselect(key=keys.SOURCES).value == ["CH", "FI"]
    assert count(at) == page_index.count(
        Filters(sources=("CH", "FI"), year_min=lo + 1, year_max=hi - 1, months=(6, 7), obj_types=("w",))
    )


def test_bbox_from_url_filters_and_frames_the_map(app, page_index) -> None:
    box = "5.9,45.8,10.5,47.8"  # Switzerland
    at = ok(app({"bbox": box}))
    expected = page_index.count(Filters(bbox=BBox.parse(box)))
    assert 0 < expected < page_index.n_images
    assert at.checkbox(key=keys.IN_VIEW).value is True
    assert count(at) == expected
    assert at.query_params["bbox"] == str(BBox.parse(box))  # the link is kept, not replaced by a view
    lat, lon, _ = at.session_state[keys.VIEW]
    assert 45.8 <= lat <= 47.8 and 5.9 <= lon <= 10.5
    # with the view too (a shared link): the same count
    at2 = ok(app(dict(at.query_params)))
    assert count(at2) == expected


def test_sel_alone_centres_the_map_on_the_image(app, page_index) -> None:
    row = page_index.page(Filters(sources=("FI",)), limit=1).rows.iloc[0]
    at = ok(app({"sel": row["filepath"]}))
    lat, lon, zoom = at.session_state[keys.VIEW]
    assert row["south"] <= lat <= row["north"] and row["west"] <= lon <= row["east"]
    assert zoom >= 12
    assert row["filepath"] in str(at.get("component_instance")[0].proto)  # its footprint is drawn


def test_year_range_outside_the_data_is_explained(app, page_index) -> None:
    at = ok(app({"y": "1990-2000"}))
    assert count(at) == page_index.count(Filters(year_min=1990, year_max=2000)) == 0
    assert any("outside this dataset's years" in w.value for w in at.sidebar.warning)
    assert at.query_params["y"] == "1990-2000"


# ---- bad links ----------------------------------------------------------------------------------


def test_bad_query_string_shows_notice_and_no_exception(app, page_index) -> None:
    bad = {"y": "banana", "src": "ZZ", "z": "99", "lat": "abc", "sort": "nope", "size": "7"}
    at = ok(app(bad))
    msgs = notices(at)
    assert len(msgs) == 1, [i.value for i in at.info]
    text = msgs[0]
    for fragment in ("banana", "ZZ", "z=", "lat=", "nope", "7"):
        assert md_text(fragment) in text, (fragment, text)
    assert count(at) == page_index.n_images  # every bad value dropped, nothing filters
    assert at.multiselect(key=keys.SOURCES).value == []
    # the link the page writes back holds none of them; the map view is the page's own
    assert not {"y", "src", "sort", "size"} & set(at.query_params), at.query_params
    assert int(at.query_params["z"]) <= 22 and -90 <= float(at.query_params["lat"]) <= 90


@pytest.mark.parametrize(
    "params",
    [
        {"m": "13"},
        {"type": "x"},
        {"tag": "=oops"},
        {"tags": "some"},
        {"sub": "nope"},
        {"bbox": "1,2,3"},
        {"base": "mars"},
        {"op": "2"},
        {"page": "0"},
        {"seed": "-1"},
        {"lon": "1e999", "lat": "1"},
        {"y": "2030-2010"},
        {"sel": "   "},
        {"src": ""},
    ],
)
def test_more_bad_values_never_crash(app, page_index, params) -> None:
    at = ok(app(params))
    assert count(at) == page_index.n_images
    if params not in ({"sel": "   "}, {"src": ""}):
        assert notices(at), (params, [i.value for i in at.info])


# ---- selection ----------------------------------------------------------------------------------


def test_select_by_url_shows_caption_tags_link_and_problems(app, page_index, page_manifest) -> None:
    sel = faulty(page_manifest, "year_mismatch")
    rec = page_index.get(sel)
    assert rec is not None and rec.problems and rec.focus_tags
    at = ok(app({"sel": sel}))
    text = markdown_text(at)
    assert f"**File:** `{sel}`" in text
    assert rec.row["title"] and f"**Caption:** {md_text(rec.row['title'])}" in text
    url, _ = osm_url(str(rec.row["obj_type"]), int(rec.row["osm_id"]))
    assert url and f"]({url})" in text
    # the tags are a Markdown table (no table script for the browser to load), each cell literal
    assert md_table(["key", "value"], [[k, v] for k, v in rec.focus_tags.items()]) in markdown_text(at)
    assert len(at.dataframe) == 0 and len(at.table) == 0
    warnings = " ".join(w.value for w in at.warning)
    assert md_text("year_mismatch") in warnings
    assert len(at.error) == 0
    assert len(at.get("image")) == 1
    assert at.query_params["sel"] == sel


def test_select_corrupt_image_reports_the_problem(app, page_manifest) -> None:
    sel = faulty(page_manifest, "corrupt_image")
    at = ok(app({"sel": sel}))
    assert f"**File:** `{sel}`" in markdown_text(at)
    assert md_text("corrupt_image") in " ".join(w.value for w in at.warning)
    assert any("Image not shown" in e.value for e in at.error)  # a placeholder is shown instead


def test_unknown_sel_shows_clear_error(app, page_index) -> None:
    at = ok(app({"sel": "images9/n0_ZZ_99.jpg"}))
    errors = [e.value for e in at.error]
    assert len(errors) == 1 and "images9/n0_ZZ_99.jpg" in errors[0] and "No image" in errors[0], errors
    assert count(at) == page_index.n_images
    assert len(at.dataframe) == 0 and len(at.table) == 0


def test_every_planted_fault_selects_without_crashing(app, page_index, page_manifest) -> None:
    """Each path the demo's manifest lists for a planted fault, opened with sel=: no exception; an
    indexed image shows its panel (with a problem warning when one is recorded), anything else an error."""
    seen = 0
    for kind, paths in sorted(page_manifest.faults.items()):
        for path in paths:
            at = ok(app({"sel": path}))
            rec = page_index.get(path)
            if rec is None:
                assert any(path in e.value and "No image" in e.value for e in at.error), (kind, path)
                continue
            seen += 1
            assert f"**File:** `{path}`" in markdown_text(at), (kind, path)
            assert len(at.get("image")) == 1, (kind, path)
            if rec.problems:
                warnings = " ".join(w.value for w in at.warning)
                assert all(md_text(p["kind"]) in warnings for p in rec.problems), (kind, path, warnings)
    assert seen >= 8  # most planted faults are images the index holds


def test_switching_pages_keeps_filters_and_selection(app, page_index) -> None:
    sel = page_index.page(Filters(sources=("FI",)), limit=1).rows["filepath"][0]
    at = ok(app({"sel": sel}))
    lo, hi = year_range(page_index)
    at.multiselect(key=keys.SOURCES).set_value(["CH", "FI"])
    at.slider(key=YEAR_SLIDER).set_value((lo + 1, hi - 1))
    ok(at.run())
    n = count(at)
    params = dict(at.query_params)
    for other in ("app_pages/gallery.py", "app_pages/image.py", "app_pages/map.py"):
        ok(at.switch_page(other).run())
    assert count(at) == n == page_index.count(Filters(sources=("CH", "FI"), year_min=lo + 1, year_max=hi - 1))
    assert at.slider(key=YEAR_SLIDER).value == (lo + 1, hi - 1)
    assert at.session_state[keys.SELECTED] == sel
    assert dict(at.query_params) == params


def test_prev_next_walk_the_matches(app, page_index) -> None:
    first = page_index.page(Filters(sources=("CH",)), limit=3).rows["filepath"].tolist()
    at = ok(app({"src": "CH", "sel": first[0]}))
    assert at.button(key="sel_prev").disabled
    ok(at.button(key="sel_next").click().run())
    assert at.session_state[keys.SELECTED] == first[1]
    assert f"**File:** `{first[1]}`" in markdown_text(at)
    assert at.query_params["sel"] == first[1]
    ok(at.button(key="sel_prev").click().run())
    assert at.session_state[keys.SELECTED] == first[0]


def test_hostile_text_is_escaped(app, page_index, page_manifest) -> None:
    sel = faulty(page_manifest, "hostile_text")
    rec = page_index.get(sel)
    assert HOSTILE_TAG in rec.focus_tags.values() or any(HOSTILE_TAG in o.values() for o in rec.surrounding)
    assert HOSTILE_CAPTION in (rec.row.get("title") or "") + (rec.row.get("title_multi_objects") or "")
    at = ok(app({"sel": sel}))
    text = markdown_text(at)
    # the caption is there, backslash-escaped: Markdown shows it as text
    assert md_text(HOSTILE_CAPTION) in text
    assert r"\<script\>alert\(2\)\</script\>" in text
    # no element's Markdown source holds a raw (unescaped) tag from the data
    for el in [*at.markdown, *at.caption, *at.warning, *at.error, *at.info]:
        assert not RAW_TAG.search(el.value), el.value
    # the tag tables are Markdown: the tag's text is there escaped (no raw tag anywhere, checked above)
    assert md_text(HOSTILE_TAG) in text


# ---- map controls -------------------------------------------------------------------------------


def test_drape_and_base_layer_are_in_the_link(app, page_index, page_manifest) -> None:
    sel = faulty(page_manifest, "year_mismatch")
    at = ok(app({"sel": sel}))
    assert at.toggle(key=keys.DRAPE).value is False
    assert at.slider(key=keys.OPACITY).disabled
    ok(at.toggle(key=keys.DRAPE).set_value(True).run())
    assert at.query_params["drape"] == "1"
    assert not at.slider(key=keys.OPACITY).disabled
    ok(at.slider(key=keys.OPACITY).set_value(0.5).run())
    assert at.query_params["op"] == "0.5"
    ok(at.selectbox(key=keys.BASE).set_value("osm").run())
    assert at.query_params["base"] == "osm"
    at2 = ok(app(dict(at.query_params)))
    assert at2.toggle(key=keys.DRAPE).value is True
    assert at2.slider(key=keys.OPACITY).value == 0.5
    assert at2.selectbox(key=keys.BASE).value == "osm"
    assert str(at2.get("component_instance")[0].proto).count("sv-drape") >= 1


def test_zoom_to_results_fits_the_filtered_footprints(app, page_index) -> None:
    at = ok(app({"src": "FI"}))
    ok(at.button(key="zoom_results").click().run())
    lat, lon, zoom = at.session_state[keys.VIEW]
    ext = page_index.extent(Filters(sources=("FI",)))
    assert ext.south <= lat <= ext.north and ext.west <= lon <= ext.east
    assert zoom >= 5  # Finland, not the world
    assert at.query_params["z"] == str(zoom)


# ---- what the map reports back (streamlit-folium's value, as the browser sends it) -----------------


def map_layers(at: Any) -> dict[str, Any]:
    """The data the map component got: its feature-group script's tooltips, by layer kind."""
    comps = at.get("component_instance")
    assert len(comps) == 1
    args = json.loads(comps[0].proto.json_args)
    out: dict[str, Any] = {"args": args, "tooltips": []}
    for m in re.finditer(r'\{"r":.*?"k":"(sv-[a-z]+)"\}', args["feature_group"] or ""):
        payload = json.loads(m.group(0).replace("<\\/", "</"))
        out["tooltips"] += [(m.group(1), t) for t in payload["t"]]
    return out


def text_content(tooltip_html: str) -> str:
    """What streamlit-folium reports for a clicked layer: the tooltip's DOM textContent, trimmed."""
    return html.unescape(re.sub(r"<[^>]+>", "", tooltip_html)).strip()


def map_return(
    *,
    lat: float,
    lon: float,
    zoom: int,
    clicked: tuple[float, float] | None = None,
    tooltip: str | None = None,
    n_clicks: int = 0,
    span: float = 1.0,
) -> dict[str, Any]:
    return {
        "center": {"lat": lat, "lng": lon},
        "zoom": zoom,
        "bounds": {
            "_southWest": {"lat": lat - span, "lng": lon - span},
            "_northEast": {"lat": lat + span, "lng": lon + span},
        },
        "last_object_clicked": None if clicked is None else {"lat": clicked[0], "lng": clicked[1]},
        "last_object_clicked_tooltip": tooltip,
        "last_object_clicked_count": n_clicks,
    }


def test_click_on_footprint_selects_its_image(app, page_index) -> None:
    """Each footprint's tooltip, as the browser reports a click on it, selects that image."""
    at = ok(app())
    tips = [t for kind, t in map_layers(at)["tooltips"] if kind == "sv-footprint"]
    in_view = [
        int(m.group(1).replace(",", ""))
        for c in at.caption
        if (m := re.match(r"([\d,]+) footprints? in view", c.value))
    ]
    assert tips and in_view == [len(tips)], (len(tips), in_view)
    rows = page_index.footprints(Filters()).rows
    by_path = set(rows["filepath"])
    clicks = 0
    for tip in tips[:12]:
        clicks += 1
        text = text_content(tip)
        at.session_state[keys.MAP] = map_return(
            lat=20.0, lon=0.0, zoom=2, clicked=(1.0, 2.0), tooltip=text, n_clicks=clicks, span=80
        )
        ok(at.run())
        sel = at.session_state[keys.SELECTED]
        assert sel in by_path and sel in text.splitlines(), (text, sel)
        assert f"**File:** `{sel}`" in markdown_text(at)
        assert at.query_params["sel"] == sel
    # the same report again (a rerun for another reason) does not undo a later selection
    ok(at.button(key="sel_next").click().run())
    moved_to = at.session_state[keys.SELECTED]
    ok(at.run())
    assert at.session_state[keys.SELECTED] == moved_to


def test_pan_and_zoom_update_view_and_link(app, page_index) -> None:
    at = ok(app())
    at.session_state[keys.MAP] = map_return(lat=47.0, lon=8.0, zoom=7, span=2.0)
    ok(at.run())
    assert at.session_state[keys.VIEW] == (47.0, 8.0, 7)
    assert (at.query_params["lat"], at.query_params["lon"], at.query_params["z"]) == ("47.00000", "8.00000", "7")
    at.checkbox(key=keys.IN_VIEW).check()
    ok(at.run())
    assert count(at) == page_index.count(Filters(bbox=BBox(6.0, 45.0, 10.0, 49.0)))
    assert at.query_params["bbox"] == str(BBox(6.0, 45.0, 10.0, 49.0))
    # a world-wrapped view (Leaflet reports longitudes past 180 after panning east)
    at.session_state[keys.MAP] = map_return(lat=0.0, lon=370.0, zoom=3, span=20.0)
    ok(at.run())
    assert at.session_state[keys.VIEW] == (0.0, 10.0, 3)


def test_click_on_density_cell_zooms_in(app) -> None:
    at = ok(app())
    at.session_state[keys.MAP] = map_return(
        lat=20.0,
        lon=0.0,
        zoom=3,
        clicked=(46.5, 8.25),
        n_clicks=1,
        tooltip="12 images\nmostly CH · SWISSIMAGE 10 cm (100%), 1 source\nclick to zoom in",
        span=60,
    )
    ok(at.run())
    assert at.session_state[keys.VIEW] == (46.5, 8.25, 5)
    assert at.session_state.get(keys.SELECTED) is None
    assert at.query_params["z"] == "5"


def test_filter_change_refits_a_moved_view_only_when_it_shows_no_match(app, page_index) -> None:
    """After the user moved the map, a new filter keeps the view if it holds matches, else fits them."""
    at = ok(app())
    fi = page_index.extent(Filters(sources=("FI",)))
    lat, lon = (fi.south + fi.north) / 2, (fi.west + fi.east) / 2
    at.session_state[keys.MAP] = map_return(lat=lat, lon=lon, zoom=6, span=3.0)
    ok(at.run())
    assert at.session_state[keys.VIEW] == (lat, lon, 6)
    assert page_index.count(Filters(sources=("FI",), bbox=BBox(lon - 3, lat - 3, lon + 3, lat + 3))) > 0
    at.multiselect(key=keys.SOURCES).set_value(["FI"])
    ok(at.run())
    assert at.session_state[keys.VIEW] == (lat, lon, 6)  # matches in view: the user's view stays
    ch = page_index.extent(Filters(sources=("CH",)))
    assert page_index.count(Filters(sources=("CH",), bbox=BBox(lon - 3, lat - 3, lon + 3, lat + 3))) == 0
    at.multiselect(key=keys.SOURCES).set_value(["CH"])
    ok(at.run())
    vlat, vlon, _ = at.session_state[keys.VIEW]  # none in view: the map fits the new matches
    assert ch.south <= vlat <= ch.north and ch.west <= vlon <= ch.east
