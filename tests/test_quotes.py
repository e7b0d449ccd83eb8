"""Quote attribution on small hand-made articles with the shapes real news copy uses."""

from __future__ import annotations

import pytest

from bot.quotes import (
    asked_speaker,
    asks_only_speaker,
    find_quotes,
    asked_topic,
    is_named_person,
    quote_spans,
    quotes_by,
    same_person,
    speaker_name,
    view_subjects,
    words_of,
)


def speakers(text: str) -> list[tuple[str, str | None]]:
    return [(text[q.start : q.end], q.speaker) for q in find_quotes(text)]


def test_curly_quote_then_said_name():
    """`“...,” Pompeo said` attributes the quote to Pompeo, marks included in the span."""
    text = "Intro line.\n\n“We will not share information,” Pompeo said on Thursday."
    assert speakers(text) == [("“We will not share information,”", "Pompeo")]


def test_straight_quote_said_then_name():
    """`"...," said Mr Brown` with straight quotes takes the name after the verb."""
    text = 'Budget day.\n\n"Taxes will fall," said Mr Brown. Markets rose.'
    assert speakers(text) == [('"Taxes will fall,"', "Brown")]


def test_mixed_straight_open_curly_close():
    """Copy that opens with a straight mark and closes with a curly one is still one quote."""
    text = 'Pompeo also said countries will "make good decisions when they understand that risk.”\n'
    assert speakers(text) == [('"make good decisions when they understand that risk.”', "Pompeo")]


def test_nested_single_quotes_stay_inside():
    """Single quotes inside a double-quoted statement do not end or split it."""
    text = "\"He told me 'never again', and I believe him,\" said Ann Lee."
    assert speakers(text) == [("\"He told me 'never again', and I believe him,\"", "Ann Lee")]


def test_he_added_two_sentences_later():
    """A pronoun two sentences (and a paragraph) after the named quote resolves to that speaker."""
    text = (
        'Chancellor Gordon Brown said: "Taxes will fall." The plan was costed by officials. '
        "Critics were not convinced.\n\n"
        '"We will deliver on every promise," he added.'
    )
    assert [s for _, s in speakers(text)] == ["Gordon Brown", "Gordon Brown"]


def test_two_speakers_in_one_paragraph():
    """Each quote in a paragraph gets its own speaker, not the paragraph's first one."""
    text = '"We will win the vote," said Jane Smith. But her rival John Doe said: "They will lose badly."'
    assert [s for _, s in speakers(text)] == ["Jane Smith", "John Doe"]


def test_role_before_name_and_appositive():
    """`The Shadow Secretary ..., Theresa May, said:` and `David Frost, director of X, warned` pick the person."""
    text = (
        'The Shadow Secretary of State for the Family, Theresa May, said: "These plans were announced before."\n'
        'But David Frost, director general of the British Chambers of Commerce, warned that firms could be "crippled".'
    )
    assert [s for _, s in speakers(text)] == ["Theresa May", "David Frost"]


def test_appositive_speaker_after_the_quote():
    """`," Vincent Koen, a senior economist with the OECD, told the BBC` is Koen's, not the previous
    speaker's; `", while the Tories said it` stays another clause."""
    text = (
        'Jean-Philippe Cotis said: "Growth will pick up."\n'
        '"The oil shock is not enormous," Vincent Koen, a senior economist with the OECD, told the BBC.\n'
    )
    assert [s for _, s in speakers(text)] == ["Jean-Philippe Cotis", "Vincent Koen"]


def test_other_clause_after_quote_is_not_attribution():
    """`"desperate", while the Lib Dems said ...` does not make the Lib Dems the speaker of that word."""
    text = 'The Tories dismissed the plan as "desperate", while the Liberal Democrats said it was misdirected.'
    assert speakers(text)[0][1] != "Liberal Democrats"


def test_block_quote_after_saying_colon():
    """A quote on the line after `..., saying:` belongs to the subject of that line."""
    text = "The bill was introduced by Senator Tom Cotton who urged allies, saying:\n“Share nothing with them.”\n"
    assert speakers(text) == [("“Share nothing with them.”", "Tom Cotton")]


def test_unclosed_quote_ends_at_paragraph():
    """A quote left open (multi-paragraph quoting) ends with its paragraph, never swallows the next."""
    text = 'Ann Lee said: "First part of it.\n\nAnother paragraph without marks.'
    (span,) = quote_spans(text)
    assert text[span[0] : span[1]] == '"First part of it.'


@pytest.mark.parametrize(
    ("question", "speaker"),
    [
        ("What did Pompeo say?", "Pompeo"),
        ("what did Mike Pompeo say about Huawei?", "Mike Pompeo"),
        ("What has Tony Blair said about the election?", "Tony Blair"),
        ("Pompeo's comments on Huawei", "Pompeo"),
        ("quotes from Senator Cotton", "Cotton"),
        ("What is Huawei?", None),
        ("How do I bake banana bread?", None),
    ],
)
def test_asked_speaker(question, speaker):
    """The person a "what did X say" question names, and None for other questions."""
    assert asked_speaker(question) == speaker


def test_same_person_by_surname():
    """ "Mike Pompeo", "Pompeo" and "Mr Pompeo" match; another surname does not."""
    assert same_person("Mike Pompeo", "Pompeo")
    assert same_person("Pompeo", "Secretary Mike Pompeo")
    assert not same_person("Pompeo", "Tom Cotton")
    assert not same_person("Pompeo", None)


def test_quotes_by_limits_to_span():
    """Only quotes by the asked person overlapping the given range are returned."""
    text = '"One," said Ann Lee. "Two," said Bob Ray. "Three," Ann Lee added.'
    everything = quotes_by(text, "Lee")
    assert [text[q.start : q.end] for q in everything] == ['"One,"', '"Three,"']
    assert quotes_by(text, "Lee", start=20, end=40) == []


@pytest.mark.parametrize(
    ("question", "only"),
    [
        ("What did Pompeo say?", True),
        ("What has Tony Blair said?", True),
        ("What did Tony Blair say about Brexit?", False),
        ("What did McIlroy say about his chances in Madrid?", False),
        ("Who is Pompeo?", False),
    ],
)
def test_asks_only_speaker(question, only):
    """A bare "what did X say?" (no topic) is answered by X's quotes alone."""
    assert asks_only_speaker(question) is only


@pytest.mark.parametrize(
    "sentence, subjects",
    [
        ("Mr Brown said the plan would fail.", ["Mr Brown"]),
        ("The plan will fail, said Gordon Brown.", ["Gordon Brown"]),
        ("Brown has since argued that taxes must rise.", ["Brown"]),
        ("He thinks its power lies elsewhere.", ["he"]),
        ("Hans Reckers, a board member of the Bundesbank, said trading should stay.", ["Hans Reckers"]),
        ("The Reporters Without Borders group said the site was blocked.", ["Reporters Without Borders"]),
        ("According to Mr Smith, sales fell.", ["Mr Smith"]),
        # done to them, or about them: not their words
        ("Petrov was told he would start.", []),
        ("Martin O'Neill hopes to block Stilian Petrov's call-up.", []),  # an intention, not words
        ("Kezman, the scorer, was hit by a missile, believed to be a coin.", []),
        ("Mr Blair believes the plan will work.", ["Mr Blair"]),
        ('"His name is no longer enough," said Le Figaro of Depardieu.', ["Le Figaro"]),
    ],
)
def test_view_subjects(sentence, subjects):
    assert view_subjects(sentence) == subjects


def test_words_of_quotes_reported_speech_and_pronouns():
    text = (
        "Spark shortlisted\n\n"
        "Muriel Spark is on the shortlist, the judges said. Ian McEwan said he was delighted.\n\n"
        "Rinat Akhmetov bought the plant in 2004. He later sold shares. Officials said the sale was illegal.\n\n"
        "Dave Winer is doubtful. He thinks podcasting will stay a niche.\n\n"
        'Mr Serwotka, the union leader, said there should be a strike. "We will not back down," he added.\n'
    )
    assert not words_of(text, "Muriel Spark")  # named beside a speech verb, not its subject
    assert words_of(text, "Ian McEwan")
    assert not words_of(text, "Rinat Akhmetov")  # his acts, others' words
    assert words_of(text, "Dave Winer")  # "He thinks" right after the sentence naming him
    assert words_of(text, "Mark Serwotka")
    para = text.index("Dave Winer")
    assert not words_of(text, "Mark Serwotka", 0, para)  # only the span asked about counts


def test_is_named_person():
    assert is_named_person("Rinat Akhmetov") and is_named_person("Microsoft")
    assert not is_named_person("Sal Oppenheim analyst") and not is_named_person("BT's futurologist")


@pytest.mark.parametrize(
    "asked, name",
    [
        ("Rinat Akhmetov", "Rinat Akhmetov"),
        ("Mansfield chairman Keith Haslam", "Keith Haslam"),
        ("Chelsea boss Mourinho", "Mourinho"),
        ("BT's futurologist", None),
        ("Pan Yue from SEPA", None),  # the name after "from" is not the speaker
        ("Gartner analyst", None),
        ("the Downing Street spokesman", None),
        ("President Bush", "President Bush"),
    ],
)
def test_speaker_name(asked, name):
    assert speaker_name(asked) == name


def test_asked_topic():
    assert asked_topic("What did Betty Boothroyd say about ID cards?", "Betty Boothroyd") == "ID cards"
    assert asked_topic("what did kirwan say after italy lost to ireland", "kirwan") == "italy lost to ireland"
    assert asked_topic("What did Pompeo say?", "Pompeo") is None


def test_words_of_returns_the_paragraphs():
    text = "Intro.\nBoothroyd said her years as Speaker were the best.\nThe ID card bill was passed.\n"
    assert words_of(text, "Betty Boothroyd") == ["Boothroyd said her years as Speaker were the best."]


def test_words_of_keeps_context_not_the_whole_paragraph():
    """A BBC paragraph can run on through several speakers: only the text around the asked
    person's own words is kept (WORDS_CONTEXT characters each side)."""
    from bot.quotes import WORDS_CONTEXT

    filler = "The match went on. " * 40
    text = f'Benitez said: "We won in Spain." {filler}Irureta said: "Liverpool were better."\n'
    (words,) = words_of(text, "Irureta")
    assert "Liverpool were better" in words and "Spain" not in words
    assert len(words) <= len('Irureta said: "Liverpool were better."') + 2 * WORDS_CONTEXT


def test_an_organisation_speaks_through_its_people():
    """`," said Graham Cluley, senior technology consultant for Sophos.` is Sophos's word too; a
    quote whose tail only mentions a name in passing is not."""
    text = (
        '"It is like poking a grizzly bear," said Graham Cluley, senior technology consultant for Sophos.\n'
        '"We played well," said Rafael Benitez after the win over Chelsea.\n'
    )
    assert [text[q.start : q.end] for q in quotes_by(text, "Sophos")] == ['"It is like poking a grizzly bear,"']
    assert quotes_by(text, "Graham Cluley") and not quotes_by(text, "Chelsea")


def test_topic_phrase_keeps_the_questions_own_tie_and_spelling():
    """A refusal reason reads "said when she won", not "said about she won", and quotes the topic as
    typed when the rules read a truecased copy."""
    from bot.quotes import topic_phrase

    assert topic_phrase("what did Hilary Swank say when she won", "Hilary Swank") == "when she won"
    assert topic_phrase("what did Foxx say after he won?", "Foxx") == "after he won"
    assert topic_phrase("What did Blair say on Iraq?", "Blair") == "about Iraq"
    truecased, typed = "what did Ferguson say about the FA cup", "what did ferguson say about the fa cup"
    assert topic_phrase(truecased, "Ferguson", typed) == "about the fa cup"
    assert topic_phrase("What did Blair say?", "Blair") is None
