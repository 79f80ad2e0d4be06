"""Which painter draws an object: OSM tags -> drawing style, plus road and path widths."""

from __future__ import annotations

_ROADS = {
    "motorway": 22.0,
    "trunk": 18.0,
    "primary": 14.0,
    "secondary": 12.0,
    "tertiary": 10.0,
    "residential": 7.0,
    "unclassified": 6.5,
    "service": 4.5,
    "living_street": 6.0,
    "motorway_link": 8.0,
    "trunk_link": 7.0,
    "primary_link": 7.0,
    "secondary_link": 6.5,
    "tertiary_link": 6.0,
    "road": 6.0,
    "construction": 6.0,
    "busway": 7.0,
    "raceway": 10.0,
}


_PATHS = {
    "footway": 2.5,
    "cycleway": 2.5,
    "path": 1.5,
    "steps": 3.0,
    "track": 3.5,
    "bridleway": 2.0,
    "pedestrian": 8.0,
    "corridor": 2.5,
    "trail": 1.5,
    "sidewalk": 2.5,
}


def _style(t: str, tags: dict[str, str]) -> str:
    """Which painter draws an object with these tags.

    Long on purpose: a decision table read top to bottom (first match wins, as in a map style sheet);
    split into functions it would hide the order that decides between overlapping tags.
    """
    g = tags.get
    if g("building") or g("building:part"):
        return "building"
    if g("leisure") == "pitch":
        return "pitch"
    if g("leisure") == "swimming_pool" or g("amenity") == "swimming_pool":
        return "pool"
    if g("leisure") == "golf_course":
        return "golf"
    if g("leisure") == "playground" or g("playground"):
        return "playground"
    if g("natural") == "glacier":
        return "snow"
    if g("waterway") in ("river", "canal", "riverbank"):
        return "river" if t != "a" else "water"
    if g("waterway"):
        return "stream"
    if g("natural") in ("water", "bay") or g("water") or g("landuse") in ("basin", "reservoir", "pond"):
        return "water"
    if g("natural") == "coastline":
        return "coast"
    if g("landuse") == "forest" or g("natural") == "wood":
        return "forest"
    if g("natural") in ("scrub", "heath", "wetland"):
        return "scrub"
    if g("natural") == "tree":
        return "tree"
    if g("natural") == "tree_row":
        return "tree_row"
    if g("landuse") == "farmland" or (g("crop") and g("landuse") != "vineyard"):
        return "farmland"
    if g("landuse") in ("orchard", "vineyard"):
        return "orchard"
    if g("landuse") == "greenhouse_horticulture":
        return "greenhouse"
    if g("natural") in ("beach", "sand") or (t == "a" and g("surface") == "sand"):
        return "sand"
    if g("natural") in ("bare_rock", "scree", "cliff", "shingle", "peak", "stone"):
        return "rock" if t != "n" or g("natural") == "peak" else "street_point"
    if g("landuse") in ("quarry", "construction", "landfill", "brownfield"):
        return "dirt"
    if g("aeroway") in ("runway", "taxiway"):
        return "runway"
    if g("power") in ("plant", "generator") and "solar" in (g("plant:source", "") + g("generator:source", "")):
        return "solar"
    if g("power") == "generator" and g("generator:source") == "wind":
        return "wind"
    if g("power") in ("line", "minor_line", "cable"):
        return "barrier"
    if g("man_made") in ("storage_tank", "silo", "water_tower", "gasometer"):
        return "tank"
    if g("man_made") == "wastewater_plant":
        return "wastewater"
    if g("man_made") in ("pier", "bridge", "breakwater"):
        return "pier"
    if g("amenity") in ("parking", "motorcycle_parking") or g("parking"):
        return "parking" if t != "n" else "street_point"
    if (
        g("landuse") in ("grass", "meadow", "village_green", "recreation_ground")
        or g("leisure") in ("park", "garden", "dog_park", "common")
        or g("natural") == "grassland"
    ):
        return "grass"
    if g("landuse") == "cemetery" or g("amenity") == "grave_yard":
        return "cemetery"
    if g("landuse") == "allotments":
        return "allotments"
    if g("landuse") in (
        "residential",
        "commercial",
        "retail",
        "industrial",
        "civil",
        "military",
        "railway",
        "farmyard",
        "education",
        "religious",
    ):
        return "builtup"
    if g("place") == "square" or (g("highway") == "pedestrian" and t == "a") or g("area:highway"):
        return "plaza"
    hw = g("highway")
    if hw in _ROADS:
        return "road" if t != "n" else "street_point"
    if hw in _PATHS:
        return "path" if t != "n" else "street_point"
    if hw == "crossing" or g("crossing"):
        return "crossing"
    if hw in ("platform",) or g("railway") == "platform" or g("public_transport") == "platform":
        return "platform"
    if g("railway") in ("rail", "tram", "subway", "light_rail", "narrow_gauge", "disused", "funicular"):
        return "rail" if t != "n" else "street_point"
    if g("barrier") and t != "n":
        return "barrier"
    if t == "n" and (
        hw
        or g("barrier")
        or g("railway")
        or g("man_made")
        or g("emergency")
        or g("power")
        or g("amenity")
        in (
            "bench",
            "waste_basket",
            "bicycle_parking",
            "post_box",
            "vending_machine",
            "recycling",
            "fountain",
            "clock",
            "atm",
            "telephone",
            "drinking_water",
            "charging_station",
            "grit_bin",
            "life_ring",
            "taxi",
        )
        or g("tourism") in ("artwork", "information")
        or g("historic")
    ):
        return "street_point"
    if t == "n" and (g("shop") or g("amenity") or g("office") or g("craft") or g("tourism") or g("leisure")):
        return "poi"
    return "default"
