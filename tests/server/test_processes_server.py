"""Several app processes on one Chroma server and one PostgreSQL: one queue, no lost update."""

from __future__ import annotations

import json
import multiprocessing
import re
import subprocess
import sys

import httpx
import pytest

from assistant.records import Chunk, Citation, Draft, Passage
from assistant.compose import review_service
from server_helpers import GUIDES, ROOT, child_env, guichet, race_validate, wait_until
from support import answer_of, free_port

pytestmark = pytest.mark.server

PASSAGE = Passage(Chunk(id="p1", text="Un label équivalent doit être accepté.", source="/guide.pdf",
                        title="Guide", page=3), 0.9)


def fixed_draft(question: str, history: list[str]) -> Draft:
    """A constant cited draft (test input: the race is about the review store, not drafting)."""
    return Draft(text="Oui, un équivalent doit être accepté [1].",
                 citations=(Citation(1, PASSAGE.chunk.id, PASSAGE.chunk.text),), passages=(PASSAGE,))


def machine(servers, name: str) -> dict[str, str]:
    """Environment of an app process on another machine: own data directory, shared servers."""
    return child_env(home=str(servers.home / name), chroma_url=servers.chroma_url,
                     database_url=servers.database_url)


def test_question_asked_through_one_process_is_seen_by_an_advisor_on_another(servers):
    a, b = machine(servers, "machine-a"), machine(servers, "machine-b")
    result = guichet(["ingest", str(GUIDES / "exiger-un-label.md"), "-q"], a)
    assert result.returncode == 0, result.stderr

    asked = guichet(["review", "submit", "Puis-je exiger un label dans mon marché de fournitures ?",
                     "--json"], a)
    assert asked.returncode == 0, asked.stderr
    question = json.loads(asked.stdout)
    assert question["status"] == "drafted", question

    queue = guichet(["review", "list", "--json"], b)
    assert [q["id"] for q in json.loads(queue.stdout)] == [question["id"]], "B's queue holds A's question"
    shown = json.loads(guichet(["review", "show", str(question["id"]), "--json"], b).stdout)
    sources = [p["source"] for p in shown["draft"]["passages"]]
    assert any(s.endswith("exiger-un-label.md") for s in sources), f"drafted from the shared index: {sources}"

    added = subprocess.run([sys.executable, "-m", "assistant", "advisor", "add", "bob", "--password-stdin"],
                           input="un mot de passe assez long\n", env=b, cwd=ROOT, capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    claimed = guichet(["review", "claim", str(question["id"]), "--advisor", "bob"], b)
    assert claimed.returncode == 0, claimed.stderr
    state = json.loads(guichet(["review", "show", str(question["id"]), "--json"], a).stdout)
    assert (state["status"], state["claimed_by"]) == ("in_review", "bob"), "A sees B's claim at once"


def test_two_processes_racing_on_one_queue_lose_no_update(servers):
    service = review_service(servers, drafter=fixed_draft)
    for name in ("alice", "bob"):
        service.add_advisor(name, "un mot de passe assez long")
    items = [(sub.id, service.show(sub.id).version)
             for sub in (service.submit(f"Question disputée n° {i} ?") for i in range(6))]

    context = multiprocessing.get_context("spawn")
    barrier, results = context.Barrier(2), context.Queue()
    workers = [context.Process(target=race_validate, args=(machine(servers, name), name, items, barrier, results))
               for name in ("alice", "bob")]
    for worker in workers:
        worker.start()
    outcomes = dict(results.get(timeout=120) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
    for question_id, _ in items:
        pair = sorted((outcomes["alice"][question_id], outcomes["bob"][question_id]))
        assert pair == ["conflict", "ok"], f"question {question_id}: exactly one advisor wins, got {pair}"
        winner = "alice" if outcomes["alice"][question_id] == "ok" else "bob"
        detail = service.show(question_id)
        assert detail.status == "sent" and detail.answer.text == answer_of(winner), \
            f"question {question_id}: the loser overwrote the winner's answer"
    service.close()


def test_two_serve_processes_share_the_servers_and_the_advisor_sessions(servers):
    """Deployment as the README describes it: a one-shot set-up step (advisor accounts, which
    creates the review tables), then N app processes started together with `--no-ingest` and
    the same GUICHET_SESSION_SECRET: a login made on one process holds on the others (after a restart or
    a failover of the proxy's sticky routing, which Gradio's event queue needs)."""
    import secrets

    added = subprocess.run([sys.executable, "-m", "assistant", "advisor", "add", "alice", "--password-stdin"],
                           input="un mot de passe assez long\n", env=machine(servers, "setup"), cwd=ROOT,
                           capture_output=True, text=True)
    assert added.returncode == 0, added.stderr
    secret = secrets.token_hex(32)  # GUICHET_SESSION_SECRET, the same on every app process
    ports = [free_port(), free_port()]
    processes = [subprocess.Popen([sys.executable, "-m", "assistant", "serve", "--no-ingest", "--port", str(port)],
                                  env={**machine(servers, f"app-{port}"), "GUICHET_SESSION_SECRET": secret},
                                  cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
                 for port in ports]
    a, b = (f"http://127.0.0.1:{port}" for port in ports)
    try:
        for process, url in zip(processes, (a, b)):
            try:
                wait_until(lambda: httpx.get(f"{url}/sante", timeout=2).status_code == 200, 120,
                           f"guichet serve at {url}", process)
            except RuntimeError:
                process.terminate()
                raise AssertionError(
                    f"guichet serve at {url} did not start: {process.communicate(timeout=20)[0]}") from None
            assert httpx.get(f"{url}/", timeout=20).status_code == 200, f"buyer page of {url}"
        with httpx.Client(base_url=a, timeout=20) as browser:
            token = re.search(r'name="jeton" value="([^"]+)"', browser.get("/connexion").text).group(1)
            login = browser.post("/connexion", data={"nom": "alice", "mot_de_passe": "un mot de passe assez long",
                                                     "suite": "/conseiller/", "jeton": token})
        assert login.status_code == 303, f"login through A: {login.status_code} {login.text[:200]}"
        cookies = dict(login.cookies)
        assert httpx.get(f"{b}/conseiller/", timeout=20).status_code == 303, "B asks a stranger to log in"
        page = httpx.get(f"{b}/conseiller/", cookies=cookies, timeout=20)
        assert page.status_code == 200, f"B accepts the session opened on A: {page.status_code}"
    finally:
        for process in processes:
            process.terminate()
        outputs = [p.communicate(timeout=30)[0] for p in processes]
    assert not any("Traceback" in out for out in outputs), "\n".join(outputs)
