"""Chunk vectors as the mean of the vectors of short windows of the chunk.

A 900-character chunk often covers two or three ideas; embedded whole by a small (4-bit) model,
its vector sits between them and matches no question well. Each chunk is therefore cut into
windows of about `WINDOW_CHARS` characters (the heading path repeated in front of each), the
windows are embedded, and the chunk keeps the normalised mean of their vectors: still one vector
per chunk for the nearest-neighbour search. The window vectors are kept beside it: the
second-stage ranker scores a candidate by its best window too (`assistant.retrieval.ranker`).

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

from dataclasses import dataclass
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
SCHEME = f"mean of {WINDOW_CHARS}-char windows, windows kept"

_splitter = RecursiveCharacterTextSplitter(chunk_size=WINDOW_CHARS, chunk_overlap=WINDOW_CHARS // 6,
                                           separators=["\n\n", "\n", ". ", " ", ""])


def vector_space(embedder: Embedder) -> str:
    """Name of the vectors an embedder makes through this module, e.g. "e5-small, mean of ...".

    Example:
        >>> class E: name = "e5-small"
        >>> vector_space(E())
        'e5-small, mean of 350-char windows, windows kept'
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


@dataclass(frozen=True)
class ChunkVectors:
    """What `embed_chunks` makes for a batch of chunks.

    Args:
        vectors: (chunks, dim) L2-normalised chunk vectors, the mean of each chunk's windows.
        windows: One (windows, dim) array of L2-normalised window vectors per chunk.
    """

    vectors: np.ndarray
    windows: tuple[np.ndarray, ...]


def embed_chunks(embedder: Embedder, chunks: Sequence[Chunk]) -> ChunkVectors:
    """One L2-normalised vector per chunk (the mean of its windows' vectors), and the windows'.

    All windows of all the chunks go to the embedder in one call (batching is the caller's).

    Example:
        >>> embed_chunks(make_embedder("e5-small"), chunks).vectors.shape   # doctest: +SKIP
        (32, 384)
    """
    texts: list[str] = []
    bounds = [0]
    for chunk in chunks:
        texts.extend(windows(chunk))
        bounds.append(len(texts))
    vectors = np.asarray(embedder.embed_passages(texts), dtype=np.float32)
    if not chunks:
        return ChunkVectors(vectors, ())  # every embedder returns an empty (0, dim) matrix for no text
    parts = tuple(vectors[a:b] for a, b in zip(bounds, bounds[1:]))
    return ChunkVectors(np.stack([normalised(part.sum(axis=0)) for part in parts]), parts)


def normalised(vector: np.ndarray) -> np.ndarray:
    """The vector scaled to unit length (a zero vector stays zero)."""
    norm = float(np.linalg.norm(vector))
    return vector / norm if norm > 0 else vector
