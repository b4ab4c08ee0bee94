"""Shared plumbing of the review service: transactions, clock, audit events, row look-ups.

Example:
    >>> from assistant.review.db import make_engine
    >>> from assistant.review.migrations import migrate
    >>> engine = make_engine("sqlite:///:memory:"); _ = migrate(engine)
    >>> store = Store(engine)
    >>> with store.write() as session:
    ...     store.event(session, "admin", "note", text="hello")
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import Engine, Subquery, func, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import flag_modified

from assistant.review import tokens
from assistant.review.db import transaction
from assistant.review.errors import NotFound, UnknownAdvisor, UnknownThread
from assistant.review.models import AdvisorRow, DraftRow, EventRow, QuestionRow, ThreadRow

#: Same message for an unknown token and a question of another thread: it reveals nothing.
UNKNOWN_THREAD = "unknown thread or question: check the link you were given"


def utcnow() -> datetime:
    """Current time, UTC-aware."""
    return datetime.now(timezone.utc)


class Store:
    """Engine, clock and the helpers every part of the service shares.

    Args:
        engine: Engine from `db.make_engine`, already migrated.
        clock: Current UTC time.
    """

    def __init__(self, engine: Engine, clock: Callable[[], datetime] = utcnow) -> None:
        self.engine = engine
        self.clock = clock

    def now(self) -> datetime:
        return self.clock()

    @contextmanager
    def write(self) -> Iterator[Session]:
        """A write transaction (SQLite: BEGIN IMMEDIATE)."""
        with transaction(self.engine, write=True) as session:
            yield session

    @contextmanager
    def read(self) -> Iterator[Session]:
        """A read transaction (one consistent snapshot)."""
        with transaction(self.engine) as session:
            yield session

    def event(self, session: Session, actor: str, action: str, question: QuestionRow | None = None,
              thread_id: int | None = None, diff: str = "", **detail: Any) -> None:
        """Append an audit event (the log is append-only)."""
        if thread_id is None and question is not None:
            thread_id = question.thread_id
        session.add(EventRow(
            at=self.now(), actor=actor, action=action, question_id=question.id if question else None,
            thread_id=thread_id, detail=detail, diff=diff,
        ))

    @staticmethod
    def question(session: Session, question_id: int) -> QuestionRow:
        row = session.get(QuestionRow, question_id)
        if row is None:
            raise NotFound(f"no question {question_id}: see 'guichet review list'")
        return row

    @staticmethod
    def advisor(session: Session, name: str) -> AdvisorRow:
        """An advisor who can act (not removed)."""
        row = session.scalar(select(AdvisorRow).where(AdvisorRow.name == name))
        if row is None:
            raise UnknownAdvisor(f"unknown advisor '{name}': add them with 'guichet advisor add {name}'")
        if row.removed_at is not None:
            raise UnknownAdvisor(f"advisor '{name}' was removed: 'guichet advisor add {name}' gives the "
                                 "account back")
        return row

    @staticmethod
    def thread(session: Session, token: str | None) -> ThreadRow:
        """The thread of a buyer's token (found by its digest)."""
        row = session.scalar(select(ThreadRow).where(ThreadRow.token == tokens.digest(token))) if token else None
        if row is None:
            raise UnknownThread(UNKNOWN_THREAD)
        return row

    @staticmethod
    def latest_draft(session: Session, question_id: int) -> DraftRow | None:
        return session.scalar(
            select(DraftRow).where(DraftRow.question_id == question_id).order_by(DraftRow.number.desc())
        )

    @staticmethod
    def latest_drafts() -> Subquery:
        """(question_id, number) of each question's latest draft, to join in listings."""
        return (select(DraftRow.question_id, func.max(DraftRow.number).label("number"))
                .group_by(DraftRow.question_id).subquery())

    @staticmethod
    def earlier_questions(session: Session, thread_id: int, before_id: int | None = None) -> list[str]:
        """Texts of the thread's questions (before `before_id`), oldest first."""
        query = select(QuestionRow.text).where(QuestionRow.thread_id == thread_id)
        if before_id is not None:
            query = query.where(QuestionRow.id < before_id)
        return list(session.scalars(query.order_by(QuestionRow.id)))

    @staticmethod
    def advisor_names(session: Session) -> dict[int, str]:
        return {row.id: row.name for row in session.execute(select(AdvisorRow.id, AdvisorRow.name))}

    @staticmethod
    def write_version(session: Session, question: QuestionRow) -> None:
        """Emit the question's versioned UPDATE now, before rows that depend on it.

        Under PostgreSQL's READ COMMITTED two transactions can pass the checks on the same
        version; the second UPDATE then waits for the first to commit and matches no row, which
        raises `Conflict` before it could insert a second answer or draft.
        """
        flag_modified(question, "status")
        session.flush()
