"""A full disk in GUICHET_HOME gives one line, loses nothing, and re-running recovers (item 7).

The scenario runs the real CLI on a real 64 MB tmpfs mounted in a private mount namespace
(`unshare --mount`, or `unshare --user --map-root-user --mount` when not root), so no mount
outlives the test. The disk is filled by a real file until writes fail with ENOSPC. Two
further tests need no mount: Python writes to /dev/full (the kernel's own ENOSPC) and SQLite
bounded by `PRAGMA max_page_count` (SQLite's own SQLITE_FULL).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from assistant.diskfull import is_disk_full
from assistant.errors import DiskFull

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ["fin-usage--don.md"]
MORE = ["guide-achats-responsables--fiches-pratiques--prestations-intellectuelles.md"]

#: Runs inside the namespace, on the tmpfs at argv[1]; prints one JSON object per step.
SCENARIO = """
    import json, os, subprocess, sys, time
    mount, docs = sys.argv[1], sys.argv[2]
    home = os.path.join(mount, "home")
    env = dict(os.environ, GUICHET_HOME=home)
    filler = os.path.join(mount, "filler")

    def run(step, *args):
        started = time.monotonic()
        done = subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True,
                              text=True, timeout=600)
        print(json.dumps({"step": step, "rc": done.returncode, "stdout": done.stdout, "stderr": done.stderr,
                          "free_kb": os.statvfs(mount).f_bavail * os.statvfs(mount).f_frsize // 1024,
                          "seconds": round(time.monotonic() - started, 1)}),
              flush=True)

    def fill(leave_kb):
        with open(filler, "ab") as out:
            try:
                while True:
                    out.write(b"\\0" * (64 * 1024))
                    out.flush()
            except OSError:
                pass
        if leave_kb:
            size = os.path.getsize(filler)
            os.truncate(filler, max(0, size - leave_kb * 1024))

    run("first ingest", "ingest", os.path.join(docs, "first"), "--json", "-q")
    run("first question", "review", "submit", "Que faire des PC de 7 ans ?", "--json")
    fill(leave_kb=256)
    run("ingest, almost full", "ingest", os.path.join(docs, "first"), os.path.join(docs, "more"), "--json", "-q")
    os.remove(filler)
    fill(leave_kb=0)
    run("ingest, full", "ingest", os.path.join(docs, "first"), os.path.join(docs, "more"), "--json", "-q")
    run("search, full", "search", "réemploi", "-k", "1")
    run("question, full", "review", "submit", "Puis-je exiger un label ?", "--json")
    os.remove(filler)
    run("ingest again", "ingest", os.path.join(docs, "first"), os.path.join(docs, "more"), "--json", "-q")
    run("search again", "search", "réemploi", "-k", "1")
    run("question again", "review", "submit", "Puis-je exiger un label ?", "--json")
    run("questions kept", "review", "list", "--json")
"""


def _namespace() -> list[str] | None:
    """The `unshare` command giving a private mount namespace where tmpfs can be mounted, if any."""
    if not shutil.which("unshare"):
        return None
    command = ["unshare", "--mount", "--propagation", "private"] if os.geteuid() == 0 else \
        ["unshare", "--user", "--map-root-user", "--mount"]
    probe = subprocess.run([*command, "sh", "-c", "mount -t tmpfs -o size=1m tmpfs /mnt 2>/dev/null || "
                            "mount -t tmpfs -o size=1m tmpfs /tmp"], capture_output=True)
    return command if probe.returncode == 0 else None


@pytest.mark.slow
def test_full_disk_gives_one_line_in_ingest_search_and_submit_then_recovers(tmp_path, minumeco):
    command = _namespace()
    if command is None:
        pytest.skip("no mount namespace here (unshare refused): the /dev/full and SQLite tests below still run")
    docs = tmp_path / "docs"
    for folder, names in (("first", GUIDES), ("more", MORE)):
        (docs / folder).mkdir(parents=True)
        for name in names:
            shutil.copy(minumeco / "md" / name, docs / folder / name)
    mount = tmp_path / "disk"
    mount.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    script = (f"mount -t tmpfs -o size=64m tmpfs {mount} && exec {sys.executable} -c "
              f"{shlex_quote(textwrap.dedent(SCENARIO))} {mount} {docs}")
    done = subprocess.run([*command, "sh", "-c", script], capture_output=True, text=True, timeout=3000,
                          cwd=ROOT, env=env)
    assert done.returncode == 0, done.stderr[-3000:]
    steps = {s["step"]: s for s in map(json.loads, done.stdout.splitlines())}
    assert steps["ingest, almost full"]["free_kb"] < 1024, "the disk really was (almost) full"
    expected = f"Error: disk full in GUICHET_HOME ({mount / 'home'}): free space and re-run; nothing was lost"

    assert steps["first ingest"]["rc"] == 0 and steps["first question"]["rc"] == 0, steps["first ingest"]
    for step in ("ingest, almost full", "ingest, full", "search, full", "question, full"):
        result = steps[step]
        assert result["rc"] == 2, f"{step}: {result}"
        assert result["stderr"].strip().splitlines() == [expected], f"{step}: one line, not a traceback:\n" \
                                                                   f"{result['stderr'][-3000:]}"

    again = steps["ingest again"]
    assert again["rc"] == 0, again
    report = json.loads(again["stdout"])
    assert (report["files"], report["unchanged"], report["failed"]) == (1, 1, []), report
    # No warning: the vector store and the catalog agree again (see KnowledgeIndex.health).
    assert steps["search again"]["rc"] == 0 and steps["search again"]["stderr"] == "", steps["search again"]
    assert steps["question again"]["rc"] == 0, steps["question again"]
    questions = [q["text"] for q in json.loads(steps["questions kept"]["stdout"])]
    assert questions == ["Que faire des PC de 7 ans ?", "Puis-je exiger un label ?"], \
        f"nothing was lost and nothing half-written was kept: {questions}"


def shlex_quote(text: str) -> str:
    import shlex

    return shlex.quote(text)


def test_kernel_enospc_from_dev_full_is_a_full_disk(tmp_path):
    if not Path("/dev/full").exists():
        pytest.skip("no /dev/full on this system")
    with pytest.raises(OSError) as exc:
        with open("/dev/full", "wb") as out:
            out.write(b"x" * 4096)
            out.flush()
    assert is_disk_full(exc.value, tmp_path), f"ENOSPC from the kernel is a full disk: {exc.value!r}"
    assert not is_disk_full(FileNotFoundError(2, "No such file or directory"), tmp_path)


def test_sqlite_full_in_the_review_database_is_one_line_and_rolls_back(tmp_path, monkeypatch):
    from assistant.config import get_settings
    from assistant.compose import review_service

    monkeypatch.setenv("GUICHET_HOME", str(tmp_path))
    service = review_service(get_settings(), drafter=None)
    service.submit("Question d'avant ?")
    pages = sqlite3.connect(tmp_path / "review.sqlite").execute("PRAGMA page_count").fetchone()[0]

    @__import__("sqlalchemy").event.listens_for(service.engine, "connect")
    def _bounded(dbapi_connection, record):  # SQLite's own limit: writes past it fail with SQLITE_FULL
        dbapi_connection.execute(f"PRAGMA max_page_count = {pages}")

    service.engine.dispose()
    with pytest.raises(DiskFull) as exc:
        service.submit("Une très longue question ? " * 300)
    assert str(exc.value) == f"disk full in GUICHET_HOME ({tmp_path}): free space and re-run; nothing was lost"
    assert [q.text for q in service.list_questions()] == ["Question d'avant ?"], "nothing was lost or half-written"
