"""Hybrid retrieval: BM25 and dense candidates, fused, boosted, de-duplicated, optionally reranked.

Example:
    >>> retriever = HybridRetriever(index.catalog, index.vectors, index.embedder, config)  # doctest: +SKIP
    >>> [p.chunk.location for p in retriever.search("pc de 7 ans : don ou DEEE ?", k=3)]    # doctest: +SKIP
    ['Foire aux questions > DEEE', 'p. 96', 'À qui donner ?']
"""

from __future__ import annotations

import sys
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from assistant.errors import IndexMismatch
from assistant.records import Chunk, Passage
from assistant.retrieval.dedup import collapse
from assistant.retrieval.filters import Filters
from assistant.retrieval.fusion import fuse, ranks
from assistant.retrieval.lexical import LexicalIndex
from assistant.retrieval.lru import Lru
from assistant.retrieval.options import RetrievalConfig, SearchMode
from assistant.retrieval.query import asks_figure, asks_share, prepare_question, with_completions
from assistant.retrieval.ranker import Candidate, LinearRanker, Profile, Query, features, load_ranker, profile
from assistant.retrieval.rerank import CrossEncoderReranker, make_reranker
from assistant.text.analysis import ANALYZER_VERSION, FrenchAnalyzer
from assistant.text.shingles import shingles

MODES = tuple(SearchMode)
#: When only a post-filter (tags) can restrict the dense list, fetch this many times more.
_POST_FILTER_FACTOR = 5
#: What the second stage reads of a chunk (text, tokens, vectors, profile, shingles) is kept for
#: this many chunks (about 15 KB each); chunk ids derive from their content, so a kept value
#: never goes stale. The shared corpus (970 chunks) fits whole.
_CHUNK_CACHE = 4096
#: Filters whose allowed chunk ids are kept until the catalog changes (a UI offers few of them).
_ALLOWED_CACHE = 64
#: The window vectors of a chunk the vector store lost (none: no dense evidence).
NO_WINDOWS = np.zeros((0, 0), dtype=np.float32)


@dataclass(frozen=True)
class FirstStage:
    """The candidates of one question, with what the second stage scores them on.

    Args:
        text: The question as searched.
        candidates: The union of the lexical and dense lists, lexical ones first.
        features: Their `ranker.features` matrix, one row per candidate.
    """

    text: str
    candidates: tuple[Candidate, ...]
    features: np.ndarray


class HybridRetriever:
    """Searches the knowledge index for the passages that answer a question.

    Args:
        catalog: `assistant.store.catalog.Catalog` (chunks, their tokens, the generation).
        store: A `VectorStore` (e.g. `ChromaStore`) holding one vector per catalog chunk.
        embedder: The `Embedder` the store was built with.
        config: The search parameters (`RetrievalConfig`, built by `assistant.compose`); the
            learned ranker's parameter file is read here, once.
        analyzer: French analyser (default: one with `config.synonyms_file`).
        lexical_cache_dir: Folder where the BM25 index is saved between runs (None: memory only).
        reranker: A cross-encoder rescoring the head of the result (default: from
            `config.reranker_model`, None when empty).
        query_cache_size: Query embeddings kept for repeated questions (search, then ask, then
            re-draft embed the question once); 0 turns the cache off.

    Raises:
        ConfigError: a bad ranker parameter file.

    Example:
        >>> embedder = make_embedder("e5-small")                                      # doctest: +SKIP
        >>> retriever = HybridRetriever(catalog, store, embedder, retrieval_config(get_settings()))  # doctest: +SKIP
        >>> retriever.search("label dans un DCE ?", k=1)[0].chunk.source             # doctest: +SKIP
        '/corpus/pdf/guide-achats-numeriques-responsables-2021.pdf'
    """

    def __init__(self, catalog, store, embedder, config: RetrievalConfig, analyzer: FrenchAnalyzer | None = None,
                 lexical_cache_dir: Path | None = None,
                 reranker: CrossEncoderReranker | None = None, query_cache_size: int = 256) -> None:
        self.catalog = catalog
        self.store = store
        self.embedder = embedder
        self.config = config
        self.analyzer = analyzer or FrenchAnalyzer(config.synonyms_file)
        self.lexical_cache_dir = lexical_cache_dir
        self.reranker = reranker if reranker is not None else make_reranker(config.reranker_model)
        self.ranker: LinearRanker | None = load_ranker(config.ranker, config.ranker_params)
        self._candidates: Lru[str, tuple[Chunk, Profile, np.ndarray]] = Lru(_CHUNK_CACHE)
        self._shingles: Lru[str, frozenset] = Lru(_CHUNK_CACHE)
        self._lexical: LexicalIndex | None = None
        self._metadata: dict[str, Chunk] | None = None
        self._allowed: Lru[tuple, set[str]] = Lru(_ALLOWED_CACHE)
        self._lock = threading.Lock()
        self._query_vectors: Lru[str, np.ndarray] = Lru(query_cache_size)

    def warm_up(self) -> None:
        """Load the lexical index, the embedding model and the reranker now."""
        self.lexical_index()
        self.embedder.warm_up()
        if self.reranker is not None:
            self.reranker.warm_up()

    def lexical_index(self) -> LexicalIndex:
        """The BM25 index of the catalog's current generation (reloaded after another ingest).

        Raises:
            IndexMismatch: the catalog's tokens were made by another analyser version.
        """
        generation = self.catalog.generation
        with self._lock:
            if self._lexical is not None and self._lexical.generation == generation:
                return self._lexical  # the analyser version changes only with an ingest, which moves the generation
        version = self.catalog.get_meta("analyzer")
        if version not in (None, ANALYZER_VERSION):
            raise IndexMismatch(f"index tokens come from analyser version {version}, this code has "
                                f"{ANALYZER_VERSION}: run 'guichet ingest PATH...' to re-analyse "
                                "(nothing is re-embedded)")
        with self._lock:
            if self._lexical is None or self._lexical.generation != generation:
                self._lexical = LexicalIndex.for_catalog(self.catalog, self.lexical_cache_dir,
                                                         previous=self._lexical)
                self._metadata = None
                self._allowed = Lru(_ALLOWED_CACHE)
            return self._lexical

    def search(self, question: str, k: int | None = None, filters: Filters | None = None,
               mode: SearchMode | str = SearchMode.HYBRID) -> list[Passage]:
        """The k best passages for a question, best first (see `search_with_stage`)."""
        return self.search_with_stage(question, k, filters, mode)[0]

    def search_with_stage(self, question: str, k: int | None = None, filters: Filters | None = None,
                          mode: SearchMode | str = SearchMode.HYBRID) -> tuple[list[Passage], FirstStage | None]:
        """The k best passages for a question, best first, and the first stage they come from.

        Args:
            question: The buyer's question (cut to `query.MAX_QUERY_CHARS` characters).
            k: How many passages (default `config.top_k`).
            filters: Kinds, sources and tags the passages must have.
            mode: "hybrid", "lexical" (BM25 only) or "dense" (embeddings only).

        Returns:
            Passages with their ranker score (or fused score, or cross-encoder score), the rank
            of their chunk in the lexical and dense candidate lists, and near-duplicate chunks
            from other files; and the first stage the learned ranker scored (None in the
            lexical and dense modes and with the fusion alone).

        Raises:
            InvalidQuery: empty question, no letter or digit in it, or k <= 0.
            ConfigError: unknown mode.
        """
        text = prepare_question(question)
        k = self.config.k(k)
        mode = SearchMode.of(mode)
        weights = self.config.weights(mode)
        filters = filters or Filters()
        allowed = self._allowed_ids(filters) if filters else None
        if allowed is not None and not allowed:
            return [], None
        n = max(self.config.candidates, k)
        if mode == SearchMode.HYBRID and self.ranker is not None:
            stage = self._first_stage(text, n, filters, allowed)
            return self.rank(stage, self.ranker.scores(stage.features), k), stage
        lists: dict[str, list[tuple[str, float]]] = {}
        if weights.get("lexical", 0) > 0:
            lists["lexical"] = self._lexical_candidates(self.lexical_index(), text, n, allowed)[0]
        if weights.get("dense", 0) > 0:
            lists["dense"] = self._dense_candidates(self._query_vector(text), n, filters, allowed)
        fused = fuse(lists, {name: weights[name] for name in lists}, k=self.config.rrf_k,
                     mode=self.config.fusion)
        chunks = self.catalog.get_chunks([id_ for id_, _ in fused])
        lexical_ranks = ranks([id_ for id_, _ in lists.get("lexical", [])])
        dense_ranks = ranks([id_ for id_, _ in lists.get("dense", [])])
        passages = [Passage(chunks[id_], score * self._boost(chunks[id_]),
                            lexical_rank=lexical_ranks.get(id_), dense_rank=dense_ranks.get(id_))
                    for id_, score in fused if id_ in chunks]  # a vector the catalog lost is skipped
        passages.sort(key=lambda p: -p.score)
        return self._finish(text, passages, k), None

    def first_stage(self, question: str, filters: Filters | None = None) -> FirstStage:
        """The candidates of a question and their features (for `rank`, and to fit a ranker).

        Raises:
            InvalidQuery: as `search`.
        """
        text = prepare_question(question)
        filters = filters or Filters()
        allowed = self._allowed_ids(filters) if filters else None
        return self._first_stage(text, self.config.candidates, filters, allowed)

    def rank(self, stage: FirstStage, scores: np.ndarray, k: int) -> list[Passage]:
        """The k best passages of a first stage given one ranker score per candidate.

        A passage's score is its candidate's share of the softmax of the scores (what the
        ranker is fitted to put on the chunks that answer), times `answer_boost` for validated
        past answers; near-duplicates are collapsed, then the optional cross-encoder reorders
        the head.
        """
        if len(scores) != len(stage.candidates):
            raise ValueError(f"{len(scores)} scores for {len(stage.candidates)} candidates")
        shares = np.exp(np.asarray(scores, dtype=np.float64) - (np.max(scores) if len(scores) else 0.0))
        shares /= shares.sum() or 1.0
        passages = [Passage(c.chunk, float(p) * self._boost(c.chunk),
                            lexical_rank=c.lexical_rank, dense_rank=c.dense_rank)
                    for c, p in zip(stage.candidates, shares)]
        passages.sort(key=lambda p: -p.score)
        return self._finish(stage.text, passages, k)

    def _finish(self, text: str, passages: list[Passage], k: int) -> list[Passage]:
        """Collapse near-duplicates of ranked passages, rerank the head if a reranker is set."""
        depth = max(3 * k, 20) if self.reranker is not None else k
        # copies further down than this cannot reach the result, and comparing texts costs time
        passages = collapse(passages[:max(4 * depth, 40)], limit=depth,
                            signature=lambda c: self._shingles.get(c.id, lambda: shingles(c.text)))
        if self.reranker is not None:
            head = self.reranker.rerank(text, passages[:depth])
            passages = head + passages[len(head):]
        return passages[:k]

    def _first_stage(self, text: str, n: int, filters: Filters, allowed: set[str] | None) -> FirstStage:
        index = self.lexical_index()
        lexical, terms, bm25 = self._lexical_candidates(index, text, n, allowed)
        vector = self._query_vector(text)
        dense = self._dense_candidates(vector, n, filters, allowed)
        ids = list(dict.fromkeys([id_ for id_, _ in lexical] + [id_ for id_, _ in dense]))
        found = self._candidate_data(ids)
        lexical_ranks, dense_ranks = ranks([i for i, _ in lexical]), ranks([i for i, _ in dense])
        candidates = []
        for id_ in ids:
            if id_ in found:
                row = index.row(id_) if bm25 is not None else None
                chunk, prof, windows = found[id_]
                candidates.append(Candidate(chunk, prof, float(bm25[row]) if bm25 is not None and row is not None else 0.0,
                                            lexical_ranks.get(id_), dense_ranks.get(id_), windows))
        query = Query(dict(terms), vector, asks_figure(text), asks_share(text))
        return FirstStage(text, tuple(candidates), features(query, candidates, index.idf, depth=n))

    def _candidate_data(self, ids: list[str]) -> dict[str, tuple]:
        """(chunk, profile, window vectors) of each id the catalog holds, read once and then kept.

        A chunk the vector store lost (a deleted Chroma folder, warned by `KnowledgeIndex.health`)
        has no windows: it is still found by its words, with no dense evidence.
        """
        return self._candidates.get_many(ids, self._read_candidates)

    def _read_candidates(self, ids: list[str]) -> dict[str, tuple]:
        chunks, tokens, windows = self.catalog.get_chunks(ids), self.catalog.tokens_of(ids), self.store.windows_of(ids)
        return {id_: (chunks[id_], profile(chunks[id_], [sys.intern(t) for t in tokens.get(id_, ())]),
                      windows.get(id_, NO_WINDOWS))
                for id_ in ids if id_ in chunks}

    def _boost(self, chunk: Chunk) -> float:
        return self.config.answer_boost if chunk.kind == "answer" else 1.0

    def _lexical_candidates(self, index: LexicalIndex, text: str, n: int, allowed: set[str] | None
                            ) -> tuple[list[tuple[str, float]], list[tuple[str, float]], np.ndarray | None]:
        """The n best BM25 chunks, the weighted query terms, and every chunk's BM25 score."""
        terms = with_completions(self.analyzer.query_terms(text), self.analyzer.content_words(text),
                                 index, index.completions)
        tokens, weights = [t for t, _ in terms], [w for _, w in terms]
        scores = index.scores(tokens, weights)
        return index.best(scores, n, allowed), terms, scores

    def _dense_candidates(self, vector: np.ndarray, n: int, filters: Filters,
                          allowed: set[str] | None) -> list[tuple[str, float]]:
        # only a source filter needs the list of indexed files (a table read per query otherwise)
        where = filters.chroma_where(self.catalog.files() if filters.sources else ()) if filters else None
        fetch = n * _POST_FILTER_FACTOR if filters.tags else n
        found = self.store.query(vector, fetch, where=where)
        if allowed is not None:
            found = [(id_, s) for id_, s in found if id_ in allowed]
        return found[:n]

    def _query_vector(self, text: str) -> np.ndarray:
        return self._query_vectors.get(text, lambda: self.embedder.embed_query(text))

    def _allowed_ids(self, filters: Filters) -> set[str]:
        """Ids of every chunk that passes the filters (metadata read once per catalog generation)."""
        self.lexical_index()  # resets the metadata and allowed-ids caches when the catalog changed
        key = (tuple(filters.kinds), tuple(filters.sources), tuple(filters.tags))
        with self._lock:
            allowed = self._allowed
            if self._metadata is None:  # chunks without their text: kind, source and tags only
                self._metadata = {
                    c.id: Chunk(c.id, "", c.source, "", kind=c.kind,
                                metadata={"tags": c.metadata.get("tags", "")})
                    for c in self.catalog.get_chunks(sorted(self.catalog.all_ids())).values()}
            metadata = self._metadata
        # the same filter on every draft's "Pour aller plus loin"
        return allowed.get(key, lambda: {id_ for id_, chunk in metadata.items() if filters.matches(chunk)})


def passage_metadata(passage: Passage) -> dict[str, object]:
    """Flat metadata of a passage (for adapters and JSON output).

    Example:
        >>> passage_metadata(Passage(Chunk("c1", "t", "/a/guide.pdf", "Guide", page=3), 0.5))["source"]
        '/a/guide.pdf'
    """
    chunk = passage.chunk
    return {"chunk_id": chunk.id, "source": chunk.source, "title": chunk.title, "kind": chunk.kind,
            "page": chunk.page, "section": chunk.section, "location": chunk.location,
            "score": passage.score, "lexical_rank": passage.lexical_rank,
            "dense_rank": passage.dense_rank,
            "duplicates": [d.source for d in passage.duplicates]}

