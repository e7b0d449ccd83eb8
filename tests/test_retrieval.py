"""Fusion arithmetic, and quote-first ranking on the real seed corpus (real model, FAISS, BM25)."""

from __future__ import annotations

import pytest

from bot.engine import Engine
from bot.indexing import build_index
from bot.quotes import quotes_by
import numpy as np

from bot.retrieval import ALPHA, convex_scores, rank_documents, retrieve, rrf


def test_rrf_hand_computed():
    """RRF sums 1/(k+rank) over lists: in two lists beats one list; ties fall to the better rank."""
    fused = rrf([[7, 8, 9], [8, 5, 7]], k=60)
    assert fused[7] == pytest.approx(1 / 61 + 1 / 63)
    assert fused[8] == pytest.approx(1 / 62 + 1 / 61)
    assert fused[9] == pytest.approx(1 / 63)
    assert fused[5] == pytest.approx(1 / 62)
    assert sorted(fused, key=lambda i: -fused[i]) == [8, 7, 5, 9]


def test_rrf_weights():
    """A weight scales one list's contribution; weights must match the lists."""
    fused = rrf([[1], [2]], k=0, weights=[2.0, 1.0])
    assert fused == {1: 2.0, 2: 1.0}
    with pytest.raises(ValueError):
        rrf([[1], [2]], weights=[1.0])


def test_convex_hand_computed():
    """alpha * cosine + (1 - alpha) * bm25 / best bm25; no BM25 match at all leaves cosine alone."""
    fused = convex_scores(np.array([0.5, 0.2, 0.4], np.float32), np.array([0.0, 4.0, 2.0], np.float32), alpha=0.8)
    assert fused.tolist() == pytest.approx([0.4, 0.16 + 0.2, 0.32 + 0.1])
    assert convex_scores(np.array([0.3], np.float32), np.zeros(1, np.float32), alpha=0.5).tolist() == pytest.approx([0.15])


@pytest.fixture
def seed_index(seed_sources, settings, embedder):
    _, data = build_index(settings, embedder)
    return data


def test_pompeo_quotes_rank_first(seed_index, embedder):
    """"What did Pompeo say?": the first hits are chunks holding his quotes, marked quoted."""
    q = "What did Pompeo say?"
    hits = retrieve(seed_index, embedder.encode([q])[0], q)
    first = hits[0]
    doc = seed_index.documents[int(seed_index.chunk_doc[first.chunk])]
    assert first.quoted
    start, end = int(seed_index.chunk_start[first.chunk]), int(seed_index.chunk_end[first.chunk])
    assert quotes_by(doc["text"], "Pompeo", start, end)
    quoted = [h.quoted for h in hits]
    assert quoted == sorted(quoted, reverse=True)  # every quoted hit before every other


def test_plain_question_has_no_quoted_hits(seed_index, embedder):
    """A question that names no speaker is ranked by fusion alone."""
    q = "Which company was granted a license to sell to Huawei?"
    hits = retrieve(seed_index, embedder.encode([q])[0], q)
    assert not any(h.quoted for h in hits)
    assert "Micron" in seed_index.chunk_text(hits[0].chunk)


def test_hybrid_finds_a_name_only_bm25_knows(seed_index, embedder):
    """Every chunk BM25 matches is a candidate with its true cosine filled in."""
    q = "Micron"
    hits = retrieve(seed_index, embedder.encode([q])[0], q, depth=2)
    micron = [h for h in hits if "Micron" in seed_index.chunk_text(h.chunk)]
    assert micron and micron[0].bm25 > 0 and -1.0 <= micron[0].cosine <= 1.0


def test_rank_documents_by_best_chunk(seed_sources, settings, embedder):
    """Documents come out once each, in the order of their best chunk."""
    engine = Engine.open_or_build(settings, embedder)[0]
    ranked = engine.rank_documents("Senator Tom Cotton bill on intelligence sharing")
    assert ranked[0] == "004_292b256e50e7843a.txt"
    assert sorted(ranked) == sorted({"000_24054db15d7a09bf.txt", "004_292b256e50e7843a.txt"})
    hits = retrieve(engine._data, embedder.encode(["x"])[0], "x")
    assert len(rank_documents(hits, engine._data.chunk_doc)) == 2


def test_hybrid_scores_every_candidate_by_the_formula(seed_index, embedder):
    """Each candidate (dense top-k and BM25 top-k together) carries its true cosine, its BM25 score
    and the fused score, and the list is in fused order, whatever the two lists' overlap."""
    q = "Huawei chief financial officer arrested in Canada"
    vec = embedder.encode([q])[0]
    hits = retrieve(seed_index, vec, q, depth=3)
    vectors = seed_index.dense.vectors()
    bm_ids, bm_scores = seed_index.bm25.search(q, 3)
    bm = dict(zip(bm_ids.tolist(), bm_scores.tolist()))
    dense_top = np.argsort(-(vectors @ vec))[:3].tolist()
    assert sorted(h.chunk for h in hits) == sorted(set(dense_top) | set(bm))
    assert set(bm) - set(dense_top) and set(dense_top) - set(bm)  # both kinds of candidate present
    best = max(bm.values())
    for h in hits:
        assert h.cosine == pytest.approx(float(vectors[h.chunk] @ vec), abs=1e-5)
        assert h.bm25 == pytest.approx(bm.get(h.chunk, 0.0))
        assert h.score == pytest.approx(ALPHA * h.cosine + (1 - ALPHA) * h.bm25 / best, abs=1e-5)
    assert [h.score for h in hits] == sorted((h.score for h in hits), reverse=True)
