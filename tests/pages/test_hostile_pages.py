"""Hostile links, browsers, reviewers and datasets at every page (AppTest): nothing reaches the user as an
exception, and no text becomes markup (a remote image, a link elsewhere, a heading).

The root is a copy of the small demo with a benchmark set whose folder name and CSV are hostile. The
fuzz part throws hypothesis-generated query strings at every page, a few examples per page.
"""

from __future__ import annotations

import csv
import re
import shutil
import sys
from collections.abc import Callable, Iterator
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from skyscript_viz import Filters, ImageIndex, build_index
from skyscript_viz import export as export_mod
from skyscript_viz.reviews import ReviewStore
from skyscript_viz.state import MAX_ZOOM
from skyscript_viz.state import PARAM_KEYS as PARAM_KEYS_OF_LINKS
from skyscript_viz.text import md_label
from skyscript_viz.ui import keys

REPO_ROOT = Path(__file__).resolve().parents[2]
APP = REPO_ROOT / "app.py"
PAGES = sorted(p.stem for p in (REPO_ROOT / "app_pages").glob("*.py"))
EVIL = "evil.example"
# the link from the issue: carriage returns end a code span's line in CommonMark
CR_LINK = f"x\r\r![b](https://{EVIL}/t.png)\r\r[Session expired - sign in](https://{EVIL}/login)"
HOSTILE_SET = ":red[set] ![i](t.png) :smile: <b>x"  # a folder name: no slash
HOSTILE_NOTE = f"![tracker](https://{EVIL}/p.png) [re-login](https://{EVIL}/login)\n===\n    code :red[x]"
HOSTILE_VALUES = [
    CR_LINK,
    f"<img src=https://{EVIL}/x.png>",
    f"[a](https://{EVIL})",
    "# head\n=====",
    ":material/home: :red[x]",
    "\x00\x01\x7f",
    "é" * 3000,
    "1e999",
    "nan",
    "-0",
    "9" * 5000,
    "",
    " ",
    "%",
    "a,b,,c",
    "=" * 10,
    "\r\n\t",
]
PARAM_KEYS = [*PARAM_KEYS_OF_LINKS, "x-unknown"]
_MD = MarkdownIt("gfm-like", {"linkify": False})


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.found: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.found.append((tag, dict(attrs)))


def _markup_of(text: str) -> list[tuple[str, dict[str, str | None]]]:
    p = _Links()
    p.feed(_MD.render(text))
    return p.found


def assert_no_injected_markup(at: Any) -> None:
    """No element shows an image, a heading made of data, or a link to a foreign host."""
    texts = [
        e.value
        for kind in ("markdown", "caption", "error", "warning", "info", "success", "toast")
        for e in at.get(kind)
        if isinstance(getattr(e, "value", None), str)
    ]
    texts += [e.label for e in at.get("expander")]
    for t in at.get("table"):
        texts += [str(v) for v in t.value.to_numpy().ravel()]
    for text in texts:
        for tag, attrs in _markup_of(text):
            assert tag not in ("img", "h1", "h2", "pre"), (tag, text)
            assert not (tag == "a" and EVIL in (attrs.get("href") or "")), text
        assert not re.search(r"(?<!\\):(red|blue|green|orange|violet|gray|rainbow|primary)\[", text), text


def ok(at: Any) -> Any:
    assert not at.exception, [e.value for e in at.exception]
    return at


# ---- a root with hostile content ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def hostile_root(demo_small: tuple[Path, Any], tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small demo plus a benchmark set named with markup, whose CSV has ``FilePath,Label`` headers and
    odd rows; its index built."""
    root = tmp_path_factory.mktemp("hostile_pages") / "root"
    shutil.copytree(demo_small[0], root, ignore=shutil.ignore_patterns(".skyscript_viz"))
    src = root / "benchmark" / "roof_shape"
    dst = root / "benchmark" / HOSTILE_SET
    shutil.copytree(src, dst)
    (path,) = list(dst.rglob("*.csv"))
    rows = list(csv.reader(path.open(newline="")))
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["FilePath", "Label"])
        w.writerows([*rows[1:], ["short"], ["", "gabled"], [f"![x](https://{EVIL}/y.png)", ":red[x]"]])
    build_index(root)
    return root


@pytest.fixture
def open_page(hostile_root: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Callable[..., Any]:
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("SKYSCRIPT_ROOT", str(hostile_root))
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg-cache"))
    monkeypatch.setattr(sys, "argv", [str(APP)])

    def start(page: str, query_params: dict[str, str | list[str]] | None = None) -> Any:
        at = AppTest.from_file(str(APP), default_timeout=120)
        for k, v in (query_params or {}).items():
            at.query_params[k] = v
        at.switch_page(f"app_pages/{page}.py")
        return at.run()

    return start


@pytest.fixture(scope="module")
def hostile_index(hostile_root: Path) -> Iterator[ImageIndex]:
    idx = ImageIndex.open(hostile_root)
    yield idx
    idx.close()


# ---- the items of the issue, one by one -----------------------------------------------------------------


@pytest.mark.parametrize("page", ["map", "image"])
def test_carriage_returns_in_the_link_show_no_image_or_link(open_page: Callable[..., Any], page: str) -> None:
    at = ok(open_page(page, {"sel": CR_LINK}))
    (err,) = [e.value for e in at.error if "No image" in e.value]
    assert [tag for tag, _ in _markup_of(err)] == ["p", "code"]
    assert_no_injected_markup(at)


def test_benchmark_with_capitalised_headers_and_a_hostile_name(open_page: Callable[..., Any]) -> None:
    at = ok(open_page("benchmarks"))
    label = md_label(f"{HOSTILE_SET} — found in benchmark/ (classification)")
    assert label in [e.label for e in at.expander]
    assert any("rows with the wrong number of fields skipped" in w.value for w in at.warning)
    assert_no_injected_markup(at)


def test_reviewer_text_in_the_history_table_stays_text(
    open_page: Callable[..., Any], hostile_index: ImageIndex
) -> None:
    fp = str(hostile_index.page(Filters(), order="id", limit=1).rows["filepath"][0])
    ReviewStore(hostile_index.index_dir / "reviews.sqlite").add(
        fp, "bad_caption", reviewer=f"[Admin](https://{EVIL}/a)", note=HOSTILE_NOTE
    )
    at = ok(open_page("image", {"sel": fp}))
    (table,) = [t.value for t in at.table if "reviewer" in t.value.columns]  # the tag tables are tables too
    assert len(table) >= 1
    assert_no_injected_markup(at)


def test_zoom_reported_by_the_browser_is_clamped(open_page: Callable[..., Any]) -> None:
    at = ok(open_page("map"))
    span = {"_southWest": {"lat": 40.0, "lng": 0.0}, "_northEast": {"lat": 50.0, "lng": 10.0}}
    at.session_state[keys.MAP] = {
        "center": {"lat": 45.0, "lng": 5.0},
        "zoom": 1e6,
        "bounds": span,
        "last_object_clicked": None,
    }
    ok(at.run())
    assert at.session_state[keys.VIEW] == (45.0, 5.0, MAX_ZOOM)
    at.session_state[keys.MAP] = {
        "center": {"lat": "nan", "lng": []},
        "zoom": "x",
        "bounds": "?",
        "last_object_clicked": {"lat": None},
        "last_object_clicked_tooltip": 7,
        "last_object_clicked_count": 1,
    }
    ok(at.run())


def test_a_link_with_hundreds_of_tags_is_cut_short(open_page: Callable[..., Any]) -> None:
    """Streamlit itself drops a query string of over 1,000 parameters; 999 tag filters still arrive."""
    at = ok(open_page("gallery", {"tag": [f"k{i}=v" for i in range(999)]}))
    (notice,) = [i.value for i in at.info if "ignored" in i.value]
    assert "979 tag filters beyond the first 20 ignored" in notice.replace("\\", "")


def test_too_large_a_download_points_to_the_cli(
    open_page: Callable[..., Any], hostile_index: ImageIndex, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(export_mod, "BROWSER_MAX_ROWS", 3)
    at = ok(open_page("gallery"))
    (msg,) = [i.value for i in at.sidebar.info if "browser download" in i.value]
    assert "python -m skyscript_viz export" in msg and f"{hostile_index.n_images:,} images" in msg
    assert all(b.disabled for b in at.get("download_button"))


# ---- fuzz: random and hostile query strings at every page ---------------------------------------------

_values = st.one_of(
    st.sampled_from(HOSTILE_VALUES), st.text(max_size=30), st.integers(-(10**12), 10**12).map(str), st.floats().map(str)
)
_queries = st.dictionaries(
    st.sampled_from(PARAM_KEYS), st.one_of(_values, st.lists(_values, min_size=1, max_size=4)), max_size=6
)


@pytest.mark.parametrize("page", PAGES)
def test_fuzzed_links_never_reach_the_user_as_an_exception(open_page: Callable[..., Any], page: str) -> None:
    @given(_queries)
    @settings(
        max_examples=4,
        deadline=None,
        database=None,
        suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    )
    def run(query: dict[str, Any]) -> None:
        clean = {
            k: ([x.replace("\x00", "") for x in v] if isinstance(v, list) else v.replace("\x00", ""))
            for k, v in query.items()
        }
        at = ok(open_page(page, clean))
        assert_no_injected_markup(at)

    run()
