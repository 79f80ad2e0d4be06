"""Generate a synthetic SkyScript dataset in the real download layout, fast enough for 5.2M images.

Layout written under ``--out`` (same as the real download)::

    images2.zip ... images7.zip  members images{k}/<stem>.jpg, stored (tiny valid JPEGs, shared bytes)
    meta2.zip ... meta7.zip      members meta{k}/<stem>.pickle, deflated; pickle protocol 4 of
                                 dict(box=(w, s, e, n), time=(y, mo, d, h, mi), center_tags={...},
                                      surrounding_tags=[{...}, ...])
    dataframe/SkyScript_*.csv    header ``filepath,title,title_multi_objects``, paths images{k}/<stem>.jpg

Stems are ``{a|w|n}{osm_id}_{SRC}_{YY}`` over the ten sources of ``skyscript_viz.sources``; about 20% of
the images show an OSM object that also appears under another source or year. Footprints are clustered
around a few hundred random "cities" inside each source's coverage, sized from the source resolution. Tags
come from a ~29,000-pair vocabulary (real common OSM pairs as the Zipf head, synthetic name/ref/... tail).

Parts are generated in parallel (one process per part, ``--workers`` at a time); every part has its own
seed derived from ``--seed`` and the part number, so the output is byte-identical for a seed whatever the
number of workers.

Usage::

    python bench/generate.py --n 5200000 --out bench/out/ds5m [--seed 0] [--workers 2] \\
        [--images zip|none|tiny]

``--images zip`` (default) uses 16 different 32x32 JPEGs, ``tiny`` one shared 8x8 JPEG (smallest image zips,
same layout), ``none`` writes no image zips (meta + CSV only, for metadata speed tests).
"""

from __future__ import annotations

import argparse
import functools
import io
import itertools
import multiprocessing as mp
import os
import pickle
import sys
import time
import zipfile
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
try:
    from skyscript_viz.sources import SOURCES
except ImportError:  # run as a script from anywhere: make the repo importable
    sys.path.insert(0, str(ROOT))
    from skyscript_viz.sources import SOURCES

__all__ = ["CSV_NAMES", "PARTS", "SOURCE_SHARES", "build_vocabulary", "generate", "main"]

PARTS = (2, 3, 4, 5, 6, 7)
YEARS = tuple(range(16, 24))  # 2016..2023
CSV_HEADER = "filepath,title,title_multi_objects\n"
CSV_NAMES = {
    "unfiltered": "SkyScript_train_unfiltered_5M.csv",
    "openai50": "SkyScript_train_top50pct_filtered_by_CLIP_openai.csv",
    "openai30": "SkyScript_train_top30pct_filtered_by_CLIP_openai.csv",
    "laion50": "SkyScript_train_top50pct_filtered_by_CLIP_laion_RS.csv",
    "laion30": "SkyScript_train_top30pct_filtered_by_CLIP_laion_RS.csv",
    "val": "SkyScript_val_5K_filtered_by_CLIP_openai.csv",
    "test": "SkyScript_test_30K_filtered_by_CLIP_openai.csv",
}
# Share of the *primary* image of each OSM object (re-imaged objects add some S2/L8 and same-source images).
SOURCE_SHARES = {
    "US": 0.42,
    "S2": 0.14,
    "L8": 0.05,
    "L9": 0.04,
    "CH": 0.08,
    "ES": 0.08,
    "DE": 0.04,
    "FI": 0.05,
    "P3": 0.06,
    "P5": 0.04,
}
SRC_CODES = tuple(SOURCE_SHARES)
AERIAL = frozenset({"US", "CH", "ES", "DE", "FI"})
CITY_COUNT = {"US": 160, "CH": 25, "ES": 45, "DE": 20, "FI": 30}  # global sources share GLOBAL_CITIES
GLOBAL_CITIES = 220
# Rough land rectangles (w, s, e, n, weight) for the global sources' city centres.
LAND_BOXES = (
    (-123.0, 26.0, -70.0, 49.0, 4.0),
    (-105.0, 14.0, -87.0, 25.0, 1.0),
    (-78.0, -35.0, -38.0, 2.0, 2.5),
    (-9.0, 37.0, 30.0, 59.0, 4.0),
    (-16.0, -30.0, 38.0, 30.0, 3.0),
    (35.0, 15.0, 58.0, 38.0, 1.5),
    (68.0, 9.0, 88.0, 30.0, 3.0),
    (102.0, 22.0, 121.0, 41.0, 3.5),
    (96.0, -8.0, 124.0, 18.0, 2.0),
    (130.0, 31.0, 141.0, 41.0, 1.0),
    (115.0, -38.0, 153.0, -17.0, 1.0),
    (30.0, 50.0, 90.0, 60.0, 1.5),
)
GROUP_SIZE_P = (0.90, 0.07, 0.02, 0.01)  # images per OSM object: ~21% of images share their object
VOCAB_SIZE = 29_000
ZIP_DATE = (2023, 6, 1, 0, 0, 0)  # fixed member timestamp -> byte-identical output for a seed
TITLE_PREFIX_AERIAL = ("aerial image of", "an aerial image of", "aerial photo of", "an aerial view of")
TITLE_PREFIX_SAT = ("satellite image of", "a satellite image of", "satellite view of", "a satellite photo of")

# Primary features: (tags, singular phrase, plural phrase), most common first (Zipf rank = position).
_F = [
    (("building=yes",), "a building", "buildings"),
    (("highway=residential",), "a residential road", "residential roads"),
    (("building=house",), "a house", "houses"),
    (("highway=service",), "a service road", "service roads"),
    (("amenity=parking",), "a parking lot", "parking lots"),
    (("landuse=farmland",), "farmland", "farmland areas"),
    (("natural=water",), "a body of water", "bodies of water"),
    (("highway=track",), "a track", "tracks"),
    (("landuse=residential",), "a residential area", "residential areas"),
    (("natural=wood",), "a wood", "woods"),
    (("landuse=forest",), "a forest", "forests"),
    (("highway=footway",), "a footway", "footways"),
    (("building=residential",), "a residential building", "residential buildings"),
    (("landuse=grass",), "a grass area", "grass areas"),
    (("leisure=pitch", "sport=tennis"), "a tennis court", "tennis courts"),
    (("waterway=stream",), "a stream", "streams"),
    (("highway=unclassified",), "a minor road", "minor roads"),
    (("building=garage",), "a garage", "garages"),
    (("landuse=meadow",), "a meadow", "meadows"),
    (("leisure=swimming_pool",), "a swimming pool", "swimming pools"),
    (("highway=tertiary",), "a tertiary road", "tertiary roads"),
    (("leisure=pitch", "sport=soccer"), "a soccer field", "soccer fields"),
    (("building=detached",), "a detached house", "detached houses"),
    (("natural=scrub",), "scrubland", "scrub areas"),
    (("building=shed",), "a shed", "sheds"),
    (("leisure=park",), "a park", "parks"),
    (("highway=secondary",), "a secondary road", "secondary roads"),
    (("landuse=industrial",), "an industrial area", "industrial areas"),
    (("leisure=pitch", "sport=baseball"), "a baseball field", "baseball fields"),
    (("building=commercial",), "a commercial building", "commercial buildings"),
    (("waterway=river",), "a river", "rivers"),
    (("natural=wetland",), "a wetland", "wetlands"),
    (("landuse=orchard",), "an orchard", "orchards"),
    (("building=industrial",), "an industrial building", "industrial buildings"),
    (("highway=primary",), "a primary road", "primary roads"),
    (("leisure=pitch", "sport=basketball"), "a basketball court", "basketball courts"),
    (("landuse=vineyard",), "a vineyard", "vineyards"),
    (("building=apartments",), "an apartment building", "apartment buildings"),
    (("landuse=commercial",), "a commercial area", "commercial areas"),
    (("amenity=school",), "a school", "schools"),
    (("landuse=cemetery",), "a cemetery", "cemeteries"),
    (("railway=rail",), "a railway", "railways"),
    (("leisure=playground",), "a playground", "playgrounds"),
    (("landuse=retail",), "a retail area", "retail areas"),
    (("highway=motorway",), "a motorway", "motorways"),
    (("building=roof",), "a roof", "roofs"),
    (("man_made=storage_tank",), "a storage tank", "storage tanks"),
    (("landuse=reservoir",), "a reservoir", "reservoirs"),
    (("building=farm_auxiliary",), "a farm building", "farm buildings"),
    (("leisure=golf_course",), "a golf course", "golf courses"),
    (("natural=beach",), "a beach", "beaches"),
    (("landuse=quarry",), "a quarry", "quarries"),
    (("amenity=place_of_worship", "religion=christian"), "a church", "churches"),
    (("building=church",), "a church building", "church buildings"),
    (("leisure=track",), "a running track", "running tracks"),
    (("natural=bare_rock",), "bare rock", "bare rock areas"),
    (("landuse=allotments",), "allotment gardens", "allotment gardens"),
    (("building=school",), "a school building", "school buildings"),
    (("amenity=fuel",), "a gas station", "gas stations"),
    (("man_made=pier",), "a pier", "piers"),
    (("landuse=railway",), "a railway yard", "railway yards"),
    (("power=substation",), "a power substation", "power substations"),
    (("leisure=sports_centre",), "a sports centre", "sports centres"),
    (("natural=sand",), "a sand area", "sand areas"),
    (("landuse=construction",), "a construction site", "construction sites"),
    (("amenity=hospital",), "a hospital", "hospitals"),
    (("waterway=canal",), "a canal", "canals"),
    (("natural=glacier",), "a glacier", "glaciers"),
    (("building=warehouse",), "a warehouse", "warehouses"),
    (("leisure=stadium",), "a stadium", "stadiums"),
    (("aeroway=runway",), "a runway", "runways"),
    (("man_made=bridge",), "a bridge", "bridges"),
    (("leisure=marina",), "a marina", "marinas"),
    (("landuse=greenhouse_horticulture",), "greenhouses", "greenhouse areas"),
    (("building=greenhouse",), "a greenhouse", "greenhouses"),
    (("man_made=wastewater_plant",), "a wastewater plant", "wastewater plants"),
    (("amenity=university",), "a university", "universities"),
    (("leisure=pitch", "sport=american_football"), "an american football field", "american football fields"),
    (("tourism=camp_site",), "a campsite", "campsites"),
    (("landuse=landfill",), "a landfill", "landfills"),
    (("natural=heath",), "heathland", "heath areas"),
    (("power=plant", "plant:source=solar"), "a solar power plant", "solar power plants"),
    (("man_made=water_tower",), "a water tower", "water towers"),
    (("aeroway=apron",), "an airport apron", "airport aprons"),
    (("natural=grassland",), "grassland", "grassland areas"),
    (("leisure=pitch", "sport=volleyball"), "a volleyball court", "volleyball courts"),
    (("highway=trunk",), "a trunk road", "trunk roads"),
    (("natural=bay",), "a bay", "bays"),
    (("amenity=parking", "parking=multi-storey"), "a parking garage", "parking garages"),
    (("aeroway=aerodrome",), "an airport", "airports"),
    (("power=generator", "generator:source=wind"), "a wind turbine", "wind turbines"),
    (("landuse=military",), "a military area", "military areas"),
    (("man_made=silo",), "a silo", "silos"),
    (("leisure=ice_rink",), "an ice rink", "ice rinks"),
    (("natural=cliff",), "a cliff", "cliffs"),
    (("landuse=salt_pond",), "a salt pond", "salt ponds"),
    (("amenity=prison",), "a prison", "prisons"),
    (("leisure=water_park",), "a water park", "water parks"),
    (("man_made=lighthouse",), "a lighthouse", "lighthouses"),
    (("historic=castle",), "a castle", "castles"),
    (("leisure=pitch", "sport=cricket"), "a cricket field", "cricket fields"),
    (("railway=station",), "a railway station", "railway stations"),
    (("landuse=basin",), "a basin", "basins"),
    (("natural=volcano",), "a volcano", "volcanoes"),
    (("man_made=breakwater",), "a breakwater", "breakwaters"),
    (("waterway=dam",), "a dam", "dams"),
    (("leisure=pitch", "sport=equestrian"), "an equestrian arena", "equestrian arenas"),
    (
        ("amenity=parking", "parking=surface", "access=customers"),
        "a customer parking lot",
        "customer parking lots",
    ),
    (("landuse=port",), "a port", "ports"),
    (("man_made=mineshaft",), "a mine shaft", "mine shafts"),
]
FEATURES: tuple[tuple[tuple[tuple[str, str], ...], str, str], ...] = tuple(
    (tuple(tuple(t.split("=", 1)) for t in tags), one, many)
    for tags, one, many in _F  # type: ignore[misc]
)


def _split(text: str, sep: str | None = None) -> tuple[str, ...]:
    """Items of a whitespace- (or ``sep``-) separated word list, stripped, empty ones dropped."""
    return tuple(t for t in (x.strip() for x in text.split(sep)) if t)


# Real common attribute pairs (the head of the extra-tag distribution, most common first).
_ATTR_HEAD = _split(
    """
source=bing; surface=asphalt; oneway=yes; access=private; surface=paved; lit=yes; service=driveway;
surface=gravel; tiger:reviewed=no; roof:shape=flat; building:levels=1; building:levels=2;
surface=concrete; surface=unpaved; surface=grass; service=parking_aisle; roof:shape=gabled;
parking=surface; access=yes; foot=yes; bicycle=yes; tracktype=grade2; tracktype=grade3; oneway=no;
lanes=2; maxspeed=50; maxspeed=30 mph; smoothness=good; leaf_type=broadleaved; leaf_type=mixed;
leaf_type=needleleaved; leaf_cycle=deciduous; leaf_cycle=evergreen; crop=wheat; crop=maize; crop=soy;
wetland=marsh; wetland=swamp; wetland=bog; water=pond; water=lake; water=reservoir; water=river;
intermittent=yes; layer=1; layer=-1; bridge=yes; tunnel=yes; barrier=fence; barrier=wall; barrier=hedge;
roof:shape=hipped; roof:shape=skillion; roof:shape=pyramidal; roof:material=metal;
roof:material=roof_tiles; building:levels=3; building:levels=4; building:levels=5; lanes=1; lanes=3;
lanes=4; maxspeed=80; maxspeed=100; maxspeed=25 mph; maxspeed=35 mph; smoothness=excellent;
smoothness=intermediate; smoothness=bad; surface=dirt; surface=sand; surface=compacted;
surface=fine_gravel; surface=paving_stones; surface=sett; surface=ground; surface=artificial_turf;
surface=clay; surface=tartan; sidewalk=both; sidewalk=none; sidewalk=right; cycleway=lane;
highway=crossing; footway=sidewalk; footway=crossing; religion=christian; denomination=catholic;
denomination=lutheran; denomination=baptist; power=line; power=tower; power=pole; voltage=110000;
voltage=20000; cables=3; railway=abandoned; usage=main; electrified=contact_line; gauge=1435;
addr:country=US; addr:country=CH; addr:country=ES; addr:country=DE; addr:country=FI; addr:state=CA;
addr:state=TX; addr:state=NY; addr:state=FL; wheelchair=yes; wheelchair=no; opening_hours=24/7; fee=no;
fee=yes; capacity=10; capacity=20; capacity=50; building:material=brick; building:material=wood;
building:material=concrete; height=3; height=6; height=10; start_date=1990; start_date=2005;
natural=tree; genus=Quercus; species=Betula pendula; denotation=urban; boundary=protected_area;
protect_class=5; leisure=nature_reserve; golf=fairway; golf=green; golf=bunker; golf=tee; sport=golf;
sport=multi; sport=athletics; sport=swimming; hoops=2; pitch=soccer; covered=yes; indoor=no;
location=underground; location=overground; material=concrete; material=steel; content=water;
content=oil; substance=water; substance=gas; pipeline=substation; operator:type=public;
operator:type=private; ownership=private; ownership=public; ownership=municipal; disused=yes;
abandoned=yes; ruins=yes; historic=yes; heritage=2; tourism=attraction; tourism=viewpoint;
information=board; amenity=bench; amenity=shelter; shelter_type=picnic_shelter; amenity=toilets;
amenity=drinking_water; amenity=waste_basket; entrance=yes; entrance=main; door=hinged; level=0;
level=1; min_height=3; generator:method=photovoltaic; generator:type=solar_photovoltaic_panel;
plant:method=photovoltaic; plant:output:electricity=yes; frequency=50; frequency=60; aeroway=taxiway;
ref:ICAO=yes; seamark:type=harbour; mooring=yes; waterway=ditch; waterway=drain; tidal=yes; salt=yes;
boat=yes; motorboat=no; fishing=yes; irrigated=yes; produce=apples; produce=grapes; trees=olive_trees;
trees=apple_trees; trees=orange_trees; animal=horse; animal=cattle; landcover=grass; landcover=trees;
meadow=agricultural; meadow=transitional; grassland=prairie; scrub=shrubby; rock=granite;
geological=outcrop; place=locality; place=hamlet; place=village; place=neighbourhood; place=island;
place=islet; import=yes; note=FIXME; fixme=position; check_date=2022-06-01; source=survey; source=Bing;
source=Esri; source=swisstopo; source=PNOA; source=Maanmittauslaitos; source=GeoBasis-DE/LGB;
source=tiger_import_dch_v0.6_20070829; source:geometry=orthophoto; attribution=NHD; nhd:fcode=46006;
nhd:ftype=StreamRiver; gnis:feature_type=School; tiger:cfcc=A41;
tiger:source=tiger_import_dch_v0.6_20070829; tiger:upload_uuid=bulk_upload.pl-UUID; hgv=designated;
hgv=no; motor_vehicle=no; motor_vehicle=private; vehicle=no; horse=no; horse=designated; segregated=no;
trail_visibility=good; sac_scale=hiking; informal=yes; area=yes; building:part=yes; roof:colour=grey;
roof:colour=red; building:colour=white; roof:orientation=along; roof:direction=180; roof:height=2;
emergency=fire_hydrant; fire_hydrant:type=pillar; man_made=manhole; manhole=sewer; traffic_calming=bump;
crossing=zebra; crossing=marked; crossing=uncontrolled; kerb=lowered; tactile_paving=yes;
junction=roundabout; turn:lanes=left|through; destination=Downtown; width=3; width=5; est_width=2;
incline=up; incline=down
""",
    ";",
)

_SYLL = _split(
    """
ber lin mar wood ton field ville brook dale ham stein bach berg lo sa ri ka ne vi ta ro es al del mon
val ko pe la mi hol gard ham by ford ley hill port mouth ness
"""
)
_STREET = _split(
    """
Street Road Avenue Lane Drive Way Weg Strasse Calle Katu Boulevard Court Place Gasse Camino tie
"""
)
_NAME_KIND = _split(
    """
Park School Church Pond Creek Field Farm Lake Center Plaza Garden Woods Hall Mill Bridge Station Court
Club Reservoir
"""
)
_BRANDS = _split(
    """
Shell BP Esso Lidl Aldi Walmart Target Migros Coop Repsol Mercadona K-Market S-Market Edeka Rewe Costco
Kroger Chevron Total
"""
)


@functools.cache
def build_vocabulary(size: int = VOCAB_SIZE) -> tuple[tuple[str, str], ...]:
    """The attribute vocabulary: ``size - len(feature pairs)`` distinct (key, value) pairs, head first.

    The feature pairs (building=yes, leisure=pitch, ...) are excluded, so features + attributes together
    make ``size`` distinct pairs. Deterministic (its own fixed RNG, independent of the data seed).
    """
    rng = np.random.default_rng(20_240_517)
    feature_pairs = {p for tags, _, _ in FEATURES for p in tags}
    out: list[tuple[str, str]] = []
    seen = set(feature_pairs)

    def add(pair: tuple[str, str]) -> None:
        if pair not in seen:
            seen.add(pair)
            out.append(pair)

    for text in _ATTR_HEAD:
        key, value = text.split("=", 1)
        add((key, value))
    target = size - len(feature_pairs)
    syll = np.array(_SYLL)

    def word(k: int) -> str:
        parts = syll[rng.integers(0, len(_SYLL), k)]
        return "".join(parts).capitalize()

    def pick(options: tuple[str, ...]) -> str:
        return options[int(rng.integers(len(options)))]

    def num(lo: int, hi: int) -> int:
        return int(rng.integers(lo, hi))

    generators = (
        lambda: ("name", f"{word(num(2, 4))} {pick(_NAME_KIND)}"),
        lambda: ("addr:street", f"{word(num(2, 4))} {pick(_STREET)}"),
        lambda: ("name", word(num(2, 5))),
        lambda: ("ref", f"{pick(tuple('ABCDEFGKLMNRSTUV'))}{num(1, 999)}"),
        lambda: ("addr:housenumber", str(num(1, 2500))),
        lambda: ("operator", f"{word(num(2, 4))} {pick(('Inc.', 'AG', 'GmbH', 'Oy', 'S.A.', 'LLC'))}"),
        lambda: ("brand", f"{pick(_BRANDS)} {word(1)}"),
        lambda: ("building:levels", str(num(6, 80))),
        lambda: ("height", f"{rng.uniform(2, 150):.1f}"),
        lambda: ("addr:postcode", f"{num(1000, 99999):05d}"),
        lambda: ("addr:city", word(num(2, 4))),
        lambda: ("start_date", str(num(1850, 2024))),
        lambda: ("tiger:county", f"{word(2)}, {pick(('CA', 'TX', 'NY', 'FL', 'OH', 'WA', 'GA'))}"),
        lambda: ("gnis:feature_id", str(num(100_000, 2_800_000))),
        lambda: ("maxspeed", str(num(1, 26) * 5)),
        lambda: ("wikidata", f"Q{num(1000, 99_999_999)}"),
        lambda: ("capacity", str(num(2, 5000))),
        lambda: ("description", f"{word(2)} {word(1).lower()} near the {word(2)} {pick(_NAME_KIND).lower()}"),
    )
    weights = np.array([6, 5, 4, 3, 3, 2, 1, 1, 1, 2, 1, 1, 1, 1, 0.3, 0.5, 0.5, 0.5])
    weights = weights / weights.sum()
    while len(out) < target:
        for g in rng.choice(len(generators), size=min(4096, 2 * (target - len(out))), p=weights):
            add(generators[g]())
            if len(out) >= target:
                break
    return tuple(out)


def _zipf_cdf(n: int, s: float, q: float = 2.0) -> np.ndarray:
    p = 1.0 / (np.arange(n) + q) ** s
    c = np.cumsum(p)
    return c / c[-1]


def _draw(rng: np.random.Generator, cdf: np.ndarray, size: int) -> np.ndarray:
    return np.minimum(np.searchsorted(cdf, rng.random(size), side="right"), len(cdf) - 1).astype(np.int32)


def _offsets(counts: np.ndarray) -> np.ndarray:
    off = np.zeros(len(counts) + 1, dtype=np.int64)
    np.cumsum(counts, out=off[1:])
    return off


def _jpegs(mode: str) -> list[bytes]:
    """Pre-encoded tiny valid JPEGs: 16 distinct 32x32 ones, or a single 8x8 one for ``tiny``."""
    from PIL import Image

    rng = np.random.default_rng(7)
    if mode == "tiny":
        buf = io.BytesIO()
        Image.new("RGB", (8, 8), (96, 110, 80)).save(buf, "JPEG", quality=50)
        return [buf.getvalue()]
    out = []
    yy, xx = np.mgrid[0:32, 0:32]
    for i in range(16):
        base = rng.integers(40, 200, 3)
        ang = rng.uniform(0, np.pi)
        grad = (np.cos(ang) * xx + np.sin(ang) * yy) * rng.uniform(0.5, 2.5)
        arr = base[None, None, :] + grad[..., None] + rng.normal(0, 12, (32, 32, 3))
        if i % 3 == 0:  # a "building" block
            x0, y0 = rng.integers(4, 20, 2)
            arr[y0 : y0 + 9, x0 : x0 + 9] = rng.integers(150, 240)
        buf = io.BytesIO()
        Image.fromarray(np.clip(arr, 0, 255).astype(np.uint8), "RGB").save(buf, "JPEG", quality=70)
        out.append(buf.getvalue())
    return out


def _cities(seed: int) -> dict[str, tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]]:
    """City centres per source: (lon, lat, sigma_deg, cumulative weight). Global sources share one set."""
    rng = np.random.default_rng(np.random.SeedSequence([seed, 0xC17]))
    out = {}
    for code in (*CITY_COUNT, "GLOBAL"):
        if code == "GLOBAL":
            k = GLOBAL_CITIES
            boxes = np.array(LAND_BOXES)
            which = rng.choice(len(boxes), size=k, p=boxes[:, 4] / boxes[:, 4].sum())
            w, s, e, n = boxes[which, 0], boxes[which, 1], boxes[which, 2], boxes[which, 3]
            sigma = rng.lognormal(np.log(0.35), 0.5, k)
        else:
            k = CITY_COUNT[code]
            w, s, e, n = SOURCES[code].coverage_bbox
            sigma = rng.lognormal(np.log(0.08 if code != "US" else 0.15), 0.5, k)
        lon = rng.uniform(w, e, k)
        lat = rng.uniform(s, n, k)
        weight = 1.0 / (np.arange(k) + 1.0) ** 0.9
        weight = rng.permutation(weight)
        cdf = np.cumsum(weight) / weight.sum()
        out[code] = (lon, lat, sigma, cdf)
    return out


def _part_sizes(n: int) -> list[int]:
    return [len(a) for a in np.array_split(np.arange(n), len(PARTS))]


def _positions(rng: np.random.Generator, src: np.ndarray, cities: dict) -> tuple[np.ndarray, np.ndarray]:
    """Object centres: 88% around a weighted city centre (Gaussian), 12% uniform background."""
    m = len(src)
    lon = np.empty(m)
    lat = np.empty(m)
    for si, code in enumerate(SRC_CODES):
        idx = np.flatnonzero(src == si)
        if not len(idx):
            continue
        c_lon, c_lat, c_sig, c_cdf = cities[code if code in CITY_COUNT else "GLOBAL"]
        ci = np.minimum(np.searchsorted(c_cdf, rng.random(len(idx)), side="right"), len(c_cdf) - 1)
        sig = c_sig[ci]
        la = c_lat[ci] + rng.normal(0, 1, len(idx)) * sig
        lo = c_lon[ci] + rng.normal(0, 1, len(idx)) * sig / np.cos(np.radians(np.clip(c_lat[ci], -80, 80)))
        bg = rng.random(len(idx)) < 0.12
        if code in CITY_COUNT:
            w, s, e, n = SOURCES[code].coverage_bbox
            lo[bg] = rng.uniform(w, e, bg.sum())
            la[bg] = rng.uniform(s, n, bg.sum())
        else:
            boxes = np.array(LAND_BOXES)
            b = rng.choice(len(boxes), size=int(bg.sum()), p=boxes[:, 4] / boxes[:, 4].sum())
            lo[bg] = rng.uniform(boxes[b, 0], boxes[b, 2])
            la[bg] = rng.uniform(boxes[b, 1], boxes[b, 3])
        lon[idx] = lo
        lat[idx] = la
    return lon, lat


def _gen_part(task: dict) -> dict:
    """Generate one part (meta{k}.zip, images{k}.zip, CSV slices). Runs in a worker process."""
    t0 = time.perf_counter()
    k: int = task["part"]
    n_p: int = task["n"]
    out = Path(task["out"])
    seed: int = task["seed"]
    images: str = task["images"]
    verbose: bool = task["verbose"]
    rng = np.random.default_rng(np.random.SeedSequence([seed, k]))
    vocab = build_vocabulary()
    cities = _cities(seed)
    n_feat = len(FEATURES)
    n_src = len(SRC_CODES)

    # --- OSM objects (groups of 1..4 images of the same object) ---------------------------------
    sizes = rng.choice(np.arange(1, 5), size=n_p + 1, p=GROUP_SIZE_P)
    csum = np.cumsum(sizes)
    m = int(np.searchsorted(csum, n_p)) + 1 if n_p else 0
    sizes = sizes[:m].copy()
    if m:
        sizes[-1] -= int(csum[m - 1] - n_p)
    g_start = _offsets(sizes)[:-1]
    grp = np.repeat(np.arange(m), sizes)
    rank = np.arange(n_p) - g_start[grp]
    # unique OSM ids: increasing random gaps, interleaved by part so parts never collide
    gaps = rng.integers(1, 240, m)
    osm_id = (np.cumsum(gaps) + 1_000_000) * len(PARTS) + (k - PARTS[0])
    osm_id = osm_id[rng.permutation(m)]
    otype = rng.choice(np.array(list("wan")), size=m, p=(0.6, 0.15, 0.25))
    shares = np.array(list(SOURCE_SHARES.values()))
    g_src = rng.choice(n_src, size=m, p=shares / shares.sum()).astype(np.int8)
    l9 = SRC_CODES.index("L9")
    l8 = SRC_CODES.index("L8")
    s2 = SRC_CODES.index("S2")
    g_year = rng.integers(0, len(YEARS), m)
    g_year[g_src == l9] = rng.integers(5, 8, int((g_src == l9).sum()))  # Landsat 9: 2021+
    g_lon, g_lat = _positions(rng, g_src, cities)
    g_feat = _draw(rng, _zipf_cdf(n_feat, 1.05), m)
    feat_len = np.array([len(f[0]) for f in FEATURES])
    g_nx = np.minimum(rng.choice(5, size=m, p=(0.3, 0.3, 0.2, 0.12, 0.08)), 5 - feat_len[g_feat])
    attr_cdf = _zipf_cdf(len(vocab), 1.02, 3.0)
    g_xoff = _offsets(g_nx)
    g_x = _draw(rng, attr_cdf, int(g_xoff[-1]))
    g_ns = rng.binomial(15, 1 / 3, m)
    g_soff = _offsets(g_ns)
    n_obj = int(g_soff[-1])
    s_feat = _draw(rng, _zipf_cdf(n_feat, 1.0), n_obj)
    s_nx = np.minimum(rng.choice(4, size=n_obj, p=(0.45, 0.32, 0.16, 0.07)), 4 - feat_len[s_feat])
    s_nx = np.maximum(s_nx, 0)
    s_xoff = _offsets(s_nx)
    s_x = _draw(rng, attr_cdf, int(s_xoff[-1]))

    # --- images: source/year per image, box, time ----------------------------------------------
    src = g_src[grp].copy()
    second = rank > 0
    keep = rng.random(n_p) < 0.5
    alt = np.where(rng.random(n_p) < 0.6, s2, l8)
    src[second & ~keep] = alt[second & ~keep]
    src[second & (src == l9)] = l8
    year = (g_year[grp] + rank) % len(YEARS)
    res = np.array([SOURCES[c].resolution_m for c in SRC_CODES])[src]
    size_m = rng.uniform(224, 640, n_p) * res
    lat = g_lat[grp]
    lon = g_lon[grp]
    bb = np.array([SOURCES[c].coverage_bbox for c in SRC_CODES])[src]
    half_lat = size_m / 2 / 111_320.0
    lat = np.clip(lat, bb[:, 1] + half_lat, bb[:, 3] - half_lat)
    half_lon = size_m / 2 / (111_320.0 * np.cos(np.radians(lat)))
    lon = np.clip(lon, bb[:, 0] + half_lon, bb[:, 2] - half_lon)
    box_w = np.maximum(lon - half_lon, bb[:, 0]).tolist()  # guard against float rounding at the edges
    box_s = np.maximum(lat - half_lat, bb[:, 1]).tolist()
    box_e = np.minimum(lon + half_lon, bb[:, 2]).tolist()
    box_n = np.minimum(lat + half_lat, bb[:, 3]).tolist()
    month = rng.choice(np.arange(1, 13), size=n_p, p=np.array([2, 2, 4, 6, 9, 11, 12, 11, 9, 6, 3, 2]) / 77)
    day = rng.integers(1, 29, n_p)
    aerial = np.isin(src, [SRC_CODES.index(c) for c in AERIAL])
    hour = np.where(aerial, rng.integers(8, 17, n_p), rng.integers(9, 12, n_p))
    minute = rng.integers(0, 60, n_p)
    times = list(
        zip(
            (2000 + np.array(YEARS)[year]).tolist(),
            month.tolist(),
            day.tolist(),
            hour.tolist(),
            minute.tolist(),
            strict=True,
        )
    )

    # per-image order inside the part: shuffle so re-imaged objects are not adjacent
    order = rng.permutation(n_p)
    prefixes = np.where(aerial, 0, 1)
    pre_i = rng.integers(0, 4, n_p)
    img_i = rng.integers(0, 16, n_p)
    u_openai = rng.random(n_p)
    u_laion = rng.random(n_p)

    src_l = src.tolist()
    stems = [
        f"{t}{i}_{SRC_CODES[s]}_{YEARS[y]:02d}"
        for t, i, s, y in zip(otype[grp].tolist(), osm_id[grp].tolist(), src_l, year.tolist(), strict=True)
    ]

    # --- write ------------------------------------------------------------------------------------
    feat_pairs = [f[0] for f in FEATURES]
    feat_one = [f[1] for f in FEATURES]
    feat_many = [f[2] for f in FEATURES]
    titles = (TITLE_PREFIX_AERIAL, TITLE_PREFIX_SAT)
    jpegs = _jpegs(images) if images != "none" else []
    n_jpeg = max(1, len(jpegs))
    vget = vocab.__getitem__
    grp_l = grp.tolist()
    g_feat_l = g_feat.tolist()
    g_xoff_l = g_xoff.tolist()
    g_x_l = g_x.tolist()
    g_soff_l = g_soff.tolist()
    s_feat_l = s_feat.tolist()
    s_xoff_l = s_xoff.tolist()
    s_x_l = s_x.tolist()
    pref_l = prefixes.tolist()
    pre_i_l = pre_i.tolist()
    img_l = img_i.tolist()
    lines: list[str] = [""] * n_p  # CSV rows, minimal quoting (only title_multi_objects can hold commas)
    dumps = pickle.dumps
    meta_tmp = out / f"meta{k}.zip.tmp"
    img_tmp = out / f"images{k}.zip.tmp"
    mz = zipfile.ZipFile(meta_tmp, "w", zipfile.ZIP_DEFLATED, allowZip64=True)
    iz = zipfile.ZipFile(img_tmp, "w", zipfile.ZIP_STORED, allowZip64=True) if jpegs else None
    last = time.perf_counter()
    src_counts = np.bincount(src, minlength=n_src)
    try:
        for j, i in enumerate(order.tolist()):
            g = grp_l[i]
            f = g_feat_l[g]
            center = dict(feat_pairs[f])
            a, b = g_xoff_l[g], g_xoff_l[g + 1]
            if b > a:
                center.update(map(vget, g_x_l[a:b]))
            surrounding = []
            counts: dict[int, int] = {}
            for o in range(g_soff_l[g], g_soff_l[g + 1]):
                sf = s_feat_l[o]
                d = dict(feat_pairs[sf])
                a, b = s_xoff_l[o], s_xoff_l[o + 1]
                if b > a:
                    d.update(map(vget, s_x_l[a:b]))
                surrounding.append(d)
                counts[sf] = counts.get(sf, 0) + 1
            meta = {
                "box": (box_w[i], box_s[i], box_e[i], box_n[i]),
                "time": times[i],
                "center_tags": center,
                "surrounding_tags": surrounding,
            }
            stem = stems[i]
            zi = zipfile.ZipInfo(f"meta{k}/{stem}.pickle", ZIP_DATE)
            zi.compress_type = zipfile.ZIP_DEFLATED
            zi.external_attr = 0o644 << 16
            mz.writestr(zi, dumps(meta, protocol=4))
            path = f"images{k}/{stem}.jpg"
            if iz is not None:
                zi = zipfile.ZipInfo(path, ZIP_DATE)
                zi.external_attr = 0o644 << 16
                iz.writestr(zi, jpegs[img_l[i] % n_jpeg])
            title = f"{titles[pref_l[i]][pre_i_l[i]]} {feat_one[f]}"
            if counts:
                top = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
                words = [feat_one[x] if c == 1 else f"{c} {feat_many[x]}" for x, c in top]
                near = words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]
                multi = f"{title} with {near} nearby"
            else:
                multi = title
            lines[j] = f'{path},{title},"{multi}"\n' if "," in multi else f"{path},{title},{multi}\n"
            if verbose and (j + 1) % 200_000 == 0:
                now = time.perf_counter()
                rate = 200_000 / (now - last)
                print(f"  part {k}: {j + 1:,}/{n_p:,} rows ({rate:,.0f} rows/s)", flush=True)
                last = now
    finally:
        mz.close()
        if iz is not None:
            iz.close()
    os.replace(meta_tmp, out / f"meta{k}.zip")
    if iz is not None:
        os.replace(img_tmp, out / f"images{k}.zip")
    t_zip = time.perf_counter() - t0

    # --- CSV slices (written without header; the parent concatenates them in part order) ---------
    u_o = u_openai[order]
    u_l = u_laion[order]
    local_pos = np.empty(n_p, dtype=np.int64)
    local_pos[order] = np.arange(n_p)
    sel = {
        "unfiltered": None,
        "openai50": u_o < 0.5,
        "openai30": u_o < 0.3,
        "laion50": u_l < 0.5,
        "laion30": u_l < 0.3,
        "val": _mask(n_p, local_pos[np.asarray(task["val"], dtype=np.int64)]),
        "test": _mask(n_p, local_pos[np.asarray(task["test"], dtype=np.int64)]),
    }
    csv_rows = {}
    tmpdir = out / "dataframe" / ".parts"
    for key, mask in sel.items():
        rows = lines if mask is None else list(itertools.compress(lines, mask.tolist()))
        with open(tmpdir / f"{key}.{k}.csv", "w", encoding="utf-8", newline="") as fh:
            fh.writelines(rows)
        csv_rows[key] = len(rows)
    elapsed = time.perf_counter() - t0
    if verbose:
        rate = n_p / max(elapsed, 1e-9)
        print(f"part {k}: {n_p:,} images in {elapsed:.1f}s ({rate:,.0f}/s; zips {t_zip:.1f}s)", flush=True)
    return {
        "part": k,
        "n": n_p,
        "seconds": elapsed,
        "csv_rows": csv_rows,
        "sources": dict(zip(SRC_CODES, src_counts.tolist(), strict=True)),
        "objects": m,
        "reimaged": int((sizes > 1).sum()),
        "reimaged_images": int(sizes[sizes > 1].sum()),
    }


def _mask(n: int, idx: np.ndarray) -> np.ndarray:
    m = np.zeros(n, dtype=bool)
    m[idx] = True
    return m


def generate(
    out: Path,
    n: int,
    *,
    seed: int = 0,
    workers: int = 1,
    images: str = "zip",
    verbose: bool = False,
) -> dict:
    """Write a synthetic dataset of ``n`` images under ``out``; return a summary dict."""
    if images not in ("zip", "none", "tiny"):
        raise ValueError(f"images must be zip, none or tiny, not {images!r}")
    if n < 1:
        raise ValueError("n must be >= 1")
    t0 = time.perf_counter()
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "dataframe" / ".parts").mkdir(parents=True, exist_ok=True)
    if images == "none":  # stale image zips of an earlier run would not match the new meta
        for k in PARTS:
            (out / f"images{k}.zip").unlink(missing_ok=True)
    build_vocabulary()  # cached; forked workers inherit it
    sizes = _part_sizes(n)
    starts = np.concatenate([[0], np.cumsum(sizes)])
    # val/test: small disjoint random subsets, chosen globally so their sizes are exact
    n_val = min(max(10, round(n * 5_000 / 5_200_000)), n // 2)
    n_test = min(max(10, round(n * 30_000 / 5_200_000)), n - n_val)
    pick_rng = np.random.default_rng(np.random.SeedSequence([seed, 0x5E7]))
    pick = pick_rng.choice(n, n_val + n_test, replace=False)
    val, test = np.sort(pick[:n_val]), np.sort(pick[n_val:])
    tasks = []
    for pi, k in enumerate(PARTS):
        lo, hi = starts[pi], starts[pi + 1]
        tasks.append(
            {
                "part": k,
                "n": sizes[pi],
                "out": str(out),
                "seed": seed,
                "images": images,
                "verbose": verbose,
                "val": (val[(val >= lo) & (val < hi)] - lo).tolist(),
                "test": (test[(test >= lo) & (test < hi)] - lo).tolist(),
            }
        )
    if verbose:
        print(
            f"generating {n:,} images into {out} (seed {seed}, {workers} workers, images={images})",
            flush=True,
        )
    if workers <= 1:
        results = [_gen_part(t) for t in tasks]
    else:
        with mp.get_context("fork").Pool(min(workers, len(tasks))) as pool:
            results = sorted(pool.imap_unordered(_gen_part, tasks), key=lambda r: r["part"])
    t_parts = time.perf_counter() - t0

    csv_rows = {}
    tmpdir = out / "dataframe" / ".parts"
    for key, name in CSV_NAMES.items():
        dest = out / "dataframe" / name
        tmp = dest.with_suffix(".csv.tmp")
        with open(tmp, "wb") as fh:
            fh.write(CSV_HEADER.encode())
            for r in results:
                piece = tmpdir / f"{key}.{r['part']}.csv"
                with open(piece, "rb") as src:
                    while chunk := src.read(1 << 22):
                        fh.write(chunk)
                piece.unlink()
        os.replace(tmp, dest)
        csv_rows[name] = sum(r["csv_rows"][key] for r in results)
    tmpdir.rmdir()

    elapsed = time.perf_counter() - t0
    files = [p for p in out.rglob("*") if p.is_file()]
    nbytes = sum(p.stat().st_size for p in files)
    sources = {c: sum(r["sources"][c] for r in results) for c in SRC_CODES}
    summary = {
        "n": n,
        "out": str(out),
        "seed": seed,
        "images": images,
        "workers": workers,
        "parts": {r["part"]: {"n": r["n"], "seconds": round(r["seconds"], 2)} for r in results},
        "objects": sum(r["objects"] for r in results),
        "reimaged_objects": sum(r["reimaged"] for r in results),
        "reimaged_images": sum(r["reimaged_images"] for r in results),
        "sources": sources,
        "csv_rows": csv_rows,
        "elapsed_s": round(elapsed, 2),
        "parts_s": round(t_parts, 2),
        "rate_per_s": round(n / elapsed, 1),
        "bytes": nbytes,
        "files": {p.relative_to(out).as_posix(): p.stat().st_size for p in sorted(files)},
    }
    if verbose:
        print(f"done: {n:,} images in {elapsed:.1f}s ({n / elapsed:,.0f}/s), {nbytes / 1e6:,.1f} MB on disk")
        print("sources: " + ", ".join(f"{c} {v / n:.1%}" for c, v in sources.items()))
        print("csv rows: " + ", ".join(f"{k} {v:,}" for k, v in csv_rows.items()))
    return summary


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    ap.add_argument("--n", type=int, required=True, help="number of images")
    ap.add_argument("--out", type=Path, required=True, help="dataset root to write")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--images", choices=("zip", "none", "tiny"), default="zip")
    args = ap.parse_args(argv)
    generate(args.out, args.n, seed=args.seed, workers=args.workers, images=args.images, verbose=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
