"""Names of ``st.session_state`` keys and widget keys, shared by every page and the tests."""

SOURCES = "f_sources"
YEARS = "f_years"
MONTHS = "f_months"
TYPES = "f_types"
TAGS = "f_tags"
TAG_QUERY = "f_tag_query"
TAG_PICK = "f_tag_pick"
TAG_ROLE = "f_tag_role"
TAG_MODE = "f_tag_mode"
CAPTION = "f_caption"
SUBSETS = "f_subsets"
IN_VIEW = "f_in_view"
PROBLEMS_ONLY = "f_problems"
PROBLEM_KINDS = "f_problem_kinds"
FILTER_KEYS = (
    SOURCES,
    YEARS,
    MONTHS,
    TYPES,
    TAGS,
    TAG_QUERY,
    TAG_MODE,
    CAPTION,
    SUBSETS,
    IN_VIEW,
    PROBLEMS_ONLY,
    PROBLEM_KINDS,
)

BASE = "m_base"
DRAPE = "m_drape"
OPACITY = "m_opacity"
CELLS_BY_SOURCE = "m_cells_by_source"  # colour density cells by dominant source instead of count
MAP = "map"  # st_folium's key: its last returned value
VIEW = "m_view"  # (lat, lon, zoom) the map shows now
MAP_INIT = "m_init"  # (lat, lon, zoom) the base map was built with
LAST_CLICK = "m_last_click"
SELECTED = "selected"  # file path of the selected image
NOTICES = "url_notices"
SEEDED = "url_seeded"
SORT = "g_sort"
SEED = "g_seed"
PAGE = "g_page"
SIZE = "g_size"
VERDICTS = "f_verdicts"  # the "Reviewed as" filter

# widget values that must outlive a page switch
PERSISTENT = (
    *FILTER_KEYS,
    "f_years_slider",
    "f_verdicts",
    "reviewer",
    BASE,
    DRAPE,
    OPACITY,
    SORT,
    SEED,
    PAGE,
    SIZE,
    CELLS_BY_SOURCE,
)
