"""Lower-case questions spelled as the sources spell them, on a real index of small articles."""

from __future__ import annotations

import pytest

from bot.casing import truecase
from bot.engine import Engine

BAKERY = (
    "Bakers cut prices\n\nSupermarkets have cut the price of brown bread and white loaves. Brown bread sales "
    "rose. Customers buy brown rolls too, brown sugar and brown rice, and Gordon Brown buys brown bread.\n"
)
ARTICLES = {
    "rover.txt": "Rover deal in doubt\n\nChancellor Gordon Brown met SAIC officials on Monday. Mr Brown said "
    "the talks had been useful. Online auction firm eBay was not involved.\n",
    "match.txt": "Preview: Arsenal Vs Chelsea\n\nOn Sunday Arsenal face Chelsea. Profits from the game go to "
    "charity. The match is sponsored by HP.\n",
}


@pytest.fixture
def engine(engine_over) -> Engine:
    return engine_over(ARTICLES)


def test_names_take_the_sources_spelling(engine):
    data = engine._data
    assert truecase(data, "what did gordon brown say about the saic talks?") == (
        "what did Gordon Brown say about the SAIC talks?"
    )
    assert truecase(data, "did ebay or hp pay for it") == "did eBay or HP pay for it"
    assert truecase(data, "what did mr brown's officials say") == "what did mr Brown's officials say"


def test_common_words_heading_words_and_unknown_words_stay(engine):
    data = engine._data
    assert truecase(data, "who sponsors the match") == "who sponsors the match"
    assert truecase(data, "profits from the game") == "profits from the game"  # capitalised only at a sentence start
    assert truecase(data, "arsenal vs chelsea") == "Arsenal vs Chelsea"  # "Vs" in a heading is no name
    assert truecase(data, "what about zanzibar") == "what about zanzibar"
    assert truecase(data, "What did Gordon Brown say?") == "What did Gordon Brown say?"


def test_a_word_the_sources_mostly_write_in_lower_case_stays(engine_over):
    engine = engine_over({"bakery.txt": BAKERY})
    assert truecase(engine._data, "how much is brown bread") == "how much is brown bread"
    # "brown" is mostly a colour here
    assert truecase(engine._data, "did gordon brown buy bread") == "did Gordon brown buy bread"


def test_lower_case_questions_meet_the_same_rules(engine):
    """Typed in lower case, a question naming someone who never speaks is refused as it would be
    capitalised, and the reason spells the name as the sources do."""
    capitalised = engine.ask("What did Gordon Brown say about the SAIC talks?")
    assert capitalised.answered
    lower = engine.ask("what did gordon brown say about the saic talks?")
    assert lower.answered
    refused = engine.ask("what did ebay say about the saic talks?")
    assert not refused.answered and refused.refusal == "no passage gives what eBay said"


def test_the_memo_stays_bounded(engine, monkeypatch):
    import bot.casing as casing

    monkeypatch.setattr(casing, "MEMO_LIMIT", 3)
    data = engine._data
    for _ in range(3):
        assert truecase(data, "did gordon brown meet saic officials with ebay") == (
            "did Gordon Brown meet SAIC officials with eBay"
        )
        assert len(data.word_forms) <= 3
