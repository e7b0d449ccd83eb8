"""The embedding backends: torch (reference) and the ONNX export, fp32 and per-channel int8."""

from __future__ import annotations

import numpy as np
import pytest

from bot.config import Settings
from bot.embedding import OnnxEmbedder, load_embedder, onnx_model_path
from bot.errors import CitebotError, IndexMismatch

LONG = " ".join(
    f"Sentence {i} of a long report on trade talks between Washington and Beijing, with tariffs on steel."
    for i in range(40)
)
TEXTS = [
    "What did Pompeo say?",
    "Huawei equipment in allied networks",
    "x",
    "",
    "Ünïcödé, emoji 🎉 and right-to-left שלום עולם",
    LONG[:600],
    LONG,  # far beyond the 256 word-piece window: truncated at 256, not at tokenizer.json's 128
]


@pytest.fixture(scope="session")
def onnx_cache(citebot_cache):
    return citebot_cache


@pytest.fixture(scope="session")
def onnx_fp32(onnx_cache):
    return OnnxEmbedder(backend="onnx", cache_dir=onnx_cache)


@pytest.fixture(scope="session")
def onnx_int8(onnx_cache):
    return OnnxEmbedder(backend="onnx-int8", cache_dir=onnx_cache)


def test_default_backend_is_int8(embedder):
    """The default embedder is the int8 export (README, Speed: same answers, ~3x the build rate)."""
    assert Settings().backend == "onnx-int8" and embedder.backend == "onnx-int8"
    assert isinstance(embedder, OnnxEmbedder) and embedder.model_path.name == "model-int8.onnx"


def test_torch_vectors_are_normalized(torch_embedder):
    """The reference backend returns unit vectors of the model's dimension, empty input -> (0, dim)."""
    v = torch_embedder.encode(TEXTS)
    assert v.shape == (len(TEXTS), torch_embedder.dim) and v.dtype == np.float32
    assert np.allclose(np.linalg.norm(v, axis=1), 1.0, atol=1e-5)
    assert torch_embedder.encode([]).shape == (0, torch_embedder.dim)


def test_onnx_fp32_matches_torch(torch_embedder, onnx_fp32):
    """The fp32 export gives the same vectors as sentence-transformers, long and padded texts included."""
    assert (onnx_fp32.dim, onnx_fp32.max_tokens) == (torch_embedder.dim, torch_embedder.max_tokens) == (384, 256)
    cos = (onnx_fp32.encode(TEXTS, batch_size=3) * torch_embedder.encode(TEXTS)).sum(1)
    assert cos.min() > 0.9999


def test_onnx_int8_stays_close_to_fp32(torch_embedder, onnx_int8):
    """Per-channel int8 keeps cosine to fp32 high (per-tensor int8 fell to ~0.94)."""
    cos = (onnx_int8.encode(TEXTS) * torch_embedder.encode(TEXTS)).sum(1)
    assert cos.mean() > 0.98 and cos.min() > 0.95
    assert onnx_int8.model_path.name == "model-int8.onnx"
    assert onnx_int8.model_path.stat().st_size < onnx_fp32_size(onnx_int8) / 3


def onnx_fp32_size(emb: OnnxEmbedder) -> int:
    return (emb.model_path.parent / "model.onnx").stat().st_size


def test_batching_does_not_change_fp32_vectors(onnx_fp32):
    """fp32: a text alone and the same text padded inside a length-sorted batch get the same vector."""
    together = onnx_fp32.encode(TEXTS, batch_size=len(TEXTS))
    alone = np.stack([onnx_fp32.encode([t])[0] for t in TEXTS])
    assert np.allclose(together, alone, atol=1e-4)


def test_int8_batch_size_one_is_a_function_of_the_text(onnx_int8):
    """int8 quantises activations per input tensor, so a batched vector drifts with its batch mates
    (why questions run alone); with batch_size=1 a vector depends on its text only."""
    together = onnx_int8.encode(TEXTS + TEXTS[::-1], batch_size=1)
    alone = np.stack([onnx_int8.encode([t], batch_size=1)[0] for t in TEXTS])
    assert np.array_equal(together[: len(TEXTS)], alone)
    assert np.array_equal(together[len(TEXTS) :], alone[::-1])
    batched = onnx_int8.encode(TEXTS, batch_size=len(TEXTS))
    assert (batched * alone).sum(1).min() > 0.97  # close, but not the same: never used for questions


def test_token_counts_match_torch_tokenizer(torch_embedder, onnx_int8):
    """count_tokens sees every word piece (no 128 cut from tokenizer.json), same as the torch tokenizer."""
    counts = [onnx_int8.count_tokens(t) for t in TEXTS]
    assert counts == [torch_embedder.count_tokens(t) for t in TEXTS]
    assert counts[-1] > 256 and counts[3] == 2  # [CLS] [SEP] for the empty text


def test_export_is_cached_and_reused(onnx_cache, onnx_int8):
    """A second load reuses the cached files instead of exporting again."""
    path = onnx_model_path("packaged:all-MiniLM-L6-v2", "onnx-int8", onnx_cache)
    before = path.stat().st_mtime_ns
    again = OnnxEmbedder(backend="onnx-int8", cache_dir=onnx_cache)
    assert again.model_path == path == onnx_int8.model_path and path.stat().st_mtime_ns == before
    assert not list(path.parent.glob("*.tmp-*"))


def test_damaged_cache_file_is_a_clear_error(tmp_path, onnx_cache, onnx_int8):
    """A truncated cached model gives one line naming the file, not an onnxruntime traceback."""
    import shutil

    cache = tmp_path / "cache"
    shutil.copytree(onnx_cache, cache)
    target = onnx_model_path("packaged:all-MiniLM-L6-v2", "onnx-int8", cache)
    target.write_bytes(target.read_bytes()[:1000])
    with pytest.raises(CitebotError, match="delete it to re-export"):
        OnnxEmbedder(backend="onnx-int8", cache_dir=cache)


def test_unknown_backend_and_non_local_model_are_refused(tmp_path):
    """Bad backend names and models the export cannot handle fail with a clear message."""
    with pytest.raises(CitebotError, match="unknown embedding backend"):
        load_embedder(backend="tensorrt")
    with pytest.raises(CitebotError, match="local sentence-transformers folder"):
        load_embedder(str(tmp_path), backend="onnx", cache_dir=tmp_path / "c")


def test_backend_setting_is_validated(monkeypatch):
    """CITEBOT_BACKEND accepts only the known backends."""
    monkeypatch.setenv("CITEBOT_BACKEND", "onnx-int8")
    assert Settings().backend == "onnx-int8"
    monkeypatch.setenv("CITEBOT_BACKEND", "gpu")
    with pytest.raises(ValueError):
        Settings()


def test_backend_is_part_of_the_index_identity(seed_sources, onnx_cache, onnx_int8, monkeypatch):
    """An index built with int8 vectors is refused by an engine configured for another backend."""
    from bot.engine import Engine
    from bot.indexing import build_index

    monkeypatch.setenv("CITEBOT_CACHE", str(onnx_cache))
    settings = Settings(backend="onnx-int8", cache=onnx_cache)
    report, data = build_index(settings)
    assert report.embedded_chunks == len(data) > 0 and data.manifest["backend"] == "onnx-int8"
    engine = Engine.open(settings)
    answer = engine.ask("Does Pompeo think Huawei is a risk?")
    assert answer.passages and "Pompeo" in (answer.passages[0].title or "")
    with pytest.raises(IndexMismatch, match="backend"):
        Engine.open(Settings(backend="torch"))


def test_torch_embedder_is_safe_across_threads(torch_embedder):
    """Token counting (a reindex) beside encoding (a question) in other threads never corrupts a batch."""
    import threading

    texts = ["word " * (100 + 40 * i) for i in range(16)]  # past the 256-token window: truncation matters
    expected = torch_embedder.encode(texts[:4], batch_size=4)
    errors: list[str] = []

    def work(k: int) -> None:
        try:
            for _ in range(8):
                if k % 2:
                    assert np.allclose(torch_embedder.encode(texts[:4], batch_size=4), expected, atol=1e-5)
                else:
                    for t in texts:
                        torch_embedder.count_tokens(t)
        except Exception as exc:  # collected: a thread's exception would not fail the test
            errors.append(repr(exc))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []


def test_question_is_not_queued_behind_a_whole_build(torch_embedder):
    """A question encoded while a reindex embeds many passages waits for one batch, not the build."""
    import threading

    passages = [f"Passage {i}: the ferry crew logged tide {i % 13} metres and {i % 5} late sailings." for i in range(400)]
    done: list[str] = []
    started = threading.Event()

    class Watched:
        """Signals when the build has taken its first batch, so the question surely comes second."""

        def __init__(self, model):  # type: ignore[no-untyped-def]
            self.model = model

        def encode(self, texts, **kw):  # type: ignore[no-untyped-def]
            started.set()
            return self.model.encode(texts, **kw)

    real = torch_embedder.model
    torch_embedder.model = Watched(real)
    try:
        build = threading.Thread(target=lambda: (torch_embedder.encode(passages, batch_size=8), done.append("build")))
        build.start()
        assert started.wait(60)
        question = torch_embedder.encode(["what did the ferry crew log?"])
        done.append("question")
        build.join()
    finally:
        torch_embedder.model = real
    assert done == ["question", "build"]
    assert np.allclose(question, torch_embedder.encode(["what did the ferry crew log?"]), atol=1e-5)


def test_per_batch_encoding_keeps_input_order(torch_embedder):
    """Texts are batched longest first internally; rows still come back in the caller's order."""
    texts = ["short", "a much longer text about ferries and tides " * 5, "medium length text here"]
    together = torch_embedder.encode(texts, batch_size=2)
    one_by_one = np.vstack([torch_embedder.encode([t]) for t in texts])
    assert np.allclose(together, one_by_one, atol=1e-5)
