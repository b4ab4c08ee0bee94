"""A vector store that lost its vectors is said so, and its repair is reported (item 8).

The Chroma folder of a real index is deleted, as an operator's `rm -r` or a bad restore would.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

from assistant.config import get_settings
from assistant.compose import index_config, ingest_config, open_index
from assistant.ingest.pipeline import Ingestor

ROOT = Path(__file__).resolve().parents[2]


def _guichet(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], capture_output=True, text=True,
                          timeout=300, cwd=ROOT)


def test_deleted_chroma_folder_is_warned_in_search_and_repaired_by_ingest(folder):
    index = open_index(get_settings())
    chunks = Ingestor(index, ingest_config(get_settings())).ingest([folder]).chunks
    index.close()
    shutil.rmtree(index_config(get_settings()).chroma_path)

    search = _guichet("search", "réemploi", "-k", "2")
    assert search.returncode == 0 and "1." in search.stdout, "keyword search still answers"
    (warning,) = search.stderr.strip().splitlines()
    assert warning == (f"Warning: the vector store holds 0 vectors for the catalog's {chunks} chunks (deleted or "
                       "damaged?): search is keyword-only for the others until 'guichet ingest PATH...' "
                       "re-embeds them"), warning

    repair = _guichet("ingest", str(folder), "-q")
    assert repair.returncode == 0, repair.stderr
    assert f"Repaired the vector store: {chunks} vector(s) missing from it were re-embedded" in repair.stderr, \
        f"the repair must be reported, not '0 indexed, 3 unchanged' alone: {repair.stdout} {repair.stderr}"
    assert "0 file(s) indexed" in repair.stdout and "3 unchanged" in repair.stdout, repair.stdout

    again = _guichet("search", "réemploi", "-k", "2")
    assert again.returncode == 0 and again.stderr.strip() == "", f"no warning once repaired: {again.stderr}"
    # Read back in a new process, as the app's next start would: this process's Chroma client
    # still holds the folder deleted above (chromadb caches one client per path).
    reopened = subprocess.run([sys.executable, "-c", "from assistant.compose import load_settings, open_index; "
                               "index = open_index(load_settings()); "
                               "print(index.health().problem, index.vectors.count())"],
                              capture_output=True, text=True, timeout=300, cwd=ROOT)
    assert reopened.stdout.split() == ["None", str(chunks)], reopened.stdout + reopened.stderr
