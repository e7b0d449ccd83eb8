"""Everything the bot sends is built here, and `render` clamps it to Discord's limits.

Why one place: Discord rejects a whole message when one field is a character too long, and the
answer would then be lost. Builders aim under the limits (cutting passages at a sentence or word,
with an ellipsis); `render` then enforces every limit, whatever a builder produced, and turns off
all mentions.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import discord
from discord.utils import escape_markdown

from ..presentation import printable, refusal_line
from ..records import Answer, BuildReport, DocumentInfo, Passage

CONTENT = 2000
TITLE = 256
DESCRIPTION = 4096
FIELDS = 25
FIELD_NAME = 256
FIELD_VALUE = 1024
FOOTER = 2048
AUTHOR = 256
EMBEDS = 10
TOTAL = 6000  # all embeds of one message together
ELLIPSIS = "…"
PAGE_SIZE = 10
PASSAGE_FOOTER = 300  # publisher, date, source, host, also-in: a line, not a quarter of the 6,000 total
ALSO_IN_SHOWN = 3
SOURCE_LINE = DESCRIPTION // PAGE_SIZE - 10  # so a full page of the source list always fits

_SENTENCE_END = re.compile(r"[.!?…][\"'”’)\]]*\s|\n")


def shorten(text: str, limit: int) -> str:
    """`text` cut to `limit` characters at a sentence end, else a word end, with an ellipsis."""
    if len(text) <= limit:
        return text
    if limit <= 1:
        return ELLIPSIS[:limit]
    head = text[: limit - 1]
    floor = len(head) // 2
    ends = [m.end() for m in _SENTENCE_END.finditer(head) if m.end() > floor]
    if ends:
        cut = head[: ends[-1]].rstrip()
    else:
        space = head.rfind(" ", floor)
        cut = head[:space] if space > 0 else head
    return cut.rstrip() + ELLIPSIS


@dataclass
class Message:
    """An outgoing message, clamped: pass `**message.kwargs()` to send/followup/reply."""

    content: str | None
    embeds: list[discord.Embed]

    def kwargs(self) -> dict[str, Any]:
        out: dict[str, Any] = {"allowed_mentions": discord.AllowedMentions.none(), "embeds": self.embeds}
        if self.content:
            out["content"] = self.content
        return out


def _embed_size(d: dict[str, Any]) -> int:
    size = len(d.get("title", "")) + len(d.get("description", ""))
    size += len(d.get("footer", {}).get("text", "")) + len(d.get("author", {}).get("name", ""))
    size += sum(len(f.get("name", "")) + len(f.get("value", "")) for f in d.get("fields", []))
    return size


def _clamp_embed(d: dict[str, Any]) -> dict[str, Any]:
    if "title" in d:
        d["title"] = shorten(str(d["title"]), TITLE)
    if "description" in d:
        d["description"] = shorten(str(d["description"]), DESCRIPTION)
    if "footer" in d:
        d["footer"]["text"] = shorten(str(d["footer"].get("text", "")), FOOTER)
    if "author" in d:
        d["author"]["name"] = shorten(str(d["author"].get("name", "")), AUTHOR)
    if "url" in d and not _is_link(str(d["url"])):
        del d["url"]
    fields = d.get("fields", [])[:FIELDS]
    for f in fields:
        f["name"] = shorten(str(f.get("name") or "\u200b"), FIELD_NAME) or "\u200b"
        f["value"] = shorten(str(f.get("value") or "\u200b"), FIELD_VALUE) or "\u200b"
    if fields:
        d["fields"] = fields
    return d


def render(content: str | None = None, embeds: list[discord.Embed] | None = None) -> Message:
    """THE clamp: content 2,000; title 256; description 4,096; 25 fields of 1,024; 6,000 in all."""
    text = shorten(content, CONTENT) if content else None
    dicts = [_clamp_embed(dict(e.to_dict())) for e in (embeds or [])[:EMBEDS]]
    over = sum(_embed_size(d) for d in dicts) - TOTAL
    if over > 0:  # shrink the longest descriptions first, then drop fields, cut titles, cut footers
        for d in sorted(dicts, key=lambda x: -len(x.get("description", ""))):
            if over <= 0:
                break
            desc = d.get("description", "")
            if desc:
                new = shorten(desc, max(1, len(desc) - over - 1))
                over -= len(desc) - len(new)
                d["description"] = new
        for d in dicts:
            while over > 0 and d.get("fields"):
                f = d["fields"].pop()
                over -= len(f["name"]) + len(f["value"])
            if over > 0 and d.get("title"):
                t = d["title"]
                d["title"] = shorten(t, max(1, len(t) - over - 1))
                over -= len(t) - len(d["title"])
        for d in dicts:
            footer = d.get("footer", {}).get("text", "")
            if over > 0 and footer:
                d["footer"]["text"] = shorten(footer, max(1, len(footer) - over - 1))
                over -= len(footer) - len(d["footer"]["text"])
    return Message(text, [discord.Embed.from_dict(d) for d in dicts])


def _is_link(url: str | None) -> bool:
    return url is not None and len(url) <= 2000 and re.match(r"https?://[^\s<>]+$", url) is not None


def escape(text: str) -> str:
    """Text from sources or users, shown as typed: markdown escaped, and every square bracket too.

    discord.py's `escape_markdown` leaves all but the first `[` of a line alone, so a source could
    still plant a masked link (`[Reuters](https://elsewhere)`) that looks like a citation; without
    brackets no masked link can form, whatever the text around it.
    """
    text = printable(text).replace("[", "\x02").replace("]", "\x03")
    return escape_markdown(text).replace("\x02", "\\[").replace("\x03", "\\]")


def one_line(text: str) -> str:
    return " ".join(text.split())


def host(url: str | None) -> str:
    """The host a citation's link goes to, shown beside it: a title can claim any outlet."""
    return (urlsplit(url).hostname or "") if _is_link(url) else ""


# -- passages ------------------------------------------------------------------------------------
def _snap_start(text: str, lo: int) -> int:
    if lo <= 0:
        return 0
    back = text.rfind("\n", max(0, lo - 200), lo)
    if back >= 0:
        return back + 1
    space = text.find(" ", lo)
    return space + 1 if 0 <= space < lo + 40 else lo


def _bold(line: str) -> str:
    """`**...**` around the words only: Discord shows `**Tuesday. **` with its asterisks."""
    words = line.strip()
    if not words:
        return line
    lead = line[: len(line) - len(line.lstrip())]
    return f"{lead}**{words}**{line[len(lead) + len(words) :]}"


def _quote(text: str, hs: int | None, he: int | None) -> str:
    """Markdown-escaped block quote, the highlight bolded line by line (bold cannot span lines)."""

    if hs is None or he is None or he <= hs:
        body = escape(text)
    else:
        bold = "\n".join(_bold(escape(line)) for line in text[hs:he].split("\n"))
        body = escape(text[:hs]) + bold + escape(text[he:])
    return "\n".join("> " + line for line in body.split("\n"))


def quote_passage(text: str, highlight: tuple[int, int] | None, budget: int) -> str:
    """The passage as a quote of at most `budget` characters, keeping its highlighted sentence."""
    hs, he = highlight if highlight else (None, None)
    full = _quote(text, hs, he)
    if len(full) <= budget:
        return full
    span = len(text)
    for _ in range(12):
        span = max(20, int(span * min(0.9, budget / max(1, len(full)))))
        lo = 0
        if hs is not None and he is not None and he > span:
            lo = _snap_start(text, max(0, hs - span // 5))
        hi = min(len(text), lo + span)
        window = text[lo:hi]
        if hi < len(text):
            window = shorten(text[lo:], len(window) + 1)[:-1]
            hi = lo + len(window)
        whs = None if hs is None else min(max(hs - lo, 0), len(window))
        whe = None if he is None else min(max(he - lo, 0), len(window))
        out = _quote(window, whs, whe)
        out = ("> " + ELLIPSIS + out[2:] if lo > 0 else out) + (ELLIPSIS if hi < len(text) else "")
        if len(out) <= budget:
            return out
    return shorten(full, budget)


def _footer(p: Passage) -> str:
    outlet = ", ".join(shorten(one_line(x), 80) for x in (p.publisher, p.published) if x)
    where = f"{p.source}, {p.location}" if p.location else p.source
    also = ""  # the same text in other sources
    if p.also_in:
        shown = ", ".join(p.also_in[:ALSO_IN_SHOWN])
        rest = len(p.also_in) - ALSO_IN_SHOWN
        also = f"also in: {shown}" + (f" and {rest} more" if rest > 0 else "")
    return shorten(" · ".join(x for x in (outlet, host(p.url), where, also) if x), PASSAGE_FOOTER)


def answer_message(answer: Answer) -> Message:
    """One embed per passage: numbered title, link, verbatim quote with the best sentence in bold."""
    if not answer.answered:
        return no_answer_message(answer)
    passages = answer.passages[:EMBEDS]
    titles = [shorten(f"[{p.rank}] {p.title or p.source}", TITLE) for p in passages]
    footers = [_footer(p) for p in passages]
    room = TOTAL - 200 - sum(map(len, titles)) - sum(map(len, footers))
    budget = max(80, min(DESCRIPTION, math.floor(room / max(1, len(passages)))))
    embeds = []
    for p, title, footer in zip(passages, titles, footers):
        hl = (p.highlight.start - p.start, p.highlight.end - p.start) if p.highlight else None
        embed = discord.Embed(title=title, description=quote_passage(p.text, hl, budget), colour=0x3B82F6)
        if _is_link(p.url):
            embed.url = p.url
        embed.set_footer(text=footer)
        embeds.append(embed)
    more = " More passages follow with the button below." if answer.has_more else ""
    question = escape(one_line(answer.question))  # blank lines in a question would be echoed in full
    return render(shorten(f"**Sources for:** {question}", CONTENT - len(more)) + more, embeds)


def no_answer_message(answer: Answer) -> Message:
    text = refusal_line(answer, escape)
    if answer.passages:
        titles = list(dict.fromkeys(one_line(p.title or p.source) for p in answer.passages))
        text += "\nClosest I have: " + "; ".join(escape(t) for t in titles)
    return render(text)


def context_message(p_title: str, url: str | None, source: str, text: str, start: int, end: int) -> Message:
    """Show source: the passage (bold) inside the text around it."""
    embed = discord.Embed(title=p_title, description=quote_passage(text, (start, end), DESCRIPTION - 100))
    if _is_link(url):
        embed.url = url
    embed.set_footer(text=source)
    return render(None, [embed])


def sources_message(docs: list[DocumentInfo], page: int) -> tuple[Message, int, int]:
    """One page of the indexed documents; returns the message, the page shown and the page count."""
    pages = max(1, math.ceil(len(docs) / PAGE_SIZE))
    page = min(max(0, page), pages - 1)
    lines = []
    for i, d in enumerate(docs[page * PAGE_SIZE : (page + 1) * PAGE_SIZE], start=page * PAGE_SIZE + 1):
        title = escape(shorten(one_line(d.title or d.source), 150))
        source = shorten(one_line(d.source), 120)
        where = f"`{source}`" if "`" not in source else escape(source)
        tail = f" — {where} ({d.chunks} passages)"
        # A link's target cannot close its parentheses early; one too long for the line is left out,
        # so that ten lines always fit one embed.
        url = (d.url or "").replace("(", "%28").replace(")", "%29")
        linked = f"{i}. [{title}]({url}){tail}"
        plain = f"{i}. {title}{tail}"
        if len(plain) > SOURCE_LINE:  # a title of markdown characters, each escaped
            plain = f"{i}. {escape(shorten(one_line(d.title or d.source), 60))}{tail}"
        lines.append(linked if _is_link(d.url) and len(linked) <= SOURCE_LINE else plain)
    embed = discord.Embed(
        title=f"Indexed sources: {len(docs)} documents", description="\n".join(lines) or "No documents are indexed."
    )
    embed.set_footer(text=f"page {page + 1} of {pages}")
    return render(None, [embed]), page, pages


def report_text(report: BuildReport) -> str:
    if not report.switched:
        return f"Index already up to date: {report.documents} documents, {report.chunks} passages."
    text = (
        f"Reindexed: {report.documents} documents, {report.chunks} passages "
        f"({len(report.added)} added, {len(report.changed)} changed, {len(report.removed)} removed, "
        f"{report.unchanged} unchanged) in {report.seconds:.1f}s."
    )
    if report.skipped:
        skipped = "; ".join(f"{s.path} ({s.reason})" for s in report.skipped[:5])
        text += f" Skipped {len(report.skipped)}: " + escape(one_line(skipped))
    return text


__all__ = ["Message", "answer_message", "context_message", "render", "shorten", "sources_message"]
