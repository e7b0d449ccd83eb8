"""The one API the adapters use: open an index, ask questions, list and refresh sources.

Thread-safe for many readers and one writer: `ask` takes a reference to the live index once, so a
concurrent `reindex` swaps in the new index between questions, never in the middle of one.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from dataclasses import dataclass

import numpy as np

from . import store
from .answers import compose, min_score_for
from .config import Settings
from .embedding import Embedder, load_embedder
from .errors import BuildLocked, IndexCorrupt, IndexMismatch, QuestionError
from .indexing import _rebuild_reason, build_index, stale_reason
from .records import Answer, BuildReport, DocumentInfo
from .retrieval import dense_search, rank_documents, retrieve

log = logging.getLogger(__name__)


def check_question(question: str, max_chars: int) -> str:
    """The question with white space folded; empty, over-long or undecodable questions are user
    errors. Bytes that are not UTF-8 reach here as lone surrogates (argv and stdin decode with
    surrogateescape), which the tokenizer cannot take."""
    try:
        question.encode("utf-8")
    except UnicodeEncodeError:
        raise QuestionError("the question is not valid UTF-8 text") from None
    q = " ".join(question.split())
    if not q:
        raise QuestionError("the question is empty")
    if len(q) > max_chars:
        raise QuestionError(f"the question is {len(q)} characters long; the limit is {max_chars}")
    return q


@dataclass
class Timings:
    """Where the time of the last question went, in milliseconds."""

    embed: float = 0.0
    search: float = 0.0  # all of retrieval: dense + BM25 + fusion + quote search
    compose: float = 0.0
    dense: float = 0.0  # the dense (FAISS) part of `search`, the part a dense-only pipeline has too


class Engine:
    def __init__(self, settings: Settings, data: store.IndexData | None, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self._data = data  # type: ignore[assignment]
        self._embedder = embedder
        self._embedder_lock = threading.Lock()
        self._reindex_lock = threading.Lock()
        self.last_timings = Timings()

    # -- opening -------------------------------------------------------------------------------
    @classmethod
    def open(cls, settings: Settings, embedder: Embedder | None = None) -> Engine:
        """Load the live index; refuses one built with another model or chunking."""
        data = store.read_index(settings.index)
        reason = _rebuild_reason(data.manifest, settings)
        if reason:
            raise IndexMismatch(
                f"the index in {settings.index} does not match the settings: {reason}; "
                "run `citebot index` to rebuild it"
            )
        return cls(settings, data, embedder)

    @classmethod
    def open_or_build(
        cls,
        settings: Settings,
        embedder: Embedder | None = None,
        progress: bool = False,
        rebuild_mismatch: bool = False,
    ) -> tuple[Engine, BuildReport | None]:
        """Open the index, building or updating it first when it is missing or the sources changed.

        A model, backend or chunking change is a full re-embed: `ask` refuses it (asked for with
        `citebot index`); `serve` passes `rebuild_mismatch`, since it cannot answer from an index
        its model does not match and a self-hoster expects an upgraded container to come up.
        """
        reason = stale_reason(settings)
        if reason is None:
            try:
                return cls.open(settings, embedder), None
            except IndexCorrupt as exc:
                if not rebuild_mismatch:
                    raise  # `ask` says how to fix it; a full re-embed is for the user to start
                # `serve` has no one to ask: a bot that stays down helps no one, so it rebuilds
                log.warning("the index is damaged (%s); rebuilding it", exc.problem)
                reason = f"the index is damaged ({exc.problem})"
        if (
            not rebuild_mismatch
            and reason not in ("no index yet", "sources changed")
            and not reason.startswith("the index is unreadable")
        ):
            cls.open(settings, embedder)  # raises IndexMismatch with the reason
        engine = cls(settings, None, embedder)
        try:
            report, data = build_index(settings, lambda: engine.embedder, progress=progress)
        except BuildLocked:
            if reason != "sources changed":
                raise
            # another process (`citebot index`, the bot) is already updating: the live index still answers
            log.warning("another build is updating the index; answering from the current one")
            return cls.open(settings, embedder), None
        engine._data = data
        return engine, report

    # -- asking --------------------------------------------------------------------------------
    @property
    def embedder(self) -> Embedder:
        if self._embedder is None:
            with self._embedder_lock:
                if self._embedder is None:
                    self._embedder = load_embedder(self.settings.model, self.settings.backend, self.settings.cache)
        return self._embedder

    def check_question(self, question: str) -> str:
        return check_question(question, self.settings.max_question_chars)

    def embed_questions(self, questions: list[str]) -> np.ndarray:
        """Several questions in one call (the bot gathers concurrent ones); each vector is the one the
        question gets alone. fp32 is batch-invariant, so torch and onnx batch them; int8 is not
        (see OnnxEmbedder.encode), so there each question runs alone (a few ms each)."""
        batch = 1 if self.embedder.backend == "onnx-int8" else max(1, len(questions))
        return self.embedder.encode(questions, batch_size=batch)

    def ask(
        self,
        question: str,
        top_k: int | None = None,
        offset: int = 0,
        use_threshold: bool = True,
        query_vector: np.ndarray | None = None,
    ) -> Answer:
        q = self.check_question(question)
        data = self._data
        k = top_k or self.settings.top_k
        t0 = time.perf_counter()
        vec = query_vector if query_vector is not None else self.embed_questions([q])[0]
        t1 = time.perf_counter()
        depth = max(100, 4 * (offset + k))
        dense = dense_search(data, vec, depth) if len(data) else None
        t_dense = time.perf_counter()
        hits = retrieve(data, vec, q, depth=depth, hybrid=self.settings.hybrid, dense=dense)
        t2 = time.perf_counter()
        min_score = min_score_for(data.manifest["model"], self.settings.min_score)
        answer = compose(data, hits, question.strip(), k, min_score, offset, use_threshold)
        t3 = time.perf_counter()
        self.last_timings = Timings((t1 - t0) * 1e3, (t2 - t1) * 1e3, (t3 - t2) * 1e3, (t_dense - t1) * 1e3)
        return answer

    def rank_documents(self, question: str, depth: int = 100, query_vector: np.ndarray | None = None) -> list[str]:
        """Sources best first by their best passage: what document benchmarks (BEIR) score."""
        data = self._data
        vec = query_vector if query_vector is not None else self.embed_questions([question])[0]
        hits = retrieve(data, vec, question, depth=depth, hybrid=self.settings.hybrid)
        return [data.documents[row]["source"] for row in rank_documents(hits, data.chunk_doc)]

    # -- sources -------------------------------------------------------------------------------
    def documents(self) -> list[DocumentInfo]:
        data = self._data
        counts = Counter(int(d) for d in data.chunk_doc)
        return [
            DocumentInfo(d["source"], d.get("title"), d.get("url"), counts.get(i, 0), d.get("indexed_at", ""))
            for i, d in enumerate(data.documents)
        ]

    def context(self, source: str, start: int, end: int, margin: int = 600) -> tuple[str, int, int]:
        """A passage with the text around it, widened to line boundaries, for "Show source"."""
        data = self._data
        row = data.doc_rows.get(source)
        if row is None:
            raise KeyError(source)
        text: str = data.documents[row]["text"]
        lo = max(0, start - margin)
        hi = min(len(text), end + margin)
        lo = text.rfind("\n", 0, lo) + 1 if lo > 0 else 0
        nl = text.find("\n", hi)
        hi = len(text) if nl < 0 else nl
        return text[lo:hi], lo, hi

    @property
    def chunk_count(self) -> int:
        return len(self._data)

    @property
    def document_count(self) -> int:
        return len(self._data.documents)

    def reindex(self, rebuild: bool = False, progress: bool = False) -> BuildReport:
        """Incremental rebuild; the new index is switched in only once it is complete on disk."""
        with self._reindex_lock:
            report, data = build_index(self.settings, lambda: self.embedder, rebuild=rebuild, progress=progress)
            self._data = data
            return report
