"""The Discord adapter: a thin layer that turns slash commands and mentions into Engine calls."""
