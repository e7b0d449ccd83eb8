"""Best-sentence highlight: sentencex sentences, stemmed overlap, offsets into the document."""

from __future__ import annotations

from bot.highlight import best_sentence, sentences


def test_sentence_offsets_are_exact():
    """Every sentence span (plus a base) points at non-blank text of the passage, in order."""
    text = "Headline here\n\nMr. Smith went to Washington. He met the U.S. envoy on Monday! Was it useful?"
    spans = sentences(text, base=100)
    assert [text[s - 100 : e - 100] for s, e in spans] == [
        "Headline here",
        "Mr. Smith went to Washington.",
        "He met the U.S. envoy on Monday!",
        "Was it useful?",
    ]


def test_best_sentence_in_document_offsets():
    """The highlight is in document offsets and covers the sentence that answers, stemmed."""
    doc = "Title\n\nThe weather was mild. Australia and Japan have banned the equipment. Others wait."
    base = 7
    passage = doc[base:]
    h = best_sentence(passage, base, "Which countries ban the equipment?")
    assert h is not None
    assert doc[h.start : h.end] == "Australia and Japan have banned the equipment."


def test_rare_word_beats_common_word():
    """A word found in one sentence only outweighs one repeated in every sentence."""
    text = "Huawei sells phones. Huawei builds networks. Huawei was sued in Texas."
    h = best_sentence(text, 0, "Where was Huawei sued?")
    assert h is not None and text[h.start : h.end] == "Huawei was sued in Texas."


def test_no_shared_word_no_highlight():
    """No question word in the passage: nothing is bolded rather than an arbitrary sentence."""
    assert best_sentence("Cats sleep a lot. Dogs bark.", 0, "What did the minister announce?") is None
