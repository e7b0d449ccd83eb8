"""Tests for bot/indexing.py: incremental builds re-embed only what changed; a killed build loses nothing."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot import store
from bot.config import Settings
from bot.engine import Engine
from bot.errors import SourcesError
from bot.indexing import build_index


def test_first_build_then_nothing_to_do(seed_sources, settings, embedder):
    """The first build embeds every chunk; a second run with no change embeds none and keeps the index."""
    report, data = build_index(settings, embedder)
    assert report.documents == 2 and report.chunks == len(data) > 2
    assert report.embedded_chunks == report.chunks and report.switched
    live = store.current_path(settings.index)
    again, _ = build_index(settings, embedder)
    assert again.embedded_chunks == 0 and not again.switched
    assert store.current_path(settings.index) == live


def test_edit_one_source_reembeds_only_its_changed_chunks(seed_sources, settings, embedder):
    """Editing a paragraph of one article re-embeds only the chunks whose text changed."""
    first, data = build_index(settings, embedder)
    pompeo = seed_sources / "000_24054db15d7a09bf.txt"
    text = pompeo.read_text(encoding="utf-8")
    pompeo.write_text(text.replace("Meng has since remained in Canada", "Meng has since stayed in Canada"), encoding="utf-8")
    before = {data.chunk_text(i) for i in range(len(data))}
    report, new = build_index(settings, embedder)
    after = [new.chunk_text(i) for i in range(len(new))]
    changed_chunks = [t for t in after if t not in before]
    assert report.changed == ["000_24054db15d7a09bf.txt"] and not report.added and not report.removed
    assert report.unchanged == 1
    assert report.embedded_chunks == len(changed_chunks) == 1
    assert report.reused_chunks == len(new) - 1


def test_incremental_build_equals_a_full_rebuild(seed_sources, settings, embedder, tmp_path):
    """Unchanged sources keep their old chunks and hashes (not re-chunked); the result is exactly
    what a build from scratch gives: same passages, offsets and hashes, and the same vectors up to
    int8's batch dependence (a passage's dynamic int8 vector shifts a little with its batch mates)."""
    import shutil

    import numpy as np

    shutil.copy(seed_sources / "000_24054db15d7a09bf.txt", seed_sources / "copy.txt")
    build_index(settings, embedder)
    pompeo = seed_sources / "000_24054db15d7a09bf.txt"
    pompeo.write_text(pompeo.read_text(encoding="utf-8").replace("Canada", "Canada, says the report,", 1), encoding="utf-8")
    (seed_sources / "004_292b256e50e7843a.txt").rename(seed_sources / "moved.txt")
    report, updated = build_index(settings, embedder)
    assert report.changed == ["000_24054db15d7a09bf.txt"] and report.unchanged == 1
    fresh_settings = Settings(sources=seed_sources, index=tmp_path / "fresh-index")
    _, fresh = build_index(fresh_settings, embedder)
    assert [d["source"] for d in updated.documents] == [d["source"] for d in fresh.documents]
    for name in ("chunk_doc", "chunk_start", "chunk_end", "chunk_hash"):
        assert np.array_equal(getattr(updated, name), getattr(fresh, name)), name
    cosines = np.sum(updated.dense.vectors() * fresh.dense.vectors(), axis=1)
    assert cosines.min() > 0.97


def test_delete_and_add_sources(seed_sources, settings, embedder):
    """A deleted source disappears from the index; a new one is added with only its chunks embedded."""
    build_index(settings, embedder)
    (seed_sources / "004_292b256e50e7843a.txt").unlink()
    (seed_sources / "new.md").write_text("---\ntitle: Bananas\n---\nBanana bread needs ripe bananas.\n")
    report, data = build_index(settings, embedder)
    assert report.removed == ["004_292b256e50e7843a.txt"]
    assert report.added == ["new.md"]
    assert report.embedded_chunks == 1
    assert sorted(d["source"] for d in data.documents) == ["000_24054db15d7a09bf.txt", "new.md"]
    engine = Engine.open(settings, embedder)
    assert {d.source for d in engine.documents()} == {"000_24054db15d7a09bf.txt", "new.md"}


def test_chunking_change_rebuilds_everything_and_says_why(seed_sources, settings, embedder):
    """Changing the chunk size re-embeds everything, with the reason in the report."""
    build_index(settings, embedder)
    other = Settings(chunk_size=400)
    report, _ = build_index(other, embedder)
    assert report.rebuilt_reason and "chunk_size" in report.rebuilt_reason
    assert report.embedded_chunks == report.chunks


def test_folder_of_only_bad_files_is_a_clear_error(isolated, settings, embedder):
    """A sources folder where nothing is readable fails with the reasons, and writes no index."""
    src = isolated / "sources"
    src.mkdir()
    (src / "empty.txt").write_bytes(b"")
    (src / "bin.txt").write_bytes(b"\x00\x01\x02")
    with pytest.raises(SourcesError, match="no readable documents"):
        build_index(settings, embedder)
    assert store.current_path(settings.index) is None


def _big_corpus(root: Path, n: int) -> None:
    words = "market council river station budget league album phone vote court energy film".split()
    for i in range(n):
        body = " ".join(f"{words[(i + j) % len(words)]} report {i} item {j}." for j in range(150))
        (root / f"extra_{i:04d}.txt").write_text(f"Extra article {i}\n\n{body}\n", encoding="utf-8")


def _citebot(*args: str, env: dict) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "bot.cli", *args], env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGINT])
def test_killed_build_leaves_old_index_answering(seed_sources, settings, embedder, sig):
    """Killing (or Ctrl-C on) a real `citebot index` half-way leaves the previous index live and whole."""
    build_index(settings, embedder)
    live = store.current_path(settings.index)
    _big_corpus(seed_sources, 300)
    env = dict(os.environ)
    proc = _citebot("index", env=env)
    deadline = time.monotonic() + 120
    # Wait until the model is loaded and embedding is under way (the process is busy, not starting).
    time.sleep(12)
    assert proc.poll() is None, "the build finished before it could be interrupted"
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=max(5, deadline - time.monotonic()))
    if sig == signal.SIGKILL:
        assert proc.returncode == -signal.SIGKILL
    else:
        assert proc.returncode == 130 and "previous index is untouched" in err and "Traceback" not in err
    assert store.current_path(settings.index) == live
    engine = Engine.open(settings, embedder)
    assert engine.document_count == 2
    answer = engine.ask("Who was arrested in Canada?", use_threshold=False)
    assert "Meng" in answer.passages[0].text
    # The next build cleans up whatever the killed one left and switches normally.
    for extra in sorted(seed_sources.glob("extra_*.txt"))[2:]:
        extra.unlink()
    report, _ = build_index(settings, embedder)
    assert report.switched and report.documents == 4
    assert not list(settings.index.glob(".tmp-*"))
