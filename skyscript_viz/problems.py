"""The kinds of problem the index records: the one table of their titles and one-sentence help."""

from __future__ import annotations

from enum import Enum
from typing import NamedTuple

__all__ = ["PROBLEMS", "PROBLEM_HELP", "Problem", "ProblemKind"]


class ProblemKind(str, Enum):
    """What can be wrong with one record. Values are stored in the problems table."""

    MISSING_META = "missing_meta"
    MISSING_IMAGE = "missing_image"
    CORRUPT_META = "corrupt_meta"
    UNSAFE_META = "unsafe_meta"
    BAD_NAME = "bad_name"
    UNKNOWN_SOURCE = "unknown_source"
    INVALID_BOX = "invalid_box"
    YEAR_MISMATCH = "year_mismatch"
    CSV_ROW_WITHOUT_IMAGE = "csv_row_without_image"
    IMAGE_WITHOUT_CSV_ROW = "image_without_csv_row"
    PATH_ESCAPE = "path_escape"
    DUPLICATE_CAPTION_CONFLICT = "duplicate_caption_conflict"
    BAD_CSV_ROW = "bad_csv_row"
    DUPLICATE_FILE = "duplicate_file"
    UNEXPECTED_FILE = "unexpected_file"
    CORRUPT_IMAGE = "corrupt_image"
    CAPTION_MISSES_TAG = "caption_misses_tag"
    BLANK_IMAGE = "blank_image"
    LOW_CONTRAST = "low_contrast"
    DUPLICATE_CONTENT = "duplicate_content"
    DAMAGED_ZIP = "damaged_zip"
    UNREADABLE_FILE = "unreadable_file"


class Problem(NamedTuple):
    """How the UI names one problem kind: a short title and one sentence on what it means."""

    title: str
    help: str


# The one table of problem kinds: every page, the detail panel and the Quality checks read it.
PROBLEMS: dict[str, Problem] = {
    "missing_meta": Problem(
        "Image without meta pickle", "The image has no meta pickle, so it has no footprint, time or tags."
    ),
    "missing_image": Problem(
        "Meta pickle without image", "A meta pickle exists but its image file is missing from the part."
    ),
    "corrupt_meta": Problem("Unreadable meta pickle", "The meta pickle cannot be read or lacks the expected fields."),
    "unsafe_meta": Problem(
        "Unsafe meta pickle refused",
        "The meta pickle references code (a class or function) and was refused unread.",
    ),
    "bad_name": Problem("File name does not parse", "The file name does not follow {a|w|n}{osm_id}_{SRC}_{YY}.jpg."),
    "unknown_source": Problem(
        "Unknown source code", "The source code in the name is not one of the ten SkyScript sources."
    ),
    "invalid_box": Problem(
        "Invalid footprint box", "The footprint box is not a valid (west, south, east, north) in degrees."
    ),
    "year_mismatch": Problem(
        "Year differs from meta time", "The year in the file name differs from the year in the meta time."
    ),
    "csv_row_without_image": Problem(
        "Caption row without image", "A caption CSV lists an image that the dataset does not contain."
    ),
    "image_without_csv_row": Problem(
        "Image without caption", "The image appears in no caption CSV, so it has no caption."
    ),
    "path_escape": Problem(
        "Caption path outside the root", "A caption CSV path points outside the dataset root; it is never read."
    ),
    "duplicate_caption_conflict": Problem(
        "Conflicting captions", "The same image has different captions in different caption CSVs."
    ),
    "bad_csv_row": Problem(
        "Malformed caption CSV row", "A caption CSV row has the wrong number of columns or no file path."
    ),
    "duplicate_file": Problem(
        "Duplicate file name in a part", "Two files in one part have the same name; only the first is used."
    ),
    "unexpected_file": Problem(
        "Unexpected file in a part", "A file in an image or meta part is neither .jpg nor .pickle."
    ),
    "corrupt_image": Problem(
        "Image cannot be decoded",
        "The JPEG is truncated or damaged: loaders will fail or skip it during training.",
    ),
    "caption_misses_tag": Problem(
        "Caption does not mention the focus tag",
        "Neither caption names the focus object's tag key or value: the rule-built "
        "caption may describe something else than the tagged object.",
    ),
    "blank_image": Problem(
        "Blank or no-data image",
        "Almost all pixels are pure black or white (no-data fill): the image has no content, "
        "so its caption teaches the model to describe nothing.",
    ),
    "low_contrast": Problem(
        "Very low contrast",
        "Luminance barely varies (cloud, haze, fog): the tagged object is probably not "
        "visible, so the caption does not match what the model sees.",
    ),
    "duplicate_content": Problem(
        "Duplicate image content",
        "Byte-identical images under different names: duplicates over-weight some "
        "objects and can leak between training and test splits.",
    ),
    "damaged_zip": Problem(
        "Damaged zip",
        "A part's zip is damaged, truncated or not a zip at all (an interrupted download, an error page saved "
        "under its name); what it holds could not be read.",
    ),
    "unreadable_file": Problem(
        "File not read",
        "A file was not read: a dangling link, a link leading outside the dataset root, a FIFO or device, or "
        "a zip member whose name is not valid UTF-8.",
    ),
}

PROBLEM_HELP: dict[str, str] = {kind: problem.help for kind, problem in PROBLEMS.items()}
"""Kind -> its one sentence of help (the ``help`` column of :data:`PROBLEMS`)."""
