"""BM25 over analysed chunk tokens, in a sparse matrix that persists to one file.

Written on scipy.sparse rather than on bm25s because retrieval needs three things bm25s does not
give: per-term query weights (acronym and synonym expansions count less than the buyer's own
words), a filter on allowed chunk ids, and an incremental update (adding one document to a
100,000-chunk index must not re-read every chunk). Term frequencies are stored raw and BM25 is
computed at query time from them, so IDF and average length stay exact after any update.

Example:
    >>> index = LexicalIndex.build([("c1", ["label", "ecolabel"]), ("c2", ["deee", "don"])])
    >>> [(chunk, round(score, 3)) for chunk, score in index.search(["deee"], k=5)]
    [('c2', 0.693)]
"""

from __future__ import annotations

import bisect
import json
import os
import tempfile
import zipfile
from pathlib import Path
from typing import Iterable, Sequence

import numpy as np
from scipy import sparse

from assistant.text.analysis import ANALYZER_VERSION

#: Bump when the file layout changes.
FORMAT_VERSION = 1
FILE_NAME = "lexical.npz"


class LexicalIndex:
    """An Okapi BM25 index of chunk ids over pre-analysed tokens.

    Args:
        ids: Chunk ids, one per matrix row.
        vocabulary: Tokens, one per matrix column.
        tf: CSC matrix (rows = chunks, columns = tokens) of term frequencies.
        k1: BM25 term-frequency saturation.
        b: BM25 length normalisation.

    Use `build`, `load` or `for_catalog` rather than the constructor.

    Example:
        >>> index = LexicalIndex.build([("a", ["bio", "cantin"]), ("b", ["bio"])])
        >>> [chunk for chunk, _ in index.search(["cantin", "bio"], k=2)]
        ['a', 'b']
    """

    def __init__(self, ids: Sequence[str], vocabulary: Sequence[str], tf: sparse.csc_matrix,
                 k1: float = 1.2, b: float = 0.75) -> None:
        if tf.shape != (len(ids), len(vocabulary)):
            raise ValueError(f"term matrix shape {tf.shape} does not match {len(ids)} ids "
                             f"and {len(vocabulary)} tokens")
        self.ids = list(ids)
        self.vocabulary = list(vocabulary)
        self.k1 = k1
        self.b = b
        #: Catalog generation this index was built from (set by `load` and `for_catalog`).
        self.generation: int | None = None
        self._sorted: list[str] | None = None
        self._tf = sparse.csc_matrix(tf, dtype=np.float32)
        self._row = {id_: i for i, id_ in enumerate(self.ids)}
        self._col = {tok: j for j, tok in enumerate(self.vocabulary)}
        lengths = np.asarray(self._tf.sum(axis=1)).ravel().astype(np.float32)
        avg = float(lengths.mean()) if len(lengths) and lengths.mean() > 0 else 1.0
        self._norm = (k1 * (1 - b + b * lengths / avg)).astype(np.float32)
        df = np.diff(self._tf.indptr).astype(np.float64)
        n = len(self.ids)
        self._idf = np.log1p((n - df + 0.5) / (df + 0.5)).astype(np.float32)

    def __len__(self) -> int:
        return len(self.ids)

    @classmethod
    def build(cls, rows: Iterable[tuple[str, Sequence[str]]]) -> "LexicalIndex":
        """Index (chunk id, tokens) rows, e.g. `Catalog.token_rows()`.

        Example:
            >>> len(LexicalIndex.build([("a", ["x"]), ("b", [])]))
            2
        """
        ids, vocabulary, matrix = _count(rows, {})
        return cls(ids, vocabulary, matrix.tocsc())

    def search(self, query_tokens: Sequence[str], k: int,
               allowed_ids: set[str] | None = None,
               weights: Sequence[float] | None = None) -> list[tuple[str, float]]:
        """The k best chunks for the query tokens, best first.

        Args:
            query_tokens: Analysed query tokens (unknown tokens are ignored).
            k: How many results at most.
            allowed_ids: If given, only these chunk ids may be returned.
            weights: One weight per query token (default 1.0); a token repeated keeps its
                largest weight.

        Returns:
            (chunk id, BM25 score) pairs with score > 0, best first, ties by index order.

        Raises:
            ValueError: k <= 0, or weights of another length than the tokens.
        """
        return self.best(self.scores(query_tokens, weights), k, allowed_ids)

    def best(self, scores: np.ndarray | None, k: int, allowed_ids: set[str] | None = None) -> list[tuple[str, float]]:
        """The k chunks of highest positive score in a `scores` array, best first.

        Raises:
            ValueError: k <= 0.

        Example:
            >>> index = LexicalIndex.build([("a", ["x"]), ("b", ["x", "y"])])
            >>> [chunk for chunk, _ in index.best(index.scores(["y"]), k=5)]
            ['b']
        """
        if k <= 0:
            raise ValueError(f"k must be > 0, got {k}")
        if scores is None:
            return []
        if allowed_ids is not None:
            scores = scores.copy()
            mask = np.zeros(len(self.ids), dtype=bool)
            mask[[self._row[i] for i in allowed_ids if i in self._row]] = True
            scores[~mask] = 0.0
        hits = np.flatnonzero(scores > 0)
        if len(hits) > k:
            hits = hits[np.argpartition(-scores[hits], k - 1)[:k]]
        hits = hits[np.lexsort((hits, -scores[hits]))]
        return [(self.ids[i], float(scores[i])) for i in hits]

    def scores(self, query_tokens: Sequence[str],
               weights: Sequence[float] | None = None) -> np.ndarray | None:
        """The BM25 score of every chunk (in `ids` order) for the query tokens.

        Args:
            query_tokens: Analysed query tokens (unknown tokens are ignored).
            weights: One weight per query token (default 1.0); a token repeated keeps its
                largest weight.

        Returns:
            A float32 array with one score per chunk, or None when no query token is indexed.

        Raises:
            ValueError: weights of another length than the tokens.

        Example:
            >>> [round(s, 3) for s in LexicalIndex.build([("a", ["x"]), ("b", ["y"])]).scores(["y"]).tolist()]
            [0.0, 0.693]
        """
        if weights is not None and len(weights) != len(query_tokens):
            raise ValueError(f"got {len(weights)} weights for {len(query_tokens)} query tokens")
        terms: dict[int, float] = {}
        for i, token in enumerate(query_tokens):
            col = self._col.get(token)
            if col is not None:
                weight = 1.0 if weights is None else float(weights[i])
                terms[col] = max(terms.get(col, 0.0), weight)
        if not terms or not self.ids:
            return None
        scores = np.zeros(len(self.ids), dtype=np.float32)
        indptr, indices, data = self._tf.indptr, self._tf.indices, self._tf.data
        for col, weight in terms.items():
            rows = indices[indptr[col]:indptr[col + 1]]
            tf = data[indptr[col]:indptr[col + 1]]
            # rows are unique within a column, so fancy-index += accumulates correctly
            scores[rows] += weight * self._idf[col] * tf * (self.k1 + 1) / (tf + self._norm[rows])
        return scores

    def row(self, chunk_id: str) -> int | None:
        """Position of a chunk in `ids` (and in `scores`), or None if it is not indexed."""
        return self._row.get(chunk_id)

    def idf(self, token: str) -> float:
        """Inverse document frequency of a token (0.0 for a token no chunk holds).

        Example:
            >>> round(LexicalIndex.build([("a", ["x"]), ("b", ["y"])]).idf("x"), 3)
            0.693
        """
        col = self._col.get(token)
        return 0.0 if col is None else float(self._idf[col])

    def __contains__(self, token: str) -> bool:
        return token in self._col

    def document_frequency(self, token: str) -> int:
        """How many chunks hold `token` (0 for a token the index does not know).

        Example:
            >>> LexicalIndex.build([("a", ["bio"]), ("b", ["bio", "cantin"])]).document_frequency("bio")
            2
        """
        return self._df(token) if token in self._col else 0

    def completions(self, prefix: str, limit: int = 3) -> list[str]:
        """The `limit` most frequent indexed tokens that start with `prefix` (and are longer).

        Buyers clip words ("fab", "recond", "asso"); a clipped word the index does not know is
        completed into the words it probably stands for.

        Example:
            >>> LexicalIndex.build([("a", ["fabric", "fabriqu"]), ("b", ["fabric"])]).completions("fab")
            ['fabric', 'fabriqu']
        """
        if self._sorted is None:
            self._sorted = sorted(self.vocabulary)
        start = bisect.bisect_right(self._sorted, prefix)
        end = bisect.bisect_left(self._sorted, prefix + "\uffff")
        found = [(-self._df(t), t) for t in self._sorted[start:end]]
        return [t for _, t in sorted(found)[:limit]]

    def _df(self, token: str) -> int:
        col = self._col[token]
        return int(self._tf.indptr[col + 1] - self._tf.indptr[col])

    def with_changes(self, added: Iterable[tuple[str, Sequence[str]]],
                     removed: Iterable[str] = ()) -> "LexicalIndex":
        """A new index with some chunks removed and others added (an id in both is replaced).

        Costs one pass over the stored matrix, not a re-analysis of every chunk.

        Example:
            >>> index = LexicalIndex.build([("a", ["x"])]).with_changes([("b", ["y"])], ["a"])
            >>> index.ids
            ['b']
        """
        added = list(added)
        drop = set(removed) | {id_ for id_, _ in added}
        keep = np.array([i for i, id_ in enumerate(self.ids) if id_ not in drop], dtype=np.int64)
        col = dict(self._col)
        new_ids, vocabulary, new_rows = _count(added, col)
        old = self._tf.tocsr()[keep] if len(keep) else sparse.csr_matrix((0, len(self.vocabulary)))
        old = sparse.csr_matrix((old.data, old.indices, old.indptr), shape=(old.shape[0], len(vocabulary)))
        matrix = sparse.vstack([old, new_rows], format="csc")
        ids = [self.ids[i] for i in keep] + new_ids
        return LexicalIndex(ids, vocabulary, matrix, k1=self.k1, b=self.b)

    def save(self, folder: Path, generation: int) -> Path:
        """Write the index atomically to `folder/lexical.npz`, stamped with the catalog generation."""
        folder.mkdir(parents=True, exist_ok=True)
        meta = {"format": FORMAT_VERSION, "analyzer": ANALYZER_VERSION, "generation": generation,
                "k1": self.k1, "b": self.b}
        fd, tmp = tempfile.mkstemp(dir=folder, prefix=".lexical-", suffix=".npz")
        os.close(fd)
        try:
            np.savez(tmp, indptr=self._tf.indptr, indices=self._tf.indices, data=self._tf.data,
                     ids=_pack(self.ids), vocabulary=_pack(self.vocabulary),
                     meta=_pack([json.dumps(meta)]))
            os.replace(tmp, folder / FILE_NAME)
        finally:
            if os.path.exists(tmp):
                os.unlink(tmp)
        return folder / FILE_NAME

    @classmethod
    def load(cls, folder: Path, generation: int | None) -> "LexicalIndex | None":
        """The index saved in `folder`, or None if absent, unreadable, or stale.

        Args:
            folder: Where `save` wrote it.
            generation: The catalog generation it must match; None accepts any generation
                (used to update an older index incrementally).
        """
        path = folder / FILE_NAME
        try:
            with np.load(path, allow_pickle=False) as data:
                meta = json.loads(_unpack(data["meta"])[0])
                if (meta.get("format") != FORMAT_VERSION or meta.get("analyzer") != ANALYZER_VERSION
                        or (generation is not None and meta.get("generation") != generation)):
                    return None
                ids, vocabulary = _unpack(data["ids"]), _unpack(data["vocabulary"])
                tf = sparse.csc_matrix((data["data"], data["indices"], data["indptr"]),
                                       shape=(len(ids), len(vocabulary)))
        except (OSError, EOFError, KeyError, ValueError, zipfile.BadZipFile):
            return None
        index = cls(ids, vocabulary, tf, k1=meta["k1"], b=meta["b"])
        index.generation = meta["generation"]
        return index

    @classmethod
    def for_catalog(cls, catalog, cache_dir: Path | None,
                    previous: "LexicalIndex | None" = None) -> "LexicalIndex":
        """The index matching `catalog.generation`: loaded, updated from an older one, or rebuilt.

        Args:
            catalog: An `assistant.store.catalog.Catalog`.
            cache_dir: Folder of the saved index; None keeps it in memory only.
            previous: An older index in memory, updated rather than re-read from disk.

        Example:
            >>> index = LexicalIndex.for_catalog(catalog, settings.home / "lexical")  # doctest: +SKIP
        """
        generation = catalog.generation
        if cache_dir is not None:
            current = cls.load(cache_dir, generation)
            if current is not None:
                return current
        older = previous
        if older is None and cache_dir is not None:
            older = cls.load(cache_dir, None)
        if older is not None:
            wanted = catalog.all_ids()
            have = set(older.ids)
            missing = wanted - have
            index = older.with_changes(((id_, toks) for id_, toks in catalog.token_rows() if id_ in missing),
                                       removed=have - wanted)
        else:
            index = cls.build(catalog.token_rows())
        if catalog.generation != generation:  # an ingest ran meanwhile: do not stamp a mixed state
            return cls.for_catalog(catalog, cache_dir, previous=index)
        if cache_dir is not None:
            index.save(cache_dir, generation)
        index.generation = generation
        return index


def _count(rows: Iterable[tuple[str, Sequence[str]]],
           col: dict[str, int]) -> tuple[list[str], list[str], sparse.csr_matrix]:
    """Count tokens of rows into a CSR matrix, extending the token -> column map `col` in place."""
    ids: list[str] = []
    indptr = [0]
    indices: list[int] = []
    data: list[int] = []
    for id_, tokens in rows:
        counts: dict[int, int] = {}
        for token in tokens:
            j = col.get(token)
            if j is None:
                j = col[token] = len(col)
            counts[j] = counts.get(j, 0) + 1
        ids.append(id_)
        indices.extend(counts)
        data.extend(counts.values())
        indptr.append(len(indices))
    vocabulary = [""] * len(col)
    for token, j in col.items():
        vocabulary[j] = token
    matrix = sparse.csr_matrix((np.asarray(data, dtype=np.float32), np.asarray(indices, dtype=np.int32),
                                np.asarray(indptr, dtype=np.int64)), shape=(len(ids), len(col)))
    return ids, vocabulary, matrix


def _pack(strings: Sequence[str]) -> np.ndarray:
    """Strings as one UTF-8 byte array (no pickle needed to load them back)."""
    return np.frombuffer("\n".join(strings).encode("utf-8"), dtype=np.uint8)


def _unpack(array: np.ndarray) -> list[str]:
    text = array.tobytes().decode("utf-8")
    return text.split("\n") if text else []
