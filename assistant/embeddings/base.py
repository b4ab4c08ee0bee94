"""The `Embedder` protocol shared by every embedding backend."""

from __future__ import annotations

from typing import Protocol, Sequence

import numpy as np


class Embedder(Protocol):
    """Turns passages and queries into L2-normalised float32 vectors.

    Constructors only store settings; the model loads on first use or in `warm_up()`.

    Example:
        >>> embedder = make_embedder("e5-small")        # doctest: +SKIP
        >>> embedder.embed_passages(["texte"]).shape    # doctest: +SKIP
        (1, 384)
    """

    #: Stable name recorded in the index, e.g. "e5-small" or "sentence-transformers:/models/x".
    name: str

    def warm_up(self) -> None:
        """Load the model now rather than on first use."""

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        """Embed documents; returns an array of shape (len(texts), dim)."""

    def embed_query(self, text: str) -> np.ndarray:
        """Embed one search query; returns an array of shape (dim,)."""
