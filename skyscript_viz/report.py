"""A self-contained HTML report of the matches of a filter, for people who will never open the app.

One file, no network needed to open it: headline numbers, the Overview's charts as inline SVG, a
coverage map (PNG drawn on the offline base map), sample thumbnails per source and the problems by
kind with examples, all embedded (images as data URLs). ``python -m skyscript_viz report ROOT
--filter ... -o report.html`` and the Overview's "Download report" button both call
:func:`build_report`. Every string from the data (tags, paths, details) is escaped.
"""

from __future__ import annotations

import base64
import datetime as _dt
import html
import io
from dataclasses import replace
from pathlib import Path
from typing import Any, TypedDict

import pandas as pd

from . import mapview, svgcharts, tiles
from .images import ImageStore
from .index import ImageIndex
from .problems import PROBLEM_HELP
from .quality import CHECKS
from .query import BBox, Filters
from .sources import source_info, source_label
from .state import filters_to_params

__all__ = ["MAX_REPORT_BYTES", "OverviewData", "build_report", "coverage_png", "overview_data", "write_report"]

MAX_REPORT_BYTES = 10_000_000
THUMBS_PER_SOURCE = 6
MAX_SOURCES_SHOWN = 12
EXAMPLES_PER_PROBLEM = 3
MAP_WIDTH = 760


class OverviewData(TypedDict):
    """The aggregates of one filter, as ``overview_data`` returns them (the DataFrames are ImageIndex's)."""

    count: int
    by_source_year: pd.DataFrame
    by_type: pd.DataFrame
    keys_focus: pd.DataFrame
    keys_surr: pd.DataFrame
    pairs_focus: pd.DataFrame
    pairs_surr: pd.DataFrame
    captions: pd.DataFrame
    footprints: pd.DataFrame
    coverage: pd.DataFrame
    cells: pd.DataFrame
    cells_1deg: int
    extent: BBox | None


def overview_data(idx: ImageIndex, f: Filters) -> OverviewData:
    """The aggregates the Overview page and the report show for ``f``."""
    return {
        "count": idx.count(f),
        "by_source_year": idx.counts_by(f, ("source", "year")),
        "by_type": idx.counts_by(f, ("obj_type",)),
        "keys_focus": idx.top_tags(f, role="focus", by="key", limit=15),
        "keys_surr": idx.top_tags(f, role="surrounding", by="key", limit=15),
        "pairs_focus": idx.top_tags(f, role="focus", by="pair", limit=15),
        "pairs_surr": idx.top_tags(f, role="surrounding", by="pair", limit=15),
        "captions": idx.caption_lengths(f),
        "footprints": idx.footprint_sizes(f),
        "coverage": idx.coverage(f, top_keys=12),
        "cells": idx.grid(f, zoom=2, cells_per_tile=16),
        "cells_1deg": idx.cells_covered(f),
        "extent": idx.extent(f),
    }


def _esc(value: object) -> str:
    return html.escape(str(value), quote=True)


def _data_url(data: bytes, mime: str) -> str:
    return f"data:{mime};base64,{base64.b64encode(data).decode('ascii')}"


def describe_filters(f: Filters) -> str:
    """The filter in the app's link grammar (``src=FI · y=2018-2020``), or a sentence for none."""
    params = filters_to_params(f)
    if not params:
        return "none (all images)"
    return " · ".join(f"{k}={v if isinstance(v, str) else ', '.join(v)}" for k, v in params.items())


def coverage_png(cells: pd.DataFrame, *, width: int = MAP_WIDTH) -> bytes:
    """The density cells on the offline world map (web mercator, cropped to 80 N - 60 S), as PNG."""
    from PIL import Image, ImageDraw

    world = tiles.render_world(width).convert("RGBA")
    overlay = Image.new("RGBA", world.size, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    top = int(cells["count"].max()) if not cells.empty else 1
    for w, s, e, n, cnt in zip(
        cells["west"], cells["south"], cells["east"], cells["north"], cells["count"], strict=True
    ):
        x0, y0 = tiles.mercator(float(w), float(n))
        x1, y1 = tiles.mercator(float(e), float(s))
        rgb = mapview.DENSITY_COLORS[mapview.density_level(int(cnt), top)]
        fill = (int(rgb[1:3], 16), int(rgb[3:5], 16), int(rgb[5:7], 16), 190)
        draw.rectangle(
            [x0 * width, y0 * width, max(x0 * width + 2, x1 * width), max(y0 * width + 2, y1 * width)], fill=fill
        )
    img = Image.alpha_composite(world, overlay).convert("RGB")
    y_top, y_bottom = tiles.mercator(0, 80)[1] * width, tiles.mercator(0, -60)[1] * width
    img = img.crop((0, int(y_top), width, int(y_bottom)))
    buf = io.BytesIO()
    img.save(buf, "PNG", optimize=True)
    return buf.getvalue()


# ---- sections -----------------------------------------------------------------------------------


def _headline(idx: ImageIndex, d: OverviewData) -> str:
    bsy: pd.DataFrame = d["by_source_year"]
    years = bsy["year"].dropna() if not bsy.empty else pd.Series(dtype=float)
    cards = [
        ("Images", f"{d['count']:,}"),
        ("Distinct tags (dataset)", f"{idx.headline()['tags']:,}"),
        ("Sources", f"{bsy['source'].nunique() if not bsy.empty else 0}"),
        ("1° cells covered", f"{d['cells_1deg']:,}"),
        ("Years", f"{int(years.min())}–{int(years.max())}" if len(years) else "—"),
    ]
    return (
        '<div class="cards">'
        + "".join(
            f'<div class="card"><div class="num">{_esc(v)}</div><div class="lbl">{_esc(k)}</div></div>'
            for k, v in cards
        )
        + "</div>"
    )


def _charts(d: OverviewData) -> str:
    bsy: pd.DataFrame = d["by_source_year"].assign(source=lambda x: x["source"].fillna("??"))
    out = []
    if not bsy.empty:
        years = sorted({str(int(y)) if pd.notna(y) else "?" for y in bsy["year"]})
        piv = (
            bsy.assign(year=[str(int(y)) if pd.notna(y) else "?" for y in bsy["year"]])
            .pivot_table(index="year", columns="source", values="images", aggfunc="sum", fill_value=0)
            .reindex(years, fill_value=0)
        )
        codes = [str(c) for c in piv.columns]
        out.append(
            svgcharts.stacked_columns(
                years,
                {c: list(piv[c]) for c in codes},
                {c: source_info(c).color for c in codes},
                labels={c: source_label(c) for c in codes},
                title="Images by source and year",
            )
        )
    for df, title, color in (
        (d["keys_focus"], "Top tag keys: focus object", "#0E7C86"),
        (d["keys_surr"], "Top tag keys: surrounding objects", "#6b8e9b"),
        (d["pairs_focus"], "Top key=value pairs: focus object", "#0E7C86"),
        (d["pairs_surr"], "Top key=value pairs: surrounding objects", "#6b8e9b"),
    ):
        if not df.empty:
            out.append(svgcharts.hbars(list(df["tag"]), list(df["images"]), color=color, title=title))
    bt: pd.DataFrame = d["by_type"]
    if not bt.empty:
        names = bt["obj_type"].map({"a": "area", "w": "way", "n": "node"}).fillna("unknown")
        out.append(svgcharts.hbars(list(names), list(bt["images"]), title="Object types"))
    cap: pd.DataFrame = d["captions"]
    if not cap.empty:
        out.append(
            svgcharts.hbars(
                [f"{int(c)}–{int(c) + 9} chars" for c in cap["chars"]],
                list(cap["images"]),
                title="Multi-object caption length",
            )
        )
    return (
        '<div class="charts">'
        + "".join(out)
        + "</div>"
        + _footprint_table(d["footprints"])
        + _coverage_table(d["coverage"])
    )


def _coverage_table(cov: pd.DataFrame) -> str:
    """Source · year × top focus tag keys, each cell shaded by its image count (the Overview's matrix)."""
    if cov.empty:
        return ""
    cov = cov.assign(
        row=[
            f"{s if pd.notna(s) else '??'} · {int(y) if pd.notna(y) else '?'}"
            for s, y in zip(cov["source"], cov["year"], strict=True)
        ]
    )
    piv = cov.pivot_table(index="row", columns="key", values="images", aggfunc="sum", fill_value=0)
    top = max(1, int(piv.to_numpy().max()))
    rows = []
    for row, values in piv.iterrows():
        cells = []
        for v in values:
            shade = mapview.DENSITY_COLORS[mapview.density_level(int(v), top)] if v else "#ffffff"
            ink = "#fff" if v and mapview.density_level(int(v), top) >= 4 else "#1B2A33"
            cells.append(f'<span class="cov" style="background:{shade};color:{ink}">{int(v):,}</span>' if v else "")
        rows.append([_esc(row), *cells])
    return "<h3>Coverage: source · year × top focus tag keys</h3>" + _table(
        ["source · year", *[str(k) for k in piv.columns]], rows
    )


def _table(header: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_esc(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _footprint_table(fp: pd.DataFrame) -> str:
    if fp.empty:
        return ""
    rows = [
        [
            _esc(source_label(str(s))),
            f"{int(n):,}",
            _esc(source_info(str(s)).resolution_label if source_info(str(s)).known else "—"),
            f"{float(m):,.0f}",
        ]
        for s, n, m in zip(fp["source"].fillna("??"), fp["images"], fp["median_m"], strict=True)
    ]
    return "<h3>Footprint size by source</h3>" + _table(
        ["source", "images", "nominal resolution", "median footprint width (m)"], rows
    )


def _gallery(idx: ImageIndex, f: Filters, d: OverviewData, images: ImageStore, per_source: int) -> str:
    bsy: pd.DataFrame = d["by_source_year"]
    if bsy.empty:
        return "<p>No images match.</p>"
    totals = bsy.assign(source=bsy["source"].fillna("??")).groupby("source")["images"].sum()
    blocks = []
    for src in list(totals.sort_values(ascending=False).index)[:MAX_SOURCES_SHOWN]:
        rows = idx.sample(replace(f, sources=(str(src),)), per_source, seed=0) if src != "??" else pd.DataFrame()
        figs = []
        for row in rows.to_dict("records"):
            th = images.thumbnail(row, size=160)
            note = f" ({th.problem})" if th.problem else ""
            figs.append(
                f'<figure class="thumb"><img src="{_data_url(th.data, th.mime)}" alt="{_esc(row["filepath"])}">'
                f"<figcaption>{_esc(row['filepath'])}{_esc(note)}</figcaption></figure>"
            )
        blocks.append(
            f"<h3>{_esc(source_label(str(src)))} <small>{int(totals[src]):,} images</small></h3>"
            f'<div class="thumbs">{"".join(figs) or "<p>No image files.</p>"}</div>'
        )
    return "".join(blocks)


def _problems(idx: ImageIndex, f: Filters) -> str:
    counts = idx.problem_counts()
    if not counts:
        return "<p>No problems recorded.</p>"
    rows = []
    for kind in sorted(counts):
        title, why = CHECKS.get(kind, (kind.replace("_", " ").capitalize(), PROBLEM_HELP.get(kind, "")))
        ex = idx.problems(kind=kind, limit=EXAMPLES_PER_PROBLEM)
        examples = "<br>".join(
            f"<code>{_esc(p)}</code> {_esc(dt) if pd.notna(dt) else ''}"
            for p, dt in zip(ex["filepath"], ex["detail"], strict=True)
        )
        rows.append(
            [
                f"<b>{_esc(title)}</b><br><small>{_esc(why)}</small>",
                f"{counts[kind]:,}",
                f"{idx.count(replace(f, problems=(kind,))):,}",
                examples,
            ]
        )
    return _table(["problem", "records", "images matching the filter", "examples"], rows)


_CSS = """
body{font-family:system-ui,sans-serif;color:#1B2A33;margin:24px auto;max-width:1180px;padding:0 16px}
h1{margin-bottom:0}.meta{color:#555;margin-top:4px}.meta code{background:#F1F5F7;padding:1px 4px}
.cards{display:flex;gap:12px;flex-wrap:wrap;margin:16px 0}.card{background:#F1F5F7;border-radius:8px;
padding:10px 16px;min-width:150px}.num{font-size:1.6rem;font-weight:600}.lbl{color:#555;font-size:.85rem}
.charts{display:flex;flex-wrap:wrap;gap:16px}.chart{margin:0}.chart figcaption{font-weight:600;margin:6px 0}
.legend{font-size:.8rem}.key{margin-right:12px;white-space:nowrap}.key i{display:inline-block;width:10px;
height:10px;margin-right:4px}.thumbs{display:flex;flex-wrap:wrap;gap:8px}.thumb{margin:0;width:160px}
.thumb img{width:160px;height:160px;object-fit:cover;display:block}.thumb figcaption{font-size:.7rem;
word-break:break-all;color:#555}table{border-collapse:collapse;font-size:.85rem}td,th{border:1px solid
#D5DEE3;padding:4px 8px;vertical-align:top;text-align:left}.cov{display:block;padding:0 4px}img.map{max-width:100%;border:1px solid #D5DEE3}
"""


def build_report(
    idx: ImageIndex,
    f: Filters,
    *,
    images: ImageStore | None = None,
    data: OverviewData | None = None,
    per_source: int = THUMBS_PER_SOURCE,
) -> str:
    """The report as one HTML document (every image embedded, no script, no external link)."""
    d = data if data is not None else overview_data(idx, f)
    store = images if images is not None else ImageStore(idx.root, thumb_dir=idx.index_dir / "thumbs")
    cells: pd.DataFrame = d["cells"]
    legend = "".join(
        f'<span class="key"><i style="background:{c}"></i>{_esc(lbl)}</span>'
        for c, lbl in mapview.density_legend(int(cells["count"].max()) if not cells.empty else 1)
    )
    when = _dt.datetime.now(_dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width,initial-scale=1">
<title>SkyScript report: {d["count"]:,} images</title><style>{_CSS}</style></head><body>
<h1>SkyScript Explorer report</h1>
<p class="meta">Dataset <code>{_esc(idx.root)}</code> · index <code>{_esc(idx.gen_dir.name)}</code> ·
filter <code class="filter">{_esc(describe_filters(f))}</code> · built {when}</p>
<section id="headline">{_headline(idx, d)}</section>
<section id="coverage"><h2>Where the images are</h2>
<img class="map" alt="coverage map" src="{_data_url(coverage_png(cells), "image/png")}">
<div class="legend"><b>Images per cell:</b> {legend}</div></section>
<section id="charts"><h2>What they show</h2>{_charts(d)}</section>
<section id="samples"><h2>Sample images per source</h2>{_gallery(idx, f, d, store, per_source)}</section>
<section id="problems"><h2>Problems by kind</h2>{_problems(idx, f)}</section>
</body></html>
"""


def write_report(idx: ImageIndex, f: Filters, path: Path | str, **kw: Any) -> int:
    """Write :func:`build_report` to ``path``; returns its size in bytes."""
    data = build_report(idx, f, **kw).encode("utf-8")
    Path(path).write_bytes(data)
    return len(data)
