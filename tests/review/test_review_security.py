"""Issue #15 at the service (real SQLite file in tmp_path): one rating per answer (item 5), typed
texts without invisible or control characters (item 10), an owner-only database file (item 11)."""

from __future__ import annotations

import sqlite3

import pytest
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from assistant.review.db import make_engine, transaction
from assistant.review.errors import InvalidInput
from assistant.review.migrations import LATEST, migrate
from assistant.review.models import FeedbackRow
from assistant.review.store import utcnow
from assistant.review.texts import check_email, check_question
from assistant.ui.render import french_error
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
            ALTER TABLE outbox DROP COLUMN message_id;
            ALTER TABLE outbox DROP COLUMN next_attempt_at;
            ALTER TABLE drafts DROP COLUMN peers;
            ALTER TABLE questions DROP COLUMN sealed_token;
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


@pytest.mark.parametrize("typed", [
    "\u200b\u200b\u200b", "\ufeff", "\u200e\u200f\u202a\u202c", "\u2066\u2069", "\u200d \u00ad \u2060",
])
def test_a_question_of_invisible_characters_only_is_refused(service, typed):
    with pytest.raises(InvalidInput, match="is empty") as refused:
        service.submit(typed)
    assert french_error(refused.value) == "Le texte est vide : écrivez-le."


def test_bidi_controls_and_zero_width_characters_are_stripped(service):
    """The probe's right-to-left override showed the question reversed in the advisor queue."""
    typed = "\ufeffPuis-je \u202eexiger\u202c un lab\u200bel ?\u2067"
    sub = service.submit(typed)
    assert service.show(sub.id).text == "Puis-je exiger un label ?"
    assert check_question("Achats\u00a0: papier\nrecyclé\t?") == "Achats\u00a0: papier\nrecyclé\t?", \
        "visible characters, line breaks and tabs are kept"


@pytest.mark.parametrize("control", ["\x00", "\x07", "\x1b", "\x7f", "\x85"])
def test_a_control_character_in_a_text_is_refused(service, control):
    with pytest.raises(InvalidInput, match="control character|NUL") as refused:
        service.submit(f"Puis-je{control} exiger un label ?")
    assert french_error(refused.value) == "Le texte contient un caractère de contrôle invalide : retirez-le."


@pytest.mark.parametrize("email", ["acheteur\x00@mairie.fr", "acheteur@mairie.fr\x00", "ache\u200bteur@mairie.fr",
                                   "\u202eacheteur@mairie.fr", "acheteur@mai\x0brie.fr"])
def test_an_email_with_a_nul_or_an_invisible_character_is_refused_and_nothing_stored(service, email):
    """The probe stored an e-mail holding a NUL."""
    with pytest.raises(InvalidInput, match="invisible or control character") as refused:
        service.submit(QUESTION, email=email)
    assert french_error(refused.value) == "L'adresse e-mail n'est pas valide (exemple : nom@ville.fr)."
    assert service.list_questions() == [], "nothing is stored"
    assert check_email(" acheteur@mairie.fr ") == "acheteur@mairie.fr"


def _mode(path) -> int:
    return path.stat().st_mode & 0o777


def test_the_review_database_is_readable_by_its_owner_only(home):
    """Item 11: review.sqlite (tokens, e-mails, password hashes) was created 0644."""
    service = open_service()
    service.submit(QUESTION, email="acheteur@mairie.fr")
    files = sorted(home.glob("review.sqlite*"))
    assert [f.name for f in files] == ["review.sqlite", "review.sqlite-shm", "review.sqlite-wal"]
    assert {f.name: _mode(f) for f in files} == {f.name: 0o600 for f in files}
    service.close()
    for file in files:  # as an earlier version left them
        if file.exists():
            file.chmod(0o644)
    reopened = open_service()
    assert {f.name: _mode(f) for f in home.glob("review.sqlite*")} == \
        {f.name: 0o600 for f in home.glob("review.sqlite*")}, "an existing database is made private too"
    reopened.close()
