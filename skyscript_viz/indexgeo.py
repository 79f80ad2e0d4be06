"""Map queries: what the map draws for a view (footprints or density cells), and images near a place."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from .errors import InvalidFilterError
from .indexcore import IndexCore, MapView, QueryResult
from .query import BBox, Filters

__all__ = ["DEFAULT_MAX_FOOTPRINTS", "FOOTPRINT_ZOOM", "STREET_MAX_FOOTPRINTS", "GeoQueries"]

DEFAULT_MAX_FOOTPRINTS = 2000
# From this zoom on the map draws footprints however many are in view (the first STREET_MAX_FOOTPRINTS):
# a cell there cannot be split by zooming in (a click on one zooms in to at most this zoom), so images
# stacked at one place would never become clickable.
FOOTPRINT_ZOOM = 18
STREET_MAX_FOOTPRINTS = 500  # a stack drawn in full cost 590 KB and ~1 s per rerun at 2,000 footprints


class GeoQueries(IndexCore):
    """Queries over footprints and centres: the map's view and extent, overlaps, proximity."""

    def extent(self, f: Filters) -> BBox | None:
        """Bounding box of the footprints matching ``f`` (for "zoom to results")."""
        where, params = self._where(f)
        r = self._q(
            f"""SELECT min(west), min(south), max(east), max(north) FROM images
                        WHERE cx IS NOT NULL AND {where}""",
            params,
        ).fetchone()
        if r is None or r[0] is None:
            return None
        return BBox(float(r[0]), float(r[1]), float(r[2]), float(r[3]))

    def footprints(self, f: Filters, *, limit: int = DEFAULT_MAX_FOOTPRINTS) -> QueryResult:
        """Footprints of matches (``f.bbox`` usually set); fetches limit + 1 to tell if truncated."""
        where, params = self._where(f)
        # ids first, then the wide columns of those ids only (see page()).
        df = self._df(
            f"""SELECT id, filepath, source, year, obj_type, osm_id, west, south, east, north,
                                 title FROM images WHERE id IN (
                              SELECT id FROM images WHERE cx IS NOT NULL AND {where} ORDER BY id LIMIT ?)
                          ORDER BY id""",
            [*params, limit + 1],
        )
        return QueryResult(df.iloc[:limit].reset_index(drop=True), len(df) > limit)

    def grid(self, f: Filters, *, zoom: int, cells_per_tile: int = 8) -> pd.DataFrame:
        """Matches aggregated in square screen cells at ``zoom``: bounds, count, dominant source."""
        size = 360.0 / (2 ** max(0, min(int(zoom), 24))) / cells_per_tile
        where, params = self._where(f)
        df = self._df(
            f"""WITH c AS (
                              SELECT floor(cx / ?)::BIGINT AS gx, floor(my / ?)::BIGINT AS gy, source,
                                     count(*) AS n
                              FROM images WHERE cx IS NOT NULL AND {where} GROUP BY ALL)
                          SELECT gx, gy, sum(n)::BIGINT AS count,
                                 first(source ORDER BY n DESC, source) AS dominant_source,  -- ties: by code
                                 max(n)::BIGINT AS dominant_count, count(*)::INTEGER AS n_sources
                          FROM c GROUP BY gx, gy ORDER BY count DESC, gx, gy""",
            [size, size, *params],
        )
        if df.empty:
            return df.assign(west=[], south=[], east=[], north=[])
        gx = df["gx"].to_numpy(dtype=float)
        gy = df["gy"].to_numpy(dtype=float)
        df["west"] = np.clip(gx * size, -180, 180)
        df["east"] = np.clip((gx + 1) * size, -180, 180)
        df["south"] = np.degrees(np.arctan(np.sinh(np.radians(gy * size))))
        df["north"] = np.degrees(np.arctan(np.sinh(np.radians((gy + 1) * size))))
        return df.drop(columns=["gx", "gy"])

    def map_view(self, f: Filters, *, zoom: int, max_footprints: int = DEFAULT_MAX_FOOTPRINTS) -> MapView:
        """Footprints when the view holds at most ``max_footprints`` matches or the zoom is at least
        FOOTPRINT_ZOOM (then the first STREET_MAX_FOOTPRINTS; ``total`` counts them all), else cells."""
        # The cells first: they count every match with a footprint, which decides footprints vs cells,
        # so an expensive filter (a tag semi-join) runs once for a cells view instead of twice.
        cells = self.grid(f, zoom=zoom)
        n_footprints = int(cells["count"].sum()) if not cells.empty else 0
        if n_footprints <= max_footprints or zoom >= FOOTPRINT_ZOOM:
            limit = max_footprints if n_footprints <= max_footprints else min(max_footprints, STREET_MAX_FOOTPRINTS)
            fp = self.footprints(f, limit=limit)
            return MapView("footprints", fp.rows, max(n_footprints, len(fp.rows)))
        # With a bbox every match has a footprint (cy BETWEEN excludes NULL), so the cells hold them all.
        total = n_footprints if f.bbox is not None else self.count(f)
        return MapView("cells", cells, total)

    def overlapping(self, image_id: int, *, limit: int = 50) -> pd.DataFrame:
        """Images whose footprint intersects this image's footprint (itself excluded)."""
        return self._df(
            f"""WITH me AS (SELECT west, south, east, north FROM images WHERE id = ? AND cx IS NOT NULL)
                            SELECT {", ".join("i." + c for c in self._row_columns)} FROM images i, me
                            WHERE i.cx IS NOT NULL AND i.id <> ?
                              AND i.cy BETWEEN me.south - 1 AND me.north + 1
                              AND i.west < me.east AND i.east > me.west
                              AND i.south < me.north AND i.north > me.south
                            ORDER BY i.id LIMIT ?""",
            [image_id, image_id, limit],
        )

    def near(self, lon: float, lat: float, *, limit: int = 20, radius_m: float = 5000.0) -> pd.DataFrame:
        """Images whose centre is within ``radius_m`` of a point, nearest first, with ``distance_m``."""
        if not (-180 <= lon <= 180 and -90 <= lat <= 90):
            raise InvalidFilterError(f"point ({lon}, {lat}) is not a lon/lat pair")
        dlat = radius_m / 110574.0
        dlon = radius_m / (111320.0 * max(math.cos(math.radians(lat)), 1e-6))
        lo, hi = lon - dlon, lon + dlon
        # The longitude window wraps when it reaches past the antimeridian.
        if hi - lo >= 360:
            lon_sql, lon_params = "TRUE", []
        elif lo < -180 or hi > 180:
            lon_sql, lon_params = "(cx >= ? OR cx <= ?)", [(lo + 180) % 360 - 180, (hi + 180) % 360 - 180]
        else:
            lon_sql, lon_params = "cx BETWEEN ? AND ?", [lo, hi]
        return self._df(
            f"""SELECT * FROM (
                              SELECT {", ".join(self._row_columns)},
                                     2 * 6371008.8 * asin(least(1.0, sqrt(
                                        pow(sin(radians(cy - ?) / 2), 2) +
                                        cos(radians(?)) * cos(radians(cy)) * pow(sin(radians(cx - ?) / 2), 2)
                                     ))) AS distance_m
                              FROM images WHERE cy BETWEEN ? AND ? AND {lon_sql})
                            WHERE distance_m <= ? ORDER BY distance_m, id LIMIT ?""",
            [lat, lat, lon, lat - dlat, lat + dlat, *lon_params, radius_m, limit],
        )
