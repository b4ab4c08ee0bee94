"""Checks of one draft against the passages retrieved for its question. Pure functions.

Example:
    >>> from assistant.records import Chunk, Citation, Draft, Passage
    >>> p = Passage(Chunk("c1", "Le seuil est de 300 €.", "/c/don.md", "Don"), 1.0)
    >>> citations_valid(Draft("Seuil : 300 € [1].", (Citation(1, "c1", "300 €"),)), [p])
    True
"""

from __future__ import annotations

from typing import Sequence

from assistant.evaluation.normalize import contains, normalize
from assistant.records import Citation, Draft, Passage


def citation_valid(citation: Citation, passages: Sequence[Passage]) -> bool:
    """True when the cited chunk was retrieved and the quote occurs (normalised) in its text.

    A passage's collapsed duplicates count as retrieved too. An empty quote is never valid.
    """
    if not normalize(citation.quote):
        return False
    for passage in passages:
        for chunk in (passage.chunk, *passage.duplicates):
            if chunk.id == citation.chunk_id:
                return contains(chunk.text, citation.quote)
    return False


def citations_valid(draft: Draft, passages: Sequence[Passage]) -> bool:
    """True when every citation is valid; a draft without citations is valid only if it abstained.

    Example:
        >>> citations_valid(Draft("Je ne sais pas.", abstained=True), [])
        True
    """
    if not draft.citations:
        return draft.abstained
    return all(citation_valid(c, passages) for c in draft.citations)


def evidence_in_text(evidence: Sequence[str], text: str) -> bool:
    """True when one evidence string occurs in the text after normalisation.

    Example:
        >>> evidence_in_text(["300 €"], "Le plafond est de 300\u00a0€.")
        True
    """
    normalized = normalize(text)
    return any(normalize(e) and normalize(e) in normalized for e in evidence)
