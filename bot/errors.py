"""Errors a user can cause. Adapters show their message as one line; anything else is a bug."""


class CitebotError(Exception):
    """Base for every error whose message is meant for the user."""


class SourcesError(CitebotError):
    """The sources folder is missing, unreadable or holds no usable document."""


class IndexMissing(CitebotError):
    """No index has been built yet in the index folder."""


class IndexMismatch(CitebotError):
    """The index was built with another model, format or chunking than configured."""


class IndexCorrupt(CitebotError):
    """An index file is truncated, unreadable or inconsistent with the others."""


class QuestionError(CitebotError):
    """The question is empty, too long or not valid UTF-8 text."""


class BuildLocked(CitebotError):
    """Another build is already writing this index."""


class SettingsError(CitebotError):
    """A setting is missing or out of range, or the `.env` file cannot be read."""
