"""The tiny index's images (tests/conftest.py's TINY_RECORDS) by id, shared by the index query tests."""

from __future__ import annotations

from typing import Any

from skyscript_viz import BBox

# Ids follow (part, file path) order.
STEMS = [
    "a100_CH_19",
    "a102_CH_21",
    "n1100_CH_19",
    "n300_CH_20",
    "w200_CH_19",
    "w200_CH_22",  # part 2
    "a1200_US_18",
    "a400_US_18",
    "a402_US_20",
    "a700_S2_17",
    "a702_S2_17",
    "n500_US_22",
    "w600_US_16",
    "w602_S2_21",  # part 3
    "a1002_ES_22",
    "a800_DE_20",
    "a802_DE_20",
    "n900_DE_21",
    "w1000_FI_19",
    "w1300_L8_16",  # part 4
]
PART = [2] * 6 + [3] * 8 + [4] * 6
FP = [f"images{p}/{s}.jpg" for p, s in zip(PART, STEMS, strict=True)]
ID = {s: i for i, s in enumerate(STEMS)}
ALL = list(range(20))
SWITZERLAND = BBox(5.96, 45.82, 10.49, 47.81)
EUROPE = BBox(-10, 35, 30, 65)


def ids(df: Any) -> list[int]:
    """The ``id`` column of a result, as ints."""
    return [int(i) for i in df["id"]]
