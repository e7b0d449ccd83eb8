"""The dense index: exact below the threshold, IVF tuned to measured recall@10 above it."""

from __future__ import annotations

import numpy as np
import pytest

from bot.errors import IndexCorrupt
from bot.vectors import FaissIndex, probe_queries, recall_at_k

DIM = 32


def clustered(n: int, seed: int = 0, centres: int = 200) -> np.ndarray:
    """Unit vectors around a few hundred centres, like passages around topics."""
    rng = np.random.default_rng(seed)
    base = rng.standard_normal((centres, DIM)).astype(np.float32)
    x = base[rng.integers(0, centres, n)] + 0.4 * rng.standard_normal((n, DIM)).astype(np.float32)
    return x / np.linalg.norm(x, axis=1, keepdims=True)


def test_small_index_is_exact():
    """Below the threshold the index is flat and returns the true nearest neighbours with cosine scores."""
    x = clustered(500)
    ix = FaissIndex.from_vectors(x, DIM, approx_threshold=1000)
    assert ix.tuning.kind == "flat" and ix.tuning.recall_at_10 == 1.0
    scores, ids = ix.search(x[:3], 5)
    truth = np.argsort(-(x[:3] @ x.T), axis=1)[:, :5]
    assert (ids == truth).all() and np.allclose(scores[:, 0], 1.0, atol=1e-3)
    assert np.allclose(scores, np.take_along_axis(x[:3] @ x.T, truth, axis=1), atol=1e-3)  # fp16 storage
    assert ix.memory_bytes() == 500 * DIM * 2


def test_large_index_switches_to_ivf_at_measured_recall():
    """Above the threshold an IVF index is chosen whose recall@10 on fresh queries holds ~0.95."""
    x = clustered(6000)
    ix = FaissIndex.from_vectors(x, DIM, approx_threshold=2000)
    t = ix.tuning
    assert t.kind == "ivf" and t.recall_at_10 >= 0.95 and 1 <= t.nprobe <= t.nlist
    fresh = probe_queries(x, n=300, seed=7)
    _, truth = FaissIndex.from_vectors(x, DIM, approx_threshold=10**9).search(fresh, 10)
    _, found = ix.search(fresh, 10)
    assert recall_at_k(found, truth) >= 0.93  # a different sample: allow its sampling error
    assert t.bytes_per_vector > DIM * 2


def test_unreachable_recall_keeps_exact_search():
    """When no nprobe reaches the target, the index stays exact rather than silently worse."""
    x = clustered(3000)
    assert FaissIndex.from_vectors(x, DIM, approx_threshold=2000, target_recall=1.5).tuning.kind == "flat"


def test_ivf_round_trip_keeps_vectors_and_nprobe(tmp_path):
    """Saved and loaded, the IVF index keeps its nprobe and gives back the stored (float16) vectors,
    which re-store unchanged: an incremental build that reuses them never drifts."""
    x = clustered(4000, seed=3)
    ix = FaissIndex.from_vectors(x, DIM, approx_threshold=2000)
    ix.save(tmp_path / "dense.faiss")
    back = FaissIndex.load(tmp_path / "dense.faiss")
    assert back.tuning.kind == "ivf" and back.index.nprobe == ix.tuning.nprobe
    stored = back.vectors()
    assert np.allclose(stored, x, atol=1e-3) and np.array_equal(back.reconstruct(17), stored[17])
    for threshold in (2000, 10**9):  # IVF and flat
        assert np.array_equal(FaissIndex.from_vectors(stored, DIM, approx_threshold=threshold).vectors(), stored)
    assert np.array_equal(back.search(x[:4], 10)[1], ix.search(x[:4], 10)[1])


def test_float32_index_of_an_earlier_version_still_loads(tmp_path):
    """Indexes written before fp16 storage (faiss IndexFlatIP) load, search and report 4 bytes/component."""
    import faiss

    x = clustered(300, seed=5)
    old = faiss.IndexFlatIP(DIM)
    old.add(x)
    faiss.write_index(old, str(tmp_path / "dense.faiss"))
    back = FaissIndex.load(tmp_path / "dense.faiss")
    assert back.tuning.kind == "flat" and back.memory_bytes() == 300 * DIM * 4
    assert np.array_equal(back.vectors(), x) and back.search(x[:1], 1)[1][0, 0] == 0


def test_search_edge_cases():
    """k beyond the size is clipped; an empty index returns empty results; batches match singles."""
    x = clustered(50)
    ix = FaissIndex.from_vectors(x, DIM)
    assert ix.search(x[:1], 500)[1].shape == (1, 50)
    empty = FaissIndex.from_vectors(np.zeros((0, DIM), np.float32), DIM)
    assert len(empty) == 0 and empty.search(x[:2], 5)[1].shape == (2, 0) and empty.vectors().shape == (0, DIM)
    batch = ix.search(x[:10], 5)[1]
    assert np.array_equal(batch[:2], ix.search(x[:2], 5)[1])


def test_damaged_file_is_index_corrupt(tmp_path):
    """A truncated FAISS file raises IndexCorrupt with the path, not a FAISS traceback."""
    path = tmp_path / "dense.faiss"
    FaissIndex.from_vectors(clustered(100), DIM).save(path)
    path.write_bytes(path.read_bytes()[:200])
    with pytest.raises(IndexCorrupt, match="dense.faiss"):
        FaissIndex.load(path)


def test_recall_at_k_by_hand():
    """recall@k counts the shared ids of the two top-k lists."""
    truth = np.array([[1, 2, 3, 4], [5, 6, 7, 8]])
    found = np.array([[4, 3, 9, 9], [5, 6, 7, 8]])
    assert recall_at_k(found, truth, k=4) == pytest.approx((2 + 4) / 8)


def test_vectors_of_reads_back_the_stored_vectors_of_every_index_kind(tmp_path):
    """`vectors_of` (how BM25-only candidates get their cosine) equals per-id reconstruct on a flat
    fp16 index, an IVF index, a float32 index of an earlier version, and after a reload."""
    import faiss

    x = clustered(4000, seed=7)
    ids = np.array([3999, 0, 17, 17, 2500])
    old = faiss.IndexFlatIP(DIM)
    old.add(x)
    flat = FaissIndex.from_vectors(x, DIM)
    ivf = FaissIndex.from_vectors(x, DIM, approx_threshold=2000)
    flat.save(tmp_path / "dense.faiss")
    kinds = {"flat": flat, "ivf": ivf, "float32": FaissIndex(old), "reloaded": FaissIndex.load(tmp_path / "dense.faiss")}
    assert ivf.tuning.kind == "ivf"
    for name, ix in kinds.items():
        got = ix.vectors_of(ids)
        want = np.stack([ix.reconstruct(i) for i in ids])
        assert got.dtype == np.float32 and np.array_equal(got, want), name
        assert np.allclose(got, x[ids], atol=1e-3), name
        assert ix.vectors_of(np.array([], dtype=np.int64)).shape == (0, DIM), name
