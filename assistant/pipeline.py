"""The `Assistant` facade: one object that ingests, searches and drafts over one index.

The CLI, the web app, the review stage and the evaluation runner all go through it, so a
configuration (embedder, fusion weights, generator) means the same thing everywhere; it is
built from the settings by `assistant.compose`.

Example:
    >>> assistant = compose.open_assistant(compose.load_settings())      # doctest: +SKIP
    >>> draft = assistant.ask("pc de 7 ans : don ou DEEE ?")             # doctest: +SKIP
    >>> draft.abstained, [c.marker for c in draft.citations]             # doctest: +SKIP
    (False, [1, 2])
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any, Sequence

from assistant.drafting.factory import DraftingConfig
from assistant.errors import InvalidQuery
from assistant.ingest.options import IngestConfig
from assistant.records import Draft, Passage
from assistant.retrieval.options import RetrievalConfig, SearchMode
from assistant.retrieval.peers import MAX_PEERS
from assistant.store.index import KnowledgeIndex


class Assistant:
    """Ingest, search and draft over one knowledge index.

    Args:
        index: The knowledge index (closed by `close`).
        retrieval: How to search (`top_k`, fusion weights, ranker...).
        drafting: Which generator drafts.
        ingestion: How `ingest` chunks, limits and embeds files.
        mode: Retrieval mode of `search`.
        lexical_cache_dir: Folder where the BM25 index is saved between runs (None: memory only).

    Example:
        >>> with compose.build_assistant(settings) as assistant:      # doctest: +SKIP
        ...     assistant.search("label dans un DCE ?", k=3)
    """

    def __init__(self, index: KnowledgeIndex, retrieval: RetrievalConfig, drafting: DraftingConfig,
                 ingestion: IngestConfig, mode: SearchMode = SearchMode.HYBRID,
                 lexical_cache_dir: Path | None = None) -> None:
        self.index = index
        self.retrieval = retrieval
        self.drafting = drafting
        self.ingestion = ingestion
        self.mode = SearchMode.of(mode)
        self.lexical_cache_dir = lexical_cache_dir
        self._retriever = None
        self._generator = None

    def __enter__(self) -> "Assistant":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the index (its database connections and vector store client)."""
        self.index.close()

    @property
    def retriever(self):
        if self._retriever is None:
            from assistant.retrieval.hybrid import HybridRetriever

            self._retriever = HybridRetriever(self.index.catalog, self.index.vectors, self.index.embedder,
                                              self.retrieval, lexical_cache_dir=self.lexical_cache_dir)
        return self._retriever

    @property
    def generator(self):
        if self._generator is None:
            from assistant.drafting.factory import make_generator

            self._generator = make_generator(self.drafting, related_resources=self.related_resources,
                                             rarity=self.term_rarity)
        return self._generator

    def ingest(self, paths: Sequence[Path], prune: bool | None = None, progress=None):
        """Index files and folders (see `assistant.ingest.pipeline.Ingestor`)."""
        from assistant.ingest.pipeline import Ingestor

        return Ingestor(self.index, self.ingestion, progress=progress).ingest(list(paths), prune=prune)

    def search(self, question: str, k: int | None = None, filters=None, mode: str | None = None) -> list[Passage]:
        """Ranked passages for a question (`mode`: this assistant's retrieval mode when None).

        Peer experiences are left out unless `filters` asks for their kind: they are proposed
        apart (`peers`), never quoted as evidence.
        """
        return self._evidence(lambda n: (self.retriever.search(question, k=n, filters=filters,
                                                               mode=mode or self.mode), None),
                              self.retrieval.k(k), filters)[0]

    def peers(self, question: str, history: Sequence[str] = (), organisation: str | None = None) -> list[Passage]:
        """Peers who did what the question is about, closest to the buyer first (maybe none).

        The candidates come from the lexical (BM25) side alone: it takes milliseconds, so the
        buyer's acknowledgement lists the peers without waiting for a query embedding, and the
        draft written later proposes the same ones (the subject check reads words anyway).

        Args:
            question: The buyer's question.
            history: The thread's earlier questions (context of a follow-up, places named there).
            organisation: The buyer's organisation as typed in the optional field.
        """
        from assistant.drafting.followup import contextual_query
        from assistant.retrieval.peers import match_peers
        from assistant.text.places import locate

        buyer = locate(organisation).merged(locate(question, self_only=True))
        for earlier in reversed(history):
            buyer = buyer.merged(locate(earlier, self_only=True))
        return match_peers(self.retriever.search, self.retriever.analyzer, contextual_query(question, history),
                           buyer, mode=SearchMode.LEXICAL)

    def search_detailed(self, question: str, k: int | None = None, filters=None):
        """Ranked passages and the first stage they come from (for evaluation), peers left out as in `search`."""
        return self._evidence(lambda n: self.retriever.search_with_stage(question, k=n, filters=filters,
                                                                         mode=self.mode),
                              self.retrieval.k(k), filters)

    @staticmethod
    def _evidence(fetch: Callable[[int], tuple[list[Passage], Any]], k: int, filters) -> tuple[list[Passage], Any]:
        """`fetch(n)`'s k best passages that are not peers (all of them when `filters` names kinds).

        `fetch(n)` returns n passages and what comes with them; more than k are fetched, so that
        the peers taken out still leave k passages when the index holds k.
        """
        if filters is not None and filters.kinds:
            return fetch(k)
        n = k + MAX_PEERS
        while True:
            found, extra = fetch(n)
            kept = [p for p in found if p.chunk.kind != "peer"]
            if len(kept) >= k or len(found) < n:
                return kept[:k], extra
            n *= 2

    def picked(self, chunk_ids: Sequence[str]) -> list[dict[str, Any]]:
        """References to the passages an advisor picked for a re-draft, in the advisor's order
        (the ranking: the first picked passage is cited first).

        Raises:
            InvalidQuery: a picked chunk is no longer in the index (re-ingested or removed).
        """
        from assistant.drafting.refs import to_refs

        found = self.index.catalog.get_chunks(list(chunk_ids))
        missing = [c for c in chunk_ids if c not in found]
        if missing:
            raise InvalidQuery(f"{len(missing)} picked passage(s) are no longer in the index: search again")
        return to_refs([Passage(found[c], 1.0 / (1 + i)) for i, c in enumerate(chunk_ids)])

    def related_resources(self, question: str, k: int = 2) -> list:
        """Resources and peer networks related to a question, for the drafts' "Pour aller plus loin"."""
        from assistant.retrieval.filters import Filters

        return [p.chunk for p in self.retriever.search(question, k=k, filters=Filters(kinds=("resource",)),
                                                        mode=SearchMode.LEXICAL)]

    def term_rarity(self, terms: Sequence[str]) -> dict[str, float]:
        """How rare each analysed term is in the index, from 0 (every chunk) to 1 (no chunk)."""
        from assistant.drafting.terms import rarities

        index = self.retriever.lexical_index()
        return rarities(terms, index.document_frequency, index.completions, len(index))

    def ask(self, question: str, passages: Sequence[Passage] | None = None,
            history: Sequence[str] = (), on_text: Callable[[str], None] | None = None,
            organisation: str | None = None) -> Draft:
        """A cited draft, or an abstention with its reason, with the peers who did it if any.

        Args:
            question: The buyer's question.
            passages: What to draft from (None: search for the question read with `history`).
            history: The thread's earlier questions, oldest first.
            on_text: Called with each piece of the draft as the generator writes it (the peers
                block is added once the draft is written).
            organisation: The buyer's organisation (ranks the closest peers first).
        """
        from assistant.drafting.followup import contextual_query
        from assistant.drafting.peers import with_peers

        if passages is None:
            passages = self.search(contextual_query(question, history))
        if on_text is None:
            draft = self.generator.draft(question, passages, history)
        else:
            stream = self.generator.stream(question, passages, history)
            for piece in stream:
                on_text(piece)
            draft = stream.draft
        return with_peers(draft, self.peers(question, history, organisation))

    def draft_job(self, question: str, history: Sequence[str] = (),
                  passages: Sequence[Mapping[str, Any]] | None = None,
                  on_text: Callable[[str], None] | None = None, organisation: str | None = None) -> Draft:
        """The drafter of the review service's draft jobs (see `review.runner.Drafter`).

        `passages` are the stored references of the passages found when the question was asked
        (`drafting.refs`); when some are no longer indexed, the question is searched again.
        `organisation` is the buyer's, when the caller knows it (it ranks the peers).
        """
        from assistant.drafting.refs import chunk_ids, from_refs

        found = None
        if passages is not None:
            found = from_refs(passages, self.index.catalog.get_chunks(chunk_ids(passages)))
        return self.ask(question, passages=found, history=history, on_text=on_text, organisation=organisation)

    def index_fingerprint(self) -> dict:
        """Indexed documents and their content hashes, recorded with evaluation runs."""
        return {"embedder": self.index.embedder.name, "documents": self.index.catalog.files()}
