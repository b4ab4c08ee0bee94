"""Chunk vectors as the mean of the vectors of short windows of the chunk.

A 900-character chunk often covers two or three ideas; embedded whole by a small (4-bit) model,
its vector sits between them and matches no question well. Each chunk is therefore cut into
windows of about `WINDOW_CHARS` characters (the heading path repeated in front of each), the
windows are embedded, and the chunk keeps the normalised mean of their vectors: still one vector
per chunk, so the store, the fusion and the lexical index are unchanged.

Measured on ../shared/evals/dev-questions.yaml over ../shared/corpus/minumeco (dense alone,
hit@5 / MRR@10): whole chunks 0.60 / 0.50, mean of 350-character windows 0.70 / 0.63; in the
default hybrid, 0.85 / 0.75 -> 0.90 / 0.79 (README, "How retrieval works" has the other sets).

Example:
    >>> from assistant.records import Chunk
    >>> chunk = Chunk("c1", "Premier paragraphe.\\n\\n" + "mot " * 120, "/g.md", "Guide", section="Don")
    >>> [w.splitlines()[0] for w in windows(chunk)]
    ['Guide > Don', 'Guide > Don']
"""

from __future__ import annotations

from typing import Sequence

import numpy as np
from langchain_text_splitters import RecursiveCharacterTextSplitter

from assistant.embeddings.base import Embedder
from assistant.records import Chunk

#: Target window length in characters (about 90 tokens). Windows of 250 (sample set only) and
#: 500 characters scored within one question of 350 in the hybrid.
WINDOW_CHARS = 350
#: Shorter pieces (a chunk's trailing words) are left out of the mean when the chunk has others.
MIN_WINDOW_CHARS = 40
#: Recorded with the embedder's name in the index: vectors made another way do not mix.
SCHEME = f"mean of {WINDOW_CHARS}-char windows"

_splitter = RecursiveCharacterTextSplitter(chunk_size=WINDOW_CHARS, chunk_overlap=WINDOW_CHARS // 6,
                                           separators=["\n\n", "\n", ". ", " ", ""])


def vector_space(embedder: Embedder) -> str:
    """Name of the vectors an embedder makes through this module, e.g. "e5-small, mean of ...".

    Example:
        >>> class E: name = "e5-small"
        >>> vector_space(E())
        'e5-small, mean of 350-char windows'
    """
    return f"{embedder.name}, {SCHEME}"


def space_mismatch(built_with: str, wanted: str) -> str:
    """One line saying how an index's vectors differ from the ones wanted, and the fix.

    Example:
        >>> space_mismatch("e5-small", "e5-small, mean of 350-char windows")[:60]
        "index vectors were made as 'e5-small', this version makes 'e"
    """
    old_name, new_name = built_with.split(",")[0], wanted.split(",")[0]
    if old_name != new_name:
        return (f"index built with {old_name!r}, settings ask for {new_name!r}: run 'guichet ingest "
                f"--rebuild PATH...' or set GUICHET_EMBEDDER={old_name}")
    return (f"index vectors were made as {built_with!r}, this version makes {wanted!r}: run "
            "'guichet ingest --rebuild PATH...' to re-embed")


def windows(chunk: Chunk) -> list[str]:
    """The texts embedded for one chunk: its windows, each after the chunk's heading path."""
    pieces = _splitter.split_text(chunk.text) or [chunk.text]
    kept = [p for p in pieces if len(p) >= MIN_WINDOW_CHARS] or pieces[:1]
    return [f"{chunk.heading}\n{piece}" if chunk.heading else piece for piece in kept]


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk]) -> np.ndarray:
    """One L2-normalised vector per chunk: the mean of its windows' vectors.

    All windows of all the chunks go to the embedder in one call (batching is the caller's).

    Example:
        >>> embed_chunks(make_embedder("e5-small"), chunks).shape   # doctest: +SKIP
        (32, 384)
    """
    texts: list[str] = []
    owners: list[int] = []
    for n, chunk in enumerate(chunks):
        found = windows(chunk)
        texts.extend(found)
        owners.extend([n] * len(found))
    vectors = np.asarray(embedder.embed_passages(texts), dtype=np.float32)
    if not chunks:
        return vectors  # every embedder returns an empty (0, dim) matrix for no text
    sums = np.zeros((len(chunks), vectors.shape[1]), dtype=np.float32)
    np.add.at(sums, np.asarray(owners), vectors)
    norms = np.linalg.norm(sums, axis=1, keepdims=True)
    return sums / np.where(norms > 0, norms, 1.0)
