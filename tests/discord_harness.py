"""Run the real bot (real discord.py, real Engine, real model) against FakeDiscord, for the tests.

The bot runs its own event loop in a thread, like the fake server, so the tests stay plain
synchronous functions. Every log record (DEBUG up, all loggers) is captured: tests fail on any
ERROR discord.py logged, and check that the token never appears.
"""

from __future__ import annotations

import asyncio
import logging
import shutil
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fake_discord import CHANNEL_ID, FakeDiscord, Request

REPO = Path(__file__).resolve().parents[1]
TOKEN = "MTAx.fake-secret-token.Zm9vYmFy"
HOSTILE = "hostile-mentions.txt"


class Capture(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.records: list[logging.LogRecord] = []
        self.lines: list[str] = []
        self.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)
        try:
            self.lines.append(self.format(record))
        except Exception:  # noqa: BLE001 - a record that cannot format is still counted
            self.lines.append(repr(record.msg))

    def discord_errors(self, start: int = 0) -> list[str]:
        return [
            self.format(r) for r in self.records[start:] if r.levelno >= logging.ERROR and r.name.startswith("discord")
        ]


def make_corpus(dest: Path) -> Path:
    """The seed articles, a file full of pings, and small notes so /sources has two pages."""
    shutil.copytree(REPO / "sources", dest)
    (dest / HOSTILE).write_text(
        "Mention drill for the moderation team\n\n"
        "The moderation team ran a mention drill on Tuesday. The drill message said @everyone <@&123> <@456> "
        "and the moderators checked that nobody was pinged by the relay bot.\n",
        encoding="utf-8",
    )
    long_title = "Lighthouse keepers' very long report " * 20  # 740 characters: over the 256 title limit
    (dest / "lighthouse-report.md").write_text(
        f"---\ntitle: {long_title.strip()}\nurl: https://example.org/{'l' * 300}\n---\n"
        + "\n\n".join(
            f"Lighthouse keepers logged lamp check {i}: the lamp was trimmed, the lens was cleaned, "
            f"and the fog signal was tested at dusk on night {i}."
            for i in range(1, 40)
        ),
        encoding="utf-8",
    )
    for i in range(1, 10):
        (dest / f"note-{i:02d}.md").write_text(
            f"---\ntitle: Garden note {i}\nurl: https://example.org/garden/{i}\n---\n"
            f"Garden note {i}: the tomatoes in bed {i} were watered and staked on day {i}.\n",
            encoding="utf-8",
        )
    return dest


@dataclass
class Live:
    fake: FakeDiscord
    bot: Any
    engine: Any
    capture: Capture
    loop: asyncio.AbstractEventLoop
    thread: threading.Thread
    extra: dict[str, Any] = field(default_factory=dict)

    def run(self, coro: Any, timeout: float = 30) -> Any:
        return asyncio.run_coroutine_threadsafe(coro, self.loop).result(timeout)

    def followup(
        self, inter: dict[str, Any], start: int, pred: Callable[[Request], bool] | None = None, timeout: float = 60
    ) -> Request:
        token = inter["token"]
        return self.fake.wait_for(
            lambda r: (
                r.method == "POST"
                and r.path.startswith("/webhooks/")
                and r.path.endswith(token)
                and r.status == 200
                and (pred is None or pred(r))
            ),
            timeout,
            start,
        )

    def callback(self, inter: dict[str, Any], start: int, timeout: float = 30) -> Request:
        return self.fake.wait_for(
            lambda r: r.method == "POST" and r.path == f"/interactions/{inter['id']}/{inter['token']}/callback",
            timeout,
            start,
        )

    def reply(self, msg: dict[str, Any], start: int, channel_id: int = CHANNEL_ID, timeout: float = 60) -> Request:
        return self.fake.wait_for(
            lambda r: (
                r.method == "POST"
                and r.path == f"/channels/{channel_id}/messages"
                and r.status == 200
                and str((r.json or {}).get("message_reference", {}).get("message_id")) == msg["id"]
            ),
            timeout,
            start,
        )


def start_live(settings: Any, dsettings: Any, engine: Any) -> Live:
    import discord.gateway
    import discord.http

    from bot.discord.client import CitebotBot

    capture = Capture()
    root = logging.getLogger()
    root.addHandler(capture)
    for name in ("discord", "citebot"):
        logging.getLogger(name).setLevel(logging.DEBUG)
    fake = FakeDiscord(token=TOKEN).start()
    saved = (discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY)
    fake.point_discord_py_here()
    bot = CitebotBot(settings, dsettings, engine)
    loop = asyncio.new_event_loop()
    started = threading.Event()

    async def main() -> None:
        async with bot:
            bot.start_heartbeat()
            started.set()
            await bot.start(TOKEN)

    def run() -> None:
        asyncio.set_event_loop(loop)
        try:
            loop.run_until_complete(main())
        finally:
            loop.close()

    thread = threading.Thread(target=run, name="citebot-bot", daemon=True)
    thread.start()
    fake.wait_ready(30)
    deadline = time.monotonic() + 30
    while not bot.is_ready():
        if time.monotonic() > deadline:
            raise TimeoutError("bot never became ready")
        time.sleep(0.05)
    live = Live(fake, bot, engine, capture, loop, thread)
    live.extra["saved"] = saved
    return live


def stop_live(live: Live) -> None:
    import discord.gateway
    import discord.http

    try:
        live.run(live.bot.close(), timeout=20)
    finally:
        live.thread.join(20)
        live.fake.stop()
        discord.http.Route.BASE, discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = live.extra["saved"]
        logging.getLogger().removeHandler(live.capture)
