"""LangChain adapter: the hybrid retriever as a `BaseRetriever`, for users' own chains.

LangChain objects stay in this module; the rest of the project exchanges `records` types.

Example:
    >>> retriever = GuichetRetriever(retriever=assistant.retriever, k=3)   # doctest: +SKIP
    >>> docs = retriever.invoke("Peut-on exiger un label dans un DCE ?")    # doctest: +SKIP
    >>> docs[0].metadata["source"], docs[0].metadata["page"]               # doctest: +SKIP
    ('/corpus/guide-achats-numeriques-responsables-2021.pdf', 38)
"""

from __future__ import annotations

from typing import Any

from langchain_core.callbacks import CallbackManagerForRetrieverRun
from langchain_core.documents import Document
from langchain_core.retrievers import BaseRetriever

from assistant.records import Passage
from assistant.retrieval.filters import Filters
from assistant.retrieval.hybrid import passage_metadata


class GuichetRetriever(BaseRetriever):
    """Wraps a `HybridRetriever`; returns one `Document` per passage.

    Each document's `page_content` is the chunk's original text; its metadata holds
    `source`, `title`, `kind`, `page`, `section`, `location`, `score`, `chunk_id`,
    `lexical_rank`, `dense_rank` and `duplicates` (sources of the collapsed copies).

    Args:
        retriever: A `HybridRetriever` (or anything with its `search` signature).
        k: Passages per query (None: the retriever's `top_k` setting).
        filters: Kinds, sources and tags the passages must have.
        mode: "hybrid", "lexical" or "dense".

    Example:
        >>> GuichetRetriever(retriever=hybrid, k=2).invoke("don de PC à une association")  # doctest: +SKIP
        [Document(metadata={'chunk_id': '...', 'source': '/corpus/fin-usage--don.md', ...}, ...)]
    """

    retriever: Any
    k: int | None = None
    filters: Filters | None = None
    mode: str = "hybrid"

    def _get_relevant_documents(self, query: str, *,
                                run_manager: CallbackManagerForRetrieverRun) -> list[Document]:
        passages = self.retriever.search(query, k=self.k, filters=self.filters, mode=self.mode)
        return [to_document(p) for p in passages]


def to_document(passage: Passage) -> Document:
    """A LangChain Document for a passage (`id` = chunk id).

    Example:
        >>> from assistant.records import Chunk
        >>> to_document(Passage(Chunk("c1", "Le texte.", "/g.pdf", "G", page=2), 0.3)).metadata["page"]
        2
    """
    return Document(page_content=passage.chunk.text, metadata=passage_metadata(passage),
                    id=passage.chunk.id)
