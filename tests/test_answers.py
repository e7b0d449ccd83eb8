"""Composing answers: duplicates folded, quotes highlighted, refusals, weak tails left out, JSON stable."""

from __future__ import annotations

import shutil

import pytest

from bot.engine import Engine

POMPEO = "000_24054db15d7a09bf.txt"


@pytest.fixture
def engine_with_copy(seed_sources, settings, embedder):
    """The seeds plus a syndicated copy of the Pompeo article under another name."""
    (seed_sources / "wire").mkdir()
    shutil.copy(seed_sources / POMPEO, seed_sources / "wire" / "copy.txt")
    return Engine.open_or_build(settings, embedder)[0]


def test_duplicate_is_shown_once_with_also_in(engine_with_copy):
    """The same text in two sources is one passage, the other listed in `also_in`."""
    answer = engine_with_copy.ask("Where was Huawei's CFO arrested?", top_k=5, use_threshold=False)
    texts = [p.text for p in answer.passages]
    assert len(texts) == len(set(texts))
    top = answer.passages[0]
    assert "Canada" in top.text
    assert {top.source, *top.also_in} == {POMPEO, "wire/copy.txt"}


def test_pompeo_quote_first_and_highlighted(seed_sources, settings, embedder):
    """The top passage is from his article, holds his quote, and the highlight is that quote."""
    engine = Engine.open_or_build(settings, embedder)[0]
    answer = engine.ask("What did Pompeo say?")
    top = answer.passages[0]
    assert answer.answered and top.source == POMPEO
    assert "If a country adopts this" in top.text or "We’re not going to put American information at risk" in top.text
    doc = (seed_sources / POMPEO).read_text(encoding="utf-8")
    assert doc[top.start : top.end] == top.text
    assert top.highlight is not None
    quote = doc[top.highlight.start : top.highlight.end]
    assert quote.startswith("“") and top.start <= top.highlight.start < top.highlight.end <= top.end


def test_bare_say_question_answered_by_quotes(seed_sources, settings, embedder):
    """ "What did Senator Cotton say?" is answered with his quote even though its cosine is low."""
    engine = Engine.open_or_build(settings, embedder)[0]
    answer = engine.ask("What did Senator Cotton say?")
    top = answer.passages[0]
    assert answer.answered and top.source == "004_292b256e50e7843a.txt"
    assert "The United States shouldn’t be sharing valuable intelligence" in top.text


def test_question_naming_something_never_mentioned_is_refused(seed_sources, settings, embedder):
    """A name no source mentions ("Brexit") means refusal, however close the Pompeo passages are."""
    from bot.answers import unknown_names

    engine = Engine.open_or_build(settings, embedder)[0]
    assert unknown_names(engine._data, "What did Pompeo say about Brexit?") == ["Brexit"]
    assert unknown_names(engine._data, "What did Pompeo say about Huawei's CFO?") == []
    assert not engine.ask("What did Pompeo say about Brexit?").answered
    assert engine.ask("What did Pompeo say about Huawei?").answered


def test_short_question_answered_by_a_passage_holding_all_its_words(seed_sources, settings, embedder):
    """ "Who was arrested in Canada?" scores under the bar but its passage has every word: answered."""
    from bot.answers import COVERED_MIN_SCORE, min_score_for

    engine = Engine.open_or_build(settings, embedder)[0]
    answer = engine.ask("Who was arrested in Canada?")
    top = answer.passages[0]
    assert answer.answered and "Meng Wanzhou" in top.text
    assert COVERED_MIN_SCORE <= top.score < min_score_for(settings.model, 0.0)


def test_unrelated_question_is_refused_with_near_misses(seed_sources, settings, embedder):
    """Nothing clears the bar: answered is False, the nearest passages are still listed."""
    engine = Engine.open_or_build(settings, embedder)[0]
    answer = engine.ask("How do I bake banana bread?")
    assert not answer.answered and answer.passages


def test_weak_tail_passages_left_out(seed_sources, settings, embedder):
    """When answered, passages after the first that do not clear the bar are not presented."""
    engine = Engine.open_or_build(settings, embedder)[0]
    from bot.answers import min_score_for

    bar = min_score_for(settings.model, 0.0)
    answer = engine.ask("Which company was granted a license to sell to Huawei?", top_k=8)
    assert answer.answered
    assert all(p.score >= bar for p in answer.passages[1:])
    unfiltered = engine.ask("Which company was granted a license to sell to Huawei?", top_k=8, use_threshold=False)
    assert len(unfiltered.passages) >= len(answer.passages)


def test_json_contract_fields(seed_sources, settings, embedder):
    """`to_dict` keeps every field of the documented contract with its type (extra fields allowed)."""
    engine = Engine.open_or_build(settings, embedder)[0]
    d = engine.ask("What did Pompeo say?").to_dict()
    assert set(d) >= {"question", "answered", "passages"}
    for i, p in enumerate(d["passages"], start=1):
        assert p["rank"] == i
        for key, kind in [("source", str), ("start", int), ("end", int), ("text", str), ("score", float)]:
            assert isinstance(p[key], kind)
        for key in ("title", "url", "published"):
            assert key in p
        assert p["highlight"] is None or set(p["highlight"]) == {"start", "end"}
    assert d["passages"][0]["highlight"] is not None


NEAR_MISS_CORPUS = {
    "ebay.txt": "eBay profits soar\n\nOnline auction house eBay made a profit of $778m in 2004, up 76%, "
    "on sales of $3.3bn. Chief executive Meg Whitman said listings had grown in every country.\n",
    "skype.txt": "Skype users pass 20 million\n\nInternet phone firm Skype says more than 20 million people "
    "have downloaded its free software, which lets them call each other over the net.\n",
    "xbox.txt": "Microsoft plans next Xbox\n\nMicrosoft says its next Xbox games console will go on sale in "
    "2005, and that the price will be announced closer to the launch.\n",
}


@pytest.fixture
def near_miss_engine(engine_over):
    return engine_over(NEAR_MISS_CORPUS)


def test_names_no_single_source_holds_together_mean_refusal(near_miss_engine):
    """eBay and Skype are each in a source, never in the same one: "How much did eBay pay for Skype?"
    is refused however close the two articles are; a question whose names share a source is not."""
    from bot.answers import names_apart

    data = near_miss_engine._data
    every_doc = list(range(len(data.documents)))
    assert names_apart(data, "How much did eBay pay to buy Skype?", every_doc)
    assert not names_apart(data, "How much profit did eBay make under Meg Whitman?", every_doc)
    assert not names_apart(data, "How many people use Skype?", every_doc)  # one name: nothing to hold together
    assert not near_miss_engine.ask("How much did eBay pay to buy Skype?").answered
    assert near_miss_engine.ask("How much did eBay pay to buy Skype?", use_threshold=False).passages
    assert near_miss_engine.ask("How much profit did eBay make in 2004?").answered


def test_years_and_model_numbers_must_be_in_the_source(near_miss_engine):
    """A year or a model number pins the subject: the 2005 Xbox article does not answer for 2006
    or for the "Xbox 360", though it is about the same console."""
    from bot.answers import names_apart, pinned_words

    data = near_miss_engine._data
    every_doc = list(range(len(data.documents)))
    assert names_apart(data, "When will the next Xbox go on sale in 2006?", every_doc)
    assert names_apart(data, "How much will the Xbox 360 cost?", every_doc)
    assert pinned_words("What did Mourinho say about Arsenal beating Spurs 5-4?") == ["Mourinho", "Arsenal", "Spurs"]
    assert not names_apart(data, "When will the next Xbox go on sale in 2005?", every_doc)
    assert not near_miss_engine.ask("How much will the Xbox 360 cost at launch?").answered
    assert near_miss_engine.ask("When will Microsoft's next Xbox console go on sale?").answered


def test_an_abbreviated_name_matches_its_long_form(engine_over):
    """ "Lib Dem" is how people write "Liberal Democrats": a source holding the long form holds it."""
    from bot.answers import names_apart

    engine = engine_over(
        {
            "ban.txt": "Guantanamo pair's passport ban\n\nTwo men freed from Guantanamo Bay have been refused "
            "passports. The Liberal Democrats said they would raise the issue in Parliament.\n",
        }
    )
    data = engine._data
    assert not names_apart(data, "What did the Lib Dems say about the Guantanamo passport ban?", [0])
    assert names_apart(data, "What did the Tories say about the Guantanamo passport ban?", [0])


SCORE_Q = "What was the final score in Britain's Davis Cup tie against Israel?"
SUM_Q = "How much did Michael Mann pay Charles Evans Jr to settle the lawsuit?"


def _write_tie_and_lawsuit(folder, tie: str, lawsuit: str) -> None:
    folder.mkdir(exist_ok=True)
    (folder / "tie.txt").write_text(
        f"Davis Cup: Britain and Israel\n\nBritain's Davis Cup team {tie} in Tel Aviv. Captain Jeremy Bates "
        "said his players were ready for the tie on clay.\n",
        encoding="utf-8",
    )
    (folder / "lawsuit.txt").write_text(
        f"Director settles Aviator lawsuit\n\nDirector Michael Mann {lawsuit} the lawsuit brought by Charles "
        "Evans Jr over The Aviator.\n",
        encoding="utf-8",
    )


def test_asked_sum_or_score_missing_from_every_passage_means_refusal(isolated, settings, embedder):
    """A preview of a match does not answer "what was the score?", nor a secret settlement "how much
    did he pay?"; the report with the score and the article with the sum do."""
    _write_tie_and_lawsuit(isolated / "sources", "face Israel this weekend", "has settled, on secret terms,")
    engine = Engine.open_or_build(settings, embedder)[0]
    assert not engine.ask(SCORE_Q).answered
    assert not engine.ask(SUM_Q).answered
    assert engine.ask("Who is Britain's Davis Cup captain for the Israel tie?").answered

    _write_tie_and_lawsuit(isolated / "sources", "beat Israel 3-2", "has paid $1.2m to settle")
    engine.reindex()
    assert engine.ask(SCORE_Q).answered
    assert engine.ask(SUM_Q).answered


def test_say_question_needs_the_person_s_words_in_a_passage(engine_over):
    """Akhmetov is in the article, but only others speak: "what did Akhmetov say?" is refused with
    its reason; the official's reported words and the analyst (a role) are answered."""
    engine = engine_over(
        {
            "steel.txt": "Ukraine court rules steel sale illegal\n\nA court in Kiev has ruled that the sale of the "
            "Krivorizhstal steel mill to Rinat Akhmetov was illegal. Officials at the state property fund "
            "said the mill would be sold again at auction. Viktor Pinchuk, who bought it with Mr Akhmetov, "
            "said the ruling was political. An analyst at Renaissance Capital said investors would be wary.\n\n"
            "Prime Minister Yulia Tymoshenko said her government would fight corruption in the energy industry.\n",
        }
    )
    refused = engine.ask("What did Rinat Akhmetov say about the court ruling on the Krivorizhstal sale?")
    assert not refused.answered
    assert refused.refusal == "no passage gives what Rinat Akhmetov said"
    assert engine.ask("What did Viktor Pinchuk say about the court ruling on the Krivorizhstal sale?").answered
    assert engine.ask("What did the Renaissance Capital analyst say about investors in Krivorizhstal?").answered
    # she speaks, but about something else
    other = engine.ask("What did Yulia Tymoshenko say about the court ruling on the Krivorizhstal sale?")
    assert other.refusal == (
        "no passage gives what Yulia Tymoshenko said about the court ruling on the Krivorizhstal sale"
    )
    assert engine.ask("What did Yulia Tymoshenko say about corruption?").answered


def test_refusals_say_why(near_miss_engine):
    """Each refusal carries its reason; an answer carries none."""
    from bot.answers import NOT_CLOSE

    ask = near_miss_engine.ask
    assert ask("How much did eBay pay to buy Skype?").refusal == "no one source mentions eBay and Skype together"
    assert ask("How much will the Xbox 360 cost at launch?").refusal == "no source mentions Xbox 360"
    assert ask("What did Meg Whitman say about Brexit?").refusal == "no source mentions Brexit"
    assert ask("How do I bake banana bread?").refusal == NOT_CLOSE
    answer = ask("How much profit did eBay make in 2004?")
    assert answer.answered and answer.refusal is None and answer.to_dict()["refusal"] is None


def test_names_reason_is_true_of_the_sources(engine_over):
    """The names rule judges the passages it would show; its reason says "no one source" only when
    no source anywhere holds the names together, else it speaks of the closest passages."""
    engine = engine_over(
        {
            "tax.txt": "Howard on tax\n\nMichael Howard said the Conservatives would cut taxes and spending "
            "by four billion pounds if they won the election.\n",
            "budget.txt": "Brown sets out plans\n\nGordon Brown delivered a Budget with help for first-time "
            "buyers and pensioners.\n",
            "garden.txt": "Village show\n\nThe marrow contest was won by Michael Howard, a retired teacher, "
            "who spent his prize money on a budget greenhouse.\n",
        }
    )
    near = engine.ask("What did Michael Howard say about the Budget tax cuts?", top_k=1)
    assert not near.answered and [p.source for p in near.passages] == ["tax.txt"]
    assert near.refusal == (
        "the closest passages come from sources none of which mentions Michael Howard and Budget together"
    )
    nowhere = engine.ask("What did Gordon Brown say about Michael Howard?", top_k=1)
    assert nowhere.refusal == "no one source mentions Gordon Brown and Michael Howard together"


def test_the_bolded_quote_is_the_one_about_the_question(engine_over):
    """Of the asked person's quotes in a passage, the one sharing the question's words is bolded,
    not a two-word fragment that happens to come first."""
    engine = engine_over(
        {
            "blair.txt": 'Blair defends Iraq policy\n\n"A fair summary," Tony Blair said of the report on Monday. '
            'Later Mr Blair said: "British troops will stay in Iraq until the elected government asks them to '
            'leave." He spoke in London.\n',
        }
    )
    answer = engine.ask("What did Tony Blair say about troops in Iraq?")
    top = answer.passages[0]
    bold = top.text[top.highlight.start - top.start : top.highlight.end - top.start]
    assert bold.startswith('"British troops will stay in Iraq')


def test_a_story_under_two_headlines_is_shown_once(engine_over):
    """The same story filed twice with another headline and a word changed (the BBC corpus has such
    pairs) is one passage whose "also in" names the copy; a different story on the topic is not folded."""
    body = (
        "Second seed Andre Agassi suffered a comprehensive defeat by Jurgen Melzer in the quarter-finals of "
        "the SAP Open. Agassi was often bamboozled by the Austrian's left-handed play as Melzer won 6-3 6-1 "
        "in only 54 minutes. The American was playing only his second tournament of the year."
    )
    engine = engine_over(
        {
            "melzer.txt": "Melzer shocks Agassi\n\n" + body + "\n",
            "melzer-sj.txt": "Melzer shocks Agassi in San Jose\n\n" + body.replace("only 54", "just 54") + "\n",
            "other.txt": "Agassi looks ahead\n\nAndre Agassi said he would play the SAP Open again next year after "
            "a fine week in California, and praised the crowd.\n",
        }
    )
    answer = engine.ask("Who beat Agassi in the SAP Open quarter-finals?")
    sources = [p.source for p in answer.passages]
    assert sources.count("melzer.txt") + sources.count("melzer-sj.txt") == 1
    folded = next(p for p in answer.passages if p.source.startswith("melzer"))
    assert folded.also_in == ["melzer-sj.txt" if folded.source == "melzer.txt" else "melzer.txt"]
    assert all(p.also_in == [] for p in answer.passages if p.source == "other.txt")
