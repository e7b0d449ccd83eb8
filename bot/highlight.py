"""The sentence of a passage that best answers the question, in document offsets, to be bolded.

Sentences come from sentencex (Wikimedia's rule-based segmenter, compiled: handles "Mr." and
"U.S." without breaking, ~0.02 ms a passage where pysbd took 3-8 ms, most of a warm query), run
on the passage only. A sentence scores by the question's content words it
shares, stemmed ("ban" matches "banned"); a word that is rare across the passage's sentences
counts more than one repeated everywhere, and ties go to the earlier sentence.
"""

from __future__ import annotations

import math
import re
from functools import lru_cache

from .records import Highlight

_WORD = re.compile(r"\w+", re.UNICODE)
STOPWORDS = frozenset(
    "a an and are as at be but by can could did do does for from had has have he her his how i in is it its "
    "me my not of on or our say said says she so than that the their them there they this to was "
    "we were what when where which who whom why will with would you your about after tell told".split()
)


def _segments(text: str) -> list[tuple[int, int]]:
    """sentencex's sentences as spans: they are verbatim pieces of the text, found here in order. A
    piece not found (should the library ever normalise text) ends the split: the rest is one span."""
    import sentencex

    spans = []
    cursor = 0
    for seg in sentencex.segment("en", text):
        at = text.find(seg, cursor)
        if at < 0:
            break
        spans.append((at, at + len(seg)))
        cursor = at + len(seg)
    if cursor < len(text):
        spans.append((cursor, len(text)))
    return spans


@lru_cache(maxsize=1)
def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def terms(text: str) -> set[str]:
    """Stemmed content words of `text`."""
    words = [w.lower() for w in _WORD.findall(text)]
    return set(_stemmer().stemWords([w for w in words if w not in STOPWORDS and len(w) > 1]))


def sentences(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Sentence spans of `text` as offsets plus `base`, whitespace trimmed, blank ones dropped."""
    spans: list[tuple[int, int]] = []
    for start, end in _segments(text):
        # a headline and its body arrive as one piece when only blank lines separate them
        for part in re.finditer(r"[^\n]+", text[start:end]):
            s, e = start + part.start(), start + part.end()
            while s < e and text[s].isspace():
                s += 1
            while e > s and text[e - 1].isspace():
                e -= 1
            if s < e:
                spans.append((base + s, base + e))
    return spans


def best_sentence(text: str, base: int, question: str, title: str | None = None) -> Highlight | None:
    """The passage sentence sharing the most (rarity-weighted) question words; None if none shares any.
    The document's headline (`title`) is bolded only when no sentence of the body shares a word: a
    headline names the story's subject, so it ties with the sentence that answers and, coming
    first, would win the tie while saying less."""
    wanted = terms(question)
    if not wanted:
        return None
    spans = sentences(text, base)
    bags = [terms(text[s - base : e - base]) for s, e in spans]
    df = {t: sum(1 for b in bags if t in b) for t in wanted}
    best: tuple[int, int] | None = None
    best_score = 0.0
    headline: tuple[int, int] | None = None
    for span, bag in zip(spans, bags, strict=True):
        # summed in sorted order: set order changes with each process' hash seed, and with it the
        # last bit of a float sum, which flipped ties between equally good sentences across runs
        score = sum(1.0 + math.log(len(bags) / df[t]) for t in sorted(wanted & bag))
        if score > 0 and headline is None and title and text[span[0] - base : span[1] - base] == title.strip():
            headline = span
            continue
        if score > best_score:
            best, best_score = span, score
    best = best or headline
    return Highlight(*best) if best else None
