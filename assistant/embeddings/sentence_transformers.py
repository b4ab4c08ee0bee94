"""Any sentence-transformers model, by Hugging Face name or local path, loaded offline."""

from __future__ import annotations

import os
from typing import Any, Sequence

import numpy as np

from assistant.errors import ConfigError, MissingDependency


class SentenceTransformerEmbedder:
    """A sentence-transformers model loaded from local files only (nothing is downloaded).

    Args:
        model: A local directory, or a model name already present in the local Hugging Face cache.
        name: Name recorded in the index; defaults to "sentence-transformers:<model>".
        query_prefix: Text put before queries (e5 models expect "query: ").
        passage_prefix: Text put before passages (e5 models expect "passage: ").

    Example:
        >>> embedder = SentenceTransformerEmbedder("/models/multilingual-e5-small",
        ...                                        query_prefix="query: ", passage_prefix="passage: ")
        >>> embedder.embed_query("label").shape        # doctest: +SKIP
        (384,)
    """

    def __init__(self, model: str, name: str | None = None, query_prefix: str = "",
                 passage_prefix: str = "") -> None:
        self.model = model
        self.name = name or f"sentence-transformers:{model}"
        self.query_prefix = query_prefix
        self.passage_prefix = passage_prefix
        self._model: Any = None  # a SentenceTransformer, loaded on first use

    def warm_up(self) -> None:
        if self._model is not None:
            return
        os.environ.setdefault("HF_HUB_OFFLINE", "1")  # never reach for a hub at run time
        os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
        os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
        try:
            from sentence_transformers import SentenceTransformer
        except ImportError:
            raise MissingDependency(
                'sentence-transformers backend needs: pip install "guichet-vert[st]"') from None
        try:
            from transformers.utils import logging as transformers_logging

            transformers_logging.disable_progress_bar()
            self._model = SentenceTransformer(self.model, device="cpu", local_files_only=True)
        except (OSError, ValueError) as exc:
            raise ConfigError(
                f"cannot load sentence-transformers model {self.model!r} from local files: "
                f"{str(exc).splitlines()[0]}") from None

    def embed_passages(self, texts: Sequence[str]) -> np.ndarray:
        self.warm_up()
        if not texts:
            dim = self._model.get_sentence_embedding_dimension()
            return np.zeros((0, dim), dtype=np.float32)
        vectors = self._model.encode([self.passage_prefix + t for t in texts],
                                     normalize_embeddings=True, convert_to_numpy=True)
        return vectors.astype(np.float32)

    def embed_query(self, text: str) -> np.ndarray:
        self.warm_up()
        vector = self._model.encode(self.query_prefix + text, normalize_embeddings=True,
                                    convert_to_numpy=True)
        return vector.astype(np.float32).reshape(-1)
