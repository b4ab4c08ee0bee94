"""The `VectorStore` protocol: where chunk embeddings live (embedded Chroma or a Chroma server)."""

from __future__ import annotations

from typing import Mapping, Protocol, Sequence

import numpy as np


class VectorStore(Protocol):
    """Stores one embedding per chunk id and answers nearest-neighbour queries.

    Chunk text and metadata live in the catalog; the vector store only needs ids, vectors and
    the few scalar fields used as filters (`kind`, `source`).

    Example:
        >>> store = ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")  # doctest: +SKIP
        >>> store.upsert(["id1"], vectors, [{"kind": "guide", "source": "/a.pdf"}])      # doctest: +SKIP
        >>> store.query(vectors[0], k=1)                                                # doctest: +SKIP
        [('id1', 1.0)]
    """

    embedder: str

    def upsert(self, ids: Sequence[str], vectors: np.ndarray, metadatas: Sequence[Mapping[str, str]],
               windows: Sequence[np.ndarray] | None = None) -> None:
        """Insert or replace the vectors of these chunk ids, with each chunk's window vectors."""

    def windows_of(self, ids: Sequence[str]) -> dict[str, np.ndarray]:
        """{chunk id: its window vectors, one per row} for the stored ids among `ids`."""

    def delete(self, ids: Sequence[str]) -> None:
        """Remove these chunk ids (unknown ids are ignored)."""

    def existing(self, ids: Sequence[str]) -> set[str]:
        """The subset of `ids` already stored."""

    def all_ids(self) -> set[str]:
        """Every stored chunk id."""

    def count(self) -> int:
        """How many vectors are stored (cheap: no ids are read)."""

    def query(self, vector: np.ndarray, k: int,
              where: Mapping[str, object] | None = None) -> list[tuple[str, float]]:
        """The k nearest chunk ids with their cosine similarity, best first."""
