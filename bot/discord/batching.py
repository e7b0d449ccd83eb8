"""Gather questions that arrive together and embed them in one model call.

Why: on a CPU, one forward pass over 8 questions costs far less than 8 passes over one, so a
burst of questions (a busy channel) is answered sooner. The window is short (20 ms) so a lone
question barely waits. No discord import: this is plain asyncio.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import numpy as np

Embed = Callable[[list[str]], np.ndarray]
RunBlocking = Callable[..., Awaitable[Any]]


class QuestionBatcher:
    def __init__(self, embed: Embed, run_blocking: RunBlocking, window: float = 0.02, max_batch: int = 32) -> None:
        self.embed = embed
        self.run_blocking = run_blocking  # runs `embed` off the event loop
        self.window = window
        self.max_batch = max_batch
        self.batches: list[int] = []  # sizes of the batches sent, for tests and stats
        self._pending: list[tuple[str, asyncio.Future[np.ndarray]]] = []
        self._timer: asyncio.TimerHandle | None = None

    async def vector(self, text: str) -> np.ndarray:
        """The embedding of `text`, computed together with whatever else arrives within the window."""
        loop = asyncio.get_running_loop()
        future: asyncio.Future[np.ndarray] = loop.create_future()
        self._pending.append((text, future))
        if len(self._pending) >= self.max_batch:
            self._flush()
        elif self._timer is None:
            self._timer = loop.call_later(self.window, self._flush)
        return await future

    def _flush(self) -> None:
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None
        batch, self._pending = self._pending, []
        if batch:
            asyncio.ensure_future(self._run(batch))

    async def _run(self, batch: list[tuple[str, asyncio.Future[np.ndarray]]]) -> None:
        self.batches.append(len(batch))
        del self.batches[:-1000]
        try:
            vectors = await self.run_blocking(self.embed, [text for text, _ in batch])
        except Exception as exc:  # noqa: BLE001 - every waiter gets the error; the bot reports it per question
            for _, future in batch:
                if not future.done():
                    future.set_exception(exc)
            return
        for (_, future), vec in zip(batch, vectors):
            if not future.done():
                future.set_result(vec)
