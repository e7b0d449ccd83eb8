"""The one render function: every Discord limit holds whatever the passages look like."""

from __future__ import annotations

import re

import discord

from bot.discord import render
from bot.records import Answer, BuildReport, DocumentInfo, Highlight, Passage, Skipped


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
    assert message.content.startswith(
        "Nothing in the sources answers that: no source mentions \\*Bold\\* and \\_\\_Under\\_\\_.\n"
    )
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


def live_links(markdown: str) -> list[str]:
    """Masked links Discord would render: an unescaped `[`, then an unescaped `](` (a backslash
    escapes the character after it, an escaped backslash included)."""
    plain, i = [], 0
    while i < len(markdown):
        if markdown[i] == "\\":
            plain.append("x")  # an escaped character is never markup
            i += 2
            continue
        plain.append(markdown[i])
        i += 1
    return re.findall(r"\[[^\]]*\]\(", "".join(plain))


def test_sources_cannot_plant_masked_links():
    """A second link on a line, a link cut by the bold highlight, a title or question with one: none is live."""
    two = "See [a](https://x.example) and [Reuters, 2024](https://evil.example) here."
    # discord.py alone leaves the second one live
    assert live_links(render.escape_markdown(two)) == ["[Reuters, 2024]("]
    assert live_links(render.quote_passage(two, None, 500)) == []
    cut = "Read [the full. Story](https://evil.example) now."
    assert live_links(render.quote_passage(cut, (cut.index("Story"), len(cut)), 500)) == []
    slashed = "A path C:\\[x](https://evil.example) here."
    assert live_links(render.quote_passage(slashed, None, 500)) == []
    answer = Answer(two, True, [passage(1, cut, title=two)])
    message = render.answer_message(answer)
    assert live_links(message.content) == [] and live_links(message.embeds[0].description) == []
    refused = render.answer_message(Answer(two, False, [passage(1, "x", title=two)]))
    assert live_links(refused.content) == []
    assert "[Reuters, 2024]" in two and "\\[Reuters, 2024\\]" in refused.content  # shown, not hidden


def test_huge_footers_never_eat_the_passages():
    """A 3,000-character publisher or a paragraph found in 60 sources: the footer is cut, the quotes stay."""
    text = "The council approved the budget on Tuesday. " * 20
    many = [f"copies/c{i}.txt" for i in range(60)]
    answer = Answer(
        "q",
        True,
        [passage(i, text, (0, 44), publisher="P" * 3000, also_in=many) for i in range(1, 6)],
    )
    message = render.answer_message(answer)
    sizes(message)
    for e in message.embeds:
        assert len(e.footer.text) <= render.PASSAGE_FOOTER
        assert len(e.description) > 500 and "**The council approved the budget on Tuesday.**" in e.description
    short = Answer("q", True, [passage(1, text, publisher="BBC", also_in=many, url="https://news.example.org/a")])
    footer = render.answer_message(short).embeds[0].footer.text
    assert (
        footer == "BBC · news.example.org · doc1.txt · also in: copies/c0.txt, copies/c1.txt, copies/c2.txt and 57 more"
    )


def test_render_clamp_also_cuts_footers():
    """Whatever a builder produced, footers count towards the 6,000 total and are cut too."""
    embeds = [discord.Embed(title="t", description="d").set_footer(text="f " * 1000) for _ in range(10)]
    message = render.render(None, embeds)
    sizes(message)
    assert all(e.description == "d" for e in message.embeds)


def test_question_echo_collapses_its_whitespace():
    """A question padded with 1,900 blank lines is echoed as one line."""
    question = "what did\n" + "\n" * 1900 + "Pompeo say"
    message = render.answer_message(Answer(question, True, [passage(1, "Text.")]))
    assert message.content == "**Sources for:** what did Pompeo say"


def test_source_list_titles_urls_and_names_cannot_forge_entries():
    """Brackets in titles, parentheses in URLs, backticks in names and newlines in titles stay inert."""
    docs = [
        DocumentInfo("a.txt", "Foo](https://evil.example) [Bar", "https://real.example/x", 1, ""),
        DocumentInfo("b.txt", "Plain", "https://a.example/x)[Official](https://evil.example", 1, ""),
        DocumentInfo("x.jsonl#a`[x](https://evil.example)`", "Code", None, 1, ""),
        DocumentInfo("c.txt", "Two\n2. Forged entry", None, 1, ""),
    ]
    message, _, _ = render.sources_message(docs, 0)
    text = message.embeds[0].description
    lines = text.split("\n")
    assert len(lines) == 4 and lines[3].startswith("4. Two 2. Forged entry")
    assert "](https://evil.example" not in text.replace("\\]", "")  # no bracket closes onto the evil link
    assert "[Plain](https://a.example/x%29[Official]%28https://evil.example)" in text
    assert "\\`" in lines[2]  # the name is escaped text, not a code span it could close


def test_a_full_source_page_always_fits():
    """Ten documents with 400-character URLs: all ten are listed (the long links are left out)."""
    docs = [DocumentInfo(f"d{i}.txt", f"Doc {i}", "https://example.org/" + "p" * 400, 3, "") for i in range(25)]
    for page in range(3):
        message, _, _ = render.sources_message(docs, page)
        sizes(message)
        lines = message.embeds[0].description.split("\n")
        assert [line.split(".")[0] for line in lines] == [
            str(n) for n in range(page * 10 + 1, min(25, page * 10 + 10) + 1)
        ]


def test_skipped_files_in_a_reindex_report_are_escaped():
    """A skip reason quoting a source's text (a duplicate id) cannot carry a live link."""
    skip = Skipped("a.jsonl", "duplicate id [Official statement](https://evil.example)")
    report = BuildReport(documents=1, chunks=1, added=["a.jsonl"], skipped=[skip], seconds=1.0, switched=True)
    text = render.report_text(report)
    assert live_links(text) == [] and "Skipped 1: a.jsonl (duplicate id \\[Official statement\\]" in text


def test_bold_wraps_words_not_the_spaces_around_them():
    """`**Tuesday. **` would show its asterisks in Discord: spaces go outside the markers."""
    assert render.quote_passage("It rained. Then it stopped.", (0, 11), 100) == "> **It rained.** Then it stopped."
    assert render.quote_passage("Intro.\n  Line two \nEnd.", (6, 18), 100) == "> Intro.\n>   **Line two** \n> End."


def test_control_characters_are_dropped():
    """ESC, BEL, CR and C1 controls from a source never reach Discord; newlines and tabs stay."""
    quoted = render.quote_passage("a\x1b[31mb\x07c\r\x9bd\te\nf", None, 100)
    assert quoted == "> a\\[31mbcd\te\n> f"
