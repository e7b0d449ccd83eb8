"""`/sources`: the indexed documents, ten a page, with Previous / Next buttons."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from . import render
from .views import pages_view

if TYPE_CHECKING:
    from .client import CitebotBot


class SourcesCog(commands.Cog):
    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot

    @app_commands.command(name="sources", description="List the indexed documents")
    @app_commands.describe(page="page number (1 = first)")
    async def sources(self, interaction: discord.Interaction, page: app_commands.Range[int, 1, 10_000] = 1) -> None:
        engine = self.bot.require_engine()
        message, shown, pages = render.sources_message(engine.documents(), page - 1)
        view = pages_view(shown, pages)
        extra: dict[str, Any] = {"view": view} if view is not None else {}
        await interaction.response.send_message(**message.kwargs(), **extra)
