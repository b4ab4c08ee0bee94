"""Symbolic links in ingested folders: loops, links out of the folders, links that go (item 6).

Real links on the real file system; ingestion with real Chroma and the bundled embedder.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant.config import get_settings
from assistant.compose import ingest_config, open_index
from assistant.ingest.pipeline import Ingestor
from assistant.store.index import KnowledgeIndex

ROOT = Path(__file__).resolve().parents[2]
SECRET = "Mot de passe du serveur : zanzibar-4417."


@pytest.fixture
def layout(tmp_path):
    """docs/ with one real guide; outside/ with a file and a folder that docs/ must not leak."""
    docs, outside = tmp_path / "docs", tmp_path / "outside"
    (outside / "dossier").mkdir(parents=True)
    docs.mkdir()
    (docs / "guide.md").write_text("# Guide\n\nLe réemploi des ordinateurs passe avant le recyclage.\n",
                                   encoding="utf-8")
    (outside / "secret.txt").write_text(SECRET + "\n", encoding="utf-8")
    (outside / "dossier" / "note.md").write_text("# Note\n\n" + SECRET + "\n", encoding="utf-8")
    return docs, outside


def _texts(index: KnowledgeIndex) -> list[str]:
    return [c.text for c in index.catalog.get_chunks(sorted(index.catalog.all_ids())).values()]


def test_symlink_loops_are_failed_files_and_the_rest_is_indexed(layout):
    docs, _ = layout
    os.symlink("b.md", docs / "a.md")
    os.symlink("a.md", docs / "b.md")
    os.symlink("boucle.txt", docs / "boucle.txt")
    done = subprocess.run([sys.executable, "-m", "assistant", "ingest", str(docs), "--json", "-q"],
                          capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert "Traceback" not in done.stderr, done.stderr
    assert done.returncode == 1, f"a failed file gives exit code 1: {done.stderr}"
    report = json.loads(done.stdout)
    assert report["files"] == 1, f"the real guide is indexed: {report}"
    failed = {Path(f["path"]).name: f["error"] for f in report["failed"]}
    assert set(failed) == {"a.md", "b.md", "boucle.txt"}, failed
    assert all(e.startswith("symbolic link loop") for e in failed.values()), failed


def test_a_link_out_of_the_folder_is_not_followed_by_default(layout):
    docs, outside = layout
    os.symlink(outside / "secret.txt", docs / "x.txt")
    os.symlink(outside / "dossier", docs / "partage")
    if Path("/etc/os-release").is_file():
        os.symlink("/etc/os-release", docs / "os-release.txt")  # the issue's own example
    index = open_index(get_settings())
    report = Ingestor(index, ingest_config(get_settings())).ingest([docs])
    assert report.files == 1, report.as_json()
    failed = {Path(p).name: e for p, e in report.failed}
    assert {"x.txt", "partage"} <= set(failed), failed
    assert "outside the folders given" in failed["x.txt"] and "--follow-links" in failed["x.txt"], failed
    assert "a folder outside" in failed["partage"], failed
    assert not any("zanzibar" in t for t in _texts(index)), "nothing from outside the folder may be indexed"
    assert all(Path(p).is_relative_to(docs.resolve()) for p in index.catalog.files()), index.catalog.files()


def test_a_named_link_and_links_inside_the_folder_are_read_once(layout, tmp_path):
    docs, outside = layout
    os.symlink("guide.md", docs / "alias.md")
    os.symlink(outside / "secret.txt", tmp_path / "lien.txt")
    index = open_index(get_settings())
    report = Ingestor(index, ingest_config(get_settings())).ingest([docs, tmp_path / "lien.txt"])
    assert (report.files, report.failed) == (2, []), report.as_json()
    assert set(index.catalog.files()) == {str((docs / "guide.md").resolve()), str((outside / "secret.txt").resolve())}


def test_followed_links_are_pruned_when_they_go(layout):
    docs, outside = layout
    link, folder_link = docs / "x.txt", docs / "partage"
    os.symlink(outside / "secret.txt", link)
    os.symlink(outside / "dossier", folder_link)
    index = open_index(get_settings())
    report = Ingestor(index, ingest_config(get_settings())).ingest([docs], follow_links=True)
    assert (report.files, report.failed) == (3, []), report.as_json()
    assert sum("zanzibar" in t for t in _texts(index)) == 2, "--follow-links indexes what the links point to"
    assert str(link) in {str(Path(p)) for p in index.catalog.files()} or \
        str(docs.resolve() / "x.txt") in index.catalog.files(), index.catalog.files()

    link.unlink()
    report = Ingestor(index, ingest_config(get_settings())).ingest([docs], follow_links=True)
    assert report.removed == 1, f"what was indexed through a link that is gone is pruned: {report.as_json()}"
    report = Ingestor(index, ingest_config(get_settings())).ingest([docs])
    assert report.removed == 1, f"a link no longer followed is pruned too: {report.as_json()}"
    assert not any("zanzibar" in t for t in _texts(index)), _texts(index)
    assert (outside / "secret.txt").exists(), "pruning forgets the index entry, never the file"
