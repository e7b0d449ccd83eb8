"""The one render function: every Discord limit holds whatever the passages look like."""

from __future__ import annotations

import discord

from bot.discord import render
from bot.records import Answer, DocumentInfo, Highlight, Passage


def passage(rank: int, text: str, hl: tuple[int, int] | None = None, **kw) -> Passage:
    return Passage(
        rank=rank,
        source=kw.pop("source", f"doc{rank}.txt"),
        title=kw.pop("title", f"Title {rank}"),
        url=kw.pop("url", None),
        published=None,
        start=0,
        end=len(text),
        text=text,
        score=0.9,
        highlight=Highlight(*hl) if hl else None,
        **kw,
    )


def sizes(message: render.Message) -> None:
    assert len(message.content or "") <= render.CONTENT
    total = 0
    for e in message.embeds:
        d = e.to_dict()
        assert len(d.get("title", "")) <= render.TITLE
        assert len(d.get("description", "")) <= render.DESCRIPTION
        assert len(d.get("fields", [])) <= render.FIELDS
        assert all(len(f["value"]) <= render.FIELD_VALUE for f in d.get("fields", []))
        total += render._embed_size(d)
    assert len(message.embeds) <= render.EMBEDS and total <= render.TOTAL


def test_shorten_cuts_at_a_sentence_then_a_word_with_an_ellipsis():
    """Cuts land after a sentence when one ends in the second half, else at a space; never mid-word."""
    text = "First sentence is here. Second sentence runs on and on and on."
    assert render.shorten(text, 40) == "First sentence is here.…"
    words = "alpha beta gamma delta epsilon zeta"
    assert render.shorten(words, 20) == "alpha beta gamma…"
    assert render.shorten("short", 10) == "short"


def test_huge_passages_fit_and_keep_the_bold_sentence():
    """Ten 20,000-character passages with a highlight deep inside still fit the 6,000 total."""
    body = "Filler words about nothing in particular. " * 300
    key = "Pompeo said the US will not share information."
    text = body + key + " " + body
    hl = (len(body), len(body) + len(key))
    answer = Answer("q", True, [passage(i, text, hl) for i in range(1, 11)], has_more=True)
    message = render.answer_message(answer)
    sizes(message)
    assert len(message.embeds) == 10
    for e in message.embeds:
        assert f"**{render.escape_markdown(key)}**" in e.description
        assert e.description.endswith("…")


def test_render_clamps_whatever_a_builder_produced():
    """25+ fields, a 10,000-character title and description and content: all cut to the limits."""
    embed = discord.Embed(title="t" * 10_000, description="word " * 3000)
    for i in range(40):
        embed.add_field(name="n" * 500, value="v " * 1000)
    message = render.render("c " * 3000, [embed, discord.Embed(description="x " * 3000)])
    sizes(message)
    assert message.content.endswith("…")
    assert message.kwargs()["allowed_mentions"].to_dict() == {"parse": []}


def test_markdown_in_sources_is_shown_verbatim():
    """Asterisks and underscores from a source are escaped, so the quote looks like the source."""
    quoted = render.quote_passage("a *b* _c_ `d`", None, 100)
    assert quoted == "> a \\*b\\* \\_c\\_ \\`d\\`"


def test_invalid_urls_are_left_out():
    """Discord rejects an embed whose url is not http(s): such links are dropped, not sent."""
    answer = Answer(
        "q", True, [passage(1, "Text.", url="javascript:alert(1)"), passage(2, "Text.", url="https://x.org/a")]
    )
    embeds = render.answer_message(answer).embeds
    assert embeds[0].url is None and embeds[1].url == "https://x.org/a"


def test_no_answer_lists_nearest_titles():
    """A refusal is a short line, with the nearest titles, and no passages shown."""
    message = render.answer_message(Answer("q", False, [passage(1, "x", title="Near one")]))
    assert message.content == "Nothing in the sources answers that.\nClosest I have: Near one"
    assert message.embeds == []


def test_refusal_reason_is_shown_escaped():
    """A rule's reason follows the refusal line, with the question's words escaped as markdown."""
    answer = Answer("q", False, [passage(1, "x", title="Near one")], refusal="no source mentions *Bold* and __Under__")
    message = render.answer_message(answer)
    assert message.content.startswith("Nothing in the sources answers that: no source mentions \\*Bold\\* and \\_\\_Under\\_\\_.\n")
    bar = Answer("q", False, [], refusal="nothing in the sources is close enough to the question")
    assert render.answer_message(bar).content == "Nothing in the sources answers that."


def test_sources_pages():
    """Twenty-five documents make three pages; out-of-range pages clamp to the last."""
    docs = [DocumentInfo(f"d{i}.txt", f"Doc {i}", None, 1, "") for i in range(25)]
    message, page, pages = render.sources_message(docs, 99)
    assert (page, pages) == (2, 3)
    assert message.embeds[0].description.startswith("21. Doc 20")


def test_a_passage_found_in_several_sources_says_so_once():
    """A syndicated copy is one embed whose footer names the other sources ("also in: ...")."""
    dup = passage(1, "The same story, word for word.", source="a/story.txt", also_in=["b/copy.txt", "c/copy.txt"])
    answer = Answer(question="q", answered=True, passages=[dup])
    message = render.answer_message(answer)
    assert len(message.embeds) == 1
    assert message.embeds[0].footer.text == "a/story.txt · also in: b/copy.txt, c/copy.txt"
    sizes(message)
