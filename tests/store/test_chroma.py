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
