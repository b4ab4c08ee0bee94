"""Issue #15 at the service (real SQLite file in tmp_path): one rating per answer (item 5)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.review.db import make_engine, transaction
from assistant.review.migrations import LATEST, migrate
from assistant.review.models import FeedbackRow
from assistant.review.store import utcnow
from review_fixtures import open_service

QUESTION = "Puis-je exiger un écolabel pour des ramettes de papier ?"


def _answered(service) -> tuple[str, int]:
    sub = service.submit(QUESTION)
    service.validate(sub.id, "alice", "Oui, ou un équivalent.")
    return sub.thread, sub.id


def test_rating_one_answer_again_replaces_the_rating(service):
    """The probe's 25 one-star ratings of one answer, from one thread, were all counted."""
    thread, question = _answered(service)
    other_thread, other = _answered(service)
    for _ in range(25):
        service.feedback(thread, question, 1, "mauvais")
    service.feedback(other_thread, other, 4)
    assert service.stats()["feedback"] == {"count": 2, "rating_mean": 2.5}
    service.feedback(thread, question, 5, "en fait, très bien")
    assert service.stats()["feedback"] == {"count": 2, "rating_mean": 4.5}, "the new rating replaces the old"
    with transaction(service.engine) as session:
        assert session.scalars(select(FeedbackRow.comment).where(FeedbackRow.question_id == question)).all() == \
            ["en fait, très bien"]


def test_migration_keeps_the_latest_rating_of_each_answer(service, home):
    thread, question = _answered(service)
    other_thread, other = _answered(service)
    service.close()
    url = f"sqlite:///{home / 'review.sqlite'}"
    with sqlite3.connect(home / "review.sqlite") as conn:  # back to version 3, stuffed as the probe did
        conn.executescript("""
            DROP INDEX ix_feedback_question_id;
            CREATE INDEX ix_feedback_question_id ON feedback (question_id);
            DELETE FROM schema_version WHERE version > 3;
        """)
        conn.executemany("INSERT INTO feedback (question_id, rating, comment, created_at) VALUES (?, ?, ?, ?)",
                         [(question, 1, f"n° {i}", "2026-03-02 09:00:00") for i in range(25)] +
                         [(other, 4, "", "2026-03-02 09:00:00"), (question, 3, "la dernière", "2026-03-02 09:01:00")])
    engine = make_engine(url)
    assert migrate(engine) == LATEST
    with transaction(engine) as session:
        kept = session.execute(select(FeedbackRow.question_id, FeedbackRow.rating, FeedbackRow.comment)
                               .order_by(FeedbackRow.question_id)).all()
        assert [tuple(row) for row in kept] == [(question, 3, "la dernière"), (other, 4, "")]
    with pytest.raises(IntegrityError), transaction(engine, write=True) as session:  # the index holds it
        session.add(FeedbackRow(question_id=other, rating=1, comment="", created_at=utcnow()))
    reopened = open_service()
    assert reopened.stats()["feedback"] == {"count": 2, "rating_mean": 3.5}
    reopened.close()
