"""The review service: the only way a question moves from received to sent.

States: received → drafted → in_review (claimed, the claim expires) → sent; or rejected (reason
and a message to the buyer); or escalated (reason). `sent` and `rejected` are final; which
action is allowed from which state, and what it changes, is one table (`review.workflow`). Every
change is one transaction with an optimistic version check and an audit event; mail goes
through the outbox, so a failed delivery is retried, never dropped. Drafting goes through the
draft job table (`review.jobs`): a question is stored with its job, then drafted at once by
the caller (`draft_now`) or later by a worker (`review.worker`) of any process.

Example:
    >>> service = review_service(get_settings())  # doctest: +SKIP (assistant.compose wires the drafter)
    >>> sub = service.submit("Puis-je exiger un label ?", email="a@ville.fr")  # doctest: +SKIP
    >>> service.validate(sub.id, "alice", "Oui, sous conditions [1].").status  # doctest: +SKIP
    'sent'
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
from collections.abc import Callable, Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

from argon2 import PasswordHasher
from sqlalchemy import and_, func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, aliased

from assistant.drafting.render import without_sources
from assistant.review import backup, metrics, reuse, texts, tokens
from assistant.review.accounts import Accounts
from assistant.review.buyers import Buyers
from assistant.review.db import database_url, make_engine
from assistant.review.errors import DatabaseBusy, IllegalTransition, InvalidInput
from assistant.review.jobs import DraftJob, DraftJobs
from assistant.review.limits import SharedLimits
from assistant.review.live import LiveDrafts
from assistant.review.mailer import Mailer, compose_answer, compose_rejection
from assistant.review.migrations import migrate
from assistant.review.options import ReviewConfig
from assistant.review.models import (
    OUTBOX_STATES,
    QUEUED,
    RECEIVED,
    REJECTED,
    RUNNING,
    SENT,
    STATES,
    AdvisorRow,
    AnswerRow,
    DraftJobRow,
    DraftRow,
    EventRow,
    FeedbackRow,
    OutboxRow,
    QuestionRow,
    ThreadRow,
)
from assistant.review.outbox import Outbox
from assistant.review.runner import DraftRunner, Drafter, Outcome
from assistant.review.sessions import AdvisorSessions
from assistant.review.store import Store, utcnow
from assistant.review.views import (
    Advisor,
    OutboxEntry,
    OutboxReport,
    QuestionDetail,
    QuestionSummary,
    Source,
    Submission,
    ThreadView,
    answer_record,
    audit_event,
    outbox_entry,
    stored_draft,
)
from assistant.review.workflow import Action, apply, check, claim_live

log = logging.getLogger(__name__)

ReusableHook = Callable[[Path], None]

DEFAULT_REJECTION = (
    "Le guichet vert ne peut pas répondre à cette question. Un conseiller peut vous orienter "
    "vers un autre interlocuteur si vous reprenez contact."
)


class ReviewService:
    """Questions, drafts, advisor review, sending, metrics, backup and erasure.

    Example:
        >>> service = review_service(get_settings(), drafter=my_drafter)  # doctest: +SKIP (assistant.compose)
        >>> sub = service.submit("Quelle part de reconditionné ?")  # doctest: +SKIP
        >>> opened = service.claim(sub.id, "alice")  # doctest: +SKIP
        >>> service.validate(sub.id, "alice", "…", expected_version=opened.version)  # doctest: +SKIP

    Args:
        config: Where the data lives, claim and draft-lease durations (`ReviewConfig`).
        drafter: Builds a draft from a question and the thread's earlier questions (see
            `review.runner.Drafter`).
        on_reusable: Called with the past-answer file written for a reusable answer.
        mailer: Delivers mail (`assistant.compose` passes an `SmtpMailer` when SMTP is set);
            None = mails wait in the outbox.
        clock: Current UTC time (tests move it to expire claims).
        busy_timeout_s: How long a SQLite writer waits for a lock before `DatabaseBusy`.
        password_hasher: argon2id hasher; argon2-cffi's default (RFC 9106 low-memory) profile.
        live: Where drafts being written are published piece by piece (the web app follows them);
            None = drafters are not asked to stream.
    """

    def __init__(
        self,
        config: ReviewConfig,
        drafter: Drafter | None = None,
        on_reusable: ReusableHook | None = None,
        mailer: Mailer | None = None,
        clock: Callable[[], datetime] = utcnow,
        busy_timeout_s: float = 5.0,
        password_hasher: PasswordHasher | None = None,
        live: LiveDrafts | None = None,
    ) -> None:
        self.config = config
        self.home = Path(config.home)
        self.claim_duration = config.claim
        self._drafter = drafter
        self._on_reusable = on_reusable
        self.url = database_url(self.home, config.database_url)
        self.engine = make_engine(self.url, busy_timeout_s)
        self.schema_version = migrate(self.engine)
        self.store = Store(self.engine, clock)
        self.limits = SharedLimits(self.store)
        self.sessions = AdvisorSessions(self.store)
        self.accounts = Accounts(self.store, self.limits, password_hasher)
        self.buyers = Buyers(self.store)
        self.mail = Outbox(self.store, mailer)
        self.live = live
        self.jobs = DraftJobs(self.store, config.draft_lease)
        self.drafting = DraftRunner(self.store, self.jobs, drafter, live)
        #: This service's name on the draft jobs it claims (unique per process and service).
        self.owner = f"{socket.gethostname()[:64]}:{os.getpid()}:{secrets.token_hex(4)}"

    def close(self) -> None:
        """Release the database connections."""
        self.engine.dispose()

    # ---------------------------------------------------------------- accounts, buyer side

    def add_advisor(self, name: str, password: str) -> Advisor:
        """Create an advisor account (argon2id hash); see `Accounts.add`."""
        return self.accounts.add(name, password)

    def advisors(self) -> list[Advisor]:
        """Every advisor account that can log in, by name."""
        return self.accounts.all()

    def set_password(self, name: str, password: str) -> int:
        """Change an advisor's password and end their sessions everywhere; see `Accounts.set_password`."""
        return self.accounts.set_password(name, password)

    def remove_advisor(self, name: str) -> int:
        """Remove an advisor and end their sessions everywhere; see `Accounts.remove`."""
        return self.accounts.remove(name)

    def authenticate(self, name: str, password: str) -> Advisor:
        """Check an advisor's password, throttled per account; raises `AuthenticationFailed` or
        `RateLimited`."""
        return self.accounts.authenticate(name, password)

    def thread(self, token: str) -> ThreadView:
        """A buyer's thread: questions, status, validated answers only; see `Buyers.thread`."""
        return self.buyers.thread(token)

    def feedback(self, token: str, question_id: int, rating: int, comment: str = "") -> None:
        """A buyer's rating (1-5) and comment; see `Buyers.feedback`."""
        self.buyers.feedback(token, question_id, rating, comment)

    def forget(self, token: str, actor: str = "admin") -> None:
        """Erase a buyer's e-mail and organisation, keep anonymous statistics; audited."""
        self.buyers.forget(token, actor)

    # ---------------------------------------------------------------- submission and drafting

    def submit(self, question: str, email: str | None = None, organisation: str | None = None,
               thread_token: str | None = None, *, passages: list[dict[str, Any]] | None = None,
               key: str | None = None, draft_now: bool = True) -> Submission:
        """Record a buyer's question with its draft job, then draft it now or leave it to a worker.

        The question and its job are committed together, before any drafting: whatever fails
        later (the drafter, the process, a locked database), the question is stored and drafted
        later (see `review.jobs`), never lost.

        Args:
            question: The buyer's question.
            email: Where to mail the validated answer (optional).
            organisation: The buyer's organisation (optional).
            thread_token: Token of the buyer's existing thread, for a follow-up question.
            passages: The passages to draft from (`drafting.refs`); None = the draft searches.
            key: Identifies this submission (the buyer page's retry of the same question sends the
                same key): a key already recorded returns the question it recorded.
            draft_now: Draft in this call (the CLI); False = a worker drafts it (the web app).

        Returns:
            The question id, its status (`drafted`; `received` when drafting failed, or when it is
            left to a worker) and the thread token.

        Raises:
            UnknownThread: `thread_token` names no thread.
            InvalidInput: empty or too long question, malformed e-mail, over-long key.
        """
        text = texts.check_question(question)
        email = texts.check_email(email)
        organisation = texts.check_organisation(organisation)
        if key is not None and not 0 < len(key) <= 64:
            raise InvalidInput(f"submission key must be 1-64 characters, got {len(key)}")
        try:
            return self._record(text, email, organisation, thread_token, passages, key, draft_now)
        except (DatabaseBusy, IntegrityError):
            # A retry of a recorded question is answered from a read, even while a writer holds
            # the lock; two copies sent at once (PostgreSQL) meet the key's unique index.
            if key is not None:
                with self.store.read() as session:
                    if (known := self._submitted(session, key)) is not None:
                        return known
            raise

    def _record(self, text: str, email: str | None, organisation: str | None, thread_token: str | None,
                passages: list[dict[str, Any]] | None, key: str | None, draft_now: bool) -> Submission:
        with self.store.write() as session:
            if key is not None and (known := self._submitted(session, key)) is not None:
                return known
            if thread_token is not None:
                thread = self.store.thread(session, thread_token)
                thread.email = email or thread.email
                thread.organisation = organisation or thread.organisation
                token = thread_token
            else:
                token = tokens.new_token()
                thread = ThreadRow(token=tokens.digest(token), email=email, organisation=organisation,
                                   created_at=self.store.now())
                session.add(thread)
                session.flush()
            row = QuestionRow(thread_id=thread.id, text=text, status=RECEIVED, created_at=self.store.now(),
                              submission_key=tokens.digest(key) if key is not None else None,
                              sealed_token=tokens.seal(token, key) if key is not None else None)
            session.add(row)
            session.flush()
            self.store.event(session, "buyer", "received", row)
            task = self.jobs.enqueue(session, row.id, passages, owner=self.owner if draft_now else None,
                                     replace=False)
            question_id = row.id
        if task is None:
            return Submission(question_id, RECEIVED, token)
        outcome = self.drafting.run(task)
        return Submission(question_id, outcome.status, token, outcome.error)

    def _submitted(self, session: Session, key: str) -> Submission | None:
        """The question a submission key recorded, with the thread token sealed under that key."""
        row = session.scalar(select(QuestionRow).where(QuestionRow.submission_key == tokens.digest(key)))
        if row is None:
            return None
        assert row.sealed_token is not None, "a keyed question keeps its sealed token (migration 7)"
        return Submission(row.id, row.status, tokens.unseal(row.sealed_token, key), row.draft_error or "")

    def redraft(self, question_id: int, advisor: str | None = None, drafter: Drafter | None = None,
                expected_version: int | None = None, *, passages: list[dict[str, Any]] | None = None,
                draft_now: bool = True) -> QuestionDetail:
        """Draft again: after a drafting failure, or with another drafter or other passages.

        The new request replaces any draft job of the question still queued or running (a
        running one stores nothing when it ends).

        Args:
            question_id: The question.
            advisor: Who asks (None for a system retry of a failed draft).
            drafter: Overrides the service's drafter for this call (only with `draft_now`).
            expected_version: The version the advisor saw.
            passages: The passages to draft from, in the advisor's order (`drafting.refs`);
                None = search again.
            draft_now: Draft in this call; False = a worker drafts it (follow it with `follow_draft`).
        """
        if drafter is not None and not draft_now:
            raise InvalidInput("a drafter override only applies to a draft made now (draft_now=True)")
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            adv = self.store.advisor(session, advisor) if advisor else None
            check(self.store, session, row, Action.REDRAFT, adv, expected_version)
            task = self.jobs.enqueue(session, question_id, passages, requested_by=adv.id if adv else None,
                                     owner=self.owner if draft_now else None)
        if task is not None:
            self.drafting.run(task, drafter)
        return self.show(question_id)

    def draft_pending(self, limit: int = 1, peek: bool = True) -> list[Outcome]:
        """Claim up to `limit` due draft jobs (any process may have queued them) and draft them.

        Args:
            limit: Jobs claimed at most.
            peek: Look with a plain read first, so that an idle worker never takes the write lock
                (False when jobs are known to be waiting).

        Returns:
            One outcome per job drafted (empty when nothing was due).
        """
        if peek and not self.jobs.due():
            return []
        return [self.drafting.run(task) for task in self.jobs.claim(self.owner, limit)]

    def draft_jobs(self, status: str | None = None) -> list[DraftJob]:
        """Draft jobs (all, or of one state), oldest first."""
        return self.jobs.entries(status)

    def draft_job(self, question_id: int) -> DraftJob | None:
        """The question's latest draft job, or None (a question from before draft jobs)."""
        with self.store.read() as session:
            return self.jobs.latest(session, question_id)

    def follow_draft(self, question_id: int, timeout_s: float = 600.0) -> Iterator[str]:
        """The growing text of the question's draft while it is being written (see `LiveDrafts`).

        Token by token when this process writes it, from the job row (about every second) when
        another process does; ends when the job is done, failed or cancelled.
        """
        def still_open() -> tuple[bool, str]:
            job = self.draft_job(question_id)
            return (job is not None and job.status in (QUEUED, RUNNING), job.partial if job else "")

        return (self.live or LiveDrafts()).follow(question_id, still_open, timeout_s)

    # ---------------------------------------------------------------- the advisor queue

    def list_questions(self, status: str | None = None, limit: int | None = None) -> list[QuestionSummary]:
        """The queue, oldest first, optionally of one status (one query, whatever its length)."""
        if status is not None and status not in STATES:
            raise InvalidInput(f"unknown status '{status}': use one of {', '.join(STATES)}")
        latest, open_jobs, undelivered = self.store.latest_drafts(), self.jobs.open_jobs(), self.mail.undelivered()
        claimer, job, mail = aliased(AdvisorRow), aliased(DraftJobRow), aliased(OutboxRow)
        query = (
            select(QuestionRow, DraftRow.abstained, claimer.name, job.status, mail.status, mail.next_attempt_at)
            .outerjoin(latest, latest.c.question_id == QuestionRow.id)
            .outerjoin(DraftRow, and_(DraftRow.question_id == QuestionRow.id, DraftRow.number == latest.c.number))
            .outerjoin(claimer, claimer.id == QuestionRow.claimed_by)
            .outerjoin(open_jobs, open_jobs.c.question_id == QuestionRow.id).outerjoin(job, job.id == open_jobs.c.id)
            .outerjoin(undelivered, undelivered.c.question_id == QuestionRow.id)
            .outerjoin(mail, mail.id == undelivered.c.id)
            .order_by(QuestionRow.created_at, QuestionRow.id)
        )
        if status is not None:
            query = query.where(QuestionRow.status == status)
        if limit is not None:
            query = query.limit(limit)
        with self.store.read() as session:
            now = self.store.now()
            result = []
            for row, abstained, claimed_by, drafting, mail_status, mail_retry_at in session.execute(query):
                claimed = claim_live(row, now)
                result.append(QuestionSummary(
                    row.id, row.status, row.text, row.created_at, row.version,
                    claimed_by if claimed else None, row.claim_expires_at if claimed else None,
                    abstained, row.draft_error, drafting, mail_status, mail_retry_at,
                ))
            return result

    def show(self, question_id: int) -> QuestionDetail:
        """Everything about one question: thread context, latest draft, answer, audit, outbox."""
        with self.store.read() as session:
            row = self.store.question(session, question_id)
            thread = session.get(ThreadRow, row.thread_id)
            names = self.store.advisor_names(session)
            draft = self.store.latest_draft(session, row.id)
            drafts = session.scalar(select(func.count()).select_from(DraftRow).where(DraftRow.question_id == row.id))
            answer = session.scalar(select(AnswerRow).where(AnswerRow.question_id == row.id))
            events = session.scalars(select(EventRow).where(EventRow.question_id == row.id).order_by(EventRow.id))
            outbox = session.scalars(select(OutboxRow).where(OutboxRow.question_id == row.id).order_by(OutboxRow.id))
            claimed = claim_live(row, self.store.now())
            return QuestionDetail(
                id=row.id, thread=thread.token, status=row.status, version=row.version, text=row.text,
                created_at=row.created_at, drafted_at=row.drafted_at,
                claimed_by=names.get(row.claimed_by) if claimed else None,
                claim_expires_at=row.claim_expires_at if claimed else None,
                organisation=thread.organisation, has_email=bool(thread.email),
                history=tuple(self.store.earlier_questions(session, row.thread_id, row.id)),
                draft=stored_draft(draft) if draft else None, drafts=drafts,
                answer=answer_record(answer, names) if answer else None, reason=row.reason,
                buyer_message=row.buyer_message, draft_error=row.draft_error,
                events=tuple(audit_event(e) for e in events), outbox=tuple(outbox_entry(o) for o in outbox),
                job=self.jobs.latest(session, row.id),
            )

    # ---------------------------------------------------------------- advisor actions

    def claim(self, question_id: int, advisor: str, expected_version: int | None = None) -> QuestionDetail:
        """Take a question for review (or renew one's own claim) for `claim_duration`.

        Raises:
            Conflict: another advisor holds a live claim, or the version changed.
            IllegalTransition: the question is sent or rejected.
        """
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            adv = self.store.advisor(session, advisor)
            check(self.store, session, row, Action.CLAIM, adv, expected_version)
            apply(self.store, session, row, Action.CLAIM, adv.name, adv, self.claim_duration)
        return self.show(question_id)

    def release(self, question_id: int, advisor: str, expected_version: int | None = None) -> QuestionDetail:
        """Give a claimed question back to the queue."""
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            adv = self.store.advisor(session, advisor)
            check(self.store, session, row, Action.RELEASE, adv, expected_version)
            apply(self.store, session, row, Action.RELEASE, adv.name, adv)
        return self.show(question_id)

    def validate(self, question_id: int, advisor: str, text: str | None = None, *, reusable: bool = False,
                 expected_version: int | None = None) -> QuestionDetail:
        """Validate the final answer and send it: to the thread, and by mail when configured.

        Claims the question implicitly when nobody holds it.

        Args:
            question_id: The question.
            advisor: The validating advisor's name.
            text: The final text; None sends the latest draft unedited.
            reusable: Also write it as a past answer (`HOME/answers/<id>.yaml`) and call the hook.
            expected_version: The version the advisor saw.

        Raises:
            Conflict: another advisor holds the claim, or the item changed meanwhile.
            IllegalTransition: already sent or rejected.
            InvalidInput: empty or over-long final text, or no draft text to send.
        """
        # The buyer's message lists the sources once, from the citations: not the draft's block too.
        final = without_sources(texts.check_answer_text(text)) if text is not None else None
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            adv = self.store.advisor(session, advisor)
            check(self.store, session, row, Action.VALIDATE, adv, expected_version)
            draft = self.store.latest_draft(session, question_id)
            if final is None:
                if draft is None or draft.abstained or not draft.text.strip():
                    raise InvalidInput(f"question {question_id} has no draft text to send: "
                                       "write the final text (--text-file)")
                final = without_sources(texts.check_answer_text(draft.text))
            draft_text = without_sources(draft.text).strip() if draft else ""
            sources = texts.cited_sources(draft.citations, draft.passages, final) if draft else []
            ratio = texts.edit_ratio(draft_text, final)
            apply(self.store, session, row, Action.VALIDATE, adv.name, adv, self.claim_duration,
                  diff=texts.text_diff(draft_text, final), draft=draft.number if draft else None, edit_ratio=ratio,
                  reusable=reusable)
            session.add(AnswerRow(
                question_id=row.id, draft_id=draft.id if draft else None, advisor_id=adv.id, text=final,
                sources=sources, edited=draft is None or final != draft_text, edit_ratio=ratio,
                reusable=reusable, validated_at=row.closed_at,
            ))
            mail = compose_answer(row.id, row.text, final, [Source(**s) for s in sources])
            outbox_id = self.mail.queue(session, row, mail)
            question_text = row.text
        if outbox_id is not None:
            self._deliver_now(outbox_id)
        if reusable:
            self._reuse(question_id, question_text, final, sources, advisor)
        return self.show(question_id)

    def reject(self, question_id: int, advisor: str, reason: str, message: str | None = None,
               expected_version: int | None = None) -> QuestionDetail:
        """Close a question without an answer; the buyer sees (and is mailed) `message`.

        Args:
            reason: Why, for advisors and statistics (never shown to the buyer).
            message: What the buyer reads; a polite default when None.
        """
        reason = texts.check_note(reason, "reason")
        message = texts.check_note(message, "message to the buyer") if message else DEFAULT_REJECTION
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            adv = self.store.advisor(session, advisor)
            check(self.store, session, row, Action.REJECT, adv, expected_version)
            row.reason, row.buyer_message = reason, message
            apply(self.store, session, row, Action.REJECT, adv.name, adv, reason=reason, message=message)
            outbox_id = self.mail.queue(session, row, compose_rejection(row.id, row.text, message))
        if outbox_id is not None:
            self._deliver_now(outbox_id)
        return self.show(question_id)

    def escalate(self, question_id: int, advisor: str, reason: str,
                 expected_version: int | None = None) -> QuestionDetail:
        """Hand a question to an expert or a working group; it can still be validated later."""
        reason = texts.check_note(reason, "reason")
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            adv = self.store.advisor(session, advisor)
            check(self.store, session, row, Action.ESCALATE, adv, expected_version)
            row.reason = reason
            apply(self.store, session, row, Action.ESCALATE, adv.name, adv, reason=reason)
        return self.show(question_id)

    def _reuse(self, question_id: int, question: str, answer: str, sources: list[dict[str, Any]],
               advisor: str) -> None:
        titles = [f"{s['title']}, {s['location']}" for s in sources]
        path = reuse.write_past_answer(self.home, question_id, question, answer, titles, self.store.now().date())
        error = ""
        if self._on_reusable is not None:
            try:
                self._on_reusable(path)
            except Exception as exc:  # noqa: BLE001 - the answer is sent; the failure is recorded
                error = f"{type(exc).__name__}: {exc}"
                log.warning("reusable hook failed for %s: %s", path, error)
        with self.store.write() as session:
            row = self.store.question(session, question_id)
            self.store.event(session, advisor, "reuse_failed" if error else "reusable_written", row,
                             path=str(path), **({"error": error} if error else {}))

    # ---------------------------------------------------------------- sending

    def _deliver_now(self, outbox_id: int) -> None:
        """First delivery attempt, right after the validation was committed; whatever goes wrong
        is the outbox's to retry (background delivery, `retry_outbox`), never the advisor's."""
        try:
            self.mail.deliver(outbox_id)
        except Exception:  # noqa: BLE001 - the answer is validated and queued: nothing is lost
            log.exception("first delivery of outbox %s failed; it will be retried", outbox_id)

    def send(self, question_id: int) -> list[OutboxEntry]:
        """Deliver now the pending mail of a validated (or rejected) question.

        Raises:
            IllegalTransition: no advisor validated (or rejected) the question.
        """
        with self.store.read() as session:
            row = self.store.question(session, question_id)
            if row.status not in (SENT, REJECTED):
                raise IllegalTransition(f"question {question_id} is '{row.status}': an advisor must "
                                        "validate it before anything is sent")
        ids = self.mail.retryable_ids(question_id)
        return [entry for i in ids if (entry := self.mail.deliver(i)) is not None]

    def outbox(self, status: str | None = None) -> list[OutboxEntry]:
        """Mail to buyers (all, or of one status), oldest first: advisors see failures here."""
        return self.mail.entries(status)

    def retry_outbox(self) -> OutboxReport:
        """Try every pending or failed mail once more."""
        return self.mail.retry()

    # ---------------------------------------------------------------- metrics, backup

    def stats(self) -> dict[str, Any]:
        """Volume, acceptance, edit ratio and times, overall and per advisor (see `metrics`)."""
        with self.store.read() as session:
            names = self.store.advisor_names(session)
            answers = {a.question_id: a for a in session.scalars(select(AnswerRow))}
            samples = []
            for row in session.scalars(select(QuestionRow)):
                answer = answers.get(row.id)
                samples.append(metrics.Sample(
                    status=row.status, created_at=row.created_at, drafted_at=row.drafted_at,
                    advisor=names.get(row.closed_by), validated_at=answer.validated_at if answer else None,
                    had_draft=bool(answer and answer.draft_id), edited=answer.edited if answer else None,
                    edit_ratio=answer.edit_ratio if answer else None,
                ))
            ratings = list(session.scalars(select(FeedbackRow.rating)))
            outbox = {status: count for status, count in session.execute(
                select(OutboxRow.status, func.count()).group_by(OutboxRow.status))}
        result = metrics.summarise(samples, ratings)
        result["outbox"] = {status: outbox.get(status, 0) for status in OUTBOX_STATES}
        return result

    def reviewed_records(self) -> list[dict[str, Any]]:
        """Sent answers as evaluation material: {id, question, final_text, citations: [{source, quote}]}.

        A citation counts when its marker "[n]" is still in the advisor's final text, so what the
        advisor removed does not become evidence. One query: each sent question with its answer
        and its latest draft.
        """
        latest = self.store.latest_drafts()
        query = (
            select(QuestionRow.id, QuestionRow.text, AnswerRow.text, DraftRow)
            .join(AnswerRow, AnswerRow.question_id == QuestionRow.id)
            .join(latest, latest.c.question_id == QuestionRow.id)
            .join(DraftRow, and_(DraftRow.question_id == QuestionRow.id, DraftRow.number == latest.c.number))
            .where(QuestionRow.status == SENT).order_by(QuestionRow.created_at, QuestionRow.id)
        )
        records = []
        with self.store.read() as session:
            for question_id, question, final_text, row in session.execute(query):
                draft = stored_draft(row)
                sources = {p.chunk_id: p.source for p in draft.passages}
                citations = [{"source": sources[c.chunk_id], "quote": c.quote} for c in draft.citations
                             if f"[{c.marker}]" in final_text and c.chunk_id in sources]
                records.append({"id": question_id, "question": question, "final_text": final_text,
                                "citations": citations})
        return records

    def export(self, out: Path) -> int:
        """Write a JSON-lines backup of everything; returns the number of rows."""
        return backup.export_jsonl(self.engine, Path(out))

    def import_backup(self, path: Path) -> int:
        """Restore a JSON-lines backup into this (empty) database; returns the number of rows."""
        return backup.import_jsonl(self.engine, Path(path))
