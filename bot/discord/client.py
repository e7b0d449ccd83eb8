"""The bot: a commands.Bot that holds the Engine, runs its work in executors and keeps a heartbeat.

Why executors: embedding a question takes tens of milliseconds to seconds of CPU; on the event
loop that would stall the gateway heartbeat and Discord would drop the connection.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import discord
from discord import app_commands
from discord.ext import commands

from ..config import Settings
from ..engine import Engine
from ..errors import CitebotError
from ..fetching import public_only
from ..records import Answer
from . import heartbeat
from .batching import QuestionBatcher
from .render import Message, render
from .settings import DiscordSettings

log = logging.getLogger("citebot.discord")
T = TypeVar("T")

EXPIRED_CODES = {50027, 10015, 10062, 10008}  # invalid webhook token, unknown webhook/interaction/message


class SlowDown(CitebotError):
    """A question or button inside the asker's cooldown."""


class Cooldown:
    """One question per `seconds` per user; `retry_after` says how long is left (0 when free)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._last: dict[int, float] = {}
        self._told: dict[int, float] = {}

    def retry_after(self, user_id: int) -> float:
        now = time.monotonic()
        last = self._last.get(user_id)
        if last is not None and now - last < self.seconds:
            return self.seconds - (now - last)
        self._last[user_id] = now
        if len(self._last) > 10_000:
            self._last = {u: t for u, t in self._last.items() if now - t < self.seconds}
            self._told = {u: t for u, t in self._told.items() if u in self._last}
        return 0.0

    def first_notice(self, user_id: int) -> bool:
        """True once per window: a user who keeps mentioning the bot is told to wait once, so the
        bot does not answer a flood with a flood of its own."""
        last, told = self._last.get(user_id), self._told.get(user_id)
        if last is not None and told is not None and told >= last:
            return False
        self._told[user_id] = time.monotonic()
        return True


class QuestionCache:
    """Recent questions by a short key, so a "More passages" button can carry the key, not the text."""

    def __init__(self, size: int = 2000) -> None:
        self.size = size
        self._items: OrderedDict[str, tuple[str, int | None]] = OrderedDict()

    def put(self, question: str, top_k: int | None) -> str:
        key = hashlib.sha1(f"{top_k}\x00{question}".encode()).hexdigest()[:12]
        self._items[key] = (question, top_k)
        self._items.move_to_end(key)
        while len(self._items) > self.size:
            self._items.popitem(last=False)
        return key

    def get(self, key: str) -> tuple[str, int | None] | None:
        return self._items.get(key)


def is_expired(exc: discord.HTTPException) -> bool:
    """The interaction token is past its 15 minutes (or the interaction is otherwise gone)."""
    return exc.status == 401 or exc.code in EXPIRED_CODES


class CitebotBot(commands.Bot):
    def __init__(self, settings: Settings, dsettings: DiscordSettings, engine: Engine | None = None) -> None:
        # No privileged intent: Discord gives an app the text of messages that mention it and of
        # its DMs without Message Content, and those are the only messages citebot reads.
        intents = discord.Intents.default()
        # citebot never joins voice: discord.py's "PyNaCl / davey is not installed, voice will NOT
        # be supported" warnings at every start would only alarm a self-hoster reading the log.
        discord.VoiceClient.warn_nacl = False
        if hasattr(discord.VoiceClient, "warn_dave"):
            discord.VoiceClient.warn_dave = False
        super().__init__(
            command_prefix=commands.when_mentioned,
            intents=intents,
            help_command=None,
            allowed_mentions=discord.AllowedMentions.none(),
            guild_ready_timeout=dsettings.guild_ready_timeout,
        )
        self.settings = settings
        self.dsettings = dsettings
        self.engine = engine
        self.cooldown = Cooldown(dsettings.cooldown_seconds)
        self.questions = QuestionCache()
        self.fetch_allowed: Callable[[str, int], bool] = public_only
        self.heartbeat_path: Path = dsettings.heartbeat or heartbeat.default_path(settings.index)
        self._ask_pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="citebot-ask")
        self._build_pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="citebot-build")
        self._heartbeat_task: asyncio.Task[None] | None = None
        # int8 embeds each question alone (Engine.embed_questions), so waiting to gather more would
        # only add latency: gather only what arrives in the same loop turn
        window = 0.0 if settings.backend == "onnx-int8" else 0.02
        self.batcher = QuestionBatcher(
            lambda texts: self.require_engine().embed_questions(texts), self.run_blocking, window=window
        )
        self.reindex_task: asyncio.Task[Any] | None = None

    # -- lifecycle -----------------------------------------------------------------------------
    async def setup_hook(self) -> None:
        from .admin import AdminCog
        from .ask import AskCog
        from .sources import SourcesCog
        from .views import MoreButton, PageButton, SourceButton

        await self.add_cog(AskCog(self))
        await self.add_cog(SourcesCog(self))
        await self.add_cog(AdminCog(self))
        self.add_dynamic_items(MoreButton, SourceButton, PageButton)
        self.tree.on_error = self.on_app_command_error  # type: ignore[method-assign]
        self.tree.interaction_check = self.interaction_allowed  # type: ignore[method-assign]

    def start_heartbeat(self) -> None:
        """Only `serve` beats: `sync-commands` must not overwrite a running bot's heartbeat."""
        if self._heartbeat_task is None:
            self._heartbeat_task = asyncio.create_task(self._heartbeat_loop())

    async def on_message(self, message: discord.Message) -> None:
        """No prefix commands: questions by mention are handled by the ask cog's listener."""

    # -- which servers ---------------------------------------------------------------------------
    def serves(self, guild_id: int | None) -> bool:
        """DISCORD_SERVERS set: only those servers (and DMs, which only members of a server the bot
        stays in can send) are answered; anyone who adds the bot elsewhere gets nothing of the sources."""
        allowed = self.dsettings.server_ids
        return guild_id is None or allowed is None or guild_id in allowed

    async def _leave_unlisted(self, guilds: list[discord.Guild]) -> None:
        for guild in guilds:
            if not self.serves(guild.id):
                log.warning("leaving server %s: it is not in DISCORD_SERVERS", guild.id)
                try:
                    await guild.leave()
                except discord.HTTPException as exc:
                    log.warning("could not leave server %s: %s %s", guild.id, exc.status, exc.text)

    async def on_ready(self) -> None:
        await self._leave_unlisted(list(self.guilds))

    async def on_guild_join(self, guild: discord.Guild) -> None:
        await self._leave_unlisted([guild])

    async def interaction_allowed(self, interaction: discord.Interaction) -> bool:
        if self.serves(interaction.guild_id):
            return True
        await self.tell(interaction, "citebot does not answer in this server.")
        return False

    async def close(self) -> None:
        beating = self._heartbeat_task is not None
        if self._heartbeat_task is not None:
            self._heartbeat_task.cancel()
        try:
            await super().close()
        finally:
            if beating:
                self._write_heartbeat(False)
            self._ask_pool.shutdown(wait=False, cancel_futures=True)
            self._build_pool.shutdown(wait=False, cancel_futures=True)

    def _write_heartbeat(self, connected: bool) -> None:
        engine = self.engine
        try:
            heartbeat.write(
                self.heartbeat_path,
                connected,
                engine.document_count if engine and engine._data is not None else 0,
                engine.chunk_count if engine and engine._data is not None else 0,
            )
        except OSError as exc:
            log.warning("cannot write the heartbeat file %s: %s", self.heartbeat_path, exc)

    async def _heartbeat_loop(self) -> None:
        while not self.is_closed():
            self._write_heartbeat(self.is_ready() and not self.is_closed() and self.ws is not None and self.ws.open)
            await asyncio.sleep(self.dsettings.heartbeat_seconds)

    # -- work off the loop ---------------------------------------------------------------------
    async def run_blocking(self, fn: Callable[..., T], *args: Any, build: bool = False, **kwargs: Any) -> T:
        pool = self._build_pool if build else self._ask_pool
        return await asyncio.get_running_loop().run_in_executor(pool, functools.partial(fn, *args, **kwargs))

    def check_cooldown(self, user_id: int) -> None:
        """Questions and "More passages" clicks share one per-user cooldown: each runs a search and
        posts a public answer."""
        wait = self.cooldown.retry_after(user_id)
        if wait > 0:
            raise SlowDown(f"Slow down a little: you can ask again in {wait:.0f}s.")

    def require_engine(self) -> Engine:
        if self.engine is None:
            raise CitebotError("the index is still being built; try again in a minute")
        return self.engine

    async def answer(self, question: str, top_k: int | None = None, offset: int = 0) -> Answer:
        """Embed with whatever questions arrive at the same time (one model call), then search off the loop."""
        engine = self.require_engine()
        vector = await self.batcher.vector(engine.check_question(question))
        return await self.run_blocking(engine.ask, question, top_k, offset, query_vector=vector)

    # -- delivery ------------------------------------------------------------------------------
    async def followup(
        self,
        interaction: discord.Interaction,
        message: Message,
        view: discord.ui.View | None = None,
        ephemeral: bool = False,
    ) -> discord.Message | None:
        """Send a followup; past the 15-minute token expiry, post in the channel instead of failing."""
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        try:
            return await interaction.followup.send(**message.kwargs(), ephemeral=ephemeral, wait=True, **extra)
        except discord.HTTPException as exc:
            if not is_expired(exc):
                raise
            log.info("interaction %s expired (%s); posting in the channel instead", interaction.id, exc.status)
        channel = interaction.channel
        if ephemeral or channel is None or not isinstance(channel, discord.abc.Messageable):
            return None
        try:
            return await channel.send(**message.kwargs(), **extra)
        except discord.HTTPException as exc:
            log.warning("cannot post in channel %s either: %s %s", getattr(channel, "id", "?"), exc.status, exc.text)
            return None

    async def on_app_command_error(self, interaction: discord.Interaction, error: app_commands.AppCommandError) -> None:
        """Every error reaches the user as one short ephemeral line; unexpected ones are logged in full."""
        original = getattr(error, "original", error)
        if interaction.command is not None:
            name = interaction.command.qualified_name
        else:  # a button
            data: dict[str, Any] = dict(interaction.data or {})
            name = f"button {data.get('custom_id', '?')}"
        if isinstance(original, CitebotError):
            text = str(original)
            log.info("/%s by %s: %s", name, interaction.user.id, text)
        elif isinstance(error, app_commands.MissingPermissions):
            text = "You need the Manage Server permission for that."
            log.info("/%s denied to %s (missing %s)", name, interaction.user.id, error.missing_permissions)
        elif isinstance(error, app_commands.CheckFailure):
            text = "You cannot use that command here."
            log.info("/%s check failed for %s: %s", name, interaction.user.id, error)
        else:
            text = "Something went wrong while answering; it has been logged."
            log.error(
                "/%s failed (user %s, guild %s, channel %s)",
                name,
                interaction.user.id,
                interaction.guild_id,
                interaction.channel_id,
                exc_info=original,
            )
        await self.tell(interaction, text)

    async def tell(self, interaction: discord.Interaction, text: str) -> None:
        """A short ephemeral reply whether or not the interaction was already answered or deferred."""
        message = render(text)
        try:
            if interaction.response.is_done():
                await interaction.followup.send(**message.kwargs(), ephemeral=True)
            else:
                await interaction.response.send_message(**message.kwargs(), ephemeral=True)
        except discord.HTTPException as exc:
            log.warning("could not tell user %s: %s %s", interaction.user.id, exc.status, exc.text)
