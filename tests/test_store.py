"""Tests for bot/store.py: damaged index files give a clear error naming the file, never a crash."""

from __future__ import annotations

import json

import pytest

from bot import store
from bot.errors import BuildLocked, IndexCorrupt, IndexMissing
from bot.indexing import build_index


@pytest.fixture
def built(seed_sources, settings, embedder):
    build_index(settings, embedder)
    return settings.index, store.current_path(settings.index)


def test_missing_index(settings):
    """No index yet is its own error, telling the user what to run."""
    with pytest.raises(IndexMissing, match="citebot index"):
        store.read_index(settings.index)


@pytest.mark.parametrize("name", ["dense.faiss", "chunks.npz", "documents.jsonl", "manifest.json"])
def test_truncated_file_is_named(built, name):
    """A truncated index file is reported by name (FAISS never gets to abort on it)."""
    root, gen = built
    path = gen / name
    path.write_bytes(path.read_bytes()[: max(1, path.stat().st_size // 2)])
    with pytest.raises(IndexCorrupt, match=name.replace(".", r"\.")):
        store.read_index(root)


@pytest.mark.parametrize("name", ["dense.faiss", "chunks.npz"])
def test_garbage_of_same_size_is_caught(built, name):
    """Bytes replaced in place (same size) still give IndexCorrupt, not a faiss abort."""
    root, gen = built
    path = gen / name
    path.write_bytes(b"\xff" * path.stat().st_size)
    with pytest.raises(IndexCorrupt, match=name.replace(".", r"\.")):
        store.read_index(root)


def test_missing_file_and_bad_pointer(built):
    """A deleted file or a pointer to a missing generation are reported clearly."""
    root, gen = built
    (gen / "dense.faiss").unlink()
    with pytest.raises(IndexCorrupt, match="dense.faiss is missing"):
        store.read_index(root)
    (root / "CURRENT").write_text("gen-nope\n")
    with pytest.raises(IndexCorrupt, match="missing folder"):
        store.read_index(root)


def test_other_format_version_is_refused(built):
    """An index written by an incompatible citebot version asks for a rebuild."""
    root, gen = built
    manifest = json.loads((gen / "manifest.json").read_text())
    manifest["format"] = 999
    (gen / "manifest.json").write_text(json.dumps(manifest))
    with pytest.raises(IndexCorrupt, match="--rebuild"):
        store.read_index(root)


def test_corrupt_index_is_rebuilt_by_next_build(built, settings, embedder):
    """`citebot index` over a damaged index rebuilds it and says why."""
    root, gen = built
    (gen / "dense.faiss").write_bytes(b"junk")
    report, data = build_index(settings, embedder)
    assert report.rebuilt_reason and "dense.faiss" in report.rebuilt_reason
    assert len(store.read_index(root)) == len(data)


def test_second_writer_is_refused(settings):
    """Two builds of one index folder cannot race: the second fails fast."""
    with store.build_lock(settings.index):
        with pytest.raises(BuildLocked):
            with store.build_lock(settings.index):
                pass


def test_no_pickle_on_disk(built):
    """Nothing in the index needs pickle: every numpy file loads with allow_pickle=False."""
    import numpy as np

    root, gen = built
    with np.load(gen / "chunks.npz", allow_pickle=False) as z:
        assert set(z.files) == {"doc", "start", "end", "hash"}
    for npy in (gen / "bm25").glob("*.npy"):
        np.load(npy, allow_pickle=False)
    assert not list(gen.rglob("*.pkl"))
