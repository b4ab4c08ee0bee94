"""Running one claimed draft job: the drafter, a lease heartbeat, live text, then the draft or the error.

While the drafter writes, a heartbeat thread renews the job's lease every `heartbeat_s` and
publishes the text written so far on the job row (for advisors on other processes); if the
job stops being this attempt's (a newer re-draft replaced it, or the lease was lost), the
drafter's stream is stopped and nothing is stored. The draft is stored in the transaction that
marks the job done, so it is stored once; when the database is locked at that moment the
runner tries again while its lease holds.

Example:
    >>> runner = DraftRunner(store, jobs, drafter, live=LiveDrafts())      # doctest: +SKIP
    >>> runner.run(task).status                                            # doctest: +SKIP
    'drafted'
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from sqlalchemy.orm import Session

from assistant.records import Draft
from assistant.review.errors import DatabaseBusy
from assistant.review.jobs import DraftJobs, DraftTask
from assistant.review.live import LiveDrafts
from assistant.review.models import DraftRow, ThreadRow
from assistant.review.store import Store
from assistant.review.views import ShownPassage, ShownPeer
from assistant.review.workflow import WORKFLOW, Action, apply

log = logging.getLogger(__name__)

#: A drafter: `drafter(question, history)`, plus `passages=` (stored `drafting.refs`, when the job
#: has them), `on_text=` (a callback for each piece of text, when the service follows drafts live)
#: and `organisation=` (the buyer's, when the thread has one).
Drafter = Callable[..., Draft]
#: States in which a question takes a new draft.
DRAFTABLE = WORKFLOW[Action.DRAFT].allowed


class JobLost(Exception):
    """The running job was cancelled or claimed by another attempt: stop drafting."""


@dataclass(frozen=True)
class Outcome:
    """How an attempt ended: the question's status, and the error when drafting failed."""

    question_id: int
    status: str
    error: str = ""
    stored: bool = False


def store_draft(store: Store, session: Session, question_id: int, draft: Draft, actor: str,
                advisor_id: int | None) -> str:
    """Attach a new draft version to a question (in the caller's transaction); returns its status."""
    row = store.question(session, question_id)
    if row.status not in DRAFTABLE:
        # Closed while drafting: a late draft is not attached to a closed question.
        store.event(session, actor, "draft_discarded", row, status=row.status)
        return row.status
    latest = store.latest_draft(session, question_id)
    number = latest.number + 1 if latest else 1
    row.drafted_at = row.drafted_at or store.now()
    row.draft_error = None
    apply(store, session, row, Action.DRAFT, actor, number=number, abstained=draft.abstained, outcome=draft.outcome,
          generator=draft.generator)
    session.add(DraftRow(
        question_id=question_id, number=number, text=draft.text,
        citations=[asdict(c) for c in draft.citations], flags=[asdict(f) for f in draft.flags],
        passages=[asdict(ShownPassage.from_passage(p)) for p in draft.passages],
        peers=[asdict(ShownPeer.from_passage(p)) for p in draft.peers],
        abstained=draft.abstained, reason=draft.reason, generator=draft.generator,
        requested_by=advisor_id, created_at=store.now(),
    ))
    return row.status


class _Heartbeat:
    """Publishes a task's partial text when it changed and renews its lease, until stopped;
    notes a lost job."""

    def __init__(self, jobs: DraftJobs, task: DraftTask, every_s: float, text: Callable[[], str]) -> None:
        self.jobs, self.task, self.every_s, self.text = jobs, task, every_s, text
        self.renew_s = jobs.lease.total_seconds() / 3
        self.lost = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"draft-lease-{task.job_id}", daemon=True)

    def __enter__(self) -> "_Heartbeat":
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join(timeout=10)

    def _run(self) -> None:
        published, renewed = "", time.monotonic()
        while not self._stop.wait(self.every_s):
            text = self.text()
            if text == published and time.monotonic() - renewed < self.renew_s:
                continue
            try:
                ours = self.jobs.renew(self.task, text if text != published else None)
            except DatabaseBusy:
                continue  # the lease runs on; the next beat tries again
            except Exception:  # noqa: BLE001 - a failed renewal must not kill the drafting thread
                log.exception("renewing the lease of draft job %s failed", self.task.job_id)
                continue
            published, renewed = text, time.monotonic()
            if not ours:
                self.lost.set()
                return


class DraftRunner:
    """Runs claimed draft jobs with the service's drafter.

    Args:
        store: Shared store.
        jobs: The job table.
        drafter: Builds a draft (see `Drafter`).
        live: Where pieces of text are published as they are written (None: not followed).
        heartbeat_s: How often the lease is renewed and the partial text published.
    """

    def __init__(self, store: Store, jobs: DraftJobs, drafter: Drafter | None, live: LiveDrafts | None = None,
                 heartbeat_s: float | None = None) -> None:
        self.store = store
        self.jobs = jobs
        self.drafter = drafter
        self.live = live
        self.heartbeat_s = heartbeat_s if heartbeat_s is not None else min(1.0, jobs.lease.total_seconds() / 3)

    def run(self, task: DraftTask, drafter: Drafter | None = None) -> Outcome:
        """Draft the task's question and store the draft, or record why it failed."""
        actor = "system"
        with self.store.read() as session:
            question = self.store.question(session, task.question_id)
            text, status = question.text, question.status
            history = self.store.earlier_questions(session, question.thread_id, question.id)
            organisation = session.get(ThreadRow, question.thread_id).organisation
            if task.requested_by is not None:
                actor = self.store.advisor_names(session).get(task.requested_by, actor)
        if status not in DRAFTABLE:
            with self.store.write() as session:
                self.jobs.cancel(session, task)
            return Outcome(task.question_id, status)
        written: list[str] = []
        if self.live is not None:
            self.live.begin(task.question_id)
        try:
            with _Heartbeat(self.jobs, task, self.heartbeat_s, lambda: "".join(written)) as beat:
                try:
                    draft = self._draft(drafter or self.drafter, text, history, organisation, task, written,
                                        beat.lost)
                except JobLost:
                    log.info("draft job %s was replaced or taken over: its text is dropped", task.job_id)
                    return Outcome(task.question_id, status)
                except Exception as exc:  # noqa: BLE001 - any drafting failure is recorded and retried
                    return self._failed(task, actor, f"{type(exc).__name__}: {exc}"[:2000])
                if beat.lost.is_set():
                    return Outcome(task.question_id, status)
                return self._store(task, draft, actor, status)
        finally:
            if self.live is not None:
                self.live.end(task.question_id)

    def _draft(self, drafter: Drafter | None, text: str, history: list[str], organisation: str | None,
               task: DraftTask, written: list[str], lost: threading.Event) -> Draft:
        if drafter is None:
            raise RuntimeError("no drafter configured")
        options: dict[str, Any] = {}
        if task.passages is not None:
            options["passages"] = task.passages
        if organisation:
            options["organisation"] = organisation
        if self.live is not None:
            def on_text(piece: str) -> None:
                if lost.is_set():
                    raise JobLost()
                written.append(piece)
                self.live.add(task.question_id, piece)

            options["on_text"] = on_text
        draft = drafter(text, list(history), **options)
        if not isinstance(draft, Draft):
            raise TypeError(f"the drafter returned {type(draft).__name__}, not a Draft")
        return draft

    def _store(self, task: DraftTask, draft: Draft, actor: str, status: str) -> Outcome:
        # While the database is locked nobody can take the job over; once it is free, the
        # conditional finish stores nothing if another attempt did meanwhile.
        deadline = time.monotonic() + 2 * self.jobs.lease.total_seconds()
        pause = 0.5
        while True:
            try:
                with self.store.write() as session:
                    if not self.jobs.finish(session, task):
                        return Outcome(task.question_id, self.store.question(session, task.question_id).status)
                    status = store_draft(self.store, session, task.question_id, draft, actor, task.requested_by)
                    return Outcome(task.question_id, status, stored=True)
            except DatabaseBusy:
                if time.monotonic() + pause > deadline:
                    log.warning("draft of question %s not stored: database locked; it will be drafted again",
                                task.question_id)
                    return Outcome(task.question_id, status, "the review database stayed locked: drafted again later")
                time.sleep(pause)
                pause = min(pause * 2, 4.0)

    def _failed(self, task: DraftTask, actor: str, error: str) -> Outcome:
        log.warning("drafting question %s failed (attempt %s): %s", task.question_id, task.attempt, error)
        with self.store.write() as session:
            ours, retry_at = self.jobs.fail(session, task, error)
            row = self.store.question(session, task.question_id)
            if ours:
                row.draft_error = error
                self.store.event(session, actor, "draft_failed", row, error=error, attempt=task.attempt,
                                 retry_at=retry_at.isoformat() if retry_at else None)
            return Outcome(task.question_id, row.status, error)
