"""Incremental ingestion with the vectors on a real `chroma run` and the catalog in PostgreSQL."""

from __future__ import annotations

import json
import multiprocessing
import os
import signal
import time
from contextlib import contextmanager

import psycopg
import pytest

from assistant.config import get_settings
from assistant.compose import index_config, ingest_config, open_index
from assistant.errors import GuichetError, IndexMismatch
from assistant.ingest.pipeline import Ingestor
from assistant.store.chroma import ChromaStore
from assistant.store.index import KnowledgeIndex, wipe
from server_helpers import SMALL_GUIDES, child_env, guichet, hold_ingest_lock

pytestmark = pytest.mark.server


def consistent(index: KnowledgeIndex) -> bool:
    return index.catalog.all_ids() == index.vectors.all_ids()


def catalog_rows(database_url: str) -> int:
    plain = database_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain) as conn:
        return conn.execute("SELECT count(*) FROM catalog_chunks").fetchone()[0]


def test_incremental_ingestion_on_the_servers(servers, docs, embedder, isolated_home):
    index = open_index(servers, embedder)
    first = Ingestor(index, ingest_config(servers)).ingest([docs])
    assert first.files == 3 and first.chunks > 3 and not first.failed, first.as_json()
    assert consistent(index), "catalog (lexical side) and Chroma server must hold the same chunks"
    assert catalog_rows(servers.database_url) == first.chunks, "the catalog lives in PostgreSQL"
    assert not (isolated_home / "catalog.sqlite").exists() and not (isolated_home / "chroma").exists(), \
        "nothing of the index may stay in the local data directory"

    again = Ingestor(index, ingest_config(servers)).ingest([docs])
    assert (again.files, again.unchanged, again.embedded) == (0, 3, 0), again.as_json()

    changed = docs / SMALL_GUIDES[0]
    changed.write_text(changed.read_text(encoding="utf-8")
                       + "\n\n## Ajout\n\nUn paragraphe nouveau sur la collecte des cartouches.\n", encoding="utf-8")
    (docs / SMALL_GUIDES[1]).unlink()
    kept = Ingestor(index, ingest_config(servers)).ingest([docs], prune=False)
    assert (kept.files, kept.unchanged, kept.removed) == (1, 1, 0), kept.as_json()
    assert kept.embedded < kept.chunks, "unchanged chunks of a changed file are not re-embedded"
    assert len(index.catalog.files()) == 3, "--no-prune keeps the vanished file"
    pruned = Ingestor(index, ingest_config(servers)).ingest([docs])
    assert (pruned.files, pruned.unchanged, pruned.removed) == (0, 2, 1), pruned.as_json()
    texts = [c.text for c in index.catalog.get_chunks(sorted(index.catalog.all_ids())).values()]
    assert any("cartouches" in t for t in texts), "the changed text is indexed"
    assert str((docs / SMALL_GUIDES[1]).resolve()) not in index.catalog.files(), "a deleted file's chunks go"
    assert consistent(index)

    lost = sorted(index.vectors.all_ids())[:2]
    index.vectors.delete(lost)
    Ingestor(index, ingest_config(servers)).ingest([docs])
    assert consistent(index), "vectors lost on the server are re-embedded from the catalog"
    index.close()


def test_interrupted_run_is_completed_by_the_next(servers, docs, embedder, monkeypatch):
    batched = servers.model_copy(update={"embed_batch_size": 2})
    index = open_index(batched, embedder)
    calls = {"n": 0}
    real = embedder.embed_passages

    def crash_on_third_batch(texts):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of a file
        return real(texts)

    monkeypatch.setattr(embedder, "embed_passages", crash_on_third_batch)
    with pytest.raises(KeyboardInterrupt):
        Ingestor(index, ingest_config(batched)).ingest([docs])
    assert len(index.catalog.files()) < 3, "the interrupted file is not recorded as done"
    assert index.vectors.all_ids() - index.catalog.all_ids(), "the crash left vectors the catalog does not own"
    monkeypatch.setattr(embedder, "embed_passages", real)
    report = Ingestor(index, ingest_config(batched)).ingest([docs])
    assert len(index.catalog.files()) == 3 and not report.failed, report.as_json()
    assert consistent(index), "after the next run both sides agree"
    index.close()


def test_cli_ingest_json_contract_on_the_servers(servers, docs, isolated_home):
    env = child_env(home=str(isolated_home / "cli"), chroma_url=servers.chroma_url,
                    database_url=servers.database_url)
    (docs / "vide.pdf").write_bytes(b"")
    result = guichet(["ingest", str(docs), "--json"], env)
    assert result.returncode == 1, f"a failed file gives exit code 1: {result.stderr}"
    payload = json.loads(result.stdout)
    assert set(payload) == {"files", "chunks", "unchanged", "removed", "failed"}, payload
    assert payload["files"] == 3 and [f["path"].endswith("vide.pdf") for f in payload["failed"]] == [True]
    (docs / "vide.pdf").unlink()
    result = guichet(["ingest", str(docs), "--json"], env)
    assert result.returncode == 0 and json.loads(result.stdout)["unchanged"] == 3, result.stdout + result.stderr


def test_other_embedder_is_refused_and_a_rebuild_clears_the_shared_index(servers, docs, embedder):
    index = open_index(servers, embedder)
    Ingestor(index, ingest_config(servers)).ingest([docs / SMALL_GUIDES[0]])
    minilm = servers.model_copy(update={"embedder": "minilm"})
    with pytest.raises(IndexMismatch, match=r"built with 'e5-small'.*'minilm'.*--rebuild"):
        open_index(minilm)
    with pytest.raises(IndexMismatch, match=r"built with 'e5-small'.*'minilm'.*--rebuild"):
        ChromaStore.server(servers.chroma_url, embedder="minilm")

    vector = embedder.embed_query("label")
    assert index.vectors.query(vector, k=3), "the index answers before the rebuild"
    wipe(index_config(servers))
    assert index.catalog.count() == 0 and index.catalog.files() == {}, "a rebuild empties the shared catalog"
    with pytest.raises(IndexMismatch, match="deleted"):
        index.vectors.query(vector, k=3)
    rebuilt = open_index(minilm)  # opens now: nothing recorded any more
    assert rebuilt.vectors.all_ids() == set() and rebuilt.catalog.get_meta("embedder").startswith("minilm, ")
    with pytest.raises(IndexMismatch, match=r"built with 'minilm'.*'e5-small'"):
        index.vectors.query(vector, k=3)  # an older process follows the new collection, and refuses it
    rebuilt.close()
    index.close()


def test_a_process_without_the_shared_catalog_is_refused(servers, docs, embedder, tmp_path):
    index = open_index(servers, embedder)
    Ingestor(index, ingest_config(servers)).ingest([docs / SMALL_GUIDES[0]])
    alone = servers.model_copy(update={"database_url": "", "home": tmp_path / "alone"})
    with pytest.raises(IndexMismatch, match="belongs to another catalog.*GUICHET_DATABASE_URL"):
        open_index(alone, embedder)  # its own SQLite catalog would delete the shared vectors
    assert index.vectors.all_ids() == index.catalog.all_ids() != set(), "the shared vectors are left alone"
    index.close()


@contextmanager
def another_process_holding_the_lock(servers):
    """A second process (spawned, not forked) holding the shared ingestion lock until the block ends."""
    context = multiprocessing.get_context("spawn")
    held, release = context.Event(), context.Event()
    other = context.Process(target=hold_ingest_lock, args=(_other_env(servers), held, release))
    other.start()
    try:
        assert held.wait(timeout=60), "the other process did not take the lock"
        yield other
    finally:
        release.set()
        other.join(timeout=60)


def _other_env(servers) -> dict[str, str]:
    return child_env(home=str(servers.home / "other"), chroma_url=servers.chroma_url,
                     database_url=servers.database_url)


def test_ingestion_lock_is_held_across_processes(servers, docs, embedder):
    with another_process_holding_the_lock(servers) as other:
        index = open_index(servers, embedder)
        with pytest.raises(GuichetError, match="another ingestion is running") as info:
            Ingestor(index, ingest_config(servers)).ingest([docs])
        assert "\n" not in str(info.value) and "postgresql" in str(info.value), str(info.value)
        assert index.catalog.count() == 0, "nothing was written while the other process held the lock"
    assert other.exitcode == 0
    report = Ingestor(index, ingest_config(servers)).ingest([docs / SMALL_GUIDES[0]])
    assert report.files == 1, "the lock is free once the other process let it go"

    context = multiprocessing.get_context("spawn")
    held, never = context.Event(), context.Event()
    crashed = context.Process(target=hold_ingest_lock, args=(_other_env(servers), held, never))
    crashed.start()
    assert held.wait(timeout=60), "the third process did not take the lock"
    os.kill(crashed.pid, signal.SIGKILL)  # an ingester that dies holding the lock
    crashed.join(timeout=30)
    deadline = time.monotonic() + 10
    while True:
        try:
            with index.writer():
                break
        except GuichetError:
            assert time.monotonic() < deadline, "the lock of a killed process must go with its connection"
            time.sleep(0.2)
    index.close()


def test_rebuild_while_another_process_holds_the_shared_lock_deletes_nothing(servers, docs, embedder):
    index = open_index(servers, embedder)
    Ingestor(index, ingest_config(servers)).ingest([docs / SMALL_GUIDES[0]])
    before = (index.catalog.all_ids(), index.vectors.all_ids())
    assert before[0] == before[1] != set()
    with another_process_holding_the_lock(servers):
        result = guichet(["ingest", "--rebuild", str(docs), "-q"], child_env(
            home=str(servers.home / "cli"), chroma_url=servers.chroma_url, database_url=servers.database_url))
        assert result.returncode == 2, result.stdout + result.stderr
        assert result.stderr.count("\n") == 1 and "another ingestion is running" in result.stderr, result.stderr
        assert (index.catalog.all_ids(), index.vectors.all_ids()) == before, \
            "a rebuild refused by the shared lock must delete neither the catalog nor the Chroma collection"
    index.close()


def test_settings_pick_the_server_backends(servers):
    settings = get_settings()
    index = open_index(settings)
    assert index.catalog.dialect == "postgresql" and isinstance(index.vectors, ChromaStore)
    assert index.vectors.url == servers.chroma_url
    index.close()
