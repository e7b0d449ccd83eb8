"""Measure answer quality: BEIR retrieval metrics and QA checks with refusal rates.

Two kinds of data, as the issue asks: a BEIR folder (`corpus.jsonl`, `queries.jsonl`,
`qrels/<split>.tsv`), scored as document rankings (nDCG@10, Recall@10/100, MRR@10, hit@1/3),
and QA files (`{"q", "expect_any", "source"}` per line, plus unanswerable questions), scored on
what a reader sees: is an expected substring in the top passage(s), and is the refusal right.
The metrics follow the BEIR / pytrec_eval definitions (linear gain, log2 discount).
"""

from __future__ import annotations

import json
import math
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .errors import CitebotError


class EvalDataError(CitebotError):
    """An evaluation file is missing or malformed."""


# -- metrics -----------------------------------------------------------------------------------
def ndcg_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    """nDCG@k with linear gains (pytrec_eval's `ndcg_cut`), 0 when nothing is relevant."""
    dcg = sum(relevant.get(doc, 0) / math.log2(i + 2) for i, doc in enumerate(ranked[:k]))
    ideal = sorted((g for g in relevant.values() if g > 0), reverse=True)[:k]
    idcg = sum(g / math.log2(i + 2) for i, g in enumerate(ideal))
    return dcg / idcg if idcg > 0 else 0.0


def recall_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    wanted = {d for d, g in relevant.items() if g > 0}
    return len(wanted.intersection(ranked[:k])) / len(wanted) if wanted else 0.0


def mrr_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int = 10) -> float:
    for i, doc in enumerate(ranked[:k]):
        if relevant.get(doc, 0) > 0:
            return 1.0 / (i + 1)
    return 0.0


def hit_at_k(ranked: Sequence[str], relevant: dict[str, int], k: int) -> float:
    return 1.0 if any(relevant.get(d, 0) > 0 for d in ranked[:k]) else 0.0


def mean(values: Iterable[float]) -> float:
    vals = list(values)
    return sum(vals) / len(vals) if vals else 0.0


# -- readers -----------------------------------------------------------------------------------
@dataclass
class BeirSet:
    """One split of a BEIR data set: the queries that have judgements, and the judgements."""

    folder: Path
    split: str
    queries: dict[str, str]
    qrels: dict[str, dict[str, int]]

    @property
    def corpus(self) -> Path:
        return self.folder / "corpus.jsonl"


def is_beir(folder: Path) -> bool:
    return folder.is_dir() and (folder / "corpus.jsonl").is_file() and (folder / "queries.jsonl").is_file()


def _jsonl(path: Path) -> Iterable[tuple[int, dict[str, Any]]]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        raise EvalDataError(f"cannot read {path}: {exc}") from None
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            obj = json.loads(line)
        except json.JSONDecodeError as exc:
            raise EvalDataError(f"{path}:{n}: not JSON ({exc.msg})") from None
        if not isinstance(obj, dict):
            raise EvalDataError(f"{path}:{n}: expected a JSON object")
        yield n, obj


def read_beir(folder: Path, split: str = "test") -> BeirSet:
    """Read queries and `qrels/<split>.tsv`; queries without judgements in the split are dropped."""
    if not is_beir(folder):
        raise EvalDataError(f"{folder} is not a BEIR folder (needs corpus.jsonl and queries.jsonl)")
    qrels_path = folder / "qrels" / f"{split}.tsv"
    if not qrels_path.is_file():
        raise EvalDataError(f"no judgements for split {split!r}: {qrels_path} is missing")
    qrels: dict[str, dict[str, int]] = {}
    for n, line in enumerate(qrels_path.read_text(encoding="utf-8").splitlines(), start=1):
        parts = line.strip().split("\t")
        if not line.strip() or (n == 1 and parts[0] == "query-id"):
            continue
        if len(parts) != 3:
            raise EvalDataError(f"{qrels_path}:{n}: expected query-id, corpus-id, score")
        try:
            qrels.setdefault(parts[0], {})[parts[1]] = int(parts[2])
        except ValueError:
            raise EvalDataError(f"{qrels_path}:{n}: score {parts[2]!r} is not an integer") from None
    queries: dict[str, str] = {}
    for n, obj in _jsonl(folder / "queries.jsonl"):
        qid, text = obj.get("_id"), obj.get("text")
        if qid is None or not isinstance(text, str):
            raise EvalDataError(f"{folder / 'queries.jsonl'}:{n}: needs `_id` and `text`")
        if str(qid) in qrels:
            queries[str(qid)] = text
    if not queries:
        raise EvalDataError(f"no query in {folder / 'queries.jsonl'} has judgements in {qrels_path}")
    return BeirSet(folder, split, queries, {q: qrels[q] for q in queries})


@dataclass
class QaItem:
    """A question with what its answer must contain; `answerable=False` means it must be refused."""

    q: str
    expect_any: list[str] = field(default_factory=list)
    source: str | None = None
    answerable: bool = True


def read_qa(path: Path, answerable: bool = True) -> list[QaItem]:
    """Lines `{"q": ..., "expect_any": [...], "source": ...}`; in an unanswerable file only `q`.

    Types are checked line by line: a wrong one would otherwise crash mid-run (`"source": 5`) or
    silently skew the scores (`"answerable": "false"` counted as answerable, `""` expected in
    every passage).
    """
    if not path.is_file():
        raise EvalDataError(f"QA file {path} does not exist")
    items: list[QaItem] = []
    for n, obj in _jsonl(path):
        q = obj.get("q")
        expect = obj.get("expect_any", [])
        source = obj.get("source")
        is_answerable = obj.get("answerable", answerable)
        if not isinstance(q, str) or not q.strip():
            raise EvalDataError(f"{path}:{n}: needs a non-empty `q`")
        if not isinstance(expect, list) or not all(isinstance(x, str) and x.split() for x in expect):
            raise EvalDataError(f"{path}:{n}: `expect_any` must be a list of non-empty strings")
        if source is not None and (not isinstance(source, str) or not source.strip()):
            raise EvalDataError(f"{path}:{n}: `source` must be a non-empty string (a path in the sources folder)")
        if not isinstance(is_answerable, bool):
            raise EvalDataError(f"{path}:{n}: `answerable` must be true or false, not {json.dumps(is_answerable)}")
        if is_answerable and not expect:
            raise EvalDataError(f"{path}:{n}: an answerable question needs `expect_any`")
        items.append(QaItem(q, expect, source, is_answerable))
    if not items:
        raise EvalDataError(f"{path} holds no questions")
    return items


# -- running -----------------------------------------------------------------------------------
def doc_id(source: str) -> str:
    """The corpus id of an indexed document: `corpus.jsonl#123` -> `123`."""
    return source.rsplit("#", 1)[-1]


@dataclass
class EvalReport:
    """Named metric values plus counts, printed as a table or JSON."""

    kind: str
    queries: int
    metrics: dict[str, float]
    ms_per_query: float
    misses: list[dict[str, Any]] = field(default_factory=list)
    # best passage cosine per question, split by answerability: what a refusal bar is chosen on
    answerable_scores: list[float] = field(default_factory=list)
    unanswerable_scores: list[float] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "kind": self.kind,
            "queries": self.queries,
            "metrics": {k: round(v, 4) for k, v in self.metrics.items()},
            "ms_per_query": round(self.ms_per_query, 2),
            "misses": self.misses,
        }


def beir_metrics(rankings: dict[str, list[str]], qrels: dict[str, dict[str, int]]) -> dict[str, float]:
    """Mean metrics over the judged queries (a query with no ranking counts as all zeros)."""
    rows = [(rankings.get(q, []), rel) for q, rel in qrels.items()]
    return {
        "ndcg@10": mean(ndcg_at_k(r, rel, 10) for r, rel in rows),
        "recall@10": mean(recall_at_k(r, rel, 10) for r, rel in rows),
        "recall@100": mean(recall_at_k(r, rel, 100) for r, rel in rows),
        "mrr@10": mean(mrr_at_k(r, rel, 10) for r, rel in rows),
        "hit@1": mean(hit_at_k(r, rel, 1) for r, rel in rows),
        "hit@3": mean(hit_at_k(r, rel, 3) for r, rel in rows),
    }


def passage_matches(item: QaItem, source: str | tuple[str, ...], text: str) -> bool:
    """Expected text (case- and spacing-insensitive) in a passage from the expected source. A
    passage shown once for several identical sources (its `also_in`) is from each of them."""
    sources = (source,) if isinstance(source, str) else source
    wanted = item.source.lstrip("/") if item.source else None
    if wanted and not any(s == wanted or s.endswith("/" + wanted) for s in sources):
        return False
    flat = " ".join(text.split()).casefold()
    return any(" ".join(e.split()).casefold() in flat for e in item.expect_any)


Shown = tuple[str | tuple[str, ...], str]  # (source, or the sources it is shown for; text) of a passage


def qa_metrics(results: list[tuple[QaItem, bool, list[Shown]]]) -> dict[str, float]:
    """`results`: (item, answered, [(source(s), text) of passages in rank order]) per question."""
    answerable = [(it, a, ps) for it, a, ps in results if it.answerable]
    unanswerable = [(it, a, ps) for it, a, ps in results if not it.answerable]

    def first_hit(item: QaItem, passages: list[Shown]) -> int | None:
        for i, (src, text) in enumerate(passages):
            if passage_matches(item, src, text):
                return i + 1
        return None

    ranks = [first_hit(it, ps) for it, _, ps in answerable]
    out: dict[str, float] = {}
    if answerable:
        out["hit@1"] = mean(1.0 if r == 1 else 0.0 for r in ranks)
        out["hit@3"] = mean(1.0 if r is not None and r <= 3 else 0.0 for r in ranks)
        out["mrr"] = mean(1.0 / r if r else 0.0 for r in ranks)
        out["false_refusal"] = mean(0.0 if a else 1.0 for _, a, _ in answerable)
        out["answered_correct@1"] = mean(
            1.0 if a and r == 1 else 0.0 for (_, a, _), r in zip(answerable, ranks, strict=True)
        )
    if unanswerable:
        out["false_answer"] = mean(1.0 if a else 0.0 for _, a, _ in unanswerable)
    return out


def run_beir(engine: Any, beir: BeirSet, depth: int = 100) -> EvalReport:
    """Rank documents by their best passage for every judged query."""
    ids = list(beir.queries)
    engine.embed_questions(["warm up"])  # model load is not query time
    started = time.perf_counter()
    vectors = engine.embed_questions([beir.queries[q] for q in ids])
    rankings = {
        q: engine.rank_documents(beir.queries[q], depth, query_vector=v) for q, v in zip(ids, vectors, strict=True)
    }
    elapsed = time.perf_counter() - started
    ranked_ids = {q: [doc_id(s) for s in r] for q, r in rankings.items()}
    return EvalReport(f"beir:{beir.split}", len(ids), beir_metrics(ranked_ids, beir.qrels), 1e3 * elapsed / len(ids))


def run_qa(engine: Any, items: list[QaItem], top_k: int = 3) -> EvalReport:
    """Ask every question as a user would (threshold on) and check passages and refusals."""
    results: list[tuple[QaItem, bool, list[Shown]]] = []
    misses: list[dict[str, Any]] = []
    answerable_scores: list[float] = []
    unanswerable_scores: list[float] = []
    engine.embed_questions(["warm up"])
    started = time.perf_counter()
    for item in items:
        answer = engine.ask(item.q, top_k)
        passages = [((p.source, *p.also_in), p.text) for p in answer.passages]
        results.append((item, answer.answered, passages))
        best = max((p.score for p in answer.passages), default=0.0)
        (answerable_scores if item.answerable else unanswerable_scores).append(best)
        top_ok = bool(passages) and passage_matches(item, *passages[0])
        wrong = (item.answerable and (not answer.answered or not top_ok)) or (not item.answerable and answer.answered)
        if wrong:
            misses.append(
                {
                    "q": item.q,
                    "answerable": item.answerable,
                    "answered": answer.answered,
                    "top": answer.passages[0].source if answer.passages else None,
                    "score": round(answer.passages[0].score, 4) if answer.passages else None,
                }
            )
    elapsed = time.perf_counter() - started
    per_query = 1e3 * elapsed / len(items)
    metrics = qa_metrics(results)
    return EvalReport("qa", len(items), metrics, per_query, misses, answerable_scores, unanswerable_scores)


@dataclass(frozen=True)
class BarChoice:
    """A refusal bar and the two error rates it gives on labelled questions."""

    bar: float
    false_refusal: float
    false_answer: float


def sweep_bar(answerable: list[float], unanswerable: list[float]) -> list[BarChoice]:
    """Error rates of every candidate bar (midpoints between observed scores), lowest bar first."""
    points = sorted(set(answerable) | set(unanswerable))
    middles = [(a + b) / 2 for a, b in zip(points, points[1:], strict=False)]
    cands = [0.0, *middles, points[-1] + 1e-6 if points else 1.0]
    out = []
    for bar in cands:
        fr = mean(1.0 if s < bar else 0.0 for s in answerable) if answerable else 0.0
        fa = mean(1.0 if s >= bar else 0.0 for s in unanswerable) if unanswerable else 0.0
        out.append(BarChoice(round(bar, 4), fr, fa))
    return out


def choose_bar(answerable: list[float], unanswerable: list[float], max_false_answer: float = 0.10) -> BarChoice:
    """The bar with the fewest false refusals among those answering at most `max_false_answer` of
    the unanswerable questions; among equals, the one in the middle of the gap (most margin)."""
    choices = sweep_bar(answerable, unanswerable)
    ok = [c for c in choices if c.false_answer <= max_false_answer] or choices[-1:]
    best_fr = min(c.false_refusal for c in ok)
    tied = [c for c in ok if c.false_refusal == best_fr]
    lo, hi = tied[0].bar, tied[-1].bar
    bar = (lo + hi) / 2
    false_answer = mean(1.0 if s >= bar else 0.0 for s in unanswerable) if unanswerable else 0.0
    return BarChoice(round(bar, 4), best_fr, false_answer)


def table(reports: list[EvalReport]) -> list[str]:
    """Plain-text rows: one per report, metrics in a fixed order."""
    order = [
        "ndcg@10", "recall@10", "recall@100", "mrr@10", "mrr", "hit@1", "hit@3",
        "answered_correct@1", "false_refusal", "false_answer",
    ]  # fmt: skip
    names = [m for m in order if any(m in r.metrics for r in reports)]
    head = ["data", "queries", *names, "ms/query"]
    rows = [head]
    for r in reports:
        rows.append(
            [r.kind, str(r.queries)]
            + [f"{r.metrics[m]:.3f}" if m in r.metrics else "-" for m in names]
            + [f"{r.ms_per_query:.1f}"]
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(head))]
    return ["  ".join(cell.rjust(w) for cell, w in zip(row, widths, strict=True)) for row in rows]


def evaluate(
    settings: Any,
    data: Path,
    split: str = "test",
    unanswerable: Path | None = None,
    top_k: int | None = None,
    progress: bool = False,
) -> tuple[list[EvalReport], Any]:
    """Run a BEIR folder or a QA file against the configured index (built first when missing).

    A BEIR corpus is indexed from `corpus.jsonl` alone (queries must not become documents), through
    a scratch folder holding a link to it; the index is reused while the corpus is unchanged.
    Returns the reports and the build report (None when the index was already current).
    """
    import tempfile

    from .engine import Engine

    if data.is_dir():
        beir = read_beir(data, split)
        with tempfile.TemporaryDirectory(prefix="citebot-beir-") as scratch:
            link = Path(scratch) / "corpus.jsonl"
            link.symlink_to(beir.corpus.resolve())
            scratch_settings = settings.model_copy(update={"sources": Path(scratch)})
            engine, build = Engine.open_or_build(scratch_settings, progress=progress)
            return [run_beir(engine, beir)], build
    items = read_qa(data)
    if unanswerable is not None:
        items += read_qa(unanswerable, answerable=False)
    engine, build = Engine.open_or_build(settings, progress=progress)
    return [run_qa(engine, items, top_k or settings.top_k)], build
