"""Drafting off the buyer's path, on the real app: acknowledgements never wait for the generator,
every question still gets its draft, a killed app drafts once after restart, a locked database
orphans nothing.

The LLM endpoint here is `tests/slow_llm.py`, a FAKE OpenAI-compatible server on loopback that
holds its answers until the test releases them (a real llama.cpp server answers when it is done,
which a test cannot order); the real `llm` generator, HTTP client and app run against it.
"""

from __future__ import annotations

import sqlite3
import subprocess
import sys
import textwrap
import threading
import time

import pytest
from slow_llm import SlowLLM
from sqlalchemy import event
from sqlalchemy.orm import Session
from ui_fixtures import drafted

from assistant.config import Settings
from assistant.review.limits import Limits
from assistant.review.models import QuestionRow
from assistant.ui import render
from assistant import compose

pytestmark = pytest.mark.slow

QUESTION = "Puis-je exiger un label précis dans mon marché de fournitures ?"


def llm_settings(llm: SlowLLM, **more: str) -> dict[str, str]:
    return {"GUICHET_GENERATOR": "llm", "GUICHET_LLM_BASE_URL": llm.base_url, "GUICHET_LLM_MODEL": llm.model,
            **more}


def wait_drafted(server, ids, timeout_s: float = 120.0) -> dict[int, object]:
    """Every question's detail once its draft job has ended."""
    service = server.service()
    try:
        deadline = time.monotonic() + timeout_s
        while True:
            details = {qid: service.show(qid) for qid in ids}
            if not any(d.drafting for d in details.values()):
                return details
            assert time.monotonic() < deadline, \
                f"not drafted after {timeout_s} s: {[q for q, d in details.items() if d.drafting]}"
            time.sleep(0.2)
    finally:
        service.close()


def question_id(outputs) -> int:
    import re

    return int(re.search(r"n° (\d+)", str(outputs)).group(1))


def test_acknowledgements_never_wait_for_the_llm_and_every_question_gets_its_draft(start_app):
    with SlowLLM(hold=True) as llm:
        server = start_app(llm_settings(llm))
        acks: list = [None] * 20
        barrier = threading.Barrier(20)

        def buyer(n: int) -> None:
            barrier.wait(timeout=60)
            acks[n] = server.ask(f"{QUESTION} (acheteur {n})", timeout=120)

        threads = [threading.Thread(target=buyer, args=(n,)) for n in range(20)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(timeout=180)
        assert all(a is not None and "bien reçue" in str(a) for a in acks), "every buyer is acknowledged"
        assert llm.answered == 0, "all 20 acknowledgements came while the LLM had answered nothing"
        llm.wait_requests(1)  # the drafts are being written meanwhile
        llm.release()
        details = wait_drafted(server, [question_id(a) for a in acks])
    assert [(d.status, d.drafts, d.draft.generator) for d in details.values()] == [("drafted", 1, "llm")] * 20
    assert all(d.draft.citations and not d.draft.flags for d in details.values()), "verified llm drafts"


def test_app_killed_while_a_draft_job_runs_drafts_it_once_after_restart(start_app):
    with SlowLLM(hold=True) as llm:
        first = start_app(llm_settings(llm, GUICHET_DRAFT_LEASE_S="3"))
        qid = question_id(first.ask(QUESTION))
        llm.wait_requests(1)  # the draft job runs: its LLM request is held
        first.process.kill()
        first.process.wait(timeout=30)
        service = first.service()
        try:
            job = service.draft_job(qid)
            assert (job.status, job.attempts) == ("running", 1), f"the killed app held the job: {job}"
        finally:
            service.close()
        llm.release()
        second = start_app(llm_settings(llm, GUICHET_DRAFT_LEASE_S="3"), home=first.home)
        (detail,) = wait_drafted(second, [qid]).values()
    assert (detail.status, detail.drafts, detail.draft.generator) == ("drafted", 1, "llm"), detail
    assert (detail.job.status, detail.job.attempts) == ("done", 2), detail.job
    assert [e.action for e in detail.events].count("drafted") == 1, "the draft is made once"
    with sqlite3.connect(first.home / "review.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM drafts WHERE question_id = ?", (qid,)).fetchone()[0] == 1


@pytest.mark.parametrize("endpoint", ["refused", "timeout"])
def test_a_failed_or_timed_out_llm_falls_back_to_the_extractive_draft_with_a_note(desk, endpoint):
    from support import free_port

    desk.drafts.stop()  # its extractive threads share the database: only the LLM desk may draft
    with SlowLLM(delay_s=5) as llm:
        base = f"http://127.0.0.1:{free_port()}/v1" if endpoint == "refused" else llm.base_url
        settings = Settings(home=desk.home, generator="llm", llm_base_url=base, llm_model=llm.model,
                            llm_timeout_s=0.3)
        llm_desk = compose.open_desk(settings, limits=Limits(per_session=0, per_address=0))
        try:
            llm_desk.drafts.poll_s = 0.2
            llm_desk.start_drafting()
            ack = llm_desk.ask(QUESTION)
            detail = drafted(llm_desk, ack.question_id)
        finally:
            llm_desk.close()
    note = detail.draft.flags[0].reason
    cause = "connexion impossible" if endpoint == "refused" else "délai de 0.3 s dépassé"
    assert note.startswith("le générateur LLM n'a pas répondu") and cause in note, note
    assert detail.draft.generator == "extractive" and detail.draft.citations, "the extractive draft, cited"
    assert render.plain(note) in render.flags(detail), "the advisor sees the note"


LOCKER = """
    import sqlite3, sys, time
    conn = sqlite3.connect(sys.argv[1], isolation_level=None, timeout=30)
    conn.execute("BEGIN EXCLUSIVE")
    print("locked", flush=True)
    time.sleep(float(sys.argv[2]))
    conn.execute("ROLLBACK")
"""


def test_database_locked_for_20_s_right_after_the_question_is_written(desk):
    """#16 item 4: the buyer gets the stored question's thread, the question is drafted later, a retry
    creates no second thread. A real second process holds the lock."""
    url = str(desk.review.engine.url)
    locker: dict = {}

    def question_flushed(session, flush_context):
        if str(session.bind.engine.url) == url and any(isinstance(o, QuestionRow) for o in session.new):
            session.info["question"] = True

    def lock_after_commit(session):
        if session.info.pop("question", False) and "process" not in locker:
            process = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOCKER),
                                        str(desk.home / "review.sqlite"), "20"],
                                       stdout=subprocess.PIPE, text=True)
            assert process.stdout.readline().strip() == "locked", "the locking process did not start"
            locker["process"] = process

    event.listen(Session, "after_flush", question_flushed)
    event.listen(Session, "after_commit", lock_after_commit)
    try:
        ack = desk.ask(QUESTION, session="onglet-1")
        process = locker["process"]
        assert process.poll() is None, "the acknowledgement came while the database was still locked"
        assert ack.thread and [m.question for m in desk.thread(ack.thread).messages] == [QUESTION], \
            "the buyer has the thread of the stored question"
        retry = desk.ask(QUESTION, session="onglet-1")
        assert (retry.question_id, retry.thread) == (ack.question_id, ack.thread), "a retry is the same question"
        assert desk.show(ack.question_id).drafts == 0 and process.poll() is None, "no draft while locked"
        process.wait(timeout=60)
        released = time.monotonic()
    finally:
        event.remove(Session, "after_flush", question_flushed)
        event.remove(Session, "after_commit", lock_after_commit)
    detail = drafted(desk, ack.question_id, timeout_s=90)
    assert (detail.status, detail.drafts) == ("drafted", 1), f"drafted later: {detail.job}"
    assert time.monotonic() >= released
    with sqlite3.connect(desk.home / "review.sqlite") as conn:
        assert conn.execute("SELECT count(*) FROM threads").fetchone()[0] == 1, "one thread"
        assert conn.execute("SELECT count(*) FROM questions").fetchone()[0] == 1, "one question"
