"""Faults: processes killed at every step, a database locked by another process, unknown schema."""

from __future__ import annotations

import signal
import sqlite3
import subprocess
import sys
import textwrap
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import update

import assistant.cli.review  # noqa: F401 - registers the review commands on `cli`
from assistant.cli import cli
from assistant.review.db import transaction
from assistant.review.errors import Conflict, DatabaseBusy, SchemaError
from assistant.review.migrations import LATEST
from assistant.review.models import QuestionRow
from review_fixtures import body, open_service

HERE = Path(__file__).parent
QUESTION = "Que faire de PC de 7 ans : don ou DEEE ?"


def _child(code: str, timeout: float = 60) -> subprocess.CompletedProcess:
    """Run `code` in a fresh Python process that sees the test helpers and GUICHET_* settings."""
    prelude = f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=timeout)


def _integrity(home: Path) -> str:
    with sqlite3.connect(home / "review.sqlite") as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def test_process_killed_between_draft_and_send_leaves_a_consistent_item(service, home):
    proc = _child("""
        import os, signal
        from review_fixtures import open_service
        service = open_service()
        sub = service.submit("Que faire de PC de 7 ans : don ou DEEE ?", email="a@ville.fr")
        service.claim(sub.id, "alice")
        print(sub.id, sub.thread, flush=True)
        os.kill(os.getpid(), signal.SIGKILL)   # dies before validating
    """)
    assert proc.returncode == -signal.SIGKILL, f"the child must die by SIGKILL: {proc.stderr}"
    qid, token = int(proc.stdout.split()[0]), proc.stdout.split()[1]  # the buyer's token: only they hold it
    reopened = open_service()
    detail = reopened.show(qid)
    assert (detail.status, detail.claimed_by, detail.drafts) == ("in_review", "alice", 1), detail
    assert [e.action for e in detail.events] == ["received", "drafted", "claimed"], detail.events
    assert detail.answer is None and reopened.thread(token).messages[0].answer is None
    assert reopened.validate(qid, "alice").status == "sent", "the item can be finished after a restart"
    assert _integrity(home) == "ok"


def test_process_killed_while_drafting_keeps_the_question(service, home):
    proc = _child("""
        from review_fixtures import dying_drafter, open_service
        open_service(drafter=dying_drafter).submit("Que faire de PC de 7 ans : don ou DEEE ?")
    """)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    (question,) = service.list_questions()
    assert (question.status, question.text) == ("received", QUESTION), "the question must survive the crash"
    assert service.redraft(question.id).status == "drafted", "a system redraft recovers it"


def test_process_killed_during_mail_delivery_then_retry_delivers(service, home, smtp):
    inbox, _ = smtp
    proc = _child("""
        from review_fixtures import DyingMailer, open_service
        service = open_service(mailer=DyingMailer())
        sub = service.submit("Que faire de PC de 7 ans : don ou DEEE ?", email="a@ville.fr")
        print(sub.id, flush=True)
        service.validate(sub.id, "alice", "Donnez-les à une structure de réemploi [1].")
    """)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    qid = int(proc.stdout.split()[0])
    detail = service.show(qid)
    assert detail.status == "sent" and detail.answer is not None, "the validation was committed before mailing"
    (entry,) = detail.outbox
    assert (entry.status, entry.attempts) == ("pending", 1), f"the mail must still be in the outbox: {entry}"
    assert service.retry_outbox().sent == 0, "a mail leased by a (dead) sender is not sent twice at once"

    later = open_service(clock=lambda: datetime.now(timezone.utc) + timedelta(minutes=5))
    report = later.retry_outbox()
    assert (report.sent, report.failed) == (1, 0), report
    (message,) = inbox.to("a@ville.fr")
    assert "structure de réemploi" in body(message), "the retried mail carries the validated answer"


def test_process_killed_inside_a_write_transaction_rolls_back(service, home):
    qid = service.submit(QUESTION).id
    proc = _child(f"""
        import os, signal
        from assistant.review.db import transaction
        from assistant.review.models import QuestionRow
        from review_fixtures import open_service
        service = open_service()
        with transaction(service.engine, write=True) as session:
            row = session.get(QuestionRow, {qid})
            row.status = "sent"
            row.text = "half-written"
            session.flush()
            os.kill(os.getpid(), signal.SIGKILL)
    """)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    detail = service.show(qid)
    assert (detail.status, detail.text) == ("drafted", QUESTION), "an uncommitted change must not survive"
    assert service.validate(qid, "bob").status == "sent", "the lock of the dead process is released"
    assert _integrity(home) == "ok"


LOCKER = """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None)
    conn.execute("BEGIN EXCLUSIVE")
    conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (-1, '2000-01-01')")
    print("locked", flush=True)
    hold = float(sys.argv[2])
    if hold > 0:
        time.sleep(hold)
    else:
        sys.stdin.readline()
    conn.execute("ROLLBACK")
"""


def _locker(home: Path, hold_s: float) -> subprocess.Popen:
    proc = subprocess.Popen(
        [sys.executable, "-c", textwrap.dedent(LOCKER), str(home / "review.sqlite"), str(hold_s)],
        stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
    )
    assert proc.stdout.readline().strip() == "locked", "the locking process did not start"
    return proc


def test_database_locked_by_another_process_gives_a_clear_error(service, home):
    before = len(service.list_questions())
    quick = open_service(busy_timeout_s=0.5)
    locker = _locker(home, hold_s=0)
    try:
        started = time.monotonic()
        with pytest.raises(DatabaseBusy) as exc:
            quick.submit(QUESTION)
        waited = time.monotonic() - started
        assert "locked by another process" in str(exc.value), str(exc.value)
        assert 0.3 < waited < 5, f"the writer must wait about the busy timeout, waited {waited:.2f} s"
        assert len(quick.list_questions()) == before, "advisors can still read while a writer holds the lock"
    finally:
        locker.communicate("\n", timeout=30)
    assert quick.submit(QUESTION).status == "drafted", "writes work again once the lock is released"
    assert _integrity(home) == "ok"
    with sqlite3.connect(home / "review.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM schema_version WHERE version = -1").fetchone()[0] == 0


def test_database_locked_briefly_the_writer_waits(service, home):
    locker = _locker(home, hold_s=0.8)
    try:
        started = time.monotonic()
        sub = open_service(busy_timeout_s=20).submit(QUESTION)
        assert sub.status == "drafted" and time.monotonic() - started >= 0.3, "the writer waited for the lock"
    finally:
        locker.wait(timeout=30)
    assert _integrity(home) == "ok"


def test_concurrent_change_under_an_orm_update_is_a_conflict(service):
    # What PostgreSQL's READ COMMITTED allows: another writer commits between our read and our
    # write. The versioned UPDATE matches no row and the whole transaction is rolled back.
    qid = service.submit(QUESTION).id
    with pytest.raises(Conflict, match="nothing was overwritten"):
        with transaction(service.engine, write=True) as session:
            row = session.get(QuestionRow, qid)
            session.execute(update(QuestionRow.__table__).where(QuestionRow.id == qid)
                            .values(version=row.version + 1, text="written by the other advisor"))
            row.status = "sent"
    detail = service.show(qid)
    assert detail.status == "drafted" and detail.text == QUESTION, "nothing of either write may remain"


def _stamp(home: Path, version: int) -> None:
    with sqlite3.connect(home / "review.sqlite") as conn:
        conn.execute("INSERT INTO schema_version (version, applied_at) VALUES (?, '2030-01-01')", (version,))


def test_database_from_a_newer_schema_is_refused_with_what_to_do(service, home):
    _stamp(home, LATEST + 998)
    with pytest.raises(SchemaError) as exc:
        open_service()
    message = str(exc.value)
    assert f"schema version {LATEST + 998}" in message and "upgrade guichet-vert" in message, message

    result = CliRunner().invoke(cli, ["review", "list"])
    assert result.exit_code != 0, "the CLI must fail on a newer schema"
    assert result.output.count("\n") == 1 and "upgrade guichet-vert" in result.output, result.output


def test_database_with_review_tables_but_no_version_is_refused(home):
    home.mkdir(exist_ok=True)
    with sqlite3.connect(home / "review.sqlite") as conn:
        conn.execute("CREATE TABLE questions (id INTEGER PRIMARY KEY)")
    with pytest.raises(SchemaError, match="not created by guichet-vert"):
        open_service()


def test_reopening_runs_no_migration_twice(service, home):
    service.close()
    open_service().close()
    with sqlite3.connect(home / "review.sqlite") as conn:
        versions = [v for (v,) in conn.execute("SELECT version FROM schema_version ORDER BY version")]
        mode = conn.execute("PRAGMA journal_mode").fetchone()[0]
    assert versions == list(range(1, LATEST + 1)), versions
    assert mode == "wal", f"the SQLite database must be in WAL mode, is {mode}"
