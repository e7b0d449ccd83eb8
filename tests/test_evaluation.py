"""Metrics by hand-computed values, the readers' errors, and `citebot eval` end to end."""

from __future__ import annotations

import json
import math
import os
import subprocess
import sys

import pytest
from click.testing import CliRunner

from bot.cli import main
from bot.evaluation import (
    EvalDataError,
    QaItem,
    beir_metrics,
    hit_at_k,
    mrr_at_k,
    ndcg_at_k,
    passage_matches,
    qa_metrics,
    read_beir,
    read_qa,
    recall_at_k,
)


def test_ndcg_hand_computed():
    """Relevant docs at ranks 2 and 4 of two: (1/log2 3 + 1/log2 5) / (1 + 1/log2 3)."""
    got = ndcg_at_k(["x", "a", "y", "b"], {"a": 1, "b": 1}, 10)
    assert got == pytest.approx((1 / math.log2(3) + 1 / math.log2(5)) / (1 + 1 / math.log2(3)))
    assert ndcg_at_k(["a"], {"a": 1}, 10) == 1.0
    assert ndcg_at_k(["a"], {"a": 0}, 10) == 0.0


def test_graded_relevance_and_cutoff():
    """Gains are linear in the grade; documents past k count for nothing."""
    assert ndcg_at_k(["b", "a"], {"a": 2, "b": 1}, 10) == pytest.approx((1 + 2 / math.log2(3)) / (2 + 1 / math.log2(3)))
    assert ndcg_at_k(["x", "a"], {"a": 1}, 1) == 0.0


def test_recall_mrr_hit():
    """Recall is the share of relevant found; MRR the inverse first relevant rank; hit any in top k."""
    ranked = ["x", "a", "y", "b"]
    rel = {"a": 1, "b": 1, "c": 1}
    assert recall_at_k(ranked, rel, 2) == pytest.approx(1 / 3)
    assert recall_at_k(ranked, rel, 10) == pytest.approx(2 / 3)
    assert mrr_at_k(ranked, rel) == 0.5
    assert hit_at_k(ranked, rel, 1) == 0.0 and hit_at_k(ranked, rel, 3) == 1.0


def test_qa_metrics_rates():
    """False refusals count answerable questions refused; false answers unanswerable ones answered."""
    good = QaItem("q1", ["Micron"])
    other = QaItem("q2", ["Canada"], source="a.txt")
    nope = QaItem("q3", answerable=False)
    m = qa_metrics(
        [
            (good, True, [("a.txt", "such as Micron have")]),
            (other, False, [("b.txt", "arrested in Canada"), ("a.txt", "in Canada")]),
            (nope, True, [("a.txt", "whatever")]),
        ]
    )
    assert m["hit@1"] == 0.5 and m["hit@3"] == 1.0 and m["mrr"] == 0.75
    assert m["false_refusal"] == 0.5 and m["false_answer"] == 1.0 and m["answered_correct@1"] == 0.5


def test_passage_shown_for_identical_sources_counts_for_each():
    """A syndicated copy shown once, with the expected article in its also_in, is a hit; a
    passage from another source only is not."""
    item = QaItem("q", ["arrested in Canada"], source="news/a.txt")
    assert passage_matches(item, ("wire/copy.txt", "news/a.txt"), "Meng was arrested in Canada.")
    assert passage_matches(item, "news/a.txt", "Meng was arrested in  CANADA.")
    assert not passage_matches(item, ("wire/copy.txt",), "Meng was arrested in Canada.")
    m = qa_metrics([(item, True, [(("b.txt",), "arrested in Canada"), (("b.txt", "news/a.txt"), "arrested in Canada")])])
    assert m["hit@1"] == 0.0 and m["hit@3"] == 1.0


def test_beir_metrics_missing_query_counts_zero():
    """A judged query with no ranking counts as zero, not skipped."""
    m = beir_metrics({"1": ["a"]}, {"1": {"a": 1}, "2": {"b": 1}})
    assert m["ndcg@10"] == 0.5 and m["hit@1"] == 0.5


def test_readers_reject_bad_files(tmp_path):
    """Malformed QA lines and missing qrels raise a named error with the file and line."""
    bad = tmp_path / "qa.jsonl"
    bad.write_text('{"q": "fine?", "expect_any": ["x"]}\nnot json\n', encoding="utf-8")
    with pytest.raises(EvalDataError, match="qa.jsonl:2"):
        read_qa(bad)
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "corpus.jsonl").write_text("", encoding="utf-8")
    (tmp_path / "b" / "queries.jsonl").write_text('{"_id": "1", "text": "q"}\n', encoding="utf-8")
    with pytest.raises(EvalDataError, match="split 'test'"):
        read_beir(tmp_path / "b")


@pytest.mark.parametrize(
    ("line", "message"),
    [
        ({"q": "Who?", "expect_any": ["x"], "source": 5}, "`source` must be a non-empty string"),
        ({"q": "Who?", "expect_any": ["x"], "source": ["a.txt"]}, "`source` must be a non-empty string"),
        ({"q": "Who?", "expect_any": ["x"], "source": ""}, "`source` must be a non-empty string"),
        ({"q": "Who?", "expect_any": [""]}, "`expect_any` must be a list of non-empty strings"),
        ({"q": "Who?", "expect_any": ["x", " \n"]}, "`expect_any` must be a list of non-empty strings"),
        ({"q": "Who?", "expect_any": "x"}, "`expect_any` must be a list of non-empty strings"),
        ({"q": "Who?", "answerable": "false"}, '`answerable` must be true or false, not "false"'),
        ({"q": "Who?", "answerable": 0}, "`answerable` must be true or false, not 0"),
        ({"q": 7, "expect_any": ["x"]}, "needs a non-empty `q`"),
    ],
)
def test_qa_line_types_are_checked(tmp_path, line, message):
    """A field of the wrong type (or an empty expected text, which every passage contains) names its file and line."""
    qa = tmp_path / "qa.jsonl"
    qa.write_text(json.dumps({"q": "fine?", "expect_any": ["x"]}) + "\n" + json.dumps(line) + "\n", encoding="utf-8")
    with pytest.raises(EvalDataError) as caught:
        read_qa(qa)
    assert str(caught.value).startswith(f"{qa}:2: {message}")


def test_answerable_flag_is_kept_as_written(tmp_path):
    """`"answerable": false` in the answerable file marks that question unanswerable; true in the other file, answerable."""
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"q": "a?", "expect_any": ["x"]}\n{"q": "b?", "answerable": false}\n', encoding="utf-8")
    assert [it.answerable for it in read_qa(qa)] == [True, False]
    nope = tmp_path / "nope.jsonl"
    nope.write_text('{"q": "c?"}\n{"q": "d?", "answerable": true, "expect_any": ["y"]}\n', encoding="utf-8")
    assert [it.answerable for it in read_qa(nope, answerable=False)] == [False, True]


def citebot(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    """Run the real `citebot` entry point in a fresh process."""
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args],
        check=False,
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=600,
    )


@pytest.mark.parametrize("bad", ['"source": 5', '"source": ["a"]', '"answerable": "false"', '"expect_any": [""]'])
def test_eval_cli_bad_field_is_one_line(tmp_path, bad):
    """`citebot eval` on a QA or unanswerable file with a badly typed field exits 2 naming file and line."""
    qa = tmp_path / "qa.jsonl"
    qa.write_text('{"q": "fine?", "expect_any": ["x"]}\n', encoding="utf-8")
    nope = tmp_path / "nope.jsonl"
    nope.write_text('{"q": "also fine?"}\n{"q": "bad?", "expect_any": ["x"], ' + bad + "}\n", encoding="utf-8")
    result = citebot("eval", str(qa), "--unanswerable", str(nope))
    assert result.returncode == 2, result.stderr
    assert result.stderr.startswith(f"citebot: {nope}:2: `") and len(result.stderr.strip().splitlines()) == 1


CORPUS = [
    ("d1", "Banana bread", "Mash three ripe bananas, mix with flour, butter and sugar, and bake for an hour."),
    ("d2", "Jupiter's moons", "Jupiter has dozens of moons; the four largest were found by Galileo in 1610."),
    ("d3", "Tyre repair", "To fix a flat bicycle tyre, remove the wheel, find the puncture and patch the tube."),
]


@pytest.fixture
def beir_folder(tmp_path):
    folder = tmp_path / "tiny"
    (folder / "qrels").mkdir(parents=True)
    (folder / "corpus.jsonl").write_text(
        "".join(json.dumps({"_id": i, "title": t, "text": x}) + "\n" for i, t, x in CORPUS), encoding="utf-8"
    )
    queries = [
        ("q1", "How do I bake banana bread?"),
        ("q2", "Who discovered the moons of Jupiter?"),
        ("q3", "How do I patch a punctured bike tube?"),
        ("q4", "A query without judgements is ignored"),
    ]
    (folder / "queries.jsonl").write_text(
        "".join(json.dumps({"_id": i, "text": t}) + "\n" for i, t in queries), encoding="utf-8"
    )
    # q2 is also judged relevant to a document missing from the corpus; q3 only to a missing one.
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td2\t1\nq2\tgone\t1\nq3\tgone\t1\nq3\td1\t0\n", encoding="utf-8"
    )
    return folder


def test_eval_cli_on_tiny_beir(beir_folder, tmp_path, embedder):
    """`citebot eval FOLDER --json`: metrics equal the hand-computed values for this corpus."""
    result = CliRunner().invoke(main, ["eval", str(beir_folder), "--index", str(tmp_path / "ix"), "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout.strip().splitlines()[-1])
    m = report["metrics"]
    q2_ndcg = 1 / (1 + 1 / math.log2(3))  # d2 first, "gone" never retrieved
    assert report["queries"] == 3
    assert m["ndcg@10"] == pytest.approx((1 + q2_ndcg + 0) / 3, abs=1e-4)
    assert m["recall@10"] == pytest.approx((1 + 0.5 + 0) / 3, abs=1e-4)
    assert m["mrr@10"] == pytest.approx(2 / 3, abs=1e-4)
    assert m["hit@1"] == pytest.approx(2 / 3, abs=1e-4)
    table = CliRunner().invoke(main, ["eval", str(beir_folder), "--index", str(tmp_path / "ix")])
    assert table.exit_code == 0 and "ndcg@10" in table.output and "beir:test" in table.output


def test_beir_needs_index_on_the_command_line(beir_folder, isolated, monkeypatch):
    """CITEBOT_INDEX (environment or .env) names the user's own index: a BEIR run without --index is
    refused, so the benchmark's corpus never replaces it."""
    own = isolated / "index"
    for how in ("environment", ".env"):
        if how == ".env":
            monkeypatch.delenv("CITEBOT_INDEX")
            (isolated / ".env").write_text(f"CITEBOT_INDEX={own}\n", encoding="utf-8")
        result = citebot("eval", str(beir_folder))
        assert result.returncode == 2, (how, result.stderr)
        assert result.stderr.startswith("citebot: a BEIR folder needs --index DIR for the benchmark's own index")
        assert "CITEBOT_INDEX is not used" in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert not own.exists()


def test_eval_cli_qa_on_seeds(seed_sources, tmp_path):
    """A QA file plus unanswerable questions on the seeds: the right passage first, refusal right."""
    qa = tmp_path / "qa.jsonl"
    qa.write_text(
        json.dumps({"q": "What did Pompeo say?", "expect_any": ["If a country adopts this", "information at risk"]})
        + "\n",
        encoding="utf-8",
    )
    nope = tmp_path / "nope.jsonl"
    nope.write_text(json.dumps({"q": "How do I bake banana bread?"}) + "\n", encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(qa), "--unanswerable", str(nope), "--json"])
    assert result.exit_code == 0, result.output
    (report,) = json.loads(result.stdout.strip().splitlines()[-1])
    assert report["metrics"]["hit@1"] == 1.0
    assert report["metrics"]["false_refusal"] == 0.0 and report["metrics"]["false_answer"] == 0.0


def test_eval_cli_bad_input_is_one_line(tmp_path):
    """A missing file or a malformed QA file exits 2 with one line on stderr, no traceback."""
    missing = CliRunner().invoke(main, ["eval", str(tmp_path / "nothing.jsonl")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"q": ""}\n', encoding="utf-8")
    result = CliRunner().invoke(main, ["eval", str(bad)])
    assert result.exit_code == 2 and "Traceback" not in result.output
    assert len(result.stderr.strip().splitlines()) == 1


def test_bar_choice_hand_computed():
    """The bar keeps false answers <= 10 % with the fewest false refusals, centred in its gap."""
    from bot.evaluation import choose_bar, sweep_bar

    answerable = [0.5, 0.6, 0.7, 0.3]
    unanswerable = [0.1, 0.2, 0.35, 0.15]
    rows = {c.bar: c for c in sweep_bar(answerable, unanswerable)}
    assert rows[0.0].false_refusal == 0.0 and rows[0.0].false_answer == 1.0
    assert (rows[0.25].false_refusal, rows[0.25].false_answer) == (0.0, 0.25)
    assert (rows[0.325].false_refusal, rows[0.325].false_answer) == (0.25, 0.25)
    choice = choose_bar(answerable, unanswerable)
    # no false answer needs a bar above 0.35, which refuses the 0.3 answerable question (25 %)
    assert choice == type(choice)(0.425, 0.25, 0.0)
    lenient = choose_bar(answerable, unanswerable, max_false_answer=0.25)
    assert (lenient.bar, lenient.false_refusal, lenient.false_answer) == (0.25, 0.0, 0.25)


def test_seed_questions_all_answered_in_top_passage(seed_sources, settings, embedder):
    """eval/seeds*.jsonl: every answerable answer in the top passage, every unanswerable refused."""
    from pathlib import Path

    from bot.engine import Engine
    from bot.evaluation import run_qa

    here = Path(__file__).resolve().parents[1] / "eval"
    items = read_qa(here / "seeds.jsonl") + read_qa(here / "seeds_unanswerable.jsonl", answerable=False)
    report = run_qa(Engine.open_or_build(settings, embedder)[0], items)
    assert report.misses == []
    assert report.metrics["hit@1"] == 1.0 and report.metrics["false_refusal"] == 0.0
    assert report.metrics["false_answer"] == 0.0
