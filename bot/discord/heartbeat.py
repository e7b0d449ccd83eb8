"""The heartbeat file: proof of life a supervisor (Docker HEALTHCHECK, `citebot health`) can read.

No discord import here, so `citebot health` stays fast.
"""

from __future__ import annotations

import json
import os
import time
from dataclasses import asdict, dataclass
from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..config import NonEmptyPath, load_settings


@dataclass
class Beat:
    ts: float
    connected: bool
    documents: int
    chunks: int
    pid: int


class _HeartbeatSetting(BaseSettings):
    model_config = SettingsConfigDict(env_file=".env", extra="ignore")

    path: NonEmptyPath | None = Field(None, validation_alias="CITEBOT_HEARTBEAT")


def default_path(index: Path) -> Path:
    return index / ".heartbeat.json"


def configured_path() -> Path | None:
    """$CITEBOT_HEARTBEAT from the environment or .env (what `serve` uses), if set; SettingsError
    when it is empty or the .env cannot be read."""
    return load_settings(_HeartbeatSetting).path


def write(path: Path, connected: bool, documents: int, chunks: int) -> Beat:
    """Write atomically (temp file in the same folder, then os.replace): readers never see half a file."""
    beat = Beat(time.time(), connected, documents, chunks, os.getpid())
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps(asdict(beat)), encoding="utf-8")
    os.replace(tmp, path)
    return beat


def problem(path: Path, max_age: float, now: float | None = None) -> str | None:
    """Why the bot is not healthy, or None when the file is fresh and says connected."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return f"no heartbeat file at {path} (is `citebot serve` running?)"
    except (OSError, ValueError) as exc:
        return f"heartbeat file {path} is unreadable: {exc}"
    if not isinstance(data, dict) or not isinstance(data.get("ts"), int | float):
        return f"heartbeat file {path} has no timestamp"
    age = (time.time() if now is None else now) - float(data["ts"])
    if age > max_age:
        return f"heartbeat is {age:.0f}s old (limit {max_age:g}s)"
    if data.get("connected") is not True:
        return "the bot is not connected to Discord"
    return None
