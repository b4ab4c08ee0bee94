"""The LangChain adapter over the real small index."""

from __future__ import annotations

import pytest
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.records import Chunk, Passage
from assistant.retrieval.filters import Filters
from assistant.compose import retrieval_config
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.langchain import GuichetRetriever, to_document


@pytest.fixture(scope="module")
def hybrid(small_index) -> HybridRetriever:
    return HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                           retrieval_config(small_index.settings()))


@pytest.mark.slow
def test_invoke_returns_documents_with_metadata(hybrid):
    retriever = GuichetRetriever(retriever=hybrid, k=2)
    assert isinstance(retriever, BaseRetriever)
    docs = retriever.invoke("j'ai le droit d'exiger un label dans mon DCE ?")
    assert len(docs) == 2 and all(isinstance(d, Document) for d in docs)
    top = docs[0]
    assert "R2111-15" in top.page_content, "page_content is the chunk's original text"
    assert top.metadata["page"] == 38 and top.metadata["source"].endswith(".pdf")
    assert {"source", "page", "section", "score", "chunk_id"} <= set(top.metadata)
    assert top.id == top.metadata["chunk_id"]


@pytest.mark.slow
def test_filters_and_mode_are_passed(hybrid):
    docs = GuichetRetriever(retriever=hybrid, k=5, filters=Filters(kinds=("answer",)),
                            mode="lexical").invoke("ordinateur de 7 ans")
    assert [d.metadata["kind"] for d in docs] == ["answer"]
    assert docs[0].metadata["dense_rank"] is None, "lexical mode"


@pytest.mark.slow
def test_batch(hybrid):
    results = GuichetRetriever(retriever=hybrid, k=1).batch(["label DCE", "don association 300€"])
    assert [len(r) for r in results] == [1, 1]


def test_to_document_keeps_duplicates():
    passage = Passage(Chunk("c1", "texte", "/a.md", "A", section="Intro"), 0.7,
                      duplicates=(Chunk("c2", "texte", "/a.pdf", "A", page=3),), lexical_rank=1)
    doc = to_document(passage)
    assert doc.page_content == "texte" and doc.metadata["duplicates"] == ["/a.pdf"]
    assert doc.metadata["section"] == "Intro" and doc.metadata["page"] is None
    assert doc.metadata["score"] == 0.7 and doc.metadata["lexical_rank"] == 1
