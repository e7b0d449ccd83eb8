"""Asking: `/ask`, a mention of the bot, or a DM; all three answer with the same cited passages."""

from __future__ import annotations

import logging
import re
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import discord
from discord import app_commands
from discord.ext import commands

from ..errors import CitebotError
from ..records import Answer
from . import render
from .client import SlowDown
from .views import answer_view

if TYPE_CHECKING:
    from .client import CitebotBot

log = logging.getLogger("citebot.discord")


class AskCog(commands.Cog):
    def __init__(self, bot: CitebotBot) -> None:
        self.bot = bot
        # questions by answer message id and by thread id: a thread started from an answer has the
        # answer's id, so its follow-ups can lean on the question that started it
        self.history: OrderedDict[int, list[str]] = OrderedDict()

    def _remember(self, key: int, question: str) -> None:
        items = self.history.setdefault(key, [])
        items.append(question)
        del items[:-5]
        self.history.move_to_end(key)
        while len(self.history) > 5000:
            self.history.popitem(last=False)

    async def _answer_in_context(
        self, channel_id: int | None, question: str, top_k: int | None = None
    ) -> tuple[Answer, str]:
        """Answer alone first; in a thread, a follow-up nothing answers is asked again with the thread's
        last question. Returns the answer and the question actually asked (for "More passages")."""
        answer = await self.bot.answer(question, top_k)
        earlier = self.history.get(channel_id) if channel_id is not None else None
        if answer.answered or not earlier:
            return answer, question
        combined = f"{earlier[-1]} {question}"
        if len(combined) > self.bot.settings.max_question_chars:
            return answer, question
        retry = await self.bot.answer(combined, top_k)
        if retry.answered:
            retry.question = question
            return retry, combined
        return answer, question

    def _gate(self, user_id: int, question: str) -> None:
        """Length first (costs nothing), then the per-user cooldown; raises with the reply to give."""
        self.bot.require_engine().check_question(question)
        self.bot.check_cooldown(user_id)

    @app_commands.command(name="ask", description="Answer a question with cited passages from the sources")
    @app_commands.describe(question="what you want to know", top_k="how many passages (1-10)")
    async def ask(
        self, interaction: discord.Interaction, question: str, top_k: app_commands.Range[int, 1, 10] | None = None
    ) -> None:
        self._gate(interaction.user.id, question)
        await interaction.response.defer(thinking=True)
        channel_id = interaction.channel_id
        answer, asked = await self._answer_in_context(channel_id, question, top_k)
        key = self.bot.questions.put(asked, top_k)
        sent = await self.bot.followup(interaction, render.answer_message(answer), answer_view(answer, key, top_k))
        if sent is not None:
            self._remember(sent.id, question)
        if channel_id is not None and (isinstance(interaction.channel, discord.Thread) or channel_id in self.history):
            self._remember(channel_id, question)

    def _question_from(self, message: discord.Message) -> str | None:
        me = self.bot.user
        if me is None or message.author.bot:
            return None
        mentioned = any(u.id == me.id for u in message.mentions)
        if message.guild is not None and (not mentioned or not self.bot.serves(message.guild.id)):
            return None
        return re.sub(rf"<@!?{me.id}>", " ", message.content).strip()

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        """A mention or a DM is a question; the answer is a reply to it (in a thread, in the thread)."""
        question = self._question_from(message)
        if question is None:
            return
        try:
            if not question:
                reply = render.render("Ask me a question after the mention, e.g. `@citebot what did Pompeo say?`")
                await message.reply(**reply.kwargs(), mention_author=False)
                return
            self._gate(message.author.id, question)
            channel_id = message.channel.id
            in_thread = isinstance(message.channel, discord.Thread) or channel_id in self.history
            answer, asked = await self._answer_in_context(channel_id, question)
            key = self.bot.questions.put(asked, None)
            view = answer_view(answer, key, None)
            extra: dict[str, Any] = {"view": view} if view is not None else {}
            sent = await message.reply(**render.answer_message(answer).kwargs(), mention_author=False, **extra)
            self._remember(sent.id, question)
            if in_thread:
                self._remember(channel_id, question)
        except SlowDown as exc:
            if self.bot.cooldown.first_notice(message.author.id):
                await self._reply_quietly(message, str(exc))
        except CitebotError as exc:
            await self._reply_quietly(message, str(exc))
        except discord.HTTPException as exc:
            log.warning(
                "cannot reply in channel %s to message %s: %s %s", message.channel.id, message.id, exc.status, exc.text
            )
        except Exception:
            log.exception("answering message %s in channel %s failed", message.id, message.channel.id)
            await self._reply_quietly(message, "Something went wrong while answering; it has been logged.")

    async def _reply_quietly(self, message: discord.Message, text: str) -> None:
        try:
            await message.reply(**render.render(text).kwargs(), mention_author=False)
        except discord.HTTPException as exc:
            log.warning("cannot reply in channel %s: %s %s", message.channel.id, exc.status, exc.text)
