"""Shared fixtures: the real packaged model loaded once, and every test isolated in a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "sources"


@pytest.fixture(scope="session")
def embedder():
    """The real default model (all-MiniLM-L6-v2 from its PyPI package), loaded once per session."""
    from bot.embedding import load_embedder

    return load_embedder()


@pytest.fixture(autouse=True)
def isolated(tmp_path, monkeypatch):
    """Point sources and index at a temp folder and run from there (no developer .env leaks in)."""
    for var in ("CITEBOT_SOURCES", "CITEBOT_INDEX", "CITEBOT_MODEL", "CITEBOT_MIN_SCORE"):
        monkeypatch.delenv(var, raising=False)
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("CITEBOT_SOURCES", str(work / "sources"))
    monkeypatch.setenv("CITEBOT_INDEX", str(work / "index"))
    return work


@pytest.fixture
def seed_sources(isolated) -> Path:
    """A copy of the default corpus (the two seed articles) in the temp sources folder."""
    dest = isolated / "sources"
    shutil.copytree(SEEDS, dest)
    return dest


@pytest.fixture
def settings(isolated):
    from bot.config import Settings

    return Settings()
