"""BM25 keyword search (bm25s), saved as JSON and numpy arrays without pickle.

Names, places and numbers ("Micron", "Meng Wanzhou") are where keyword search beats embeddings.
"""

from __future__ import annotations

import logging
import re
from pathlib import Path

import numpy as np

from .errors import IndexCorrupt

_TOKEN = re.compile(r"(?u)\b\w\w+\b")  # bm25s.tokenize's default token_pattern
_quiet = False


def _bm25s():  # type: ignore[no-untyped-def]
    global _quiet
    import bm25s

    if not _quiet:  # bm25s sets DEBUG on its logger at import; setLevel clears logging's caches
        logging.getLogger("bm25s").setLevel(logging.WARNING)
        _quiet = True
    return bm25s


def _stemmer():  # type: ignore[no-untyped-def]
    import Stemmer

    return Stemmer.Stemmer("english")


def _postings_fit(model, size: int) -> bool:  # type: ignore[no-untyped-def]
    """The CSC score matrix is well formed for `size` chunks: a scrambled array of the right size
    loads fine and then fails a search with an IndexError (~1 ms at BBC scale)."""
    scores, vocab = model.scores, model.vocab_dict
    data, indices, indptr = scores.get("data"), scores.get("indices"), scores.get("indptr")
    if not all(isinstance(a, np.ndarray) and a.ndim == 1 for a in (data, indices, indptr)):
        return False
    if (
        indices.dtype.kind not in "iu"
        or indptr.dtype.kind not in "iu"
        or not len(indptr)
        or not isinstance(vocab, dict)
    ):
        return False
    if scores.get("num_docs") != size or indptr[0] != 0 or indptr[-1] != len(indices) or len(data) != len(indices):
        return False
    if not bool((np.diff(indptr) >= 0).all()) or (len(indices) and (indices.min() < 0 or indices.max() >= size)):
        return False
    ids = list(vocab.values())
    return all(isinstance(i, int) for i in ids) and (not ids or (min(ids) >= 0 and max(ids) < len(indptr)))


class Bm25Index:
    def __init__(self, model, size: int) -> None:  # type: ignore[no-untyped-def]
        self.model = model
        self.size = size
        self.stemmer = _stemmer()
        from bm25s.stopwords import STOPWORDS_EN

        self.stopwords = frozenset(STOPWORDS_EN)

    @classmethod
    def build(cls, texts: list[str]) -> Bm25Index:
        bm25s = _bm25s()

        model = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", stemmer=_stemmer(), show_progress=False)
        model.index(tokens, show_progress=False)
        return cls(model, len(texts))

    @classmethod
    def load(cls, path: Path, size: int) -> Bm25Index:
        bm25s = _bm25s()

        try:
            model = bm25s.BM25.load(str(path), mmap=False, allow_pickle=False, show_progress=False)
        except Exception as exc:  # noqa: BLE001 -- bm25s raises json/numpy/OS errors on a damaged folder
            raise IndexCorrupt(f"keyword index {path} cannot be read: {type(exc).__name__}: {exc}"[:300]) from None
        if not _postings_fit(model, size):
            raise IndexCorrupt(f"keyword index {path} is damaged (term postings out of range)")
        return cls(model, size)

    def save(self, path: Path) -> None:
        self.model.save(str(path), allow_pickle=False, show_progress=False)

    def query_terms(self, query: str) -> list[str]:
        """The query as `build` tokenizes texts (bm25s.tokenize with English stopwords and the
        stemmer: lower-case, the same token pattern, stopwords dropped before stemming), done
        directly: bm25s.tokenize makes three tqdm bars per call, a third of a BBC keyword search."""
        words = [w for w in _TOKEN.findall(query.lower()) if w not in self.stopwords]
        return self.stemmer.stemWords(words) if words else []

    def search(self, query: str, k: int) -> tuple[np.ndarray, np.ndarray]:
        """Chunk ids and BM25 scores, best first; empty when no query term is in the vocabulary."""
        k = min(k, self.size)
        empty = (np.zeros(0, np.int64), np.zeros(0, np.float32))
        if k <= 0:
            return empty
        vocab = self.model.vocab_dict
        terms = [t for t in self.query_terms(query) if t in vocab]
        if not terms:
            return empty
        # get_scores + argpartition, not `retrieve`: that starts and joins a thread pool on every
        # call, which cost ~8 of the ~10 ms of a BBC-sized query on a busy two-core machine.
        scores = self.model.get_scores(terms)
        top = np.argpartition(-scores, k - 1)[:k] if k < len(scores) else np.arange(len(scores))
        top = top[np.lexsort((top, -scores[top]))]  # best first, ties by chunk id
        top = top[scores[top] > 0]
        return top.astype(np.int64), scores[top].astype(np.float32)
