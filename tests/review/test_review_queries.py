"""The workflow table drives every advisor action, and listings cost one query whatever their length."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from sqlalchemy import event

from assistant.review.workflow import WORKFLOW, Action
from review_fixtures import PASSWORD, abstaining_drafter, open_service
from support import free_port
from test_review_workflow import ACTIONS, _to_state

#: Where each action leaves a question (written apart from the table, which must agree); a
#: re-draft keeps the state, but gives a question received without a draft its first one.
AFTER = {"claim": "in_review", "release": "drafted", "validate": "sent", "reject": "rejected",
         "escalate": "escalated", "redraft": None}
LEGAL = [(state, action) for action in ACTIONS for state in WORKFLOW[Action(action)].allowed]


@pytest.mark.parametrize(("state", "action"), LEGAL)
def test_every_action_the_table_allows_goes_where_the_workflow_says(service, state, action):
    qid = _to_state(service, state)
    before = service.show(qid).version
    ACTIONS[action](service, qid)
    after = service.show(qid)
    expected = AFTER[action] or ("drafted" if state == "received" else state)
    assert after.status == expected, f"{action} from {state} ended in {after.status}"
    assert action == "redraft" or after.version > before, "every state change bumps the version"


@contextmanager
def statements(engine):
    """The SQL statements run on `engine` inside the block."""
    seen: list[str] = []

    def note(conn, cursor, statement, *args):
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def _fill(service, n: int) -> None:
    """n questions in every situation a queue row shows: drafted, abstained, claimed, sent, queued."""
    abstaining = open_service(drafter=abstaining_drafter)
    for i in range(n):
        qid = service.submit(f"Question numéro {i} ?", email=f"acheteur{i}@ville.fr").id
        if i % 3 == 0:
            service.validate(qid, "bob")
        elif i % 3 == 1:
            service.claim(qid, "alice")
        abstaining.submit(f"Autre question {i} ?")
        service.submit(f"Question en attente {i} ?", draft_now=False)
    abstaining.close()


@pytest.mark.parametrize("listing", ["list_questions", "reviewed_records"])
def test_a_listing_runs_as_many_queries_whatever_the_number_of_questions(service, listing):
    counts = {}
    for n in (1, 10):
        _fill(service, n)
        with statements(service.engine) as seen:
            rows = getattr(service, listing)()
        assert rows, "the listing is not empty"
        counts[len(rows)] = len(seen)
    assert len(set(counts.values())) == 1, f"queries by number of rows listed: {counts}"


def test_the_queue_row_shows_the_latest_draft_the_live_claim_the_open_job_and_the_undelivered_mail(
        home, monkeypatch):
    monkeypatch.setenv("GUICHET_SMTP_HOST", "127.0.0.1")
    monkeypatch.setenv("GUICHET_SMTP_PORT", str(free_port()))  # nobody listens: the mail stays undelivered
    monkeypatch.setenv("GUICHET_SMTP_SECURITY", "none")
    service = open_service()
    try:
        service.add_advisor("alice", PASSWORD)
        claimed = service.submit("Réservée ?").id
        service.claim(claimed, "alice")
        service.redraft(claimed, "alice", drafter=abstaining_drafter)  # the latest draft abstains
        queued = service.submit("Pas encore rédigée ?", draft_now=False).id
        sent = service.submit("Envoyée ?", email="a@ville.fr").id
        service.validate(sent, "alice")
        rows = {q.id: q for q in service.list_questions()}
    finally:
        service.close()
    assert (rows[claimed].claimed_by, rows[claimed].abstained, rows[claimed].drafting) == ("alice", True, None)
    assert (rows[queued].status, rows[queued].abstained, rows[queued].drafting) == ("received", None, "queued")
    assert (rows[sent].mail, rows[sent].claimed_by) == ("failed", None), rows[sent]
    assert rows[sent].mail_retry_at is not None, "the retry time of the failed mail is listed"
