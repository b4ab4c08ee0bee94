"""Citation markers and their verification, for every generator.

A draft's body is checked sentence by sentence: each "[n]" must point to a passage given to the
generator (through the draft's `Citation` records), each quoted span («...», "...") must occur
in a passage the sentence cites, and each `Citation.quote` in its passage (normalised as in
FORMAT.md). A sentence with no valid citation gets a `Flag` with the reason; nothing is dropped.
The frame (opening, "Sources :" list, "Pour aller plus loin", closing, lines introducing a
list with ":") carries no claim and is not checked.

Example:
    >>> from assistant.records import Chunk, Citation, Passage
    >>> p = Passage(Chunk("c1", "Le don est plafonné à 300 € par bien.", "/c/don.md", "Don"), 1.0)
    >>> text = "Le don est plafonné à 300 € par bien. [1] Il faut un accord écrit."
    >>> [(f.sentence, f.reason) for f in verify(text, [Citation(1, "c1", "Le don est plafonné à 300 € par bien.")], [p])]
    [('Il faut un accord écrit.', 'no citation')]
"""

from __future__ import annotations

import re
from typing import Iterable, Sequence

from assistant.drafting import texts
from assistant.drafting.render import display
from assistant.text.sentences import split_sentences
from assistant.drafting.terms import sentence_terms
from assistant.text.normalize import contains, normalize
from assistant.records import Chunk, Citation, Flag, Passage

_MARKER = re.compile(r"\[(\d+(?:\s*[-–,;]\s*\d+)*)\]")
_QUOTED = re.compile(r"«\s*([^«»]{2,}?)\s*»|“([^“”]{2,}?)”|\"([^\"]{2,}?)\"")
_SOURCES_LINE = re.compile(r"^\s*(?:#+\s*|\*\*)?\s*(?:sources?|références?)\s*(?:\*\*)?\s*:?\s*(?:\*\*)?\s*$",
                           re.IGNORECASE)
_FURTHER_LINE = re.compile(r"^\s*(?:\*\*)?\s*pour aller plus loin", re.IGNORECASE)
_MAX_RANGE = 50
_FRAME = frozenset(normalize(s) for text in texts.FRAME for s in split_sentences(text))


def parse_markers(text: str) -> list[int]:
    """Marker numbers in order of first appearance: "[1]", "[1, 2]", "[2][3]", "[1-3]".

    Example:
        >>> parse_markers("Oui [2]. Et non [1, 3] [2] [4-5].")
        [2, 1, 3, 4, 5]
    """
    found: list[int] = []
    for match in _MARKER.finditer(text):
        for part in re.split(r"\s*[,;]\s*", match.group(1)):
            bounds = [int(x) for x in re.split(r"\s*[-–]\s*", part)]
            low, high = bounds[0], bounds[-1]
            numbers = range(low, high + 1) if 0 <= high - low <= _MAX_RANGE else (low, high)
            found.extend(n for n in numbers if n not in found)
    return found


def strip_markers(sentence: str) -> str:
    """The sentence without its markers and trailing spaces.

    Example:
        >>> strip_markers("Le seuil est de 300 €. [1]")
        'Le seuil est de 300 €.'
    """
    return " ".join(_MARKER.sub(" ", sentence).split())


def body_sentences(text: str) -> list[str]:
    """Sentences that make claims: the text before "Sources :", minus the frame.

    Example:
        >>> body_sentences("Voici :\\n- Le seuil est de 300 €. [1]\\n\\nSources :\\n[1] Don — 2023")
        ['Le seuil est de 300 €. [1]']
    """
    lines = []
    for line in text.splitlines():
        if _SOURCES_LINE.match(line):
            break
        if not _FURTHER_LINE.match(line):
            lines.append(line)
    out = []
    for sentence in split_sentences("\n".join(lines)):
        bare = strip_markers(sentence)
        if normalize(bare) in _FRAME or (bare.endswith(":") and not parse_markers(sentence)):
            continue
        out.append(sentence)
    return out


def verify(draft_text: str, citations: Sequence[Citation], passages: Sequence[Passage]) -> tuple[Flag, ...]:
    """Flags for everything in a draft that its passages do not back.

    Args:
        draft_text: The draft as the advisor will read it.
        citations: The draft's citation records (marker -> chunk id, quote).
        passages: The passages given to the generator.

    Returns:
        Flags in text order, each once: "no citation", "[7] points to no passage",
        "quote not found in [2]". Empty when every claim is backed.

    Example:
        >>> verify("Tout est permis. [7]", [], [])[0].reason
        '[7] points to no passage'
    """
    chunks = _chunks_by_id(passages)
    normalized: dict[str, str] = {}
    by_marker: dict[int, list[Chunk]] = {}
    flags: list[Flag] = []
    for citation in citations:
        chunk = chunks.get(citation.chunk_id)
        if chunk is None:
            flags.append(Flag(citation.quote, f"[{citation.marker}] points to no passage"))
            continue
        by_marker.setdefault(citation.marker, []).append(chunk)
        if not normalize(citation.quote) or not _holds(chunk, citation.quote, normalized):
            flags.append(Flag(citation.quote, f"quote not found in [{citation.marker}]"))
    for sentence in body_sentences(draft_text):
        flags.extend(_sentence_flags(sentence, by_marker, normalized))
    return tuple(dict.fromkeys(flags))


def cite_markers(text: str, passages: Sequence[Passage]) -> tuple[tuple[Citation, ...], tuple[Flag, ...]]:
    """Citation records for a text whose "[n]" numbers the passages as given (1-based).

    Used for generators that write their own sentences (LLM). The quote is the sentence itself
    when it occurs in the cited passage; otherwise it is the passage sentence closest to the
    claim, and the claim is flagged for the advisor to check against it.

    Example:
        >>> p = Passage(Chunk("c1", "Le don est plafonné à 300 €. Au-delà, il faut vendre.", "/d.md", "Don"), 1.0)
        >>> cites, flags = cite_markers("On peut donner jusqu'à 300 € [1].", [p])
        >>> cites[0].quote, flags[0].reason
        ('Le don est plafonné à 300 €.', 'not a verbatim quote of [1]: check the claim against the passage')
    """
    citations: list[Citation] = []
    flags: list[Flag] = []
    for sentence in body_sentences(text):
        claim = strip_markers(sentence).rstrip(" .;:")
        for marker in parse_markers(sentence):
            if not 1 <= marker <= len(passages):
                continue
            chunk = passages[marker - 1].chunk
            if claim and contains(chunk.text, claim):
                citations.append(Citation(marker, chunk.id, claim))
            else:
                citations.append(Citation(marker, chunk.id, closest_sentence(chunk.text, claim)))
                flags.append(Flag(strip_markers(sentence),
                                  f"not a verbatim quote of [{marker}]: check the claim against the passage"))
    return tuple(dict.fromkeys(citations)), tuple(dict.fromkeys(flags))


def closest_sentence(passage_text: str, claim: str) -> str:
    """The passage sentence sharing most content terms with `claim` (the first one on ties).

    Example:
        >>> closest_sentence("Le don est gratuit. Le seuil est de 300 €.", "seuil de 300 €")
        'Le seuil est de 300 €.'
    """
    sentences = split_sentences(passage_text) or [passage_text.strip()]
    wanted = sentence_terms(claim)
    return max(sentences, key=lambda s: len(wanted & sentence_terms(s)))


def _sentence_flags(sentence: str, by_marker: dict[int, list[Chunk]],
                    normalized: dict[str, str]) -> Iterable[Flag]:
    bare = strip_markers(sentence)
    markers = parse_markers(sentence)
    if not markers:
        if any(c.isalpha() for c in bare):
            yield Flag(bare, "no citation")
        return
    valid = [m for m in markers if m in by_marker]
    for marker in markers:
        if marker not in by_marker:
            yield Flag(bare, f"[{marker}] points to no passage")
    cited = [chunk for m in valid for chunk in by_marker[m]]
    for quote in _quoted_spans(bare):
        if valid and not any(_holds(chunk, quote, normalized) for chunk in cited):
            yield Flag(bare, f"quote not found in {', '.join(f'[{m}]' for m in valid)}")


def _quoted_spans(sentence: str) -> list[str]:
    return [next(g for g in match.groups() if g) for match in _QUOTED.finditer(sentence)]


def _chunks_by_id(passages: Sequence[Passage]) -> dict[str, Chunk]:
    chunks: dict[str, Chunk] = {}
    for passage in passages:
        for chunk in (passage.chunk, *passage.duplicates):
            chunks.setdefault(chunk.id, chunk)
    return chunks



def _holds(chunk: Chunk, quote: str, normalized: dict[str, str]) -> bool:
    """`contains(chunk.text, quote)` as the draft shows them (`render.display`), normalising each
    chunk once per verification."""
    if chunk.id not in normalized:
        normalized[chunk.id] = normalize(display(chunk.text))
    needle = normalize(display(quote))
    return bool(needle) and needle in normalized[chunk.id]
