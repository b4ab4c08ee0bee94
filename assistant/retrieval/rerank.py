"""Optional second stage: a sentence-transformers `CrossEncoder` rescoring the fused passages.

Off by default (no cross-encoder ships with the project); set `GUICHET_RERANKER_MODEL` to the
local folder of one (for instance a multilingual MS MARCO MiniLM cross-encoder) to turn it on.
Nothing is downloaded: the model loads with `local_files_only=True`.

Example:
    >>> reranker = make_reranker("")          # empty setting: no reranker
    >>> reranker is None
    True
"""

from __future__ import annotations

import os
import threading
from dataclasses import replace
from pathlib import Path
from typing import Protocol, Sequence

from assistant.errors import ConfigError, MissingDependency
from assistant.records import Passage


class PairScorer(Protocol):
    """What the reranker needs from a model: `CrossEncoder.predict` over (query, text) pairs."""

    def predict(self, inputs: Sequence[tuple[str, str]], **kwargs) -> Sequence[float]:
        """One relevance score per pair, higher is better."""


class CrossEncoderReranker:
    """Reorders passages by a cross-encoder's score of (question, passage text).

    Args:
        model_path: Local folder of a sentence-transformers cross-encoder.
        model: An already loaded scorer with a `predict` method (skips loading `model_path`).

    Raises:
        ConfigError: `model_path` is not an existing folder (at construction).

    Example:
        >>> reranker = CrossEncoderReranker("/models/mmarco-minilm")       # doctest: +SKIP
        >>> [p.chunk.id for p in reranker.rerank("label DCE", passages)]    # doctest: +SKIP
        ['c7', 'c2']
    """

    def __init__(self, model_path: str, model: PairScorer | None = None) -> None:
        if model is None and not Path(model_path).is_dir():
            raise ConfigError(f"reranker model {model_path!r} is not a local folder: set "
                              "GUICHET_RERANKER_MODEL to a downloaded cross-encoder, or leave it empty")
        self.model_path = model_path
        self._model = model
        self._lock = threading.Lock()

    def warm_up(self) -> None:
        self._loaded()

    def _loaded(self) -> PairScorer:
        with self._lock:
            if self._model is None:
                self._model = _load(self.model_path)
            return self._model

    def rerank(self, question: str, passages: Sequence[Passage]) -> list[Passage]:
        """The passages sorted by cross-encoder score (stable on ties), each `score` replaced by it."""
        if not passages:
            return []
        scores = [float(s) for s in self._loaded().predict([(question, p.chunk.text) for p in passages])]
        if len(scores) != len(passages):
            raise ValueError(f"reranker gave {len(scores)} scores for {len(passages)} passages")
        return sorted((replace(p, score=s) for p, s in zip(passages, scores)), key=lambda p: -p.score)


def make_reranker(model_path: str) -> CrossEncoderReranker | None:
    """The reranker named by the `reranker_model` setting, or None when it is empty.

    Raises:
        ConfigError: a path that is not a local folder.
    """
    return CrossEncoderReranker(model_path) if model_path.strip() else None


def _load(model_path: str) -> PairScorer:
    try:
        from sentence_transformers import CrossEncoder
    except ImportError:
        raise MissingDependency('the reranker needs: pip install "guichet-vert[st]"') from None
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    try:
        return CrossEncoder(model_path, device="cpu", local_files_only=True)
    except (OSError, ValueError) as exc:
        raise ConfigError(f"cannot load reranker model {model_path!r}: "
                          f"{str(exc).splitlines()[0]}") from None
