"""SQLAlchemy 2 ORM models of the review database (SQLite by default, PostgreSQL unchanged).

Every mutable workflow row (`QuestionRow`, `OutboxRow`) carries a `version` column that the ORM
uses for optimistic locking: its UPDATE is `... WHERE id = :id AND version = :v`, and a stale
version raises `StaleDataError`, which the service turns into `Conflict`.

Example:
    >>> from sqlalchemy import create_engine
    >>> engine = create_engine("sqlite://")
    >>> Base.metadata.create_all(engine)
    >>> sorted(Base.metadata.tables)[:3]
    ['advisor_sessions', 'advisors', 'answers']
"""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    event,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

#: Workflow states of a question.
RECEIVED, DRAFTED, IN_REVIEW, SENT, REJECTED, ESCALATED = (
    "received", "drafted", "in_review", "sent", "rejected", "escalated",
)
STATES = (RECEIVED, DRAFTED, IN_REVIEW, SENT, REJECTED, ESCALATED)

#: Outbox states: `pending` (not tried yet), `failed` (last try failed, will be retried),
#: `sent`, `cancelled` (the buyer's data was erased before delivery).
OUTBOX_STATES = ("pending", "failed", "sent", "cancelled")

#: Draft job states: `queued` (waiting for a worker), `running` (a worker holds its lease),
#: `done`, `failed` (retried at `next_attempt_at`; given up when that is empty), `cancelled`
#: (replaced by a newer draft request, or the question was closed first).
QUEUED, RUNNING, DONE, FAILED, CANCELLED = "queued", "running", "done", "failed", "cancelled"
DRAFT_JOB_STATES = (QUEUED, RUNNING, DONE, FAILED, CANCELLED)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every backend (SQLite stores naive text)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the review database: use UTC-aware times")
        return value.astimezone(timezone.utc).replace(tzinfo=None)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        return None if value is None else value.replace(tzinfo=timezone.utc)


class Base(DeclarativeBase):
    """Declarative base of the review models."""


class SchemaVersion(Base):
    """One row per applied migration; the highest number is the schema version."""

    __tablename__ = "schema_version"
    version: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=False)
    applied_at: Mapped[datetime] = mapped_column(UTCDateTime)


class AdvisorRow(Base):
    """An advisor account; a removed one keeps its row (questions and answers point to it)."""

    __tablename__ = "advisors"
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    removed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SessionRow(Base):
    """An advisor's login session; deleting the row ends it on every app process at once."""

    __tablename__ = "advisor_sessions"
    #: sha256 of the session id carried by the cookie (the id itself is never stored).
    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class LimitHitRow(Base):
    """One counted request of a rate limit (a buyer's question, a failed login), kept for its window."""

    __tablename__ = "limit_hits"
    __table_args__ = (Index("ix_limit_hits_key_at", "key", "at"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 of the limit's key ("address:…", "login:…"): fixed length, no address kept in clear.
    key: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ThreadRow(Base):
    __tablename__ = "threads"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: sha256 (hex) of the buyer's token (`review.tokens`): the token itself is never stored.
    token: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str | None] = mapped_column(String(320))
    organisation: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    forgotten_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class QuestionRow(Base):
    __tablename__ = "questions"
    id: Mapped[int] = mapped_column(primary_key=True)
    thread_id: Mapped[int] = mapped_column(ForeignKey("threads.id"), index=True)
    text: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    version: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    drafted_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    draft_error: Mapped[str | None] = mapped_column(Text)
    claimed_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    claim_expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    closed_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    reason: Mapped[str | None] = mapped_column(Text)
    buyer_message: Mapped[str | None] = mapped_column(Text)
    #: sha256 of the key the buyer page sets: the same submission sent twice (a retry) is recorded once.
    submission_key: Mapped[str | None] = mapped_column(String(64), unique=True, index=True)
    #: The thread's token sealed under the submission key, for the retry (`review.tokens.seal`).
    sealed_token: Mapped[str | None] = mapped_column(String(128))

    __mapper_args__ = {"version_id_col": version}


class DraftRow(Base):
    __tablename__ = "drafts"
    __table_args__ = (UniqueConstraint("question_id", "number"),)
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    citations: Mapped[list] = mapped_column(JSON)
    flags: Mapped[list] = mapped_column(JSON)
    passages: Mapped[list] = mapped_column(JSON)
    abstained: Mapped[bool] = mapped_column(Boolean)
    reason: Mapped[str] = mapped_column(Text)
    generator: Mapped[str] = mapped_column(String(64))
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    #: Peer experiences proposed with the draft (`views.ShownPeer` as JSON); NULL before schema 2.
    peers: Mapped[list | None] = mapped_column(JSON, nullable=True)


class AnswerRow(Base):
    __tablename__ = "answers"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), unique=True)
    draft_id: Mapped[int | None] = mapped_column(ForeignKey("drafts.id"))
    advisor_id: Mapped[int] = mapped_column(ForeignKey("advisors.id"))
    text: Mapped[str] = mapped_column(Text)
    sources: Mapped[list] = mapped_column(JSON)
    edited: Mapped[bool] = mapped_column(Boolean)
    edit_ratio: Mapped[float] = mapped_column(Float)
    reusable: Mapped[bool] = mapped_column(Boolean)
    validated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class EventRow(Base):
    """Append-only audit log: rows are inserted, never updated or deleted (enforced below)."""

    __tablename__ = "events"
    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(80))
    action: Mapped[str] = mapped_column(String(32))
    question_id: Mapped[int | None] = mapped_column(ForeignKey("questions.id"), index=True)
    thread_id: Mapped[int | None] = mapped_column(ForeignKey("threads.id"))
    detail: Mapped[dict] = mapped_column(JSON)
    diff: Mapped[str] = mapped_column(Text)


class FeedbackRow(Base):
    __tablename__ = "feedback"
    id: Mapped[int] = mapped_column(primary_key=True)
    #: One rating per answered question: a new one replaces the old.
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True, unique=True)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class OutboxRow(Base):
    __tablename__ = "outbox"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    recipient: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), index=True)
    attempts: Mapped[int] = mapped_column(Integer)
    last_error: Mapped[str] = mapped_column(Text)
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    version: Mapped[int] = mapped_column(Integer)
    #: Made once when the mail is queued and sent with every attempt, so that a receiver drops
    #: a second copy (sent when a process died after the server accepted the first).
    message_id: Mapped[str | None] = mapped_column(String(255))
    #: When a failed delivery is tried again (None: as soon as its lease allows).
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    __mapper_args__ = {"version_id_col": version}


class DraftJobRow(Base):
    """One request to draft a question, worked by any app process (see `review.jobs`)."""

    __tablename__ = "draft_jobs"
    id: Mapped[int] = mapped_column(primary_key=True)
    question_id: Mapped[int] = mapped_column(ForeignKey("questions.id"), index=True)
    status: Mapped[str] = mapped_column(String(16), index=True)
    #: Passages to draft from, best first (`drafting.refs` format); None = search at draft time.
    passages: Mapped[list | None] = mapped_column(JSON)
    requested_by: Mapped[int | None] = mapped_column(ForeignKey("advisors.id"))
    attempts: Mapped[int] = mapped_column(Integer)
    owner: Mapped[str | None] = mapped_column(String(120))
    locked_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    #: Text streamed so far by the running attempt (advisors on other processes read it).
    partial: Mapped[str] = mapped_column(Text)
    last_error: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


@event.listens_for(EventRow, "before_update")
@event.listens_for(EventRow, "before_delete")
def _audit_is_append_only(mapper: Any, connection: Any, target: EventRow) -> None:
    raise RuntimeError(f"audit event {target.id} cannot be changed: the audit log is append-only")
