"""Hybrid search over the shared index: BM25 from the PostgreSQL catalog, vectors from Chroma."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from assistant.compose import open_assistant
from assistant.retrieval.filters import Filters
from server_helpers import GUIDES, child_env, guichet

pytestmark = pytest.mark.server


def names(passages) -> list[str]:
    return [Path(p.chunk.source).name for p in passages]


def test_hybrid_search_on_the_servers(servers, docs):
    assistant = open_assistant(servers)
    report = assistant.ingest([docs])
    assert report.files == 3 and not report.failed, report.as_json()
    found = assistant.search("Puis-je exiger un label écologique dans mon marché ?", k=3)
    assert names(found)[0] == "exiger-un-label.md", names(found)
    assert found[0].lexical_rank is not None and found[0].dense_rank is not None, \
        "both the BM25 list (catalog) and the dense list (Chroma server) contributed"
    dense = open_assistant(servers, config="dense").search("que faire des ordinateurs en fin de vie ?", k=3)
    assert dense and all(p.dense_rank is not None for p in dense), "dense mode reads the Chroma server"
    assert names(assistant.search("don de matériel informatique", k=3,
                                  filters=Filters(kinds=("guide",))))[0] == "don-materiel-informatique.md"
    assert assistant.search("don de matériel informatique", k=3, filters=Filters(kinds=("answer",))) == [], \
        "a filter no chunk passes gives nothing"


def test_ingestion_by_another_process_reaches_this_ones_search(servers, docs, tmp_path):
    assistant = open_assistant(servers)
    assistant.ingest([docs])
    question = "Comment noter l'indice de réparabilité dans les critères ?"
    before = assistant.search(question, k=3)
    assert "indice-reparabilite.md" not in names(before)

    extra = tmp_path / "extra"
    extra.mkdir()
    shutil.copy(GUIDES / "indice-reparabilite.md", extra)
    # another app process, on another machine: its own data directory, the same servers
    env = child_env(home=str(tmp_path / "machine-b"), chroma_url=servers.chroma_url,
                    database_url=servers.database_url)
    result = guichet(["ingest", str(extra), "--json"], env)
    assert result.returncode == 0 and json.loads(result.stdout)["files"] == 1, result.stdout + result.stderr

    after = assistant.search(question, k=3)
    assert names(after)[0] == "indice-reparabilite.md", f"this process sees the other's ingestion: {names(after)}"
    assert after[0].lexical_rank is not None, "its BM25 index was rebuilt from the shared catalog"

    result = guichet(["search", question, "-k", "1", "--json"], env)
    assert result.returncode == 0, result.stderr
    assert "indice-reparabilite.md" in result.stdout, "and the other process finds it too"
