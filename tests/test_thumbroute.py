"""The /thumb/ route (skyscript_viz/ui/thumbroute.py) through Starlette's test client, without a browser."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

# starlette's TestClient warns that it will move to another HTTP package; the requests it makes are the same
pytestmark = pytest.mark.filterwarnings("ignore:Using .httpx. with .starlette.testclient.")


@pytest.fixture
def client_and_ds(demo_small: tuple[Path, Any], index_small: Any) -> tuple[Any, Any, str]:
    from starlette.applications import Starlette
    from starlette.testclient import TestClient

    from skyscript_viz.images import ImageStore
    from skyscript_viz.ui.data import Dataset
    from skyscript_viz.ui.thumbroute import register, thumb_routes

    ds = Dataset(index_small, ImageStore(index_small.root), index_small.root, False)
    gen = register(ds)
    return TestClient(Starlette(routes=thumb_routes())), ds, gen


def test_thumbnail_bytes_and_cache_header(client_and_ds: tuple[Any, Any, str], monkeypatch: pytest.MonkeyPatch) -> None:
    client, ds, gen = client_and_ds
    from skyscript_viz import Filters
    from skyscript_viz.images import ImageStore

    rows = ds.index.page(Filters(), order="id", limit=40).rows.to_dict("records")
    rows_read: list[Any] = []
    real_row = ds.index.row
    monkeypatch.setattr(ds.index, "row", lambda key, **kw: rows_read.append(kw.get("columns")) or real_row(key, **kw))
    own = ImageStore(ds.index.root)  # its own cache: thumbnails made from the page's whole rows
    seen_ok = False
    for row in rows:
        resp = client.get(f"/thumb/{gen}/{int(row['id'])}.jpg")
        expected = own.thumbnail(row)
        assert resp.status_code == 200
        assert resp.content == expected.data  # what the gallery showed inline before
        assert resp.headers["content-type"].startswith(expected.mime)
        if expected.ok:
            seen_ok = True
            assert resp.headers["cache-control"] == "public, max-age=31536000, immutable"
        else:  # a planted fault: the placeholder must not be cached for a year
            assert resp.headers["cache-control"] == "no-cache"
    assert seen_ok
    # the route reads only where each image's bytes are, not the whole row (~5x cheaper at 5.2M, cold)
    assert rows_read == [ds.index.file_columns] * len(rows)


@pytest.mark.parametrize(
    "path",
    [
        "/thumb/{gen}/999999999.jpg",
        "/thumb/{gen}/abc.jpg",
        "/thumb/{gen}/-1.jpg",
        "/thumb/not-a-generation/1.jpg",
        "/thumb/{gen}/1.jpg/extra",
    ],
)
def test_unknown_or_malformed_names_are_404(client_and_ds: tuple[Any, Any, str], path: str) -> None:
    client, _, gen = client_and_ds
    resp = client.get(path.format(gen=gen))
    assert resp.status_code == 404
    assert "cache-control" not in resp.headers or "immutable" not in resp.headers["cache-control"]


def test_without_a_served_route_the_page_gets_bytes(client_and_ds: tuple[Any, Any, str]) -> None:
    """Outside a browser session (bare mode, AppTest) thumb_source falls back to the thumbnail's bytes."""
    from skyscript_viz import Filters
    from skyscript_viz.ui.thumbroute import thumb_source

    _, ds, _ = client_and_ds
    row = ds.index.page(Filters(), order="id", limit=1).rows.to_dict("records")[0]
    assert thumb_source(ds, row) == ds.images.thumbnail(row).data
