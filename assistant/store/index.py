"""The knowledge index: catalog (files, chunks, tokens) + vector store + the embedder that fills it."""

from __future__ import annotations

import fcntl
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from assistant.config import Settings
from assistant.embeddings.base import Embedder
from assistant.embeddings.factory import make_embedder
from assistant.errors import GuichetError, IndexMismatch
from assistant.store.base import VectorStore
from assistant.store.catalog import Catalog


class KnowledgeIndex:
    """Everything retrieval reads and ingestion writes, opened from settings.

    Args:
        settings: `home` gives the data directory, `embedder` the embedding backend,
            `chroma_url` an optional Chroma server.

    Raises:
        IndexMismatch: the index on disk was built with another embedder or schema.

    Example:
        >>> index = KnowledgeIndex(get_settings())        # doctest: +SKIP
        >>> index.catalog.count()                          # doctest: +SKIP
        1834
    """

    def __init__(self, settings: Settings, embedder: Embedder | None = None) -> None:
        self.settings = settings
        self.embedder = embedder or make_embedder(settings.embedder)
        self.catalog = Catalog(settings.catalog_path)
        built_with = self.catalog.get_meta("embedder")
        if built_with is None:
            self.catalog.set_meta("embedder", self.embedder.name)
        elif built_with != self.embedder.name:
            raise IndexMismatch(f"index built with {built_with!r}, settings ask for "
                                f"{self.embedder.name!r}: run 'guichet ingest --rebuild PATH...' "
                                f"or set GUICHET_EMBEDDER={built_with}")
        self.vectors: VectorStore = open_vector_store(settings, self.embedder.name)

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the ingestion lock: one writer at a time, readers are never blocked."""
        self.settings.home.mkdir(parents=True, exist_ok=True)
        with open(self.settings.home / "ingest.lock", "w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise GuichetError(f"another ingestion is running on {self.settings.home}: "
                                   "wait for it to finish") from None
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def close(self) -> None:
        self.catalog.close()


def open_vector_store(settings: Settings, embedder: str) -> VectorStore:
    """The vector store named by settings: a Chroma server if `chroma_url` is set, else embedded."""
    from assistant.store.chroma import ChromaStore

    return ChromaStore.persistent(settings.chroma_path, embedder)


def wipe(settings: Settings) -> None:
    """Delete the index (catalog, vectors, lexical cache) so it can be rebuilt from scratch."""
    from assistant.store.chroma import ChromaStore

    ChromaStore.drop(settings.chroma_path)  # through the client: it caches open databases
    shutil.rmtree(settings.home / "lexical", ignore_errors=True)
    for suffix in ("", "-wal", "-shm"):
        Path(str(settings.catalog_path) + suffix).unlink(missing_ok=True)
