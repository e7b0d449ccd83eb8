"""Tests for bot/config.py: every setting is bounded, and every bad value or `.env` is one clear line."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.config import Settings, load_settings
from bot.errors import SettingsError


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
