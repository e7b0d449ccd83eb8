"""Admin commands: `/reindex` and `/source add`. Manage Server is required, checked in the bot.

`default_permissions` only hides the commands in the client; server admins can override it, so
every command here also carries `has_permissions`, which the bot itself enforces.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
from pathlib import Path
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from ..errors import CitebotError
from ..fetching import as_source_file, fetch_url, safe_name, unique_path
from ..records import BuildReport
from ..sources import SUPPORTED
from . import render

if TYPE_CHECKING:
    from .client import CitebotBot

log = logging.getLogger("citebot.discord")
ADDED_FOLDER = "added"


def write_source(folder: Path, name: str, data: bytes) -> Path:
    """Write a new source file atomically (a dot-named temp file is never read as a source)."""
    try:
        folder.mkdir(parents=True, exist_ok=True)
        path = unique_path(folder, name)
        tmp = folder / f".{path.name}.tmp"
        tmp.write_bytes(data)
        os.replace(tmp, path)
    except OSError as exc:  # e.g. a sources volume mounted read-only
        raise CitebotError(f"Cannot save into the sources folder: {exc.strerror or type(exc).__name__}.") from None
    return path


class AdminCog(commands.Cog):
    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    source = app_commands.Group(
        name="source",
        description="Manage the sources (admins)",
        guild_only=True,
        default_permissions=discord.Permissions(manage_guild=True),
    )

    async def _reindex(self, after_running: bool = False) -> BuildReport:
        """Start a reindex. A running one is refused, or with `after_running` waited for first: a
        source saved while a build runs may have been listed before it was written."""
        engine = self.bot.require_engine()
        while self.bot.reindex_task is not None and not self.bot.reindex_task.done():
            if not after_running:
                raise CitebotError("A reindex is already running; answers keep coming from the current index.")
            with contextlib.suppress(Exception):  # its own caller reports how it ended
                await asyncio.shield(self.bot.reindex_task)
        self.bot.reindex_task = asyncio.ensure_future(self.bot.run_blocking(engine.reindex, build=True))
        return await asyncio.shield(self.bot.reindex_task)

    @app_commands.command(name="reindex", description="Update the index from the sources folder (admins)")
    @app_commands.default_permissions(manage_guild=True)
    @app_commands.guild_only()
    @app_commands.checks.has_permissions(manage_guild=True)
    async def reindex(self, interaction: discord.Interaction) -> None:
        await interaction.response.defer(thinking=True)
        if self.bot.reindex_task is not None and not self.bot.reindex_task.done():
            raise CitebotError("A reindex is already running; answers keep coming from the current index.")
        await self.bot.followup(
            interaction, render.render("Reindexing in the background; answers keep coming from the current index.")
        )
        report = await self._reindex()
        log.info("reindex by %s: %s", interaction.user.id, render.report_text(report))
        await self.bot.followup(interaction, render.render(render.report_text(report)))

    @source.command(name="add", description="Add a source from a URL or an attached file, then reindex (admins)")
    @app_commands.describe(url="http(s) page or file to fetch", attachment="a .txt, .md, .html, .pdf or .jsonl file")
    @app_commands.checks.has_permissions(manage_guild=True)
    async def add(
        self, interaction: discord.Interaction, url: str | None = None, attachment: discord.Attachment | None = None
    ) -> None:
        if (url is None) == (attachment is None):
            raise CitebotError("Give either a url or an attachment.")
        await interaction.response.defer(thinking=True)
        ds = self.bot.dsettings
        max_bytes = int(ds.fetch_max_mb * 1024 * 1024)
        if url is not None:
            fetched = await self.bot.run_blocking(
                fetch_url, url.strip(), max_bytes=max_bytes, timeout=ds.fetch_timeout, allowed=self.bot.fetch_allowed
            )
            name, data = as_source_file(fetched)
        else:
            assert attachment is not None
            if attachment.size > max_bytes:
                raise CitebotError(f"The file is larger than the {ds.fetch_max_mb:g} MB cap.")
            name = safe_name(attachment.filename)
            if Path(attachment.filename).suffix.lower() not in SUPPORTED:
                raise CitebotError("Unsupported file type; use .txt, .md, .html, .pdf or .jsonl.")
            data = await attachment.read()
        path = await self.bot.run_blocking(write_source, self.bot.settings.sources / ADDED_FOLDER, name, data)
        rel = path.relative_to(self.bot.settings.sources).as_posix()
        log.info("source %s added by %s", rel, interaction.user.id)
        try:
            report = await self._reindex(after_running=True)
        except CitebotError as exc:  # e.g. `citebot index` is writing the index from a shell
            text = f"Saved `{rel}`; it will be indexed by the next reindex ({render.escape(str(exc))})."
            await self.bot.followup(interaction, render.render(text))
            return
        skipped = next((s.reason for s in report.skipped if s.path == rel), None)
        if skipped:
            text = f"Saved `{rel}`, but it could not be indexed: {skipped}."
        else:
            text = f"Added `{rel}`. " + render.report_text(report)
        await self.bot.followup(interaction, render.render(text))
