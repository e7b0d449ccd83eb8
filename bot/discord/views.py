"""Buttons under answers. Dynamic items: their state lives in the custom_id, so they keep working
after a restart (except "More passages", whose question is kept in memory by a short key)."""

from __future__ import annotations

import hashlib
import re
from typing import TYPE_CHECKING, Any

import discord

from ..records import Answer
from . import render

if TYPE_CHECKING:
    from .client import CitebotBot


def source_key(source: str) -> str:
    return hashlib.sha1(source.encode()).hexdigest()[:16]


def _bot(interaction: discord.Interaction) -> CitebotBot:
    return interaction.client  # type: ignore[return-value]


class Guarded:
    """Button errors would otherwise only be logged by discord.py, leaving the user at "thinking...":
    route them through the same handler as slash commands."""

    async def callback(self, interaction: discord.Interaction) -> None:
        if not await _bot(interaction).interaction_allowed(interaction):
            return
        try:
            await self.run(interaction)
        except Exception as exc:  # noqa: BLE001 - handed to the one error handler, which logs it
            await _bot(interaction).on_app_command_error(interaction, exc)  # type: ignore[arg-type]

    async def run(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class MoreButton(
    Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cb:more:(?P<key>[0-9a-f]{12}):(?P<offset>\d+)"
):
    def __init__(self, key: str, offset: int) -> None:
        super().__init__(
            discord.ui.Button(
                label="More passages", style=discord.ButtonStyle.primary, custom_id=f"cb:more:{key}:{offset}"
            )
        )
        self.key, self.offset = key, offset

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> MoreButton:
        return cls(match["key"], int(match["offset"]))

    async def run(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        found = bot.questions.get(self.key)
        if found is None:
            await bot.tell(interaction, "That answer is too old to continue; please ask again.")
            return
        question, top_k = found
        bot.check_cooldown(interaction.user.id)
        await interaction.response.defer(thinking=True)
        answer = await bot.answer(question, top_k, self.offset)
        if not answer.passages:
            await bot.followup(interaction, render.render("No more passages for that question."))
            return
        await bot.followup(interaction, render.answer_message(answer), answer_view(answer, self.key, top_k))


class SourceButton(
    Guarded,
    discord.ui.DynamicItem[discord.ui.Button[Any]],
    template=r"cb:src:(?P<doc>[0-9a-f]{16}):(?P<start>\d+):(?P<end>\d+)",
):
    def __init__(self, doc: str, start: int, end: int, label: str = "Show source") -> None:
        super().__init__(
            discord.ui.Button(label=label, style=discord.ButtonStyle.secondary, custom_id=f"cb:src:{doc}:{start}:{end}")
        )
        self.doc, self.start, self.end = doc, start, end

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> SourceButton:
        return cls(match["doc"], int(match["start"]), int(match["end"]))

    async def run(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        engine = bot.require_engine()
        doc = next((d for d in engine.documents() if source_key(d.source) == self.doc), None)
        if doc is None:
            await bot.tell(interaction, "That source is no longer in the index.")
            return
        text, lo, _hi = engine.context(doc.source, self.start, self.end)
        message = render.context_message(
            doc.title or doc.source, doc.url, doc.source, text, self.start - lo, self.end - lo
        )
        await interaction.response.send_message(**message.kwargs(), ephemeral=True)


class PageButton(
    Guarded, discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"cb:pg:(?P<page>\d+):(?P<dir>[pn])"
):
    def __init__(self, page: int, direction: str, disabled: bool = False) -> None:
        super().__init__(
            discord.ui.Button(
                label="Previous" if direction == "p" else "Next",
                style=discord.ButtonStyle.secondary,
                custom_id=f"cb:pg:{page}:{direction}",
                disabled=disabled,
            )
        )
        self.page = page

    @classmethod
    async def from_custom_id(cls, interaction: discord.Interaction, item: Any, match: re.Match[str]) -> PageButton:
        return cls(int(match["page"]), match["dir"])

    async def run(self, interaction: discord.Interaction) -> None:
        engine = _bot(interaction).require_engine()
        message, page, pages = render.sources_message(engine.documents(), self.page)
        await interaction.response.edit_message(**message.kwargs(), view=pages_view(page, pages))


def answer_view(answer: Answer, key: str, top_k: int | None) -> discord.ui.View | None:
    """ "More passages" (when there are more) and one "Show source" per passage shown."""
    view = discord.ui.View(timeout=None)
    if answer.answered and answer.has_more:
        view.add_item(MoreButton(key, answer.offset + len(answer.passages)))
    if answer.answered:
        for p in answer.passages[: render.EMBEDS]:
            view.add_item(SourceButton(source_key(p.source), p.start, p.end, label=f"Show source {p.rank}"))
    return view if view.children else None


def pages_view(page: int, pages: int) -> discord.ui.View | None:
    if pages <= 1:
        return None
    view = discord.ui.View(timeout=None)
    view.add_item(PageButton(max(0, page - 1), "p", disabled=page == 0))
    view.add_item(PageButton(page + 1, "n", disabled=page >= pages - 1))
    return view
