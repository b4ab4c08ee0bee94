import numpy as np
import pytest

from assistant.errors import IndexMismatch
from assistant.store.chroma import ChromaStore


def unit(rows):
    rows = np.asarray(rows, dtype=np.float32)
    return rows / np.linalg.norm(rows, axis=1, keepdims=True)


def test_upsert_query_delete_on_real_chroma(tmp_path):
    store = ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")
    vectors = unit([[1, 0, 0], [0, 1, 0], [1, 1, 0]])
    store.upsert(["a", "b", "c"], vectors, [{"kind": "guide", "source": "/x"}, {"kind": "answer", "source": "/y"},
                                            {"kind": "guide", "source": "/x"}])
    hits = store.query(vectors[0], k=10)
    assert [h[0] for h in hits][:2] == ["a", "c"], f"nearest first: {hits}"
    assert hits[0][1] == pytest.approx(1.0, abs=1e-5), "score is cosine similarity"
    assert [h[0] for h in store.query(vectors[0], k=5, where={"kind": "answer"})] == ["b"]
    assert store.existing(["a", "zz"]) == {"a"}
    store.delete(["a", "missing"])
    assert store.all_ids() == {"b", "c"}


def test_query_on_empty_store_returns_nothing(tmp_path):
    store = ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")
    assert store.query(unit([[1, 0, 0]])[0], k=5) == []


def test_reopening_with_another_embedder_is_refused(tmp_path):
    ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")
    with pytest.raises(IndexMismatch, match="built with 'e5-small'.*'minilm'.*--rebuild"):
        ChromaStore.persistent(tmp_path / "chroma", embedder="minilm")


def test_search_is_wide_enough_to_return_the_exact_nearest_chunks(tmp_path):
    rng = np.random.default_rng(7)
    vectors = unit(rng.normal(size=(3000, 64)))
    store = ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")
    ids = [f"c{i}" for i in range(len(vectors))]
    store.upsert(ids, vectors, [{"kind": "guide", "source": "/x"}] * len(ids))
    recalls = []
    for query in unit(rng.normal(size=(20, 64))):
        exact = {ids[j] for j in np.argsort(-(vectors @ query))[:50]}
        recalls.append(len(exact & {id_ for id_, _ in store.query(query, k=50)}) / 50)
    assert np.mean(recalls) >= 0.98, f"approximate search lost exact neighbours: {np.mean(recalls):.3f}"


def test_a_collection_made_with_chroma_default_search_breadth_is_widened_on_open(tmp_path):
    from assistant.store.chroma import COLLECTION, EF_SEARCH, SCHEMA, _persistent_client

    _persistent_client(tmp_path / "chroma").get_or_create_collection(
        COLLECTION, embedding_function=None, configuration={"hnsw": {"space": "cosine"}},
        metadata={"embedder": "e5-small", "schema": SCHEMA})  # as versions before EF_SEARCH made it
    store = ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")
    assert store._collection.configuration["hnsw"]["ef_search"] == EF_SEARCH
    reopened = _persistent_client(tmp_path / "chroma").get_collection(COLLECTION, embedding_function=None)
    assert reopened.configuration["hnsw"]["ef_search"] == EF_SEARCH, "the change is saved"
