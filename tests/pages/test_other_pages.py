"""Gallery, image, overview, quality, audit and benchmarks pages under Streamlit's AppTest.

The app runs on its own small generated demo root (40 focus objects, 73 images, every planted fault)
whose pixel checks have been computed, so the quality page has every check to list. The fixtures
``page_root`` / ``page_manifest`` / ``page_index`` of tests/pages/conftest.py are overridden here for
that; its ``app_env`` (SKYSCRIPT_ROOT, a private cache, clean argv) is reused. Verdicts go to that
root's own verdict database; each test uses its own reviewer name or verdict kind.

What a user sees is compared with the library's own numbers on the same index.
"""

from __future__ import annotations

import io
import re
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import quote

import pandas as pd
import pytest

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz.benchmarks import BENCHMARK_SETS, download_command
from skyscript_viz.export import EXPORT_FORMATS, export_bytes
from skyscript_viz.quality import CHECKS, run_pixel_pass
from skyscript_viz.reviews import ReviewStore, wilson_interval
from skyscript_viz.text import md_label, md_link, md_table, md_text
from skyscript_viz.ui import keys

# a chart fed an empty frame, a bad cast ... warns on the server console: a test failure here
pytestmark = pytest.mark.filterwarnings("error::UserWarning")

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "app.py"
PAGES = sorted(p.stem for p in (REPO_ROOT / "app_pages").glob("*.py"))
TITLES = {
    "map": "Map",
    "gallery": "Gallery",
    "image": "Image",
    "overview": "Overview",
    "quality": "Quality",
    "audit": "Audit",
    "benchmarks": "Benchmarks",
}
PAGE_TEXT = re.compile(r"page ([\d,]+) of ([\d,]+)")
TILE = re.compile(r"\*\*(?P<src>\S+?)(?: · (?P<year>\d{4}))?(?: · [^*]+)?\*\*  \n(?P<caption>.*)", re.S)
SIDEBAR_COUNT = re.compile(r"\*\*([\d,]+)\*\* of ([\d,]+) images match")
HEADLINE = re.compile(r"#### ([\d,]+) images match")


# ---- fixtures: a root of our own, with pixel checks ---------------------------------------------------


@pytest.fixture(scope="module")
def _pages_demo(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Any]:
    from skyscript_viz.demo import generate

    root = tmp_path_factory.mktemp("other_pages") / "root"
    manifest = generate(root, n_objects=40, seed=0)
    build_index(root)
    idx = ImageIndex.open(root)
    run_pixel_pass(idx, workers=1)
    idx.close()
    return root, manifest


@pytest.fixture(scope="module")
def page_root(_pages_demo: tuple[Path, Any]) -> Path:
    return _pages_demo[0]


@pytest.fixture(scope="module")
def page_manifest(_pages_demo: tuple[Path, Any]) -> Any:
    return _pages_demo[1]


@pytest.fixture(scope="module")
def page_index(page_root: Path) -> Iterator[ImageIndex]:
    idx = ImageIndex.open(page_root)
    yield idx
    idx.close()


@pytest.fixture
def store(page_index: ImageIndex) -> ReviewStore:
    """The verdict database the app uses for this root."""
    return ReviewStore(page_index.index_dir / "reviews.sqlite")


# ---- helpers ------------------------------------------------------------------------------------------


def ok(at: Any) -> Any:
    assert not at.exception, [e.value for e in at.exception]
    return at


def texts(elements: Any) -> list[str]:
    return [str(e.value) for e in elements]


def tiles(at: Any, prefix: str = "g") -> list[int]:
    """Image ids of the thumbnails shown, in order (from their "Open" buttons)."""
    return [int(b.key.rsplit("_", 1)[1]) for b in at.button if b.key and b.key.startswith(f"{prefix}_open_")]


def tile_texts(at: Any) -> list[re.Match[str]]:
    return [m for md in at.main.markdown if (m := TILE.fullmatch(md.value))]


def page_of(at: Any) -> tuple[int, int]:
    found = [m for md in at.markdown if (m := PAGE_TEXT.search(md.value))]
    assert len(found) == 1, texts(at.markdown)
    return int(found[0].group(1).replace(",", "")), int(found[0].group(2).replace(",", ""))


def headline(at: Any) -> int:
    found = [int(m.group(1).replace(",", "")) for md in at.main.markdown if (m := HEADLINE.fullmatch(md.value))]
    assert len(found) == 1, texts(at.main.markdown)
    return found[0]


def sidebar_count(at: Any) -> int:
    found = [
        int(m.group(1).replace(",", ""))
        for md in at.sidebar.markdown
        if (m := SIDEBAR_COUNT.fullmatch(md.value.strip()))
    ]
    assert len(found) == 1
    return found[0]


def ids(df: pd.DataFrame) -> list[int]:
    return [int(i) for i in df["id"]]


def with_same_object(index: ImageIndex) -> tuple[str, pd.DataFrame]:
    """A file path whose OSM object has other images, and those images."""
    for row in index.page(Filters(), order="id", limit=10_000).rows.itertuples():
        same = index.same_object(int(row.id))
        if len(same) and row.title is not None and not pd.isna(row.title):
            return str(row.filepath), same
    pytest.fail("the demo has no object imaged twice")


# ---- every page ---------------------------------------------------------------------------------------


def test_pages_are_all_covered() -> None:
    assert set(PAGES) == set(TITLES), "a page was added or renamed: add it to TITLES"


@pytest.mark.parametrize("page", PAGES)
def test_every_page_renders(open_page: Callable[..., Any], page_index: ImageIndex, page: str) -> None:
    at = open_page(page)
    heading = [md for md in texts(at.markdown) if md.startswith("### ")]
    assert heading and heading[0].endswith(f"— {TITLES[page]}"), heading
    assert len(at.error) == 0, texts(at.error)
    if page != "benchmarks":  # every other page has the filter sidebar, with nothing filtered yet
        assert sidebar_count(at) == page_index.n_images


@pytest.mark.parametrize("page", [p for p in PAGES if p != "benchmarks"])
def test_every_filtered_page_names_what_a_link_got_wrong(open_page: Callable[..., Any], page: str) -> None:
    """A link with a bad value opens anyway, on every page, with a notice naming what was ignored."""
    at = open_page(page, {"src": "CH", "sort": "sideways"})
    notices = [t for t in texts(at.info) if t.startswith("Some link parameters were ignored")]
    assert len(notices) == 1 and "sideways" in notices[0], texts(at.info)


# ---- gallery ------------------------------------------------------------------------------------------


def test_gallery_pages_with_next_and_previous(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    total = page_index.n_images
    at = open_page("gallery", {"sort": "id", "size": "12"})
    pages = -(-total // 12)
    assert headline(at) == total and page_of(at) == (1, pages)
    assert tiles(at) == ids(page_index.page(Filters(), order="id", limit=12).rows)
    assert at.button(key="g_prev").disabled and not at.button(key="g_next").disabled
    ok(at.button(key="g_next").click().run())
    assert page_of(at) == (2, pages)
    assert tiles(at) == ids(page_index.page(Filters(), order="id", offset=12, limit=12).rows)
    assert at.query_params["page"] == "2"
    ok(at.button(key="g_next").click().run())
    ok(at.button(key="g_prev").click().run())
    assert page_of(at) == (2, pages)
    ok(at.button(key="g_prev").click().run())
    assert page_of(at) == (1, pages) and tiles(at)[0] == ids(page_index.page(Filters(), order="id", limit=1).rows)[0]
    assert "page" not in at.query_params  # page 1 is the default


def test_gallery_last_page_from_a_link(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    total = page_index.n_images
    pages = -(-total // 12)
    at = open_page("gallery", {"sort": "id", "size": "12", "page": str(pages)})
    assert page_of(at) == (pages, pages)
    assert len(tiles(at)) == total - 12 * (pages - 1)
    assert at.button(key="g_next").disabled and not at.button(key="g_prev").disabled
    # a page past the end shows the last page
    at = open_page("gallery", {"sort": "id", "size": "12", "page": "999"})
    assert page_of(at) == (pages, pages)


def test_gallery_page_size(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    at = open_page("gallery", {"sort": "id"})
    assert len(tiles(at)) == min(48, page_index.n_images)
    ok(at.selectbox(key=keys.SIZE).set_value(24).run())
    assert len(tiles(at)) == 24 and page_of(at) == (1, -(-page_index.n_images // 24))
    assert at.query_params["size"] == "24"


def test_gallery_seeded_random_order(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    at = open_page("gallery", {"size": "12"})
    assert at.selectbox(key=keys.SORT).value == "random"
    ok(at.number_input(key=keys.SEED).set_value(1).run())
    first = tiles(at)
    assert first == ids(page_index.page(Filters(), order="random", seed=1, limit=12).rows)
    assert first != sorted(first)
    ok(at.number_input(key=keys.SEED).set_value(2).run())
    second = tiles(at)
    assert second != first and set(second) != set(first)
    # the same seed in a new session (a shared link) shows the same images in the same order
    again = open_page("gallery", {"size": "12", "seed": "1"})
    assert tiles(again) == first
    assert at.query_params["seed"] == "2"


def test_gallery_year_sort(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    at = open_page("gallery", {"size": "24"})
    ok(at.selectbox(key=keys.SORT).set_value("year").run())
    shown = [int(m.group("year")) for m in tile_texts(at)]
    assert len(shown) == 24 and shown == sorted(shown)
    every_year = sorted(int(y) for y in page_index.page(Filters(), order="id", limit=10_000).rows["year"].dropna())
    assert shown == every_year[:24]
    ok(at.selectbox(key=keys.SORT).set_value("year_desc").run())
    shown = [int(m.group("year")) for m in tile_texts(at)]
    assert shown == every_year[::-1][:24]
    assert at.query_params["sort"] == "year_desc"


def test_thumbnails_show_missing_values_plainly(
    open_page: Callable[..., Any], page_manifest: Any, page_index: ImageIndex
) -> None:
    # an image in no caption CSV has no caption, a badly named one no source: never "nan"
    at = open_page("quality")
    ok(at.selectbox(key="quality_kind").set_value("image_without_csv_row").run())
    caps = [m.group("caption") for m in tile_texts(at)]
    assert caps == ["no caption"] * len(page_manifest.faults["image_without_csv_row"])
    ok(at.selectbox(key="quality_kind").set_value("bad_name").run())
    srcs = [m.group("src") for m in tile_texts(at)]
    assert srcs == ["??"] * len(page_manifest.faults["bad_name"])
    assert "nan" not in " ".join(md.value for md in at.main.markdown).lower().split()
    # the gallery too: every image, none shown with "nan"
    at = open_page("gallery", {"sort": "id", "size": "96"})
    assert len(tile_texts(at)) == page_index.n_images
    assert not [m.group(0) for m in tile_texts(at) if "nan" in (m.group("src"), m.group("caption"))]


def test_link_to_one_checks_images(open_page: Callable[..., Any], page_index: ImageIndex, page_manifest: Any) -> None:
    at = open_page("gallery", {"prob": "blank_image", "sort": "id"})
    assert (
        headline(at) == page_index.count(Filters(problems=("blank_image",))) == len(page_manifest.faults["blank_image"])
    )
    assert at.query_params["prob"] == "blank_image"


def test_gallery_open_goes_to_the_image_page(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    at = open_page("gallery", {"sort": "id", "size": "12"})
    target = page_index.page(Filters(), order="id", offset=3, limit=1).rows.iloc[0]
    ok(at.button(key=f"g_open_{int(target['id'])}").click().run())
    assert any(md.endswith("— Image") for md in texts(at.markdown))
    assert f"**File:** `{target['filepath']}`" in "\n".join(texts(at.markdown))
    assert at.query_params["sel"] == target["filepath"]


# ---- image page ---------------------------------------------------------------------------------------


def test_image_page_by_url(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    fp, same = with_same_object(page_index)
    rec = page_index.get(fp)
    assert rec is not None
    at = open_page("image", {"sel": fp})
    md = texts(at.markdown)
    assert f"**Caption:** {md_text(rec.row['title'])}" in md
    assert f"**Multi-object caption:** {md_text(rec.row['title_multi_objects'])}" in md
    assert any(m.startswith(f"**File:** `{fp}`") for m in md)
    assert f"#### Same OSM object, other images ({len(same)})" in md
    assert tiles(at, "same") == ids(same)[:12]
    # focus tags with links to the OSM wiki
    # focus tags in a Markdown table (no table script to load), keys linking to the OSM wiki
    wiki = [md_link(k, "https://wiki.openstreetmap.org/wiki/Key:" + quote(k, safe=":")) for k in rec.focus_tags]
    table = md_table(
        ["key", "value"], [[w, v] for w, v in zip(wiki, rec.focus_tags.values(), strict=True)], raw=frozenset({0})
    )
    assert table in md
    assert len(at.dataframe) == 0
    assert at.query_params["sel"] == fp


def test_image_page_unknown_filepath(open_page: Callable[..., Any]) -> None:
    at = open_page("image", {"sel": "images9/a1_CH_19.jpg"})
    (err,) = texts(at.error)
    assert "No image `images9/a1_CH_19.jpg` in this dataset" in err
    assert not any(md.startswith("#### Same OSM object") for md in texts(at.markdown))


def test_image_page_without_selection_says_how_to_pick(open_page: Callable[..., Any]) -> None:
    at = open_page("image")
    assert any("add ?sel=FILEPATH" in i for i in texts(at.info))
    assert len(at.error) == 0


def test_image_page_verdict_and_history(
    open_page: Callable[..., Any], page_index: ImageIndex, store: ReviewStore
) -> None:
    fp = str(page_index.page(Filters(), order="id", offset=5, limit=1).rows["filepath"][0])
    at = open_page("image", {"sel": fp})
    assert at.button(key="image_verdict_bad_caption").disabled  # no name yet
    assert any("Type your name in the sidebar" in c for c in texts(at.caption))
    ok(at.sidebar.text_input(key="reviewer").input("Imogen").run())
    ok(at.text_input(key="image_verdict_note").input("caption says pub, shows a car park").run())
    ok(at.button(key="image_verdict_bad_caption").click().run())
    hist = store.history(fp)
    assert list(zip(hist["reviewer"], hist["verdict"], hist["note"], strict=True)) == [
        ("Imogen", "bad_caption", "caption says pub, shows a car park")
    ]
    # the history table on the page shows it (after the rerun that follows the click), and a second
    # reviewer's verdict joins it
    ok(at.run())
    (table,) = [t.value for t in at.table if "reviewer" in t.value.columns]
    assert list(table.columns) == ["when (UTC)", "reviewer", "verdict", "note"]
    # cells are Markdown-escaped (st.table renders Markdown): they read as the plain text
    assert list(table["reviewer"]) == [md_text("Imogen (unverified)")] and list(table["verdict"]) == ["Bad caption"]
    other = open_page("image", {"sel": fp})
    ok(other.sidebar.text_input(key="reviewer").input("Ole").run())
    ok(other.button(key="image_verdict_good").click().run())
    ok(other.run())
    (table,) = [t.value for t in other.table if "reviewer" in t.value.columns]
    assert list(zip(table["reviewer"], table["verdict"], strict=True)) == [
        (md_text("Imogen (unverified)"), "Bad caption"),
        (md_text("Ole (unverified)"), "Good"),
    ]
    assert len(store.current().query("filepath == @fp")) == 2


# ---- export buttons -----------------------------------------------------------------------------------


@pytest.fixture
def deferred(monkeypatch: pytest.MonkeyPatch) -> dict[str, dict[str, Any]]:
    """file id -> {callable, mimetype, file_name} of every deferred download the pages register."""
    from streamlit.runtime.media_file_manager import MediaFileManager

    seen: dict[str, dict[str, Any]] = {}
    original = MediaFileManager.add_deferred

    def add_deferred(
        self: Any, data_callable: Any, mimetype: Any, coordinates: str, file_name: Any = None, **kw: Any
    ) -> str:
        file_id = original(self, data_callable, mimetype, coordinates, file_name, **kw)
        seen[file_id] = {"callable": data_callable, "mimetype": mimetype, "file_name": file_name}
        return file_id

    monkeypatch.setattr(MediaFileManager, "add_deferred", add_deferred)
    return seen


@pytest.mark.parametrize("page", ["map", "gallery", "overview", "quality", "image", "audit"])
def test_export_buttons_give_the_filters_matches(
    open_page: Callable[..., Any], page_index: ImageIndex, deferred: dict[str, dict[str, Any]], page: str
) -> None:
    at = open_page(page, {"src": "CH,FI", "y": "2018-2021"})
    f = Filters(sources=("CH", "FI"), year_min=2018, year_max=2021)
    n = page_index.count(f)
    assert 0 < n < page_index.n_images
    assert f"Export these {n:,} images" in [e.label for e in at.sidebar.expander]
    buttons = {b.key: b for b in at.get("download_button") if b.key != "download_report"}
    assert set(buttons) == {f"export_{fmt}" for fmt in EXPORT_FORMATS}
    for fmt, (mime, ext) in EXPORT_FORMATS.items():
        b = buttons[f"export_{fmt}"]
        assert b.label == f"Download {fmt.upper()}"
        entry = deferred[b.proto.deferred_file_id]
        assert (entry["file_name"], entry["mimetype"]) == (f"skyscript_export{ext}", mime)
        data = entry["callable"]()  # what the browser downloads when the button is clicked
        assert data == export_bytes(page_index, f, fmt=fmt)  # type: ignore[arg-type]
        if fmt == "csv":
            df = pd.read_csv(io.BytesIO(data))
            assert list(df.columns) == ["filepath", "title", "title_multi_objects"] and len(df) == n


# ---- overview -----------------------------------------------------------------------------------------


def test_overview_download_report_is_the_filters_report(
    open_page: Callable[..., Any], page_index: ImageIndex, deferred: dict[str, dict[str, Any]]
) -> None:
    at = open_page("overview", {"src": "FI"})
    (b,) = [b for b in at.get("download_button") if b.key == "download_report"]
    assert b.label == "Download report"
    entry = deferred[b.proto.deferred_file_id]
    assert (entry["file_name"], entry["mimetype"]) == ("skyscript-report.html", "text/html")
    doc = entry["callable"]()  # built only when the button is clicked
    doc = doc.decode() if isinstance(doc, bytes) else doc
    n = page_index.count(Filters(sources=("FI",)))
    assert doc.startswith("<!doctype html>") and "src=FI" in doc and f'<div class="num">{n:,}</div>' in doc


@pytest.mark.parametrize(
    ("params", "f"), [({}, Filters()), ({"src": "FI,S2"}, Filters(sources=("FI", "S2")))], ids=["all", "src=FI,S2"]
)
def test_overview_metrics_equal_the_library(
    open_page: Callable[..., Any], page_index: ImageIndex, params: dict[str, str], f: Filters
) -> None:
    at = open_page("overview", params)
    metrics = {m.label: m.value for m in at.metric}
    by = page_index.counts_by(f, ("source", "year"))
    years = by["year"].dropna()
    assert metrics == {
        "Images": f"{page_index.count(f):,}",
        "Distinct tags": f"{page_index.headline()['tags']:,}",
        "Sources": f"{by['source'].nunique()}",
        "1° cells covered": f"{page_index.cells_covered(f):,}",
        "Years": f"{int(years.min())}–{int(years.max())}",
    }
    charts = at.get("vega_lite_chart")
    assert len(charts) >= 8, len(charts)  # source×year, 4 tag charts, types, captions, sizes, coverage
    # the footprint-size table is Markdown (no data grid to load): its images column adds up
    table = next(m.value for m in at.markdown if m.value.startswith("| source | images |"))
    lines = table.splitlines()
    assert lines[0] == (
        "| source | images | nominal resolution \\(m/px\\) | median footprint width \\(m\\) | implied pixels across |"
    )
    images = [int(line.split(" | ")[1].replace(",", "")) for line in lines[2:]]
    assert sum(images) == int(page_index.footprint_sizes(f)["images"].sum())
    assert not at.dataframe


def test_overview_with_no_matches(open_page: Callable[..., Any], page_index: ImageIndex) -> None:
    at = open_page("overview", {"q": "no caption says this"})
    metrics = {m.label: m.value for m in at.metric}
    assert (metrics["Images"], metrics["Sources"], metrics["1° cells covered"], metrics["Years"]) == (
        "0",
        "0",
        "0",
        "—",
    )
    assert any("No tagged images under these filters." in c for c in texts(at.caption))


def test_saved_view_round_trip(open_page: Callable[..., Any], store: ReviewStore) -> None:
    at = open_page("overview", {"src": "CH", "tag": "focus:building"})
    ok(at.text_input(key="view_name").input("Swiss buildings").run())
    ok(at.button(key="save_view").click().run())
    assert ("Swiss buildings", "src=CH&tag=focus%3Abuilding") in store.views()
    ok(at.run())
    assert "[Swiss buildings](./overview?src=CH&tag=focus%3Abuilding)" in texts(at.sidebar.markdown)


# ---- quality ------------------------------------------------------------------------------------------


def test_quality_lists_each_check_with_its_count(
    open_page: Callable[..., Any], page_index: ImageIndex, page_manifest: Any
) -> None:
    assert page_index.has_pixel_checks
    at = open_page("quality")
    assert not any("have not been computed" in i for i in texts(at.info))
    table = at.dataframe[0].value
    counts = page_index.problem_counts()
    assert set(table["check"]) == set(counts) | set(CHECKS)
    for row in table.itertuples():
        assert row.records == counts.get(row.check, 0), row.check
        assert row[4] == page_index.count(Filters(problems=(row.check,))), row.check  # images matching filters
        if row.check in CHECKS:
            assert (row.title, row[5]) == CHECKS[row.check]
    # every pixel check found the planted images
    for kind in ("blank_image", "low_contrast", "duplicate_content", "corrupt_image", "caption_misses_tag"):
        assert counts[kind] == len(page_manifest.faults[kind]), kind
    # drill down into one check: its images
    ok(at.selectbox(key="quality_kind").set_value("duplicate_content").run())
    shown = {page_index.get(i).filepath for i in tiles(at, "q_duplicate_content")}  # type: ignore[union-attr]
    assert shown == set(page_manifest.faults["duplicate_content"])


def test_quality_without_pixel_pass_says_how_to_run_it(
    open_page: Callable[..., Any], demo_small: tuple[Path, Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    # the shared demo of tests/conftest.py has no pixel pass: the page says how to run it
    monkeypatch.setenv("SKYSCRIPT_ROOT", str(demo_small[0]))
    at = open_page("quality")
    (hint,) = [i for i in texts(at.info) if "have not been computed" in i]
    assert f"python -m skyscript_viz index {demo_small[0]} --pixels" in hint
    table = at.dataframe[0].value
    assert table.set_index("check").loc["blank_image", "records"] == 0


# ---- audit ---------------------------------------------------------------------------------------------


def test_audit_running_estimate(open_page: Callable[..., Any], page_index: ImageIndex, store: ReviewStore) -> None:
    at = open_page("audit")
    ok(at.sidebar.text_input(key="reviewer").input("Auditor Ada").run())
    ok(at.number_input(key="audit_size").set_value(4).run())
    ok(at.number_input(key="audit_seed").set_value(11).run())
    ok(at.button(key="audit_start").click().run())
    md = texts(at.markdown)
    assert "No verdicts in this audit yet." in md
    sample = ids(page_index.sample(Filters(), 4, seed=11))
    # the first image of the sample is on screen
    first = page_index.get(sample[0])
    assert first is not None and f"**Caption:** {md_text(first.row['title'])}" in md

    def line(at: Any) -> str:
        return next(m for m in texts(at.markdown) if m.startswith("**Error rate") or m.startswith("No verdicts"))

    ok(at.button(key="audit_0_good").click().run())
    lo, hi = wilson_interval(0, 1)
    assert line(at).startswith(
        f"**Error rate about 0.0% ({100 * lo:.1f}–{100 * hi:.1f}%)** from 1 judged images (0 not good)"
    )
    ok(at.button(key="audit_1_bad_caption").click().run())
    lo, hi = wilson_interval(1, 2)
    assert line(at).startswith(
        f"**Error rate about 50.0% ({100 * lo:.1f}–{100 * hi:.1f}%)** from 2 judged images (1 not good)"
    )
    assert any("2 / 4 judged" in str(p.proto) for p in at.get("progress"))
    ok(at.button(key="audit_2_bad_image").click().run())
    ok(at.button(key="audit_3_good").click().run())
    assert line(at).startswith("**Error rate about 50.0%") and "from 4 judged images (2 not good)" in line(at)
    assert any("Audit complete" in s for s in texts(at.success))
    audit_id = next(c for c in texts(at.caption) if c.startswith("Audit `")).split("`")[1]
    cur = store.current(audit=audit_id)
    assert sorted(cur["filepath"]) == sorted(page_index.get(i).filepath for i in sample)  # type: ignore[union-attr]
    assert set(cur["reviewer"]) == {"Auditor Ada"}


@pytest.mark.parametrize("mode", ["plain", "stratified"])
def test_audit_of_no_matches_says_so(open_page: Callable[..., Any], mode: str) -> None:
    at = open_page("audit", {"q": "no caption says this"})
    ok(at.radio(key="audit_mode").set_value(mode).run())
    ok(at.button(key="audit_start").click().run())
    assert any("nothing to sample" in i for i in texts(at.info))


# ---- benchmarks ---------------------------------------------------------------------------------------


def test_benchmarks_page_lists_present_and_missing_sets(open_page: Callable[..., Any]) -> None:
    at = open_page("benchmarks")
    labels = [e.label for e in at.expander]
    assert labels == [
        md_label("roof_shape — Fine-grained: roof shape (classification)"),
        md_label("surface — Fine-grained: road surface material (classification)"),
        md_label("ucmcaptions — UCM-Captions cross-modal retrieval (retrieval)"),
    ]
    caps = texts(at.caption)
    assert "24 images, 6 classes" in caps and "20 images, 5 classes" in caps and "8 images, 24 captions" in caps
    # the four images of the first class of each classification set, the eight retrieval scenes
    assert len(at.get("image")) == 4 + 4 + 8
    missing = next(df.value for df in at.dataframe if "download" in df.value.columns)
    want = [n for n in BENCHMARK_SETS if n not in ("roof_shape", "surface", "ucmcaptions")]
    assert list(missing["set"]) == want
    assert list(missing["download"]) == [download_command(n) for n in want]
    assert "**Not downloaded** (from the SkyScript README's benchmark list):" in texts(at.markdown)
    # pick another class of roof shape: its images are shown
    ok(at.selectbox(key="bench_roof_shape_class").set_value("gabled").run())
    assert "gabled" in texts(at.caption)


# ---- the verdict filter -------------------------------------------------------------------------------


def _verdict_fixture(page_index: ImageIndex, store: ReviewStore) -> list[int]:
    """Four images judged "wrong place": three by Walter, one by Wendy after Walter called it good."""
    picked = page_index.page(Filters(), order="id", offset=20, limit=3).rows
    for fp in picked["filepath"]:
        store.add(str(fp), "wrong_place", reviewer="Walter")
    other = str(page_index.page(Filters(), order="id", offset=30, limit=1).rows["filepath"][0])
    store.add(other, "good", reviewer="Walter")
    store.add(other, "wrong_place", reviewer="Wendy")
    return sorted([*ids(picked), page_index.id_for(other)])  # type: ignore[list-item]


def test_reviewed_as_filter_narrows_the_matches(
    open_page: Callable[..., Any], page_index: ImageIndex, store: ReviewStore
) -> None:
    want = _verdict_fixture(page_index, store)
    at = open_page("gallery", {"sort": "id"})
    ok(at.sidebar.multiselect(key="f_verdicts").set_value(["wrong_place"]).run())
    assert headline(at) == len(want) == 4
    assert tiles(at) == want
    # the export buttons follow the verdict filter too
    assert f"Export these {len(want):,} images" in [e.label for e in at.sidebar.expander]
    # two verdicts picked: images with either, each once (Wendy's image is also Walter's "good" one)
    ok(at.sidebar.multiselect(key="f_verdicts").set_value(["wrong_place", "good"]).run())
    either = store.filepaths_with(["wrong_place", "good"])
    assert headline(at) == len(either) == len(set(either)) and set(want) <= set(tiles(at))


def test_reviewed_as_filter_narrows_the_sidebar_count(
    open_page: Callable[..., Any], page_index: ImageIndex, store: ReviewStore
) -> None:
    _verdict_fixture(page_index, store)
    at = open_page("gallery", {"sort": "id"})
    ok(at.sidebar.multiselect(key="f_verdicts").set_value(["wrong_place"]).run())
    assert sidebar_count(at) == headline(at)


def test_reviewed_as_filter_is_in_the_link(
    open_page: Callable[..., Any], page_index: ImageIndex, store: ReviewStore
) -> None:
    """A link with rev= opens with the "Reviewed as" filter set, and setting it writes rev= to the link."""
    want = _verdict_fixture(page_index, store)
    at = open_page("gallery", {"sort": "id", "rev": "wrong_place"})
    assert at.sidebar.multiselect(key="f_verdicts").value == ["wrong_place"]
    assert headline(at) == len(want)
    ok(at.sidebar.multiselect(key="f_verdicts").set_value(["wrong_place", "bad_caption"]).run())
    assert at.query_params["rev"] == "wrong_place,bad_caption"
