"""Tests for bot/engine.py: the API the CLI and the bot share, on the default corpus with the real model."""

from __future__ import annotations

import pytest

from bot.config import Settings
from bot.engine import Engine
from bot.errors import IndexMismatch, QuestionError

POMPEO_QUOTES = (
    "We’re not going to put American information at risk",
    "If a country adopts this and puts it in some of their critical information systems",
    "understand the risk of putting this Huawei technology",
)


@pytest.fixture
def engine(seed_sources, settings, embedder):
    engine, report = Engine.open_or_build(settings, embedder)
    assert report is not None and report.documents == 2
    return engine


def test_pompeo_quotes_first(engine, seed_sources):
    """ "What did Pompeo say?" ranks a passage with his quoted words first, from his article, with exact offsets."""
    answer = engine.ask("What did Pompeo say?")
    assert answer.answered
    top = answer.passages[0]
    assert top.source == "000_24054db15d7a09bf.txt"
    assert any(q in top.text for q in POMPEO_QUOTES)
    text = (seed_sources / top.source).read_text(encoding="utf-8")
    assert text[top.start : top.end] == top.text
    assert top.title == "Pompeo: US will not share information with countries using Huawei systems"


def test_unrelated_question_is_refused(engine):
    """A question the sources cannot answer gets answered=False, not the nearest unrelated passage."""
    answer = engine.ask("How do I bake banana bread?")
    assert not answer.answered


@pytest.mark.parametrize(
    ("question", "needle", "source"),
    [
        ("Who was arrested in Canada?", "Meng Wanzhou", "000_24054db15d7a09bf.txt"),
        ("Which senator introduced a bill about sharing intelligence?", "Tom Cotton", "004_292b256e50e7843a.txt"),
        ("Which companies were granted licenses to sell to Huawei?", "Micron", "004_292b256e50e7843a.txt"),
    ],
)
def test_answer_is_in_top_passage(engine, question, needle, source):
    """Answerable questions over the seeds have their answer in the top passage."""
    answer = engine.ask(question)
    assert answer.answered
    assert answer.passages[0].source == source and needle in answer.passages[0].text


def test_more_passages_pages_on(engine):
    """offset gives the next passages of the same question, without repeats."""
    first = engine.ask("Huawei", top_k=2, use_threshold=False)
    second = engine.ask("Huawei", top_k=2, offset=2, use_threshold=False)
    assert [p.rank for p in second.passages] == [3, 4][: len(second.passages)]
    spans = {(p.source, p.start) for p in first.passages}
    assert not spans & {(p.source, p.start) for p in second.passages}


def test_bad_questions(engine):
    """Empty, over-long and undecodable questions are user errors with a clear message."""
    with pytest.raises(QuestionError, match="empty"):
        engine.ask("   ")
    with pytest.raises(QuestionError, match="limit is 500"):
        engine.ask("why " * 200)
    with pytest.raises(QuestionError, match="^the question is not valid UTF-8 text$"):
        engine.ask(b"caf\xe9".decode("utf-8", "surrogateescape"))  # how argv and stdin hand over byte 0xe9


def test_index_of_another_model_is_refused(engine, settings, embedder):
    """Opening an index built with another model gives IndexMismatch naming the change."""
    with pytest.raises(IndexMismatch, match="model changed"):
        Engine.open(Settings(model="sentence-transformers/all-mpnet-base-v2"), embedder)


def test_reindex_swaps_while_serving(engine, seed_sources):
    """reindex picks up a new source; the engine answers from the new index afterwards."""
    (seed_sources / "bread.md").write_text("---\ntitle: Baking\n---\nTo bake banana bread, mash three ripe bananas.\n")
    report = engine.reindex()
    assert report.added == ["bread.md"] and report.embedded_chunks == 1
    answer = engine.ask("How do I bake banana bread?")
    assert answer.answered and answer.passages[0].source == "bread.md"


def test_context_widens_a_passage(engine):
    """context() returns the passage with surrounding lines, for "Show source"."""
    p = engine.ask("Who was arrested in Canada?").passages[0]
    text, lo, hi = engine.context(p.source, p.start, p.end)
    assert p.text in text and lo <= p.start and hi >= p.end


def test_backend_change_is_refused_by_ask_and_rebuilt_by_serve(seed_sources, torch_embedder, embedder):
    """An index of torch vectors is never queried with int8 ones: `ask` says run `citebot index`;
    the bot's start (rebuild_mismatch) re-embeds everything and then answers."""
    torch_settings = Settings(backend="torch")
    Engine.open_or_build(torch_settings, torch_embedder)
    settings = Settings()
    with pytest.raises(IndexMismatch, match="backend changed"):
        Engine.open_or_build(settings, embedder)
    engine, report = Engine.open_or_build(settings, embedder, rebuild_mismatch=True)
    assert report is not None and "backend changed" in (report.rebuilt_reason or "")
    assert report.reused_chunks == 0 and report.embedded_chunks == report.chunks > 0
    assert engine.ask("Who was arrested in Canada?").answered


def test_damaged_index_stops_ask_and_is_rebuilt_by_serve(seed_sources, settings, embedder):
    """A file of the live index damaged in place: `ask` stops with the fix; the bot's start
    (rebuild_mismatch) rebuilds it, since a bot that stays down answers no one."""
    from bot import store
    from bot.errors import IndexCorrupt

    Engine.open_or_build(settings, embedder)
    gen = store.current_path(settings.index)
    chunks = gen / "chunks.npz"
    chunks.write_bytes(chunks.read_bytes()[:-22] + bytes(22))
    with pytest.raises(IndexCorrupt, match="rebuild it with `citebot index --rebuild`"):
        Engine.open_or_build(settings, embedder)
    engine, report = Engine.open_or_build(settings, embedder, rebuild_mismatch=True)
    assert report is not None and "chunks.npz is damaged" in (report.rebuilt_reason or "")
    assert engine.ask("Who was arrested in Canada?").answered


def test_ask_records_where_its_time_went(engine):
    """Each stage of the last question is timed; the dense part is inside the search stage."""
    engine.ask("Where was Huawei's CFO arrested?")
    t = engine.last_timings
    assert t.embed > 0 and t.compose > 0 and 0 < t.dense <= t.search
