"""Turn ranked chunks into an answer: verbatim passages, merged where they overlap, with a bar.

No passage is rewritten: every passage is `document.text[start:end]`. When the best passage is
not similar enough to the question, the answer says so (`answered: False`) rather than present
the nearest unrelated text as an answer.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass

from .config import DEFAULT_MODEL
from .records import Answer, Highlight, Passage
from .retrieval import Hit
from .store import IndexData

# Cosine bar per model, chosen on labelled questions (see README, "Answer quality").
CALIBRATED_MIN_SCORE = {DEFAULT_MODEL: 0.25}
FALLBACK_MIN_SCORE = 0.25

_WORD = re.compile(r"\w+", re.UNICODE)
_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")
STOPWORDS = frozenset(
    "a an and are as at be but by did do does for from had has have he her his how i in is it its "
    "me my not of on or our say said says she so than that the their them there they this to was "
    "we were what when where which who whom why will with would you your about after".split()
)


def min_score_for(model: str, configured: float) -> float:
    return configured if configured > 0 else CALIBRATED_MIN_SCORE.get(model, FALLBACK_MIN_SCORE)


@dataclass
class _Span:
    doc: int
    start: int
    end: int
    score: float
    cosine: float


def _merge(data: IndexData, hits: list[Hit]) -> list[_Span]:
    """Overlapping chunks of one document become one passage, ranked where its best chunk was."""
    spans: list[_Span] = []
    for hit in hits:
        doc = int(data.chunk_doc[hit.chunk])
        start, end = int(data.chunk_start[hit.chunk]), int(data.chunk_end[hit.chunk])
        for span in spans:
            if span.doc == doc and start < span.end and end > span.start:
                span.start, span.end = min(span.start, start), max(span.end, end)
                span.cosine = max(span.cosine, hit.cosine)
                break
        else:
            spans.append(_Span(doc, start, end, hit.score, hit.cosine))
    return spans


def location(doc: dict, start: int) -> str:
    """Where a passage sits, as a reader would look for it: page of a PDF, else paragraph."""
    pages = doc.get("pages") or []
    if pages:
        return f"page {bisect_right(pages, start)}"
    complete_lines = doc["text"][:start].split("\n")[:-1]
    return f"paragraph {sum(1 for line in complete_lines if line.strip()) + 1}"


def terms(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text) if w.lower() not in STOPWORDS and len(w) > 1}


def sentences(text: str, base: int = 0) -> list[tuple[int, int]]:
    """Sentence spans (offsets relative to `base`), good enough to pick a line to bold."""
    spans: list[tuple[int, int]] = []
    cursor = 0
    for m in _SENTENCE_END.finditer(text):
        if m.start() > cursor:
            spans.append((base + cursor, base + m.start()))
        cursor = m.end()
    if cursor < len(text):
        spans.append((base + cursor, base + len(text)))
    return [(s, e) for s, e in spans if text[s - base : e - base].strip()]


def best_sentence(text: str, base: int, question: str) -> Highlight | None:
    """The sentence sharing the most question terms; the first one wins ties."""
    wanted = terms(question)
    best: tuple[int, int] | None = None
    best_score = 0
    for s, e in sentences(text, base):
        score = len(wanted & terms(text[s - base : e - base]))
        if score > best_score:
            best, best_score = (s, e), score
    return Highlight(*best) if best else None


def compose(
    data: IndexData,
    hits: list[Hit],
    question: str,
    top_k: int,
    min_score: float,
    offset: int = 0,
    use_threshold: bool = True,
) -> Answer:
    spans = _merge(data, hits)
    window = spans[offset : offset + top_k]
    passages: list[Passage] = []
    for rank, span in enumerate(window, start=offset + 1):
        doc = data.documents[span.doc]
        text = doc["text"][span.start : span.end]
        passages.append(
            Passage(
                rank=rank,
                source=doc["source"],
                title=doc.get("title"),
                url=doc.get("url"),
                published=doc.get("published"),
                start=span.start,
                end=span.end,
                text=text,
                score=span.cosine,
                location=location(doc, span.start),
                author=doc.get("author"),
                publisher=doc.get("publisher"),
                highlight=best_sentence(text, span.start, question),
            )
        )
    best = max((s.cosine for s in spans[: max(top_k, 1)]), default=0.0)
    answered = bool(passages) and (not use_threshold or best >= min_score)
    return Answer(question, answered, passages, offset, has_more=len(spans) > offset + top_k)
