"""Metadata filters of a search: document kind, source file, tags.

Kinds and sources go to the vector store as a Chroma `where` clause; tags (a comma-separated
string in chunk metadata) are checked after retrieval. The lexical side gets the exact set of
allowed chunk ids.

Example:
    >>> from assistant.records import Chunk
    >>> f = Filters(kinds=("answer",), tags=("DEEE",))
    >>> f.matches(Chunk("c1", "...", "/kb/reponses.csv", "R", kind="answer", metadata={"tags": "deee, don"}))
    True
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Iterable

from assistant.errors import InvalidQuery
from assistant.records import KINDS, Chunk


@dataclass(frozen=True)
class Filters:
    """What a passage must be to be returned; an empty field does not filter.

    Args:
        kinds: Any of these document kinds (see `records.KINDS`).
        sources: Any of these files, by base name ("guide.pdf") or absolute path.
        tags: Every one of these tags (case and accents ignored).

    Raises:
        InvalidQuery: an unknown kind, or a blank source or tag.

    Example:
        >>> Filters(sources=("faq.md",)).chroma_where(["/corpus/faq.md", "/corpus/guide.pdf"])
        {'source': {'$in': ['/corpus/faq.md']}}
    """

    kinds: tuple[str, ...] = ()
    sources: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for field in ("kinds", "sources", "tags"):
            value = getattr(self, field)
            if isinstance(value, str):  # Filters(kinds="answer") means ("answer",)
                object.__setattr__(self, field, (value,))
        unknown = [kind for kind in self.kinds if kind not in KINDS]
        if unknown:
            raise InvalidQuery(f"unknown document kind {unknown[0]!r}: choose among {', '.join(KINDS)}")
        if any(not s.strip() for s in self.sources) or any(not t.strip() for t in self.tags):
            raise InvalidQuery("a source or tag filter is empty: give a file name or a tag")

    def __bool__(self) -> bool:
        return bool(self.kinds or self.sources or self.tags)

    def matches(self, chunk: Chunk) -> bool:
        """True when the chunk passes every filter."""
        if self.kinds and chunk.kind not in self.kinds:
            return False
        if self.sources and not self.source_matches(chunk.source):
            return False
        if self.tags:
            have = set(split_tags(chunk.metadata.get("tags", "")))
            return all(tag in have for tag in split_tags(",".join(self.tags)))
        return True

    def source_matches(self, path: str) -> bool:
        return path in self.sources or Path(path).name in self.sources

    def chroma_where(self, paths: Iterable[str]) -> dict | None:
        """A Chroma `where` clause for kinds and sources, given every indexed file path.

        Returns None when neither filter is set. Tags are left to `matches`.
        """
        clauses: list[dict] = []
        if self.kinds:
            clauses.append({"kind": {"$in": list(self.kinds)}})
        if self.sources:
            clauses.append({"source": {"$in": sorted(p for p in paths if self.source_matches(p))}})
        if not clauses:
            return None
        return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def split_tags(text: str) -> list[str]:
    """Comma-separated tags, trimmed, lower case, accents folded.

    Example:
        >>> split_tags(" Numérique, DEEE ,, ")
        ['numerique', 'deee']
    """
    from assistant.text.normalize import fold

    return [fold(tag.strip().lower()) for tag in text.split(",") if tag.strip()]
