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


def test_ties_go_to_the_first_sentence_whatever_the_hash_seed():
    """Two sentences holding the same question words tie: the first wins in every process. (The
    score was once summed in set order, which follows the hash seed, and ties flipped by one ulp.)"""
    import subprocess
    import sys

    code = (
        "from bot.highlight import best_sentence\n"
        "text = 'Kazaa rivals closed after a legal campaign by Hollywood studios. Filler words here. "
        "Hollywood studios said the legal campaign closed rival file-sharing websites.'\n"
        "h = best_sentence(text, 0, 'Which file-sharing website closed because of the legal campaign by Hollywood studios?')\n"
        "print(h.start, h.end)\n"
    )
    spans = {
        subprocess.run(
            [sys.executable, "-c", code], env={"PYTHONHASHSEED": str(seed)}, capture_output=True, text=True, check=True
        ).stdout
        for seed in range(8)
    }
    assert len(spans) == 1


def test_headline_is_bolded_only_when_the_body_has_nothing():
    """A headline ties with the sentence that answers (it names the subject) and comes first: the
    body's sentence is bolded; the headline only when no body sentence shares a question word."""
    text = "Howard attacks Budget\n\nTory leader Michael Howard dismissed the Budget as vote now, pay later."
    got = best_sentence(text, 0, "What did Howard say about the Budget?", title="Howard attacks Budget")
    assert text[got.start : got.end].startswith("Tory leader Michael Howard")
    only = "Howard attacks Budget\n\nThe weather was fine."
    got = best_sentence(only, 0, "What did Howard say about the Budget?", title="Howard attacks Budget")
    assert only[got.start : got.end] == "Howard attacks Budget"
