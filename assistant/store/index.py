"""The knowledge index: catalog (files, chunks, tokens) + vector store + the embedder that fills it."""

from __future__ import annotations

import shutil
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Iterator

from assistant.embeddings.base import Embedder
from assistant.embeddings.factory import make_embedder
from assistant.embeddings.windows import space_mismatch, vector_space
from assistant.errors import IndexMismatch, NewerIndex
from assistant.store.base import VectorStore
from assistant.store.catalog import Catalog, ingestion_lock, open_catalog
from assistant.store.options import IndexConfig


@dataclass(frozen=True)
class IndexHealth:
    """Whether the vector store holds as many vectors as the catalog has chunks.

    A deleted or damaged Chroma folder leaves search working on keywords alone; nothing else
    would say so. `guichet ingest` repairs it (and reports the repair).
    """

    chunks: int
    vectors: int

    @property
    def problem(self) -> str | None:
        """One line saying what is wrong and what to do, or None when both sides agree."""
        if self.vectors == self.chunks:
            return None
        if self.vectors < self.chunks:
            return (f"the vector store holds {self.vectors} vectors for the catalog's {self.chunks} chunks "
                    "(deleted or damaged?): search is keyword-only for the others until "
                    "'guichet ingest PATH...' re-embeds them")
        return (f"the vector store holds {self.vectors - self.chunks} vector(s) the catalog does not know: "
                "'guichet ingest PATH...' removes them")


class KnowledgeIndex:
    """Everything retrieval reads and ingestion writes, opened where `config` says.

    Args:
        config: `home` gives the data directory, `embedder` the embedding backend,
            `chroma_url` an optional Chroma server (with `chroma_token`), `database_url` an
            optional shared database for the catalog (see `assistant.store.catalog`).
        embedder: An embedder already made (default: from `config.embedder`).

    Raises:
        IndexMismatch: the index on disk was built with another embedder or schema.

    Example:
        >>> index = KnowledgeIndex(IndexConfig(Path("index"), "e5-small"))   # doctest: +SKIP
        >>> index.catalog.count()                          # doctest: +SKIP
        1834
    """

    def __init__(self, config: IndexConfig, embedder: Embedder | None = None) -> None:
        self.config = config
        self.embedder = embedder or make_embedder(config.embedder)
        self.catalog: Catalog = open_catalog(config)
        try:
            space = vector_space(self.embedder)
            built_with = self.catalog.get_meta("embedder")
            if built_with is None:
                self.catalog.set_meta("embedder", space)
            elif built_with != space:
                raise IndexMismatch(space_mismatch(built_with, space))
            self.vectors: VectorStore = open_vector_store(config, space)
            bind = getattr(self.vectors, "bind", None)
            if bind is not None:
                bind(self.catalog.catalog_id)
        except BaseException:
            self.catalog.close()
            raise

    @contextmanager
    def writer(self) -> Iterator[None]:
        """Hold the ingestion lock: one writer at a time, readers are never blocked.

        The lock belongs to the catalog's database: a lock file in GUICHET_HOME for the SQLite
        catalog, a PostgreSQL advisory lock for a shared one, so that two processes (on any
        machines) sharing a Chroma server never ingest at the same time.

        Raises:
            GuichetError: another ingestion holds the lock.
        """
        self.config.home.mkdir(parents=True, exist_ok=True)
        with self.catalog.writer_lock():
            yield

    def health(self) -> IndexHealth:
        """Counts of both sides (two cheap queries), to warn when they disagree."""
        return IndexHealth(chunks=self.catalog.count(), vectors=self.vectors.count())

    def close(self) -> None:
        self.catalog.close()


def open_vector_store(config: IndexConfig, embedder: str) -> VectorStore:
    """The vector store `config` names: a Chroma server if `chroma_url` is set, else embedded."""
    from assistant.store.chroma import ChromaStore

    if config.chroma_url:
        return ChromaStore.server(config.chroma_url, embedder, config.chroma_token)
    return ChromaStore.persistent(config.chroma_path, embedder)


@contextmanager
def rebuilding(config: IndexConfig) -> Iterator[None]:
    """Take the ingestion lock, then delete the index; re-ingest inside the block, still locked.

    A rebuild that cannot get the lock changes nothing, and neither does one that finds an
    index written by a newer guichet-vert.

    Raises:
        GuichetError: another ingestion is running.
        NewerIndex: the catalog was written by a newer guichet-vert.

    Example:
        >>> with rebuilding(config):                                            # doctest: +SKIP
        ...     Ingestor(KnowledgeIndex(config), ingest_config).ingest([Path("corpus")])
    """
    with ingestion_lock(config):
        _refuse_newer(config)
        wipe(config)
        yield


def _refuse_newer(config: IndexConfig) -> None:
    """A rebuild never deletes an index written by a newer guichet-vert."""
    try:
        open_catalog(config).close()
    except NewerIndex as exc:
        raise NewerIndex(f"{exc}; nothing was deleted (to discard that index anyway, delete it yourself)") from None
    except IndexMismatch:
        pass  # an older or damaged catalog is what a rebuild is for


def wipe(config: IndexConfig) -> None:
    """Delete the index (catalog, vectors, lexical cache) so it can be rebuilt from scratch.

    Always under the ingestion lock (re-entered when the caller holds it, as `rebuilding`
    does). On a shared database the catalog's rows are deleted (the tables stay, other
    processes see an empty catalog); the Chroma server's collection is dropped.

    Raises:
        GuichetError: another ingestion is running; nothing was deleted.
    """
    with ingestion_lock(config):
        if config.database_url:
            catalog = open_catalog(config)
            try:
                _drop_vectors(config)
                catalog.clear()
            finally:
                catalog.close()
        else:
            _drop_vectors(config)
            for suffix in ("", "-wal", "-shm"):
                Path(str(config.catalog_path) + suffix).unlink(missing_ok=True)
        shutil.rmtree(config.lexical_path, ignore_errors=True)


def _drop_vectors(config: IndexConfig) -> None:
    from assistant.store.chroma import ChromaStore

    if config.chroma_url:
        ChromaStore.drop_server(config.chroma_url, config.chroma_token)
    else:
        ChromaStore.drop(config.chroma_path)  # through the client: it caches open databases
