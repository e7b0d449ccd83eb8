"""Saving an added source: atomic, never overwriting, and a clear error on a read-only folder."""

from __future__ import annotations

import pytest

from bot.discord.admin import write_source
from bot.errors import CitebotError


def test_write_source_never_overwrites(tmp_path):
    """A second file of the same name gets a suffix; no temp file is left for the indexer to read."""
    folder = tmp_path / "sources" / "added"
    first = write_source(folder, "a.txt", b"one")
    second = write_source(folder, "a.txt", b"two")
    assert (first.name, second.name) == ("a.txt", "a-2.txt")
    assert sorted(p.name for p in folder.iterdir()) == ["a-2.txt", "a.txt"]
    assert first.read_bytes() == b"one"


def test_unwritable_sources_folder_is_a_clear_error(tmp_path):
    """A sources folder that cannot be written gives a one-line reason, not a traceback."""
    blocker = tmp_path / "sources"
    blocker.write_text("a file where the folder should be")
    with pytest.raises(CitebotError, match="Cannot save into the sources folder: Not a directory"):
        write_source(blocker / "added", "a.txt", b"x")
