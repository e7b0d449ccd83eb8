"""The heartbeat file and the health verdict drawn from it."""

from __future__ import annotations

import json
import os

import pytest

from bot.discord import heartbeat


def test_write_is_atomic_json_with_the_contract_fields(tmp_path):
    """The file holds ts, connected, documents, chunks, pid and no temp file is left behind."""
    path = tmp_path / "beats" / "hb.json"
    heartbeat.write(path, True, 3, 12)
    data = json.loads(path.read_text())
    assert set(data) == {"ts", "connected", "documents", "chunks", "pid"}
    assert data["connected"] is True and data["documents"] == 3 and data["pid"] == os.getpid()
    assert [p.name for p in path.parent.iterdir()] == ["hb.json"]


def test_problem_reports_missing_stale_disconnected_and_garbage(tmp_path):
    """Healthy only when present, fresh and connected; otherwise a reason."""
    path = tmp_path / "hb.json"
    assert "no heartbeat file" in heartbeat.problem(path, 60)
    beat = heartbeat.write(path, True, 1, 1)
    assert heartbeat.problem(path, 60) is None
    assert "old" in heartbeat.problem(path, 60, now=beat.ts + 61)
    heartbeat.write(path, False, 1, 1)
    assert heartbeat.problem(path, 60) == "the bot is not connected to Discord"
    path.write_text("{not json")
    assert "unreadable" in heartbeat.problem(path, 60)


def test_heartbeat_path_comes_from_env_or_dotenv(isolated, monkeypatch):
    """`health` finds the file where `serve` writes it: $CITEBOT_HEARTBEAT, also from .env."""
    monkeypatch.delenv("CITEBOT_HEARTBEAT", raising=False)
    assert heartbeat.configured_path() is None
    (isolated / ".env").write_text("CITEBOT_HEARTBEAT=/run/citebot/hb.json\n")
    assert str(heartbeat.configured_path()) == "/run/citebot/hb.json"
    monkeypatch.setenv("CITEBOT_HEARTBEAT", "/elsewhere/hb.json")
    assert str(heartbeat.configured_path()) == "/elsewhere/hb.json"


def test_empty_heartbeat_path_is_refused(isolated, monkeypatch):
    """An empty CITEBOT_HEARTBEAT would name the current folder; it is a settings error instead."""
    from bot.errors import SettingsError

    monkeypatch.setenv("CITEBOT_HEARTBEAT", "")
    with pytest.raises(SettingsError, match="bad setting CITEBOT_HEARTBEAT: is empty"):
        heartbeat.configured_path()
