"""Incremental ingestion on real files, real Chroma and the real bundled embedder."""

import json
from pathlib import Path

import pytest

from assistant.config import get_settings
from assistant.compose import ingest_config, open_index
from assistant.ingest.pipeline import Ingestor
from assistant.store.index import KnowledgeIndex



def files(folder):
    """The folder's three guides, in name order."""
    return sorted(folder.iterdir())


def consistent(index: KnowledgeIndex) -> bool:
    return index.catalog.all_ids() == index.vectors.all_ids()


def test_first_run_then_unchanged_rerun_embeds_nothing(folder):
    index = open_index(get_settings())
    first = Ingestor(index, ingest_config(get_settings())).ingest([folder])
    assert first.files == 3 and first.chunks > 3 and not first.failed, first.as_json()
    assert consistent(index), "catalog (lexical side) and vector store must hold the same chunks"
    again = Ingestor(index, ingest_config(get_settings())).ingest([folder])
    assert (again.files, again.unchanged, again.embedded) == (0, 3, 0), again.as_json()


def test_changed_file_replaces_its_chunks_and_deleted_file_is_pruned(folder):
    index = open_index(get_settings())
    Ingestor(index, ingest_config(get_settings())).ingest([folder])
    changed = files(folder)[0]
    changed.write_text(changed.read_text(encoding="utf-8") + "\n\n## Ajout\n\nUn paragraphe nouveau sur la collecte.\n",
                       encoding="utf-8")
    gone = files(folder)[1]
    gone.unlink()
    report = Ingestor(index, ingest_config(get_settings())).ingest([folder])
    assert (report.files, report.unchanged, report.removed) == (1, 1, 1), report.as_json()
    assert report.embedded < report.chunks, "unchanged chunks of a changed file are not re-embedded"
    sources = {c.source for c in index.catalog.get_chunks(sorted(index.catalog.all_ids())).values()}
    assert str(gone.resolve()) not in sources, "a deleted file's chunks must go"
    assert any("collecte" in c.text for c in index.catalog.get_chunks(sorted(index.catalog.all_ids())).values())
    assert consistent(index)


def test_no_prune_keeps_vanished_files(folder):
    index = open_index(get_settings())
    Ingestor(index, ingest_config(get_settings())).ingest([folder])
    files(folder)[2].unlink()
    report = Ingestor(index, ingest_config(get_settings())).ingest([folder], prune=False)
    assert report.removed == 0 and len(index.catalog.files()) == 3


def test_interrupted_run_is_completed_by_the_next(folder, monkeypatch):
    batched = get_settings(embed_batch_size=2)
    index = open_index(batched)
    calls = {"n": 0}
    real = index.embedder.embed_passages

    def crash_on_second_batch(texts):
        calls["n"] += 1
        if calls["n"] == 2:
            raise KeyboardInterrupt  # what Ctrl-C does in the middle of a file
        return real(texts)

    monkeypatch.setattr(index.embedder, "embed_passages", crash_on_second_batch)
    with pytest.raises(KeyboardInterrupt):
        Ingestor(index, ingest_config(batched)).ingest([folder])
    half = set(index.catalog.files())
    assert len(half) < 3, "the interrupted file is not recorded as done"
    monkeypatch.setattr(index.embedder, "embed_passages", real)
    report = Ingestor(index, ingest_config(batched)).ingest([folder])
    assert len(index.catalog.files()) == 3 and not report.failed
    assert consistent(index), "after the next run both sides agree"


def test_vectors_lost_are_re_embedded_from_the_catalog(folder):
    index = open_index(get_settings())
    Ingestor(index, ingest_config(get_settings())).ingest([folder])
    some = sorted(index.vectors.all_ids())[:2]
    index.vectors.delete(some)
    Ingestor(index, ingest_config(get_settings())).ingest([folder])
    assert consistent(index)


def test_cli_json_contract_and_exit_codes(folder, tmp_path):
    from click.testing import CliRunner

    from assistant.cli import cli
    from assistant.cli import commands  # noqa: F401

    (folder / "vide.pdf").write_bytes(b"")
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--json"])
    payload = json.loads(result.output)
    assert result.exit_code == 1, "a failed file gives exit code 1"
    assert set(payload) == {"files", "chunks", "unchanged", "removed", "failed"}
    assert payload["files"] == 3 and [f["path"].endswith("vide.pdf") for f in payload["failed"]] == [True]
    assert "\n" not in payload["failed"][0]["error"]
    (folder / "vide.pdf").unlink()
    result = CliRunner().invoke(cli, ["ingest", str(folder), "--json"])
    assert result.exit_code == 0 and json.loads(result.output)["unchanged"] == 3


def test_other_embedder_on_existing_index_is_refused(folder, monkeypatch):
    from click.testing import CliRunner

    from assistant.cli import cli
    from assistant.cli import commands  # noqa: F401

    assert CliRunner().invoke(cli, ["ingest", str(folder), "-q"]).exit_code == 0
    monkeypatch.setenv("GUICHET_EMBEDDER", "minilm")
    result = CliRunner().invoke(cli, ["ingest", str(folder), "-q"])
    assert result.exit_code == 2 and "--rebuild" in result.output, result.output
    result = CliRunner().invoke(cli, ["ingest", "--rebuild", str(folder), "-q"])
    assert result.exit_code == 0, result.output


def test_new_chunk_size_rechunks_unchanged_files(folder):
    index = open_index(get_settings())
    Ingestor(index, ingest_config(get_settings())).ingest([folder])
    before = index.catalog.all_ids()
    index.close()
    smaller = get_settings(chunk_size=400, chunk_overlap=50)
    index = open_index(smaller)
    report = Ingestor(index, ingest_config(smaller)).ingest([folder])
    assert report.files == 3 and report.unchanged == 0, "a chunking change re-chunks every file"
    assert index.catalog.all_ids() != before and consistent(index)
    assert Ingestor(index, ingest_config(smaller)).ingest([folder]).unchanged == 3, "then the files are unchanged again"


def test_a_file_named_twice_is_ingested_once(folder):
    index = open_index(get_settings())
    report = Ingestor(index, ingest_config(get_settings())).ingest([folder, files(folder)[0]])
    assert report.files == 3 and report.unchanged == 0, report.as_json()


def test_a_file_name_with_a_newline_keeps_its_error_on_one_line(folder):
    from click.testing import CliRunner

    from assistant.cli import cli
    from assistant.cli import commands  # noqa: F401

    (folder / "rapport\nfinal.pdf").write_bytes(b"")
    (folder / "fausse\rligne.md").write_bytes(b"\x00\x01binaire")
    result = CliRunner().invoke(cli, ["ingest", str(folder)])
    assert result.exit_code == 1, result.output
    failed = result.stderr.splitlines()
    assert len(failed) == 2, f"one line per failed file: {result.stderr!r}"
    assert failed[0].startswith("  FAILED ") and failed[0].endswith("fausse\\rligne.md: binary file, not text"), failed
    assert failed[1].startswith("  FAILED ") and failed[1].endswith("rapport\\nfinal.pdf: empty file (0 bytes)"), failed
    payload = json.loads(CliRunner().invoke(cli, ["ingest", str(folder), "--json"]).output)
    assert sorted(Path(f["path"]).name for f in payload["failed"]) == ["fausse\rligne.md", "rapport\nfinal.pdf"], \
        "JSON keeps the real names (escaped by JSON itself)"
