"""Fixtures of the review tests: a data directory in tmp_path, a real loopback SMTP server."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from assistant.review.service import ReviewService
from review_fixtures import PASSWORD, Inbox, open_service
from support import free_port


@pytest.fixture
def home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """GUICHET_HOME in tmp_path, and no other GUICHET_* variable from the outer environment."""
    for key in list(os.environ):
        if key.startswith("GUICHET_"):
            monkeypatch.delenv(key)
    monkeypatch.setenv("GUICHET_HOME", str(tmp_path))
    return tmp_path


@pytest.fixture
def smtp(home: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Inbox, int]]:
    """A real SMTP server on 127.0.0.1 (aiosmtpd), and the settings pointing at it."""
    inbox = Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    monkeypatch.setenv("GUICHET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GUICHET_SMTP_PORT", str(port))
    monkeypatch.setenv("GUICHET_SMTP_SECURITY", "none")
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture
def service(home: Path) -> Iterator[ReviewService]:
    """The service on GUICHET_HOME/review.sqlite with the fixed-passage drafter and two advisors."""
    svc = open_service()
    svc.add_advisor("alice", PASSWORD)
    svc.add_advisor("bob", PASSWORD)
    yield svc
    svc.close()
