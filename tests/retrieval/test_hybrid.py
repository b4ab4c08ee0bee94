"""Hybrid retrieval over a small real index (real Chroma, real e5-small, real corpus text)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from assistant.errors import ConfigError, IndexMismatch, InvalidQuery
from assistant.records import Chunk
from assistant.retrieval.filters import Filters
from assistant.compose import retrieval_config
from assistant.retrieval.hybrid import MODES, HybridRetriever, passage_metadata
from assistant.retrieval.rerank import CrossEncoderReranker
from assistant.store.catalog import Catalog
from assistant.store.chroma import ChromaStore

from .conftest import add_chunks, make_chunks

pytestmark = pytest.mark.slow  # loads the e5-small model and embeds real text


def retriever(small_index, **settings) -> HybridRetriever:
    return HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                           retrieval_config(small_index.settings(**settings)))


def names(passages) -> list[str]:
    return [Path(p.chunk.source).name for p in passages]


def all_names(passages) -> set[str]:
    """File names of the passages and of their collapsed copies."""
    return {Path(c.source).name for p in passages for c in (p.chunk, *p.duplicates)}


@pytest.mark.parametrize("mode", MODES)
@pytest.mark.parametrize("question, source", [
    ("pc de 7 ans qui tourne encore : direct a la benne DEEE ou pas ?", "fin-usage--faq.md"),
    ("j'ai le droit d'imposer un label precis dans mon DCE ?", "guide-achats-numeriques-responsables-2021.pdf"),
    ("il a combien de temps pour repondre sur sa note de reparabilite ?", "indice-reparabilite-en-pratique.md"),
])
def test_finds_the_passage(small_index, mode, question, source):
    passages = retriever(small_index, answer_boost=1.0).search(question, k=3, mode=mode)
    assert source in all_names(passages), f"{mode}: {source} not in the top 3 for {question!r}: {names(passages)}"


def test_passages_carry_ranks_and_scores(small_index):
    passages = retriever(small_index).search("valeur maximale d'un don à une association", k=5)
    assert passages, "something is found"
    scores = [p.score for p in passages]
    assert scores == sorted(scores, reverse=True), "best first"
    assert all(p.lexical_rank is not None or p.dense_rank is not None for p in passages)
    top = passages[0]
    assert names([top]) == ["fin-usage--don.md"] and top.lexical_rank == 1, top


@pytest.mark.parametrize("mode, present, absent", [("lexical", "lexical_rank", "dense_rank"),
                                                    ("dense", "dense_rank", "lexical_rank")])
def test_single_list_modes(small_index, mode, present, absent):
    passages = retriever(small_index).search("don association", k=4, mode=mode)
    assert passages and all(getattr(p, present) for p in passages)
    assert all(getattr(p, absent) is None for p in passages), f"{mode} uses one list only"


def test_pdf_and_markdown_copies_are_one_result(small_index):
    passages = retriever(small_index).search("materiel entre 5 et 10 ans : don ou DEEE ?", k=9)
    copies = [p for p in passages if {Path(c.source).name for c in (p.chunk, *p.duplicates)}
              >= {"fin-usage--faq.md", "fin-usage.pdf"}]
    assert len(copies) == 1, "the two copies collapse into one passage that keeps both sources"
    assert sum(1 for p in passages if "Entre 5 et 10 ans" in p.chunk.text
               or "Entre 5 et 10 ans" in p.chunk.text.replace("\n", " ")) == 1


@pytest.mark.parametrize("k", [1, 2, 5])
def test_k(small_index, k):
    assert len(retriever(small_index).search("DEEE don association label", k=k)) == k


def test_default_k_is_top_k(small_index):
    assert len(retriever(small_index, top_k=2).search("DEEE don association")) == 2


@pytest.mark.parametrize("filters, allowed", [
    (Filters(kinds=("answer",)), {"reponses.yaml"}),
    (Filters(sources=("fin-usage--don.md",)), {"fin-usage--don.md"}),
    (Filters(sources=("fin-usage--faq.md", "fin-usage.pdf")), {"fin-usage--faq.md", "fin-usage.pdf"}),
    (Filters(tags=("deee",)), {"fin-usage--faq.md", "reponses.yaml"}),
    (Filters(tags=("DEEE", "don")), {"reponses.yaml"}),
    (Filters(kinds=("guide",), tags=("don",)), {"fin-usage--don.md"}),
])
@pytest.mark.parametrize("mode", MODES)
def test_filters(small_index, filters, allowed, mode):
    passages = retriever(small_index).search("don d'un ordinateur DEEE", k=9, filters=filters, mode=mode)
    assert passages, f"{mode}: filtered search finds something"
    assert set(names(passages)) <= allowed, f"{mode}: {names(passages)} outside {allowed}"


@pytest.mark.parametrize("filters", [Filters(sources=("nowhere.pdf",)), Filters(tags=("inconnu",))])
def test_filters_that_match_nothing(small_index, filters):
    assert retriever(small_index).search("don", filters=filters) == []


def test_answer_boost(small_index):
    question = "que faire d'un ordinateur de 7 ans : don ou DEEE ?"
    plain = retriever(small_index, answer_boost=1.0).search(question, k=9)
    boosted = retriever(small_index, answer_boost=5.0).search(question, k=9)
    rank = lambda ps: [p.chunk.kind for p in ps].index("answer")  # noqa: E731
    assert rank(boosted) == 0, "a strong boost puts the validated answer first"
    assert rank(plain) >= rank(boosted)
    answer = boosted[0]
    assert answer.score == pytest.approx(5.0 * next(p.score for p in plain if p.chunk.kind == "answer"))


def test_zero_boost_sinks_answers(small_index):
    passages = retriever(small_index, answer_boost=0.0).search("ordinateur de 7 ans don DEEE", k=9)
    at = [p.chunk.kind for p in passages].index("answer")
    assert passages[at].score == 0.0 and all(p.score == 0.0 for p in passages[at:]), \
        "a validated answer with boost 0 comes after every passage that scores"


def test_fusion_weights(small_index):
    question = "exiger un label dans le DCE"
    lexical_only = retriever(small_index, ranker="fusion", dense_weight=0.0).search(question, k=5)
    assert all(p.dense_rank is None for p in lexical_only), "a weight of 0 leaves the list out"
    with pytest.raises(ConfigError, match="both 0"):
        retriever(small_index, ranker="fusion", dense_weight=0.0, lexical_weight=0.0).search(question)


@pytest.mark.parametrize("fusion", ["rrf", "score"])
def test_fusion_modes(small_index, fusion):
    r = HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                        replace(retrieval_config(small_index.settings()), fusion=fusion))
    assert names(r.search("délai de réponse du fabricant sur la note de réparabilité", k=1)) == [
        "indice-reparabilite-en-pratique.md"]


@pytest.mark.parametrize("question, error", [
    ("", "^empty question$"), ("   \n ", "^empty question$"),
    ("🙂🙂🙂", "^question has no searchable words$"), ("?!?! …", "^question has no searchable words$"),
])
def test_bad_questions(small_index, question, error):
    with pytest.raises(InvalidQuery, match=error):
        retriever(small_index).search(question)


@pytest.mark.parametrize("question", [
    "DEEE " + "pc " * 10_000,                                   # 20,000+ characters
    "<script>alert('don')</script><b>DEEE</b>",
    "'; DROP TABLE chunks; -- label",
    "SELECT * FROM chunks WHERE 1=1",
    "Can I require an ecolabel in my tender documents?",
    "¿Puedo donar ordenadores viejos a una asociación?",
    "c'est quoi ?",                                             # only stop words: dense still answers
    "🙂 DEEE",
])
@pytest.mark.parametrize("mode", MODES)
def test_odd_questions_do_not_crash(small_index, question, mode):
    passages = retriever(small_index).search(question, k=3, mode=mode)
    assert isinstance(passages, list) and len(passages) <= 3
    if mode == "dense":
        assert len(passages) == 3, "the dense side always answers"


def test_catalog_untouched_by_sql_text(small_index):
    before = small_index.catalog.count()
    retriever(small_index).search("'; DELETE FROM chunks; --")
    assert small_index.catalog.count() == before


@pytest.mark.parametrize("kwargs, error, message", [
    ({"k": 0}, InvalidQuery, "k must be > 0, got 0"),
    ({"mode": "bm25"}, ConfigError, "unknown retrieval mode 'bm25'"),
])
def test_bad_arguments(small_index, kwargs, error, message):
    with pytest.raises(error, match=message):
        retriever(small_index).search("don", **kwargs)


def test_reranker_is_wired(small_index):
    class ShortestFirstDouble:
        """Test double of a CrossEncoder (none ships here): prefers short passages."""

        def predict(self, inputs, **kwargs):
            return [-float(len(text)) for _, text in inputs]

    r = HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                        retrieval_config(small_index.settings()),
                        reranker=CrossEncoderReranker("unused", model=ShortestFirstDouble()))
    passages = r.search("DEEE don association label", k=3)
    lengths = [len(p.chunk.text) for p in passages]
    assert lengths == sorted(lengths) and passages[0].score == -lengths[0]


def test_passage_metadata(small_index):
    passage = retriever(small_index).search("R2111-15 label", k=1)[0]
    meta = passage_metadata(passage)
    assert meta["chunk_id"] == passage.chunk.id and meta["page"] == 38 and meta["location"] == "p. 38"
    assert set(meta) >= {"source", "title", "kind", "section", "score", "lexical_rank", "dense_rank"}


def test_sees_what_another_process_ingested(tmp_path, embedder):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    store = ChromaStore.persistent(tmp_path / "chroma", embedder=embedder.name)
    first, later = make_chunks()[:3], make_chunks()[3:4]
    add_chunks(catalog, store, embedder, first)
    r = HybridRetriever(catalog, store, embedder, _settings(tmp_path), lexical_cache_dir=tmp_path / "lexical")
    assert "fin-usage--don.md" not in names(r.search("valeur unitaire des biens donnés 300€", k=5))

    other = Catalog(tmp_path / "catalog.sqlite")  # another process's connection
    add_chunks(other, store, embedder, later)
    found = r.search("valeur unitaire des biens donnés 300€", k=5, mode="lexical")
    assert names(found)[0] == "fin-usage--don.md", "the lexical index follows the catalog generation"

    other.remove_files([later[0].source])
    store.delete([later[0].id])
    assert "fin-usage--don.md" not in names(r.search("valeur unitaire des biens donnés 300€", k=5))


def test_vectors_without_catalog_rows_are_skipped(tmp_path, embedder):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    store = ChromaStore.persistent(tmp_path / "chroma", embedder=embedder.name)
    chunks = make_chunks()[:3]
    add_chunks(catalog, store, embedder, chunks)
    orphan = Chunk("orphan", "Un don de matériel fonctionnel", "/gone.md", "Gone")
    store.upsert([orphan.id], embedder.embed_passages([orphan.text]),
                 [{"kind": "guide", "source": "/gone.md"}])
    passages = HybridRetriever(catalog, store, embedder, _settings(tmp_path)).search("don de matériel", k=5)
    assert "orphan" not in {p.chunk.id for p in passages}, "an interrupted ingest leaves no ghost result"


def test_stale_analyser_version_is_reported(tmp_path, embedder):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    catalog.set_meta("analyzer", "0")
    store = ChromaStore.persistent(tmp_path / "chroma", embedder=embedder.name)
    r = HybridRetriever(catalog, store, embedder, _settings(tmp_path))
    with pytest.raises(IndexMismatch, match="run 'guichet ingest PATH...' to re-analyse"):
        r.search("don")


def test_empty_index(tmp_path, embedder):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    store = ChromaStore.persistent(tmp_path / "chroma", embedder=embedder.name)
    for mode in MODES:
        assert HybridRetriever(catalog, store, embedder, _settings(tmp_path)).search("don", mode=mode) == []


def _settings(home: Path):
    from assistant.config import Settings

    return retrieval_config(Settings(home=home))


class CountingEmbedder:
    """Wraps the real embedder and counts query embeddings (a spy, not a fake)."""

    def __init__(self, inner) -> None:
        self.inner, self.name, self.queries = inner, inner.name, 0

    def warm_up(self) -> None:
        self.inner.warm_up()

    def embed_query(self, text):
        self.queries += 1
        return self.inner.embed_query(text)


@pytest.mark.parametrize("size, expected", [(256, 1), (0, 3)])
def test_query_embedding_cache(small_index, size, expected):
    spy = CountingEmbedder(small_index.embedder)
    r = HybridRetriever(small_index.catalog, small_index.store, spy, retrieval_config(small_index.settings()),
                        query_cache_size=size)
    first = r.search("don d'ordinateurs à une association")
    for _ in range(2):
        assert r.search("don d'ordinateurs à une association") == first
    assert spy.queries == expected


def test_query_cache_is_bounded(small_index):
    spy = CountingEmbedder(small_index.embedder)
    r = HybridRetriever(small_index.catalog, small_index.store, spy, retrieval_config(small_index.settings()),
                        query_cache_size=2)
    for question in ("don", "label", "DEEE", "don"):
        r.search(question, mode="dense")
    assert spy.queries == 4, "the oldest question left the cache"


def test_unknown_fusion(small_index):
    with pytest.raises(ConfigError, match="unknown fusion 'max'"):
        HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                        replace(retrieval_config(small_index.settings()), fusion="max"))
