"""An ingestion killed in the middle of a file keeps the batches it stored (item 9).

A real `Ingestor` in another process, killed with SIGKILL once a few batches of a real
shared Markdown guide are embedded; the next run in this process must embed only the rest and
end with the same index as an uninterrupted run.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
from pathlib import Path

from assistant.config import get_settings
from assistant.compose import ingest_config, open_index
from assistant.ingest.pipeline import Ingestor

ROOT = Path(__file__).resolve().parents[2]
GUIDE = "guide-achats-responsables--fiches-pratiques--prestations-intellectuelles.md"
BATCH = 4
LOUD_INGEST = f"""
    import sys
    from pathlib import Path
    from assistant.config import get_settings
    from assistant.compose import ingest_config, open_index
    from assistant.ingest.pipeline import Ingestor

    class Loud:
        def start(self, total_files): pass
        def file_done(self, path): pass
        def embedding(self, done, total):
            print(done, total, flush=True)

    settings = get_settings(embed_batch_size={BATCH})
    Ingestor(open_index(settings), ingest_config(settings), progress=Loud()).ingest([Path(sys.argv[1])])
"""


def test_kill_9_in_the_middle_of_a_file_keeps_its_finished_batches(tmp_path, minumeco):
    folder = tmp_path / "docs"
    folder.mkdir()
    shutil.copy(minumeco / "md" / GUIDE, folder / GUIDE)
    child = subprocess.Popen([sys.executable, "-c", textwrap.dedent(LOUD_INGEST), str(folder)],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT)
    total = 0
    for line in child.stdout:
        done, total = map(int, line.split())
        if done >= 3 * BATCH:
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    assert child.returncode == -signal.SIGKILL, f"the ingest must be killed mid-file: {child.stderr.read()[-2000:]}"
    assert total > 6 * BATCH, f"the guide must need several more batches: {total} chunks"

    settings = get_settings(embed_batch_size=BATCH)
    index = open_index(settings)
    assert index.catalog.files() == {}, "the killed file is not recorded as done"
    kept = len(index.vectors.all_ids())
    assert 3 * BATCH <= kept < total, f"the finished batches are stored: {kept} of {total}"
    report = Ingestor(index, ingest_config(settings)).ingest([folder])
    assert (report.files, report.chunks) == (1, total), report.as_json()
    assert report.embedded == total - kept, \
        f"only what the killed run had not stored is embedded: {report.embedded}, expected {total - kept}"
    assert index.catalog.all_ids() == index.vectors.all_ids(), "both sides agree after the next run"

    clean = open_index(get_settings(home=tmp_path / "clean"))
    Ingestor(clean, ingest_config(get_settings())).ingest([folder])
    assert clean.catalog.all_ids() == index.catalog.all_ids(), "same index as a run never interrupted"
