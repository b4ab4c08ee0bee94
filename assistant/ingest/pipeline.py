"""Incremental, idempotent ingestion of files and folders into the knowledge index.

A file is processed in three steps: load and chunk; embed and store the vectors of chunks the
vector store does not hold yet, batch by batch; then write the file's row and chunks to the
catalog in one transaction. A crash, kill -9 or Ctrl-C at any point leaves the previous catalog
state, which the next run completes. Chunk ids derive from the content, so the batches stored
before an interruption are found again and not re-embedded when the next run reads that file;
only at the end of a run are vectors that no catalog chunk owns dropped (so a run that does not
include the interrupted file drops its partial vectors, which would otherwise linger). At the
start of a run, catalog chunks whose vectors are missing (a deleted Chroma folder) are
re-embedded, and the report says so.
"""

from __future__ import annotations

import errno
import hashlib
import os
from dataclasses import dataclass, field, replace
from datetime import datetime, timezone
from pathlib import Path
from typing import Iterable, Protocol, Sequence

from assistant.embeddings.windows import embed_chunks
from assistant.errors import IngestError, printable
from assistant.ingest.chunking import CHUNKER_VERSION, chunk_document
from assistant.ingest.loading import SUPPORTED, load_document
from assistant.ingest.options import IngestConfig
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
    repaired: int = 0
    orphans: int = 0

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


@dataclass
class Found:
    """What `discover` found.

    Attributes:
        files: (path to read, catalog key) of each supported file, each once, in order. The
            key is the resolved path, except for a file reached through a followed link out of
            the folders given: then it is the link's path, so that removing the link prunes it.
        folders: The folders given, resolved.
        skipped: Files of unsupported types found inside folders.
        failed: (path, one-line reason) of arguments that do not exist, symbolic link loops,
            links out of the folders that were not followed, folders that cannot be listed.
    """

    files: list[tuple[Path, str]] = field(default_factory=list)
    folders: list[Path] = field(default_factory=list)
    skipped: list[Path] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)


def discover(paths: Iterable[Path], follow_links: bool = False) -> Found:
    """Expand the arguments into files to ingest (hidden files and folders left out).

    A symbolic link inside a folder is followed when it points inside one of the folders
    given (its target is indexed once); one that points outside them is reported and left
    alone unless `follow_links`. A file named on the command line is read wherever it points.

    Args:
        paths: Files and folders, as the user gave them.
        follow_links: Also follow links that point out of the folders given.
    """
    paths = list(paths)
    found = Found(folders=[p.resolve() for p in paths if p.is_dir()])
    keys: dict[str, Path] = {}

    def add(path: Path, key: str) -> None:
        keys.setdefault(key, path)  # a file named twice, or linked from inside, counts once

    for path in paths:
        if path.is_dir():
            _walk(path, path.resolve(), found, add, follow_links, visited=set())
        elif path.exists() or path.is_symlink():
            try:
                add(path, str(path.resolve(strict=path.exists())))
            except (RuntimeError, OSError) as exc:
                found.failed.append((str(path), _link_problem(path, exc)))
        else:
            found.failed.append((str(path), "no such file or folder"))
    found.files = [(path, key) for key, path in keys.items()]
    return found


def _walk(folder: Path, key: Path, found: Found, add, follow_links: bool, visited: set) -> None:
    """List one folder (shown as `folder`, keyed as `key`), depth first, in name order."""
    try:
        info = folder.stat()
        if (info.st_dev, info.st_ino) in visited:
            found.failed.append((str(folder), "symbolic link loop: this folder is already being read"))
            return
        visited = visited | {(info.st_dev, info.st_ino)}
        entries = sorted(os.scandir(folder), key=lambda entry: entry.name)
    except OSError as exc:
        found.failed.append((str(folder), f"cannot read folder: {exc.strerror or exc}"))
        return
    for entry in entries:
        if entry.name.startswith("."):
            continue
        path, child_key = folder / entry.name, key / entry.name
        supported = Path(entry.name).suffix.lower() in SUPPORTED
        if not entry.is_symlink():
            if entry.is_dir(follow_symlinks=False):
                _walk(path, child_key, found, add, follow_links, visited)
            elif supported:
                add(path, str(child_key))
            else:
                found.skipped.append(path)
            continue
        try:
            target = path.resolve(strict=True)
        except (RuntimeError, OSError) as exc:
            if supported or _is_loop(exc):
                found.failed.append((str(path), _link_problem(path, exc)))
            else:
                found.skipped.append(path)
            continue
        inside = any(target.is_relative_to(root) for root in found.folders)
        if target.is_dir():
            if inside:
                continue  # read through its real path, inside the folders given
            if follow_links:
                _walk(path, child_key, found, add, follow_links, visited)
            else:
                found.failed.append((str(path), _outside("folder", target)))
        elif not supported:
            found.skipped.append(path)
        elif inside:
            add(path, str(target))
        elif follow_links:
            add(path, str(child_key))
        else:
            found.failed.append((str(path), _outside("file", target)))


def _is_loop(exc: BaseException) -> bool:
    return isinstance(exc, RuntimeError) or getattr(exc, "errno", None) == errno.ELOOP


def _link_problem(path: Path, exc: BaseException) -> str:
    if _is_loop(exc):
        return "symbolic link loop: it points back to itself, nothing to read"
    if isinstance(exc, FileNotFoundError) and path.is_symlink():
        return f"broken symbolic link to '{printable(os.readlink(path))}'"
    return f"cannot read file: {getattr(exc, 'strerror', None) or exc}"


def _outside(kind: str, target: Path) -> str:
    return (f"symbolic link to a {kind} outside the folders given ({printable(target)}): not followed; "
            "name it on the command line, or use --follow-links")


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
        config: Chunk size and overlap, file limits, embedding batch, pruning by default.
        progress: Receives progress events (silent by default).

    Example:
        >>> report = Ingestor(index, ingest_config).ingest([Path("corpus")])  # doctest: +SKIP
        >>> report.as_json()["failed"]                                                  # doctest: +SKIP
        []
    """

    def __init__(self, index: KnowledgeIndex, config: IngestConfig, progress: Progress | None = None) -> None:
        self.index = index
        self.config = config
        self.progress = progress or _Silent()
        self.analyzer = FrenchAnalyzer(config.synonyms_file)

    def ingest(self, paths: Sequence[Path], prune: bool | None = None,
               follow_links: bool = False) -> IngestReport:
        """Ingest files and folders; a bad file is reported and never stops the others.

        Args:
            paths: Files and folders.
            prune: Forget indexed files that are gone from the folders given (default: `config.prune`).
            follow_links: Follow symbolic links that point out of the folders given.
        """
        prune = self.config.prune if prune is None else prune
        report = IngestReport()
        found = discover(paths, follow_links=follow_links)
        report.skipped, report.failed = [str(p) for p in found.skipped], list(found.failed)
        files, folders = found.files, found.folders
        chunking = f"{CHUNKER_VERSION}:{self.config.chunking}"
        with self.index.writer():
            report.repaired = self.restore_missing()
            rechunk = self.index.catalog.get_meta("chunking") not in (None, chunking)
            known = {} if rechunk else self.index.catalog.files()  # read once, not once per file
            present = {key for _, key in files}
            self.progress.start(len(files))
            for path, key in files:
                self._ingest_file(path, key, report, known.get(key))
                self.progress.file_done(str(path))
            if prune:
                self._prune(folders, present, report)
            if not rechunk or set(self.index.catalog.files()) <= present:
                self.index.catalog.set_meta("chunking", chunking)
            report.orphans = self.drop_orphans()
        return report

    def restore_missing(self) -> int:
        """Re-analyse after an analyser change, and re-embed catalog chunks the vector store lost.

        Returns:
            How many vectors were re-embedded.
        """
        catalog = self.index.catalog
        if catalog.get_meta("analyzer") != ANALYZER_VERSION:
            catalog.retokenize(self.analyzer.analyze)
            catalog.set_meta("analyzer", ANALYZER_VERSION)
        missing = sorted(catalog.all_ids() - self.index.vectors.all_ids())
        return self._store_vectors(list(catalog.get_chunks(missing).values())) if missing else 0

    def drop_orphans(self) -> int:
        """Delete the vectors no catalog chunk owns; returns how many."""
        orphans = sorted(self.index.vectors.all_ids() - self.index.catalog.all_ids())
        self.index.vectors.delete(orphans)
        return len(orphans)

    def _ingest_file(self, path: Path, source: str, report: IngestReport, indexed_digest: str | None) -> None:
        """Index one file, under the catalog key `source`, unless its content hash equals
        `indexed_digest` (None: not indexed, or to be re-chunked)."""
        try:
            digest = sha256_of(path)
        except OSError as exc:
            report.failed.append((str(path), f"cannot read file: {exc.strerror or exc}"))
            return
        if digest == indexed_digest:
            report.unchanged += 1
            return
        try:
            documents = load_document(path, self.config.files)
        except IngestError as exc:
            report.failed.append((str(path), str(exc)))
            return
        documents = [doc if doc.source == source else replace(doc, source=source) for doc in documents]
        chunks = list({c.id: c for doc in documents
                       for c in chunk_document(doc, self.config.chunk_size, self.config.chunk_overlap)}.values())
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
        batch = self.config.embed_batch_size
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
