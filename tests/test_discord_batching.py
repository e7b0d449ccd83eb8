"""Concurrent questions are embedded in one model call, with the same vectors as one by one."""

from __future__ import annotations

import asyncio
import functools
from concurrent.futures import ThreadPoolExecutor

import numpy as np

from bot.discord.batching import QuestionBatcher

QUESTIONS = [f"What did Pompeo say about topic {i}?" for i in range(8)]


def run(embedder, window: float, max_batch: int = 32):
    """The bot's path: QuestionBatcher -> Engine.embed_questions on the real default embedder."""
    from bot.config import Settings
    from bot.engine import Engine

    engine = Engine(Settings(), None, embedder)
    calls: list[list[str]] = []
    pool = ThreadPoolExecutor(2)

    def embed(texts):
        calls.append(list(texts))
        return engine.embed_questions(texts)

    async def main():
        loop = asyncio.get_running_loop()
        batcher = QuestionBatcher(
            embed, lambda fn, *a: loop.run_in_executor(pool, functools.partial(fn, *a)), window, max_batch
        )
        return await asyncio.gather(*(batcher.vector(q) for q in QUESTIONS)), batcher

    try:
        vectors, batcher = asyncio.run(main())
    finally:
        pool.shutdown()
    return vectors, calls, batcher


def test_burst_is_one_model_call_with_the_same_vectors(embedder):
    """Eight questions within the window: one call, each vector exactly its lone embedding (a
    question's answer never depends on who else asked at the same moment)."""
    vectors, calls, batcher = run(embedder, window=0.05)
    assert calls == [QUESTIONS] and batcher.batches == [8]
    for q, v in zip(QUESTIONS, vectors):
        assert np.array_equal(v, embedder.encode([q], batch_size=1)[0])


def test_max_batch_splits_a_burst(embedder):
    """A burst larger than max_batch is sent as several batches, none larger than the cap."""
    _, calls, _ = run(embedder, window=0.05, max_batch=3)
    assert [len(c) for c in calls] == [3, 3, 2]


def test_an_embedding_error_reaches_every_waiter():
    """When the model call fails, every question of the batch gets the error (none hangs)."""

    async def main():
        async def run_blocking(fn, *args):
            return fn(*args)

        def broken(texts):
            raise RuntimeError("model gone")

        batcher = QuestionBatcher(broken, run_blocking, window=0.01)
        return await asyncio.gather(*(batcher.vector(q) for q in QUESTIONS[:3]), return_exceptions=True)

    results = asyncio.run(main())
    assert [str(r) for r in results] == ["model gone"] * 3
