"""Filters and their translation to SQL. Pure: no connection, no I/O.

A :class:`Filters` value says which images a user wants; :func:`build_where` turns it into a
``(sql, params)`` pair over the index's ``images`` table, with tag terms resolved to vocabulary id
ranges by a :class:`Resolver` (the index is one; tests pass a fake).
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Literal, Protocol

from .errors import InvalidFilterError
from .vocab import ONE_WORD

if TYPE_CHECKING:
    from .capmatch import CaptionHits

__all__ = [
    "FACET_DIMENSIONS",
    "BBox",
    "Filters",
    "Resolver",
    "Role",
    "TagExpr",
    "build_where",
    "sql_literal",
]

Role = Literal["focus", "surrounding", "any"]
FACET_DIMENSIONS = ("source", "year", "month", "obj_type", "subset")
_ROLE_PREFIX: dict[str, Role] = {
    "focus": "focus",
    "f": "focus",
    "surrounding": "surrounding",
    "s": "surrounding",
    "surr": "surrounding",
    "any": "any",
}


@dataclass(frozen=True, slots=True)
class BBox:
    """A lon/lat box (west, south, east, north) in degrees; west may exceed east across the antimeridian."""

    west: float
    south: float
    east: float
    north: float

    def __post_init__(self) -> None:
        vals = (self.west, self.south, self.east, self.north)
        if not all(isinstance(v, int | float) and math.isfinite(v) for v in vals):
            raise InvalidFilterError(f"bbox {vals} must be four finite numbers")
        if not (-90 <= self.south <= self.north <= 90):
            raise InvalidFilterError(
                f"bbox south/north {self.south}, {self.north} must be within -90..90, south ≤ north"
            )

    @classmethod
    def parse(cls, text: str) -> BBox:
        """``west,south,east,north``; longitudes outside ±180 (a panned Leaflet view) are wrapped."""
        try:
            w, s, e, n = (float(x) for x in text.split(","))
        except ValueError:
            raise InvalidFilterError(f"bbox {text!r} is not west,south,east,north") from None
        return cls.from_view(w, s, e, n)

    @classmethod
    def from_view(cls, west: float, south: float, east: float, north: float) -> BBox:
        """A map view's bounds, wrapped into -180..180 and clamped to ±90."""
        if east - west >= 360:
            west, east = -180.0, 180.0
        else:
            # Wrap only what lies outside: (x + 180) % 360 - 180 turns 5.96 into 5.960000000000008.
            if not -180 <= west <= 180:
                west = ((west + 180) % 360) - 180
            if not -180 <= east <= 180:
                east = ((east + 180) % 360) - 180
                if east == -180 and west > east:
                    east = 180.0
        return cls(west, max(-90.0, south), east, min(90.0, north))

    def __str__(self) -> str:
        return f"{self.west:.5f},{self.south:.5f},{self.east:.5f},{self.north:.5f}"

    @property
    def crosses_antimeridian(self) -> bool:
        return self.west > self.east


_TAG = re.compile(r"(?:(focus|f|surrounding|surr|s|any):)?([^=]+?)(?:=(.*))?")


@dataclass(frozen=True, slots=True)
class TagExpr:
    """``key`` or ``key=value``, on the focus object, a surrounding object, or either."""

    key: str
    value: str | None = None
    role: Role = "any"

    @classmethod
    def parse(cls, text: str) -> TagExpr:
        """``building``, ``sport=tennis``, ``focus:leisure=pitch``, ``surrounding:highway``."""
        m = _TAG.fullmatch(text.strip())
        if not m or not m.group(2).strip():
            raise InvalidFilterError(f"tag {text!r} is not key, key=value or role:key=value")
        role = _ROLE_PREFIX[m.group(1)] if m.group(1) else "any"
        return cls(m.group(2).strip(), m.group(3), role)

    def __str__(self) -> str:
        body = self.key if self.value is None else f"{self.key}={self.value}"
        return body if self.role == "any" else f"{self.role}:{body}"


@dataclass(frozen=True)
class Filters:
    """Everything a user can filter on. Empty fields do not filter."""

    sources: tuple[str, ...] = ()
    year_min: int | None = None
    year_max: int | None = None
    months: tuple[int, ...] = ()
    obj_types: tuple[str, ...] = ()
    tags: tuple[TagExpr, ...] = ()
    tag_mode: Literal["all", "any"] = "all"
    caption: str = ""
    subsets: tuple[str, ...] = ()  # images in any of these caption CSVs
    bbox: BBox | None = None
    problems: tuple[str, ...] = ()  # images with any of these problem kinds ("any" = any problem)
    ids: tuple[int, ...] | None = field(default=None, compare=True)  # restrict to these ids (audit, gallery)

    def __post_init__(self) -> None:
        if self.year_min is not None and self.year_max is not None and self.year_min > self.year_max:
            raise InvalidFilterError(f"year range {self.year_min}–{self.year_max} is empty; swap the bounds")
        for m in self.months:
            if not 1 <= m <= 12:
                raise InvalidFilterError(f"month {m} is not 1–12")
        for t in self.obj_types:
            if t not in ("a", "w", "n"):
                raise InvalidFilterError(f"object type {t!r} is not a (area), w (way) or n (node)")
        if self.tag_mode not in ("all", "any"):
            raise InvalidFilterError(f"tag mode {self.tag_mode!r} is not 'all' or 'any'")

    def without(self, dimension: str) -> Filters:
        """These filters with one facet dimension cleared (for facet counts under the other filters)."""
        clear: dict[str, object] = {
            "source": {"sources": ()},
            "year": {"year_min": None, "year_max": None},
            "month": {"months": ()},
            "obj_type": {"obj_types": ()},
            "subset": {"subsets": ()},
            "tags": {"tags": ()},
            "bbox": {"bbox": None},
            "caption": {"caption": ""},
            "problems": {"problems": ()},
        }[dimension]  # type: ignore[assignment]
        return replace(self, **clear)  # type: ignore[arg-type]

    @property
    def is_empty(self) -> bool:
        return self == Filters()


class Resolver(Protocol):
    """What build_where needs to know about one index."""

    def kv_range(self, key: str, value: str | None) -> tuple[int, int] | None:
        """Vocabulary id range of ``key=value`` (or of every value of ``key``); None if unknown."""
        ...

    def subset_bit(self, slug: str) -> int | None:
        """Bit of a subset in the ``subsets`` column; None if this index has no such subset."""
        ...

    def tag_bit(self, key: str, value: str | None) -> int | None:
        """Bit of a frequent key (value None) or key=value in the images' tag bitmask columns, if any."""
        ...


_ROLE_COLUMN = {"any": "any", "focus": "focus", "surrounding": "surr"}
_ROLE_CODE = {"focus": 0, "surrounding": 1}


def sql_literal(text: str) -> str:
    """``text`` as a SQL string literal, for the few places DuckDB takes no parameter (file paths in
    ``read_parquet``/``COPY ... TO``, ``SET``): quotes doubled, so a path with ``'`` stays one literal."""
    return "'" + text.replace("'", "''") + "'"


def _in_list(column: str, values: tuple[object, ...], params: list[object]) -> str:
    params.extend(values)
    return f"{column} IN ({', '.join('?' * len(values))})"


def _caption_cond(a: str, needle: str, r: Resolver, params: list[object]) -> str:
    """Substring search in either caption, narrowed by the caption word index when the index has one.

    ``r.caption_candidates(needle)`` gives the vocabulary words one of which every matching caption must
    hold (those fitting the needle's rarest word: equal to it when the needle has separators on both
    sides of it, starting or ending with it when on one side, containing it otherwise); the exact
    ``contains`` test then runs on those captions only, so results equal a full scan. An index that
    keeps each needle's matching caption ids (``r.caption_hits``) is asked first."""
    hits = r.caption_hits(needle) if hasattr(r, "caption_hits") else None
    if hits is not None:
        return _hits_cond(a, hits, params)
    words = r.caption_candidates(needle) if hasattr(r, "caption_candidates") else None
    if words is not None and ONE_WORD.fullmatch(needle):
        # A needle without separators lies inside one word of every caption holding it, and every
        # caption holding a word that contains it holds it: the candidates are the answer, no text test.
        ph = ", ".join("?" * len(words)) or "NULL"
        params.extend([*words, *words])
        return (
            f"({a}title_cid IN (SELECT cap_id FROM caption_words WHERE kind = 0 AND word IN ({ph})) OR "
            f"{a}multi_cid IN (SELECT cap_id FROM caption_words WHERE kind = 1 AND word IN ({ph})))"
        )
    if words is not None:
        ph = ", ".join("?" * len(words)) or "NULL"
        params.extend([*words, needle, *words, needle])
        return (
            f"({a}title_cid IN (SELECT cap_id FROM caption_titles WHERE cap_id IN (SELECT cap_id FROM "
            f"caption_words WHERE kind = 0 AND word IN ({ph})) AND contains(lc, ?)) OR "
            f"{a}multi_cid IN (SELECT cap_id FROM caption_multis WHERE cap_id IN (SELECT cap_id FROM "
            f"caption_words WHERE kind = 1 AND word IN ({ph})) AND contains(lc, ?)))"
        )
    params.extend([needle, needle])
    if getattr(r, "caption_dictionaries", False):
        # scan the distinct lower-cased captions, then match images by caption id
        return (
            f"({a}title_cid IN (SELECT cap_id FROM caption_titles WHERE contains(lc, ?)) OR "
            f"{a}multi_cid IN (SELECT cap_id FROM caption_multis WHERE contains(lc, ?)))"
        )
    return f"(contains(lower({a}title), ?) OR contains(lower({a}title_multi_objects), ?))"


def _hits_cond(a: str, hits: CaptionHits, params: list[object]) -> str:
    """Images whose title or multi-object caption is one of the needle's resolved caption ids."""
    parts = [_in_list(f"{a}title_cid", hits.title_ids, params)] if hits.title_ids else []
    if hits.table is not None:
        parts.append(f"{a}multi_cid IN (SELECT cap_id FROM {hits.table})")
    return "(" + " OR ".join(parts) + ")" if parts else "FALSE"


def build_where(
    f: Filters, r: Resolver, *, alias: str = "", problems_table: str = "problems"
) -> tuple[str, list[object]]:
    """SQL condition over the images table (``alias.`` prefixed when given) and its parameters.

    ``problems_table`` is the table (or parenthesised subquery) of (id, kind) problem rows; the index
    passes one that adds the pixel checks when they have been computed.
    """
    a = f"{alias}." if alias else ""
    conds: list[str] = []
    params: list[object] = []
    if f.sources:
        conds.append(_in_list(f"{a}source", f.sources, params))
    if f.year_min is not None:
        conds.append(f"{a}year >= ?")
        params.append(f.year_min)
    if f.year_max is not None:
        conds.append(f"{a}year <= ?")
        params.append(f.year_max)
    if f.months:
        conds.append(_in_list(f"{a}month", f.months, params))
    if f.obj_types:
        conds.append(_in_list(f"{a}obj_type", f.obj_types, params))
    if f.subsets:
        bits = (r.subset_bit(slug) for slug in f.subsets)
        conds.append(f"({a}subsets & ?) <> 0")
        params.append(sum({1 << b for b in bits if b is not None}))
    if f.bbox is not None:
        conds.append(_bbox_cond(a, f.bbox, params))
    if f.caption.strip():
        conds.append(_caption_cond(a, f.caption.strip().lower(), r, params))
    if f.problems:
        conds.append(_problems_cond(a, f.problems, problems_table, params))
    if f.ids is not None:
        conds.append(_in_list(f"{a}id", f.ids, params) if f.ids else "FALSE")
    if f.tags:
        conds.extend(_tag_conds(a, f, r, params))
    return (" AND ".join(conds) if conds else "TRUE"), params


def _bbox_cond(a: str, b: BBox, params: list[object]) -> str:
    """Centres inside ``b`` (two longitude ranges when it crosses the antimeridian)."""
    params.extend([b.south, b.north, b.west, b.east])
    lon = f"({a}cx >= ? OR {a}cx <= ?)" if b.crosses_antimeridian else f"{a}cx BETWEEN ? AND ?"
    return f"{a}cy BETWEEN ? AND ? AND {lon}"


def _problems_cond(a: str, problems: tuple[str, ...], problems_table: str, params: list[object]) -> str:
    """Images with any recorded problem, or with one of the named kinds."""
    kinds = tuple(k for k in problems if k != "any")
    if ("any" in problems or not kinds) and problems_table == "problems":
        return f"{a}n_problems > 0"
    if "any" in problems or not kinds:
        return f"{a}id IN (SELECT id FROM {problems_table} WHERE id IS NOT NULL)"
    sub = _in_list("kind", kinds, params)
    return f"{a}id IN (SELECT id FROM {problems_table} WHERE {sub} AND id IS NOT NULL)"


def _tag_conds(a: str, f: Filters, r: Resolver, params: list[object]) -> list[str]:
    """The tag filter: frequent tags as a bit test on the images row, others as a semi-join on tag rows;
    every term (``all``) or any of them (``any``)."""
    bit_terms: list[tuple[str, list[object]]] = []
    semi_terms: list[tuple[str, list[object]]] = []
    in_order: list[tuple[str, list[object]]] = []  # every term as a full condition, in the given order
    for t in f.tags:
        bit = r.tag_bit(t.key, t.value) if hasattr(r, "tag_bit") else None
        if bit is not None:
            column = f"{a}tb_{'keys' if t.value is None else 'pairs'}_" + _ROLE_COLUMN[t.role]
            bit_terms.append((f"({column} & ?) <> 0", [1 << bit]))
            in_order.append(bit_terms[-1])
            continue
        rng = r.kv_range(t.key, t.value)
        if rng is None:
            in_order.append(("FALSE", []))
            continue
        tp: list[object] = [rng[0], rng[1]]
        term = "kv_id BETWEEN ? AND ?"
        if t.role != "any":
            term += " AND role = ?"
            tp.append(_ROLE_CODE[t.role])
        semi_terms.append((term, tp))
        in_order.append((f"{a}id IN (SELECT image_id FROM tags WHERE {term})", tp))
    if f.tag_mode == "all":
        for _, tp in in_order:
            params.extend(tp)
        return [cond for cond, _ in in_order]
    parts = [cond for cond, _ in bit_terms]
    for _, tp in bit_terms:
        params.extend(tp)
    if semi_terms:
        inner = " OR ".join(f"({term})" for term, _ in semi_terms)
        parts.append(f"{a}id IN (SELECT image_id FROM tags WHERE {inner})")
        for _, tp in semi_terms:
            params.extend(tp)
    return ["FALSE" if not parts else parts[0] if len(parts) == 1 else "(" + " OR ".join(parts) + ")"]
