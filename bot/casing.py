"""Spell a question's lower-case words the way the sources spell them.

People type "what did gordon brown say about the saic deal?"; the refusal rules find names by
their capital letters, so a lower-case question would slip past all of them. A word the sources
nearly always capitalise mid-sentence ("Brown", "SAIC", "eBay") is a name there, and is given the
sources' spelling; a word they mostly write in lower case stays as typed. The evidence is read from
the chunks the keyword index lists for the word (a sample, so the cost does not grow with the
corpus), skipping sentence-initial uses (paragraph starts included), where every word is
capitalised.
"""

from __future__ import annotations

import re
from collections import Counter

from .highlight import STOPWORDS
from .store import IndexData

SAMPLE = 24  # chunks read per word
MIN_SEEN = 1  # mid-sentence uses needed before a word is judged (many names occur once)
NAME_SHARE = 0.9  # share of those uses that must be capitalised
MEMO_LIMIT = 50_000  # words remembered per index
_LOWER_WORD = re.compile(r"(?<![\w'’])[a-z][a-z0-9]*(?:['’-][a-z0-9]+)*(?![\w'’])")
_SENTENCE_END = frozenset(".!?\"“”:;\n")


def _source_spelling(data: IndexData, word: str) -> str:
    bm25 = data.bm25
    if bm25 is None:
        return word
    token = bm25.model.vocab_dict.get(bm25.stemmer.stemWord(word))
    if token is None:
        return word
    indptr = bm25.model.scores["indptr"]
    rows = bm25.model.scores["indices"][indptr[token] : indptr[token + 1]][:SAMPLE]
    pattern = re.compile(rf"(?<![\w'’]){re.escape(word)}(?![\w])", re.IGNORECASE)
    forms: Counter[str] = Counter()
    for row in rows:
        text = data.chunk_text(int(row))
        for m in pattern.finditer(text):
            i = m.start() - 1
            while i >= 0 and text[i] in " \t\r":
                i -= 1
            if i < 0 or text[i] in _SENTENCE_END:
                continue  # sentence-initial: capitalised whatever the word is
            forms[m.group()] += 1
    seen = sum(forms.values())
    if seen < MIN_SEEN:
        return word
    capitalised = sum(n for form, n in forms.items() if not form.islower())
    form = forms.most_common(1)[0][0]
    if len(word) <= 2 and not form.isupper():
        return word  # "vs", "st": abbreviations, capitalised in headings; "HP", "BA" are names
    return form if capitalised / seen >= NAME_SHARE and not form.islower() else word


def truecase(data: IndexData, question: str) -> str:
    """`question` with each all-lower-case word that the sources treat as a name spelled as they
    spell it; words the user capitalised, stopwords and words the sources lack stay as typed."""

    def spell(m: re.Match[str]) -> str:
        word, suffix = m.group(), ""
        if word[-2:] in ("'s", "’s"):  # "hewitt's plans": judge "hewitt"
            word, suffix = word[:-2], word[-2:]
        if word in STOPWORDS:
            return word + suffix
        form = data.word_forms.get(word)  # read once: another thread may clear the memo meanwhile
        if form is None:
            if len(data.word_forms) >= MEMO_LIMIT:  # a long-running bot hears many words
                data.word_forms.clear()
            form = data.word_forms[word] = _source_spelling(data, word)
        return form + suffix

    return _LOWER_WORD.sub(spell, question)
