"""Passages as stored references: what a draft job keeps of the passages it must draft from.

The buyer's acknowledgement already ran the search; its passages are stored with the draft job
(chunk ids, scores and ranks, not the text) so that the draft, made later by any process, is
the one an immediate draft would have been, without embedding the question a second time. An
advisor's picked passages travel the same way.

Example:
    >>> from assistant.records import Chunk, Passage
    >>> chunk = Chunk("c1", "Le don est plafonné à 300 €.", "/d.md", "Don")
    >>> refs = to_refs([Passage(chunk, 0.8, (), 1, 2)])
    >>> refs
    [{'chunk_id': 'c1', 'score': 0.8, 'duplicates': [], 'lexical_rank': 1, 'dense_rank': 2}]
    >>> from_refs(refs, {"c1": chunk})[0].dense_rank
    2
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import Any

from assistant.records import Chunk, Passage

#: Passage fields stored as they are (every field but the chunk and its duplicates).
_SCALARS = tuple(f.name for f in dataclasses.fields(Passage) if f.name not in ("chunk", "duplicates"))


def to_refs(passages: Sequence[Passage]) -> list[dict[str, Any]]:
    """JSON-ready references to passages, best first."""
    return [{"chunk_id": p.chunk.id, "score": float(p.score), "duplicates": [d.id for d in p.duplicates],
             **{name: getattr(p, name) for name in _SCALARS if name != "score"}} for p in passages]


def chunk_ids(refs: Sequence[Mapping[str, Any]]) -> list[str]:
    """Every chunk id the references need (passages and their duplicates)."""
    return [i for r in refs for i in (r["chunk_id"], *r.get("duplicates", ()))]


def from_refs(refs: Sequence[Mapping[str, Any]], chunks: Mapping[str, Chunk]) -> list[Passage] | None:
    """The passages again, from the chunks the catalog returned for `chunk_ids(refs)`.

    Returns:
        The passages, or None when a referenced chunk is no longer indexed (the documents
        changed since): the caller then searches again.
    """
    if any(i not in chunks for i in chunk_ids(refs)):
        return None
    return [Passage(chunks[r["chunk_id"]], float(r.get("score", 0.0)),
                    tuple(chunks[d] for d in r.get("duplicates", ())),
                    **{name: r.get(name) for name in _SCALARS if name != "score"}) for r in refs]
