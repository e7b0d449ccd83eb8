"""BM25 keyword search: queries are tokenized exactly as the index was, and search ranks by score."""

from __future__ import annotations

import bm25s
import numpy as np
import pytest

from bot.lexical import Bm25Index

TEXTS = [
    "Huawei's chief financial officer Meng Wanzhou was arrested in Canada.",
    "Shares in the airline fell after the chief executive said profits would fall.",
    "The the THE and of: 2004 £3.3bn café naïve résumé don't won't it’s",
    "Micron was granted a license to sell to Huawei, the Commerce Department said.",
    "",
    "a I x",
]


@pytest.mark.parametrize("text", TEXTS)
def test_query_terms_match_bm25s_tokenize(text):
    """The direct query tokenizer gives what bm25s.tokenize (used to build the index) gives."""
    index = Bm25Index.build(TEXTS[:4])
    want = bm25s.tokenize([text], stopwords="en", stemmer=index.stemmer, show_progress=False, return_ids=False)[0]
    assert index.query_terms(text) == want


def test_search_ranks_by_bm25_and_saves_without_pickle(tmp_path):
    """Best match first with its score, only matching chunks returned; the saved index reloads
    with allow_pickle off and searches the same."""
    index = Bm25Index.build(TEXTS[:4])
    ids, scores = index.search("Huawei arrested", 10)
    assert ids[0] == 0 and set(ids.tolist()) == {0, 3} and scores[0] > scores[1] > 0
    assert np.array_equal(index.search("banana bread", 10)[0], np.zeros(0, np.int64))
    index.save(tmp_path / "bm25")
    back = Bm25Index.load(tmp_path / "bm25", 4)
    again = back.search("Huawei arrested", 10)
    assert np.array_equal(again[0], ids) and np.allclose(again[1], scores)
