"""The kinds of problem the index records, each with a one-line explanation for the UI."""

from __future__ import annotations

from enum import Enum

__all__ = ["PROBLEM_HELP", "ProblemKind"]


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


PROBLEM_HELP: dict[str, str] = {
    "missing_meta": "The image has no meta pickle, so it has no footprint, time or tags.",
    "missing_image": "A meta pickle exists but its image file is missing from the part.",
    "corrupt_meta": "The meta pickle cannot be read or lacks the expected fields.",
    "unsafe_meta": "The meta pickle references code (a class or function) and was refused unread.",
    "bad_name": "The file name does not follow {a|w|n}{osm_id}_{SRC}_{YY}.jpg.",
    "unknown_source": "The source code in the name is not one of the ten SkyScript sources.",
    "invalid_box": "The footprint box is not a valid (west, south, east, north) in degrees.",
    "year_mismatch": "The year in the file name differs from the year in the meta time.",
    "csv_row_without_image": "A caption CSV lists an image that the dataset does not contain.",
    "image_without_csv_row": "The image appears in no caption CSV, so it has no caption.",
    "path_escape": "A caption CSV path points outside the dataset root; it is never read.",
    "duplicate_caption_conflict": "The same image has different captions in different caption CSVs.",
    "bad_csv_row": "A caption CSV row has the wrong number of columns or no file path.",
    "duplicate_file": "Two files in one part have the same name; only the first is used.",
    "unexpected_file": "A file in an image or meta part is neither .jpg nor .pickle.",
    "corrupt_image": "The image file cannot be decoded.",
    "caption_misses_tag": "Neither caption names the focus object's tag key or value.",
    "blank_image": "Almost all pixels are pure black/white or one flat colour (no data).",
    "low_contrast": "Luminance barely varies (cloud, haze): the object is probably not visible.",
    "duplicate_content": "Byte-identical to another image with a different name.",
    "damaged_zip": "A part's zip is damaged, truncated or not a zip at all (an interrupted download, an "
                   "error page saved under its name); what it holds could not be read.",
    "unreadable_file": "A file was not read: a dangling link, a link leading outside the dataset root, a "
                       "FIFO or device, or a zip member whose name is not valid UTF-8.",
}
