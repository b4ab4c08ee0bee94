"""The outbox: every mail to a buyer is a row first, then a delivery attempt; never dropped.

A delivery takes a short lease on its row (so two processes never send it at once), sends
outside any transaction, then records `sent` or `failed` with the attempt count and the
error. `retry` tries every pending or failed row again. A process killed mid-delivery leaves
the row `pending`; it is retried once the lease has expired.

Example:
    >>> outbox = Outbox(store, SmtpMailer("127.0.0.1", 2525, "none"))  # doctest: +SKIP
    >>> outbox.retry().sent  # doctest: +SKIP
    1
"""

from __future__ import annotations

import logging
from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from assistant.review.errors import Conflict, DeliveryFailed, InvalidInput
from assistant.review.mailer import Mailer, OutgoingMail
from assistant.review.models import OUTBOX_STATES, OutboxRow, QuestionRow, ThreadRow
from assistant.review.store import Store
from assistant.review.views import OutboxEntry, OutboxReport, outbox_entry

log = logging.getLogger(__name__)

#: How long a delivery attempt owns its row; after a crash the row is retried after this.
LEASE = timedelta(minutes=2)
RETRYABLE = ("pending", "failed")


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
                return OutgoingMail(row.recipient, row.subject, row.body)
        except Conflict:
            return None  # another process leased it at the same moment

    def deliver(self, entry_id: int) -> OutboxEntry | None:
        """Try one row once; None when it is sent, cancelled or leased by another process."""
        mail = self._lease(entry_id)
        if mail is None:
            return None
        error = ""
        try:
            if self.mailer is None:
                raise DeliveryFailed("mail is not configured: set GUICHET_SMTP_HOST")
            self.mailer.send(mail)
        except DeliveryFailed as exc:
            error = str(exc)
            log.warning("outbox %s: %s", entry_id, error)
        with self.store.write() as session:
            row = session.get(OutboxRow, entry_id)
            question = session.get(QuestionRow, row.question_id)
            row.locked_until = None
            if row.status == "cancelled":
                pass  # erased (forget) while sending: keep it cancelled
            elif error:
                row.status, row.last_error = "failed", error
                self.store.event(session, "system", "mail_failed", question, outbox=row.id,
                                 attempts=row.attempts, error=error)
            else:
                row.status, row.sent_at = "sent", self.store.now()
                self.store.event(session, "system", "mailed", question, outbox=row.id, attempts=row.attempts)
            return outbox_entry(row)

    def retryable_ids(self, question_id: int | None = None) -> list[int]:
        query = select(OutboxRow.id).where(OutboxRow.status.in_(RETRYABLE)).order_by(OutboxRow.id)
        if question_id is not None:
            query = query.where(OutboxRow.question_id == question_id)
        with self.store.read() as session:
            return list(session.scalars(query))

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
        """Try every pending or failed row once more."""
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
