"""The caption word index computed with Arrow/NumPy equals what the SQL split and sort gave."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from skyscript_viz.build import CAPTION_SPLIT_SQL
from skyscript_viz.capwords import word_tables

CAPTIONS = [
    "an aerial view of a building with 2 farmland areas, a stadium and a road nearby",
    "a, b  c,,d ,e",
    "road road road, road",
    "café-bar über straße (näher) 3.5 km; x/y",
    "",
    ",",
    "tab\tand\nnewline",
    "trailing space ",
    " leading",
    "été à l'eau",
]


def _sql(con: duckdb.DuckDBPyConnection) -> tuple[list[tuple[object, ...]], list[tuple[object, ...]]]:
    con.execute(f"""CREATE TABLE w AS SELECT word, kind, cap_id FROM (
                      SELECT unnest(list_distinct(regexp_split_to_array(lc, '{CAPTION_SPLIT_SQL}'))) AS word,
                             0::TINYINT AS kind, cap_id FROM t
                      UNION ALL
                      SELECT unnest(list_distinct(regexp_split_to_array(lc, '{CAPTION_SPLIT_SQL}'))) AS word,
                             1::TINYINT AS kind, cap_id FROM m)
                    WHERE word <> '' ORDER BY word, kind, cap_id""")
    words = con.execute("SELECT * FROM w").fetchall()
    vocab = con.execute("SELECT word, count(*)::INTEGER FROM w GROUP BY word ORDER BY word").fetchall()
    return words, vocab


def test_word_tables_equal_the_sql_split() -> None:
    con = duckdb.connect()
    for name, texts in (("t", CAPTIONS[::2]), ("m", CAPTIONS)):
        con.execute(f"CREATE TABLE {name} (cap_id INTEGER, lc VARCHAR)")
        con.executemany(f"INSERT INTO {name} VALUES (?, lower(?))", list(enumerate(texts)))
    titles, multis = (con.sql(f"SELECT cap_id, lc FROM {n}").to_arrow_table() for n in ("t", "m"))
    words, vocab = word_tables(titles, multis, CAPTION_SPLIT_SQL)
    want_words, want_vocab = _sql(con)
    assert list(zip(*words.to_pydict().values(), strict=True)) == want_words
    assert list(zip(*vocab.to_pydict().values(), strict=True)) == want_vocab
    assert ("road", 1, 2) in want_words and ("straße", 1, 3) not in want_words  # the test data splits


def test_word_tables_of_no_captions() -> None:
    empty = pa.table({"cap_id": pa.array([], pa.int32()), "lc": pa.array([], pa.string())})
    words, vocab = word_tables(empty, empty, CAPTION_SPLIT_SQL)
    assert words.num_rows == 0 and vocab.num_rows == 0
