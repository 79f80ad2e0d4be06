"""Small inline SVG charts for the HTML report: they need no script and no network to show.

No installed package ships the Vega/Vega-Lite JavaScript as standalone files (Streamlit's copy is
split into its own bundle chunks), so the report draws its charts itself. Every label is escaped:
tag keys and values are OSM user text.
"""

from __future__ import annotations

import html
from collections.abc import Sequence

__all__ = ["hbars", "stacked_columns"]

_FONT = 'font-family="system-ui,sans-serif" font-size="11"'
ROW_PX = 18
LABEL_PX = 170


def _esc(text: object) -> str:
    return html.escape(str(text), quote=True)


def _short(text: str, n: int = 28) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def hbars(
    labels: Sequence[str], values: Sequence[float], *, color: str = "#0E7C86", width: int = 460, title: str = ""
) -> str:
    """Horizontal bars, one labelled row each, value printed at the end of the bar."""
    top = max([float(v) for v in values] + [1.0])
    bar_w = width - LABEL_PX - 60
    height = ROW_PX * len(labels) + 6
    rows = []
    for i, (label, value) in enumerate(zip(labels, values, strict=True)):
        y = 3 + i * ROW_PX
        w = max(1.0, bar_w * float(value) / top)
        rows.append(
            f'<text x="{LABEL_PX - 6}" y="{y + 12}" text-anchor="end"><title>{_esc(label)}</title>'
            f"{_esc(_short(str(label)))}</text>"
            f'<rect x="{LABEL_PX}" y="{y + 2}" width="{w:.1f}" height="{ROW_PX - 5}" fill="{_esc(color)}">'
            f"<title>{_esc(label)}: {float(value):,.0f}</title></rect>"
            f'<text x="{LABEL_PX + w + 4:.1f}" y="{y + 12}" fill="#555">{float(value):,.0f}</text>'
        )
    head = f"<figcaption>{_esc(title)}</figcaption>" if title else ""
    return (
        f'<figure class="chart">{head}<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" {_FONT} role="img" aria-label="{_esc(title)}">'
        + "".join(rows)
        + "</svg></figure>"
    )


def stacked_columns(
    columns: Sequence[str],
    series: dict[str, Sequence[float]],
    colors: dict[str, str],
    *,
    labels: dict[str, str] | None = None,
    width: int = 560,
    height: int = 220,
    title: str = "",
) -> str:
    """Vertical columns (e.g. years) stacked by series (e.g. sources), with a colour legend below."""
    labels = labels or {}
    totals = [sum(float(s[i]) for s in series.values()) for i in range(len(columns))]
    top = max([*totals, 1.0])
    plot_h = height - 30
    col_w = max(6.0, (width - 50) / max(1, len(columns)))
    parts = [
        f'<text x="0" y="10" fill="#555">{top:,.0f}</text>',
        f'<line x1="44" y1="{plot_h}" x2="{width}" y2="{plot_h}" stroke="#999"/>',
    ]
    for i, col in enumerate(columns):
        x = 46 + i * col_w
        y = float(plot_h)
        for name, values in series.items():
            h = plot_h * float(values[i]) / top
            if h <= 0:
                continue
            y -= h
            parts.append(
                f'<rect x="{x:.1f}" y="{y:.1f}" width="{col_w * 0.8:.1f}" height="{h:.1f}" '
                f'fill="{_esc(colors.get(name, "#888"))}"><title>{_esc(labels.get(name, name))} · '
                f"{_esc(col)}: {float(values[i]):,.0f}</title></rect>"
            )
        parts.append(f'<text x="{x + col_w * 0.4:.1f}" y="{plot_h + 14}" text-anchor="middle">{_esc(col)}</text>')
    legend = "".join(
        f'<span class="key"><i style="background:{_esc(colors.get(n, "#888"))}"></i>{_esc(labels.get(n, n))}</span>'
        for n in series
    )
    head = f"<figcaption>{_esc(title)}</figcaption>" if title else ""
    return (
        f'<figure class="chart">{head}<svg xmlns="http://www.w3.org/2000/svg" width="{width}" '
        f'height="{height}" viewBox="0 0 {width} {height}" {_FONT} role="img" aria-label="{_esc(title)}">'
        + "".join(parts)
        + f'</svg><div class="legend">{legend}</div></figure>'
    )
