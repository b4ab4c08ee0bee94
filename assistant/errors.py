"""Error hierarchy: every message says what was wrong and what to do.

The CLI and the UI turn these into one clear line, never a traceback.
"""


class GuichetError(Exception):
    """Base class of every error the assistant reports to a user."""


class ConfigError(GuichetError):
    """A setting has an unknown or invalid value."""


class MissingDependency(GuichetError):
    """An optional backend was asked for but its extra is not installed."""


class IngestError(GuichetError):
    """A file could not be ingested; the message is the one-line reason."""


class UnsupportedFile(IngestError):
    """The file's extension or content is not a format the assistant reads."""


class IndexMismatch(GuichetError):
    """The index on disk was built with another embedder or another schema version."""


class QuestionSetError(GuichetError):
    """A question set does not follow the evaluation format."""


class InvalidQuery(GuichetError):
    """A question that cannot be searched (empty, too long, ...)."""
