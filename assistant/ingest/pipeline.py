"""Incremental, idempotent ingestion of files and folders into the knowledge index.

A file is processed in three steps: load and chunk; embed and store the vectors of chunks the
vector store does not hold yet; then write the file's row and chunks to the catalog in one
transaction. A crash or Ctrl-C at any point leaves the previous catalog state, which the next
run completes; `sync` removes vectors that no catalog chunk owns and re-embeds missing ones.
"""

from __future__ import annotations

import hashlib
import os
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol, Sequence

from assistant.embeddings.windows import embed_chunks
from assistant.errors import IngestError
from assistant.ingest.chunking import CHUNKER_VERSION, chunk_document
from assistant.ingest.loading import SUPPORTED, load_document
from assistant.records import Chunk
from assistant.text.analysis import ANALYZER_VERSION, FrenchAnalyzer
from assistant.store.index import KnowledgeIndex


@dataclass
class IngestReport:
    """What one ingestion did; `as_json()` is the CLI contract of `guichet ingest --json`."""

    files: int = 0
    chunks: int = 0
    unchanged: int = 0
    removed: int = 0
    skipped: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    embedded: int = 0
    pages: int = 0

    def as_json(self) -> dict:
        return {"files": self.files, "chunks": self.chunks, "unchanged": self.unchanged,
                "removed": self.removed,
                "failed": [{"path": p, "error": e} for p, e in self.failed]}


class Progress(Protocol):
    """Receives progress events; the CLI shows them as bars."""

    def start(self, total_files: int) -> None: ...
    def file_done(self, path: str) -> None: ...
    def embedding(self, done: int, total: int) -> None: ...


class _Silent:
    def start(self, total_files: int) -> None: pass
    def file_done(self, path: str) -> None: pass
    def embedding(self, done: int, total: int) -> None: pass


def discover(paths: Iterable[Path]) -> tuple[list[Path], list[Path], list[Path], list[tuple[str, str]]]:
    """Expand the arguments into files to ingest.

    Returns:
        (files, folders, skipped, missing): supported files (sorted, each once, hidden ones left out),
        the folders given, files of unsupported types found inside folders, and arguments
        that do not exist.
    """
    files, folders, skipped, missing = [], [], [], []
    for path in paths:
        if path.is_dir():
            folders.append(path.resolve())
            for root, dirs, names in os.walk(path):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in sorted(names):
                    if name.startswith("."):
                        continue
                    child = Path(root) / name
                    (files if child.suffix.lower() in SUPPORTED else skipped).append(child)
        elif path.exists() or path.is_symlink():
            files.append(path)
        else:
            missing.append((str(path), "no such file or folder"))
    unique = list({f.resolve(): f for f in files}.values())  # a file named twice counts once
    return unique, folders, skipped, missing


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


class Ingestor:
    """Brings the index in line with files on disk.

    Args:
        index: The knowledge index to fill.
        progress: Receives progress events (silent by default).

    Example:
        >>> report = Ingestor(KnowledgeIndex(get_settings())).ingest([Path("corpus")])  # doctest: +SKIP
        >>> report.as_json()["failed"]                                                  # doctest: +SKIP
        []
    """

    def __init__(self, index: KnowledgeIndex, progress: Progress | None = None) -> None:
        self.index = index
        self.settings = index.settings
        self.progress = progress or _Silent()
        self.analyzer = FrenchAnalyzer(self.settings.synonyms_file)

    def ingest(self, paths: Sequence[Path], prune: bool | None = None) -> IngestReport:
        """Ingest files and folders; a bad file is reported and never stops the others."""
        prune = self.settings.prune if prune is None else prune
        report = IngestReport()
        files, folders, report.skipped, report.failed = discover(paths)
        chunking = f"{CHUNKER_VERSION}:{self.settings.chunk_size}:{self.settings.chunk_overlap}"
        with self.index.writer():
            self.sync()
            rechunk = self.index.catalog.get_meta("chunking") not in (None, chunking)
            known = {} if rechunk else self.index.catalog.files()  # read once, not once per file
            present = {str(f.resolve()) for f in files}
            self.progress.start(len(files))
            for path in files:
                self._ingest_file(path, report, known.get(str(path.resolve())))
                self.progress.file_done(str(path))
            if prune:
                self._prune(folders, present, report)
            if not rechunk or set(self.index.catalog.files()) <= present:
                self.index.catalog.set_meta("chunking", chunking)
        return report

    def sync(self) -> None:
        """Make the vector store hold exactly the catalog's chunks (after a crash or an upgrade)."""
        catalog, vectors = self.index.catalog, self.index.vectors
        if catalog.get_meta("analyzer") != ANALYZER_VERSION:
            catalog.retokenize(self.analyzer.analyze)
            catalog.set_meta("analyzer", ANALYZER_VERSION)
        wanted, stored = catalog.all_ids(), vectors.all_ids()
        orphans = sorted(stored - wanted)
        if orphans:
            vectors.delete(orphans)
        missing = sorted(wanted - stored)
        if missing:
            self._store_vectors(list(catalog.get_chunks(missing).values()))

    def _ingest_file(self, path: Path, report: IngestReport, indexed_digest: str | None) -> None:
        """Index one file unless its content hash equals `indexed_digest` (None: not indexed, or
        to be re-chunked)."""
        source = str(path.resolve())
        try:
            digest = sha256_of(path)
        except OSError as exc:
            report.failed.append((str(path), f"cannot read file: {exc.strerror or exc}"))
            return
        if digest == indexed_digest:
            report.unchanged += 1
            return
        try:
            documents = load_document(path, self.settings)
        except IngestError as exc:
            report.failed.append((str(path), str(exc)))
            return
        chunks = list({c.id: c for doc in documents
                       for c in chunk_document(doc, self.settings.chunk_size,
                                               self.settings.chunk_overlap)}.values())
        if documents and not chunks:
            report.failed.append((str(path), "no text to index"))
            return
        old_ids = set(self.index.catalog.chunk_ids(source))
        report.embedded += self._store_vectors(chunks)
        stale = sorted(old_ids - {c.id for c in chunks})
        tokens = [self.analyzer.analyze(c.index_text) for c in chunks]
        self.index.catalog.replace_file(source, digest, path.stat().st_size, chunks, tokens,
                                        datetime.now(timezone.utc).isoformat(timespec="seconds"))
        self.index.vectors.delete(stale)
        report.files += 1
        report.chunks += len(chunks)
        report.pages += sum(len(doc.sections) for doc in documents)

    def _store_vectors(self, chunks: Sequence[Chunk]) -> int:
        """Embed and store the chunks whose vectors are not stored yet; returns how many."""
        stored = self.index.vectors.existing([c.id for c in chunks])
        todo = [c for c in chunks if c.id not in stored]
        batch = self.settings.embed_batch_size
        for i in range(0, len(todo), batch):
            part = todo[i:i + batch]
            made = embed_chunks(self.index.embedder, part)
            self.index.vectors.upsert([c.id for c in part], made.vectors,
                                      [{"kind": c.kind, "source": c.source} for c in part], made.windows)
            self.progress.embedding(min(i + batch, len(todo)), len(todo))
        return len(todo)

    def _prune(self, folders: list[Path], present: set[str], report: IngestReport) -> None:
        """Forget files that disappeared from the folders just ingested."""
        gone = [p for p in self.index.catalog.files()
                if p not in present and any(Path(p).is_relative_to(folder) for folder in folders)]
        ids = self.index.catalog.remove_files(gone)
        self.index.vectors.delete(ids)
        report.removed += len(gone)
