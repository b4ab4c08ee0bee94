import numpy as np
import pytest

from assistant.errors import IndexMismatch
from assistant.store.chroma import ChromaStore, pack_windows, unpack_windows


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


def test_window_vectors_are_kept_with_their_chunk(tmp_path):
    store = ChromaStore.persistent(tmp_path / "chroma", embedder="e5-small")
    rng = np.random.default_rng(3)
    windows = [unit(rng.normal(size=(3, 384))), unit(rng.normal(size=(1, 384)))]
    means = unit([w.sum(axis=0) for w in windows])
    store.upsert(["a", "b"], means, [{"kind": "guide", "source": "/x"}] * 2, windows)
    store.upsert(["bare"], unit([[1.0] * 384]), [{"kind": "guide", "source": "/x"}])
    got = store.windows_of(["a", "b", "bare", "missing"])
    assert set(got) == {"a", "b", "bare"}, "unknown ids are absent"
    for id_, expected in zip("ab", windows):
        assert got[id_].shape == expected.shape
        assert np.abs((got[id_] * expected).sum(axis=1) - 1).max() < 5e-3, "cosine to the original ~ 1"
    assert np.allclose(got["bare"], unit([[1.0] * 384]), atol=1e-6), "no windows: the chunk vector is its window"
    assert [h[0] for h in store.query(means[0], k=1)] == ["a"], "the search still uses the chunk vector"


@pytest.mark.parametrize("rows", [1, 4])
def test_packed_windows_round_trip(rows):
    vectors = unit(np.random.default_rng(rows).normal(size=(rows, 384)))
    packed = pack_windows(vectors)
    assert isinstance(packed, str) and len(packed) < 530 * rows, "about 0.5 KB per window (float32: 2 KB)"
    back = unpack_windows(packed)
    assert back.shape == vectors.shape and np.allclose(np.linalg.norm(back, axis=1), 1.0, atol=1e-5)
    assert np.abs(back - vectors).max() < 0.01


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
