"""First start of the web app: the bundled sample corpus is indexed when the index is empty.

Example:
    >>> first_start(desk, sample_corpus())    # doctest: +SKIP
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path

from assistant.errors import printable
from assistant.progress import IngestBars
from assistant.ui.desk import Desk

#: Folders of the bundled sample corpus, ingested on first start when the index is empty.
SAMPLE_CORPUS = ("guides", "answers", "resources", "peers")


def sample_corpus() -> list[Path]:
    """The bundled sample corpus folders (empty when the package was installed without them)."""
    root = Path(__file__).resolve().parents[2] / "corpus"
    return [root / name for name in SAMPLE_CORPUS if (root / name).is_dir()]


class _Lines:
    """Progress as plain lines, for a console that is not a terminal (logs, CI)."""

    def __init__(self, out) -> None:
        self.out, self.total, self.done = out, 0, 0

    def start(self, total_files: int) -> None:
        self.total = total_files
        print(f"  {total_files} fichier(s) à indexer", file=self.out, flush=True)

    def file_done(self, path: str) -> None:
        self.done += 1
        print(f"  [{self.done}/{self.total}] {Path(path).name}", file=self.out, flush=True)

    def embedding(self, done: int, total: int) -> None:
        pass


def first_start(desk: Desk, paths: Sequence[Path], out=None):
    """Index `paths` when the index is empty (first start), with progress on the console.

    Returns:
        The ingestion report, or None when the index already had documents.
    """
    out = out or sys.stderr
    if desk.assistant.index.catalog.count() > 0:
        return None
    if not paths:
        print("Index vide et aucun corpus d'exemple trouvé : lancez 'guichet ingest DOSSIER'.", file=out)
        return None
    print("Premier démarrage : indexation du corpus d'exemple (une seule fois)…", file=out, flush=True)
    bars = IngestBars() if out.isatty() else None
    with bars or nullcontext():
        report = desk.assistant.ingest(list(paths), progress=bars or _Lines(out))
    print(f"Index prêt : {report.files} fichier(s), {report.chunks} passage(s), {len(report.failed)} échec(s).",
          file=out, flush=True)
    for path, error in report.failed:
        print(f"  ÉCHEC {printable(path)} : {printable(error)}", file=out)
    return report
