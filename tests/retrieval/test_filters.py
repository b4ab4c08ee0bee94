"""Filters on kind, source and tags."""

from __future__ import annotations

import pytest

from assistant.errors import InvalidQuery
from assistant.records import Chunk
from assistant.retrieval.filters import Filters, split_tags

GUIDE = Chunk("g", "t", "/corpus/pdf/guide.pdf", "Guide", kind="guide",
              metadata={"tags": "Numérique, Achats"})
ANSWER = Chunk("a", "t", "/kb/reponses.csv", "Réponse", kind="answer", metadata={"tags": "DEEE,don"})
BARE = Chunk("b", "t", "/corpus/faq.md", "FAQ", kind="resource")


@pytest.mark.parametrize("filters, expected", [
    (Filters(), {"g", "a", "b"}),
    (Filters(kinds=("answer",)), {"a"}),
    (Filters(kinds=("answer", "guide")), {"a", "g"}),
    (Filters(kinds="resource"), {"b"}),
    (Filters(sources=("guide.pdf",)), {"g"}),
    (Filters(sources=("/kb/reponses.csv", "faq.md")), {"a", "b"}),
    (Filters(sources=("other.pdf",)), set()),
    (Filters(tags=("numerique",)), {"g"}),
    (Filters(tags=("NUMÉRIQUE", "achats")), {"g"}),
    (Filters(tags=("deee", "achats")), set()),
    (Filters(tags=("don",), kinds=("answer",)), {"a"}),
    (Filters(tags=("don",), kinds=("guide",)), set()),
])
def test_matches(filters, expected):
    assert {c.id for c in (GUIDE, ANSWER, BARE) if filters.matches(c)} == expected


def test_empty_filters_are_false():
    assert not Filters() and Filters(tags=("x",))


@pytest.mark.parametrize("filters, where", [
    (Filters(), None),
    (Filters(tags=("x",)), None),
    (Filters(kinds=("answer",)), {"kind": {"$in": ["answer"]}}),
    (Filters(sources=("guide.pdf",)), {"source": {"$in": ["/corpus/pdf/guide.pdf"]}}),
    (Filters(kinds=("guide",), sources=("guide.pdf",)),
     {"$and": [{"kind": {"$in": ["guide"]}}, {"source": {"$in": ["/corpus/pdf/guide.pdf"]}}]}),
])
def test_chroma_where(filters, where):
    assert filters.chroma_where(["/corpus/pdf/guide.pdf", "/corpus/faq.md"]) == where


@pytest.mark.parametrize("kwargs, message", [
    ({"kinds": ("pdf",)}, "unknown document kind 'pdf'"),
    ({"sources": ("",)}, "a source or tag filter is empty"),
    ({"tags": (" ",)}, "a source or tag filter is empty"),
])
def test_bad_filters(kwargs, message):
    with pytest.raises(InvalidQuery, match=message):
        Filters(**kwargs)


@pytest.mark.parametrize("text, expected", [
    ("", []), (" , ", []), ("DEEE", ["deee"]), ("Numérique, Achats ", ["numerique", "achats"]),
])
def test_split_tags(text, expected):
    assert split_tags(text) == expected
