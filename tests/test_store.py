"""Tests for bot/store.py: damaged index files give a clear error naming the file, never a crash."""

from __future__ import annotations

import json

import pytest

from bot import store
from bot.errors import BuildLocked, IndexCorrupt, IndexMissing, IndexPathError
from bot.indexing import build_index


@pytest.fixture
def built(seed_sources, settings, embedder):
    build_index(settings, embedder)
    return settings.index, store.current_path(settings.index)


def zero_zip_end(path):
    """Zero the last 22 bytes of a zip (its end-of-directory record): same size, no longer a zip."""
    data = path.read_bytes()
    path.write_bytes(data[:-22] + b"\0" * 22)


def scramble_npy_body(path):
    """Random bytes after a .npy header: numpy still loads it, every value is garbage."""
    import numpy as np

    data = path.read_bytes()
    noise = np.random.default_rng(0).integers(0, 256, len(data) - 128, dtype=np.uint8).tobytes()
    path.write_bytes(data[:128] + noise)


def as_legacy(gen):
    """Drop the checksums from a generation's manifest, as the versions before them wrote it."""
    manifest = json.loads((gen / "manifest.json").read_text())
    del manifest[store.DIGESTS]
    (gen / "manifest.json").write_text(json.dumps(manifest))


DAMAGE = {
    "chunks.npz": zero_zip_end,
    "bm25/indices.csc.index.npy": scramble_npy_body,
    "bm25/indptr.csc.index.npy": scramble_npy_body,
}


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


def test_manifest_records_a_checksum_of_every_file(built):
    """Each file of a generation but the manifest has its sha256 in the manifest."""
    import hashlib

    _, gen = built
    digests = json.loads((gen / "manifest.json").read_text())[store.DIGESTS]
    files = {p.relative_to(gen).as_posix() for p in gen.rglob("*") if p.is_file()} - {"manifest.json"}
    assert set(digests) == files and any(name.startswith("bm25/") for name in files)
    assert all(digests[name] == hashlib.sha256((gen / name).read_bytes()).hexdigest() for name in files)


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_same_size_damage_is_named_with_the_fix(built, name):
    """Damage that keeps a file's size (a zeroed zip directory, scrambled BM25 postings) is caught by
    the checksum: IndexCorrupt naming the file and `citebot index --rebuild`."""
    root, gen = built
    DAMAGE[name](gen / name)
    with pytest.raises(IndexCorrupt, match=rf"{name.replace('.', '[.]')} is damaged.*citebot index --rebuild"):
        store.read_index(root)


def test_generation_without_checksums_still_opens(built, embedder):
    """An index written before checksums (no file_sha256 in its manifest) loads and searches as before."""
    from bot.retrieval import retrieve

    root, gen = built
    before = store.read_index(root)
    as_legacy(gen)
    data = store.read_index(root)
    assert len(data) == len(before) and data.bm25 is not None
    vec = embedder.encode(["Who was arrested in Canada?"])[0]
    assert retrieve(data, vec, "Who was arrested in Canada?", depth=5)


@pytest.mark.parametrize("name", sorted(DAMAGE))
def test_same_size_damage_without_checksums_is_corrupt(built, name):
    """Without checksums, the same damage still gives IndexCorrupt (loading errors and structure
    checks), never a BadZipFile traceback or an IndexError at question time."""
    root, gen = built
    as_legacy(gen)
    DAMAGE[name](gen / name)
    with pytest.raises(IndexCorrupt, match="bm25" if name.startswith("bm25") else "chunks.npz"):
        store.read_index(root)


@pytest.mark.parametrize("rebuild", [False, True])
def test_build_over_same_size_damage_rebuilds(built, settings, embedder, rebuild):
    """`citebot index` rebuilds over a damaged generation and says why; `--rebuild` never reads it."""
    root, gen = built
    zero_zip_end(gen / "chunks.npz")
    report, data = build_index(settings, embedder, rebuild=rebuild)
    assert report.switched and report.embedded_chunks == report.chunks
    assert report.rebuilt_reason == "--rebuild" if rebuild else ("chunks.npz is damaged" in report.rebuilt_reason)
    assert "citebot index --rebuild" not in report.rebuilt_reason  # the report says what it did, not what to do
    assert store.current_path(root) != gen and len(store.read_index(root)) == len(data)
    assert gen.is_dir()  # the damaged generation is kept, not deleted under the user


def test_index_path_that_is_a_file_is_refused(settings, seed_sources, embedder):
    """An index path naming a file is one clear error, and the file is left as it was."""
    settings.index.write_text("notes")
    for action in (lambda: store.read_index(settings.index), lambda: build_index(settings, embedder)):
        with pytest.raises(IndexPathError, match="is a file, not a folder"):
            action()
    assert settings.index.read_text() == "notes"


@pytest.mark.parametrize("rebuild", [False, True])
def test_pointer_that_is_a_folder_is_refused(built, settings, embedder, rebuild):
    """A CURRENT that is a folder is reported before any embedding, and neither it nor the index is touched."""
    root, gen = built
    (root / "CURRENT").unlink()
    (root / "CURRENT").mkdir()
    (root / "CURRENT" / "mine.txt").write_text("keep")
    with pytest.raises(IndexPathError, match="CURRENT is not a file"):
        store.read_index(root)
    with pytest.raises(IndexPathError, match="CURRENT is not a file"):
        build_index(settings, embedder, rebuild=rebuild)
    assert (root / "CURRENT" / "mine.txt").read_text() == "keep" and gen.is_dir()


def test_binary_pointer_is_corrupt(built):
    """A pointer holding bytes that are not UTF-8 (or a NUL) is IndexCorrupt, not a decode traceback."""
    root, _ = built
    for junk in (b"\xff\xfe\x00gen", b"gen-\x00x"):
        (root / "CURRENT").write_bytes(junk)
        with pytest.raises(IndexCorrupt, match="CURRENT is damaged"):
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

    _, gen = built
    with np.load(gen / "chunks.npz", allow_pickle=False) as z:
        assert set(z.files) == {"doc", "start", "end", "hash"}
    for npy in (gen / "bm25").glob("*.npy"):
        np.load(npy, allow_pickle=False)
    assert not list(gen.rglob("*.pkl"))
