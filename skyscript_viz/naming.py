"""Parsing SkyScript image file names: ``{a|w|n}{osm_id}_{SRC}_{YY}.jpg``."""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["OBJECT_TYPES", "ParsedName", "osm_url", "parse_name"]

# a = area, w = way, n = node (SkyScript's own prefixes).
OBJECT_TYPES: dict[str, str] = {"a": "area", "w": "way", "n": "node"}

_NAME = re.compile(r"([awn])([0-9]{1,19})_([A-Z0-9]{2})_([0-9]{2})")


@dataclass(frozen=True, slots=True)
class ParsedName:
    """What a file name says about its image."""

    obj_type: str  # "a", "w" or "n"
    osm_id: int
    source: str
    year: int  # 2000 + YY

    @property
    def stem(self) -> str:
        return f"{self.obj_type}{self.osm_id}_{self.source}_{self.year % 100:02d}"


def parse_name(name: str) -> ParsedName | None:
    """Parse a base name or stem (``a12_CH_19``, ``a12_CH_19.jpg`` or ``….pickle``); None when it does not fit."""
    base = name.rsplit("/", 1)[-1]
    for ext in (".jpg", ".pickle"):
        if base.endswith(ext):
            base = base[: -len(ext)]
            break
    m = _NAME.fullmatch(base)
    if m is None:
        return None
    osm_id = int(m.group(2))
    if osm_id >= 2**63:
        return None
    return ParsedName(m.group(1), osm_id, m.group(3), 2000 + int(m.group(4)))


def osm_url(obj_type: str, osm_id: int) -> tuple[str | None, str]:
    """Link to the object on openstreetmap.org and a note on how certain it is.

    Nodes and ways map directly to ``/node/ID`` and ``/way/ID``. SkyScript does not document how it
    numbers areas (osmium numbers areas ``2*way_id`` or ``2*relation_id+1``); the link for an area is
    therefore that convention's best guess and the note says so.
    """
    if obj_type == "n":
        return f"https://www.openstreetmap.org/node/{osm_id}", "exact"
    if obj_type == "w":
        return f"https://www.openstreetmap.org/way/{osm_id}", "exact"
    if obj_type == "a":
        kind, real = ("way", osm_id // 2) if osm_id % 2 == 0 else ("relation", (osm_id - 1) // 2)
        return (
            f"https://www.openstreetmap.org/{kind}/{real}",
            "guess: area numbering is not documented by SkyScript; this assumes osmium's "
            "convention (way id × 2, relation id × 2 + 1)",
        )
    return None, "no link: unknown object type"
