"""Helpers shared by several test packages (tests/ is on sys.path through tests/conftest.py)."""

from __future__ import annotations

import socket
from collections.abc import Iterable


def free_port() -> int:
    """A TCP port nobody listens on right now (also a refused-connection target)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def answer_of(advisor: str) -> str:
    """The answer text `validate_at_barrier` writes for an advisor."""
    return f"Réponse de {advisor}."


def validate_at_barrier(service, advisor: str, items: Iterable[tuple[int, int | None]],
                        barrier) -> dict[int, str]:
    """An advisor validating each (question id, version seen or None) as the barrier opens.

    Another advisor (thread or process) waits at the same barrier, so both write each question
    at once. Returns {question id: "ok", "conflict", or "ErrorType: message" for any other
    ReviewError}; other exceptions propagate.
    """
    from assistant.review.errors import Conflict, ReviewError

    outcome: dict[int, str] = {}
    for question_id, version in items:
        barrier.wait(timeout=60)
        try:
            service.validate(question_id, advisor, answer_of(advisor), expected_version=version)
            outcome[question_id] = "ok"
        except Conflict:
            outcome[question_id] = "conflict"
        except ReviewError as exc:
            outcome[question_id] = f"{type(exc).__name__}: {exc}"
    return outcome
