"""Stored passage references: a draft job drafts from exactly what the acknowledgement found."""

from __future__ import annotations

import json

import pytest

from assistant.drafting.refs import chunk_ids, from_refs, to_refs
from assistant.records import Chunk, Passage

GUIDE = Chunk("g1", "Le don est plafonné à 300 € par bien.", "/c/guide.md", "Guide du don", section="Don")
COPY = Chunk("p1", "Le don est plafonné à 300 € par bien.", "/c/guide.pdf", "Guide du don", page=4)
FAQ = Chunk("f1", "Un label équivalent doit être accepté.", "/c/faq.md", "FAQ", section="Labels")
CHUNKS = {c.id: c for c in (GUIDE, COPY, FAQ)}


@pytest.mark.parametrize("passages", [
    [],
    [Passage(GUIDE, 0.9, (COPY,), 1, 3), Passage(FAQ, 0.25, (), None, 1)],
    [Passage(FAQ, 1.0)],
], ids=["empty", "ranked with a duplicate", "picked by an advisor"])
def test_round_trip_through_json_gives_the_same_passages(passages):
    refs = json.loads(json.dumps(to_refs(passages)))
    assert from_refs(refs, CHUNKS) == passages, "the draft must see the passages the search returned"


def test_every_needed_chunk_is_listed_duplicates_included():
    refs = to_refs([Passage(GUIDE, 0.9, (COPY,), 1, 3), Passage(FAQ, 0.2)])
    assert chunk_ids(refs) == ["g1", "p1", "f1"]


@pytest.mark.parametrize("missing", ["g1", "p1"], ids=["a passage", "a duplicate"])
def test_a_chunk_no_longer_indexed_asks_for_a_new_search(missing):
    refs = to_refs([Passage(GUIDE, 0.9, (COPY,), 1, 3)])
    chunks = {k: v for k, v in CHUNKS.items() if k != missing}
    assert from_refs(refs, chunks) is None, "stale references must not draft from a partial list"
