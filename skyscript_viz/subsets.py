"""The official SkyScript caption CSVs: file stem, the short slug used in links and the index, and the
label users see. One table, read by discovery (which CSVs a root holds) and by remote roots (which
CSVs to fetch); it imports nothing, so both can use it without importing each other."""

from __future__ import annotations

__all__ = ["OFFICIAL_CSVS"]

# (file name without .csv, slug, label), most inclusive first: the first CSV holding a row gives its
# captions
OFFICIAL_CSVS: list[tuple[str, str, str]] = [
    ("SkyScript_train_unfiltered_5M", "unfiltered", "All training images (unfiltered 5M)"),
    ("SkyScript_train_top50pct_filtered_by_CLIP_openai", "top50_openai", "Top 50% by CLIP (OpenAI)"),
    ("SkyScript_train_top30pct_filtered_by_CLIP_openai", "top30_openai", "Top 30% by CLIP (OpenAI)"),
    ("SkyScript_train_top50pct_filtered_by_CLIP_laion_RS", "top50_laionrs", "Top 50% by CLIP (LAION-RS)"),
    ("SkyScript_train_top30pct_filtered_by_CLIP_laion_RS", "top30_laionrs", "Top 30% by CLIP (LAION-RS)"),
    ("SkyScript_val_5K_filtered_by_CLIP_openai", "val", "Validation 5K (CLIP OpenAI)"),
    ("SkyScript_test_30K_filtered_by_CLIP_openai", "test", "Test 30K (CLIP OpenAI)"),
    ("SkyScript_val_5K_filtered_by_CLIP_laion_RS", "val_laionrs", "Validation 5K (CLIP LAION-RS)"),
    ("SkyScript_test_30K_filtered_by_CLIP_laion_RS", "test_laionrs", "Test 30K (CLIP LAION-RS)"),
    ("SkyScript_train_unfiltered_5M_language_polished", "polished_unfiltered", "Language-polished captions, all"),
    (
        "SkyScript_train_top50pct_filtered_by_CLIP_laion_RS_language_polished",
        "polished_top50_laionrs",
        "Language-polished captions, top 50% (LAION-RS)",
    ),
    (
        "SkyScript_train_top30pct_filtered_by_CLIP_laion_RS_language_polished",
        "polished_top30_laionrs",
        "Language-polished captions, top 30% (LAION-RS)",
    ),
]
