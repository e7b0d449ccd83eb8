"""The benchmark runs end to end on a tiny corpus and writes the shape promised; speeds are never asserted."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from bench.__main__ import FIGURES, ratios, table

REPO = Path(__file__).resolve().parents[1]
DOCS = {
    "harbour.txt": "Harbour plan approved\n\nThe council approved the new harbour plan on Monday. "
    "Work on the sea wall starts in spring and will cost 4 million pounds, the mayor said.",
    "library.txt": "Library reopens\n\nThe central library reopened after a two-year refit. "
    "Visitors can now borrow e-books and use a makerspace on the second floor.",
    "match.txt": "Late goal wins derby\n\nA header in the 89th minute gave the home side a 2-1 win. "
    "The coach praised the defence and said the title race was far from over.",
}


@pytest.fixture(scope="module")
def bench_run(tmp_path_factory):
    """One real run of `python -m bench run` (citebot and LangChain) on a three-article corpus."""
    root = tmp_path_factory.mktemp("bench")
    corpus = root / "corpus"
    corpus.mkdir()
    for name, text in DOCS.items():
        (corpus / name).write_text(text, encoding="utf-8")
    out = root / "result.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_") or k == "CITEBOT_CACHE"}
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "run", "--corpus", str(corpus), "--backend", "torch", "--work",
         str(root / "work"), "--questions", "12", "--cold-runs", "1", "--out", str(out)],
        cwd=REPO, env=env, capture_output=True, text=True, timeout=900,
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    return root, json.loads(out.read_text(encoding="utf-8")), proc.stdout


def test_run_result_has_every_figure_for_both_sides(bench_run):
    """Each figure of the comparison is present for citebot and LangChain, with a ratio."""
    _, result, _ = bench_run
    assert result["machine"]["cores"] and len(result["machine"]["loadavg"]) == 3
    cb, lc = result["citebot"], result["langchain"]
    assert cb["full_build"]["chunks"] == lc["full_build"]["chunks"] > 0  # the same chunks on both sides
    assert {"embed", "search", "compose", "render", "total"} <= set(cb["warm_query_ms"])
    assert cb["questions"] == lc["questions"] == 12
    assert set(result["ratios"]) == {label.strip() for label, _, _ in FIGURES}
    for figure in result["ratios"].values():
        assert figure["ratio"] > 0 and isinstance(figure["citebot_ahead"], bool)


def test_incremental_updates_reembed_only_edited_documents(bench_run):
    """The 1- and 10-document updates re-embed only the chunks of the edited articles."""
    _, result, _ = bench_run
    cb = result["citebot"]
    one, ten = cb["update_1_docs"], cb["update_10_docs"]
    assert one["changed"] == one["edited"] == 1 and 0 < one["embedded"] < cb["full_build"]["chunks"]
    assert ten["changed"] == ten["edited"] == 3  # the corpus has only three articles
    assert result["langchain"]["update_1_docs"]["how"] == "full rebuild"


def test_table_is_printed(bench_run):
    """The printed table names the corpus and every figure."""
    _, _, stdout = bench_run
    assert "corpus" in stdout and all(label in stdout for label, _, _ in FIGURES)


def test_scale_run_on_the_built_index(bench_run):
    """`bench scale` synthesizes chunks from a built index and reports latency, memory and recall."""
    root, _, _ = bench_run
    out = root / "scale.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "scale", "--base-index", str(root / "work" / "index"), "--chunks", "300",
         "--questions", "5", "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_") or k == "CITEBOT_CACHE"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    run = json.loads(out.read_text(encoding="utf-8"))["runs"][0]
    assert run["chunks"] == 300 and run["dense"]["kind"] == "flat" and run["recall_at_10_real_questions"] == 1.0
    assert run["dense_bytes_per_chunk"] == 384 * 2 and run["warm_query_ms"]["total"]["p50"] > 0


def test_ratios_and_direction_by_hand():
    """Ratios are citebot / LangChain; 'ahead' respects whether higher or lower is better."""
    cb = {"full_build": {"seconds": 10.0, "chunks_per_s": 50.0}, "index_mb": 3.0}
    lc = {"full_build": {"seconds": 40.0, "chunks_per_s": 12.5}, "index_mb": 2.0}
    r = ratios(cb, lc)
    assert r["full build, s"] == {"citebot": 10.0, "langchain": 40.0, "ratio": 0.25, "citebot_ahead": True}
    assert r["build rate, chunks/s"]["ratio"] == 4.0 and r["build rate, chunks/s"]["citebot_ahead"]
    assert r["index on disk, MB"]["citebot_ahead"] is False
    text = table({"corpus": "x", "backend": "torch", "machine": {"loadavg": [0, 0, 0]}, "citebot": cb, "langchain": lc})
    assert "0.250" in text


def test_dense_part_is_compared_with_langchains_dense_only_search():
    """citebot's search stage does more than LangChain's (BM25, fusion, quotes): its dense part is
    the like-for-like figure, set against LangChain's whole search."""
    cb = {"warm_query_ms": {"search": {"p50": 0.6}, "dense": {"p50": 0.2}}}
    lc = {"warm_query_ms": {"search": {"p50": 0.4}}}
    r = ratios(cb, lc)
    assert r["search p50, ms"]["ratio"] == 1.5 and not r["search p50, ms"]["citebot_ahead"]
    assert r["dense part p50, ms"] == {"citebot": 0.2, "langchain": 0.4, "ratio": 0.5, "citebot_ahead": True}


def test_burst_answers_every_question_through_the_gather_window(bench_run):
    """`bench burst` answers all concurrent questions in gathered batches and reports loop lag."""
    root, _, _ = bench_run
    out = root / "burst.json"
    proc = subprocess.run(
        [sys.executable, "-m", "bench", "burst", "--base-index", str(root / "work" / "index"), "--questions", "8",
         "--out", str(out)],
        cwd=REPO, capture_output=True, text=True, timeout=600,
        env={k: v for k, v in os.environ.items() if not k.startswith("CITEBOT_") or k == "CITEBOT_CACHE"},
    )
    assert proc.returncode == 0, proc.stderr[-2000:]
    burst = json.loads(out.read_text(encoding="utf-8"))["burst"]
    assert burst["answered"] == 8 and sum(burst["batches"]) == 8 and len(burst["batches"]) < 8
    assert burst["loop_lag_max_ms"] >= 0 and burst["latency_ms"]["p95"] > 0
