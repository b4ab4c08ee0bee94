"""The parameters of hybrid search, checked once when they are built, and its modes.

`assistant.compose` builds a `RetrievalConfig` from the settings; the retriever and the
facade only read it. Every default lives in `assistant.config.Settings`, none here.

Example:
    >>> config = RetrievalConfig(top_k=5, candidates=100, rrf_k=60, lexical_weight=1.0, dense_weight=0.4,
    ...                          fusion="score", ranker="fusion", ranker_params=SHIPPED, answer_boost=1.0,
    ...                          synonyms_file=None, reranker_model="")
    >>> config.k(None), config.k(3), config.weights(SearchMode.HYBRID)
    (5, 3, {'lexical': 1.0, 'dense': 0.4})
    >>> config.k(0)
    Traceback (most recent call last):
    ...
    assistant.errors.InvalidQuery: k must be > 0, got 0
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path

from assistant.errors import ConfigError, InvalidQuery
from assistant.retrieval.fusion import MODES as FUSION_MODES
from assistant.retrieval.fusion import Fusion
from assistant.retrieval.ranker import MODES as RANKER_MODES
from assistant.retrieval.ranker import SHIPPED, RankerMode

__all__ = ["SHIPPED", "Fusion", "RankerMode", "RetrievalConfig", "SearchMode"]


class SearchMode(StrEnum):
    """Which candidate lists a search uses."""

    HYBRID = "hybrid"    # lexical and dense, then the second stage
    LEXICAL = "lexical"  # BM25 only
    DENSE = "dense"      # embeddings only

    @classmethod
    def of(cls, value: str) -> SearchMode:
        """The mode named `value`.

        Raises:
            ConfigError: an unknown name, with the allowed ones.
        """
        try:
            return cls(value)
        except ValueError:
            raise ConfigError(f"unknown retrieval mode {value!r}: choose one of {', '.join(cls)}") from None


@dataclass(frozen=True)
class RetrievalConfig:
    """What hybrid search needs to know, validated when built.

    Args:
        top_k: Passages returned when a search names no k (> 0).
        candidates: Candidates taken from each list for the second stage (> 0).
        rrf_k: Reciprocal-rank fusion constant (> 0).
        lexical_weight: Weight of the lexical list in fusion (>= 0).
        dense_weight: Weight of the dense list in fusion (>= 0; not both 0).
        fusion: How the lists are fused when no learned ranker scores them.
        ranker: The second stage: the learned ranker or the fusion alone.
        ranker_params: The learned ranker's parameter file (read when `ranker` is learned).
        answer_boost: Score multiplier of validated past answers (>= 0).
        synonyms_file: Extra acronyms and synonyms of the French analyser (None: none).
        reranker_model: Local path of a cross-encoder reranker ("" = none).

    Raises:
        ConfigError: a value out of its range, or an unknown fusion or ranker, in one line.
    """

    top_k: int
    candidates: int
    rrf_k: int
    lexical_weight: float
    dense_weight: float
    fusion: Fusion
    ranker: RankerMode
    ranker_params: Path
    answer_boost: float
    synonyms_file: Path | None
    reranker_model: str

    def __post_init__(self) -> None:
        for name in ("top_k", "candidates", "rrf_k"):
            if getattr(self, name) <= 0:
                raise ConfigError(f"{name} must be > 0, got {getattr(self, name)}")
        for name in ("lexical_weight", "dense_weight", "answer_boost"):
            if getattr(self, name) < 0:
                raise ConfigError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.lexical_weight == 0 and self.dense_weight == 0:
            raise ConfigError("GUICHET_LEXICAL_WEIGHT and GUICHET_DENSE_WEIGHT are both 0: set at least one above 0")
        if self.fusion not in FUSION_MODES:
            raise ConfigError(f"unknown fusion {self.fusion!r}: choose one of {', '.join(FUSION_MODES)}")
        if self.ranker not in RANKER_MODES:
            raise ConfigError(f"unknown GUICHET_RANKER {self.ranker!r}: choose one of {', '.join(RANKER_MODES)}")
        object.__setattr__(self, "fusion", Fusion(self.fusion))
        object.__setattr__(self, "ranker", RankerMode(self.ranker))

    def k(self, k: int | None) -> int:
        """How many passages a search returns: `k`, or `top_k` when None.

        Raises:
            InvalidQuery: k <= 0.
        """
        k = self.top_k if k is None else k
        if k <= 0:
            raise InvalidQuery(f"k must be > 0, got {k}")
        return k

    def weights(self, mode: SearchMode) -> dict[str, float]:
        """The weight of each candidate list a search in `mode` fuses."""
        return _WEIGHTS[mode](self)


#: The lists each mode searches, with their fusion weights.
_WEIGHTS: dict[SearchMode, Callable[[RetrievalConfig], dict[str, float]]] = {
    SearchMode.HYBRID: lambda c: {"lexical": c.lexical_weight, "dense": c.dense_weight},
    SearchMode.LEXICAL: lambda c: {"lexical": 1.0},
    SearchMode.DENSE: lambda c: {"dense": 1.0},
}
