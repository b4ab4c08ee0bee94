"""Progress bars for long commands: rich on a terminal, nothing under --json/--quiet or in a pipe."""

from __future__ import annotations

import sys

from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn


def wants_bars(quiet: bool) -> bool:
    return not quiet and sys.stderr.isatty()


class IngestBars:
    """Shows files and embedding progress of an ingestion (see `assistant.ingest.pipeline.Progress`)."""

    def __init__(self) -> None:
        self._bars = Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                              TimeElapsedColumn(), transient=True)
        self._files = self._bars.add_task("Fichiers", total=None)
        self._embed = self._bars.add_task("Vecteurs", total=None, visible=False)

    def __enter__(self) -> "IngestBars":
        self._bars.start()
        return self

    def __exit__(self, *exc) -> None:
        self._bars.stop()

    def start(self, total_files: int) -> None:
        self._bars.update(self._files, total=total_files)

    def file_done(self, path: str) -> None:
        self._bars.advance(self._files)
        self._bars.update(self._embed, visible=False)

    def embedding(self, done: int, total: int) -> None:
        self._bars.update(self._embed, completed=done, total=total, visible=True)


class QuestionBar:
    """A bar over the questions of a fit on a terminal, nothing otherwise; entering gives the
    `advance()` callable to call once per question."""

    def __init__(self, total: int, quiet: bool) -> None:
        self._bars = Progress(transient=True) if wants_bars(quiet) else None
        self._total = total

    def __enter__(self):
        if self._bars is None:
            return lambda: None
        self._bars.start()
        task = self._bars.add_task("Questions", total=self._total)
        return lambda: self._bars.advance(task)

    def __exit__(self, *exc) -> None:
        if self._bars is not None:
            self._bars.stop()
