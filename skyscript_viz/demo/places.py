"""Where and when each imagery source looks: rasters, years, shares, anchor places and scene templates."""

from __future__ import annotations

SOURCE_RASTER: dict[str, tuple[int, int]] = {
    "CH": (256, 1),
    "ES": (256, 1),
    "DE": (256, 1),
    "FI": (256, 1),
    "US": (224, 1),
    "P3": (192, 1),
    "P5": (96, 2),
    "S2": (64, 2),
    "L8": (64, 2),
    "L9": (64, 2),
}
"""Source -> (native pixels per side, upscale factor of the stored JPEG).  Footprint = native px x
resolution; the JPEG has native px x upscale pixels per side."""


_YEARS: dict[str, tuple[int, int]] = {
    "US": (2016, 2022),
    "DE": (2016, 2023),
    "FI": (2016, 2023),
    "CH": (2017, 2023),
    "ES": (2016, 2023),
    "P3": (2016, 2018),
    "P5": (2016, 2018),
    "S2": (2017, 2023),
    "L8": (2016, 2023),
    "L9": (2022, 2023),
}


_AERIAL = frozenset({"US", "DE", "FI", "CH", "ES"})


_COARSE = ("S2", "L8", "L9")


_SHARE: dict[str, float] = {
    "FI": 0.18,
    "US": 0.20,
    "DE": 0.12,
    "CH": 0.12,
    "ES": 0.12,
    "P3": 0.05,
    "P5": 0.04,
    "S2": 0.09,
    "L8": 0.04,
    "L9": 0.04,
}


# Places with imagery of each source: (lon, lat, setting).  FI uses the real extract positions.
_SKYSAT = [
    (55.27, 25.20, "urban"),
    (36.82, -1.29, "urban"),
    (-46.63, -23.55, "urban"),
    (31.24, 30.04, "urban"),
    (-112.07, 33.45, "urban"),
    (72.88, 19.08, "urban"),
    (-119.30, 36.30, "rural"),
    (31.00, 30.50, "rural"),
]


_ANCHORS: dict[str, list[tuple[float, float, str]]] = {
    "US": [
        (-104.99, 39.74, "urban"),
        (-121.49, 38.58, "urban"),
        (-84.39, 33.75, "urban"),
        (-93.27, 44.98, "urban"),
        (-97.74, 30.27, "urban"),
        (-97.50, 38.50, "rural"),
        (-93.60, 42.00, "rural"),
        (-120.50, 37.00, "rural"),
        (-99.00, 41.00, "rural"),
        (-89.40, 40.10, "rural"),
    ],
    "DE": [
        (13.06, 52.39, "urban"),
        (14.33, 51.76, "urban"),
        (12.55, 52.41, "urban"),
        (14.55, 52.34, "urban"),
        (13.85, 53.20, "rural"),
        (12.00, 53.10, "rural"),
        (14.00, 51.90, "rural"),
        (13.30, 52.00, "rural"),
    ],
    "CH": [
        (7.447, 46.948, "urban"),
        (8.54, 47.37, "urban"),
        (8.31, 47.05, "urban"),
        (6.63, 46.52, "urban"),
        (7.70, 46.95, "rural"),
        (9.10, 47.55, "rural"),
        (7.05, 46.75, "rural"),
        (9.53, 46.85, "rural"),
    ],
    "ES": [
        (-3.70, 40.42, "urban"),
        (-0.376, 39.47, "urban"),
        (-5.98, 37.39, "urban"),
        (-0.88, 41.65, "urban"),
        (-3.00, 39.30, "rural"),
        (-6.30, 38.90, "rural"),
        (-2.60, 42.50, "rural"),
        (-4.72, 41.70, "rural"),
        (-2.45, 36.80, "rural"),
    ],
    "P3": _SKYSAT,
    "P5": _SKYSAT,
}


# Common real OSM tag combinations for scenes the two extracts lack; used only at synthetic positions.
# (type, tags, (min size, max size) in m [width for ways], aspect h/w, setting, regions ("" = any)).
Template = tuple[str, dict[str, str], tuple[float, float], float, str, str]
_TEMPLATES: list[Template] = [
    ("a", {"landuse": "farmland"}, (150, 600), 0.6, "rural", ""),
    ("a", {"landuse": "farmland", "crop": "wheat"}, (200, 700), 0.5, "rural", ""),
    ("a", {"landuse": "farmland", "crop": "maize"}, (200, 600), 0.6, "rural", "US DE ES"),
    ("a", {"landuse": "farmland", "crop": "soy"}, (300, 800), 0.8, "rural", "US"),
    ("a", {"landuse": "farmland", "crop": "rice", "irrigated": "yes"}, (150, 400), 0.7, "rural", "ES"),
    ("a", {"landuse": "meadow"}, (80, 400), 0.7, "rural", ""),
    ("a", {"landuse": "meadow", "meadow": "agricultural"}, (100, 350), 0.6, "rural", "DE CH"),
    ("a", {"landuse": "forest", "leaf_type": "needleleaved"}, (250, 900), 0.8, "rural", ""),
    (
        "a",
        {"landuse": "forest", "leaf_type": "broadleaved", "leaf_cycle": "deciduous"},
        (200, 800),
        0.8,
        "rural",
        "",
    ),
    ("a", {"natural": "wood", "leaf_type": "mixed"}, (120, 600), 0.8, "rural", ""),
    ("a", {"landuse": "orchard", "trees": "apple_trees"}, (60, 250), 0.6, "rural", "DE CH US"),
    ("a", {"landuse": "orchard", "trees": "olive_trees"}, (80, 300), 0.6, "rural", "ES"),
    ("a", {"landuse": "vineyard", "crop": "grape"}, (60, 300), 0.5, "rural", "ES DE CH US"),
    ("w", {"waterway": "river"}, (25, 60), 0, "any", ""),
    ("w", {"waterway": "canal", "boat": "yes"}, (12, 25), 0, "any", ""),
    ("w", {"waterway": "stream"}, (2, 5), 0, "rural", ""),
    ("w", {"waterway": "ditch", "intermittent": "yes"}, (1, 2), 0, "rural", ""),
    ("a", {"natural": "water", "water": "lake"}, (200, 900), 0.7, "rural", ""),
    ("a", {"natural": "water", "water": "pond"}, (15, 70), 0.7, "any", ""),
    ("a", {"natural": "water", "water": "reservoir"}, (150, 600), 0.6, "rural", "US ES"),
    ("a", {"leisure": "pitch", "sport": "tennis", "surface": "clay"}, (36, 36), 0.5, "any", "ES CH DE"),
    ("a", {"leisure": "pitch", "sport": "tennis", "surface": "hard"}, (36, 36), 0.5, "any", ""),
    ("a", {"leisure": "pitch", "sport": "soccer", "surface": "grass"}, (100, 110), 0.65, "any", ""),
    (
        "a",
        {"leisure": "pitch", "sport": "soccer", "surface": "artificial_turf"},
        (90, 105),
        0.65,
        "urban",
        "",
    ),
    ("a", {"leisure": "pitch", "sport": "baseball"}, (110, 120), 1.0, "any", "US"),
    ("a", {"leisure": "pitch", "sport": "basketball", "surface": "asphalt"}, (28, 30), 0.55, "urban", ""),
    ("a", {"leisure": "pitch", "sport": "beachvolleyball", "surface": "sand"}, (16, 18), 0.5, "any", ""),
    ("a", {"leisure": "golf_course"}, (400, 900), 0.7, "rural", "US ES"),
    ("a", {"leisure": "swimming_pool", "access": "private"}, (8, 14), 0.5, "urban", "US ES"),
    ("a", {"leisure": "swimming_pool", "sport": "swimming"}, (25, 50), 0.45, "any", ""),
    ("a", {"leisure": "park"}, (80, 300), 0.7, "urban", ""),
    ("a", {"leisure": "playground"}, (20, 40), 0.7, "urban", ""),
    (
        "w",
        {"highway": "motorway", "lanes": "3", "oneway": "yes", "surface": "asphalt"},
        (14, 16),
        0,
        "any",
        "",
    ),
    ("w", {"highway": "trunk", "surface": "asphalt"}, (12, 14), 0, "any", ""),
    ("w", {"highway": "primary", "surface": "asphalt"}, (10, 12), 0, "any", ""),
    ("w", {"highway": "secondary", "surface": "asphalt", "lanes": "2"}, (8, 10), 0, "any", ""),
    ("w", {"highway": "residential", "surface": "asphalt"}, (6, 8), 0, "urban", ""),
    ("w", {"highway": "track", "tracktype": "grade2", "surface": "gravel"}, (3, 4), 0, "rural", ""),
    ("w", {"highway": "unclassified", "surface": "unpaved"}, (4, 6), 0, "rural", ""),
    ("w", {"aeroway": "runway", "surface": "asphalt"}, (45, 60), 0, "rural", "US ES DE"),
    (
        "w",
        {"railway": "rail", "usage": "main", "electrified": "contact_line", "gauge": "1435"},
        (4, 5),
        0,
        "any",
        "DE CH",
    ),
    ("w", {"railway": "rail", "usage": "main", "gauge": "1668"}, (4, 5), 0, "any", "ES"),
    ("w", {"railway": "rail", "usage": "freight", "gauge": "1435"}, (4, 5), 0, "any", "US"),
    (
        "a",
        {"power": "plant", "plant:source": "solar", "plant:method": "photovoltaic"},
        (200, 500),
        0.6,
        "rural",
        "DE ES US",
    ),
    (
        "a",
        {"power": "generator", "generator:source": "solar", "generator:method": "photovoltaic"},
        (30, 120),
        0.5,
        "any",
        "",
    ),
    (
        "n",
        {"power": "generator", "generator:source": "wind", "generator:type": "horizontal_axis"},
        (0, 0),
        0,
        "rural",
        "DE US ES",
    ),
    ("a", {"man_made": "wastewater_plant"}, (120, 300), 0.7, "any", ""),
    ("a", {"man_made": "storage_tank", "content": "oil"}, (20, 45), 1.0, "any", "US ES"),
    ("a", {"man_made": "silo"}, (6, 12), 1.0, "rural", ""),
    ("n", {"man_made": "water_tower"}, (0, 0), 0, "any", "US DE"),
    ("a", {"landuse": "quarry", "resource": "gravel"}, (200, 600), 0.7, "rural", ""),
    ("a", {"natural": "beach", "surface": "sand"}, (100, 400), 0.4, "any", "ES"),
    ("a", {"landuse": "greenhouse_horticulture"}, (100, 400), 0.6, "rural", "ES"),
    ("a", {"building": "greenhouse"}, (20, 80), 0.4, "rural", "ES DE"),
    ("a", {"building": "barn"}, (15, 40), 0.5, "rural", ""),
    ("a", {"building": "farm_auxiliary", "roof:shape": "gabled"}, (12, 30), 0.5, "rural", ""),
    ("a", {"landuse": "farmyard"}, (60, 150), 0.7, "rural", ""),
    ("a", {"building": "house", "roof:shape": "gabled"}, (9, 15), 0.7, "any", ""),
    ("a", {"building": "detached", "roof:shape": "hipped"}, (10, 18), 0.7, "urban", "US"),
    ("a", {"building": "house", "roof:shape": "hipped", "roof:colour": "red"}, (9, 16), 0.7, "any", "ES CH"),
    ("a", {"building": "warehouse"}, (40, 120), 0.5, "any", ""),
    ("a", {"landuse": "industrial"}, (150, 500), 0.7, "any", ""),
    ("a", {"landuse": "residential"}, (150, 500), 0.8, "urban", ""),
    ("a", {"landuse": "cemetery"}, (80, 250), 0.7, "any", ""),
    ("a", {"landuse": "allotments"}, (60, 200), 0.6, "urban", "DE CH"),
    ("a", {"amenity": "parking", "parking": "surface", "surface": "asphalt"}, (30, 90), 0.6, "any", ""),
    ("a", {"natural": "glacier"}, (500, 1500), 0.6, "rural", "CH"),
    ("a", {"natural": "scree"}, (100, 400), 0.7, "rural", "CH"),
    ("a", {"natural": "bare_rock"}, (80, 300), 0.7, "rural", "CH ES"),
    ("n", {"natural": "peak", "ele": "2962"}, (0, 0), 0, "rural", "CH"),
    ("n", {"natural": "tree", "leaf_type": "broadleaved"}, (0, 0), 0, "any", ""),
    ("a", {"natural": "grassland"}, (80, 400), 0.7, "rural", "US ES"),
    ("a", {"natural": "heath"}, (80, 300), 0.7, "rural", "DE"),
    ("a", {"landuse": "construction"}, (40, 200), 0.7, "urban", ""),
]
