"""Discord bot latency on the seed corpus: `python -m bench.discord_burst [--n 16]`.

Measures (1) a burst of N concurrent questions, embedded one by one vs. gathered into one model
call by QuestionBatcher, and (2) end-to-end mention -> reply latency through the real discord.py
client against the loopback fake Discord (tests/fake_discord.py). Numbers, not assertions.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import json
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

QUESTIONS = [
    "What did Pompeo say about Huawei?",
    "Which senator introduced the bill?",
    "Who was arrested in Canada?",
    "Will the US share intelligence with allies using Huawei?",
    "What is the bill called?",
    "What did the State Department say?",
    "Why is Huawei considered a risk?",
    "What about 5G networks?",
]


def burst(engine, n: int) -> dict[str, float]:
    from bot.discord.batching import QuestionBatcher

    qs = [QUESTIONS[i % len(QUESTIONS)] + f" ({i})" for i in range(n)]
    pool = ThreadPoolExecutor(2)

    async def one_by_one() -> float:
        loop = asyncio.get_running_loop()
        t0 = time.perf_counter()
        await asyncio.gather(*(loop.run_in_executor(pool, engine.ask, q) for q in qs))
        return time.perf_counter() - t0

    async def batched() -> float:
        loop = asyncio.get_running_loop()
        run = lambda fn, *a, **k: loop.run_in_executor(pool, functools.partial(fn, *a, **k))
        batcher = QuestionBatcher(engine.embed_questions, run)

        async def ask(q: str):
            vec = await batcher.vector(engine.check_question(q))
            return await run(engine.ask, q, query_vector=vec)

        t0 = time.perf_counter()
        await asyncio.gather(*(ask(q) for q in qs))
        return time.perf_counter() - t0

    asyncio.run(one_by_one())  # warm up
    a = min(asyncio.run(one_by_one()) for _ in range(3))
    b = min(asyncio.run(batched()) for _ in range(3))
    pool.shutdown()
    return {"questions": n, "one_by_one_s": round(a, 3), "batched_s": round(b, 3), "speedup": round(a / b, 2)}


def end_to_end(settings, engine, rounds: int) -> dict[str, float]:
    from discord_harness import TOKEN, start_live, stop_live
    from fake_discord import BOT_ID

    from bot.discord.settings import DiscordSettings

    ds = DiscordSettings(token=TOKEN, cooldown_seconds=0, heartbeat=settings.index / "hb.json", _env_file=None)
    live = start_live(settings, ds, engine)
    try:
        times = []
        for i in range(rounds):
            mark = live.fake.mark()
            t0 = time.perf_counter()
            msg = live.fake.send_message(
                f"<@{BOT_ID}> {QUESTIONS[i % len(QUESTIONS)]}", mention_bot=True, user_id=i + 1
            )
            live.reply(msg, mark)
            times.append((time.perf_counter() - t0) * 1e3)
    finally:
        stop_live(live)
    times.sort()
    return {
        "rounds": rounds,
        "p50_ms": round(statistics.median(times), 1),
        "p95_ms": round(times[int(0.95 * (len(times) - 1))], 1),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=16, help="questions in the burst")
    parser.add_argument("--rounds", type=int, default=20, help="end-to-end mention round trips")
    args = parser.parse_args()

    import shutil

    from bot.config import Settings
    from bot.engine import Engine

    with tempfile.TemporaryDirectory() as tmp:
        shutil.copytree(REPO / "sources", Path(tmp) / "sources")
        settings = Settings(sources=Path(tmp) / "sources", index=Path(tmp) / "index", _env_file=None)
        engine, _ = Engine.open_or_build(settings)
        out = {"burst": burst(engine, args.n), "end_to_end_mention": end_to_end(settings, engine, args.rounds)}
    print(json.dumps(out, indent=1))


if __name__ == "__main__":
    main()
