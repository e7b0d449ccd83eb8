"""Discord settings: the token comes from the environment or .env and is never shown."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from bot.discord.settings import DiscordSettings


def test_token_from_dotenv_is_secret(isolated, monkeypatch):
    """A token in ./.env is read, and neither repr nor str of the settings reveals it."""
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    (isolated / ".env").write_text("DISCORD_TOKEN=abc.def.secret\nDISCORD_COOLDOWN_SECONDS=2\n")
    ds = DiscordSettings()
    assert ds.token.get_secret_value() == "abc.def.secret"
    assert ds.cooldown_seconds == 2
    assert "secret" not in repr(ds) and "secret" not in str(ds)


def test_token_is_required(isolated, monkeypatch):
    """Without DISCORD_TOKEN the settings refuse to load (the CLI turns this into one line)."""
    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(ValidationError):
        DiscordSettings()


def test_heartbeat_interval_is_at_most_15_seconds(isolated, monkeypatch):
    """The heartbeat contract says every <= 15 s; a longer interval is refused."""
    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setenv("DISCORD_HEARTBEAT_SECONDS", "30")
    with pytest.raises(ValidationError):
        DiscordSettings()


@pytest.mark.parametrize(
    ("var", "value", "message"),
    [
        ("DISCORD_COOLDOWN_SECONDS", "inf", "bad setting DISCORD_COOLDOWN_SECONDS: Input should be a finite number"),
        ("DISCORD_FETCH_MAX_MB", "1e400", "bad setting DISCORD_FETCH_MAX_MB: Input should be a finite number"),
        ("DISCORD_FETCH_TIMEOUT", "nan", "bad setting DISCORD_FETCH_TIMEOUT: Input should be a finite number"),
        ("DISCORD_GUILD_READY_TIMEOUT", "inf", "bad setting DISCORD_GUILD_READY_TIMEOUT: Input should be a finite"),
        ("DISCORD_HEARTBEAT_SECONDS", "nan", "bad setting DISCORD_HEARTBEAT_SECONDS: Input should be a finite"),
        ("DISCORD_GUILD_ID", "-5", "bad setting DISCORD_GUILD_ID: Input should be greater than 0"),
        ("CITEBOT_HEARTBEAT", "", "bad setting CITEBOT_HEARTBEAT: is empty"),
    ],
)
def test_bad_values_are_one_line(isolated, monkeypatch, var, value, message):
    """Non-finite numbers, a negative server id and an empty heartbeat path are refused in one line."""
    from bot.config import load_settings
    from bot.errors import SettingsError

    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setenv(var, value)
    with pytest.raises(SettingsError) as caught:
        load_settings(DiscordSettings)
    assert message in str(caught.value) and "\n" not in str(caught.value)


def test_missing_token_names_it(isolated, monkeypatch):
    """Without a token, the one line says which variable to set and where."""
    from bot.config import load_settings
    from bot.errors import SettingsError

    monkeypatch.delenv("DISCORD_TOKEN", raising=False)
    with pytest.raises(
        SettingsError, match=r"^DISCORD_TOKEN is not set \(put it in the environment or a \.env file\)$"
    ):
        load_settings(DiscordSettings)


def test_blank_server_id_means_unset(isolated, monkeypatch):
    """`DISCORD_GUILD_ID=` left blank in .env is unset (commands sync globally), not an "invalid integer"."""
    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setenv("DISCORD_GUILD_ID", " ")
    assert DiscordSettings().guild_id is None


def test_server_list_is_read_and_checked(isolated, monkeypatch):
    """DISCORD_SERVERS takes ids separated by commas or spaces; a name instead of an id is refused."""
    from bot.config import load_settings
    from bot.errors import SettingsError

    monkeypatch.setenv("DISCORD_TOKEN", "x")
    monkeypatch.setenv("DISCORD_SERVERS", " 111, 222 333 ")
    assert DiscordSettings().server_ids == frozenset({111, 222, 333})
    monkeypatch.setenv("DISCORD_SERVERS", "")
    assert DiscordSettings().server_ids is None
    monkeypatch.setenv("DISCORD_SERVERS", "my-server")
    with pytest.raises(SettingsError, match="DISCORD_SERVERS: .*give server ids"):
        load_settings(DiscordSettings)
