"""Fusion of ranked lists (lexical, dense, ...) into one ranking. Pure functions.

Two modes:
- "rrf": weighted reciprocal-rank fusion, score(d) = sum over lists of w / (k + rank(d)).
  Needs only ranks, so BM25 scores and cosines never have to be made comparable.
- "score": each list's scores min-max normalised to [0, 1], then a weighted sum (a convex
  combination when the weights sum to 1). Needs (id, score) pairs.

Example:
    >>> fuse({"lexical": ["a", "b"], "dense": ["b", "c"]}, {"lexical": 1.0, "dense": 1.0}, k=60)
    [('b', 0.03252247488101534), ('a', 0.01639344262295082), ('c', 0.016129032258064516)]
"""

from __future__ import annotations

from enum import StrEnum
from typing import Callable, Mapping, Sequence, cast


class Fusion(StrEnum):
    """How ranked lists are fused (the `GUICHET_FUSION` setting)."""

    RRF = "rrf"
    SCORE = "score"


MODES = tuple(Fusion)

#: One ranked list: ids best first, or (id, score) pairs best first.
Ranked = Sequence[str] | Sequence[tuple[str, float]]


def fuse(ranked: Mapping[str, Ranked], weights: Mapping[str, float], k: int = 60,
         mode: Fusion | str = Fusion.RRF) -> list[tuple[str, float]]:
    """Fuse named ranked lists into one list of (id, fused score), best first.

    Args:
        ranked: {list name: ids best first, or (id, score) pairs best first}. An id repeated in
            one list counts at its first position only.
        weights: {list name: weight >= 0} for every list; a list of weight 0 is left out.
        k: RRF constant (> 0); large k flattens the difference between ranks.
        mode: "rrf" or "score" (the latter needs (id, score) pairs).

    Returns:
        Every id of a list of positive weight with its fused score, best first; equal scores keep
        the order in which the ids were first met (lists in `ranked` order, then rank).

    Raises:
        ValueError: unknown mode, k <= 0, a missing or negative weight, no positive weight,
            or plain ids given to the "score" mode.

    Example:
        >>> fuse({"lexical": [("a", 9.0), ("b", 3.0), ("c", 1.0)], "dense": [("b", 0.9), ("c", 0.5)]},
        ...      {"lexical": 0.5, "dense": 0.5}, mode="score")
        [('b', 0.625), ('a', 0.5), ('c', 0.0)]
    """
    if mode not in MODES:
        raise ValueError(f"unknown fusion mode {mode!r}: choose one of {', '.join(MODES)}")
    contribute = _CONTRIBUTIONS[Fusion(mode)]
    if k <= 0:
        raise ValueError(f"k must be > 0, got {k}")
    for name in ranked:
        if name not in weights:
            given = ", ".join(weights) or "none"
            raise ValueError(f"no weight for list {name!r} (weights given for: {given})")
    for name, weight in weights.items():
        if weight < 0:
            raise ValueError(f"weight of list {name!r} must be >= 0, got {weight}")
    if ranked and not any(weights[name] > 0 for name in ranked):
        raise ValueError("at least one list must have a weight > 0, got all zero")
    fused: dict[str, float] = {}
    for name, items in ranked.items():
        weight = weights[name]
        if weight == 0:
            continue
        for id_, value in contribute(items, k, name).items():
            fused[id_] = fused.get(id_, 0.0) + weight * value
    order = {id_: i for i, id_ in enumerate(fused)}
    return sorted(fused.items(), key=lambda item: (-item[1], order[item[0]]))


def _ids(items: Ranked) -> list[str]:
    return [item if isinstance(item, str) else item[0] for item in items]


def _rrf(items: Ranked, k: int) -> dict[str, float]:
    out: dict[str, float] = {}
    for rank, id_ in enumerate(_ids(items), start=1):
        out.setdefault(id_, 1.0 / (k + rank))
    return out


def _normalised(items: Ranked, name: str) -> dict[str, float]:
    """Min-max normalised scores; a list whose scores are all equal gives 1.0 to each."""
    if any(isinstance(item, str) for item in items):
        raise ValueError(f"score fusion needs (id, score) pairs, list {name!r} has plain ids")
    first: dict[str, float] = {}
    for id_, score in cast(Sequence[tuple[str, float]], items):  # plain ids were refused above
        first.setdefault(id_, float(score))
    if not first:
        return {}
    low, high = min(first.values()), max(first.values())
    span = high - low
    return {id_: (score - low) / span if span > 0 else 1.0 for id_, score in first.items()}


#: What one list contributes to each id's fused score, per mode: (items, k, list name) -> {id: value}.
_CONTRIBUTIONS: dict[Fusion, Callable[[Ranked, int, str], dict[str, float]]] = {
    Fusion.RRF: lambda items, k, name: _rrf(items, k),
    Fusion.SCORE: lambda items, k, name: _normalised(items, name),
}


def ranks(items: Sequence[str]) -> dict[str, int]:
    """1-based rank of each id in a list (first occurrence).

    Example:
        >>> ranks(["a", "b", "a"])
        {'a': 1, 'b': 2}
    """
    out: dict[str, int] = {}
    for rank, id_ in enumerate(items, start=1):
        out.setdefault(id_, rank)
    return out
