"""Parts of the image page: tag tables with wiki links, the small footprint map, related images."""

from __future__ import annotations

from urllib.parse import quote

import streamlit as st
from streamlit_folium import st_folium

from .. import mapview
from ..images import ImageResult
from ..index import ImageRecord
from ..text import md_link, md_table
from .data import Dataset
from .detail import surrounding_rows
from .gallery import thumb_grid


def _wiki(key: str) -> str:
    return "https://wiki.openstreetmap.org/wiki/Key:" + quote(key, safe=":")


def tags_with_wiki(rec: ImageRecord) -> None:
    """Focus and surrounding tags as Markdown tables whose keys link to the OSM wiki (``text.md_table``:
    every value literal; the key column is an ``md_link`` of ours; no table script to load)."""
    st.markdown("**Focus object tags**")
    if rec.focus_tags:
        st.markdown(
            md_table(
                ["key", "value"], [[md_link(k, _wiki(k)), v] for k, v in rec.focus_tags.items()], raw=frozenset({0})
            )
        )
    else:
        st.caption("none")
    st.markdown(f"**Surrounding objects ({len(rec.surrounding)})**")
    rows = [(i, md_link(k, _wiki(k)), v) for i, k, v in surrounding_rows(rec.surrounding)]
    if rows:
        st.markdown(md_table(["object", "key", "value"], rows, raw=frozenset({1})))
    else:
        st.caption("none")


def small_map(rec: ImageRecord, img: ImageResult, *, drape: bool, opacity: float, base: str) -> None:
    """The footprint (and the image draped on it) on a small map."""
    row = rec.row
    if row.get("cx") is None:
        st.caption("No valid footprint to show on a map.")
        return
    lat, lon, z = mapview.zoom_for_bbox(
        row["west"], row["south"], row["east"], row["north"], width_px=420, height_px=320
    )
    m, _ = mapview.base_map(lat=lat, lon=lon, zoom=max(1, z - 1), base=base)
    mapview.selection_layer(row).add_to(m)
    if drape and img.ok:
        mapview.drape_layer(row, img.data, img.mime, opacity=opacity).add_to(m)
    st_folium(m, key="mini_map", height=320, use_container_width=True, returned_objects=[])


def related(ds: Dataset, rec: ImageRecord) -> None:
    """Same OSM object in other images (sources, years) side by side, and overlapping footprints."""
    same = ds.index.same_object(rec.id)
    st.markdown(f"#### Same OSM object, other images ({len(same)})")
    if same.empty:
        st.caption("No other image of this object.")
    else:
        thumb_grid(ds, same.head(12), columns=6, key_prefix="same", show_resolution=True)
    over = ds.index.overlapping(rec.id, limit=12)
    over = over[~over["id"].isin(same["id"])] if not same.empty else over
    st.markdown(f"#### Overlapping footprints ({len(over)}{'+' if len(over) >= 12 else ''})")
    if over.empty:
        st.caption("No other footprint overlaps this one.")
    else:
        thumb_grid(ds, over, columns=6, key_prefix="over", show_resolution=True)
