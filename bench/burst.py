"""`python -m bench burst`: 50 questions arriving at once, through the bot's gather window.

Uses the Discord layer's `QuestionBatcher` (plain asyncio) exactly as the bot does: questions
are embedded in batches off the event loop, then searched and composed in the executor. Reports
per-question latency from arrival to answer (p50 / p95), the batch sizes, and the event loop's
worst lag (a 5 ms ticker), which shows whether anything blocked the loop.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import time
from pathlib import Path
from typing import Any

from .measure import machine, summary_ms


def _engine(index: Path, cache: str | None):  # type: ignore[no-untyped-def]
    from bot.config import Settings
    from bot.engine import Engine
    from bot.store import current_path, read_manifest

    gen = current_path(index)
    if gen is None:
        raise SystemExit(f"bench: no index in {index}")
    m = read_manifest(gen)
    settings = Settings(index=index, sources=index, chunk_size=m["chunk_size"], chunk_overlap=m["chunk_overlap"],
                        backend=m.get("backend", "torch"), cache=Path(cache) if cache else None)
    return Engine.open(settings)


async def _burst(engine, qs: list[str], window: float) -> dict[str, Any]:  # type: ignore[no-untyped-def]
    from bot.discord.batching import QuestionBatcher

    loop = asyncio.get_running_loop()
    batcher = QuestionBatcher(engine.embed_questions, lambda fn, *a: loop.run_in_executor(None, fn, *a), window)
    lags: list[float] = []
    stop = False

    async def ticker() -> None:
        while not stop:
            t = loop.time()
            await asyncio.sleep(0.005)
            lags.append((loop.time() - t - 0.005) * 1e3)

    async def one(q: str) -> float:
        t = time.perf_counter()
        vec = await batcher.vector(q)
        await loop.run_in_executor(None, lambda: engine.ask(q, query_vector=vec))
        return (time.perf_counter() - t) * 1e3

    tick = asyncio.ensure_future(ticker())
    started = time.perf_counter()
    latencies = await asyncio.gather(*(one(q) for q in qs))
    wall = time.perf_counter() - started
    stop = True
    await tick
    return {"questions": len(qs), "answered": len(latencies), "latency_ms": summary_ms(list(latencies)),
            "wall_s": round(wall, 3), "batches": list(batcher.batches), "loop_lag_max_ms": round(max(lags or [0]), 2)}


def run_burst(args: argparse.Namespace) -> dict[str, Any]:
    from .corpora import questions

    engine = _engine(Path(args.base_index), args.cache)
    data = engine._data
    qs = questions("burst", [data.chunk_text(i) for i in range(0, len(data), max(1, len(data) // 500))], args.questions, seed=9)
    engine.ask(qs[0])  # warm
    out: dict[str, Any] = {"machine": machine(), "index": str(args.base_index)}
    out["burst"] = asyncio.run(_burst(engine, qs, args.window))
    sequential = []
    for q in qs:
        t = time.perf_counter()
        engine.ask(q)
        sequential.append((time.perf_counter() - t) * 1e3)
    out["one_at_a_time_ms"] = summary_ms(sequential)
    out["loadavg_after"] = list(os.getloadavg())
    return out


def add_parser(sub) -> None:  # type: ignore[no-untyped-def]
    p = sub.add_parser("burst", help="many questions at once through the bot's gather window")
    p.add_argument("--base-index", required=True)
    p.add_argument("--questions", type=int, default=50)
    p.add_argument("--window", type=float, default=0.02)
    p.add_argument("--cache", default=os.environ.get("CITEBOT_CACHE"))
    p.add_argument("--out", default=None)
    p.set_defaults(handler=run_burst)
