"""SkyScript Explorer's library: reading a SkyScript root, indexing it, and querying it.

Nothing here imports streamlit; the pages do (through ``skyscript_viz.ui``).
"""

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
