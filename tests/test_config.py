"""Tests for bot/config.py: every setting is bounded, and every bad value or `.env` is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import SettingsError


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("CITEBOT_MAX_FILE_MB", "inf", "bad setting max_file_mb: Input should be a finite number"),
        ("CITEBOT_MAX_FILE_MB", "1e400", "bad setting max_file_mb: Input should be a finite number"),
        ("CITEBOT_MIN_SCORE", "nan", "bad setting min_score: Input should be a finite number"),
        ("CITEBOT_MIN_SCORE", "-inf", "bad setting min_score: Input should be a finite number"),
        ("CITEBOT_MIN_SCORE", "-1", "bad setting min_score: Input should be greater than or equal to 0"),
        ("CITEBOT_MIN_SCORE", "5", "bad setting min_score: Input should be less than or equal to 1"),
        ("CITEBOT_CHUNK_OVERLAP", "501", "bad setting chunk_overlap: 501 is more than half of chunk_size 1000"),
        ("CITEBOT_BATCH_SIZE", "100000", "bad setting batch_size: Input should be less than or equal to 1024"),
        ("CITEBOT_MAX_QUESTION_CHARS", "10000000", "bad setting max_question_chars: Input should be less than"),
    ],
)
def test_out_of_range_settings_are_refused(monkeypatch, var, value, message):
    """Non-finite floats, a bar outside the cosine's 0..1, and sizes the code cannot honour are refused."""
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(Settings)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_bounds_keep_the_values_they_allow(monkeypatch):
    """The edges of each range still load: a bar of 1, an overlap of exactly half a passage."""
    for var, value in {"CITEBOT_MIN_SCORE": "1", "CITEBOT_CHUNK_SIZE": "401", "CITEBOT_CHUNK_OVERLAP": "200"}.items():
        monkeypatch.setenv(var, value)
    s = load_settings(Settings)
    assert (s.min_score, s.chunk_size, s.chunk_overlap) == (1.0, 401, 200)


@pytest.mark.parametrize("var", ["CITEBOT_SOURCES", "CITEBOT_INDEX", "CITEBOT_CACHE"])
@pytest.mark.parametrize("value", ["", "  "])
def test_empty_paths_are_refused(monkeypatch, var, value):
    """An empty folder setting is Path("."), the current folder: refused instead of written into."""
    monkeypatch.setenv(var, value)
    name = var.removeprefix("CITEBOT_").lower()
    with pytest.raises(SettingsError, match=f"bad setting {name}: is empty; give a path, or unset it"):
        load_settings(Settings)


def test_empty_path_from_dotenv_is_refused(isolated, monkeypatch):
    """`CITEBOT_INDEX=` in .env is refused as the environment's is."""
    monkeypatch.delenv("CITEBOT_INDEX")
    (isolated / ".env").write_text("CITEBOT_INDEX=\n", encoding="utf-8")
    with pytest.raises(SettingsError, match="bad setting index: is empty"):
        load_settings(Settings)


def test_dotenv_not_utf8_names_the_file_and_line(isolated):
    """A Latin-1 .env gives one line naming the file and its first undecodable line."""
    (isolated / ".env").write_bytes(b"CITEBOT_HYBRID=true\nCITEBOT_TOP_K=3 # caf\xe9\n")
    with pytest.raises(SettingsError) as caught:
        load_settings(Settings)
    assert str(caught.value) == f"{isolated / '.env'}:2: not UTF-8 text; save the file as UTF-8"


def test_dotenv_not_utf8_past_the_read_buffer(isolated):
    """The line is found in a .env longer than one decoder buffer (the decoder's offset is not the file's)."""
    body = b"".join(b"# comment line %05d\n" % i for i in range(2000)) + b"# caf\xe9\n"
    (isolated / ".env").write_bytes(body)
    with pytest.raises(SettingsError, match=r"\.env:2001: not UTF-8"):
        load_settings(Settings)


def test_explicit_env_file_is_named(tmp_path):
    """An env file passed explicitly is the one named."""
    env = tmp_path / "other.env"
    env.write_bytes(b"\xff\n")
    with pytest.raises(SettingsError, match=f"{env}:1: not UTF-8"):
        load_settings(Settings, _env_file=env)


def test_good_settings_load(isolated):
    """Paths and numbers from the environment load unchanged."""
    s = load_settings(Settings, top_k=5)
    assert s.index == isolated / "index" and isinstance(s.index, Path) and s.top_k == 5
