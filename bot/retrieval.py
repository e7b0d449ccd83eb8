"""Find candidate chunks for a question: dense (cosine) and BM25 lists, fused.

The default fusion is a convex combination of cosine and BM25 scaled by the question's best BM25
score; reciprocal-rank fusion stays available. Both were measured (README, "Answer quality"):
rank fusion throws away how far apart scores are, which on a small corpus turns every ranking
into a near tie. Each hit keeps its cosine so the answer layer judges relevance on one scale.
For "what did X say?" questions, chunks quoting X are moved to the front (`quotes_first`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from .quotes import asked_speaker, quotes_by
from .store import IndexData

RRF_K = 60
DEPTH = 100
FUSION = "convex"  # or "rrf"; chosen on SciFact train and the QA questions (README, Answer quality)
ALPHA = 0.8  # convex fusion: weight of cosine against max-scaled BM25
QUOTE_DOCS = 10  # documents searched for the asked person's quotes


@dataclass
class Hit:
    chunk: int
    score: float  # fused (RRF) score, used for ranking
    cosine: float  # question-passage cosine similarity, used for the relevance bar
    bm25: float = 0.0
    quoted: bool = False  # holds a quote by the person a "what did X say?" question names


def rrf(ranked_lists: list[list[int]], k: int = RRF_K, weights: list[float] | None = None) -> dict[int, float]:
    """Reciprocal-rank fusion: sum over lists of weight / (k + rank), ranks from 1."""
    weights = weights or [1.0] * len(ranked_lists)
    fused: dict[int, float] = {}
    for ids, w in zip(ranked_lists, weights, strict=True):
        for rank, item in enumerate(ids, start=1):
            fused[item] = fused.get(item, 0.0) + w / (k + rank)
    return fused


def convex_scores(cosine: np.ndarray, bm25: np.ndarray, alpha: float | None = None) -> np.ndarray:
    """Weighted sum of cosine and BM25 scaled by the question's best BM25 score, over aligned
    arrays (BM25 0 where a candidate has none)."""
    alpha = ALPHA if alpha is None else alpha
    top = float(bm25.max(initial=0.0)) or 1.0
    return alpha * cosine.astype(np.float64) + (1.0 - alpha) * bm25.astype(np.float64) / top


def dense_search(data: IndexData, query_vector: np.ndarray, depth: int = DEPTH) -> tuple[np.ndarray, np.ndarray]:
    """The `depth` nearest chunks by cosine: ids and cosines, best first."""
    q = np.asarray(query_vector, dtype=np.float32).reshape(1, -1)
    scores, ids = data.dense.search(q, depth)
    keep = ids[0] >= 0
    return ids[0][keep].astype(np.int64), scores[0][keep].astype(np.float32)


def retrieve(
    data: IndexData,
    query_vector: np.ndarray,
    question: str,
    depth: int = DEPTH,
    hybrid: bool = True,
    fusion: str | None = None,
    dense: tuple[np.ndarray, np.ndarray] | None = None,
) -> list[Hit]:
    """Candidates best first: the union of the dense and BM25 top `depth`, fused. `dense` is the
    result of `dense_search` when the caller already has it (the engine times the two apart)."""
    if len(data) == 0:
        return []
    q = np.asarray(query_vector, dtype=np.float32).reshape(1, -1)
    dense_ids, dense_cos = dense if dense is not None else dense_search(data, q[0], depth)
    if not hybrid or data.bm25 is None:
        hits = [Hit(i, c, c) for i, c in zip(dense_ids.tolist(), dense_cos.tolist(), strict=True)]
        return quotes_first(data, hits, question, q[0])
    bm_ids, bm_scores = data.bm25.search(question, depth)
    # One row per candidate (dense hits, then BM25-only ones), scored with numpy: the dict-and-sort
    # version of this cost more than the dense search itself on a BBC-sized index.
    in_dense = set(dense_ids.tolist())
    missing = np.array([i for i in bm_ids.tolist() if i not in in_dense], dtype=np.int64)
    cand = np.concatenate([dense_ids, missing])
    cosine = np.concatenate([dense_cos, data.dense.vectors_of(missing) @ q[0]]) if len(missing) else dense_cos
    bm25 = np.zeros(len(cand), dtype=np.float32)
    if len(bm_ids):
        sorter = np.argsort(cand)
        bm25[sorter[np.searchsorted(cand, bm_ids, sorter=sorter)]] = bm_scores
    if (fusion or FUSION) == "rrf":
        table = rrf([dense_ids.tolist(), bm_ids.tolist()])
        fused = np.array([table[i] for i in cand.tolist()], dtype=np.float64)
    else:
        fused = convex_scores(cosine, bm25)
    order = np.lexsort((-cosine, -fused))
    hits = [
        Hit(i, f, c, b)
        for i, f, c, b in zip(
            cand[order].tolist(), fused[order].tolist(), cosine[order].tolist(), bm25[order].tolist(), strict=True
        )
    ]
    return quotes_first(data, hits, question, q[0])


def quotes_first(data: IndexData, hits: list[Hit], question: str, query_vector: np.ndarray) -> list[Hit]:
    """For "what did X say?", passages quoting X go first (their order kept), the rest after.

    The top documents are searched whole, so a quote whose passage names X only as "he" is found.
    """
    speaker = asked_speaker(question)
    if not speaker or not hits:
        return hits
    by_chunk = {h.chunk: h for h in hits}
    docs: dict[int, Hit] = {}
    for h in hits:
        docs.setdefault(int(data.chunk_doc[h.chunk]), h)
        if len(docs) >= QUOTE_DOCS:
            break
    extra: list[Hit] = []
    for row, best in docs.items():
        text = data.documents[row]["text"]
        for c in np.flatnonzero(data.chunk_doc == row):
            c = int(c)
            if not quotes_by(text, speaker, int(data.chunk_start[c]), int(data.chunk_end[c])):
                continue
            if c in by_chunk:
                by_chunk[c].quoted = True
            else:
                vec = data.dense.vectors_of(np.array([c]))[0]
                extra.append(Hit(c, best.score, float(vec @ query_vector), 0.0, quoted=True))
    merged = sorted(hits + extra, key=lambda h: -h.score)
    return [h for h in merged if h.quoted] + [h for h in merged if not h.quoted]


def rank_documents(hits: list[Hit], chunk_doc: np.ndarray) -> list[int]:
    """Document rows best first, each placed where its best passage ranks (for document benchmarks)."""
    seen: dict[int, None] = {}
    for hit in hits:
        seen.setdefault(int(chunk_doc[hit.chunk]), None)
    return list(seen)
