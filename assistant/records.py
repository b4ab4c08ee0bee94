"""Typed records exchanged between pipeline stages.

Stages pass these small frozen dataclasses to each other; LangChain and Chroma objects stay
inside the adapters that need them.

Example:
    >>> section = Section(text="Le numérique pèse 3,8 %.", page=12)
    >>> doc = Document(source="/data/guide.pdf", title="Guide", kind="guide", sections=(section,))
    >>> doc.sections[0].page
    12
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Mapping

#: Document kinds that retrieval can filter or boost ("peer": a buyer who already did it).
KINDS = ("guide", "answer", "resource", "peer")


@dataclass(frozen=True)
class Section:
    """A citable unit of a document: one PDF page, or one headed section of a text document.

    Args:
        text: The section's plain text, as it will be quoted.
        page: 1-based page number for paginated formats, else None.
        heading: Heading path from the document root to this section.
        start: Character offset of the section in the document's full plain text.
    """

    text: str
    page: int | None = None
    heading: tuple[str, ...] = ()
    start: int = 0


@dataclass(frozen=True)
class Document:
    """A loaded file: its title, kind, metadata and citable sections.

    Args:
        source: Absolute path of the file.
        title: Title from metadata, front matter or the first heading.
        kind: One of KINDS.
        sections: Citable sections in reading order.
        metadata: Scalar metadata (date, url, tags as a comma-separated string, ...).
    """

    source: str
    title: str
    kind: str
    sections: tuple[Section, ...]
    metadata: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Chunk:
    """A piece of a section, the unit that gets embedded, indexed and cited.

    Args:
        id: Stable id derived from source, position and text (see `chunk_id`).
        text: Original text, quoted verbatim in drafts.
        source: Absolute path of the source file.
        title: Document title.
        kind: Document kind (one of KINDS).
        page: 1-based page for paginated sources.
        section: Heading path joined with " > ".
        start: Offset of the chunk in the document's full plain text.
        metadata: Document metadata (date, url, tags, ...).
    """

    id: str
    text: str
    source: str
    title: str
    kind: str = "guide"
    page: int | None = None
    section: str = ""
    start: int = 0
    metadata: Mapping[str, str] = field(default_factory=dict)

    @property
    def heading(self) -> str:
        """Title and heading path, e.g. "Guide > Fin de vie > Don" ("" when neither is known)."""
        return " > ".join(part for part in (self.title, self.section) if part)

    @property
    def index_text(self) -> str:
        """Text that is embedded and lexically indexed: title and heading path give context."""
        return f"{self.heading}\n{self.text}" if self.heading else self.text

    @property
    def location(self) -> str:
        """Human-readable place in the source: "p. 12" or the heading path."""
        if self.page is not None:
            return f"p. {self.page}"
        return self.section or "document entier"


def chunk_id(source: str, page: int | None, start: int, text: str) -> str:
    """Stable chunk id: same file, place and text give the same id across runs."""
    key = "\x1f".join((source, str(page), str(start), text))
    return hashlib.sha256(key.encode("utf-8")).hexdigest()[:32]


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk with its fused score.

    Args:
        chunk: The retrieved chunk.
        score: Fused relevance score (higher is better).
        duplicates: Other chunks with the same text from other sources (collapsed into this one).
        lexical_rank: 1-based rank in the lexical list, or None if absent.
        dense_rank: 1-based rank in the dense list, or None if absent.
    """

    chunk: Chunk
    score: float
    duplicates: tuple[Chunk, ...] = ()
    lexical_rank: int | None = None
    dense_rank: int | None = None


@dataclass(frozen=True)
class Citation:
    """A numbered reference from a draft to one of the passages given to the generator.

    Args:
        marker: The n of "[n]" in the draft text.
        chunk_id: Id of the cited chunk.
        quote: The quoted span, verbatim from the chunk.
    """

    marker: int
    chunk_id: str
    quote: str


@dataclass(frozen=True)
class Flag:
    """Something the advisor must check before validating a draft."""

    sentence: str
    reason: str


#: What a draft does with the question: answers it, says what the sources hold on the
#: subject without the answer asked for (partial), or abstains and says whom to ask.
OUTCOMES = ("answer", "partial", "abstain")


@dataclass(frozen=True)
class Draft:
    """A first-level answer for the advisor, a partial answer, or an abstention, with its reason.

    Args:
        text: What the advisor reads (and may send after editing).
        citations: Markers of the text and the passages they quote.
        passages: The passages the generator was given.
        abstained: True when the draft declines to answer (outcome "abstain"); a partial draft
            is not an abstention.
        reason: Why this outcome, in French, for the advisor.
        flags: What the advisor must check.
        generator: Name of the generator.
        outcome: One of OUTCOMES; empty = "abstain" when `abstained`, else "answer".
        peers: The peer experiences proposed with it ("Des acheteurs qui l'ont fait").

    Example:
        >>> Draft("Je ne sais pas.", abstained=True).outcome
        'abstain'
        >>> Draft("Les sources ne donnent pas ce chiffre.", outcome="partial").abstained
        False
    """

    text: str
    citations: tuple[Citation, ...] = ()
    passages: tuple[Passage, ...] = ()
    abstained: bool = False
    reason: str = ""
    flags: tuple[Flag, ...] = ()
    generator: str = "extractive"
    outcome: str = ""
    peers: tuple[Passage, ...] = ()

    def __post_init__(self) -> None:
        outcome = self.outcome or ("abstain" if self.abstained else "answer")
        if outcome not in OUTCOMES:
            raise ValueError(f"unknown draft outcome {outcome!r}: choose one of {', '.join(OUTCOMES)}")
        if (outcome == "abstain") != self.abstained:
            raise ValueError(f"outcome {outcome!r} contradicts abstained={self.abstained}")
        object.__setattr__(self, "outcome", outcome)
