"""The ten SkyScript image sources: Earth Engine collection, readable name, nominal resolution, coverage.

Resolutions are the nominal ground sample distance of each collection as documented by its provider
or the Earth Engine catalog. Where a collection mixes resolutions (NAIP changed from 1 m to 0.6 m and,
in some states, 0.3 m) or its pixels are resampled (SkySat), the value is marked ``approximate``.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["SOURCES", "UNKNOWN_SOURCE", "Source", "source_info", "source_label"]


@dataclass(frozen=True, slots=True)
class Source:
    """One image source, keyed by the code in SkyScript file names (``_CH_``)."""

    code: str
    collection: str
    name: str
    resolution_m: float
    approximate: bool
    coverage: str
    # (west, south, east, north) of where the source really has imagery; used for the demo sample
    # and to flag footprints that fall far outside a source's coverage.
    coverage_bbox: tuple[float, float, float, float]
    color: str
    known: bool = True

    @property
    def resolution_label(self) -> str:
        """``10 cm``, ``0.6 m``, ``10 m``; prefixed with ``~`` when approximate."""
        r = self.resolution_m
        text = f"{round(r * 100)} cm" if r < 0.5 else f"{r:g} m"
        return ("~" if self.approximate else "") + text


SOURCES: dict[str, Source] = {
    s.code: s
    for s in (
        Source(
            "US",
            "USDA/NAIP/DOQQ",
            "NAIP",
            0.6,
            True,
            "Contiguous United States (1 m before ~2009, 0.6 m since, 0.3 m in some states from 2022)",
            (-124.7, 24.5, -67.0, 49.4),
            "#1f77b4",
        ),
        Source(
            "DE",
            "Germany/Brandenburg/orthos/20cm",
            "Brandenburg orthophotos",
            0.2,
            False,
            "State of Brandenburg, Germany",
            (11.27, 51.36, 14.77, 53.56),
            "#ff7f0e",
        ),
        Source(
            "FI",
            "Finland/SMK/V/50cm",
            "Finland NLS orthophotos",
            0.5,
            False,
            "Finland",
            (20.6, 59.8, 31.6, 70.1),
            "#2ca02c",
        ),
        Source(
            "CH",
            "ORTHO/Switzerland/SWISSIMAGE/10cm",
            "SWISSIMAGE",
            0.1,
            False,
            "Switzerland",
            (5.96, 45.82, 10.49, 47.81),
            "#d62728",
        ),
        Source(
            "ES",
            "Spain/PNOA/PNOA10",
            "PNOA",
            0.1,
            False,
            "Spain (mainland and islands)",
            (-9.3, 36.0, 3.3, 43.8),
            "#9467bd",
        ),
        Source(
            "P3",
            "SKYSAT/GEN-A/PUBLIC/ORTHO/RGB",
            "SkySat RGB",
            0.8,
            True,
            "Scattered public SkySat scenes worldwide (pan-sharpened, resampled)",
            (-180.0, -60.0, 180.0, 75.0),
            "#8c564b",
        ),
        Source(
            "P5",
            "SKYSAT/GEN-A/PUBLIC/ORTHO/MULTISPECTRAL",
            "SkySat multispectral",
            2.0,
            True,
            "Scattered public SkySat scenes worldwide",
            (-180.0, -60.0, 180.0, 75.0),
            "#e377c2",
        ),
        Source(
            "S2",
            "COPERNICUS/S2_SR_HARMONIZED",
            "Sentinel-2 SR",
            10.0,
            False,
            "Global land (10 m visible bands)",
            (-180.0, -56.0, 180.0, 84.0),
            "#7f7f7f",
        ),
        Source(
            "L8",
            "LANDSAT/LC08/C02/T1_TOA",
            "Landsat 8 TOA",
            30.0,
            False,
            "Global land (30 m multispectral, 15 m panchromatic)",
            (-180.0, -56.0, 180.0, 84.0),
            "#bcbd22",
        ),
        Source(
            "L9",
            "LANDSAT/LC09/C02/T1_TOA",
            "Landsat 9 TOA",
            30.0,
            False,
            "Global land (30 m multispectral, 15 m panchromatic)",
            (-180.0, -56.0, 180.0, 84.0),
            "#17becf",
        ),
    )
}

UNKNOWN_SOURCE = Source(
    "??",
    "unknown",
    "Unknown source",
    float("nan"),
    True,
    "unknown",
    (-180.0, -90.0, 180.0, 90.0),
    "#000000",
    known=False,
)


def source_info(code: str) -> Source:
    """The source for ``code``; unknown codes get a copy of UNKNOWN_SOURCE carrying the code."""
    found = SOURCES.get(code)
    if found is not None:
        return found
    return Source(
        code,
        "unknown",
        f"Unknown source {code!r}",
        float("nan"),
        True,
        "unknown",
        UNKNOWN_SOURCE.coverage_bbox,
        UNKNOWN_SOURCE.color,
        known=False,
    )


def source_label(code: str) -> str:
    """``CH · SWISSIMAGE 10 cm`` for filter lists and legends."""
    s = source_info(code)
    if not s.known:
        return f"{code} · unknown source"
    return f"{code} · {s.name} {s.resolution_label}"
