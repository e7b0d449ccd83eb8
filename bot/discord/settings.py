"""Discord settings, read from the environment or `.env` (never from a committed file)."""

from __future__ import annotations

import re
from typing import Any

from pydantic import AliasChoices, Field, SecretStr, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from ..config import NonEmptyPath


class DiscordSettings(BaseSettings):
    """The bot's own settings; the core `Settings` (CITEBOT_*) sit beside them."""

    model_config = SettingsConfigDict(env_file=".env", extra="ignore", populate_by_name=True, allow_inf_nan=False)

    token: SecretStr = Field(validation_alias="DISCORD_TOKEN", description="bot token (required)")
    api_base: str | None = Field(
        None, validation_alias="DISCORD_API_BASE", description="REST base URL; only for a local Discord stand-in"
    )
    gateway_url: str | None = Field(
        None, validation_alias="DISCORD_GATEWAY_URL", description="gateway websocket URL; only for a local stand-in"
    )
    guild_id: int | None = Field(
        None, gt=0, validation_alias="DISCORD_GUILD_ID", description="sync slash commands to this server only (instant)"
    )
    heartbeat: NonEmptyPath | None = Field(
        None, validation_alias="CITEBOT_HEARTBEAT", description="heartbeat file; default <index>/.heartbeat.json"
    )
    heartbeat_seconds: float = Field(10.0, gt=0, le=15, validation_alias="DISCORD_HEARTBEAT_SECONDS")
    cooldown_seconds: float = Field(
        5.0, ge=0, validation_alias="DISCORD_COOLDOWN_SECONDS", description="per-user pause between questions"
    )
    fetch_max_mb: float = Field(10.0, gt=0, validation_alias="DISCORD_FETCH_MAX_MB")
    fetch_timeout: float = Field(20.0, gt=0, validation_alias=AliasChoices("DISCORD_FETCH_TIMEOUT"))
    guild_ready_timeout: float = Field(2.0, gt=0, validation_alias="DISCORD_GUILD_READY_TIMEOUT")
    login_retry_seconds: float = Field(2.0, gt=0, le=300, validation_alias="DISCORD_LOGIN_RETRY_SECONDS")
    servers: str | None = Field(
        None, validation_alias="DISCORD_SERVERS", description="server ids the bot serves; it leaves any other"
    )

    @field_validator("servers", mode="before")
    @classmethod
    def _server_ids(cls, value: Any) -> Any:
        """ "111, 222" (commas or spaces); blank means every server the bot is in."""
        if value is None or (isinstance(value, str) and not value.strip()):
            return None
        parts = [x for x in re.split(r"[,\s]+", str(value).strip()) if x]
        if not all(x.isdigit() and int(x) > 0 for x in parts):
            raise ValueError("give server ids (numbers) separated by commas")
        return ",".join(parts)

    @property
    def server_ids(self) -> frozenset[int] | None:
        return frozenset(int(x) for x in self.servers.split(",")) if self.servers else None

    @field_validator("guild_id", mode="before")
    @classmethod
    def _blank_guild_is_unset(cls, value: Any) -> Any:
        """`DISCORD_GUILD_ID=` (a line left blank in .env) means unset, as the README's table says."""
        return None if isinstance(value, str) and not value.strip() else value
