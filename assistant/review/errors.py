"""Errors of the review workflow: each message says what was wrong and what to do.

Example:
    >>> raise IllegalTransition("question 12 is 'sent': cannot reject it")
    Traceback (most recent call last):
    ...
    assistant.review.errors.IllegalTransition: question 12 is 'sent': cannot reject it
"""

from __future__ import annotations

from assistant.errors import GuichetError


class ReviewError(GuichetError):
    """Base class of every review-workflow error."""


class NotFound(ReviewError):
    """A question, draft or outbox entry with this id does not exist."""


class UnknownThread(ReviewError):
    """A buyer token that does not exist, or that does not own the question asked about.

    Both cases carry the same message on purpose: a caller must not learn which tokens exist.
    """


class UnknownAdvisor(ReviewError):
    """No advisor has this name."""


class AuthenticationFailed(ReviewError):
    """Wrong advisor name or password (one message for both)."""


class InvalidInput(ReviewError):
    """An empty, too long or malformed value (question, answer text, e-mail, rating, ...)."""


class IllegalTransition(ReviewError):
    """The action is not allowed in the question's current state."""


class Conflict(ReviewError):
    """Another advisor changed or holds the item: reload it, nothing was overwritten."""


class DatabaseBusy(ReviewError):
    """The review database stayed locked by another connection longer than the busy timeout."""


class SchemaError(ReviewError):
    """The database schema is newer than this code, or the database is not a review database."""


class DeliveryFailed(ReviewError):
    """The mail server refused or could not be reached; the outbox keeps the message."""


class NotEmpty(ReviewError):
    """A backup can only be imported into an empty database."""


class BackupError(ReviewError):
    """A backup file is malformed or comes from another schema version."""


class RateLimited(ReviewError):
    """Too many requests for one key (a buyer, an address, an advisor account).

    Args:
        retry_after: Seconds until the next request is allowed.
        message: What was limited (a generic sentence when empty).
    """

    def __init__(self, retry_after: float, message: str = "") -> None:
        self.retry_after = max(0.0, retry_after)
        super().__init__(message or f"too many requests: retry in {self.retry_after:.0f} s")
