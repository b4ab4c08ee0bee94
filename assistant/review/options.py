"""What the review service needs to know, checked once when built (`assistant.compose` builds it).

Example:
    >>> from datetime import timedelta
    >>> ReviewConfig(Path("index"), "", draft_lease=timedelta(seconds=30), claim=timedelta(minutes=0))
    Traceback (most recent call last):
    ...
    assistant.review.errors.InvalidInput: claim duration must be > 0 minutes, got 0
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from assistant.review.errors import InvalidInput


@dataclass(frozen=True)
class ReviewConfig:
    """Where the review data lives and how long claims and draft leases hold.

    Args:
        home: GUICHET_HOME (the SQLite file, past-answer files of reusable answers).
        database_url: SQLAlchemy URL of the review database ("" = SQLite in `home`).
        draft_lease: How long a draft job stays claimed without a sign of life (> 0).
        claim: How long an advisor's claim on a question lasts (> 0).

    Raises:
        InvalidInput: a duration <= 0.
    """

    home: Path
    database_url: str
    draft_lease: timedelta
    claim: timedelta

    def __post_init__(self) -> None:
        if self.claim <= timedelta(0):
            raise InvalidInput(f"claim duration must be > 0 minutes, got {self.claim.total_seconds() / 60:g}")
        if self.draft_lease <= timedelta(0):
            raise InvalidInput(f"draft lease must be > 0 s, got {self.draft_lease.total_seconds():g}")
