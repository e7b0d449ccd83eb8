"""Synthetic scale runs (100k, 1M chunks): query latency, memory per chunk, recall of the IVF switch.

Two cores cannot embed a million passages, so the scale corpus is generated from a real built
index (`--base-index`, e.g. the BBC one), reproducibly (seeded):
- vector of synthetic chunk i = normalize(v[j] + e), j = i mod B over the B real chunk vectors,
  e Gaussian with |e| ~ 0.45 (cosine ~0.9 to v[j]): near-duplicate variants around real topics;
- text of chunk i = a random window of 40-80 words of real chunk j's text, so BM25 posting lists
  grow with N the way a real corpus' would;
- 10 chunks make one synthetic document (its text is their concatenation, offsets exact).
Questions are real sentences of the base corpus embedded by the real model; the exact top-10 for
them (faiss.knn) measures the recall of the chosen index on real questions, not only on probes.
"""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

import numpy as np

from .measure import machine, peak_rss_mb, summary_ms

CHUNKS_PER_DOC = 10
NOISE = 0.45


def synthesize(base_vectors: np.ndarray, base_texts: list[str], n: int, seed: int = 0):  # type: ignore[no-untyped-def]
    """Vectors, chunk texts, and documents with exact offsets for `n` synthetic chunks."""
    rng = np.random.default_rng(seed)
    b, dim = base_vectors.shape
    src = np.arange(n) % b
    vectors = np.empty((n, dim), dtype=np.float32)
    step = 100_000
    for lo in range(0, n, step):
        hi = min(n, lo + step)
        noise = rng.standard_normal((hi - lo, dim)).astype(np.float32) * (NOISE / np.sqrt(dim))
        block = base_vectors[src[lo:hi]] + noise
        vectors[lo:hi] = block / np.linalg.norm(block, axis=1, keepdims=True)
    words = [t.split() for t in base_texts]
    texts: list[str] = []
    for i in range(n):
        w = words[src[i]]
        size = int(rng.integers(40, 81))
        start = int(rng.integers(0, max(1, len(w) - size)))
        texts.append(" ".join(w[start : start + size]) or "empty")
    return vectors, texts


def build_data(vectors: np.ndarray, texts: list[str], titles: list[str]):  # type: ignore[no-untyped-def]
    from bot.lexical import Bm25Index
    from bot.store import IndexData
    from bot.vectors import FaissIndex

    n = len(texts)
    documents, chunk_doc, starts, ends = [], np.zeros(n, np.int32), np.zeros(n, np.int64), np.zeros(n, np.int64)
    for d, lo in enumerate(range(0, n, CHUNKS_PER_DOC)):
        parts, offset = [], 0
        for i in range(lo, min(n, lo + CHUNKS_PER_DOC)):
            chunk_doc[i], starts[i], ends[i] = d, offset, offset + len(texts[i])
            parts.append(texts[i])
            offset += len(texts[i]) + 2
        documents.append({"source": f"synthetic/{d:07d}.txt", "title": titles[d % len(titles)],
                          "text": "\n\n".join(parts)})
    timings = {}
    t = time.perf_counter()
    dense = FaissIndex.from_vectors(vectors, vectors.shape[1])
    timings["dense_build_s"] = round(time.perf_counter() - t, 2)
    t = time.perf_counter()
    bm25 = Bm25Index.build(texts)
    timings["bm25_build_s"] = round(time.perf_counter() - t, 2)
    manifest = {"model": "packaged:all-MiniLM-L6-v2", "chunks": n, "documents": len(documents)}
    data = IndexData(manifest, documents, chunk_doc, starts, ends, np.zeros(n, "S16"), dense, bm25)
    return data, timings


def run_scale(args: argparse.Namespace) -> dict[str, Any]:
    from bot.config import Settings
    from bot.embedding import load_embedder
    from bot.engine import Engine
    from bot.store import read_index

    from .corpora import questions

    base = read_index(Path(args.base_index))
    base_vectors = base.dense.vectors()
    base_texts = [base.chunk_text(i) for i in range(len(base))]
    titles = [d.get("title") or d["source"] for d in base.documents]
    backend = base.manifest.get("backend", "torch")
    settings = Settings(sources=Path(args.base_index), index=Path(args.base_index), backend=backend,
                        cache=Path(args.cache) if args.cache else None)
    model = load_embedder(settings.model, backend, settings.cache)
    qs = questions("scale", base_texts, args.questions, seed=1)
    qvecs = model.encode(qs, 64)
    result: dict[str, Any] = {"machine": machine(), "base_index": str(args.base_index), "base_chunks": len(base),
                              "backend": backend, "noise": NOISE, "runs": []}
    for n in args.chunks:
        rss0 = peak_rss_mb()
        t = time.perf_counter()
        vectors, texts = synthesize(base_vectors, base_texts, n, seed=n)
        gen_s = time.perf_counter() - t
        data, timings = build_data(vectors, texts, titles)
        engine = Engine(settings, data, model)
        for q, v in zip(qs[:5], qvecs[:5], strict=True):
            engine.ask(q, query_vector=v)
        stages: dict[str, list[float]] = {"embed": [], "search": [], "compose": [], "total": []}
        for q in qs:
            t0 = time.perf_counter()
            engine.ask(q)  # embeds the question with the real model, then searches and composes
            stages["total"].append((time.perf_counter() - t0) * 1e3)
            tm = engine.last_timings
            stages["embed"].append(tm.embed)
            stages["search"].append(tm.search)
            stages["compose"].append(tm.compose)
        import faiss

        _, truth = faiss.knn(qvecs, vectors, 10, metric=faiss.METRIC_INNER_PRODUCT)
        _, found = data.dense.search(qvecs, 10)
        from bot.vectors import recall_at_k

        result["runs"].append({
            "chunks": n, "generate_s": round(gen_s, 2), **timings,
            "dense": data.dense.tuning.to_dict(),
            "recall_at_10_real_questions": round(recall_at_k(found, truth), 4),
            "dense_bytes_per_chunk": round(data.dense.tuning.bytes_per_vector, 1),
            "warm_query_ms": {k: summary_ms(v) for k, v in stages.items()},
            "peak_rss_mb": peak_rss_mb(), "peak_rss_before_mb": rss0,
            "loadavg": list(os.getloadavg()),
        })
        print(result["runs"][-1], flush=True)
        del engine, data, vectors, texts
    return result


def add_parser(sub) -> None:  # type: ignore[no-untyped-def]
    p = sub.add_parser("scale", help="synthetic 100k / 1M chunk runs from a built base index")
    p.add_argument("--base-index", required=True, help="a built citebot index folder (its vectors and texts are the base)")
    p.add_argument("--chunks", type=int, nargs="+", default=[100_000, 1_000_000])
    p.add_argument("--questions", type=int, default=200)
    p.add_argument("--cache", default=os.environ.get("CITEBOT_CACHE"))
    p.add_argument("--out", default=None)
    p.set_defaults(handler=run_scale)
