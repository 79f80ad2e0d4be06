"""Every query of ImageIndex against answers worked out by hand from tests/conftest.py's TINY_RECORDS."""

from __future__ import annotations

import functools
import operator
import threading
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from skyscript_viz import (
    BBox,
    FacetValue,
    Filters,
    ImageIndex,
    IndexNotFoundError,
    InvalidFilterError,
    TagExpr,
)
from tests.tinyindex import ALL, EUROPE, FP, ID, SWITZERLAND
from tests.tinyindex import ids as _ids

T = TagExpr.parse


def _fv(*pairs: Any) -> list[FacetValue]:
    return [FacetValue(v, n) for v, n in pairs]


def test_ids_follow_part_and_path(tiny_index: ImageIndex) -> None:
    rows = tiny_index.page(Filters(), limit=100).rows
    assert list(rows["filepath"]) == FP
    assert _ids(rows) == ALL
    for i, fp in enumerate(FP):
        assert tiny_index.id_for(fp) == i
    assert tiny_index.id_for("images2/nope.jpg") is None


def test_headline_and_subsets(tiny_index: ImageIndex) -> None:
    assert tiny_index.n_images == 20
    assert not tiny_index.is_demo
    assert tiny_index.headline() == {
        "images": 20,
        "with_footprint": 20,
        "sources": 7,
        "years": 7,
        "tags": 19,
        "problems": 0,
    }
    assert [(s.slug, s.csv, s.bit) for s in tiny_index.subsets] == [
        ("unfiltered", "SkyScript_train_unfiltered_5M.csv", 0),
        ("top30_openai", "dataframe/SkyScript_train_top30pct_filtered_by_CLIP_openai.csv", 1),
        ("val", "dataframe/SkyScript_val_5K_filtered_by_CLIP_openai.csv", 2),
    ]
    assert tiny_index.problem_counts() == {}


def test_open_missing_index(tmp_path: Path) -> None:
    with pytest.raises(IndexNotFoundError, match="python -m skyscript_viz index"):
        ImageIndex.open(tmp_path)
    with pytest.raises(IndexNotFoundError):
        ImageIndex(tmp_path)


# -- count -----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("filters", "expected"),
    [
        (Filters(), 20),
        (Filters(sources=("CH",)), 6),
        (Filters(sources=("US",)), 5),
        (Filters(sources=("CH", "FI")), 7),
        (Filters(sources=("XX",)), 0),
        (Filters(year_min=2019, year_max=2020), 8),
        (Filters(year_min=2022), 3),
        (Filters(year_max=2016), 2),
        (Filters(months=(5, 6)), 7),
        (Filters(months=(10,)), 0),
        (Filters(obj_types=("n",)), 4),
        (Filters(obj_types=("a", "w")), 16),
        (Filters(subsets=("unfiltered",)), 20),
        (Filters(subsets=("top30_openai",)), 5),
        (Filters(subsets=("val",)), 3),
        (Filters(subsets=("top30_openai", "val")), 8),
        (Filters(subsets=("nope",)), 0),
        (Filters(caption="tennis"), 2),
        (Filters(caption=" PARK "), 6),
        (Filters(caption="zebra"), 0),
        (Filters(tags=(T("building=yes"),)), 7),
        (Filters(tags=(T("focus:building=yes"),)), 4),
        (Filters(tags=(T("surrounding:building=yes"),)), 3),
        (Filters(tags=(T("building"),)), 8),
        (Filters(tags=(T("highway"),)), 8),
        (Filters(tags=(T("leisure"),)), 6),
        (Filters(tags=(T("sport=tennis"),)), 2),
        (Filters(tags=(T("focus:sport"),)), 1),
        (Filters(tags=(T("roof:shape=flat"),)), 1),
        (Filters(tags=(T("building=yes"), T("amenity=cafe"))), 2),
        (Filters(tags=(T("building=yes"), T("amenity=cafe")), tag_mode="any"), 10),
        (Filters(tags=(T("building=yes"), T("nosuch"))), 0),
        (Filters(tags=(T("building=yes"), T("nosuch")), tag_mode="any"), 7),
        (Filters(tags=(T("building=nosuch"),)), 0),
        (Filters(bbox=SWITZERLAND), 6),
        (Filters(bbox=EUROPE), 11),
        (Filters(bbox=BBox(179, -18, -179, -16)), 2),  # across the antimeridian
        (Filters(bbox=BBox.from_view(170, -20, 190, -10)), 2),
        (Filters(bbox=BBox(179.95, -18, 180, -16)), 0),
        (Filters(problems=("any",)), 0),
        (Filters(ids=(0, 5, 19)), 3),
        (Filters(ids=()), 0),
        (Filters(sources=("US",), year_min=2018, tags=(T("leisure"),)), 3),
        (Filters(sources=("CH",), months=(6,), obj_types=("n",)), 2),
    ],
)
def test_count(tiny_index: ImageIndex, filters: Filters, expected: int) -> None:
    assert tiny_index.count(filters) == expected


def test_threads_share_one_index(tiny_index: ImageIndex) -> None:
    results: list[tuple[int, int]] = []
    errors: list[BaseException] = []

    def work(k: int) -> None:
        try:
            for _ in range(10):
                results.append(
                    (
                        tiny_index.count(Filters(sources=("CH",))),
                        len(tiny_index.page(Filters(), limit=5, offset=k).rows),
                    )
                )
        except BaseException as exc:  # noqa: BLE001
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(k,)) for k in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    assert set(results) == {(6, 5)}


# -- page and position -----------------------------------------------------------------------------

ORDERS = {
    "id": ALL,
    "year": [12, 19, 9, 10, 6, 7, 0, 2, 4, 18, 3, 8, 15, 16, 1, 13, 17, 5, 11, 14],
    "year_desc": [5, 11, 14, 1, 13, 17, 3, 8, 15, 16, 0, 2, 4, 18, 6, 7, 9, 10, 12, 19],
    "source": [0, 1, 2, 3, 4, 5, 15, 16, 17, 14, 18, 19, 9, 10, 13, 6, 7, 8, 11, 12],
    # lengths of title_multi_objects: "open water" 10, "a small cafe" 12, "a school alone" 14 ...
    "caption_len": [19, 2, 17, 6, 9, 3, 13, 18, 5, 1, 8, 10, 12, 16, 0, 15, 4, 11, 7, 14],
    "caption_len_desc": [14, 7, 11, 4, 0, 15, 16, 1, 8, 10, 12, 5, 3, 13, 18, 6, 9, 17, 2, 19],
}


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_page_orders(tiny_index: ImageIndex, order: str) -> None:
    full = tiny_index.page(Filters(), limit=100, order=order)  # type: ignore[arg-type]
    assert _ids(full.rows) == ORDERS[order]
    assert not full.truncated
    pages = [tiny_index.page(Filters(), offset=o, limit=7, order=order) for o in (0, 7, 14)]  # type: ignore[arg-type]
    assert [p.truncated for p in pages] == [True, True, False]
    assert functools.reduce(operator.iadd, (_ids(p.rows) for p in pages), []) == ORDERS[order]


def test_page_edges(tiny_index: ImageIndex) -> None:
    ch = tiny_index.page(Filters(sources=("CH",)), limit=6)
    assert (_ids(ch.rows), ch.truncated) == ([0, 1, 2, 3, 4, 5], False)
    ch = tiny_index.page(Filters(sources=("CH",)), limit=5)
    assert (_ids(ch.rows), ch.truncated) == ([0, 1, 2, 3, 4], True)
    past = tiny_index.page(Filters(), offset=20)
    assert (len(past.rows), past.truncated) == (0, False)
    assert _ids(tiny_index.page(Filters(), offset=-5, limit=2).rows) == [0, 1]
    none = tiny_index.page(Filters(sources=("XX",)))
    assert (len(none.rows), none.truncated) == (0, False)
    assert {"id", "filepath", "source", "year", "cx", "cy", "title", "subsets", "has_image"} <= set(none.rows)
    with pytest.raises(InvalidFilterError, match="sort order"):
        tiny_index.page(Filters(), order="colour")  # type: ignore[arg-type]


def test_page_row_values(tiny_index: ImageIndex) -> None:
    row = tiny_index.page(Filters(ids=(0,))).rows.iloc[0]
    assert (row["filepath"], row["source"], row["year"], row["month"], row["day"], row["obj_type"], row["osm_id"]) == (
        "images2/a100_CH_19.jpg",
        "CH",
        2019,
        6,
        15,
        "a",
        100,
    )
    assert (row["west"], row["south"], row["east"], row["north"]) == (8.54, 47.37, 8.55, 47.38)
    assert (row["cx"], row["cy"]) == pytest.approx((8.545, 47.375))
    assert row["height_m"] == pytest.approx(1105.74, rel=1e-4)
    assert row["width_m"] == pytest.approx(0.01 * 111320 * 0.67720, rel=1e-3)  # cos(47.375°)
    assert row["title"] == "a school building"
    assert row["title_multi_objects"] == "a school building next to a park"
    assert (row["subsets"], row["n_problems"], bool(row["has_image"])) == (3, 0, True)


def test_random_order_is_seeded(tiny_index: ImageIndex) -> None:
    def order(seed: int, f: Filters | None = None) -> list[int]:
        return _ids(tiny_index.page(f or Filters(), limit=100, order="random", seed=seed).rows)

    one = order(1)
    assert sorted(one) == ALL
    assert one == order(1)
    assert one != order(2)
    assert one != ALL
    paged = [_ids(tiny_index.page(Filters(), offset=o, limit=6, order="random", seed=1).rows) for o in (0, 6, 12, 18)]
    assert functools.reduce(operator.iadd, paged, []) == one
    # the random order of a filtered set is the full random order restricted to it
    assert order(1, Filters(sources=("CH",))) == [i for i in one if i < 6]


@pytest.mark.parametrize(
    ("filters", "image_id", "order", "expected"),
    [
        (Filters(sources=("CH",)), 2, "id", (2, 1, 3)),
        (Filters(sources=("CH",)), 0, "id", (0, None, 1)),
        (Filters(sources=("CH",)), 5, "id", (5, 4, None)),
        (Filters(sources=("CH",)), 6, "id", (None, None, None)),
        (Filters(), 0, "year", (6, 7, 2)),
        (Filters(), 12, "year", (0, None, 19)),
        (Filters(), 19, "caption_len", (0, None, 2)),
        (Filters(), 14, "caption_len_desc", (0, None, 7)),
        (Filters(sources=("DE",)), 16, "source", (1, 15, 17)),
        (Filters(ids=(7,)), 7, "id", (0, None, None)),
    ],
)
def test_position(
    tiny_index: ImageIndex, filters: Filters, image_id: int, order: str, expected: tuple[int | None, ...]
) -> None:
    assert tiny_index.position(filters, image_id, order=order) == expected  # type: ignore[arg-type]


@pytest.mark.parametrize("filters", [Filters(), Filters(sources=("CH", "US")), Filters(year_min=2019)])
def test_position_in_id_order_matches_page(tiny_index: ImageIndex, filters: Filters) -> None:
    seq = _ids(tiny_index.page(filters, limit=100, order="id").rows)
    for image_id in range(-1, 25):
        if image_id not in seq:
            assert tiny_index.position(filters, image_id) == (None, None, None)
            continue
        pos = seq.index(image_id)
        nxt = seq[pos + 1] if pos + 1 < len(seq) else None
        assert tiny_index.position(filters, image_id) == (pos, seq[pos - 1] if pos else None, nxt)


def test_position_in_random_order_matches_page(tiny_index: ImageIndex) -> None:
    seq = _ids(tiny_index.page(Filters(), limit=100, order="random", seed=7).rows)
    for pos, image_id in enumerate(seq):
        prev = seq[pos - 1] if pos else None
        nxt = seq[pos + 1] if pos + 1 < len(seq) else None
        assert tiny_index.position(Filters(), image_id, order="random", seed=7) == (pos, prev, nxt)


# -- facets ----------------------------------------------------------------------------------------

ALL_SOURCES = _fv(("CH", 6), ("DE", 3), ("ES", 1), ("FI", 1), ("L8", 1), ("S2", 3), ("US", 5))


def test_facets_unfiltered(tiny_index: ImageIndex) -> None:
    f = tiny_index.facets(Filters())
    assert f["source"] == ALL_SOURCES
    assert f["year"] == _fv((2016, 2), (2017, 2), (2018, 2), (2019, 4), (2020, 4), (2021, 3), (2022, 3))
    assert f["month"] == _fv((1, 1), (2, 1), (3, 1), (4, 2), (5, 4), (6, 3), (7, 2), (8, 2), (9, 2), (11, 1), (12, 1))
    assert f["obj_type"] == _fv(("a", 10), ("n", 4), ("w", 6))
    assert f["subset"] == _fv(("unfiltered", 20), ("top30_openai", 5), ("val", 3))


def test_facets_count_under_the_other_filters(tiny_index: ImageIndex) -> None:
    f = tiny_index.facets(Filters(sources=("CH",)))
    assert f["source"] == ALL_SOURCES  # its own dimension is not filtered
    assert f["year"] == _fv((2019, 3), (2020, 1), (2021, 1), (2022, 1))
    assert f["month"] == _fv((5, 1), (6, 3), (7, 1), (8, 1))
    assert f["obj_type"] == _fv(("a", 2), ("n", 2), ("w", 2))
    assert f["subset"] == _fv(("unfiltered", 6), ("top30_openai", 1), ("val", 1))

    f = tiny_index.facets(Filters(year_min=2020, year_max=2020))
    assert f["source"] == _fv(("CH", 1), ("DE", 2), ("US", 1))
    assert f["year"] == _fv((2016, 2), (2017, 2), (2018, 2), (2019, 4), (2020, 4), (2021, 3), (2022, 3))

    f = tiny_index.facets(Filters(sources=("US",), subsets=("top30_openai",)))
    assert f["subset"] == _fv(("unfiltered", 5), ("top30_openai", 2), ("val", 1))
    assert f["source"] == _fv(("CH", 1), ("DE", 1), ("ES", 1), ("US", 2))
    assert f["year"] == _fv((2018, 1), (2020, 1))


# -- tags ------------------------------------------------------------------------------------------


def _sugg(items: list[Any]) -> list[tuple[str, int, int, int]]:
    return [(s.text, s.n_images, s.n_focus, s.n_surrounding) for s in items]


def test_autocomplete_keys_and_pairs(tiny_index: ImageIndex) -> None:
    assert _sugg(tiny_index.autocomplete("b")) == [
        ("building", 8, 6, 3),
        ("building=yes", 7, 4, 3),
        ("building=apartments", 1, 1, 0),
        ("building=church", 1, 1, 0),
        ("name=Bahnhofstrasse", 1, 0, 1),
        ("natural=beach", 1, 1, 0),
    ]
    assert _sugg(tiny_index.autocomplete("AMEN")) == [
        ("amenity", 7, 5, 2),
        ("amenity=cafe", 5, 3, 2),
        ("amenity=school", 2, 2, 0),
    ]
    assert [s.text for s in tiny_index.autocomplete("", limit=3)] == ["building", "highway", "amenity"]
    assert tiny_index.autocomplete("zzz") == []


def test_autocomplete_values_of_a_key(tiny_index: ImageIndex) -> None:
    assert _sugg(tiny_index.autocomplete("amenity=")) == [("amenity=cafe", 5, 3, 2), ("amenity=school", 2, 2, 0)]
    got = tiny_index.autocomplete("amenity=c")
    assert [(s.key, s.value) for s in got] == [("amenity", "cafe")]
    assert _sugg(tiny_index.autocomplete("roof:shape=f")) == [("roof:shape=flat", 1, 1, 0)]
    assert tiny_index.autocomplete("nosuch=") == []
    assert tiny_index.autocomplete("amenity=zzz") == []


def test_top_tags(tiny_index: ImageIndex) -> None:
    def top(**kw: Any) -> list[tuple[str, int]]:
        df = tiny_index.top_tags(kw.pop("f", Filters()), **kw)
        return list(zip(df["tag"], (int(n) for n in df["images"]), strict=True))

    assert top(limit=5) == [
        ("building=yes", 4),
        ("amenity=cafe", 3),
        ("amenity=school", 2),
        ("highway=primary", 2),
        ("leisure=park", 2),
    ]
    assert top(by="key", limit=5) == [("building", 6), ("amenity", 5), ("highway", 3), ("leisure", 3), ("natural", 3)]
    assert top(role="surrounding") == [
        ("building=yes", 3),
        ("highway=residential", 3),
        ("leisure=park", 3),
        ("amenity=cafe", 2),
        ("highway=primary", 2),
        ("leisure=pitch", 1),
        ("name=Bahnhofstrasse", 1),
        ("sport=tennis", 1),
    ]
    assert top(role="any", limit=1) == [("building=yes", 7)]
    assert top(f=Filters(sources=("CH",))) == [
        ("amenity=cafe", 2),
        ("highway=primary", 2),
        ("surface=asphalt", 2),
        ("amenity=school", 1),
        ("building=church", 1),
        ("building=yes", 1),
    ]
    assert top(f=Filters(sources=("XX",))) == []


# -- map -------------------------------------------------------------------------------------------


# -- one image -------------------------------------------------------------------------------------


def test_get_by_path_and_id(tiny_index: ImageIndex) -> None:
    by_path = tiny_index.get("images3/a400_US_18.jpg")
    by_id = tiny_index.get(7)
    assert by_path is not None and by_id is not None
    assert by_path.id == by_id.id == 7
    assert by_path.filepath == "images3/a400_US_18.jpg"
    assert by_path.focus_tags == by_id.focus_tags == {"leisure": "park"}
    assert by_path.surrounding == [{"highway": "residential"}, {"building": "yes"}, {"amenity": "cafe"}]
    assert by_path.problems == []
    assert [s.slug for s in by_path.subsets] == ["unfiltered", "top30_openai"]
    row = by_path.row
    assert (row["storage"], row["container"], row["member"]) == ("zip", "images3.zip", "images3/a400_US_18.jpg")
    assert (row["year"], row["month"], row["day"], row["hour"], row["minute"]) == (2018, 5, 1, 18, 0)
    assert (row["n_surrounding"], row["n_focus_tags"]) == (3, 1)
    assert (row["in_unfiltered"], row["in_top30_openai"], row["in_val"]) == (True, True, False)


def test_row_is_the_records_row_without_its_tags(tiny_index: ImageIndex) -> None:
    rec = tiny_index.get("images3/a400_US_18.jpg")
    assert rec is not None
    assert tiny_index.row("images3/a400_US_18.jpg") == rec.row
    assert tiny_index.row(int(rec.row["id"])) == rec.row
    assert tiny_index.row("images3/nope.jpg") is None
    assert tiny_index.row(10**9) is None


@pytest.mark.parametrize("order", ["random", "year_desc"])
def test_a_page_of_some_columns_is_the_same_page(tiny_index: ImageIndex, order: str) -> None:
    # the gallery asks only for what its tiles show and what reading their images needs
    cols = (*tiny_index.file_columns, "source", "year", "title")
    full = tiny_index.page(Filters(), offset=3, limit=7, order=order, seed=5)  # type: ignore[arg-type]
    some = tiny_index.page(Filters(), offset=3, limit=7, order=order, seed=5, columns=cols)  # type: ignore[arg-type]
    assert list(some.rows.columns) == list(dict.fromkeys(cols))
    assert "zip_offset" in some.rows.columns  # the byte location: one positioned read per thumbnail
    assert some.truncated == full.truncated
    pd.testing.assert_frame_equal(some.rows, full.rows[list(some.rows.columns)])
    assert list(tiny_index.page(Filters(), limit=2, columns=("year",)).rows.columns) == ["id", "year"]
    with pytest.raises(InvalidFilterError, match="no row column 'id; DROP TABLE images'"):
        tiny_index.page(Filters(), columns=("id; DROP TABLE images",))


def test_a_row_of_its_file_columns_gives_the_same_thumbnail(tiny_index: ImageIndex) -> None:
    from skyscript_viz.images import ImageStore

    full = tiny_index.row("images3/a400_US_18.jpg")
    assert full is not None
    files = tiny_index.row(int(full["id"]), columns=tiny_index.file_columns)
    assert files is not None
    assert files == {c: full[c] for c in tiny_index.file_columns}
    assert tiny_index.row("images3/a400_US_18.jpg", columns=("source",)) == {"id": full["id"], "source": "US"}
    assert tiny_index.row(10**9, columns=tiny_index.file_columns) is None
    a, b = ImageStore(tiny_index.root), ImageStore(tiny_index.root)
    assert a.thumbnail(files).ok
    assert a.thumbnail(files).data == b.thumbnail(full).data
    with pytest.raises(InvalidFilterError, match="no row column"):
        tiny_index.row(0, columns=("tags",))


def test_get_keeps_objects_and_their_tags_apart(tiny_index: ImageIndex) -> None:
    rec = tiny_index.get("images2/a100_CH_19.jpg")
    assert rec is not None
    assert rec.focus_tags == {"amenity": "school", "building": "yes"}
    assert rec.surrounding == [{"highway": "residential", "name": "Bahnhofstrasse"}, {"leisure": "park"}]
    rec = tiny_index.get("images3/n500_US_22.jpg")
    assert rec is not None and rec.surrounding == [{"leisure": "pitch", "sport": "tennis"}]
    rec = tiny_index.get("images4/w1300_L8_16.jpg")
    assert rec is not None and rec.surrounding == [] and [s.slug for s in rec.subsets] == ["unfiltered"]


def test_one_image_tags_come_from_the_copy_in_image_order(index_small: ImageIndex) -> None:
    """``get`` reads an image's tags from ``image_tags``: the rows of ``tags`` (which is in tag order, for
    the filters), in image order, so one image's rows sit in one or two row groups; the records are the
    same as from ``tags``."""
    idx = index_small
    assert idx._image_tags == "image_tags"
    q = "SELECT image_id, role, obj, kv_id FROM {} ORDER BY ALL"
    assert idx._q(q.format("image_tags")).fetchall() == idx._q(q.format("tags")).fetchall()
    ordered = idx._q("SELECT image_id FROM image_tags ORDER BY rowid").fetchnumpy()["image_id"]
    assert len(ordered) > 100 and (ordered[1:] >= ordered[:-1]).all()
    ids = [int(i) for i in idx._q("SELECT id FROM images ORDER BY id").fetchnumpy()["id"]]
    fresh = [idx.get(i) for i in ids]
    idx._image_tags = "tags"  # an index built before the copy existed
    try:
        assert [idx.get(i) for i in ids] == fresh
    finally:
        idx._image_tags = "image_tags"
    assert any(r is not None and r.focus_tags and r.surrounding for r in fresh)


def test_get_storage_of_each_layout(tiny_index: ImageIndex) -> None:
    def where(fp: str) -> tuple[str, str, str]:
        rec = tiny_index.get(fp)
        assert rec is not None
        return rec.row["storage"], rec.row["container"], rec.row["member"]

    assert where("images2/a100_CH_19.jpg") == ("folder", "images2", "a100_CH_19.jpg")
    assert where("images3/a402_US_20.jpg") == ("zip", "images3.zip", "images3/a402_US_20.jpg")
    assert where("images4/a800_DE_20.jpg") == ("zip", "images4.zip", "a800_DE_20.jpg")


def test_get_unknown(tiny_index: ImageIndex) -> None:
    assert tiny_index.get(999) is None
    assert tiny_index.get(-1) is None
    assert tiny_index.get("images2/nope.jpg") is None
    assert tiny_index.get("../images2/a100_CH_19.jpg") is None


def test_same_object(tiny_index: ImageIndex) -> None:
    assert _ids(tiny_index.same_object(ID["w200_CH_19"])) == [ID["w200_CH_22"]]
    assert _ids(tiny_index.same_object(ID["w200_CH_22"])) == [ID["w200_CH_19"]]
    assert _ids(tiny_index.same_object(ID["a100_CH_19"])) == []
    assert _ids(tiny_index.same_object(999)) == []


def test_bitmask_and_semijoin_tag_filters_agree(tiny_index: ImageIndex) -> None:
    """Frequent tags are answered from bitmask columns; the tag-row semi-join must give the same counts."""
    assert tiny_index._tag_bits, "the tiny index's keys all get a bit"
    exprs = [
        "building",
        "focus:leisure",
        "surrounding:highway",
        "sport=tennis",
        "focus:sport=tennis",
        "leisure=pitch",
        "natural=water",
        "surrounding:building=yes",
    ]
    cases = [Filters(tags=(TagExpr.parse(e),)) for e in exprs]
    cases.append(Filters(tags=(TagExpr.parse("sport=tennis"), TagExpr.parse("natural=water")), tag_mode="any"))
    with_bits = [tiny_index.count(f) for f in cases]
    saved, tiny_index._tag_bits = tiny_index._tag_bits, {}
    try:
        without = [tiny_index.count(f) for f in cases]
    finally:
        tiny_index._tag_bits = saved
    assert with_bits == without
    assert any(with_bits)


def test_caption_search_by_dictionary_matches_a_plain_scan(tiny_index: ImageIndex) -> None:
    """Caption search runs over the distinct captions; the result must equal a scan of every row."""
    assert tiny_index.caption_dictionaries
    needles = ["tennis", "COURT", "image of a", "nearby", "zzz-no-such-text", "a"]
    fast = [tiny_index.count(Filters(caption=n)) for n in needles]
    tiny_index.caption_dictionaries = False
    try:
        slow = [tiny_index.count(Filters(caption=n)) for n in needles]
    finally:
        tiny_index.caption_dictionaries = True
    assert fast == slow
    assert fast[-2] == 0 and fast[-1] > 0


def test_overview_aggregates_agree_with_and_without_bitmasks(tiny_index: ImageIndex) -> None:
    """top_tags and coverage use the tag bitmasks when they can; the tag-row joins must agree."""
    filters = [Filters(sources=("CH",)), Filters(year_min=2019), Filters(tags=(T("building"),))]
    fast = [
        (
            tiny_index.top_tags(f, role=r, by=b, limit=50).to_dict("records"),
            tiny_index.coverage(f, top_keys=50).to_dict("records"),
        )
        for f in filters
        for r in ("focus", "surrounding", "any")
        for b in ("key", "pair")
    ]
    saved, tiny_index._tag_bits = tiny_index._tag_bits, {}
    try:
        slow = [
            (
                tiny_index.top_tags(f, role=r, by=b, limit=50).to_dict("records"),
                tiny_index.coverage(f, top_keys=50).to_dict("records"),
            )
            for f in filters
            for r in ("focus", "surrounding", "any")
            for b in ("key", "pair")
        ]
    finally:
        tiny_index._tag_bits = saved
    assert fast == slow
    assert any(cov for _, cov in fast)


def test_filepath_for_and_id_for_are_inverse(tiny_index: ImageIndex) -> None:
    for i in range(tiny_index.n_images):
        fp = tiny_index.filepath_for(i)
        assert fp is not None and tiny_index.id_for(fp) == i
    assert tiny_index.filepath_for(10**6) is None
