"""The databases an older guichet-vert made, restored for the upgrade tests.

`tests/fixtures/old-main` holds, as SQL text, what the commit in its MADE_WITH file wrote through
its real CLI (see its make.py): an index's catalog of three bundled files and a review database
with four questions (sent, rejected, drafted follow-up, received after a failed draft), on
SQLite and in one PostgreSQL database. `snapshot` reads them with plain SQL before the new code
touches them; `assert_upgraded` opens them with the new code and checks that nothing was lost.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import create_engine, text

FIXTURES = Path(__file__).resolve().parent / "fixtures" / "old-main"
MADE_WITH = (FIXTURES / "MADE_WITH").read_text().strip()
#: The advisor's password in the fixtures (see make.py).
PASSWORD = "correct horse battery"


def restore_sqlite(home: Path) -> None:
    """GUICHET_HOME/catalog.sqlite and review.sqlite as the older version left them."""
    home.mkdir(parents=True, exist_ok=True)
    for name in ("catalog", "review"):
        conn = sqlite3.connect(home / f"{name}.sqlite")
        try:
            conn.executescript((FIXTURES / "sqlite" / f"{name}.sql").read_text(encoding="utf-8"))
        finally:
            conn.close()


def restore_postgresql(url: str) -> None:
    """The older version's shared database (review and catalog tables) into the empty one at `url`."""
    import psycopg

    with psycopg.connect(url.replace("postgresql+psycopg://", "postgresql://"), autocommit=True) as conn:
        conn.execute((FIXTURES / "postgresql.sql").read_text(encoding="utf-8"))


@dataclass(frozen=True)
class Snapshot:
    """What the older version stored, read with plain SQL."""

    questions: list[tuple[int, str, str]]  # id, status, text
    tokens: dict[int, str]  # question id -> its thread's token
    answers: dict[int, str]  # question id -> validated text
    review_versions: list[int]
    files: dict[str, str]  # path -> sha256
    chunks: int
    meta: dict[str, str]


def snapshot(review_url: str, catalog_url: str, prefix: str) -> Snapshot:
    """Read the restored databases without guichet-vert's code."""
    review, catalog = create_engine(review_url), create_engine(catalog_url)
    try:
        with review.connect() as conn:
            questions = [tuple(r) for r in conn.execute(text("SELECT id, status, text FROM questions ORDER BY id"))]
            tokens = dict(conn.execute(text(
                "SELECT q.id, t.token FROM questions q JOIN threads t ON t.id = q.thread_id")).all())
            answers = dict(conn.execute(text("SELECT question_id, text FROM answers")).all())
            versions = list(conn.scalars(text("SELECT version FROM schema_version ORDER BY version")))
        with catalog.connect() as conn:
            files = dict(conn.execute(text(f"SELECT path, sha256 FROM {prefix}files")).all())
            chunks = conn.scalar(text(f"SELECT count(*) FROM {prefix}chunks"))
            meta = dict(conn.execute(text(f"SELECT key, value FROM {prefix}meta")).all())
    finally:
        review.dispose()
        catalog.dispose()
    return Snapshot(questions, tokens, answers, versions, files, chunks, meta)


def guichet(args: list[str], env: dict[str, str]) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], env=env, capture_output=True, text=True,
                          timeout=600)


def assert_upgraded(before: Snapshot, home: Path, empty: Path) -> None:
    """Open the older databases with this code (settings from the environment) and check them.

    Args:
        before: What the older version stored.
        home: GUICHET_HOME.
        empty: An empty folder: ingesting it re-embeds the vectors the fixtures do not keep.
    """
    from assistant.compose import index_config, load_settings, review_service
    from assistant.review.migrations import LATEST
    from assistant.review.tokens import digest
    from assistant.store.catalog import open_catalog

    assert before.questions and before.meta["schema"] == "1", f"not the fixture of {MADE_WITH}: {before}"
    settings = load_settings()
    service = review_service(settings)
    try:
        assert service.schema_version == LATEST
        listed = [(q.id, q.status, q.text) for q in service.list_questions()]
        assert listed == before.questions, f"questions after the upgrade: {listed}, before: {before.questions}"
        for qid, answer in before.answers.items():
            assert service.show(qid).answer.text == answer, f"the answer to question {qid} survives"
            thread = service.thread(before.tokens[qid])
            assert [m.answer for m in thread.messages if m.question_id == qid] == [answer], \
                "the buyer still reads the answer through the link they were given"
        assert service.show(4).draft_error, "the failed draft's error is still shown to advisors"
        assert service.authenticate("alice", PASSWORD).name == "alice", "the advisor still logs in"
        with service.engine.connect() as conn:
            versions = list(conn.scalars(text("SELECT version FROM schema_version ORDER BY version")))
            stored_tokens = set(conn.scalars(text("SELECT token FROM threads")))
        assert stored_tokens == {digest(t) for t in before.tokens.values()}, "tokens are stored as their digest"
        assert versions == list(range(1, LATEST + 1)) and versions[:len(before.review_versions)] == \
            before.review_versions, f"each migration above {before.review_versions[-1]} ran once: {versions}"
    finally:
        service.close()

    catalog = open_catalog(index_config(settings))
    try:
        assert catalog.files() == before.files, "the index keeps its files (no rebuild)"
        assert catalog.count() == before.chunks
        assert (catalog.catalog_id, catalog.generation, catalog.get_meta("embedder")) == (
            before.meta["catalog_id"], int(before.meta["generation"]), before.meta["embedder"])
    finally:
        catalog.close()

    env = {**os.environ, "GUICHET_HOME": str(home)}
    ingest = guichet(["ingest", str(empty), "--json"], env)
    assert ingest.returncode == 0 and json.loads(ingest.stdout)["failed"] == [], ingest.stderr
    search = guichet(["search", "imposer un label dans un marché", "-k", "3", "--json"], env)
    assert search.returncode == 0, search.stderr
    assert "vector store holds" not in search.stderr, f"the vectors were re-embedded from the catalog: {search.stderr}"
    hits = json.loads(search.stdout)
    assert hits and Path(hits[0]["source"]).name == "exiger-un-label.md", hits
    assert hits[0]["source"] in before.files, "search finds the chunks the older version indexed"
