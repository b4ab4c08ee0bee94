"""Peers who did it: the peer experiences that match a buyer's question, closest buyers first.

A peer is proposed only when it matches the subject well: its tags are its descriptors, a tag
counts when all its words are in the question (as the analyser reads them, expansions of the
domain table included with their lower weight: "PC" also means "ordinateur"), and the words
of the question held by the tags that count must weigh at least `MIN_TOPIC`, two of the
buyer's own words. A one-word tag is a cue of its own, a phrase tag ("marché réservé") only
as a whole, so that a generic word ("marché") never makes a peer by itself; matching the tags
rather than the whole record keeps a passing mention from making a peer, and a question on a
subject no peer covers gets none. Among the peers that match, one of the buyer's région, of
the same département or of the same kind of organisation is ranked up (`boost`); the order
rule is written, not fitted.

Example:
    >>> peers = match_peers(retriever.search, analyzer, "acheter des PC reconditionnés",
    ...                     Whereabouts("commune", "Hérault", "Occitanie"))       # doctest: +SKIP
    >>> [p.chunk.metadata["organisation"] for p in peers]                           # doctest: +SKIP
    ['Département de l'Aveyron', 'Ville de Champigny-sur-Marne', 'Département de la Drôme']
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace

from assistant.errors import InvalidQuery
from assistant.records import Chunk, Passage
from assistant.retrieval.filters import Filters
from assistant.text.places import Whereabouts
from assistant.text.analysis import FrenchAnalyzer

#: Peers proposed at most.
MAX_PEERS = 3
#: Peer candidates read from the index before the subject check.
CANDIDATES = 20
#: Weight of the question's words found in a peer's descriptors needed to propose it: two of the
#: buyer's own words (an expansion of the domain table weighs `EXPANSION_WEIGHT`).
MIN_TOPIC = 2.0
#: Score multipliers: same région, same département (on top of the région), same kind.
REGION_BOOST, DEPARTEMENT_BOOST, KIND_BOOST = 0.5, 0.25, 0.25

Search = Callable[..., Sequence[Passage]]


def descriptors(chunk: Chunk, analyzer: FrenchAnalyzer) -> tuple[frozenset[str], ...]:
    """A peer's tags, each as the set of its analysed stems."""
    tags = (tag.strip() for tag in chunk.metadata.get("tags", "").split(","))
    return tuple(stems for tag in tags if tag and (stems := frozenset(analyzer.analyze(tag))))


def topic_score(terms: Mapping[str, float], chunk: Chunk, analyzer: FrenchAnalyzer) -> float:
    """Weight of the question's terms (stem → weight) held by the peer's tags found whole in it.

    Example:
        >>> peer = Chunk("p", "…", "/p.yaml", "X", "peer", metadata={"tags": "marché réservé, insertion"})
        >>> analyzer = FrenchAnalyzer()
        >>> topic_score(dict(analyzer.query_terms("clause d'insertion dans un marché")), peer, analyzer)
        1.0
        >>> topic_score(dict(analyzer.query_terms("un marché réservé en insertion ?")), peer, analyzer)
        3.0
    """
    present = set(terms)
    covered = set().union(*(tag for tag in descriptors(chunk, analyzer) if tag <= present))
    return round(sum(terms[term] for term in covered), 4)


def boost(chunk: Chunk, buyer: Whereabouts) -> float:
    """How much closer to the buyer this peer is: 1.0, more for the same région, département, kind.

    Example:
        >>> peer = Chunk("p", "…", "/p.yaml", "Ville", "peer",
        ...              metadata={"region": "Occitanie", "departement": "Aude", "org_kind": "commune"})
        >>> boost(peer, Whereabouts("commune", "Aude", "Occitanie")), boost(peer, Whereabouts())
        (2.0, 1.0)
    """
    meta = chunk.metadata
    factor = 1.0
    if buyer.region and meta.get("region") == buyer.region:
        factor += REGION_BOOST
    if buyer.departement and meta.get("departement") == buyer.departement:
        factor += DEPARTEMENT_BOOST
    if buyer.kind and meta.get("org_kind") == buyer.kind:
        factor += KIND_BOOST
    return factor


def match_peers(search: Search, analyzer: FrenchAnalyzer, question: str, buyer: Whereabouts = Whereabouts(),
                k: int = MAX_PEERS, **search_options) -> list[Passage]:
    """The peers that match a question well, closest to the buyer first (none when none fits).

    Args:
        search: The retriever's `search(question, k=..., filters=..., **search_options)`.
        analyzer: The French analyser of the index (question terms and peer descriptors).
        question: The buyer's question (with the thread's context for a follow-up).
        buyer: What is known of the buyer's organisation and place.
        k: How many peers at most.

    Returns:
        Peer passages whose score is the subject match times the buyer's `boost`.
    """
    try:
        candidates = search(question, k=CANDIDATES, filters=Filters(kinds=("peer",)), **search_options)
    except InvalidQuery:
        return []
    terms = dict(analyzer.query_terms(question))
    best: dict[str, tuple[float, float, Passage]] = {}
    for rank, passage in enumerate(candidates):
        topic = topic_score(terms, passage.chunk, analyzer)
        if topic < MIN_TOPIC:
            continue
        key = passage.chunk.metadata.get("peer_id") or passage.chunk.id
        score = topic * boost(passage.chunk, buyer)
        if key not in best or score > best[key][0]:
            best[key] = (score, -rank, replace(passage, score=score))
    ranked = sorted(best.values(), key=lambda item: (item[0], item[1]), reverse=True)
    return [passage for _, _, passage in ranked[:k]]
