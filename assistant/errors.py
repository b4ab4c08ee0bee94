"""Error hierarchy: every message says what was wrong and what to do.

The CLI and the UI turn these into one clear line, never a traceback.
"""

import re

_UNPRINTABLE = re.compile(r"[\x00-\x1f\x7f\x85\u2028\u2029]")


def printable(text: object) -> str:
    """Text with its control characters escaped, so that it stays on one line.

    A file name may hold a newline; shown in a message, it must not break the line.

    Example:
        >>> printable("rapport\\nfinal.pdf")
        'rapport\\\\nfinal.pdf'
    """
    return _UNPRINTABLE.sub(lambda match: match.group().encode("unicode_escape").decode("ascii"), str(text))


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


class NewerIndex(IndexMismatch):
    """The index on disk was written by a newer guichet-vert: upgrade, never rebuild over it."""


class DiskFull(GuichetError):
    """The data directory's disk is full; what was written before is intact."""


class QuestionSetError(GuichetError):
    """A question set does not follow the evaluation format."""


class InvalidQuery(GuichetError):
    """A question that cannot be searched (empty, too long, ...)."""
