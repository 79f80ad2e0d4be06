"""SkyScript Explorer's library: reading a SkyScript root, indexing it, and querying it.

Nothing here imports streamlit; the pages do (through ``skyscript_viz.ui``).

The names below are re-exported lazily: ``import skyscript_viz`` loads none of the submodules, so a
command or a URL parser that needs one small module does not pay for DuckDB, pyarrow, pandas or Pillow.
A name is imported from its module on first access (module ``__getattr__``, PEP 562).
"""

import importlib
import typing

if typing.TYPE_CHECKING:  # the same names, eagerly, for type checkers and editors
    from .build import BuildReport, build_index, default_index_dir
    from .discovery import CaptionCsv, DatasetLayout, Part, PartStore, discover
    from .errors import (
        DatasetRootError,
        IndexBuildError,
        IndexNotFoundError,
        InvalidFilterError,
        NotOwnerError,
        ReviewStoreError,
        SkyscriptVizError,
        UnsafePickleError,
        ViewExistsError,
    )
    from .images import ImageResult, ImageStore, placeholder_image
    from .index import FacetValue, ImageIndex, ImageRecord, MapView, QueryResult, Subset, TagSuggestion
    from .naming import OBJECT_TYPES, ParsedName, osm_url, parse_name
    from .problems import PROBLEM_HELP, ProblemKind
    from .query import BBox, Filters, TagExpr, build_where
    from .safepickle import safe_loads
    from .sources import SOURCES, Source, source_info, source_label

# public name -> the submodule that defines it (tests/test_public_api.py checks this matches the block above)
_EXPORTS: dict[str, str] = {
    "BuildReport": "build",
    "build_index": "build",
    "default_index_dir": "build",
    "CaptionCsv": "discovery",
    "DatasetLayout": "discovery",
    "Part": "discovery",
    "PartStore": "discovery",
    "discover": "discovery",
    "DatasetRootError": "errors",
    "IndexBuildError": "errors",
    "IndexNotFoundError": "errors",
    "InvalidFilterError": "errors",
    "NotOwnerError": "errors",
    "ReviewStoreError": "errors",
    "ViewExistsError": "errors",
    "SkyscriptVizError": "errors",
    "UnsafePickleError": "errors",
    "ImageResult": "images",
    "ImageStore": "images",
    "placeholder_image": "images",
    "FacetValue": "index",
    "ImageIndex": "index",
    "ImageRecord": "index",
    "MapView": "index",
    "QueryResult": "index",
    "Subset": "index",
    "TagSuggestion": "index",
    "OBJECT_TYPES": "naming",
    "ParsedName": "naming",
    "osm_url": "naming",
    "parse_name": "naming",
    "PROBLEM_HELP": "problems",
    "ProblemKind": "problems",
    "BBox": "query",
    "Filters": "query",
    "TagExpr": "query",
    "build_where": "query",
    "safe_loads": "safepickle",
    "SOURCES": "sources",
    "Source": "sources",
    "source_info": "sources",
    "source_label": "sources",
}

__all__ = [
    "OBJECT_TYPES",
    "PROBLEM_HELP",
    "SOURCES",
    "BBox",
    "BuildReport",
    "CaptionCsv",
    "DatasetLayout",
    "DatasetRootError",
    "FacetValue",
    "Filters",
    "ImageIndex",
    "ImageRecord",
    "ImageResult",
    "ImageStore",
    "IndexBuildError",
    "IndexNotFoundError",
    "InvalidFilterError",
    "MapView",
    "NotOwnerError",
    "ParsedName",
    "Part",
    "PartStore",
    "ProblemKind",
    "QueryResult",
    "ReviewStoreError",
    "SkyscriptVizError",
    "Source",
    "Subset",
    "TagExpr",
    "TagSuggestion",
    "UnsafePickleError",
    "ViewExistsError",
    "build_index",
    "build_where",
    "default_index_dir",
    "discover",
    "osm_url",
    "parse_name",
    "placeholder_image",
    "safe_loads",
    "source_info",
    "source_label",
]


def __getattr__(name: str) -> object:
    """Import a re-exported name from its submodule on first use, then keep it as a module global."""
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f".{module}", __name__), name)
    globals()[name] = value  # later look-ups no longer reach __getattr__
    return value


def __dir__() -> list[str]:
    """The loaded globals plus every lazy name, so ``dir()`` and completion see the whole API."""
    return sorted({*globals(), *__all__})
