"""The same service on a real PostgreSQL server: nothing SQLite-specific in the workflow.

Uses REVIEW_TEST_POSTGRES_URL when set (a server the CI started), else starts a throwaway
PostgreSQL cluster with `initdb`/`pg_ctl` from PATH (or /usr/lib/postgresql/*/bin); fails when
neither is available, since `.ci/run` installs the server.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import threading
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.review.errors import SchemaError
from review_fixtures import drain_draft_jobs, open_service
from support import answer_of, free_port, validate_at_barrier

pytestmark = pytest.mark.server
import psycopg  # noqa: E402,F401  (the driver the PostgreSQL URL names)


def _as_postgres_user(command: list[str]) -> list[str]:
    # PostgreSQL refuses to run as root: use the system's 'postgres' account then.
    if os.geteuid() != 0:
        return command
    return ["su", "postgres", "-s", "/bin/sh", "-c", " ".join(f"'{c}'" for c in command)]


@pytest.fixture(scope="module")
def server_url() -> Iterator[str]:
    """URL (without database name) of a running PostgreSQL server."""
    url = os.environ.get("REVIEW_TEST_POSTGRES_URL")
    if url:
        yield url.rsplit("/", 1)[0]
        return
    bins = sorted(Path("/usr/lib/postgresql").glob("*/bin"))
    os.environ["PATH"] += "".join(os.pathsep + str(b) for b in bins[-1:])
    if not (shutil.which("initdb") and shutil.which("pg_ctl")):
        pytest.fail("no PostgreSQL: set REVIEW_TEST_POSTGRES_URL or install the server "
                    "(apt-get install postgresql, as .ci/run does)")
    root = Path(tempfile.mkdtemp(prefix="review-pg-"))
    os.chmod(root, 0o777)
    data, port = root / "data", free_port()
    subprocess.run(_as_postgres_user([shutil.which("initdb"), "-D", str(data), "-A", "trust", "-U", "guichet"]),
                   check=True, capture_output=True)
    options = f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off"
    subprocess.run(_as_postgres_user([shutil.which("pg_ctl"), "-D", str(data), "-o", options, "-l", str(root / "log"),
                                      "-w", "start"]), check=True, capture_output=True)
    try:
        yield f"postgresql+psycopg://guichet@127.0.0.1:{port}"
    finally:
        subprocess.run(_as_postgres_user([shutil.which("pg_ctl"), "-D", str(data), "-m", "immediate", "stop"]),
                       capture_output=True)
        shutil.rmtree(root, ignore_errors=True)


def _new_database(server_url: str) -> str:
    name = f"review_{uuid.uuid4().hex[:12]}"
    plain = server_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(f"{plain}/postgres", autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return f"{server_url}/{name}"


@pytest.fixture
def pg(home, server_url, monkeypatch):
    """The service on a fresh PostgreSQL database, with two advisors."""
    monkeypatch.setenv("GUICHET_DATABASE_URL", _new_database(server_url))
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    service.add_advisor("bob", "correct horse battery")
    yield service
    service.close()


def test_scenario_on_postgresql(pg):
    sub = pg.submit("Puis-je exiger un label ?", email="un@ville.fr", organisation="Ville")
    assert sub.status == "drafted", sub
    opened = pg.claim(sub.id, "alice")
    sent = pg.validate(sub.id, "alice", "Oui [1].", expected_version=opened.version)
    assert sent.status == "sent" and sent.answer.sources[0].location == "p. 12", sent.answer
    assert pg.thread(sub.thread).messages[0].answer == "Oui [1]."
    stats = pg.stats()
    assert (stats["questions"], stats["sent"], stats["acceptance_rate"]) == (1, 1, 0.0), stats
    pg.forget(sub.thread)
    assert pg.show(sub.id).organisation is None


def refusals(qid: int) -> set[str]:
    """What the advisor who lost the race may be told: nothing else, and never twice "ok"."""
    return {"conflict", f"IllegalTransition: question {qid} is 'sent': cannot validate it"}


def test_two_advisors_racing_on_postgresql(pg):
    # No BEGIN IMMEDIATE here: both transactions read the same version under READ COMMITTED and
    # only the versioned UPDATE decides. The loser must get Conflict (or, when it reads after the
    # winner's commit, the refusal to validate a sent question), never an integrity error.
    items = [pg.submit("Question disputée ?").id for _ in range(8)]
    barrier = threading.Barrier(2)
    outcomes: dict[str, dict[int, str]] = {"alice": {}, "bob": {}}
    errors: list[BaseException] = []

    def advisor(name):
        own = open_service()
        try:
            outcomes[name] = validate_at_barrier(own, name, [(qid, None) for qid in items], barrier)
        except BaseException as exc:  # noqa: BLE001 - asserted below
            errors.append(exc)
        finally:
            own.close()

    threads = [threading.Thread(target=advisor, args=(n,)) for n in ("alice", "bob")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert errors == [], f"only Conflict may be raised, got {errors!r}"
    for qid in items:
        pair = sorted((outcomes["alice"][qid], outcomes["bob"][qid]))
        assert pair[1] == "ok" and pair[0] in refusals(qid), f"question {qid}: {pair}"
        detail = pg.show(qid)
        winner = "alice" if outcomes["alice"][qid] == "ok" else "bob"
        assert detail.answer.text == answer_of(winner), f"question {qid}: the loser overwrote the answer"


def test_processes_share_the_draft_queue_on_postgresql(pg):
    # READ COMMITTED: two processes may select the same due job; the conditional UPDATE of the
    # second waits for the first to commit, then matches no row.
    import multiprocessing

    ids = [pg.submit(f"Question à rédiger n° {n} ?", draft_now=False).id for n in range(24)]
    context = multiprocessing.get_context("spawn")
    barrier = context.Barrier(3)
    results = context.Queue()
    workers = [context.Process(target=drain_draft_jobs, args=(f"p{n}", barrier, results)) for n in range(3)]
    for worker in workers:
        worker.start()
    drafted = dict(results.get(timeout=180) for _ in workers)
    for worker in workers:
        worker.join(timeout=60)
        assert worker.exitcode == 0, f"a drafting process failed with exit code {worker.exitcode}"
    assert sorted(q for qs in drafted.values() for q in qs) == ids, f"each question drafted once: {drafted}"
    assert [pg.show(qid).drafts for qid in ids] == [1] * len(ids)
    assert {j.status for j in pg.draft_jobs()} == {"done"}


def test_backup_round_trip_between_postgresql_databases(pg, server_url, monkeypatch, tmp_path):
    first = pg.submit("Puis-je exiger un label ?", email="un@ville.fr")
    pg.validate(first.id, "alice", "Oui [1].", reusable=True)
    pg.reject(pg.submit("Relisez notre DCE ?").id, "bob", "hors champ")
    out = tmp_path / "pg.jsonl"
    count = pg.export(out)

    monkeypatch.setenv("GUICHET_DATABASE_URL", _new_database(server_url))
    restored = open_service()
    assert restored.import_backup(out) == count
    assert [q.status for q in restored.list_questions()] == ["sent", "rejected"]
    assert restored.submit("Après restauration ?").id == 3, "sequences must continue after the restored ids"
    restored.add_advisor("carol", "correct horse battery")


def test_newer_schema_is_refused_on_postgresql(pg):
    with pg.engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO schema_version (version, applied_at) VALUES (999, now())")
    with pytest.raises(SchemaError, match="schema version 999"):
        open_service()


def test_processes_starting_together_on_an_empty_database(home, server_url):
    """Several app processes starting at once on a new database: one migrates, none fails."""
    import sys

    url = _new_database(server_url)
    code = ("from assistant.compose import load_settings as get_settings, review_service; "
            "s = review_service(get_settings()); print(len(s.list_questions())); s.close()")
    env = {**os.environ, "GUICHET_DATABASE_URL": url, "GUICHET_HOME": str(home)}
    procs = [subprocess.Popen([sys.executable, "-c", code], env=env, stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True) for _ in range(4)]
    outcomes = [p.communicate(timeout=120) + (p.returncode,) for p in procs]
    assert all(rc == 0 and out.strip() == "0" for out, _, rc in outcomes), outcomes


def test_limits_and_sessions_are_shared_and_atomic_on_postgresql(pg):
    """Eight connections taking one key's last hits at once: the advisory lock lets exactly the limit through."""
    from concurrent.futures import ThreadPoolExecutor

    from assistant.review.errors import RateLimited

    services = [open_service() for _ in range(8)]
    barrier = threading.Barrier(len(services))

    def take(service):
        barrier.wait(timeout=60)
        try:
            service.limits.take(("address:203.0.113.9", 3, 60.0))
            return "ok"
        except RateLimited:
            return "limited"

    try:
        with ThreadPoolExecutor(len(services)) as pool:
            outcomes = list(pool.map(take, services))
        assert outcomes.count("ok") == 3, f"exactly the limit goes through: {outcomes}"
        sid = services[0].sessions.open("alice")
        assert services[1].sessions.advisor(sid) == "alice"
        services[2].set_password("alice", "un nouveau secret")
        assert services[3].sessions.advisor(sid) is None, "a password change ends the session for every process"
    finally:
        for service in services:
            service.close()


def test_peers_of_drafts_and_their_migration_on_postgresql(pg):
    from test_review_peers import PEERS_MIGRATION, draft_with_a_peer

    from assistant.review.migrations import LATEST, migrate

    writer = open_service(drafter=draft_with_a_peer)  # the same PostgreSQL database
    sub = writer.submit("Qui a acheté des portables reconditionnés ?", organisation="Mairie de Sète (Hérault)")
    writer.close()
    assert pg.show(sub.id).draft.peers[0].organisation == "Ville de Champigny-sur-Marne"
    with pg.engine.begin() as conn:  # back to the schema before the peers of drafts
        conn.exec_driver_sql("ALTER TABLE drafts DROP COLUMN peers")
        conn.exec_driver_sql("ALTER TABLE questions DROP COLUMN sealed_token")
        conn.exec_driver_sql(f"DELETE FROM schema_version WHERE version >= {PEERS_MIGRATION}")
    assert migrate(pg.engine) == LATEST
    assert pg.show(sub.id).draft.peers == (), "the column is back, empty for the drafts made before"
