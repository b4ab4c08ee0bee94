"""The question workflow as one table: action → states it is allowed from → next state → side effects.

```
received ─draft→ drafted ─claim→ in_review ─validate→ sent
    │               │    ←release─┘   │ ─reject→ rejected
    └──── claim, validate, reject, escalate from any open state; escalated ─claim/validate/reject→
```
`sent` and `rejected` are final. Every action goes through `check` (the version the advisor
saw, then the allowed states, then another advisor's live claim) and `apply` (the action's
`Effect`s in order, the next state, the audit event), in the action's transaction; what only
one action writes (the answer, the rejection's message, the draft) stays with its caller.

Example:
    >>> WORKFLOW[Action.REJECT].allowed
    ('received', 'drafted', 'in_review', 'escalated')
    >>> WORKFLOW[Action.DRAFT].next_state("received", lambda: False)
    'drafted'
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import Any

from sqlalchemy.orm import Session

from assistant.review.errors import Conflict, IllegalTransition
from assistant.review.models import DRAFTED, ESCALATED, IN_REVIEW, RECEIVED, REJECTED, SENT, AdvisorRow, QuestionRow
from assistant.review.store import Store


class Action(str, Enum):
    """What an advisor (or the drafting, `DRAFT`) does to a question."""

    CLAIM = "claim"
    RELEASE = "release"
    REDRAFT = "redraft"
    DRAFT = "draft"
    VALIDATE = "validate"
    REJECT = "reject"
    ESCALATE = "escalate"


class Effect(Enum):
    """A side effect of an action on the question row, applied in the order the table lists."""

    #: The acting advisor takes (or renews) the claim for the claim duration; audited as "claimed".
    CLAIM = "claim"
    #: The same, unless the acting advisor already holds the claim; audited as an implicit claim.
    CLAIM_IF_NOT_HELD = "claim_if_not_held"
    #: Nobody holds the claim any more.
    UNCLAIM = "unclaim"
    #: The acting advisor is recorded as the one who closed (or escalated) it.
    CLOSED_BY = "closed_by"
    #: The time it was closed is recorded.
    CLOSED_AT = "closed_at"
    #: The versioned UPDATE is emitted at once, before the rows that depend on it (answer, mail):
    #: of two advisors passing the checks on one version, the second gets `Conflict` there.
    VERSION = "version"


#: next_state(current state, has_draft) → the state after the action; `has_draft` queries only when asked.
NextState = Callable[[str, Callable[[], bool]], str]


def _to(state: str) -> NextState:
    return lambda current, has_draft: state


def _unchanged(current: str, has_draft: Callable[[], bool]) -> str:
    return current


def _back_to_queue(current: str, has_draft: Callable[[], bool]) -> str:
    return DRAFTED if has_draft() else RECEIVED


def _drafted(current: str, has_draft: Callable[[], bool]) -> str:
    return DRAFTED if current == RECEIVED else current


@dataclass(frozen=True)
class Transition:
    """One row of the workflow table.

    Attributes:
        allowed: States the action is allowed from.
        next_state: The state after it.
        effects: What it does besides the state, applied in order before the state is set
            (`Effect.VERSION` after it).
        event: The audit event it records ("" = none, or recorded by its effects: "claimed").
    """

    allowed: tuple[str, ...]
    next_state: NextState
    effects: tuple[Effect, ...] = ()
    event: str = ""


_OPEN = (RECEIVED, DRAFTED, IN_REVIEW)
_CLOSE = (Effect.UNCLAIM, Effect.CLOSED_BY, Effect.CLOSED_AT, Effect.VERSION)

WORKFLOW: dict[Action, Transition] = {
    Action.CLAIM: Transition(_OPEN + (ESCALATED,), _to(IN_REVIEW), (Effect.CLAIM,)),
    Action.RELEASE: Transition((IN_REVIEW,), _back_to_queue, (Effect.UNCLAIM,), "released"),
    Action.REDRAFT: Transition(_OPEN, _unchanged),
    Action.DRAFT: Transition(_OPEN, _drafted, (Effect.VERSION,), "drafted"),
    Action.VALIDATE: Transition(_OPEN + (ESCALATED,), _to(SENT), (Effect.CLAIM_IF_NOT_HELD,) + _CLOSE, "validated"),
    Action.REJECT: Transition(_OPEN + (ESCALATED,), _to(REJECTED), _CLOSE, "rejected"),
    Action.ESCALATE: Transition(_OPEN, _to(ESCALATED), (Effect.UNCLAIM, Effect.CLOSED_BY), "escalated"),
}


def claim_live(question: QuestionRow, now: datetime) -> bool:
    """Whether an advisor's claim on the question still holds."""
    return (question.status == IN_REVIEW and question.claim_expires_at is not None
            and question.claim_expires_at > now)


def check(store: Store, session: Session, question: QuestionRow, action: Action, advisor: AdvisorRow | None,
          expected_version: int | None) -> None:
    """Refuse a stale version, an action not allowed from the question's state, or another
    advisor's live claim.

    Raises:
        Conflict: the version changed, or another advisor holds a live claim.
        IllegalTransition: the action is not allowed from the question's state.
    """
    if expected_version is not None and expected_version != question.version:
        raise Conflict(
            f"question {question.id} changed since you opened it (version {expected_version}, "
            f"now {question.version}): reload it, nothing was overwritten"
        )
    if question.status not in WORKFLOW[action].allowed:
        raise IllegalTransition(f"question {question.id} is '{question.status}': cannot {action.value} it")
    if advisor is not None and claim_live(question, store.now()) and question.claimed_by != advisor.id:
        holder = session.get(AdvisorRow, question.claimed_by)
        raise Conflict(
            f"question {question.id} is claimed by {holder.name if holder else '?'} until "
            f"{question.claim_expires_at:%H:%M} UTC: wait for it to expire or ask them to release it"
        )


def apply(store: Store, session: Session, question: QuestionRow, action: Action, actor: str,
          advisor: AdvisorRow | None = None, claim_for: timedelta | None = None, **detail: Any) -> None:
    """Move a checked question: the action's effects, its next state, its audit event (with `detail`).

    Args:
        actor: Who acts, as the audit log names them.
        advisor: The acting advisor (needed by the claim and closing effects).
        claim_for: How long a claim holds (needed by the claim effects).
    """
    transition = WORKFLOW[action]
    # The next state first: its query then sees the row unchanged (no autoflush, one UPDATE).
    state = transition.next_state(question.status, lambda: store.latest_draft(session, question.id) is not None)
    for effect in transition.effects:
        if effect is not Effect.VERSION:
            _EFFECTS[effect](store, session, question, advisor, claim_for)
    if question.status != state:
        question.status = state
    if Effect.VERSION in transition.effects:
        store.write_version(session, question)
    if transition.event:
        store.event(session, actor, transition.event, question, **detail)


def _claim(store: Store, session: Session, question: QuestionRow, advisor: AdvisorRow | None,
           claim_for: timedelta | None, implicit: bool = False) -> None:
    assert advisor is not None and claim_for is not None, "a claim needs its advisor and duration"
    previous = question.claimed_by if question.status == IN_REVIEW else None
    question.status = IN_REVIEW
    question.claimed_by = advisor.id
    question.claim_expires_at = store.now() + claim_for
    detail: dict[str, Any] = {"until": question.claim_expires_at.isoformat()}
    if implicit:
        detail["implicit"] = True
    if previous and previous != advisor.id:
        holder = session.get(AdvisorRow, previous)
        detail["took_over_expired_claim_of"] = holder.name if holder else previous
    store.event(session, advisor.name, "claimed", question, **detail)


def _claim_if_not_held(store: Store, session: Session, question: QuestionRow, advisor: AdvisorRow | None,
                       claim_for: timedelta | None) -> None:
    assert advisor is not None
    if question.status != IN_REVIEW or question.claimed_by != advisor.id:
        _claim(store, session, question, advisor, claim_for, implicit=True)


def _unclaim(store: Store, session: Session, question: QuestionRow, advisor: AdvisorRow | None,
             claim_for: timedelta | None) -> None:
    question.claimed_by, question.claim_expires_at = None, None


def _closed_by(store: Store, session: Session, question: QuestionRow, advisor: AdvisorRow | None,
               claim_for: timedelta | None) -> None:
    assert advisor is not None
    question.closed_by = advisor.id


def _closed_at(store: Store, session: Session, question: QuestionRow, advisor: AdvisorRow | None,
               claim_for: timedelta | None) -> None:
    question.closed_at = store.now()


_EFFECTS: dict[Effect, Callable[[Store, Session, QuestionRow, AdvisorRow | None, timedelta | None], None]] = {
    Effect.CLAIM: _claim,
    Effect.CLAIM_IF_NOT_HELD: _claim_if_not_held,
    Effect.UNCLAIM: _unclaim,
    Effect.CLOSED_BY: _closed_by,
    Effect.CLOSED_AT: _closed_at,
}
