"""The web app's service layer: the review service and one shared Assistant, behind one object.

Every Gradio handler calls a `Desk` method and formats the result; nothing here imports Gradio,
so the panels stay thin and this layer is tested without a browser.

Example:
    >>> desk = compose.open_desk(compose.load_settings())                   # doctest: +SKIP
    >>> ack = desk.ask("Puis-je exiger un écolabel ?", session="tab-1")      # doctest: +SKIP
    >>> [r.title for r in ack.resources]                                     # doctest: +SKIP
    ['Exiger un label dans un marché public']
    >>> desk.thread(ack.thread).messages[0].status                           # doctest: +SKIP
    'pending'
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

from assistant.errors import InvalidQuery
from assistant.insights import indicators, topics
from assistant.insights.network import NetworkView, network_view
from assistant.records import Passage
from assistant.review import texts
from assistant.review.errors import AuthenticationFailed, Conflict, IllegalTransition
from assistant.review.limits import Limits
from assistant.review.service import ReviewService
from assistant.review.store import utcnow
from assistant.review.views import QuestionDetail, ShownPassage, ShownPeer, ThreadView
from assistant.review.worker import BuyerActivity, DraftWorker

log = logging.getLogger(__name__)

#: Queue filters: label shown → workflow states ("open" = still waiting for an advisor).
STATUS_FILTERS: dict[str, tuple[str, ...] | None] = {
    "À traiter": ("received", "drafted", "in_review"),
    "Reçues (sans brouillon)": ("received",),
    "Brouillon prêt": ("drafted",),
    "En relecture": ("in_review",),
    "Escaladées": ("escalated",),
    "Envoyées": ("sent",),
    "Rejetées": ("rejected",),
    "Courriel en attente ou en échec": (),
    "Toutes": None,
}
#: The filter of answers whose mail to the buyer is not delivered yet; "À traiter" shows them too.
MAIL_FILTER = "Courriel en attente ou en échec"
#: Queue age filters: label → (minimum age, maximum age) in seconds.
AGE_FILTERS: dict[str, tuple[float, float]] = {
    "Toutes": (0.0, float("inf")),
    "Moins d'une heure": (0.0, 3600.0),
    "Plus d'une heure": (3600.0, float("inf")),
    "Plus d'un jour": (86400.0, float("inf")),
    "Plus d'une semaine": (7 * 86400.0, float("inf")),
}
ALL_SUBJECTS = "Tous les thèmes"
#: Shown to a buyer until enough answers give a measured delay.
DEFAULT_DELAY = "environ une heure, les jours ouvrés"
#: Answers needed before the measured median replaces DEFAULT_DELAY.
MIN_ANSWERS_FOR_DELAY = 5
#: Resources listed in an acknowledgement.
ACK_RESOURCES = 3


@dataclass(frozen=True)
class Resource:
    """A source that looks relevant to a buyer's question (never the draft text)."""

    title: str
    location: str
    url: str = ""
    kind: str = "guide"


@dataclass(frozen=True)
class Acknowledgement:
    """What a buyer gets at once: the question is recorded, where to look meanwhile, how long,
    and the peers who did it, if some match well."""

    question_id: int
    thread: str
    resources: tuple[Resource, ...]
    delay: str
    peers: tuple[ShownPeer, ...] = ()


@dataclass(frozen=True)
class QueueRow:
    """A row of the advisor queue."""

    id: int
    status: str
    created_at: datetime
    text: str
    subject: str
    claimed_by: str | None
    abstained: bool | None
    draft_error: str | None
    drafting: str | None = None
    mail: str | None = None
    mail_retry_at: datetime | None = None


@dataclass(frozen=True)
class Queue:
    """The filtered queue, oldest first, and the number of questions per state (unfiltered)."""

    rows: tuple[QueueRow, ...]
    counts: dict[str, int]


@dataclass(frozen=True)
class Opened:
    """A question opened by an advisor; `error` says why it is read-only, if it is."""

    detail: QuestionDetail
    claimed: bool
    error: Exception | None = None


def resources_of(passages: Sequence[ShownPassage], n: int = ACK_RESOURCES,
                 kinds: dict[str, str] | None = None) -> tuple[Resource, ...]:
    """The first `n` distinct documents among a draft's passages, best first.

    Args:
        passages: The draft's passages, best first.
        n: How many documents at most.
        kinds: Document kind per chunk id ("guide", "answer", "resource"); "guide" when unknown.
    """
    kinds = kinds or {}
    seen: set[str] = set()
    found: list[Resource] = []
    for passage in passages:
        key = passage.source or passage.title
        if key in seen:
            continue
        seen.add(key)
        found.append(Resource(passage.title or Path(passage.source).name, passage.location, passage.url,
                              kinds.get(passage.chunk_id, "guide")))
        if len(found) == n:
            break
    return tuple(found)


def format_delay(seconds: float) -> str:
    """A measured median delay in French words ("environ 40 min", "environ 3 h")."""
    if seconds < 3600:
        return f"environ {max(5, round(seconds / 300) * 5)} min"
    if seconds < 2 * 86400:
        return f"environ {round(seconds / 3600)} h"
    return f"environ {round(seconds / 86400)} jours"


class Desk:
    """Buyer, advisor and network operations over one `ReviewService` and one `Assistant`.

    Args:
        assistant: The shared Assistant (search, peers, the drafts of `review`).
        review: The review service, drafting with `assistant` (`assistant.compose.open_desk`
            wires both).
        draft_workers: Background drafting threads (0: other processes draft).
        limits: Buyer rate limits (counted in the review database, across app processes).
        clock: Current UTC time.

    Questions are drafted in the background by `draft_workers` threads, started by
    `start_drafting` (the web app does at start) and stopped by `close`.
    """

    def __init__(self, assistant: Any, review: ReviewService, draft_workers: int = 0,
                 limits: Limits = Limits(), clock: Callable[[], datetime] = utcnow) -> None:
        self.assistant = assistant
        self.review = review
        self.home = review.home
        self.buyers = BuyerActivity()  # drafting waits while buyers are being acknowledged
        self.drafts = DraftWorker(self.review, threads=draft_workers, defer=self.buyers.busy)
        self.limits = limits
        self._clock = clock
        self._subjects: dict[int, str] = {}
        self._delay: tuple[float, str] | None = None

    def start_drafting(self) -> None:
        """Start the background drafting threads."""
        self.drafts.start()

    def close(self) -> None:
        self.drafts.stop()
        self.review.close()

    def warm_up(self) -> None:
        """Load the lexical index, the embedding model and the generator before the first buyer arrives
        (a first draft loading them would hold the interpreter while buyers are acknowledged)."""
        for stage in (self.assistant.retriever, self.assistant.generator):
            if hasattr(stage, "warm_up"):
                stage.warm_up()

    # ------------------------------------------------------------------ buyers

    def ask(self, question: str, email: str | None = None, organisation: str | None = None,
            thread: str | None = None, session: str = "", address: str = "") -> Acknowledgement:
        """Record a buyer's question and acknowledge it with relevant resources and the delay.

        Args:
            question: The question.
            email: Where to mail the validated answer (optional).
            organisation: The buyer's organisation (optional).
            thread: The buyer's thread token for a follow-up question.
            session: The buyer's browser session (rate limit key).
            address: The client address (second rate limit key).

        Raises:
            RateLimited: too many questions from this session or address in the last minute.
            InvalidInput: empty or too long question, malformed e-mail.
            UnknownThread: `thread` names no thread.
        """
        texts.check_question(question)  # a refused question does not use up the buyer's quota
        texts.check_email(email)
        session_key, address_key = f"session:{session or thread or '-'}", f"address:{address or '-'}"
        self.review.limits.take((session_key, self.limits.per_session, 60.0),
                                (address_key, self.limits.per_address, 60.0))
        with self.buyers:
            return self._acknowledge(question, email, organisation, thread, session)

    def _acknowledge(self, question: str, email: str | None, organisation: str | None, thread: str | None,
                     session: str) -> Acknowledgement:
        history = [m.question for m in self.review.thread(thread).messages] if thread else []
        passages = self._resources_search(question, history)
        sub = self.review.submit(question, email=email or None, organisation=organisation or None,
                                 thread_token=thread or None,
                                 # a text that cannot be searched is drafted from nothing (an abstention)
                                 passages=[] if passages is None else None,
                                 key=texts.submission_key(session, thread, question) if session else None,
                                 draft_now=False)
        self.drafts.wake()
        # The question is stored: from here on nothing may fail the acknowledgement.
        shown = [ShownPassage.from_passage(p) for p in passages or ()]
        resources = resources_of(shown, kinds={p.chunk.id: p.chunk.kind for p in passages or ()})
        return Acknowledgement(sub.id, sub.thread, resources, self._delay_or_default(),
                               self.peers_for(question, organisation, history))

    def _resources_search(self, question: str, history: list[str]) -> list[Passage] | None:
        """The acknowledgement's resources: a lexical (BM25) search, which takes milliseconds.

        The query embedding of a hybrid search costs about 50 ms of CPU that cannot run two at
        a time, so 50 buyers asking at once would wait for 50 embeddings in a row; the draft job
        runs the full hybrid search in the background instead.

        Returns:
            The passages ([] when retrieval failed: the question is still recorded), or None when
            the text cannot be searched at all.
        """
        from assistant.drafting.followup import contextual_query

        try:
            return self.assistant.search(contextual_query(question, history), mode="lexical")
        except InvalidQuery:
            return None
        except Exception:  # noqa: BLE001 - the question is still recorded; its draft searches later
            log.exception("retrieval failed while acknowledging a question")
            return []

    def _delay_or_default(self) -> str:
        try:
            return self.expected_delay()
        except Exception:  # noqa: BLE001 - the delay is a courtesy: never a reason to fail the buyer
            log.exception("expected delay unavailable")
            return DEFAULT_DELAY

    def peers_for(self, question: str, organisation: str | None = None,
                  history: Sequence[str] = ()) -> tuple[ShownPeer, ...]:
        """Peers who did what the question is about, from retrieval alone (none when the lookup fails)."""
        try:
            return tuple(ShownPeer.from_passage(p) for p in self.assistant.peers(question, history, organisation))
        except Exception as exc:  # noqa: BLE001 - peers are a help: the acknowledgement never fails for them
            log.warning("peer lookup failed: %s: %s", type(exc).__name__, exc)
            return ()

    def thread(self, token: str) -> ThreadView:
        """A buyer's thread; raises `UnknownThread` for an unknown or malformed token."""
        return self.review.thread(token)

    def rate(self, token: str, question_id: int, rating: int, comment: str = "") -> None:
        """A buyer's rating (1-5) and comment on an answer of their own thread."""
        self.review.feedback(token, question_id, rating, comment)

    def expected_delay(self) -> str:
        """The median time to answer when enough answers exist, else `DEFAULT_DELAY` (cached 5 min)."""
        now = time.monotonic()
        if self._delay is not None and now - self._delay[0] < 300:
            return self._delay[1]
        stats = self.review.stats()
        median = stats.get("time_to_answer_s", {}).get("p50")
        text = format_delay(median) if median is not None and stats.get("sent", 0) >= MIN_ANSWERS_FOR_DELAY \
            else DEFAULT_DELAY
        self._delay = (now, text)
        return text

    # ------------------------------------------------------------------ advisors

    def authenticate(self, name: str, password: str) -> bool:
        """Whether an advisor's name and password are right.

        Raises:
            RateLimited: too many recent failures for this account (or checks under way).
        """
        try:
            self.review.authenticate(name, password)
            return True
        except AuthenticationFailed:
            return False

    def subject(self, question_id: int, text: str) -> str:
        """The question's subject (see `topics.subject_of`), cached: a question never changes."""
        subject = self._subjects.get(question_id)
        if subject is None:
            subject = self._subjects[question_id] = topics.subject_of(text)
        return subject

    def queue(self, status: str = "À traiter", age: str = "Toutes", subject: str = ALL_SUBJECTS) -> Queue:
        """The queue, oldest first, filtered by status, age and subject.

        Raises:
            ValueError: an unknown filter label.
        """
        if status not in STATUS_FILTERS or age not in AGE_FILTERS:
            raise ValueError(f"unknown filter: status {status!r}, age {age!r}")
        states = STATUS_FILTERS[status]
        low, high = AGE_FILTERS[age]
        now = indicators.utc(self._clock())
        counts: dict[str, int] = {}
        rows = []
        for q in self.review.list_questions():
            counts[q.status] = counts.get(q.status, 0) + 1
            waited = (now - indicators.utc(q.created_at)).total_seconds()
            # An answer whose mail is not delivered yet still needs an advisor's eye.
            wanted = states is None or q.status in states or (q.mail is not None and status in ("À traiter", MAIL_FILTER))
            if not wanted or not low <= waited < high:
                continue
            topic = self.subject(q.id, q.text)
            if subject != ALL_SUBJECTS and topic != subject:
                continue
            rows.append(QueueRow(q.id, q.status, q.created_at, q.text, topic, q.claimed_by, q.abstained,
                                 q.draft_error, q.drafting, q.mail, q.mail_retry_at))
        return Queue(tuple(rows), counts)

    def open(self, question_id: int, advisor: str) -> Opened:
        """Open a question for review: claim it when possible, else show it read-only with why."""
        try:
            return Opened(self.review.claim(question_id, advisor), True)
        except (Conflict, IllegalTransition) as exc:
            return Opened(self.review.show(question_id), False, exc)

    def show(self, question_id: int) -> QuestionDetail:
        return self.review.show(question_id)

    def similar_answers(self, question: str, k: int = 3) -> list[Passage]:
        """Validated past answers close to the question (documents of kind "answer")."""
        from assistant.retrieval.filters import Filters

        try:
            return self.assistant.search(question, k=k, filters=Filters(kinds=("answer",)))
        except InvalidQuery:
            return []

    def search(self, query: str, k: int = 5) -> list[ShownPassage]:
        """Passages an advisor may pick for a re-draft."""
        return [ShownPassage.from_passage(p) for p in self.assistant.search(query, k=k)]

    def search_peers(self, query: str, k: int = 5) -> list[ShownPeer]:
        """Peer experiences an advisor may add to the answer (every match, no subject check)."""
        from assistant.retrieval.filters import Filters

        found = self.assistant.search(query, k=k, filters=Filters(kinds=("peer",)))
        return [ShownPeer.from_passage(p) for p in found]

    @staticmethod
    def with_peers(text: str, peers: Sequence[ShownPeer]) -> str:
        """The answer text with its "Des acheteurs qui l'ont fait" block made of these peers
        (removed when there is none), the rest of the text untouched."""
        from assistant.drafting.peers import peer_line, replace_block

        return replace_block(text, [peer_line(p.metadata) for p in peers])

    def redraft(self, question_id: int, advisor: str, chunk_ids: Sequence[str] = (),
                expected_version: int | None = None) -> QuestionDetail:
        """Ask for a new draft, from the passages the advisor picked (a fresh search when none).

        The draft is written in the background (follow it with `follow_draft`); the returned
        question shows its queued job.
        """
        passages = self.assistant.picked(chunk_ids) if chunk_ids else None
        detail = self.review.redraft(question_id, advisor, expected_version=expected_version, passages=passages,
                                     draft_now=False)
        self.drafts.wake()
        return detail

    def follow_draft(self, question_id: int) -> Iterator[str]:
        """The growing text of the question's draft while it is written (see `ReviewService.follow_draft`)."""
        return self.review.follow_draft(question_id)

    def validate(self, question_id: int, advisor: str, text: str, reusable: bool,
                 expected_version: int | None) -> QuestionDetail:
        return self.review.validate(question_id, advisor, text, reusable=reusable,
                                    expected_version=expected_version)

    def reject(self, question_id: int, advisor: str, reason: str, message: str | None,
               expected_version: int | None) -> QuestionDetail:
        return self.review.reject(question_id, advisor, reason, message or None,
                                  expected_version=expected_version)

    def escalate(self, question_id: int, advisor: str, reason: str, expected_version: int | None) -> QuestionDetail:
        return self.review.escalate(question_id, advisor, reason, expected_version=expected_version)

    def release(self, question_id: int, advisor: str, expected_version: int | None) -> QuestionDetail:
        return self.review.release(question_id, advisor, expected_version=expected_version)

    # ------------------------------------------------------------------ network dashboard

    def network(self, period: str = indicators.DEFAULT_PERIOD) -> NetworkView:
        """Indicators and recurring subjects of the questions received in a period."""
        return network_view(self.review, period, self._clock())
