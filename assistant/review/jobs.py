"""Draft jobs: drafting a question is a row first, then an attempt by whichever process claims it.

A job is `queued` when a question is stored (in the same transaction, so a stored question is
never left without one) or when an advisor asks for a re-draft. A worker claims it with a
conditional UPDATE (`... WHERE id = :id AND <still claimable>`): on SQLite the write
transaction is serialised, on PostgreSQL the second UPDATE waits for the first to commit and
then matches no row, so two processes never run one job. The claim is a lease: the running
attempt renews it (`renew`) and a process that dies leaves a job that is claimed again once
the lease has expired. Finishing is conditional too (same owner, same attempt, still
`running`), in the transaction that stores the draft: a draft is stored once, whatever crashed.
A failed attempt is retried after a growing delay, `MAX_ATTEMPTS` times at most.

Example:
    >>> jobs = DraftJobs(store, lease=timedelta(seconds=30))              # doctest: +SKIP
    >>> with store.write() as session:                                     # doctest: +SKIP
    ...     jobs.enqueue(session, question_id=12)
    >>> [task.question_id for task in jobs.claim("host:123:ab")]          # doctest: +SKIP
    [12]
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Subquery, and_, func, or_, select, update
from sqlalchemy.orm import Session

from assistant.review.errors import InvalidInput
from assistant.review.models import (
    CANCELLED,
    DONE,
    DRAFT_JOB_STATES,
    FAILED,
    QUEUED,
    RUNNING,
    DraftJobRow,
    QuestionRow,
)
from assistant.review.store import Store
from assistant.review.views import DraftJob

#: Attempts before a job is given up (the advisor then sees the last error and can re-draft).
MAX_ATTEMPTS = 5
#: Wait before attempt 2, 3, 4, 5.
RETRY_DELAYS = (timedelta(seconds=10), timedelta(minutes=1), timedelta(minutes=5), timedelta(minutes=15))
#: States a new request for the same question replaces.
OPEN = (QUEUED, RUNNING, FAILED)
_GAVE_UP = "the processes drafting it stopped {n} times (killed or out of memory?): re-draft it"

_job = DraftJobRow.__table__.c


@dataclass(frozen=True)
class DraftTask:
    """A claimed attempt: what the worker needs, and the identity its writes are checked against."""

    job_id: int
    question_id: int
    attempt: int
    owner: str
    passages: list[dict[str, Any]] | None
    requested_by: int | None


def _view(row: DraftJobRow) -> DraftJob:
    return DraftJob(row.id, row.question_id, row.status, row.attempts, row.partial, row.last_error,
                    row.created_at, row.started_at, row.finished_at, row.next_attempt_at)


class DraftJobs:
    """The draft job table.

    Args:
        store: Shared store (engine and clock).
        lease: How long a claim holds without being renewed.
    """

    def __init__(self, store: Store, lease: timedelta) -> None:
        if lease <= timedelta(0):
            raise InvalidInput(f"draft job lease must be > 0 s, got {lease.total_seconds()}")
        self.store = store
        self.lease = lease

    # ------------------------------------------------------------------ requests

    def enqueue(self, session: Session, question_id: int, passages: list[dict[str, Any]] | None = None,
                requested_by: int | None = None, owner: str | None = None, replace: bool = True) -> DraftTask | None:
        """Queue a draft of a question, in the caller's transaction; open jobs of it are cancelled.

        Args:
            session: The caller's write transaction (the one that stores the question).
            question_id: The question.
            passages: Passages to draft from (`drafting.refs`); None = search when drafting.
            requested_by: The advisor who asked for it (None for the buyer's first draft).
            owner: When given, the job starts already claimed by this owner (the caller drafts it
                at once, and no other process can take it before the lease expires).
            replace: Cancel the question's open jobs (False for a question stored in this transaction).

        Returns:
            The claimed task when `owner` was given, else None.
        """
        now = self.store.now()
        if replace:
            session.execute(update(DraftJobRow).where(_job.question_id == question_id, _job.status.in_(OPEN))
                            .values(status=CANCELLED, owner=None, locked_until=None, finished_at=now))
        row = DraftJobRow(
            question_id=question_id, status=RUNNING if owner else QUEUED, passages=passages,
            requested_by=requested_by, attempts=1 if owner else 0, owner=owner,
            locked_until=now + self.lease if owner else None, next_attempt_at=None if owner else now,
            partial="", last_error="", created_at=now, started_at=now if owner else None,
        )
        session.add(row)
        session.flush()
        return DraftTask(row.id, question_id, 1, owner, passages, requested_by) if owner else None

    def _due(self, now: datetime):
        return or_(
            and_(_job.status.in_((QUEUED, FAILED)), _job.next_attempt_at <= now),
            and_(_job.status == RUNNING, _job.locked_until < now, _job.attempts < MAX_ATTEMPTS),
        )

    def due(self) -> int:
        """How many jobs could be claimed now (a plain read: no write lock is taken)."""
        with self.store.read() as session:
            return session.scalar(select(func.count()).select_from(DraftJobRow).where(self._due(self.store.now())))

    def claim(self, owner: str, limit: int = 1) -> list[DraftTask]:
        """Claim up to `limit` due jobs, oldest first, for `owner`.

        Jobs whose attempts all ended with their process (lease expired `MAX_ATTEMPTS` times)
        are given up here, with the reason on the question.
        """
        now = self.store.now()
        dead = (_job.status == RUNNING) & (_job.locked_until < now) & (_job.attempts >= MAX_ATTEMPTS)
        tasks: list[DraftTask] = []
        with self.store.write() as session:
            candidates = session.execute(select(_job.id, dead.label("dead")).where(self._due(now) | dead)
                                         .order_by(_job.id).limit(limit * 4)).all()
            for job_id, is_dead in candidates:
                if is_dead:
                    self._give_up(session, job_id, dead, now)
                    continue
                # Conditional: matches no row if another process claimed it since the SELECT.
                claimed = session.execute(
                    update(DraftJobRow).where(_job.id == job_id, self._due(now)).values(
                        status=RUNNING, owner=owner, attempts=_job.attempts + 1, locked_until=now + self.lease,
                        started_at=now, partial="", next_attempt_at=None)
                    .returning(_job.question_id, _job.attempts, _job.passages, _job.requested_by)).first()
                if claimed is not None:
                    tasks.append(DraftTask(job_id, claimed.question_id, claimed.attempts, owner, claimed.passages,
                                           claimed.requested_by))
                    if len(tasks) == limit:
                        break
        return tasks

    def _give_up(self, session: Session, job_id: int, dead, now: datetime) -> None:
        error = _GAVE_UP.format(n=MAX_ATTEMPTS)
        gone = session.execute(update(DraftJobRow).where(_job.id == job_id, dead).values(
            status=FAILED, owner=None, locked_until=None, next_attempt_at=None, last_error=error, finished_at=now)
            .returning(_job.question_id)).first()
        if gone is not None:
            question = session.get(QuestionRow, gone.question_id)
            question.draft_error = error
            self.store.event(session, "system", "draft_failed", question, error=error, attempts=MAX_ATTEMPTS)

    # ------------------------------------------------------------------ the running attempt

    def _mine(self, task: DraftTask):
        return (_job.id == task.job_id) & (_job.owner == task.owner) & (_job.attempts == task.attempt) \
            & (_job.status == RUNNING)

    def renew(self, task: DraftTask, partial: str | None = None) -> bool:
        """Extend the lease (and publish the text written so far); False when the job is no longer ours."""
        values: dict[str, Any] = {"locked_until": self.store.now() + self.lease}
        if partial is not None:
            values["partial"] = partial
        with self.store.write() as session:
            return session.execute(update(DraftJobRow).where(self._mine(task)).values(**values)).rowcount == 1

    def finish(self, session: Session, task: DraftTask) -> bool:
        """Mark the attempt done in the caller's transaction (the one storing the draft).

        Returns:
            False when the job is no longer this attempt's (cancelled by a newer request, or
            claimed again after the lease expired): the caller must then store nothing.
        """
        return session.execute(update(DraftJobRow).where(self._mine(task)).values(
            status=DONE, owner=None, locked_until=None, partial="", finished_at=self.store.now())).rowcount == 1

    def fail(self, session: Session, task: DraftTask, error: str) -> tuple[bool, datetime | None]:
        """Record a failed attempt in the caller's transaction.

        Returns:
            (whether the job was still this attempt's, when it will be retried or None when given up).
        """
        now = self.store.now()
        retry_at = now + RETRY_DELAYS[task.attempt - 1] if task.attempt < MAX_ATTEMPTS else None
        ours = session.execute(update(DraftJobRow).where(self._mine(task)).values(
            status=FAILED, owner=None, locked_until=None, next_attempt_at=retry_at, last_error=error,
            finished_at=now)).rowcount == 1
        return ours, retry_at

    def cancel(self, session: Session, task: DraftTask) -> None:
        """Drop an attempt whose question was closed before it was drafted."""
        session.execute(update(DraftJobRow).where(self._mine(task)).values(
            status=CANCELLED, owner=None, locked_until=None, finished_at=self.store.now()))

    # ------------------------------------------------------------------ reading

    def latest(self, session: Session, question_id: int) -> DraftJob | None:
        """The question's most recent job."""
        row = session.scalar(select(DraftJobRow).where(_job.question_id == question_id)
                             .order_by(_job.id.desc()).limit(1))
        return _view(row) if row is not None else None

    @staticmethod
    def open_jobs() -> Subquery:
        """(question_id, id) of each question's latest open job (queued, running, or failed with a
        retry planned), to join in listings."""
        return (select(_job.question_id, func.max(_job.id).label("id"))
                .where(_job.status.in_((QUEUED, RUNNING)) | ((_job.status == FAILED) & _job.next_attempt_at.is_not(None)))
                .group_by(_job.question_id).subquery())

    def entries(self, status: str | None = None) -> list[DraftJob]:
        """Jobs (all, or of one state), oldest first."""
        if status is not None and status not in DRAFT_JOB_STATES:
            raise InvalidInput(f"unknown draft job status '{status}': use one of {', '.join(DRAFT_JOB_STATES)}")
        query = select(DraftJobRow).order_by(_job.id)
        if status is not None:
            query = query.where(_job.status == status)
        with self.store.read() as session:
            return [_view(r) for r in session.scalars(query)]
