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
    """An index file is truncated, unreadable or inconsistent with the others: a full rebuild, which
    never reads the damaged generation, is the fix, so every message ends by saying to run one."""

    def __init__(self, problem: str) -> None:
        super().__init__(problem)
        self.problem = problem  # without the advice, for a build report that already rebuilt

    def __str__(self) -> str:
        return f"{self.problem}; rebuild it with `citebot index --rebuild`"


class IndexPathError(CitebotError):
    """The index folder is a file, or its CURRENT pointer is not a file: citebot will not replace
    what it did not write, so the user has to move it."""


class QuestionError(CitebotError):
    """The question is empty, too long or not valid UTF-8 text."""


class BuildLocked(CitebotError):
    """Another build is already writing this index."""


class SettingsError(CitebotError):
    """A setting is missing or out of range, or the `.env` file cannot be read."""


class Stopped(CitebotError):
    """The process was told to stop (SIGTERM, Ctrl-C) while a build was embedding."""
