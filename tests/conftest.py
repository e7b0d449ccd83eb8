"""Shared fixtures: the real packaged model loaded once, and every test isolated in a temp folder."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SEEDS = REPO / "sources"


@pytest.fixture(scope="session", autouse=True)
def citebot_cache(tmp_path_factory):
    """One ONNX export per test session, in a temp cache (never the user's); CLI subprocesses inherit it."""
    import os

    cache = tmp_path_factory.mktemp("citebot-cache")
    before = os.environ.get("CITEBOT_CACHE")
    os.environ["CITEBOT_CACHE"] = str(cache)
    yield cache
    if before is None:
        os.environ.pop("CITEBOT_CACHE", None)
    else:
        os.environ["CITEBOT_CACHE"] = before


@pytest.fixture(scope="session")
def embedder(citebot_cache):
    """The real default embedder (all-MiniLM-L6-v2 from its PyPI package, on the default int8
    backend), loaded once per session."""
    from bot.embedding import load_embedder

    return load_embedder()


@pytest.fixture(scope="session")
def torch_embedder():
    """sentence-transformers on torch: the reference the ONNX backends are checked against."""
    from bot.embedding import load_embedder

    return load_embedder(backend="torch")


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


@pytest.fixture
def engine_over(isolated, settings, embedder):
    """Build a real engine over small hand-written articles: `engine_over({"a.txt": "Title\n\nText"})`."""
    from bot.engine import Engine

    def build(articles: dict[str, str]) -> Engine:
        folder = isolated / "sources"
        folder.mkdir(exist_ok=True)
        for name, text in articles.items():
            (folder / name).write_text(text, encoding="utf-8")
        return Engine.open_or_build(settings, embedder)[0]

    return build
