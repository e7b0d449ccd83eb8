"""Start the bot (`citebot serve`) or sync its slash commands (`citebot sync-commands`).

Login comes first, so a bad token fails in a second with one line, before any index work, and is
never retried (Discord resets a token after 1,000 identifies a day). Discord out of reach or
answering 5xx is retried with a growing pause: a network still coming up when the host boots
must not leave the bot down for good.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import logging
import signal

import aiohttp
import discord
import discord.gateway
import discord.http
import yarl

from ..config import Settings
from ..embedding import stop_embedding
from ..engine import Engine
from ..errors import CitebotError, Stopped
from .client import CitebotBot
from .settings import DiscordSettings

log = logging.getLogger("citebot.discord")


def apply_endpoints(ds: DiscordSettings) -> None:
    """Point discord.py at a local stand-in when DISCORD_API_BASE / DISCORD_GATEWAY_URL are set."""
    if ds.api_base:
        discord.http.Route.BASE = ds.api_base.rstrip("/")
    if ds.gateway_url:
        discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(ds.gateway_url)


LOGIN_RETRY_MAX = 300.0  # seconds: the pause between login attempts doubles up to this


async def _login(bot: CitebotBot, ds: DiscordSettings, retry_first: float | None) -> bool:
    """Log in; an unreachable Discord is retried when `retry_first` is set (`serve`), not by a
    one-off command (`sync-commands`), which should just say so. False: stopped while waiting."""
    pause = retry_first
    while not bot.is_closed():
        try:
            await bot.login(ds.token.get_secret_value())
            return True
        except discord.LoginFailure:
            raise CitebotError("Discord rejected DISCORD_TOKEN (401 Unauthorized); reset and copy it again") from None
        except (aiohttp.ClientError, OSError) as exc:
            why = f"cannot reach Discord at {discord.http.Route.BASE}: {type(exc).__name__}"
        except discord.HTTPException as exc:
            if exc.status < 500:
                raise CitebotError(f"Discord refused the login: HTTP {exc.status}") from None
            why = f"Discord answered the login with HTTP {exc.status}"
        if pause is None:
            raise CitebotError(why)
        log.warning("%s; trying again in %.0f s", why, pause)
        await asyncio.sleep(pause)
        pause = min(pause * 2, LOGIN_RETRY_MAX)
    return False


async def serve(settings: Settings, ds: DiscordSettings) -> None:
    apply_endpoints(ds)
    bot = CitebotBot(settings, ds)
    loop = asyncio.get_running_loop()

    def stop() -> None:  # docker stop sends SIGTERM, a terminal Ctrl-C: close cleanly, mid-build too
        stop_embedding()
        asyncio.ensure_future(bot.close())

    with contextlib.suppress(NotImplementedError, RuntimeError):
        loop.add_signal_handler(signal.SIGTERM, stop)
        loop.add_signal_handler(signal.SIGINT, stop)
    async with bot:
        if not await _login(bot, ds, ds.login_retry_seconds):
            return  # SIGTERM while Discord was out of reach
        bot.start_heartbeat()
        try:
            engine, report = await loop.run_in_executor(
                None, functools.partial(Engine.open_or_build, settings, rebuild_mismatch=True)
            )
        except Stopped as exc:
            log.info("%s", exc)
            return
        if report is not None:
            why = f" ({report.rebuilt_reason})" if report.rebuilt_reason else ""
            log.info("index built%s: %s documents, %s chunks", why, report.documents, report.chunks)
        bot.engine = engine
        warm = asyncio.ensure_future(bot.run_blocking(lambda: engine.embedder))  # load the model early
        warm.add_done_callback(lambda f: f.cancelled() or f.exception())
        try:
            await bot.connect(reconnect=True)
        except discord.PrivilegedIntentsRequired:  # citebot asks for none; a changed Discord could still say so
            raise CitebotError("Discord refused the bot's gateway intents (4014)") from None
        except discord.ConnectionClosed as exc:
            if exc.code == 4004:
                raise CitebotError("Discord rejected DISCORD_TOKEN at the gateway (4004)") from None
            raise CitebotError(f"the gateway closed the connection ({exc.code}): {exc.reason}") from None


async def sync_commands(settings: Settings, ds: DiscordSettings) -> str:
    """Register the slash commands: to one server (instant) when DISCORD_GUILD_ID is set, else globally."""
    apply_endpoints(ds)
    bot = CitebotBot(settings, ds)
    async with bot:
        await _login(bot, ds, None)
        if ds.guild_id:
            guild = discord.Object(ds.guild_id)
            bot.tree.copy_global_to(guild=guild)
            synced = await bot.tree.sync(guild=guild)
            where = f"server {ds.guild_id}"
        else:
            synced = await bot.tree.sync()
            where = "every server (global commands can take a while to appear)"
    names = ", ".join(sorted("/" + c.name for c in synced))
    return f"synced {len(synced)} commands to {where}: {names}"
