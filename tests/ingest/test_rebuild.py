"""`guichet ingest --rebuild` takes the ingestion lock before it deletes anything."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap

from assistant.config import get_settings
from assistant.compose import index_config, ingest_config, open_index
from assistant.ingest.pipeline import Ingestor

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
#: A real ingestion in another process, paused (holding the lock) until its stdin gets a line.
PAUSED_INGEST = """
    import json, sys
    from pathlib import Path
    from assistant.config import get_settings
    from assistant.compose import ingest_config, open_index
    from assistant.ingest.pipeline import Ingestor

    class Paused:
        def start(self, total_files):
            print("ingesting", flush=True)
            sys.stdin.readline()
        def file_done(self, path): pass
        def embedding(self, done, total): pass

    report = Ingestor(open_index(get_settings()), ingest_config(get_settings()), progress=Paused()).ingest([Path(sys.argv[1])])
    print(json.dumps(report.as_json()), flush=True)
"""


def _snapshot() -> tuple[dict, set, set]:
    index = open_index(get_settings())
    try:
        return index.catalog.files(), index.catalog.all_ids(), index.vectors.all_ids()
    finally:
        index.close()


def _guichet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_rebuild_during_another_ingestion_changes_nothing(folder):
    Ingestor(open_index(get_settings()), ingest_config(get_settings())).ingest([folder])
    files, chunks, vectors = _snapshot()
    assert len(files) == 3 and chunks == vectors != set(), "the starting index is complete"
    (folder / "ajout.md").write_text("# Ajout\n\nUn guide de plus sur le réemploi des imprimantes.\n",
                                     encoding="utf-8")

    other = subprocess.Popen([sys.executable, "-c", textwrap.dedent(PAUSED_INGEST), str(folder)],
                             stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, cwd=ROOT)
    try:
        assert other.stdout.readline().strip() == "ingesting", other.stderr.read()
        rebuild = _guichet("ingest", "--rebuild", str(folder), "-q")
        assert rebuild.returncode == 2, f"the rebuild must be refused: {rebuild.returncode} {rebuild.stderr}"
        lines = rebuild.stderr.strip().splitlines()
        assert len(lines) == 1 and "another ingestion is running" in lines[0], rebuild.stderr
        assert _snapshot() == (files, chunks, vectors), "a refused rebuild must delete nothing"
    finally:
        out, err = other.communicate("\n", timeout=300)
    assert other.returncode == 0, f"the running ingestion must finish normally:\n{err[-2000:]}"
    report = json.loads(out.strip().splitlines()[-1])
    assert (report["files"], report["unchanged"], report["failed"]) == (1, 3, []), report

    files, chunks, vectors = _snapshot()
    assert len(files) == 4 and chunks == vectors, "the other ingestion's work is all there"
    rebuild = _guichet("ingest", "--rebuild", str(folder), "--json")
    assert rebuild.returncode == 0, rebuild.stderr
    assert json.loads(rebuild.stdout)["files"] == 4, "with the lock free, the rebuild re-indexes everything"
    assert _snapshot()[1] == chunks, "the rebuilt index holds the same chunks"


def test_a_newer_catalog_gets_upgrade_advice_and_a_rebuild_never_deletes_it(folder):
    import sqlite3

    Ingestor(open_index(get_settings()), ingest_config(get_settings())).ingest([folder])
    catalog = index_config(get_settings()).catalog_path
    with sqlite3.connect(catalog) as conn:
        conn.execute("UPDATE meta SET value = '2' WHERE key = 'schema'")  # what a newer version would write
        chunks = conn.execute("SELECT count(*) FROM chunks").fetchone()[0]
    for args in (["ingest", str(folder), "-q"], ["search", "réemploi"], ["ingest", "--rebuild", str(folder), "-q"]):
        done = _guichet(*args)
        assert done.returncode == 2, f"{args}: {done.returncode} {done.stdout} {done.stderr}"
        (line,) = done.stderr.strip().splitlines()
        assert "written by a newer guichet-vert (schema 2, this one reads 1)" in line, line
        assert "upgrade guichet-vert" in line and "run 'guichet ingest --rebuild" not in line, \
            f"{args}: never advise the rebuild that would destroy a newer index: {line}"
    assert "nothing was deleted" in line, line
    with sqlite3.connect(catalog) as conn:
        assert conn.execute("SELECT count(*) FROM chunks").fetchone()[0] == chunks, "the newer catalog is intact"
