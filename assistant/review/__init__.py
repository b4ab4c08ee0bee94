"""Advisor review: nothing reaches a buyer until an advisor validates it, and nothing is lost.

Example:
    >>> from assistant.review import ReviewService  # doctest: +SKIP
    >>> from assistant.compose import review_service  # doctest: +SKIP
    >>> service = review_service(get_settings())  # doctest: +SKIP
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
from assistant.review.options import ReviewConfig
from assistant.review.service import ReviewService

__all__ = [
    "AuthenticationFailed",
    "Conflict",
    "DatabaseBusy",
    "DeliveryFailed",
    "IllegalTransition",
    "InvalidInput",
    "NotFound",
    "ReviewError",
    "ReviewConfig",
    "ReviewService",
    "SchemaError",
    "UnknownAdvisor",
    "UnknownThread",
]
