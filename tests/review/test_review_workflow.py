"""States, transitions and bad inputs of the review service (real SQLite file in tmp_path)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from assistant.review.errors import (
    AuthenticationFailed,
    Conflict,
    IllegalTransition,
    InvalidInput,
    NotFound,
    UnknownAdvisor,
    UnknownThread,
)
from assistant.review.service import ReviewService
from assistant.review.texts import MAX_ANSWER_CHARS
from review_fixtures import PASSWORD
from review_fixtures import abstaining_drafter, draft_from_fixed_passage, open_service

QUESTION = "Quelle part de matériel reconditionné faut-il acheter ?"


class Clock:
    """A clock the test moves forward, to expire claims without sleeping."""

    def __init__(self) -> None:
        self.now = datetime(2025, 3, 4, 9, 0, tzinfo=timezone.utc)

    def __call__(self) -> datetime:
        return self.now


def _to_state(service: ReviewService, state: str) -> int:
    """A question brought to `state` through the public API."""
    if state == "received":
        broken = open_service(drafter=lambda q, h: 1 / 0)
        return broken.submit(QUESTION).id
    qid = service.submit(QUESTION).id
    if state == "in_review":
        service.claim(qid, "alice")
    elif state == "sent":
        service.validate(qid, "alice")
    elif state == "rejected":
        service.reject(qid, "alice", "hors champ")
    elif state == "escalated":
        service.escalate(qid, "alice", "question juridique")
    assert service.show(qid).status == state, f"setup failed to reach {state}"
    return qid


ACTIONS = {
    "claim": lambda s, q: s.claim(q, "alice"),
    "release": lambda s, q: s.release(q, "alice"),
    "redraft": lambda s, q: s.redraft(q, "alice"),
    "validate": lambda s, q: s.validate(q, "alice", "Réponse finale."),
    "reject": lambda s, q: s.reject(q, "alice", "hors champ"),
    "escalate": lambda s, q: s.escalate(q, "alice", "expert"),
}
ILLEGAL = [
    (state, action)
    for state in ("received", "drafted", "in_review", "sent", "rejected", "escalated")
    for action in ACTIONS
    if state not in {
        "claim": ("received", "drafted", "in_review", "escalated"),
        "release": ("in_review",),
        "redraft": ("received", "drafted", "in_review"),
        "validate": ("received", "drafted", "in_review", "escalated"),
        "reject": ("received", "drafted", "in_review", "escalated"),
        "escalate": ("received", "drafted", "in_review"),
    }[action]
]


@pytest.mark.parametrize(("state", "action"), ILLEGAL)
def test_illegal_transitions_are_refused_clearly_and_change_nothing(service, state, action):
    qid = _to_state(service, state)
    before = service.show(qid)
    with pytest.raises(IllegalTransition) as exc:
        ACTIONS[action](service, qid)
    assert str(exc.value) == f"question {qid} is '{state}': cannot {action} it", str(exc.value)
    after = service.show(qid)
    assert (after.status, after.version, after.answer) == (before.status, before.version, before.answer), \
        "a refused action must not change the question"


def test_rejected_question_shows_the_message_to_the_buyer_only(service):
    sub = service.submit(QUESTION)
    service.reject(sub.id, "alice", "hors champ du guichet", message="Contactez la DAJ.")
    (message,) = service.thread(sub.thread).messages
    assert (message.status, message.message, message.answer) == ("rejected", "Contactez la DAJ.", None), message
    assert "hors champ" not in repr(message), "the internal reason is not shown to the buyer"


def test_escalated_question_can_be_validated_later_by_an_expert(service):
    qid = _to_state(service, "escalated")
    assert service.show(qid).reason == "question juridique"
    assert service.validate(qid, "bob").status == "sent", "an expert answers an escalated question"


def test_thread_never_shows_an_unvalidated_draft(service):
    sub = service.submit(QUESTION)
    service.claim(sub.id, "alice")
    (message,) = service.thread(sub.thread).messages
    assert message.answer is None and message.sources == () and message.status == "pending", message
    with pytest.raises(IllegalTransition, match="an advisor must validate it"):
        service.send(sub.id)
    assert service.outbox() == [], "nothing may be queued for sending before validation"


def test_second_question_in_a_thread_gets_the_history(service):
    first = service.submit(QUESTION)
    second = service.submit("Et pour les écrans ?", thread_token=first.thread)
    assert second.thread == first.thread
    detail = service.show(second.id)
    assert detail.history == (QUESTION,), detail.history
    assert QUESTION in detail.draft.text, "the drafter must receive the earlier questions"
    assert [m.question_id for m in service.thread(first.thread).messages] == [first.id, second.id]


def test_unknown_token_and_other_threads_question_are_refused_the_same_way(service):
    mine = service.submit(QUESTION)
    other = service.submit("Autre question ?")
    service.validate(other.id, "alice")
    service.validate(mine.id, "alice")
    errors = []
    for call in (
        lambda: service.submit("Suite ?", thread_token="no-such-token"),
        lambda: service.thread("no-such-token"),
        lambda: service.feedback("no-such-token", mine.id, 5),
        lambda: service.feedback(mine.thread, other.id, 5),  # a question of another thread
        lambda: service.feedback(mine.thread, 99999, 5),
    ):
        with pytest.raises(UnknownThread) as exc:
            call()
        errors.append(str(exc.value))
    assert len(set(errors)) == 1, f"every refusal must carry the same message, got {set(errors)}"
    service.feedback(mine.thread, mine.id, 4, "utile")
    assert service.stats()["feedback"] == {"count": 1, "rating_mean": 4.0}


@pytest.mark.parametrize("rating", [0, 6, "5", None])
def test_feedback_rating_out_of_range_is_refused(service, rating):
    sub = service.submit(QUESTION)
    service.validate(sub.id, "alice")
    with pytest.raises(InvalidInput, match="rating must be an integer from 1 to 5"):
        service.feedback(sub.thread, sub.id, rating)


@pytest.mark.parametrize("call", ["claim", "validate", "reject", "escalate"])
def test_unknown_advisor_is_refused(service, call):
    qid = service.submit(QUESTION).id
    with pytest.raises(UnknownAdvisor, match="unknown advisor 'mallory': add them with 'guichet advisor add mallory'"):
        getattr(service, call)(qid, "mallory", *(["raison"] if call in ("reject", "escalate") else []))
    assert service.show(qid).status == "drafted", "nothing changes for an unknown advisor"


@pytest.mark.parametrize("text", ["", "   \n\t ", None])
def test_empty_final_text_is_refused(service, text):
    qid = service.submit(QUESTION).id
    if text is None:  # None means "send the draft": refused when the draft abstained
        qid = open_service(drafter=abstaining_drafter).submit(QUESTION).id
    with pytest.raises(InvalidInput) as exc:
        service.validate(qid, "alice", text)
    assert "empty" in str(exc.value) or "no draft text" in str(exc.value), str(exc.value)
    assert service.show(qid).status in ("drafted", "in_review") and service.show(qid).answer is None


def test_one_megabyte_final_text_is_refused_with_the_limit(service):
    qid = service.submit(QUESTION).id
    with pytest.raises(InvalidInput) as exc:
        service.validate(qid, "alice", "a" * 1_000_000)
    assert f"over the limit of {MAX_ANSWER_CHARS}" in str(exc.value), str(exc.value)
    assert service.show(qid).answer is None, "nothing is stored for a refused text"
    at_limit = "b" * MAX_ANSWER_CHARS
    assert service.validate(qid, "alice", at_limit).answer.text == at_limit, "the limit itself is accepted"


def test_html_in_final_text_is_stored_as_typed(service):
    sub = service.submit(QUESTION)
    html = "<script>alert(1)</script> <b>Oui</b> & voir [1]"
    detail = service.validate(sub.id, "alice", html)
    assert detail.answer.text == html, "the text is stored as typed, not escaped or stripped"
    assert service.thread(sub.thread).messages[0].answer == html


@pytest.mark.parametrize("email", ["pas-une-adresse", "a@b", "x@y.fr, z@w.fr", "<a@b.fr>"])
def test_malformed_email_is_refused_and_nothing_is_recorded(service, email):
    with pytest.raises(InvalidInput, match="is not an e-mail address"):
        service.submit(QUESTION, email=email)
    assert service.list_questions() == [], "a refused submission records nothing"


@pytest.mark.parametrize("question", ["", "  ", "q" * 10_001])
def test_empty_or_huge_question_is_refused(service, question):
    with pytest.raises(InvalidInput):
        service.submit(question)


def test_drafting_failure_keeps_the_question_received_then_redraft_works(home):
    def failing(question, history):
        raise TimeoutError("generator did not answer in 60 s")

    service = open_service(drafter=failing)
    service.add_advisor("alice", PASSWORD)
    sub = service.submit(QUESTION, email="a@ville.fr")
    assert (sub.status, sub.error) == ("received", "TimeoutError: generator did not answer in 60 s"), sub
    detail = service.show(sub.id)
    assert detail.status == "received" and detail.draft is None and "TimeoutError" in detail.draft_error
    assert "draft_failed" in [e.action for e in detail.events], "the failure is in the audit log"

    redrafted = service.redraft(sub.id, "alice", drafter=draft_from_fixed_passage)
    assert redrafted.status == "drafted" and redrafted.draft_error is None and redrafted.drafts == 1, redrafted


def test_redraft_keeps_every_draft_version(service):
    qid = service.submit(QUESTION).id
    service.claim(qid, "alice")
    detail = service.redraft(qid, "alice", drafter=abstaining_drafter)
    assert detail.drafts == 2 and detail.draft.number == 2 and detail.draft.abstained, detail.draft
    assert detail.status == "in_review", "a redraft keeps the advisor's claim"


def test_claim_by_another_advisor_conflicts_until_it_expires(home):
    clock = Clock()
    service = open_service(drafter=draft_from_fixed_passage, clock=clock, claim_minutes=30)
    service.add_advisor("alice", PASSWORD)
    service.add_advisor("bob", PASSWORD)
    qid = service.submit(QUESTION).id
    service.claim(qid, "alice")
    for action in (lambda: service.claim(qid, "bob"), lambda: service.validate(qid, "bob", "Texte de Bob."),
                   lambda: service.reject(qid, "bob", "non")):
        with pytest.raises(Conflict, match="claimed by alice until 09:30 UTC"):
            action()
    clock.now += timedelta(minutes=31)
    assert service.show(qid).claimed_by is None, "an expired claim is shown as free"
    taken = service.claim(qid, "bob")
    assert taken.claimed_by == "bob", taken
    took_over = [e.detail for e in taken.events if e.action == "claimed"][-1]
    assert took_over.get("took_over_expired_claim_of") == "alice", took_over


def test_stale_expected_version_is_a_conflict_and_overwrites_nothing(service):
    qid = service.submit(QUESTION).id
    seen_by_bob = service.show(qid).version
    service.validate(qid, "alice", "Texte d'Alice.")
    with pytest.raises(Conflict):
        service.validate(qid, "bob", "Texte de Bob.", expected_version=seen_by_bob)
    assert service.show(qid).answer.text == "Texte d'Alice.", "Bob's text must not overwrite Alice's"


def test_release_returns_the_question_to_the_queue(service):
    qid = service.submit(QUESTION).id
    service.claim(qid, "alice")
    assert service.release(qid, "alice").status == "drafted"
    assert service.claim(qid, "bob").claimed_by == "bob"


def test_unedited_draft_counts_as_accepted(service):
    qid = service.submit(QUESTION).id
    detail = service.validate(qid, "alice")
    assert detail.answer.edited is False and detail.answer.edit_ratio == 0.0, detail.answer
    stats = service.stats()
    assert stats["acceptance_rate"] == 1.0 and stats["per_advisor"]["alice"]["sent_unedited"] == 1, stats


def test_unknown_question_is_not_found(service):
    with pytest.raises(NotFound, match="no question 4242"):
        service.show(4242)


def test_authenticate_checks_the_argon2_hash(service):
    assert service.authenticate("alice", PASSWORD).name == "alice"
    with pytest.raises(AuthenticationFailed) as wrong:
        service.authenticate("alice", "wrong password")
    with pytest.raises(AuthenticationFailed) as unknown:
        service.authenticate("nobody", PASSWORD)
    assert str(wrong.value) == str(unknown.value), "unknown name and wrong password look the same"
    with service.engine.connect() as conn:
        stored = conn.exec_driver_sql("SELECT password_hash FROM advisors WHERE name='alice'").scalar()
    assert stored.startswith("$argon2id$") and PASSWORD not in stored, "passwords are stored as argon2id hashes"


@pytest.mark.parametrize(("name", "password", "message"), [
    ("alice", "another password", "already exists"),
    ("", "long enough pw", "must be 1-64"),
    ("a b", "long enough pw", "must be 1-64"),
    ("carol", "short", "at least 8"),
])
def test_bad_advisor_accounts_are_refused(service, name, password, message):
    with pytest.raises(InvalidInput, match=message):
        service.add_advisor(name, password)


def test_forget_erases_personal_data_keeps_stats_and_audits(service):
    sub = service.submit(QUESTION, email="a@ville.fr", organisation="Ville de Test")
    service.validate(sub.id, "alice")
    before = service.stats()
    service.forget(sub.thread)
    detail = service.show(sub.id)
    assert detail.organisation is None and detail.has_email is False, detail
    with service.engine.connect() as conn:
        dump = "\n".join(str(r) for t in ("threads", "outbox", "events")
                         for r in conn.exec_driver_sql(f"SELECT * FROM {t}"))
    assert "a@ville.fr" not in dump and "Ville de Test" not in dump, "personal data must be gone everywhere"
    assert service.stats()["sent"] == before["sent"] and service.stats()["questions"] == 1
    with service.engine.connect() as conn:
        actions = [r[0] for r in conn.exec_driver_sql("SELECT action FROM events WHERE action='forgotten'")]
    assert actions == ["forgotten"], "the erasure is recorded in the audit log"


def test_audit_log_is_append_only(service):
    from sqlalchemy import select
    from sqlalchemy.orm import Session

    from assistant.review.models import EventRow

    service.submit(QUESTION)
    with Session(service.engine) as session:
        event = session.scalars(select(EventRow)).first()
        event.action = "tampered"
        with pytest.raises(RuntimeError, match="append-only"):
            session.flush()
