"""`python -m bench backends`: the embedding backends back to back on the same chunks and questions."""

from __future__ import annotations

import argparse
import os
import time
from pathlib import Path
from typing import Any

from .measure import machine, summary_ms


def run_backends(args: argparse.Namespace) -> dict[str, Any]:
    from bot.embedding import load_embedder
    from bot.store import read_index

    from .corpora import questions

    data = read_index(Path(args.base_index))
    step = max(1, len(data) // args.sample)
    texts = [data.chunk_text(i) for i in range(0, len(data), step)][: args.sample]
    qs = questions("backends", texts, args.questions, seed=3)
    out: dict[str, Any] = {"machine": machine(), "sample": len(texts), "questions": len(qs), "backends": {}}
    reference = None
    for backend in args.backends:
        t = time.perf_counter()
        model = load_embedder(backend=backend, cache_dir=Path(args.cache) if args.cache else None)
        load_s = time.perf_counter() - t
        model.encode(texts[:8])
        t = time.perf_counter()
        vectors = model.encode(texts, 32)
        rate = len(texts) / (time.perf_counter() - t)
        single = []
        for q in qs:
            t = time.perf_counter()
            model.encode([q])
            single.append((time.perf_counter() - t) * 1e3)
        row: dict[str, Any] = {"load_s": round(load_s, 2), "passages_per_s": round(rate, 2),
                               "query_ms": summary_ms(single), "loadavg": list(os.getloadavg())}
        if reference is None:
            reference = vectors
        cos = (vectors * reference).sum(1)
        row["cosine_to_first"] = {"mean": round(float(cos.mean()), 4), "min": round(float(cos.min()), 4)}
        out["backends"][backend] = row
        print(backend, row, flush=True)
        del model
    return out


def add_parser(sub) -> None:  # type: ignore[no-untyped-def]
    p = sub.add_parser("backends", help="torch / onnx / onnx-int8 on the same chunks")
    p.add_argument("--base-index", required=True, help="a built index whose chunks are the sample")
    p.add_argument("--sample", type=int, default=256)
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--backends", nargs="+", default=["torch", "onnx", "onnx-int8"])
    p.add_argument("--cache", default=os.environ.get("CITEBOT_CACHE"))
    p.add_argument("--out", default=None)
    p.set_defaults(handler=run_backends)
