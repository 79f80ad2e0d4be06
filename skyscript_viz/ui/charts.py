"""Altair charts of the overview page, built from the library's aggregate queries."""

from __future__ import annotations

from collections.abc import Mapping

import altair as alt
import pandas as pd

from ..sources import source_info, source_label


def _source_scale(codes: list[str]) -> alt.Scale:
    return alt.Scale(domain=codes, range=[source_info(c).color for c in codes])


def by_source_year(df: pd.DataFrame) -> alt.Chart:
    """Stacked bars: images per year, coloured by source."""
    df = df.assign(source=df["source"].fillna("??"), year=df["year"].astype("Int64").astype(str))
    codes = sorted(df["source"].unique())
    chart: alt.Chart = (  # altair's mark_* methods are untyped
        alt.Chart(df)
        .mark_bar()
        .encode(
            x=alt.X("year:N", title="year"),
            y=alt.Y("images:Q", title="images"),
            color=alt.Color("source:N", scale=_source_scale(codes), title="source"),
            tooltip=["source:N", "year:N", alt.Tooltip("images:Q", format=",")],
        )
        .properties(height=260)
    )
    return chart


BAR_PX = 18  # height of one bar's row: room for its label at the axis font size


def bars(df: pd.DataFrame, x: str, y: str, *, title: str, color: str = "#0E7C86", height: int = 260) -> alt.Chart:
    """Horizontal bars, every bar labelled (Vega-Lite would otherwise drop labels that might overlap)."""
    chart: alt.Chart = (  # altair's mark_* methods are untyped
        alt.Chart(df)
        .mark_bar(color=color)
        .encode(
            x=alt.X(f"{x}:Q", title=title),
            y=alt.Y(f"{y}:N", sort="-x", title=None, axis=alt.Axis(labelOverlap=False, labelLimit=240)),
            tooltip=[f"{y}:N", alt.Tooltip(f"{x}:Q", format=",")],
        )
        .properties(height=max(height, BAR_PX * len(df)))
    )
    return chart


def caption_lengths(df: pd.DataFrame) -> alt.Chart:
    chart: alt.Chart = (  # altair's mark_* methods are untyped
        alt.Chart(df)
        .mark_bar(color="#0E7C86")
        .encode(
            x=alt.X("chars:Q", bin=alt.Bin(binned=True, step=10), title="multi-object caption length (characters)"),
            y=alt.Y("images:Q", title="images"),
            tooltip=["chars:Q", alt.Tooltip("images:Q", format=",")],
        )
        .properties(height=220)
    )
    return chart


# how footprint_sizes' table shows its numbers (formatted_rows), by its column names
FOOTPRINT_TABLE_FORMATS = {
    "images": ",.0f",
    "nominal resolution (m/px)": "g",
    "median footprint width (m)": ",.0f",
    "implied pixels across": ",.0f",
}


def footprint_sizes(df: pd.DataFrame) -> tuple[alt.LayerChart, pd.DataFrame]:
    """Median footprint width per source (p10–p90 whiskers), and a table against nominal resolution."""
    df = df.assign(source=df["source"].fillna("??"))
    df["label"] = [source_label(s) for s in df["source"]]
    df["nominal_m"] = [source_info(s).resolution_m for s in df["source"]]
    df["pixels_across"] = (df["median_m"] / df["nominal_m"]).round(0)
    base = alt.Chart(df).encode(y=alt.Y("label:N", title=None, sort=alt.SortField("nominal_m")))
    chart = base.mark_rule(color="#8aa").encode(
        x=alt.X("p10_m:Q", scale=alt.Scale(type="log"), title="footprint width (m, log scale)"), x2="p90_m:Q"
    ) + base.mark_point(filled=True, size=70, color="#0E7C86").encode(
        x="median_m:Q",
        tooltip=[
            "label:N",
            alt.Tooltip("median_m:Q", format=",.0f"),
            alt.Tooltip("nominal_m:Q", title="nominal m/px"),
            "pixels_across:Q",
        ],
    )
    table = df[["label", "images", "nominal_m", "median_m", "pixels_across"]].rename(
        columns={
            "label": "source",
            "nominal_m": "nominal resolution (m/px)",
            "median_m": "median footprint width (m)",
            "pixels_across": "implied pixels across",
        }
    )
    return chart.properties(height=280), table


def _num(v: object, fmt: str) -> str:
    return "–" if v is None or pd.isna(v) else format(v, fmt)


def formatted_rows(table: pd.DataFrame, formats: Mapping[str, str]) -> tuple[list[str], list[list[object]]]:
    """A small table's header and rows with its numbers formatted per column, for ``text.md_table``.

    For tables of a few rows: st.dataframe would make the browser fetch its 1.7 MB data grid first
    (the overview's first visit waited for it for one 10-row table).
    """
    cols = [str(c) for c in table.columns]
    rows = [
        [_num(v, formats[c]) if c in formats else v for c, v in zip(cols, r, strict=True)]
        for r in table.itertuples(index=False)
    ]
    return cols, rows


def coverage_matrix(df: pd.DataFrame) -> alt.Chart:
    """Heatmap: rows source · year, columns focus tag key; a click selects a cell."""
    df = df.assign(source=df["source"].fillna("??"), year=df["year"].astype("Int64").astype(str))
    df["row"] = df["source"] + " · " + df["year"]
    sel = alt.selection_point(name="cell", fields=["source", "year", "key"], on="click")
    chart: alt.Chart = (  # altair's mark_* methods are untyped
        alt.Chart(df)
        .mark_rect()
        .encode(
            x=alt.X("key:N", title="focus tag key"),
            y=alt.Y("row:N", title="source · year"),
            color=alt.Color("images:Q", scale=alt.Scale(scheme="blues", type="log"), title="images"),
            opacity=alt.condition(sel, alt.value(1.0), alt.value(0.5)),
            tooltip=["source:N", "year:N", "key:N", alt.Tooltip("images:Q", format=",")],
        )
        .add_params(sel)
        .properties(height=max(200, 16 * df["row"].nunique()))
    )
    return chart
