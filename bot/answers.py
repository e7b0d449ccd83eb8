"""Turn ranked chunks into an answer: verbatim passages, merged where they overlap, with a bar.

No passage is rewritten: every passage is `document.text[start:end]`. When the best passage is
not similar enough to the question, the answer says so (`answered: False`) rather than present
the nearest unrelated text as an answer.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from .answer_types import MONEY, asked_kind, holds_kind
from .casing import truecase
from .config import DEFAULT_MODEL
from .highlight import STOPWORDS, best_sentence, terms
from .quotes import (
    Quote,
    asked_phrase,
    asked_speaker,
    asked_topic,
    asks_only_speaker,
    quotes_by,
    speaker_name,
    topic_phrase,
    words_of,
)
from .records import Answer, Highlight, Passage
from .retrieval import Hit
from .store import IndexData

# Cosine bar per model, chosen on labelled questions (see README, "Answer quality").
CALIBRATED_MIN_SCORE = {DEFAULT_MODEL: 0.48}
FALLBACK_MIN_SCORE = 0.25
# A passage holding every content word of the question (stemmed) answers from this cosine up:
# short questions ("Who was arrested in Canada?") score low against a long passage that answers them.
COVERED_MIN_SCORE = 0.30


def min_score_for(model: str, configured: float) -> float:
    return configured if configured > 0 else CALIBRATED_MIN_SCORE.get(model, FALLBACK_MIN_SCORE)


NOT_CLOSE = "nothing in the sources is close enough to the question"  # the bar's refusal

_NAME = re.compile(r"\b[A-Z]\w+")
_NAMEISH = re.compile(r"\b(?:[A-Z]\w+|[a-z]+[A-Z]\w*)")
# years; model numbers ("Xbox 360"), not scores ("Spurs 5-4")
NEAR_COPY_COSINE = 0.96  # BBC pairs of chunks from two documents at or above this: copies under other headlines
NEAR_COPY_SHARED = 0.5
SHINGLE = 5
HOLDERS_CHECKED = 300  # most documents read to confirm they hold a question's names (postings narrow first)
_PINNED = re.compile(r"\b(?:1[89]\d\d|20\d\d)\b|\b(?:[A-Z]\w*|[a-z]+[A-Z]\w*) \d+\b(?![-–/:.,]\d)")


def unknown_names(data: IndexData, question: str) -> list[str]:
    """Names in the question (capitalised words past the first) that no source ever mentions.

    "What did Tony Blair say about Brexit?" is about something a 2005 archive cannot hold, however
    close its cosine to a Blair passage: such a question is refused.
    """
    if data.bm25 is None:
        return []
    vocab = data.bm25.model.vocab_dict
    stem = data.bm25.stemmer.stemWord
    out = []
    for m in _NAME.finditer(question):
        word = m.group()
        if m.start() == 0 or word.lower() in STOPWORDS or word.isupper():
            continue
        if stem(word.lower()) not in vocab:
            out.append(word)
    return out


def _name_matches(question: str) -> list[re.Match[str]]:
    """The names a question uses: capitalised words past the first, and words like "eBay"; not
    acronyms, which sources often spell out ("SEC", "the Securities and Exchange Commission")."""
    return [
        m
        for m in _NAMEISH.finditer(question)
        if m.start() > 0 and m.group().lower() not in STOPWORDS and not m.group().isupper()
    ]


def question_names(data: IndexData, question: str) -> tuple[set[str], list[re.Pattern[str]]]:
    """What a question pins its subject with: the stems of its names and, as phrases, years and
    model numbers ("in 2006", "Xbox 360")."""
    if data.bm25 is None:
        return set(), []
    stem = data.bm25.stemmer.stemWord
    names = {stem(m.group().lower()) for m in _name_matches(question)}
    phrases = [
        re.compile(r"\b" + r"\W+".join(map(re.escape, m.group().split())) + r"\b", re.IGNORECASE)
        for m in _PINNED.finditer(question)
    ]
    return names, phrases


def pinned_words(question: str) -> list[str]:
    """The words `names_apart` holds a question to, as the question spells them (for the reply)."""
    kept = _name_matches(question)
    if len(kept) < 2:
        kept = []
    words: list[str] = []
    for i, m in enumerate(kept):  # "Eurovision Song Contest" is one name to a reader
        if i and question[kept[i - 1].end() : m.start()] == " ":
            words[-1] += " " + m.group()
        else:
            words.append(m.group())
    phrases = [m.group() for m in _PINNED.finditer(question)]
    return list(dict.fromkeys(w for w in words if not any(w in p for p in phrases))) + phrases


def _together(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def names_apart(data: IndexData, question: str, docs: list[int]) -> bool:
    """True when no one of these documents holds everything the question pins its subject with.

    "How much did eBay pay for Skype?" finds an eBay article and a Skype article, each close in
    cosine; neither answers, since no source puts the two together. "Who won Eurovision in 2006?"
    finds the 2005 contest. Names are matched as stemmed words of the whole document (a passage
    may say "he" or "the firm"), years and model numbers as phrases.
    """
    names, phrases = question_names(data, question)
    if len(names) < 2:
        names = set()  # one name holds nothing together (and may be a paraphrase: "Brits", "Britons")
    if not names and not phrases:
        return False
    stem = data.bm25.stemmer.stemWords
    for row in dict.fromkeys(docs):
        text = data.documents[row]["text"]
        if all(p.search(text) for p in phrases) and (not names or _holds_names(names, text, stem)):
            return False
    return True


def docs_holding(data: IndexData, question: str, limit: int = HOLDERS_CHECKED) -> set[int] | None:
    """Every document of the index holding what `names_apart` asks for, or None when the question
    pins nothing (or only names too short to look up). The keyword index's postings narrow the
    documents; each is then checked as `names_apart` checks one."""
    names, phrases = question_names(data, question)
    if len(names) < 2:
        names = set()
    if data.bm25 is None or (not names and not phrases):
        return None
    bm25 = data.bm25
    vocab, indptr, indices = bm25.model.vocab_dict, bm25.model.scores["indptr"], bm25.model.scores["indices"]
    keys = [n for n in names if len(n) > 3]  # a short one may open a longer word ("Lib Dem")
    keys += [t for m in _PINNED.finditer(question) for t in bm25.query_terms(m.group())]
    found: set[int] | None = None
    for key in keys:
        token = vocab.get(key)
        rows = indices[indptr[token] : indptr[token + 1]] if token is not None else indices[:0]
        docs = set(data.chunk_doc[rows].tolist())
        found = docs if found is None else found & docs
        if not found:
            return set()
    if found is None or len(found) > limit:  # too many to read: unknown, not "none"
        return None
    stem = bm25.stemmer.stemWords
    holders = set()
    for row in found:
        text = data.documents[row]["text"]
        if all(p.search(text) for p in phrases) and (not names or _holds_names(names, text, stem)):
            holders.add(row)
    return holders


def _holds_names(names: set[str], text: str, stem) -> bool:  # type: ignore[no-untyped-def]
    """Every name stem is a word of `text`; one of three letters or fewer may also open one, as an
    abbreviation does ("Lib Dem" in an article saying "Liberal Democrats")."""
    words = re.findall(r"\w+", text.lower())
    present = set(stem(words))
    missing = names - present
    return all(len(n) <= 3 and any(w.startswith(n) for w in words) for n in missing)


@dataclass
class _Span:
    doc: int
    start: int
    end: int
    score: float
    cosine: float
    quoted: bool = False
    also_in: list[str] = field(default_factory=list)


def _fold_key(text: str) -> str:
    return " ".join(text.split()).casefold()


def _shingles(text: str) -> set[tuple[str, ...]]:
    words = _fold_key(text).split()
    return {tuple(words[i : i + SHINGLE]) for i in range(max(1, len(words) - SHINGLE + 1))}


def _near_copy(data: IndexData, a: int, b: int) -> bool:
    """Chunks `a` and `b` say the same with small edits (another headline, a sentence added): most
    of the word 5-grams of the shorter one are in the other. Checked only for vectors this close."""
    x, y = _shingles(data.chunk_text(a)), _shingles(data.chunk_text(b))
    return len(x & y) >= NEAR_COPY_SHARED * min(len(x), len(y))


def _merge(data: IndexData, hits: list[Hit]) -> list[_Span]:
    """Overlapping chunks of one document become one passage, ranked where its best chunk was.

    A chunk whose text was already seen in another document (a syndicated copy) is folded into
    the first one's passage as "also in" instead of being shown twice; so is a near copy (the BBC
    corpus holds the same story under two headlines): vectors within NEAR_COPY_COSINE and most
    word 5-grams shared.
    """
    spans: list[_Span] = []
    by_doc: dict[int, list[_Span]] = {}
    seen: dict[int, _Span] = {}
    rows = [hit.chunk for hit in hits]
    docs, starts, ends = data.chunk_doc[rows].tolist(), data.chunk_start[rows].tolist(), data.chunk_end[rows].tolist()
    near: dict[int, list[int]] = {}  # hit -> earlier hits whose vectors are within NEAR_COPY_COSINE
    if len(rows) > 1:
        vectors = data.dense.vectors_of(np.asarray(rows, dtype=np.int64))
        for a, b in np.argwhere(np.triu(vectors @ vectors.T, 1) >= NEAR_COPY_COSINE).tolist():
            near.setdefault(b, []).append(a)
    landed: list[_Span] = []  # the passage each hit went into
    for n, (hit, doc, start, end) in enumerate(zip(hits, docs, starts, ends, strict=True)):
        key = data.fold_keys.get(hit.chunk)
        if key is None:  # folding every candidate's text was half of compose; a chunk's text never changes
            key = data.fold_keys[hit.chunk] = hash(_fold_key(data.chunk_text(hit.chunk)))
        first = seen.get(key)
        for m in near.get(n, ()):
            if first is None and docs[m] != doc and landed[m].doc != doc and _near_copy(data, rows[m], hit.chunk):
                first = landed[m]
        if first is not None and first.doc != doc:
            source = data.documents[doc]["source"]
            if source not in first.also_in:
                first.also_in.append(source)
            landed.append(first)
            continue
        for span in by_doc.get(doc, ()):
            if start < span.end and end > span.start:
                span.start, span.end = min(span.start, start), max(span.end, end)
                span.cosine = max(span.cosine, hit.cosine)
                span.quoted = span.quoted or hit.quoted
                break
        else:
            span = _Span(doc, start, end, hit.score, hit.cosine, hit.quoted)
            spans.append(span)
            by_doc.setdefault(doc, []).append(span)
        seen.setdefault(key, span)
        landed.append(span)
    return spans


def location(doc: dict, start: int) -> str:
    """Where a passage sits, as a reader would look for it: page of a PDF, else paragraph."""
    pages = doc.get("pages") or []
    if pages:
        return f"page {bisect_right(pages, start)}"
    complete_lines = doc["text"][:start].split("\n")[:-1]
    return f"paragraph {sum(1 for line in complete_lines if line.strip()) + 1}"


def _highlight(text: str, span: _Span, question: str, speaker: str | None, title: str | None) -> Highlight | None:
    """The asked person's quote in the passage that best fits the question (most question words,
    then a statement over a two-word fragment, then the first), else the best-answering sentence."""
    if span.quoted and speaker:
        wanted = terms(question) - terms(speaker)

        def fit(q: Quote) -> tuple[int, bool]:
            said = text[q.start : q.end]
            return len(wanted & terms(said)), len(said.split()) >= 4

        found = quotes_by(text, speaker, span.start, span.end)
        if found:
            q = max(found, key=fit)  # max keeps the first of equals
            return Highlight(max(q.start, span.start), min(q.end, span.end))
    return best_sentence(text[span.start : span.end], span.start, question, title)


def compose(
    data: IndexData,
    hits: list[Hit],
    question: str,
    top_k: int,
    min_score: float,
    offset: int = 0,
    use_threshold: bool = True,
) -> Answer:
    """Passages `offset..offset+top_k`; answered when one clears `min_score` (cosine), holds every
    content word of the question above `COVERED_MIN_SCORE`, or quotes the person a bare "what did
    X say?" names; refused whenever the question names something no source mentions, or names
    things (or a year, a model number) that no one of the passages' sources holds together.

    When answered, passages after the first that do not clear the bar themselves are left out:
    a weak tail would be presented as part of the answer. Quoted passages stay: they were
    asked for by name.
    """
    spans = _merge(data, hits)
    window = spans[offset : offset + top_k]
    wanted = terms(question)

    def covers(span: _Span) -> bool:
        text = data.documents[span.doc]["text"][span.start : span.end]
        return span.cosine >= COVERED_MIN_SCORE and bool(wanted) and wanted <= terms(text)

    best = max((s.cosine for s in window), default=0.0)
    quoted_answer = bool(window) and window[0].quoted and asks_only_speaker(question)
    answered = bool(window) and (
        not use_threshold or best >= min_score or quoted_answer or any(covers(s) for s in window)
    )
    refusal = None if answered else NOT_CLOSE
    if window and use_threshold:
        shown = window[:1] + [s for s in window[1:] if s.cosine >= min_score or s.quoted or covers(s)]
        # the rules run even when the bar refuses: "no source mentions Brexit" tells more
        # the rules find names by their capitals: "what did gordon brown say" is read as the sources spell it
        refusal = _rule_refusal(data, truecase(data, question), window, shown, not answered, question)
        answered = refusal is None
        if answered:
            window = shown
    speaker = asked_speaker(question) if any(s.quoted for s in window) else None
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
                highlight=_highlight(doc["text"], span, question, speaker, doc.get("title")),
                also_in=list(span.also_in),
            )
        )
    return Answer(question, answered, passages, offset, has_more=len(spans) > offset + top_k, refusal=refusal)


def _rule_refusal(
    data: IndexData,
    question: str,
    window: list[_Span],
    shown: list[_Span],
    bar_refused: bool,
    typed: str | None = None,
) -> str | None:
    """Why a question is refused, or None: it names something no source mentions, names things no
    one source of the `window` holds together, its passages do not clear the bar (`bar_refused`),
    it asks for a sum or a score no passage it would show (`shown`) holds, or it asks what a named
    person said and no shown passage gives their words, quoted or reported (a role such as "the
    Gartner analyst" is exempt: passages name it too many ways). The most telling reason comes first."""
    unknown = unknown_names(data, question)
    if unknown:
        return f"no source mentions {_together(unknown)}"
    if names_apart(data, question, [s.doc for s in window]):
        pinned = pinned_words(question)
        named = pinned[0] if len(pinned) == 1 else f"{_together(pinned)} together"
        if docs_holding(data, question) != set():  # some source holds them, or that is not known
            return f"the closest passages come from sources none of which mentions {named}"
        return f"no source mentions {named}" if len(pinned) == 1 else f"no one source mentions {named}"
    if bar_refused:
        return NOT_CLOSE
    kind = asked_kind(question)
    if kind and not any(holds_kind(data.documents[s.doc]["text"][s.start : s.end], kind) for s in shown):
        return f"no passage gives {'a sum of money' if kind == MONEY else 'a score'}"
    return _say_refusal(data, question, shown, typed)


def _say_refusal(data: IndexData, question: str, shown: list[_Span], typed: str | None = None) -> str | None:
    """ "What did <named person> say (about Y)?" needs a shown passage giving their words, and, when
    a topic is asked, the text around one of them (`words_of`) sharing a content word with it:
    Betty Boothroyd speaking about her career does not answer what she said about ID cards."""
    asked = asked_phrase(question)
    person = speaker_name(asked) if asked else None
    if person is None:
        return None
    said = [p for s in shown for p in words_of(data.documents[s.doc]["text"], person, s.start, s.end)]
    if not said:
        return f"no passage gives what {person} said"
    topic = asked_topic(question, asked)
    wanted = terms(topic) - terms(person) if topic else set()
    if wanted and not any(wanted & terms(p) for p in said):
        return f"no passage gives what {person} said {topic_phrase(question, asked, typed)}"
    return None
