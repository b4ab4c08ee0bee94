"""The outbox: every mail to a buyer is a row first, then delivery attempts; never dropped.

A delivery takes a short lease on its row (so two processes never send it at once), sends
outside any transaction, then records the result. Acceptance by the server is recorded first,
alone, in the smallest write there is, before anything else that could fail (the audit event
comes after it); a failed attempt is retried after a growing delay (`retry_delay`: 30 s, then
2, 10 and 30 minutes, then every hour), by the web app's background delivery (`review.delivery`)
or by `retry`. A process killed mid-delivery leaves the row `pending`: it is retried once its
lease has expired. Every attempt of one mail carries the same Message-ID, made when the mail is
queued: if a process dies after the server accepted the mail and before that was recorded, the
copy sent by the retry is recognised as the same message by the receiving system.

Example:
    >>> outbox = Outbox(store, SmtpMailer("127.0.0.1", 2525, "none"))  # doctest: +SKIP
    >>> outbox.retry().sent  # doctest: +SKIP
    1
"""

from __future__ import annotations

import logging
import time
from datetime import timedelta
from email.utils import make_msgid

from sqlalchemy import Subquery, func, or_, select, update
from sqlalchemy.orm import Session

from assistant.review.errors import Conflict, DatabaseBusy, DeliveryFailed, InvalidInput
from assistant.review.mailer import MESSAGE_ID_DOMAIN, Mailer, OutgoingMail
from assistant.review.models import OUTBOX_STATES, OutboxRow, QuestionRow, ThreadRow
from assistant.review.store import Store
from assistant.review.views import OutboxEntry, OutboxReport, outbox_entry

log = logging.getLogger(__name__)

#: How long a delivery attempt owns its row; after a crash the row is retried after this.
LEASE = timedelta(minutes=1)
RETRYABLE = ("pending", "failed")
#: Wait after the 1st, 2nd, ... failed attempt; the last one repeats.
RETRY_DELAYS = (timedelta(seconds=30), timedelta(minutes=2), timedelta(minutes=10), timedelta(minutes=30),
                timedelta(hours=1))
_row = OutboxRow.__table__.c


def retry_delay(attempts: int) -> timedelta:
    """How long to wait after `attempts` failed attempts (the first retry within a minute).

    Example:
        >>> [int(retry_delay(n).total_seconds()) for n in (1, 2, 5, 9)]
        [30, 120, 3600, 3600]
    """
    return RETRY_DELAYS[min(max(attempts, 1), len(RETRY_DELAYS)) - 1]


class Outbox:
    """Queue and deliver mail to buyers.

    Args:
        store: Shared store.
        mailer: Delivers messages; None when mail is not configured (nothing is queued).
    """

    def __init__(self, store: Store, mailer: Mailer | None) -> None:
        self.store = store
        self.mailer = mailer

    def queue(self, session: Session, question: QuestionRow, mail: OutgoingMail) -> int | None:
        """Add a pending row for the buyer of `question`, in the caller's transaction.

        Returns:
            The row id, or None when mail is off or the buyer left no address.
        """
        thread = session.get(ThreadRow, question.thread_id)
        if self.mailer is None or not thread.email:
            return None
        row = OutboxRow(
            question_id=question.id, recipient=thread.email, subject=mail.subject, body=mail.body,
            status="pending", attempts=0, last_error="", created_at=self.store.now(),
            message_id=make_msgid(idstring=f"question-{question.id}", domain=MESSAGE_ID_DOMAIN),
        )
        session.add(row)
        session.flush()
        return row.id

    def _lease(self, entry_id: int) -> OutgoingMail | None:
        try:
            with self.store.write() as session:
                row = session.get(OutboxRow, entry_id)
                now = self.store.now()
                if row is None or row.status not in RETRYABLE:
                    return None
                if row.locked_until is not None and row.locked_until > now:
                    return None
                row.attempts += 1
                row.locked_until = now + LEASE
                return OutgoingMail(row.recipient, row.subject, row.body, row.message_id or "")
        except Conflict:
            return None  # another process leased it at the same moment

    def deliver(self, entry_id: int) -> OutboxEntry | None:
        """Try one row once; None when it is sent, cancelled or leased by another process."""
        mail = self._lease(entry_id)
        if mail is None:
            return None
        try:
            if self.mailer is None:
                raise DeliveryFailed("mail is not configured: set GUICHET_SMTP_HOST")
            self.mailer.send(mail)
        except DeliveryFailed as exc:
            log.warning("outbox %s: %s", entry_id, exc)
            return self._record_failure(entry_id, str(exc))
        self._record_accepted(entry_id)
        try:
            with self.store.write() as session:
                row = session.get(OutboxRow, entry_id)
                if row.status == "sent":
                    self.store.event(session, "system", "mailed", session.get(QuestionRow, row.question_id),
                                     outbox=row.id, attempts=row.attempts, message_id=row.message_id)
                return outbox_entry(row)
        except DatabaseBusy:  # the delivery is recorded; only its audit line is missing
            log.warning("outbox %s: sent, but the audit event could not be written (database locked)", entry_id)
            return self._entry(entry_id)

    def _record_accepted(self, entry_id: int) -> None:
        """Mark the row sent, alone in its transaction; while the database is locked, try again
        for as long as the lease protects the row from a second delivery."""
        deadline = time.monotonic() + LEASE.total_seconds()
        pause = 0.25
        while True:
            try:
                with self.store.write() as session:
                    session.execute(update(OutboxRow).where(_row.id == entry_id, _row.status != "cancelled")
                                    .values(status="sent", sent_at=self.store.now(), locked_until=None,
                                            next_attempt_at=None, last_error="", version=_row.version + 1))
                return
            except DatabaseBusy:
                if time.monotonic() + pause > deadline:
                    log.error("outbox %s: accepted by the server but not recorded (database locked): the "
                              "retry will send a copy with the same Message-ID", entry_id)
                    raise
                time.sleep(pause)
                pause = min(2 * pause, 4.0)

    def _record_failure(self, entry_id: int, error: str) -> OutboxEntry:
        with self.store.write() as session:
            row = session.get(OutboxRow, entry_id)
            row.locked_until = None
            if row.status != "cancelled":  # erased (forget) while sending: keep it cancelled
                retry_at = self.store.now() + retry_delay(row.attempts)
                row.status, row.last_error, row.next_attempt_at = "failed", error, retry_at
                self.store.event(session, "system", "mail_failed", session.get(QuestionRow, row.question_id),
                                 outbox=row.id, attempts=row.attempts, error=error, retry_at=retry_at.isoformat())
            return outbox_entry(row)

    def _entry(self, entry_id: int) -> OutboxEntry:
        with self.store.read() as session:
            return outbox_entry(session.get(OutboxRow, entry_id))

    def retryable_ids(self, question_id: int | None = None) -> list[int]:
        query = select(OutboxRow.id).where(OutboxRow.status.in_(RETRYABLE)).order_by(OutboxRow.id)
        if question_id is not None:
            query = query.where(OutboxRow.question_id == question_id)
        with self.store.read() as session:
            return list(session.scalars(query))

    def due_ids(self) -> list[int]:
        """Rows whose next attempt is due and that no live lease holds, oldest first."""
        now = self.store.now()
        query = select(_row.id).where(
            _row.status.in_(RETRYABLE),
            or_(_row.next_attempt_at.is_(None), _row.next_attempt_at <= now),
            or_(_row.locked_until.is_(None), _row.locked_until <= now),
        ).order_by(_row.id)
        with self.store.read() as session:
            return list(session.scalars(query))

    def deliver_due(self) -> int:
        """Try every row that is due once; returns how many were tried."""
        return sum(self.deliver(entry_id) is not None for entry_id in self.due_ids())

    @staticmethod
    def undelivered() -> Subquery:
        """(question_id, id) of each question's latest undelivered mail (pending or failed), to
        join in listings."""
        return (select(_row.question_id, func.max(_row.id).label("id")).where(_row.status.in_(RETRYABLE))
                .group_by(_row.question_id).subquery())

    def entries(self, status: str | None = None) -> list[OutboxEntry]:
        """Rows (all, or of one status), oldest first."""
        if status is not None and status not in OUTBOX_STATES:
            raise InvalidInput(f"unknown outbox status '{status}': use one of {', '.join(OUTBOX_STATES)}")
        query = select(OutboxRow).order_by(OutboxRow.id)
        if status is not None:
            query = query.where(OutboxRow.status == status)
        with self.store.read() as session:
            return [outbox_entry(r) for r in session.scalars(query)]

    def retry(self) -> OutboxReport:
        """Try every pending or failed row once more, whatever its planned retry time."""
        entries = tuple(e for i in self.retryable_ids() if (e := self.deliver(i)) is not None)
        return OutboxReport(
            sent=sum(e.status == "sent" for e in entries),
            failed=sum(e.status == "failed" for e in entries),
            entries=entries,
        )

    @staticmethod
    def cancel_for_thread(session: Session, thread_id: int) -> int:
        """Erase the recipient of every row of a thread and cancel undelivered ones."""
        question_ids = select(QuestionRow.id).where(QuestionRow.thread_id == thread_id)
        cancelled = 0
        for row in session.scalars(select(OutboxRow).where(OutboxRow.question_id.in_(question_ids))):
            row.recipient = ""
            if row.status in RETRYABLE:
                row.status = "cancelled"
                cancelled += 1
        return cancelled
