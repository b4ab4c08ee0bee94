"""Chroma behind the `VectorStore` protocol: persistent client by default, HTTP client to scale."""

from __future__ import annotations

from pathlib import Path
from typing import Mapping, Sequence

import numpy as np

from assistant.errors import IndexMismatch

COLLECTION = "chunks"
SCHEMA = 1
_BATCH = 2000  # stay under Chroma's maximum batch size


class ChromaStore:
    """Chunk vectors in a Chroma collection that records which embedder built it.

    Args:
        client: A chromadb client (persistent or HTTP).
        embedder: Name of the embedder the caller will use; an existing collection built with
            another embedder raises IndexMismatch.

    Example:
        >>> store = ChromaStore.persistent(Path("index/chroma"), embedder="e5-small")  # doctest: +SKIP
    """

    def __init__(self, client, embedder: str) -> None:
        self.embedder = embedder
        self._collection = client.get_or_create_collection(
            COLLECTION, embedding_function=None,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedder": embedder, "schema": SCHEMA})
        meta = self._collection.metadata or {}
        if meta.get("schema") != SCHEMA:
            raise IndexMismatch(f"index schema {meta.get('schema')!r} is not {SCHEMA}: "
                                "run 'guichet ingest --rebuild PATH...'")
        if meta.get("embedder") != embedder:
            raise IndexMismatch(f"index built with {meta.get('embedder')!r}, settings ask for "
                                f"{embedder!r}: run 'guichet ingest --rebuild PATH...' or set "
                                f"GUICHET_EMBEDDER={meta.get('embedder')}")

    @classmethod
    def persistent(cls, path: Path, embedder: str) -> "ChromaStore":
        """An embedded Chroma database in `path` (created if missing)."""
        return cls(_persistent_client(path), embedder)

    @staticmethod
    def drop(path: Path) -> None:
        """Delete the chunk collection of the embedded database in `path`, if any."""
        if path.exists():
            client = _persistent_client(path)
            if COLLECTION in [c.name for c in client.list_collections()]:
                client.delete_collection(COLLECTION)

    def upsert(self, ids: Sequence[str], vectors: np.ndarray,
               metadatas: Sequence[Mapping[str, str]]) -> None:
        for i in range(0, len(ids), _BATCH):
            self._collection.upsert(ids=list(ids[i:i + _BATCH]), embeddings=vectors[i:i + _BATCH],
                                    metadatas=[dict(m) for m in metadatas[i:i + _BATCH]])

    def delete(self, ids: Sequence[str]) -> None:
        for i in range(0, len(ids), _BATCH):
            self._collection.delete(ids=list(ids[i:i + _BATCH]))

    def existing(self, ids: Sequence[str]) -> set[str]:
        found: set[str] = set()
        for i in range(0, len(ids), _BATCH):
            found.update(self._collection.get(ids=list(ids[i:i + _BATCH]), include=[])["ids"])
        return found

    def all_ids(self) -> set[str]:
        found: set[str] = set()
        offset = 0
        while True:
            page = self._collection.get(include=[], limit=_BATCH, offset=offset)["ids"]
            found.update(page)
            if len(page) < _BATCH:
                return found
            offset += _BATCH

    def query(self, vector: np.ndarray, k: int,
              where: Mapping[str, object] | None = None) -> list[tuple[str, float]]:
        k = min(k, self._collection.count())
        if k <= 0:
            return []
        result = self._collection.query(query_embeddings=[np.asarray(vector, dtype=np.float32)],
                                        n_results=k, where=dict(where) if where else None,
                                        include=["distances"])
        return [(id_, 1.0 - float(dist)) for id_, dist in zip(result["ids"][0], result["distances"][0])]


def _persistent_client(path: Path):
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=ChromaSettings(anonymized_telemetry=False))
