"""Mail delivery that survives failures and crashes (issue #16, items 2 and 3).

Every test delivers through a real SMTP server on loopback (aiosmtpd); crashes are real
processes killed with SIGKILL at the moment described.
"""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from aiosmtpd.controller import Controller

from assistant.review.delivery import DeliveryWorker
from assistant.review.migrations import LATEST
from review_fixtures import Clock, Inbox, body, open_service
from support import free_port

HERE = Path(__file__).parent
QUESTION = "Que faire de PC de 7 ans : don ou DEEE ?"
ANSWER = "Donnez-les à une structure de réemploi [1]."


def _smtp_env(monkeypatch, port: int) -> None:
    monkeypatch.setenv("GUICHET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GUICHET_SMTP_PORT", str(port))
    monkeypatch.setenv("GUICHET_SMTP_SECURITY", "none")


def _wait(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.05)


def test_a_failed_mail_is_retried_in_the_background_after_30_s_then_delivered_once(home, monkeypatch):
    port = free_port()  # nothing listens yet: the first attempt fails
    _smtp_env(monkeypatch, port)
    clock = Clock()
    service = open_service(clock=clock)
    service.add_advisor("alice", "correct horse battery")
    sub = service.submit(QUESTION, email="un@ville.fr")
    service.validate(sub.id, "alice", ANSWER)
    (entry,) = service.outbox()
    assert (entry.status, entry.attempts) == ("failed", 1), entry
    assert entry.next_attempt_at - clock.now == timedelta(seconds=30), "the first retry comes within a minute"
    (row,) = [q for q in service.list_questions() if q.id == sub.id]
    assert (row.status, row.mail, row.mail_retry_at) == ("sent", "failed", entry.next_attempt_at), \
        "the queue sees the answer whose mail failed, and when it is tried again"

    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    worker = DeliveryWorker(service.mail, poll_s=0.05).start()
    try:
        time.sleep(0.5)
        assert inbox.messages() == [], "not before its retry time"
        clock.advance(timedelta(seconds=31))
        _wait(lambda: len(inbox.messages()) == 1, 10, "the background delivery did not retry the mail")
        _wait(lambda: service.outbox()[0].status == "sent", 10, "the delivery is recorded")
        time.sleep(0.5)
    finally:
        worker.stop()
        controller.stop()
    (message,) = inbox.to("un@ville.fr")
    assert ANSWER in body(message)
    (entry,) = service.outbox()
    assert (entry.status, entry.attempts) == ("sent", 2) and message["Message-ID"] == entry.message_id, entry
    assert [q.mail for q in service.list_questions()] == [None], "a delivered mail leaves the queue"
    actions = [e.action for e in service.show(sub.id).events]
    assert actions[-2:] == ["mail_failed", "mailed"], actions


class TroubleAtQuit(Inbox):
    """Accepts the mail, then answers QUIT with an error, or drops the connection instead."""

    def __init__(self, trouble: str) -> None:
        super().__init__()
        self.trouble = trouble

    async def handle_QUIT(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        if self.trouble == "dropped":
            server.transport.abort()
        return "451 4.3.0 closing with an error"


@pytest.mark.parametrize("trouble", ["error reply", "dropped"])
def test_trouble_after_the_server_accepted_the_mail_is_not_a_failure(home, monkeypatch, trouble):
    inbox, port = TroubleAtQuit(trouble), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    _smtp_env(monkeypatch, port)
    try:
        service = open_service()
        service.add_advisor("alice", "correct horse battery")
        sub = service.submit(QUESTION, email="un@ville.fr")
        service.validate(sub.id, "alice", ANSWER)
        (entry,) = service.outbox()
        assert (entry.status, entry.attempts) == ("sent", 1), \
            f"accepted is delivered, whatever happens at QUIT (else the retry sends a copy): {entry}"
        assert service.retry_outbox().entries == ()
    finally:
        controller.stop()
    assert len(inbox.to("un@ville.fr")) == 1


class KillSenderOnData(Inbox):
    """Stores the message, then kills the sending process before answering DATA (the crash
    between the server's acceptance and the outbox recording it)."""

    def __init__(self) -> None:
        super().__init__()
        self.victim: int | None = None

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        reply = await super().handle_DATA(server, session, envelope)
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim = None
        return reply


def test_a_sender_killed_after_acceptance_resends_with_the_same_message_id(home, monkeypatch, service):
    inbox, port = KillSenderOnData(), free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    _smtp_env(monkeypatch, port)
    try:
        child = subprocess.Popen([sys.executable, "-c", f"import sys; sys.path.insert(0, {str(HERE)!r})\n" +
                                  textwrap.dedent(f"""
                                      import os, sys
                                      from review_fixtures import open_service
                                      service = open_service()
                                      sub = service.submit({QUESTION!r}, email="un@ville.fr")
                                      print(os.getpid(), sub.id, flush=True)
                                      sys.stdin.readline()
                                      service.validate(sub.id, "alice", {ANSWER!r})
                                  """)], stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True, env=dict(os.environ))
        pid, qid = map(int, child.stdout.readline().split())
        inbox.victim = pid
        child.communicate("\n", timeout=120)
        assert child.returncode == -signal.SIGKILL, "the sender must die right after the server accepted"
        (entry,) = service.outbox()
        assert (entry.status, entry.attempts) == ("pending", 1), entry

        later = open_service(clock=lambda: datetime.now(timezone.utc) + timedelta(minutes=5))
        assert later.retry_outbox().sent == 1
    finally:
        controller.stop()
    first, second = inbox.to("un@ville.fr")
    assert first["Message-ID"] == second["Message-ID"] == service.outbox()[0].message_id, \
        "the copy carries the same Message-ID, so the receiving system keeps one"
    assert body(first) == body(second) and ANSWER in body(first)


def test_an_outbox_of_schema_version_4_gets_message_ids_and_is_still_delivered(home, monkeypatch):
    port = free_port()
    _smtp_env(monkeypatch, port)
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    sub = service.submit(QUESTION, email="un@ville.fr")
    service.validate(sub.id, "alice", ANSWER)
    service.close()
    with sqlite3.connect(home / "review.sqlite") as conn:  # back to version 4's outbox
        conn.executescript("""
            ALTER TABLE outbox DROP COLUMN message_id;
            ALTER TABLE outbox DROP COLUMN next_attempt_at;
            ALTER TABLE drafts DROP COLUMN peers;
            ALTER TABLE questions DROP COLUMN sealed_token;
            DELETE FROM schema_version WHERE version > 4;
        """)
    inbox = Inbox()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        reopened = open_service()
        assert reopened.schema_version == LATEST
        (entry,) = reopened.outbox()
        assert entry.status == "failed" and entry.message_id.startswith("<") and "question-" in entry.message_id
        assert reopened.mail.due_ids() == [entry.id], "a failed row of the old schema is due at once"
        assert reopened.mail.deliver_due() == 1
    finally:
        controller.stop()
    (message,) = inbox.to("un@ville.fr")
    assert message["Message-ID"] == entry.message_id
