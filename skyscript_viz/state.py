"""The view as a URL: filters, map position, base layer, selection and paging <-> query parameters.

One grammar serves the URL query string and the command line (``--filter src=CH,US``): each filter is
``name=value``; ``tag`` may repeat. Parsing never raises: a bad value is dropped and reported in
``notices`` so the page can show it.

    src=CH,US  y=2018-2021  m=6,7  type=a,w  tag=focus:sport=tennis  tags=any  q=court
    sub=top30_openai  bbox=5.9,45.8,10.5,47.8  prob=any
    lat=46.8&lon=8.2&z=8  base=satellite  sel=images2/a1_CH_19.jpg  drape=1  op=0.7
    sort=random  seed=7  page=3  size=48  rev=bad_caption,wrong_place
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from .errors import InvalidFilterError
from .problems import PROBLEM_HELP
from .query import BBox, Filters, TagExpr
from .vocab import MAX_ZOOM, SORT_ORDERS, VERDICTS

__all__ = [
    "BASE_LAYERS",
    "FILTER_KEYS",
    "MAX_LIST",
    "MAX_TAGS",
    "MAX_ZOOM",
    "ViewState",
    "filters_from_params",
    "filters_to_params",
    "parse_filter_args",
    "parse_params",
    "safe_view",
    "to_params",
]

BASE_LAYERS = ("offline", "osm", "satellite")
FILTER_KEYS = ("src", "y", "m", "type", "tag", "tags", "q", "sub", "bbox", "prob")
VIEW_KEYS = ("lat", "lon", "z", "base", "sel", "drape", "op", "sort", "seed", "page", "size", "rev")
PARAM_KEYS = FILTER_KEYS + VIEW_KEYS  # every name a link may carry
PAGE_SIZES = (12, 24, 48, 96, 192)
_PROBLEM_KINDS = frozenset(PROBLEM_HELP) | {"any"}
# A link is anyone's input: lists are capped (each tag filter is a join in every query of every page:
# 40,000 tag= values cost seconds per query) and text is cut, with a notice like any other bad value.
MAX_TAGS = 20
MAX_LIST = 100  # items in a comma list (src=, m=, sub=, prob=, rev=)
MAX_TEXT = 2_000  # characters of any one value (a file path, a list) read from a link
_SHOWN = 5  # bad values named in one notice


@dataclass(frozen=True)
class ViewState:
    """Everything a shared link restores."""

    filters: Filters = field(default_factory=Filters)
    lat: float | None = None
    lon: float | None = None
    zoom: int | None = None
    base: str = "offline"
    selected: str | None = None
    drape: bool = False
    opacity: float = 0.8
    in_view: bool = False  # the map's extent is a filter (bbox set from the map)
    sort: str = "random"
    seed: int = 0
    page: int = 1
    size: int = 48
    verdicts: tuple[str, ...] = ()  # "Reviewed as": images whose latest verdict is one of these


Params = Mapping[str, str | list[str]]


def _values(params: Params, key: str) -> list[str]:
    v = params.get(key)
    if v is None:
        return []
    return [v] if isinstance(v, str) else list(v)


def _first(params: Params, key: str) -> str | None:
    vals = _values(params, key)
    return vals[-1] if vals else None


def _csv(text: str, notices: list[str] | None = None, what: str = "values") -> list[str]:
    """The items of a comma list; beyond MAX_LIST items they are dropped (with a notice)."""
    items = [x.strip() for x in text[:MAX_TEXT].split(",", MAX_LIST) if x.strip()]
    if len(items) > MAX_LIST or len(text) > MAX_TEXT:
        items = items[:MAX_LIST]
        if notices is not None:
            notices.append(f"{what} beyond the first {len(items)} ignored (the list is too long)")
    return items


def _cut(text: str, n: int = 80) -> str:
    return text if len(text) <= n else text[: n - 1] + "…"


def _names(values: list[str]) -> str:
    """A few of ``values`` for a notice, each cut short."""
    shown = ", ".join(_cut(v, 40) for v in values[:_SHOWN])
    return shown + (f" and {len(values) - _SHOWN:,} more" if len(values) > _SHOWN else "")


def _known(values: list[str], known: Iterable[str] | None, what: str, notices: list[str]) -> tuple[str, ...]:
    """``values`` that are among ``known`` (all of them when ``known`` is None); a notice for the rest."""
    if known is None:
        return tuple(values)
    allowed = set(known)
    bad = [v for v in values if v not in allowed]
    if bad:
        notices.append(f"unknown {what} {_names(bad)} ignored")
    return tuple(v for v in values if v in allowed)


def filters_from_params(
    params: Params,
    notices: list[str],
    *,
    known_sources: Iterable[str] | None = None,
    known_subsets: Iterable[str] | None = None,
) -> Filters:
    """Filters from query parameters; bad values are dropped with a notice appended.

    One branch per link parameter, in the order of FILTER_KEYS: long, but each branch is the whole
    grammar of its parameter, and the round-trip tests in test_state.py walk every one.
    """
    kw: dict[str, Any] = {}
    if (v := _first(params, "src")) is not None:
        kw["sources"] = _known([s.upper() for s in _csv(v, notices, "sources")], known_sources, "source", notices)
    if (v := _first(params, "y")) is not None:
        lo, sep, hi = v.partition("-")
        try:
            ymin = int(lo) if lo.strip() else None
            ymax = int(hi) if hi.strip() else (ymin if not sep else None)
            Filters(year_min=ymin, year_max=ymax)
            kw["year_min"], kw["year_max"] = ymin, ymax
        except (ValueError, InvalidFilterError):
            notices.append(f"year range {_cut(v)!r} ignored (expected e.g. 2018-2021)")
    if (v := _first(params, "m")) is not None:
        try:
            months = tuple(int(x) for x in _csv(v, notices, "months"))
            Filters(months=months)
            kw["months"] = months
        except (ValueError, InvalidFilterError):
            notices.append(f"months {_cut(v)!r} ignored (expected numbers 1–12)")
    if (v := _first(params, "type")) is not None:
        types = tuple(t[:1].lower() for t in _csv(v, notices, "object types"))
        if all(t in ("a", "w", "n") for t in types):
            kw["obj_types"] = types
        else:
            notices.append(f"object types {_cut(v)!r} ignored (expected a, w, n)")
    tags: list[TagExpr] = []
    raw_tags = _values(params, "tag")
    if len(raw_tags) > MAX_TAGS:
        notices.append(f"{len(raw_tags) - MAX_TAGS:,} tag filters beyond the first {MAX_TAGS} ignored")
    for raw in raw_tags[:MAX_TAGS]:
        try:
            tags.append(TagExpr.parse(raw[:MAX_TEXT]))
        except InvalidFilterError as exc:
            notices.append(f"{_cut(str(exc), 200)}; ignored")
    if tags:
        kw["tags"] = tuple(tags)
    if (v := _first(params, "tags")) is not None:
        if v in ("all", "any"):
            kw["tag_mode"] = v
        else:
            notices.append(f"tag mode {_cut(v)!r} ignored (expected all or any)")
    if (v := _first(params, "q")) is not None:
        kw["caption"] = v[:200]
    if (v := _first(params, "sub")) is not None:
        kw["subsets"] = _known(_csv(v, notices, "subsets"), known_subsets, "subset", notices)
    if (v := _first(params, "bbox")) is not None:
        try:
            kw["bbox"] = BBox.parse(v)
        except InvalidFilterError as exc:
            notices.append(f"{_cut(str(exc), 200)}; ignored")
    if (v := _first(params, "prob")) is not None:
        kinds = _csv(v, notices, "problem kinds")
        bad = [k for k in kinds if k not in _PROBLEM_KINDS]
        if bad:
            notices.append(
                f"unknown problem kind {_names(bad)} ignored (expected any or one of "
                f"{', '.join(sorted(_PROBLEM_KINDS - {'any'}))})"
            )
        kw["problems"] = tuple(k for k in kinds if k in _PROBLEM_KINDS)
    return Filters(**kw)


def _tag_text(t: TagExpr) -> str:
    """``t`` as URL text that parses back to ``t``: a key that looks like a role prefix (``s:x``,
    ``focus:x``) would be read as that role, so it is written with an explicit ``any:``."""
    text = str(t)
    if t.role == "any":
        try:
            if TagExpr.parse(text) != t:
                return f"any:{text}"
        except InvalidFilterError:
            pass
    return text


def filters_to_params(f: Filters) -> dict[str, str | list[str]]:
    """Query parameters for ``f`` (only the non-empty ones)."""
    out: dict[str, str | list[str]] = {}
    if f.sources:
        out["src"] = ",".join(f.sources)
    if f.year_min is not None or f.year_max is not None:
        out["y"] = f"{f.year_min if f.year_min is not None else ''}-{f.year_max if f.year_max is not None else ''}"
    if f.months:
        out["m"] = ",".join(str(m) for m in f.months)
    if f.obj_types:
        out["type"] = ",".join(f.obj_types)
    if f.tags:
        out["tag"] = [_tag_text(t) for t in f.tags]
        if f.tag_mode != "all":
            out["tags"] = f.tag_mode
    if f.caption:
        out["q"] = f.caption
    if f.subsets:
        out["sub"] = ",".join(f.subsets)
    if f.bbox is not None:
        out["bbox"] = str(f.bbox)
    if f.problems:
        out["prob"] = ",".join(f.problems)
    return out


def _num(params: Params, key: str, notices: list[str], lo: float, hi: float) -> float | None:
    v = _first(params, key)
    if v is None:
        return None
    try:
        x = float(v)
    except ValueError:
        x = math.nan
    if not (math.isfinite(x) and lo <= x <= hi):
        notices.append(f"{key}={_cut(v)!r} ignored (expected a number from {lo:g} to {hi:g})")
        return None
    return x


def parse_params(
    params: Params, *, known_sources: Iterable[str] | None = None, known_subsets: Iterable[str] | None = None
) -> tuple[ViewState, list[str]]:
    """A ViewState from query parameters, and notices for every value that was ignored.

    One branch per view parameter, as in filters_from_params: each is the whole grammar of its
    parameter, and test_state.py's round trips walk every one.
    """
    notices: list[str] = []
    f = filters_from_params(params, notices, known_sources=known_sources, known_subsets=known_subsets)
    kw: dict[str, Any] = {"filters": f, "in_view": f.bbox is not None}
    lat = _num(params, "lat", notices, -85.06, 85.06)
    lon = _num(params, "lon", notices, -540, 540)
    if lat is not None and lon is not None:
        # wrap only a panned view's longitude: (x + 180) % 360 - 180 turns 5.96 into 5.960000000000008
        kw["lat"], kw["lon"] = lat, lon if -180 <= lon <= 180 else ((lon + 180) % 360) - 180
    z = _num(params, "z", notices, 0, MAX_ZOOM)
    if z is not None:
        kw["zoom"] = int(z)
    if (v := _first(params, "base")) is not None:
        if v in BASE_LAYERS:
            kw["base"] = v
        else:
            notices.append(f"base layer {_cut(v)!r} ignored (expected {', '.join(BASE_LAYERS)})")
    if (v := _first(params, "sel")) is not None and v.strip():
        if len(v) <= MAX_TEXT:
            kw["selected"] = v.strip()
        else:
            notices.append(f"sel ignored (a file path of {len(v):,} characters)")
    if (v := _first(params, "drape")) is not None:
        kw["drape"] = v in ("1", "true", "yes")
    op = _num(params, "op", notices, 0, 1)
    if op is not None:
        kw["opacity"] = op
    if (v := _first(params, "sort")) is not None:
        if v in SORT_ORDERS:
            kw["sort"] = v
        else:
            notices.append(f"sort order {_cut(v)!r} ignored")
    seed = _num(params, "seed", notices, 0, 2**31 - 1)
    if seed is not None:
        kw["seed"] = int(seed)
    page = _num(params, "page", notices, 1, 10**9)
    if page is not None:
        kw["page"] = int(page)
    size = _num(params, "size", notices, 1, 1000)
    if size is not None:
        if int(size) in PAGE_SIZES:
            kw["size"] = int(size)
        else:
            notices.append(f"page size {int(size)} ignored (expected one of {PAGE_SIZES})")
    if (v := _first(params, "rev")) is not None:
        kw["verdicts"] = _known(_csv(v, notices, "verdicts"), VERDICTS, "verdict", notices)
    return ViewState(**kw), notices


def to_params(state: ViewState, *, defaults: ViewState | None = None) -> dict[str, str | list[str]]:
    """Query parameters for ``state``; values equal to ``defaults`` are left out to keep links short."""
    d = defaults or ViewState()
    out = filters_to_params(state.filters)
    if state.lat is not None and state.lon is not None:
        out["lat"], out["lon"] = f"{state.lat:.5f}", f"{state.lon:.5f}"
    if state.zoom is not None:
        out["z"] = str(state.zoom)
    for key, value, default in (
        ("base", state.base, d.base),
        ("sel", state.selected, d.selected),
        ("drape", "1" if state.drape else "0", "1" if d.drape else "0"),
        ("op", f"{state.opacity:g}", f"{d.opacity:g}"),
        ("sort", state.sort, d.sort),
        ("seed", str(state.seed), str(d.seed)),
        ("page", str(state.page), str(d.page)),
        ("size", str(state.size), str(d.size)),
        ("rev", ",".join(state.verdicts), ",".join(d.verdicts)),
    ):
        if value is not None and value != default:
            out[key] = value
    return out


def parse_filter_args(args: Iterable[str], **known: Any) -> Filters:
    """Filters from command-line ``name=value`` words (the URL grammar); raises on any bad value."""
    params: dict[str, list[str]] = {}
    for a in args:
        name, sep, value = a.partition("=")
        if not sep or name not in FILTER_KEYS:
            raise InvalidFilterError(f"filter {a!r} is not name=value with name in {', '.join(FILTER_KEYS)}")
        params.setdefault(name, []).append(value)
    notices: list[str] = []
    f = filters_from_params(params, notices, **known)
    if notices:
        raise InvalidFilterError("; ".join(n.replace(" ignored", " is invalid") for n in notices))
    return f


def safe_view(lat: object, lon: object, zoom: object) -> tuple[float, float, int] | None:
    """A map position reported by the browser (anyone can send one), as finite numbers in range:
    latitude clamped to the map's, longitude wrapped to -180..180, zoom clamped to 0..MAX_ZOOM;
    None when any of them is not a number."""
    try:
        la, lo, z = float(lat), float(lon), float(zoom)  # type: ignore[arg-type]
    except (TypeError, ValueError, OverflowError):
        return None
    if not (math.isfinite(la) and math.isfinite(lo) and math.isfinite(z)):
        return None
    lo = lo if -180 <= lo <= 180 else ((lo + 180) % 360) - 180  # wrapping 5.96 would give 5.960000000000008
    return max(-85.06, min(85.06, la)), lo, int(max(0, min(MAX_ZOOM, z)))


def with_filters(state: ViewState, f: Filters) -> ViewState:
    """``state`` with new filters and paging back to page 1."""
    return replace(state, filters=f, page=1)
