"""Checks of one draft against the passages retrieved for its question. Pure functions.

Example:
    >>> from assistant.records import Chunk, Citation, Draft, Passage
    >>> p = Passage(Chunk("c1", "Le seuil est de 300 €.", "/c/don.md", "Don"), 1.0)
    >>> citations_valid(Draft("Seuil : 300 € [1].", (Citation(1, "c1", "300 €"),)), [p])
    True
"""

from __future__ import annotations

from typing import Sequence

import re

from assistant.drafting.citations import body_sentences, parse_markers, strip_markers
from assistant.text.sentences import cut_reason
from assistant.drafting.texts import SOURCES_HEADING
from assistant.text.normalize import contains, normalize
from assistant.records import Citation, Draft, Passage

_BULLET = re.compile(r"^\s*(?:[-*•]|\d{1,2}[.)])\s+(.*\S)\s*$")


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


def bullets(text: str) -> list[str]:
    """The claims of a draft as the advisor reads them: its bullet lines (without the bullet),
    or, in a draft written as prose, its sentences that cite a source; the sources list and
    the frame (opening, closing, "Pour aller plus loin") are not claims.

    Example:
        >>> bullets("Voici :\\n- Le seuil est de 300 €. [1]\\n- Les étapes : [2]\\n\\nSources :\\n- [1] Guide")
        ['Le seuil est de 300 €. [1]', 'Les étapes : [2]']
    """
    body = text.split("\n" + SOURCES_HEADING)[0]
    listed = [m.group(1) for line in body.splitlines() if (m := _BULLET.match(line))]
    if listed:
        return listed
    return [s for s in body_sentences(text) if parse_markers(s)]


def cut_bullets(text: str) -> list[tuple[str, str]]:
    """(bullet, reason) of each bullet of the draft that is not a whole sentence.

    "Cut" is `sentences.cut_reason`: a table row, a list intro ending in ":", no final
    punctuation, or a start in the middle of a sentence, judged without the markers.

    Example:
        >>> cut_bullets("- Le seuil est de 300 €. [1]\\n- Les étapes : [2]")
        [('Les étapes :', 'introduces a list')]
    """
    out = []
    for bullet in bullets(text):
        reason = cut_reason(bullet)
        if reason:
            out.append((strip_markers(bullet), reason))
    return out


def first_cited_sentence(text: str) -> str | None:
    """The first sentence of the draft's body that cites a source, or None.

    Example:
        >>> first_cited_sentence("Voici :\\n- Le seuil est de 300 €. [1]\\n- Un délai de 15 jours. [2]")
        'Le seuil est de 300 €. [1]'
    """
    return next((s for s in body_sentences(text) if parse_markers(s)), None)


def evidence_first(evidence: Sequence[str], text: str) -> bool:
    """True when the draft's first cited sentence holds an evidence string.

    Example:
        >>> evidence_first(["300 €"], "Voici :\\n- Le seuil est de 300 €. [1]")
        True
    """
    first = first_cited_sentence(text)
    return first is not None and evidence_in_text(evidence, first)
