"""Advisors' login sessions, kept in the review database so that every app process agrees.

A session id is 32 random bytes given to the browser once; the database keeps only its sha256.
Logging out deletes the row, and so do a password change and an advisor's removal for every
session of that advisor: the session then ends on every process at once, restarts included.

Example:
    >>> from assistant.review.db import make_engine
    >>> from assistant.review.migrations import migrate
    >>> from assistant.review.models import AdvisorRow
    >>> engine = make_engine("sqlite:///:memory:"); _ = migrate(engine)
    >>> store = Store(engine)
    >>> with store.write() as session:
    ...     session.add(AdvisorRow(name="alice", password_hash="-", created_at=store.now()))
    >>> sessions = AdvisorSessions(store)
    >>> sid = sessions.open("alice")
    >>> sessions.advisor(sid)
    'alice'
    >>> sessions.close(sid); sessions.advisor(sid) is None
    True
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from sqlalchemy import delete, select
from sqlalchemy.orm import Session

from assistant.review.models import AdvisorRow, SessionRow
from assistant.review.store import Store

#: How long an advisor stays logged in without logging in again.
SESSION_HOURS = 10.0


def _digest(session_id: str) -> str:
    return hashlib.sha256(session_id.encode("utf-8", "surrogatepass")).hexdigest()


class AdvisorSessions:
    """Open, check and end advisors' sessions.

    Args:
        store: The review store (its clock dates and expires the sessions).
        hours: Lifetime of a session.
    """

    def __init__(self, store: Store, hours: float = SESSION_HOURS) -> None:
        self.store = store
        self.seconds = int(hours * 3600)

    def open(self, advisor: str) -> str:
        """A new session for an authenticated advisor; returns its id (never stored as is).

        Raises:
            UnknownAdvisor: no such advisor.
        """
        session_id = secrets.token_urlsafe(32)
        with self.store.write() as session:
            now = self.store.now()
            session.execute(delete(SessionRow).where(SessionRow.expires_at <= now))
            row = self.store.advisor(session, advisor)
            session.add(SessionRow(id=_digest(session_id), advisor_id=row.id, created_at=now,
                                   expires_at=now + timedelta(seconds=self.seconds)))
        return session_id

    def advisor(self, session_id: str | None) -> str | None:
        """The advisor of a live session, or None (unknown, expired, logged out, removed advisor)."""
        if not session_id:
            return None
        with self.store.read() as session:
            return session.scalar(
                select(AdvisorRow.name).join(SessionRow, SessionRow.advisor_id == AdvisorRow.id).where(
                    SessionRow.id == _digest(session_id), SessionRow.expires_at > self.store.now(),
                    AdvisorRow.removed_at.is_(None)))

    def close(self, session_id: str | None) -> None:
        """End one session (logout)."""
        if session_id:
            with self.store.write() as session:
                session.execute(delete(SessionRow).where(SessionRow.id == _digest(session_id)))

    @staticmethod
    def close_all(session: Session, advisor: AdvisorRow) -> int:
        """End every session of an advisor, inside the caller's transaction; returns how many."""
        return session.execute(delete(SessionRow).where(SessionRow.advisor_id == advisor.id)).rowcount
