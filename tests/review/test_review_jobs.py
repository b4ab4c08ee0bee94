"""Draft jobs: queued with the question, claimed once across threads and processes, retried, followed live."""

from __future__ import annotations

import multiprocessing
import signal
import sqlite3
import subprocess
import sys
import textwrap
import threading
import time
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest
from sqlalchemy import func, select

from assistant.review.db import make_engine, transaction
from assistant.review.jobs import MAX_ATTEMPTS, RETRY_DELAYS
from assistant.review.live import LiveDrafts
from assistant.review.migrations import LATEST, migrate
from assistant.review.models import DraftRow, QuestionRow, ThreadRow
from assistant.review.worker import MAX_DEFER_S, BuyerActivity, DraftWorker
from review_fixtures import FIXED_PASSAGE, Clock, drain_draft_jobs, draft_from_fixed_passage, open_service

HERE = Path(__file__).parent
QUESTION = "Puis-je exiger un label dans mon marché ?"


def _drafts(home: Path) -> dict[int, int]:
    with sqlite3.connect(home / "review.sqlite") as conn:
        return dict(conn.execute("SELECT question_id, count(*) FROM drafts GROUP BY question_id").fetchall())


def _events(detail) -> list[str]:
    return [e.action for e in detail.events]


def test_a_question_left_to_the_worker_is_stored_with_its_job_and_drafted_once(service, home):
    sub = service.submit(QUESTION, draft_now=False)
    assert sub.status == "received" and not sub.error, sub
    job = service.draft_job(sub.id)
    assert (job.status, job.attempts) == ("queued", 0), job
    assert service.show(sub.id).drafting and service.list_questions()[0].drafting == "queued"
    (outcome,) = service.draft_pending()
    assert outcome.stored and outcome.status == "drafted", outcome
    assert service.draft_pending() == [], "a done job is never drafted again"
    detail = service.show(sub.id)
    assert (detail.status, detail.drafts, detail.job.status, detail.job.attempts) == ("drafted", 1, "done", 1)
    assert _events(detail) == ["received", "drafted"], "the audit log is the same as for a draft made at once"
    assert not detail.drafting and service.list_questions()[0].drafting is None


def test_a_failed_attempt_is_retried_later_then_given_up(service, home):
    clock = Clock()
    calls = []

    def flaky(question, history):
        calls.append(question)
        if len(calls) < 3:
            raise ConnectionError("endpoint down")
        return draft_from_fixed_passage(question, history)

    service = open_service(drafter=flaky, clock=clock)
    sub = service.submit(QUESTION)
    assert (sub.status, sub.error) == ("received", "ConnectionError: endpoint down"), sub
    job = service.draft_job(sub.id)
    assert job.status == "failed" and job.next_attempt_at == clock.now + RETRY_DELAYS[0], job
    assert service.draft_pending() == [], "not retried before its delay"
    clock.advance(RETRY_DELAYS[0])
    (second,) = service.draft_pending()
    assert second.error and service.show(sub.id).draft_error == "ConnectionError: endpoint down"
    clock.advance(RETRY_DELAYS[1])
    (third,) = service.draft_pending()
    detail = service.show(sub.id)
    assert third.stored and (detail.status, detail.draft_error, detail.job.attempts) == ("drafted", None, 3), detail
    assert _events(detail) == ["received", "draft_failed", "draft_failed", "drafted"]

    broken = open_service(drafter=lambda q, h: 1 / 0, clock=clock)
    failing = broken.submit("Une autre question sur les labels ?")
    for delay in RETRY_DELAYS:
        clock.advance(delay)
        assert len(broken.draft_pending()) == 1
    job = broken.draft_job(failing.id)
    assert (job.status, job.attempts, job.next_attempt_at) == ("failed", MAX_ATTEMPTS, None), job
    clock.advance(timedelta(days=1))
    assert broken.draft_pending() == [], "a job given up is not retried"
    assert broken.show(failing.id).draft_error.startswith("ZeroDivisionError"), "the advisor sees why"
    assert broken.redraft(failing.id, "alice", drafter=draft_from_fixed_passage).status == "drafted", \
        "an advisor can still re-draft it"


def _child(code: str) -> subprocess.CompletedProcess:
    prelude = f"import sys; sys.path.insert(0, {str(HERE)!r})\n"
    return subprocess.run([sys.executable, "-c", prelude + textwrap.dedent(code)],
                          capture_output=True, text=True, timeout=120)


def test_process_killed_while_drafting_a_job_gets_it_drafted_once_after_its_lease(service, home):
    sub = service.submit(QUESTION, draft_now=False)
    proc = _child("""
        from review_fixtures import dying_drafter, open_service
        open_service(drafter=dying_drafter).draft_pending()
    """)
    assert proc.returncode == -signal.SIGKILL, proc.stderr
    job = service.draft_job(sub.id)
    assert (job.status, job.attempts) == ("running", 1), f"the dead process still holds the lease: {job}"
    assert service.draft_pending() == [], "a live lease is respected"
    later = open_service(clock=lambda: datetime.now(timezone.utc) + timedelta(seconds=31))
    (outcome,) = later.draft_pending()
    assert outcome.stored, outcome
    assert later.draft_pending() == [] and service.draft_pending() == []
    assert _drafts(home) == {sub.id: 1}, "drafted once"
    job = service.draft_job(sub.id)
    assert (job.status, job.attempts) == ("done", 2), job


def test_a_job_whose_processes_keep_dying_is_given_up_with_its_reason(service, home):
    clock = Clock()
    mortal = open_service(clock=clock)
    sub = mortal.submit(QUESTION, draft_now=False)
    for attempt in range(1, MAX_ATTEMPTS + 1):
        (task,) = mortal.jobs.claim(f"process-{attempt}")  # each claimer dies without a word
        assert task.attempt == attempt
        clock.advance(timedelta(seconds=31))
    assert mortal.jobs.claim("survivor") == [], "not claimed a sixth time"
    detail = mortal.show(sub.id)
    assert (detail.job.status, detail.job.next_attempt_at) == ("failed", None), detail.job
    assert "stopped 5 times" in detail.draft_error and _events(detail)[-1] == "draft_failed", detail.draft_error


def test_a_stale_attempt_stores_nothing_once_its_job_was_taken_over(service, home):
    clock = Clock()
    slow_started, release = threading.Event(), threading.Event()

    def slow(question, history):
        slow_started.set()
        release.wait(timeout=30)
        return draft_from_fixed_passage(question, history)

    stale = open_service(drafter=slow, clock=clock)
    sub = stale.submit(QUESTION, draft_now=False)
    result = {}
    thread = threading.Thread(target=lambda: result.setdefault("outcome", stale.draft_pending()))
    thread.start()
    assert slow_started.wait(timeout=30)
    later = open_service(clock=lambda: clock.now + timedelta(minutes=2))  # the stale lease expired
    (taken,) = later.draft_pending()
    assert taken.stored
    release.set()
    thread.join(timeout=30)
    (outcome,) = result["outcome"]
    assert not outcome.stored, "the attempt whose lease expired must not store a second draft"
    assert _drafts(home) == {sub.id: 1}


def test_an_advisor_redraft_replaces_the_draft_being_written(service, home):
    started, release = threading.Event(), threading.Event()

    def slow(question, history, passages=None):
        started.set()
        release.wait(timeout=30)
        return draft_from_fixed_passage("premier " + question, history)

    worker_service = open_service(drafter=slow)
    sub = worker_service.submit(QUESTION, draft_now=False)
    thread = threading.Thread(target=worker_service.draft_pending)
    thread.start()
    assert started.wait(timeout=30)
    detail = service.redraft(sub.id, "alice", passages=[{"chunk_id": FIXED_PASSAGE.chunk.id, "score": 1.0}],
                             draft_now=False)
    assert detail.drafting and detail.job.status == "queued"
    release.set()
    thread.join(timeout=30)
    assert service.show(sub.id).drafts == 0, "the replaced attempt stores nothing"
    seen = []
    service.drafting.drafter = lambda q, h, passages=None: seen.append(passages) or draft_from_fixed_passage(q, h)
    (outcome,) = service.draft_pending()
    detail = service.show(sub.id)
    assert outcome.stored and detail.drafts == 1 and seen == [[{"chunk_id": FIXED_PASSAGE.chunk.id, "score": 1.0}]]
    assert [e for e in detail.events if e.action == "drafted"][0].actor == "alice", "the draft is the advisor's"


def test_a_question_closed_before_its_draft_is_not_drafted(service, home):
    sub = service.submit(QUESTION, draft_now=False)
    service.validate(sub.id, "alice", "Oui, sous conditions.")
    calls = []
    service.drafting.drafter = lambda q, h: calls.append(q)
    (outcome,) = service.draft_pending()
    assert not outcome.stored and calls == [] and service.draft_job(sub.id).status == "cancelled"


def test_the_same_submission_twice_is_one_question_in_one_thread(service, home):
    first = service.submit(QUESTION, key="k" * 64, draft_now=False)
    again = service.submit(QUESTION, key="k" * 64, draft_now=False)
    assert (again.id, again.thread) == (first.id, first.thread)
    other = service.submit(QUESTION, key="other", draft_now=False)
    assert other.id != first.id
    with transaction(service.engine) as session:
        assert session.scalar(select(func.count()).select_from(ThreadRow)) == 2
        assert session.scalar(select(func.count()).select_from(QuestionRow)) == 2
    assert len(service.draft_jobs()) == 2, "a retried submission queues no second job"
    with pytest.raises(Exception, match="1-64 characters"):
        service.submit(QUESTION, key="x" * 65)


def test_several_processes_share_the_queue_and_draft_each_question_once(service, home):
    ids = [service.submit(f"{QUESTION} ({n})", draft_now=False).id for n in range(24)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    results = context.Queue()
    workers = [context.Process(target=drain_draft_jobs, args=(f"p{n}", barrier, results)) for n in range(3)]
    for worker in workers:
        worker.start()
    drafted = dict(results.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0, f"a drafting process failed with exit code {worker.exitcode}"
    everything = sorted(q for qs in drafted.values() for q in qs)
    assert everything == ids, f"each question drafted by exactly one process: {drafted}"
    assert _drafts(home) == {qid: 1 for qid in ids}
    assert {j.status for j in service.draft_jobs()} == {"done"}


def test_worker_threads_draft_what_any_process_queued(service, home):
    service.drafting.drafter = draft_from_fixed_passage
    worker = DraftWorker(service, threads=3, poll_s=0.2).start()
    try:
        other = open_service()
        ids = [other.submit(f"{QUESTION} ({n})", draft_now=False).id for n in range(10)]
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline and any(s.status != "drafted" for s in service.list_questions()):
            time.sleep(0.1)
    finally:
        worker.stop()
    assert _drafts(home) == {qid: 1 for qid in ids}


def test_buyers_stay_active_a_moment_after_their_last_acknowledgement():
    now = [100.0]
    activity = BuyerActivity(quiet_s=0.5, clock=lambda: now[0])
    assert not activity.busy(), "no buyer yet"
    with activity, activity:
        assert activity.busy()
    assert activity.busy(), "the gap between two acknowledgements of a burst"
    now[0] += 0.6
    assert not activity.busy(), "quiet for longer than quiet_s"


def test_a_draft_waits_for_the_buyers_being_acknowledged_but_not_for_ever(service, home):
    service.drafting.drafter = draft_from_fixed_passage
    qid = service.submit(QUESTION, draft_now=False).id
    activity = BuyerActivity()
    worker = DraftWorker(service, threads=1, poll_s=0.1, defer=activity.busy)
    with activity:  # a buyer is being acknowledged for the whole test
        began = time.monotonic()
        worker.start()
        try:
            while service.show(qid).status != "drafted" and time.monotonic() - began < 30:
                time.sleep(0.05)
        finally:
            worker.stop()
        waited = time.monotonic() - began
    assert service.show(qid).status == "drafted", "drafted all the same"
    assert waited >= MAX_DEFER_S, f"drafted after {waited:.2f} s, while a buyer was being acknowledged"


def test_a_streamed_draft_is_followed_piece_by_piece_here_and_from_another_process(home):
    live = LiveDrafts()
    go = threading.Event()
    pieces = ["Oui, ", "l'acheteur ", "peut ", "exiger ", "un label [1]."]

    def streaming(question, history, on_text=None):
        for piece in pieces:
            go.wait(timeout=30)
            go.clear()
            on_text(piece)
        go.wait(timeout=30)  # until the test saw the whole text (a stored draft ends the job row's)
        return draft_from_fixed_passage(question, history)

    writer = open_service(drafter=streaming, live=live)
    writer.drafting.heartbeat_s = 0.05
    sub = writer.submit(QUESTION, draft_now=False)
    thread = threading.Thread(target=writer.draft_pending)
    thread.start()
    here = writer.follow_draft(sub.id, timeout_s=60)
    elsewhere = open_service().follow_draft(sub.id, timeout_s=60)  # no live texts: reads the job row
    seen_here, seen_elsewhere = [], []
    for n in range(len(pieces)):
        go.set()
        seen_here.append(next(here))
        expected = "".join(pieces[:n + 1])
        assert seen_here[-1] == expected, seen_here
        deadline = time.monotonic() + 10
        while not seen_elsewhere or seen_elsewhere[-1] != expected:
            assert time.monotonic() < deadline, f"the job row never showed {expected!r}: {seen_elsewhere}"
            seen_elsewhere.append(next(elsewhere))
    go.set()
    thread.join(timeout=30)
    assert list(here) == [] and list(elsewhere) == [], "both followers end when the draft is stored"
    assert writer.show(sub.id).status == "drafted"


def test_migration_queues_the_questions_a_version_1_database_left_without_a_draft(home):
    url = f"sqlite:///{home / 'review.sqlite'}"
    service = open_service()
    drafted = service.submit("Question déjà rédigée ?").id
    orphan = service.submit("Question restée sans brouillon ?", draft_now=False).id
    service.close()
    with sqlite3.connect(home / "review.sqlite") as conn:  # back to version 1's schema
        conn.executescript("""
            DROP TABLE draft_jobs;
            DROP INDEX ix_questions_submission_key;
            ALTER TABLE questions DROP COLUMN submission_key;
            DROP TABLE advisor_sessions;
            DROP TABLE limit_hits;
            ALTER TABLE advisors DROP COLUMN removed_at;
            DROP INDEX ix_feedback_question_id;
            CREATE INDEX ix_feedback_question_id ON feedback (question_id);
            ALTER TABLE outbox DROP COLUMN message_id;
            ALTER TABLE outbox DROP COLUMN next_attempt_at;
            ALTER TABLE drafts DROP COLUMN peers;
            ALTER TABLE questions DROP COLUMN sealed_token;
            DELETE FROM schema_version WHERE version > 1;
        """)
    assert migrate(make_engine(url)) == LATEST
    reopened = open_service()
    assert [(j.question_id, j.status) for j in reopened.draft_jobs()] == [(orphan, "queued")]
    (outcome,) = reopened.draft_pending()
    assert outcome.stored and _drafts(home) == {drafted: 1, orphan: 1}
    with transaction(reopened.engine) as session:
        assert session.scalar(select(func.count()).select_from(DraftRow)) == 2
