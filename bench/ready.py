"""`python -m bench ready`: how long `citebot serve` takes from process start to answering.

A real `citebot serve` process against the loopback fake Discord (tests/fake_discord.py): the
time until it has identified on the gateway, and until its first reply to a mention, with the
index already built (a restart) and without one (a first start, which builds it). Numbers, not
assertions.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from .measure import machine

REPO = Path(__file__).resolve().parents[1]
TOKEN = "bench-token"


def _one_start(sources: Path, index: Path, env_extra: dict[str, str]) -> dict[str, float]:
    sys.path.insert(0, str(REPO / "tests"))
    from fake_discord import BOT_ID, CHANNEL_ID, FakeDiscord

    fake = FakeDiscord(token=TOKEN).start()
    env = {
        **os.environ,
        **env_extra,
        "DISCORD_TOKEN": TOKEN,
        "DISCORD_API_BASE": fake.api_base,
        "DISCORD_GATEWAY_URL": fake.gateway_url,
        "DISCORD_COOLDOWN_SECONDS": "0",
        "CITEBOT_SOURCES": str(sources),
        "CITEBOT_INDEX": str(index),
    }
    started = time.perf_counter()
    proc = subprocess.Popen(
        [str(Path(sys.executable).parent / "citebot"), "serve"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    try:
        fake.wait_ready(timeout=600)
        identified = time.perf_counter() - started
        mark = fake.mark()
        msg = fake.send_message(f"<@{BOT_ID}> What did Pompeo say?", mention_bot=True, user_id=1)
        fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/channels/{CHANNEL_ID}/messages"
            and str((r.json or {}).get("message_reference", {}).get("message_id")) == str(msg["id"]),
            timeout=600,
            start=mark,
        )
        answered = time.perf_counter() - started
    finally:
        proc.terminate()
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            proc.kill()
        fake.stop()
    return {"identified_s": round(identified, 2), "first_answer_s": round(answered, 2)}


def run_ready(args: argparse.Namespace) -> dict[str, Any]:
    out: dict[str, Any] = {"machine": machine(), "backend": args.backend, "runs": args.runs}
    env_extra = {"CITEBOT_BACKEND": args.backend}
    with tempfile.TemporaryDirectory() as tmp:
        sources = Path(tmp) / "sources"
        shutil.copytree(Path(args.sources), sources)
        first = []
        restart = []
        for i in range(args.runs):
            index = Path(tmp) / f"index-{i}"
            first.append(_one_start(sources, index, env_extra))  # no index: builds it first
            restart.append(_one_start(sources, index, env_extra))  # index present and fresh
        for name, rows in (("first_start", first), ("restart", restart)):
            out[name] = {k: round(statistics.median(r[k] for r in rows), 2) for k in rows[0]}
    out["machine_after"] = machine()
    print(out, flush=True)
    return out


def add_parser(sub: argparse._SubParsersAction) -> None:  # type: ignore[type-arg]
    p = sub.add_parser("ready", help="`citebot serve` time to ready and to its first answer")
    p.add_argument("--sources", default=str(REPO / "sources"), help="corpus folder (default: the seeds)")
    p.add_argument("--backend", default=os.environ.get("CITEBOT_BACKEND", "onnx-int8"),
                   choices=["torch", "onnx", "onnx-int8"])
    p.add_argument("--runs", type=int, default=3)
    p.set_defaults(handler=run_ready)
