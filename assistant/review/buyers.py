"""The buyer's side: reading a thread by its token, rating an answer, erasing personal data.

A thread shows its questions with a buyer-facing status and only what an advisor validated:
the sent answer with its sources, or the message of a rejection. Never a draft.

Example:
    >>> buyers = Buyers(store)  # doctest: +SKIP
    >>> buyers.thread(token).messages[0].status  # doctest: +SKIP
    'answered'
"""

from __future__ import annotations

from sqlalchemy import delete, select

from assistant.review import texts
from assistant.review.errors import InvalidInput, UnknownThread
from assistant.review.models import ESCALATED, REJECTED, SENT, AnswerRow, FeedbackRow, QuestionRow
from assistant.review.outbox import Outbox
from assistant.review.store import UNKNOWN_THREAD, Store
from assistant.review.views import Source, ThreadMessage, ThreadView

#: Workflow state → what the buyer sees (anything else is 'pending').
BUYER_STATUS = {SENT: "answered", REJECTED: "rejected", ESCALATED: "escalated"}


class Buyers:
    """Thread view, feedback and erasure, all keyed by the thread's unguessable token."""

    def __init__(self, store: Store) -> None:
        self.store = store

    def thread(self, token: str) -> ThreadView:
        """The thread's questions, status, and validated answers with their sources.

        Raises:
            UnknownThread: the token names no thread.
        """
        with self.store.read() as session:
            thread = self.store.thread(session, token)
            rows = session.scalars(select(QuestionRow).where(QuestionRow.thread_id == thread.id)
                                   .order_by(QuestionRow.id))
            answers = {a.question_id: a for a in session.scalars(
                select(AnswerRow).join(QuestionRow).where(QuestionRow.thread_id == thread.id))}
            messages = []
            for row in rows:
                status = BUYER_STATUS.get(row.status, "pending")
                answer = answers.get(row.id) if row.status == SENT else None
                if answer is not None:
                    messages.append(ThreadMessage(
                        row.id, row.text, status, row.created_at, answer=answer.text,
                        sources=tuple(Source(**s) for s in answer.sources), answered_at=answer.validated_at,
                    ))
                elif row.status == REJECTED:
                    messages.append(ThreadMessage(row.id, row.text, status, row.created_at,
                                                  answered_at=row.closed_at, message=row.buyer_message))
                else:
                    messages.append(ThreadMessage(row.id, row.text, status, row.created_at))
            return ThreadView(token, tuple(messages))

    def feedback(self, token: str, question_id: int, rating: int, comment: str = "") -> None:
        """Record a rating (1-5) and a comment on an answered question of the thread; a question
        keeps one rating, the latest (rating again replaces it: no stuffing).

        Raises:
            UnknownThread: unknown token, or a question of another thread (same message).
            InvalidInput: rating outside 1-5, or the question has no answer yet.
        """
        if not isinstance(rating, int) or isinstance(rating, bool) or not 1 <= rating <= 5:
            raise InvalidInput(f"rating must be an integer from 1 to 5, got {rating!r}")
        comment = texts.check_note(comment, "comment") if comment and comment.strip() else ""
        with self.store.write() as session:
            thread = self.store.thread(session, token)
            row = session.get(QuestionRow, question_id, with_for_update=True)  # one rater at a time
            if row is None or row.thread_id != thread.id:
                raise UnknownThread(UNKNOWN_THREAD)
            if row.status != SENT:
                raise InvalidInput(f"question {question_id} has no answer yet: rate it once answered")
            session.execute(delete(FeedbackRow).where(FeedbackRow.question_id == row.id))
            session.add(FeedbackRow(question_id=row.id, rating=rating, comment=comment,
                                    created_at=self.store.now()))
            self.store.event(session, "buyer", "feedback", row, rating=rating)

    def forget(self, token: str, actor: str = "admin") -> None:
        """Erase the e-mail and organisation (thread and outbox); statistics stay.

        Raises:
            UnknownThread: the token names no thread.
        """
        with self.store.write() as session:
            thread = self.store.thread(session, token)
            thread.email = None
            thread.organisation = None
            thread.forgotten_at = self.store.now()
            cancelled = Outbox.cancel_for_thread(session, thread.id)
            self.store.event(session, actor, "forgotten", thread_id=thread.id,
                             erased=["email", "organisation"], mails_cancelled=cancelled)
