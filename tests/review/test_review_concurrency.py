"""Real concurrent writers on one SQLite file: threads with their own engines, and processes."""

from __future__ import annotations

import multiprocessing
import random
import sqlite3
import threading

import pytest

from assistant.review.errors import Conflict, IllegalTransition
from review_fixtures import open_service, race_validate
from support import answer_of, validate_at_barrier

QUESTION = "Comment noter l'indice de réparabilité ?"


def _answers(home) -> dict[int, tuple[str, int]]:
    with sqlite3.connect(home / "review.sqlite") as conn:
        rows = conn.execute(
            "SELECT a.question_id, a.text, a.advisor_id FROM answers a ORDER BY a.question_id").fetchall()
    return {qid: (text, advisor) for qid, text, advisor in rows}


def _integrity(home) -> str:
    with sqlite3.connect(home / "review.sqlite") as conn:
        return conn.execute("PRAGMA integrity_check").fetchone()[0]


def _run_threads(targets) -> list[BaseException]:
    errors: list[BaseException] = []

    def wrap(target):
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - collected and asserted below
            errors.append(exc)

    threads = [threading.Thread(target=wrap, args=(t,)) for t in targets]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not any(t.is_alive() for t in threads), "a writer thread hung"
    return errors


def test_two_advisors_validating_the_same_item_second_gets_conflict(service, home):
    rounds = 8
    items = [service.submit(QUESTION).id for _ in range(rounds)]
    versions = {qid: service.show(qid).version for qid in items}
    barrier = threading.Barrier(2)
    outcomes: dict[str, dict[int, str]] = {"alice": {}, "bob": {}}

    def advisor(name):
        own = open_service()  # its own engine and connections, like another app process
        try:
            outcomes[name] = validate_at_barrier(own, name, [(qid, versions[qid]) for qid in items], barrier)
        finally:
            own.close()

    errors = _run_threads([lambda: advisor("alice"), lambda: advisor("bob")])
    assert errors == [], f"only Conflict may be raised, got {errors!r}"
    answers = _answers(home)
    names = {a.id: a.name for a in service.advisors()}
    for qid in items:
        results = sorted((outcomes["alice"][qid], outcomes["bob"][qid]))
        assert results == ["conflict", "ok"], f"question {qid}: one winner, one conflict expected, got {results}"
        winner = "alice" if outcomes["alice"][qid] == "ok" else "bob"
        text, advisor_id = answers[qid]
        assert (text, names[advisor_id]) == (answer_of(winner), winner), \
            f"question {qid}: the loser overwrote the winner's answer"
        validated = [e for e in service.show(qid).events if e.action == "validated"]
        assert len(validated) == 1, f"question {qid} validated {len(validated)} times"


def test_two_advisors_claiming_at_once_one_wins(service):
    items = [service.submit(QUESTION).id for _ in range(8)]
    barrier = threading.Barrier(2)
    won: dict[int, list[str]] = {qid: [] for qid in items}

    def advisor(name):
        own = open_service()
        try:
            for qid in items:
                barrier.wait(timeout=30)
                try:
                    own.claim(qid, name)
                    won[qid].append(name)
                except Conflict:
                    pass
        finally:
            own.close()

    assert _run_threads([lambda: advisor("alice"), lambda: advisor("bob")]) == []
    for qid in items:
        assert len(won[qid]) == 1, f"question {qid} claimed by {won[qid]}: exactly one claim may win"
        assert service.show(qid).claimed_by == won[qid][0], "the stored claim is the winner's"


@pytest.mark.slow
def test_four_threads_hammering_keep_the_database_consistent(service, home):
    for name in ("carol", "dave"):
        service.add_advisor(name, "correct horse battery")
    advisors = ["alice", "bob", "carol", "dave"]
    pool = [service.submit(QUESTION).id for _ in range(10)]
    lock = threading.Lock()
    submitted: list[int] = []
    refused: list[str] = []

    def writer(name, seed):
        rng = random.Random(seed)
        own = open_service()
        try:
            for i in range(25):
                sub = own.submit(f"{QUESTION} ({name} {i})", email=f"{name}{i}@ville.fr")
                with lock:
                    submitted.append(sub.id)
                    target = rng.choice(pool + submitted)
                try:
                    action = rng.choice(["claim", "validate", "validate", "reject", "escalate"])
                    if action == "claim":
                        own.claim(target, name)
                    elif action == "validate":
                        own.validate(target, name, f"Réponse {i} de {name}.")
                    elif action == "reject":
                        own.reject(target, name, "hors champ")
                    else:
                        own.escalate(target, name, "expert")
                except (Conflict, IllegalTransition) as exc:
                    with lock:
                        refused.append(str(exc))
        finally:
            own.close()

    errors = _run_threads([lambda n=n, s=s: writer(n, s) for s, n in enumerate(advisors)])
    assert errors == [], f"only Conflict or IllegalTransition may be raised, got {errors!r}"
    assert _integrity(home) == "ok", "SQLite integrity check failed"
    assert len(submitted) == 100 and len(set(submitted)) == 100, "every submission must be recorded once"
    listed = {q.id: q for q in service.list_questions()}
    assert set(pool + submitted) <= set(listed), "a submitted question went missing"
    answers = _answers(home)
    for qid, question in listed.items():
        detail = service.show(qid)
        validated = [e for e in detail.events if e.action == "validated"]
        if question.status == "sent":
            assert detail.answer is not None and len(validated) == 1, f"question {qid}: sent without one answer"
            assert detail.answer.text == answers[qid][0]
        else:
            assert detail.answer is None and validated == [], f"question {qid} is {question.status} but answered"
        assert detail.status != "received", f"question {qid} lost its draft"


@pytest.mark.slow
def test_separate_processes_racing_on_one_sqlite_file(service, home):
    items = [service.submit(QUESTION).id for _ in range(6)]
    seen = [(qid, service.show(qid).version) for qid in items]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(2)
    results = context.Queue()
    workers = [context.Process(target=race_validate, args=(name, seen, barrier, results)) for name in ("alice", "bob")]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0, f"a writer process failed with exit code {worker.exitcode}"
    for qid in items:
        pair = sorted((outcomes["alice"][qid], outcomes["bob"][qid]))
        assert pair == ["conflict", "ok"], f"question {qid}: expected one winner and one conflict, got {pair}"
        detail = service.show(qid)
        winner = "alice" if outcomes["alice"][qid] == "ok" else "bob"
        assert detail.answer.advisor == winner and detail.answer.text == answer_of(winner), \
            f"question {qid}: the losing process overwrote the answer"
    assert _integrity(home) == "ok"
