"""Thread tokens are stored as their sha256: the database (and a backup) opens no buyer's thread.

A retried submission still gets the buyer's token back (sealed under its submission key), and
a database of schema version 6, with tokens in clear, is migrated: the old links keep working.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

from assistant.review import tokens
from assistant.review.migrations import LATEST, migrate
from assistant.review.texts import submission_key
from review_fixtures import open_service

TOKEN_MIGRATION = 7


def stored_bytes(home: Path) -> bytes:
    """Every byte of the SQLite database: the file and its WAL."""
    return b"".join(p.read_bytes() for p in (home / "review.sqlite", home / "review.sqlite-wal") if p.exists())


def test_neither_the_token_nor_the_submission_key_is_in_the_database_file(service, home, tmp_path):
    key = submission_key("tab-1", None, "Puis-je exiger un label ?")
    first = service.submit("Puis-je exiger un label ?", email="un@ville.fr", key=key)
    again = service.submit("Puis-je exiger un label ?", email="un@ville.fr", key=key)
    assert (again.id, again.thread) == (first.id, first.thread), "a retried submission gets the buyer's token back"
    follow = service.submit("Et un écolabel ?", thread_token=first.thread,
                            key=submission_key("tab-1", first.thread, "Et un écolabel ?"))
    assert follow.thread == first.thread and service.thread(first.thread).messages[1].question == "Et un écolabel ?"
    service.validate(first.id, "alice")
    service.export(tmp_path / "backup.jsonl")
    service.close()
    stored = stored_bytes(home)
    assert first.thread.encode() not in stored and key.encode() not in stored, "clear token or key in review.sqlite"
    assert tokens.digest(first.thread).encode() in stored, "the thread is stored under the digest of its token"
    assert first.thread not in (tmp_path / "backup.jsonl").read_text(), "a backup opens no thread either"


def test_advisors_see_the_thread_by_its_digest_never_its_token(service):
    sub = service.submit("Puis-je exiger un label ?", email="un@ville.fr")
    detail = service.show(sub.id)
    assert detail.thread == tokens.digest(sub.thread), detail.thread
    assert sub.thread not in repr(detail) + repr(service.list_questions()) + repr(service.outbox())
    service.forget(sub.thread)  # the buyer's link is what erasure asks for
    assert service.show(sub.id).has_email is False


def test_a_version_6_database_gets_its_tokens_hashed_and_its_links_and_retries_keep_working(home):
    service = open_service()
    key = submission_key("tab-1", None, "Question d'avant ?")
    sub = service.submit("Question d'avant ?", key=key)
    service.close()
    with sqlite3.connect(home / "review.sqlite") as conn:  # back to version 6: token and key in clear
        conn.execute("UPDATE threads SET token = ?", (sub.thread,))
        conn.execute("UPDATE questions SET submission_key = ?", (key,))
        conn.executescript("ALTER TABLE questions DROP COLUMN sealed_token; "
                           f"DELETE FROM schema_version WHERE version >= {TOKEN_MIGRATION};")
    assert sub.thread.encode() in stored_bytes(home), "the rewound database holds the token in clear"

    from assistant.review.db import make_engine

    engine = make_engine(f"sqlite:///{home / 'review.sqlite'}")
    assert migrate(engine) == LATEST
    engine.dispose()
    stored = stored_bytes(home)
    assert sub.thread.encode() not in stored and key.encode() not in stored, "the migration left a clear token"
    reopened = open_service()
    try:
        assert [m.question for m in reopened.thread(sub.thread).messages] == ["Question d'avant ?"], \
            "the buyer's old link still opens the thread"
        again = reopened.submit("Question d'avant ?", key=key)
        assert (again.id, again.thread) == (sub.id, sub.thread), "a retry after the upgrade gets the token back"
    finally:
        reopened.close()
