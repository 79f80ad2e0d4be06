"""Caption wording: OSM tags -> noun phrases, adjectives, articles and the two caption columns."""

from __future__ import annotations

import random

from .osm import _Img
from .places import _AERIAL
from .styles import _ROADS

_NOUN_BUILDINGS = {
    "house",
    "church",
    "chapel",
    "cathedral",
    "shed",
    "barn",
    "greenhouse",
    "garage",
    "garages",
    "warehouse",
    "school",
    "hotel",
    "kiosk",
    "pavilion",
    "tower",
    "terrace",
    "roof",
    "detached",
    "bungalow",
    "museum",
    "hangar",
    "stable",
    "kindergarten",
    "hospital",
    "university",
    "mosque",
    "temple",
    "farm",
}


_SPECIAL: dict[str, str] = {
    "amenity=parking": "parking lot",
    "highway=motorway": "motorway",
    "landuse=pond": "pond",
    "amenity=fuel": "gas station",
    "amenity=bicycle_parking": "bicycle parking",
    "amenity=place_of_worship": "place of worship",
    "amenity=waste_basket": "waste basket",
    "amenity=post_box": "post box",
    "amenity=vending_machine": "vending machine",
    "amenity=fast_food": "fast food restaurant",
    "building=yes": "building",
    "building=apartments": "apartment building",
    "building=detached": "detached house",
    "building=farm_auxiliary": "farm building",
    "building=roof": "roof",
    "building=entrance": "building entrance",
    "highway=unclassified": "minor road",
    "highway=crossing": "pedestrian crossing",
    "highway=pedestrian": "pedestrian street",
    "highway=traffic_signals": "traffic signals",
    "highway=turning_circle": "turning circle",
    "highway=motorway_link": "motorway ramp",
    "highway=platform": "bus platform",
    "highway=give_way": "give way sign",
    "highway=steps": "steps",
    "highway=track": "track",
    "landuse=grass": "grass",
    "landuse=farmland": "farmland",
    "landuse=forest": "forest",
    "landuse=meadow": "meadow",
    "landuse=basin": "basin",
    "landuse=orchard": "orchard",
    "landuse=vineyard": "vineyard",
    "landuse=greenhouse_horticulture": "greenhouses",
    "landuse=farmyard": "farmyard",
    "landuse=cemetery": "cemetery",
    "landuse=quarry": "quarry",
    "landuse=allotments": "allotment gardens",
    "landuse=construction": "construction site",
    "natural=water": "water body",
    "natural=wood": "wood",
    "natural=scrub": "scrubland",
    "natural=heath": "heathland",
    "natural=tree_row": "row of trees",
    "natural=bare_rock": "bare rock",
    "natural=coastline": "coastline",
    "natural=grassland": "grassland",
    "water=lake": "lake",
    "water=pond": "pond",
    "water=reservoir": "reservoir",
    "water=river": "river",
    "railway=rail": "railway",
    "railway=tram": "tram track",
    "railway=platform": "railway platform",
    "railway=switch": "railway switch",
    "railway=signal": "railway signal",
    "railway=level_crossing": "level crossing",
    "railway=station": "railway station",
    "railway=subway": "subway line",
    "man_made=surveillance": "surveillance camera",
    "man_made=utility_pole": "utility pole",
    "man_made=wastewater_plant": "wastewater treatment plant",
    "man_made=storage_tank": "storage tank",
    "man_made=street_cabinet": "street cabinet",
    "leisure=golf_course": "golf course",
    "leisure=swimming_pool": "swimming pool",
    "leisure=pitch": "sports pitch",
    "leisure=park": "park",
    "leisure=playground": "playground",
    "aeroway=runway": "runway",
    "power=tower": "power tower",
    "power=line": "power line",
    "power=minor_line": "power line",
    "tourism=information": "tourist information point",
    "emergency=fire_hydrant": "fire hydrant",
    "place=square": "square",
    "shop=yes": "shop",
    "shop=mall": "shopping mall",
    "office=yes": "office",
}


_PITCH = {
    "tennis": "tennis court",
    "basketball": "basketball court",
    "soccer": "soccer field",
    "baseball": "baseball field",
    "volleyball": "volleyball court",
    "beachvolleyball": "beach volleyball court",
    "american_football": "football field",
}


_UNCOUNTABLE = {
    "grass",
    "farmland",
    "scrubland",
    "heathland",
    "grassland",
    "bare rock",
    "water",
    "steps",
    "traffic signals",
    "greenhouses",
    "allotment gardens",
    "wood",
    "forest",
    "meadow",
    "bicycle parking",
    "sand",
    "wetland",
    "scrub",
}


def _phrase(tags: dict[str, str]) -> str:
    """The noun phrase for an object's main tag: ``tennis court``, ``residential road``, ``river``.

    A first-match table over tag families, kept in one piece so the precedence stays visible.
    """
    g = tags.get
    if g("leisure") == "pitch" and g("sport"):
        sport = g("sport", "").split(";")[0]
        return _PITCH.get(sport, f"{sport.replace('_', ' ')} pitch")
    if g("power") in ("plant", "generator"):
        src = g("plant:source") or g("generator:source") or ""
        if src == "solar":
            return "solar farm" if g("power") == "plant" else "solar panels"
        if src == "wind":
            return "wind turbine"
    for k in (
        "water",
        "building",
        "leisure",
        "landuse",
        "natural",
        "waterway",
        "highway",
        "railway",
        "aeroway",
        "amenity",
        "man_made",
        "shop",
        "tourism",
        "office",
        "craft",
        "barrier",
        "power",
        "historic",
        "emergency",
        "public_transport",
        "place",
        "playground",
        "sport",
        "bridge",
    ):
        v = g(k)
        if not v or v == "no":
            continue
        key = f"{k}={v}"
        if key in _SPECIAL:
            return _SPECIAL[key]
        word = v.split(";")[0].replace("_", " ").strip()
        if k == "building":
            return word if v in _NOUN_BUILDINGS else f"{word} building"
        if k == "highway" and v in _ROADS:
            return f"{word} road"
        if k == "landuse":
            return f"{word} area"
        if k == "shop":
            return word if word.endswith(("shop", "store", "market", "kiosk", "bakery", "mall")) else f"{word} shop"
        if k == "office":
            return f"{word} office"
        if k == "power":
            return f"power {word}"
        if k == "playground":
            return f"playground {word}"
        if k == "sport":
            return f"{word} facility"
        if k == "public_transport":
            return f"public transport {word.replace('stop position', 'stop')}"
        if v == "yes":
            return k.replace("_", " ")
        return word
    return "object"


def _adjective(tags: dict[str, str], rng: random.Random) -> tuple[str, str]:
    """An optional (prefix, suffix) from secondary tags: ``2-lane``, ``with asphalt surface``."""
    g = tags.get
    options: list[tuple[str, str]] = []
    if g("building:levels", "").isdigit() and 0 < int(g("building:levels", "0")) < 60:
        options.append((f"{g('building:levels')}-storey", ""))
    if g("roof:shape") and g("roof:shape", "").isalpha():
        options.append(("", f"with a {g('roof:shape')} roof"))
    if g("surface") and g("leisure") != "pitch":
        options.append(("", f"with {g('surface', '').replace('_', ' ')} surface"))
    if g("lanes", "").isdigit():
        options.append((f"{g('lanes')}-lane", ""))
    if g("leaf_type") in ("broadleaved", "needleleaved", "mixed"):
        options.append((g("leaf_type", ""), ""))
    if g("lit") == "yes":
        options.append(("lit", ""))
    if g("oneway") == "yes" and g("highway"):
        options.append(("one-way", ""))
    if g("crop") and g("landuse") == "farmland":
        options.append(("", f"growing {g('crop', '').replace('_', ' ')}"))
    if g("intermittent") == "yes":
        options.append(("intermittent", ""))
    if g("denomination") and g("amenity") == "place_of_worship":
        options.append((g("denomination", "").replace("_", " "), ""))
    if not options or rng.random() < 0.35:
        return "", ""
    return rng.choice(options)


def _article(phrase: str) -> str:
    if phrase in _UNCOUNTABLE or (phrase.endswith("s") and not phrase.endswith(("ss", "us"))):
        return phrase
    vowel = phrase[:1].lower() in "aeiou" and not phrase.lower().startswith(("one", "uni", "use", "eu"))
    return ("an " if vowel else "a ") + phrase


def _plural(phrase: str) -> str:
    if phrase in _UNCOUNTABLE:
        return phrase
    head, _, tail = phrase.partition(" of ")
    if tail:
        return f"{_plural(head)} of {tail}"
    if phrase.endswith(("s", "x", "sh", "ch")):
        return phrase if phrase.endswith("s") and not phrase.endswith("ss") else phrase + "es"
    if phrase.endswith("y") and phrase[-2:-1] not in "aeiou":
        return phrase[:-1] + "ies"
    return phrase + "s"


def _prefix(src: str) -> str:
    return "aerial image of" if src in _AERIAL else "satellite image of"


def _captions(img: _Img, rng: random.Random) -> tuple[str, str]:
    """SkyScript-like rule-built ``title`` and ``title_multi_objects`` for an image."""
    tags = img.center_tags
    phrase = _phrase(tags)
    pre, suf = _adjective(tags, rng)
    core = " ".join(p for p in (pre, phrase) if p)
    title = f"{_prefix(img.src)} {_article(core)}"
    if suf:
        title += f" {suf}"
    if tags.get("name") and rng.random() < 0.5:
        title += f" named {tags['name']}"
    counts: dict[str, int] = {}
    for p in img.surrounding:
        ph = _phrase(p.obj.tags)
        if ph != phrase and ph != "object":
            counts[ph] = counts.get(ph, 0) + 1
    ranked = sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))[: rng.randint(1, 3)]
    if not ranked:
        return title, title
    items = [_plural(ph) if n > 1 else _article(ph) for ph, n in ranked]
    joined = items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]
    return title, f"{title}, with {joined} nearby"
