"""Numbered schema migrations of the review database, run by the one runner (`assistant.db.migrations`).

A fresh database gets the current models' tables and is stamped with every migration number
(rows of `schema_version`). An existing one runs, in order and in one transaction, the
migrations numbered above its version. A database stamped with a version this code does not
know fails with a message that says what to do. To change the schema: change `models.py`, then
append a `Migration` whose function brings a database of the previous version to the new one,
written with SQLAlchemy Core/DDL constructs so that it runs on SQLite and PostgreSQL alike.

Example:
    >>> from assistant.review.db import make_engine
    >>> migrate(make_engine("sqlite:///:memory:")) == LATEST
    True
"""

from __future__ import annotations

from datetime import datetime, timezone

from sqlalchemy import (
    JSON,
    Column,
    Connection,
    DateTime,
    Engine,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    exists,
    func,
    insert,
    select,
)

from assistant.db import migrations as runner
from assistant.db.migrations import Migration, Refusal, TableSet, VersionTable
from assistant.review import tokens
from assistant.review.db import translated
from assistant.review.errors import SchemaError
from assistant.review.mailer import MESSAGE_ID_DOMAIN
from assistant.review.models import Base, SchemaVersion


def _initial(conn: Connection) -> None:
    Base.metadata.create_all(conn)


def _draft_jobs(conn: Connection) -> None:
    """Drafting becomes a job; questions get a submission key; undrafted questions are queued."""
    # The tables as they are at version 2 (not the current models, which later steps may change).
    meta = MetaData()
    questions = Table("questions", meta, Column("id", Integer, primary_key=True), Column("status", String(16)),
                      Column("submission_key", String(64)))
    drafts = Table("drafts", meta, Column("id", Integer, primary_key=True), Column("question_id", Integer))
    Table("advisors", meta, Column("id", Integer, primary_key=True))
    jobs = Table(
        "draft_jobs", meta,
        Column("id", Integer, primary_key=True),
        Column("question_id", Integer, ForeignKey("questions.id"), nullable=False, index=True),
        Column("status", String(16), nullable=False, index=True),
        Column("passages", JSON),
        Column("requested_by", Integer, ForeignKey("advisors.id")),
        Column("attempts", Integer, nullable=False),
        Column("owner", String(120)),
        Column("locked_until", DateTime),
        Column("next_attempt_at", DateTime, index=True),
        Column("partial", Text, nullable=False),
        Column("last_error", Text, nullable=False),
        Column("created_at", DateTime, nullable=False),
        Column("started_at", DateTime),
        Column("finished_at", DateTime),
    )
    jobs.create(conn)
    conn.exec_driver_sql("ALTER TABLE questions ADD COLUMN submission_key VARCHAR(64)")
    Index("ix_questions_submission_key", questions.c.submission_key, unique=True).create(conn)
    # A question stored without a draft (drafting failed or its process died) is drafted now.
    now = datetime.now(timezone.utc).replace(tzinfo=None)
    orphans = conn.scalars(select(questions.c.id).where(
        questions.c.status == "received", ~exists().where(drafts.c.question_id == questions.c.id))).all()
    if orphans:
        conn.execute(insert(jobs), [
            {"question_id": qid, "status": "queued", "passages": None, "attempts": 0, "partial": "",
             "last_error": "", "created_at": now, "next_attempt_at": now} for qid in orphans])


def _sessions_and_limits(conn: Connection) -> None:
    """Advisor sessions and rate limits in the database, shared by every app process; advisor removal."""
    # The tables as they are at version 3 (not the current models, which later steps may change).
    meta = MetaData()
    Table("advisors", meta, Column("id", Integer, primary_key=True))
    sessions = Table(
        "advisor_sessions", meta,
        Column("id", String(64), primary_key=True),
        Column("advisor_id", Integer, ForeignKey("advisors.id"), nullable=False, index=True),
        Column("created_at", DateTime, nullable=False),
        Column("expires_at", DateTime, nullable=False, index=True),
    )
    hits = Table(
        "limit_hits", meta,
        Column("id", Integer, primary_key=True),
        Column("key", String(64), nullable=False),
        Column("at", DateTime, nullable=False, index=True),
        Index("ix_limit_hits_key_at", "key", "at"),
    )
    sessions.create(conn)
    hits.create(conn)
    conn.exec_driver_sql(f"ALTER TABLE advisors ADD COLUMN removed_at {DateTime().compile(dialect=conn.dialect)}")


def _one_rating_per_answer(conn: Connection) -> None:
    """One rating per answered question: the latest of each question's ratings stays."""
    meta = MetaData()
    feedback = Table("feedback", meta, Column("id", Integer, primary_key=True), Column("question_id", Integer))
    latest = select(func.max(feedback.c.id)).group_by(feedback.c.question_id)
    conn.execute(delete(feedback).where(feedback.c.id.not_in(latest)))
    Index("ix_feedback_question_id", feedback.c.question_id).drop(conn)
    Index("ix_feedback_question_id", feedback.c.question_id, unique=True).create(conn)


def _outbox_delivery(conn: Connection) -> None:
    """Outbox rows get a stable Message-ID (made now for the rows already there) and a retry time."""
    from email.utils import make_msgid

    timestamp = DateTime().compile(dialect=conn.dialect)
    conn.exec_driver_sql("ALTER TABLE outbox ADD COLUMN message_id VARCHAR(255)")
    conn.exec_driver_sql(f"ALTER TABLE outbox ADD COLUMN next_attempt_at {timestamp}")
    outbox = Table("outbox", MetaData(), Column("id", Integer, primary_key=True), Column("question_id", Integer),
                   Column("message_id", String(255)))
    for row_id, question_id in conn.execute(select(outbox.c.id, outbox.c.question_id)).all():
        conn.execute(outbox.update().where(outbox.c.id == row_id).values(
            message_id=make_msgid(idstring=f"question-{question_id}", domain=MESSAGE_ID_DOMAIN)))


def _draft_peers(conn: Connection) -> None:
    """Drafts record the peer experiences proposed with them (NULL for older drafts)."""
    conn.exec_driver_sql(f"ALTER TABLE drafts ADD COLUMN peers {JSON().compile(dialect=conn.dialect)}")


def _hashed_tokens(conn: Connection) -> None:
    """Thread tokens stored as their sha256; a submission key too, with the token sealed under it."""
    meta = MetaData()
    threads = Table("threads", meta, Column("id", Integer, primary_key=True), Column("token", String(64)))
    questions = Table("questions", meta, Column("id", Integer, primary_key=True), Column("thread_id", Integer),
                      Column("submission_key", String(64)), Column("sealed_token", String(128)))
    conn.exec_driver_sql("ALTER TABLE questions ADD COLUMN sealed_token VARCHAR(128)")
    clear = dict(conn.execute(select(threads.c.id, threads.c.token)).all())
    keyed = conn.execute(select(questions.c.id, questions.c.thread_id, questions.c.submission_key)
                         .where(questions.c.submission_key.is_not(None))).all()
    for question_id, thread_id, key in keyed:
        conn.execute(questions.update().where(questions.c.id == question_id).values(
            submission_key=tokens.digest(key), sealed_token=tokens.seal(clear[thread_id], key)))
    for thread_id, token in clear.items():
        conn.execute(threads.update().where(threads.c.id == thread_id).values(token=tokens.digest(token)))


MIGRATIONS: tuple[Migration, ...] = (
    Migration(1, "threads, questions, drafts, answers, events, advisors, feedback, outbox", _initial),
    Migration(2, "draft jobs; questions' submission key; undrafted questions queued", _draft_jobs),
    Migration(3, "advisor sessions and rate limits shared by every app process; advisor removal",
              _sessions_and_limits),
    Migration(4, "one rating per answered question (a new rating replaces the old)", _one_rating_per_answer),
    Migration(5, "outbox: stable Message-ID, time of the next delivery attempt", _outbox_delivery),
    Migration(6, "drafts.peers: the peer experiences proposed with a draft", _draft_peers),
    Migration(7, "thread tokens and submission keys stored as their sha256; the token sealed for a retry",
              _hashed_tokens),
)
LATEST = MIGRATIONS[-1].number


def _refusal(refusal: Refusal) -> SchemaError:
    if refusal.kind == "unversioned":
        return SchemaError(
            f"the review database has tables ({refusal.found}) but no schema_version: it was not "
            "created by guichet-vert; point GUICHET_DATABASE_URL at an empty database")
    return SchemaError(
        f"the review database is at schema version {refusal.found} but this guichet-vert knows "
        f"versions up to {refusal.latest}: upgrade guichet-vert (pip install -U guichet-vert), or "
        "restore a backup made by this version")


#: The review tables, as the migration runner sees them.
TABLES = TableSet("review database", Base.metadata.create_all, MIGRATIONS, VersionTable(SchemaVersion.__table__),
                  refuse=_refusal)


def migrate(engine: Engine) -> int:
    """Bring the review database to `LATEST` and return its version.

    Raises:
        SchemaError: the database is newer than this code, or has review tables but no version.
        DatabaseBusy: another process holds the SQLite write lock longer than the busy timeout.
    """
    with translated(engine):
        return runner.migrate(engine, TABLES)
