"""Frozen records the review service returns (never ORM rows, which stay inside the service).

Example:
    >>> source = Source(marker=1, title="Guide", location="p. 12", source="/data/guide.pdf")
    >>> source.line()
    '[1] Guide, p. 12'
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from assistant.drafting.render import title_of
from assistant.records import Citation, Flag, Passage
from assistant.review.models import FAILED, QUEUED, RUNNING, AnswerRow, DraftRow, EventRow, OutboxRow


@dataclass(frozen=True)
class ShownPassage:
    """A passage as the advisor saw it next to the draft (stored with the draft, as JSON).

    Args:
        chunk_id: Id of the chunk.
        source: Source file path.
        title: How the source is named (`drafting.render.title_of`: a past answer as the desk's
            validated answer with its date, never the buyer's wording of its question).
        page: 1-based page, for paginated sources.
        section: Heading path.
        text: The passage text.
        score: Retrieval score.
        url: Public address of the source, when the document has one.
    """

    chunk_id: str
    source: str
    title: str
    page: int | None
    section: str
    text: str
    score: float = 0.0
    url: str = ""

    @property
    def location(self) -> str:
        """"p. 12", the heading path, or "document entier"."""
        if self.page is not None:
            return f"p. {self.page}"
        return self.section or "document entier"

    @classmethod
    def from_passage(cls, passage: Passage) -> ShownPassage:
        chunk = passage.chunk
        return cls(
            chunk_id=chunk.id, source=chunk.source, title=title_of(chunk), page=chunk.page,
            section=chunk.section, text=chunk.text, score=float(passage.score),
            url=str(chunk.metadata.get("url", "")),
        )

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShownPassage:
        return cls(**{f.name: data[f.name] for f in dataclasses.fields(cls) if f.name in data})


@dataclass(frozen=True)
class ShownPeer:
    """A peer experience proposed with a draft, as the advisor saw it (stored with the draft).

    Args:
        chunk_id: Id of the peer's chunk.
        metadata: The peer record as indexed: organisation, org_type, region, departement,
            subject, year, reference (the public source), url, contact, reliability, date.
        score: Match score (subject match times closeness to the buyer).
        text: What they did, as indexed.
    """

    chunk_id: str
    metadata: Mapping[str, str]
    score: float = 0.0
    text: str = ""

    @property
    def organisation(self) -> str:
        return self.metadata.get("organisation", "")

    @classmethod
    def from_passage(cls, passage: Passage) -> ShownPeer:
        return cls(passage.chunk.id, dict(passage.chunk.metadata), float(passage.score), passage.chunk.text)

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> ShownPeer:
        return cls(data["chunk_id"], dict(data.get("metadata") or {}), float(data.get("score", 0.0)),
                   str(data.get("text", "")))


@dataclass(frozen=True)
class StoredDraft:
    """One version of a question's draft, with everything shown to the advisor."""

    number: int
    text: str
    citations: tuple[Citation, ...]
    flags: tuple[Flag, ...]
    passages: tuple[ShownPassage, ...]
    abstained: bool
    reason: str
    generator: str
    created_at: datetime
    peers: tuple[ShownPeer, ...] = ()


@dataclass(frozen=True)
class Source:
    """A source listed under a sent answer."""

    marker: int
    title: str
    location: str
    source: str = ""
    url: str = ""

    def line(self) -> str:
        """One line for the buyer: marker, title, place, and the public address if any."""
        line = f"[{self.marker}] {self.title}, {self.location}"
        return f"{line} - {self.url}" if self.url else line


@dataclass(frozen=True)
class Answer:
    """The validated final answer of a question."""

    text: str
    sources: tuple[Source, ...]
    advisor: str
    validated_at: datetime
    edited: bool
    edit_ratio: float
    reusable: bool


@dataclass(frozen=True)
class AuditEvent:
    """One entry of the append-only audit log."""

    id: int
    at: datetime
    actor: str
    action: str
    question_id: int | None
    detail: Mapping[str, Any]
    diff: str


@dataclass(frozen=True)
class OutboxEntry:
    """A mail to a buyer and its delivery state (pending, failed, sent, cancelled)."""

    id: int
    question_id: int
    recipient: str
    subject: str
    status: str
    attempts: int
    last_error: str
    created_at: datetime
    sent_at: datetime | None
    message_id: str = ""
    #: When a failed delivery is tried again (None: as soon as possible).
    next_attempt_at: datetime | None = None


@dataclass(frozen=True)
class QuestionSummary:
    """A row of the advisor queue."""

    id: int
    status: str
    text: str
    created_at: datetime
    version: int
    claimed_by: str | None
    claim_expires_at: datetime | None
    abstained: bool | None
    draft_error: str | None
    #: State of the question's open draft job ('queued', 'running', or 'failed' with a retry planned).
    drafting: str | None = None
    #: The question's undelivered mail: 'pending' or 'failed' (then `mail_retry_at`), None when none.
    mail: str | None = None
    mail_retry_at: datetime | None = None


@dataclass(frozen=True)
class DraftJob:
    """A job as advisors and the CLI see it."""

    id: int
    question_id: int
    status: str
    attempts: int
    partial: str
    last_error: str
    created_at: datetime
    started_at: datetime | None
    finished_at: datetime | None
    next_attempt_at: datetime | None

    @property
    def open(self) -> bool:
        """Still to be drafted: queued, running, or failed with a retry planned."""
        return self.status in (QUEUED, RUNNING) or (self.status == FAILED and self.next_attempt_at is not None)


@dataclass(frozen=True)
class QuestionDetail:
    """Everything an advisor needs to review one question.

    `version` is what the advisor saw: pass it back as `expected_version` so that a change made
    meanwhile by someone else raises `Conflict` instead of being overwritten. `thread` names the
    buyer's thread by the digest of its token: advisors never see the token, which opens it.
    """

    id: int
    thread: str
    status: str
    version: int
    text: str
    created_at: datetime
    drafted_at: datetime | None
    claimed_by: str | None
    claim_expires_at: datetime | None
    organisation: str | None
    has_email: bool
    history: tuple[str, ...]
    draft: StoredDraft | None
    drafts: int
    answer: Answer | None
    reason: str | None
    buyer_message: str | None
    draft_error: str | None
    events: tuple[AuditEvent, ...]
    outbox: tuple[OutboxEntry, ...]
    #: The latest draft job (queued, running, done, failed or cancelled), None before any.
    job: DraftJob | None = None

    @property
    def drafting(self) -> bool:
        """A draft is being written or waits for a worker (queued, running, or a retry planned)."""
        return self.job is not None and self.job.open


@dataclass(frozen=True)
class Submission:
    """What `submit` returns: the question id, its status and the buyer's thread token."""

    id: int
    status: str
    thread: str
    error: str = ""


@dataclass(frozen=True)
class ThreadMessage:
    """A question as its buyer sees it: never a draft, only a validated answer or a message.

    `status` is buyer-facing: 'pending', 'escalated', 'answered' or 'rejected'.
    """

    question_id: int
    question: str
    status: str
    asked_at: datetime
    answer: str | None = None
    sources: tuple[Source, ...] = ()
    answered_at: datetime | None = None
    message: str | None = None


@dataclass(frozen=True)
class ThreadView:
    """A buyer's thread, read with its token."""

    token: str
    messages: tuple[ThreadMessage, ...]


@dataclass(frozen=True)
class Advisor:
    """An advisor account (the password hash never leaves the service)."""

    id: int
    name: str
    created_at: datetime


@dataclass(frozen=True)
class OutboxReport:
    """Result of `retry_outbox`."""

    sent: int
    failed: int
    entries: tuple[OutboxEntry, ...]


def to_jsonable(value: Any) -> Any:
    """Records to plain JSON values (datetimes as ISO 8601 strings)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: to_jsonable(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, datetime):
        return value.isoformat()
    if isinstance(value, Mapping):
        return {str(k): to_jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [to_jsonable(v) for v in value]
    return value


# -------------------------------------------------------------------- rows → records


def stored_draft(row: DraftRow) -> StoredDraft:
    return StoredDraft(
        number=row.number, text=row.text,
        citations=tuple(Citation(**c) for c in row.citations), flags=tuple(Flag(**f) for f in row.flags),
        passages=tuple(ShownPassage.from_json(p) for p in row.passages), abstained=row.abstained,
        reason=row.reason, generator=row.generator, created_at=row.created_at,
        peers=tuple(ShownPeer.from_json(p) for p in row.peers or ()),
    )


def answer_record(row: AnswerRow, names: Mapping[int, str]) -> Answer:
    return Answer(
        text=row.text, sources=tuple(Source(**s) for s in row.sources), advisor=names.get(row.advisor_id, "?"),
        validated_at=row.validated_at, edited=row.edited, edit_ratio=row.edit_ratio, reusable=row.reusable,
    )


def audit_event(row: EventRow) -> AuditEvent:
    return AuditEvent(row.id, row.at, row.actor, row.action, row.question_id, dict(row.detail), row.diff)


def outbox_entry(row: OutboxRow) -> OutboxEntry:
    return OutboxEntry(row.id, row.question_id, row.recipient, row.subject, row.status, row.attempts,
                       row.last_error, row.created_at, row.sent_at, row.message_id or "", row.next_attempt_at)
