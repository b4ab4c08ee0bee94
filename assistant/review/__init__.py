"""Advisor review: nothing reaches a buyer until an advisor validates it, and nothing is lost.

Example:
    >>> from assistant.review import ReviewService  # doctest: +SKIP
    >>> service = ReviewService(get_settings(), drafter=draft_for_review)  # doctest: +SKIP
"""

from assistant.review.errors import (
    AuthenticationFailed,
    Conflict,
    DatabaseBusy,
    DeliveryFailed,
    IllegalTransition,
    InvalidInput,
    NotFound,
    ReviewError,
    SchemaError,
    UnknownAdvisor,
    UnknownThread,
)
from assistant.review.service import ReviewService, open_service

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DatabaseBusy",
    "DeliveryFailed",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "ReviewError",
    "ReviewService",
    "SchemaError",
    "UnknownAdvisor",
    "UnknownThread",
    "open_service",
]
