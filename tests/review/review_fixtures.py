"""Test input data and helpers shared by the review tests and their child processes.

`draft_from_fixed_passage` stands in for the drafting stage (which is built separately): it
builds a real `Draft` record quoting one fixed passage, so the review service sees exactly what
the real drafter hands it.
"""

from __future__ import annotations

import email
import email.policy
import threading
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from email.message import EmailMessage

from argon2 import PasswordHasher

from assistant.records import Chunk, Citation, Draft, Flag, Passage

#: Password of the advisors the fixtures create.
PASSWORD = "correct horse battery"
#: Real argon2id with small costs, so that tests do not spend seconds hashing passwords.
FAST_HASHER = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1)

FIXED_QUOTE = "L'acheteur peut exiger un label particulier dans les spécifications techniques."
FIXED_PASSAGE = Passage(
    chunk=Chunk(
        id="guide-labels-p12",
        text=f"{FIXED_QUOTE} Il accepte tout label équivalent.",
        source="/corpus/guide-labels.pdf",
        title="Guide des labels dans les marchés publics",
        page=12,
        metadata={"url": "https://exemple.gouv.fr/guide-labels.pdf"},
    ),
    score=0.91,
)
SECOND_PASSAGE = Passage(
    chunk=Chunk(
        id="faq-equivalence",
        text="Un label équivalent doit être accepté.",
        source="/corpus/faq.md",
        title="FAQ achats responsables",
        section="Labels > Équivalence",
    ),
    score=0.55,
)


def draft_from_fixed_passage(question: str, history: list[str], organisation: str | None = None) -> Draft:
    """A cited draft built from the fixed passages (test input, not a drafting algorithm); the
    buyer's organisation, which the service passes when the thread has one, changes nothing."""
    context = f" (suite de : {history[-1]})" if history else ""
    return Draft(
        text=f"Oui{context} : {FIXED_QUOTE} [1] Un équivalent doit être accepté [2].",
        citations=(
            Citation(1, FIXED_PASSAGE.chunk.id, FIXED_QUOTE),
            Citation(2, SECOND_PASSAGE.chunk.id, SECOND_PASSAGE.chunk.text),
        ),
        passages=(FIXED_PASSAGE, SECOND_PASSAGE),
        flags=(Flag("Un équivalent doit être accepté [2].", "source de plus de deux ans"),),
    )


def abstaining_drafter(question: str, history: list[str]) -> Draft:
    """A draft that abstains (nothing relevant found)."""
    return Draft(text="", abstained=True, reason="aucun passage pertinent")


@dataclass
class Inbox:
    """What a real loopback SMTP server (aiosmtpd) received."""

    envelopes: list = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        with self.lock:
            self.envelopes.append(envelope)
        return "250 Message accepted for delivery"

    def messages(self) -> list[EmailMessage]:
        with self.lock:
            return [email.message_from_bytes(e.content, policy=email.policy.default) for e in self.envelopes]

    def to(self, address: str) -> list[EmailMessage]:
        return [m for m in self.messages() if m["To"] == address]


class Clock:
    """A UTC clock the test moves forward (claims, leases, retry delays)."""

    def __init__(self) -> None:
        self.now = datetime.now(timezone.utc)

    def __call__(self) -> datetime:
        return self.now

    def advance(self, delta: timedelta) -> None:
        self.now += delta


def body(message: EmailMessage) -> str:
    """The plain-text body of a received message."""
    return message.get_body(preferencelist=("plain",)).get_content()


def open_service(**kwargs):
    """The review service on GUICHET_HOME with the fixed-passage drafter and the fast hasher."""
    from assistant.compose import load_settings, review_service

    overrides = {"claim_minutes": kwargs.pop("claim_minutes")} if "claim_minutes" in kwargs else {}
    kwargs.setdefault("drafter", draft_from_fixed_passage)
    kwargs.setdefault("password_hasher", FAST_HASHER)
    return review_service(load_settings(**overrides), **kwargs)


def race_validate(name: str, items: list[tuple[int, int]], barrier, results) -> None:
    """Child-process body: validate each (question id, version seen) once the barrier opens."""
    from support import validate_at_barrier  # here: other child processes import this module with tests/review only

    service = open_service()
    outcome = validate_at_barrier(service, name, items, barrier)
    service.close()
    results.put((name, outcome))


class DyingMailer:
    """A mailer whose process is killed (SIGKILL) at the moment it would deliver."""

    def send(self, mail) -> None:
        import os
        import signal

        os.kill(os.getpid(), signal.SIGKILL)


def dying_drafter(question: str, history: list[str]) -> Draft:
    """A drafter whose process is killed (SIGKILL) while drafting."""
    import os
    import signal

    os.kill(os.getpid(), signal.SIGKILL)
    raise AssertionError("unreachable")


def drain_draft_jobs(name: str, barrier, results) -> None:
    """Child-process body: once the barrier opens, draft every due job; report the questions drafted."""
    service = open_service()
    barrier.wait(timeout=60)
    drafted: list[int] = []
    while True:
        outcomes = service.draft_pending(limit=1)
        if not outcomes and not service.jobs.due():
            break
        drafted.extend(o.question_id for o in outcomes if o.stored)
    service.close()
    results.put((name, drafted))
