"""The BM25 index: ranking, filters, weights, updates, persistence and catalog generations."""

from __future__ import annotations

import numpy as np
import pytest

from assistant.records import Chunk
from assistant.retrieval import lexical
from assistant.text.analysis import FrenchAnalyzer
from assistant.retrieval.lexical import LexicalIndex
from assistant.store.catalog import Catalog

ROWS = [
    ("c1", ["label", "ecolabel", "dce", "critere"]),
    ("c2", ["dee", "don", "associ", "don"]),
    ("c3", ["don", "valeur", "300"]),
    ("c4", ["reemploi", "recondition", "ordin"]),
]


@pytest.fixture
def index() -> LexicalIndex:
    return LexicalIndex.build(ROWS)


def ids(results):
    return [id_ for id_, _ in results]


def test_ranks_by_bm25(index):
    assert ids(index.search(["don"], k=5)) == ["c2", "c3"], "two occurrences beat one"
    assert ids(index.search(["don", "valeur"], k=5)) == ["c3", "c2"], "more matched terms win"


def test_scores_are_positive_and_sorted(index):
    scores = [s for _, s in index.search(["don", "dee", "label"], k=10)]
    assert scores and all(s > 0 for s in scores) and scores == sorted(scores, reverse=True)


@pytest.mark.parametrize("query", [[], ["inconnu"], ["", " "]])
def test_no_match_gives_nothing(index, query):
    assert index.search(query, k=5) == []


def test_k_limits(index):
    assert len(index.search(["don", "label", "reemploi"], k=2)) == 2


@pytest.mark.parametrize("k", [0, -1])
def test_bad_k(index, k):
    with pytest.raises(ValueError, match=f"k must be > 0, got {k}"):
        index.search(["don"], k=k)


def test_allowed_ids(index):
    assert ids(index.search(["don"], k=5, allowed_ids={"c3", "unknown"})) == ["c3"]
    assert index.search(["don"], k=5, allowed_ids=set()) == []


def test_weights(index):
    even = ids(index.search(["label", "reemploi"], k=2))
    assert ids(index.search(["label", "reemploi"], k=2, weights=[0.2, 1.0]))[0] == "c4"
    assert ids(index.search(["label", "reemploi"], k=2, weights=[1.0, 0.2]))[0] == "c1"
    assert set(even) == {"c1", "c4"}


def test_repeated_query_token_keeps_its_largest_weight(index):
    once = index.search(["don"], k=5)
    assert index.search(["don", "don"], k=5, weights=[0.5, 1.0]) == once


def test_weights_must_match_tokens(index):
    with pytest.raises(ValueError, match="got 1 weights for 2 query tokens"):
        index.search(["don", "label"], k=5, weights=[1.0])


def test_empty_index():
    empty = LexicalIndex.build([])
    assert len(empty) == 0 and empty.search(["don"], k=3) == []


def test_completions(index):
    assert index.completions("recond") == ["recondition"]
    assert index.completions("do") == ["don"]
    assert index.completions("don") == [], "a known token is not its own completion"
    assert index.completions("zzz") == []


def test_with_changes_matches_a_rebuild(index):
    updated = index.with_changes([("c5", ["don", "nouveau"]), ("c1", ["label"])], removed=["c2"])
    rebuilt = LexicalIndex.build([r for r in ROWS if r[0] not in {"c1", "c2"}]
                                 + [("c5", ["don", "nouveau"]), ("c1", ["label"])])
    for query in (["don"], ["label"], ["nouveau", "don"], ["dee"]):
        got, want = updated.search(query, k=10), rebuilt.search(query, k=10)
        assert ids(got) == ids(want) and np.allclose([s for _, s in got], [s for _, s in want]), query
    assert "c2" not in updated.ids and index.ids == ["c1", "c2", "c3", "c4"], "the original is untouched"


def test_with_changes_to_nothing(index):
    assert len(index.with_changes([], removed=[i for i, _ in ROWS])) == 0


def test_save_and_load(index, tmp_path):
    index.save(tmp_path, generation=7)
    loaded = LexicalIndex.load(tmp_path, generation=7)
    assert loaded is not None and loaded.generation == 7
    assert loaded.search(["don", "valeur"], k=5) == index.search(["don", "valeur"], k=5)
    assert loaded.vocabulary == index.vocabulary


@pytest.mark.parametrize("asked", [6, 8])
def test_load_refuses_another_generation(index, tmp_path, asked):
    index.save(tmp_path, generation=7)
    assert LexicalIndex.load(tmp_path, generation=asked) is None
    assert LexicalIndex.load(tmp_path, generation=None) is not None, "None accepts any generation"


def test_load_refuses_another_analyzer_version(index, tmp_path, monkeypatch):
    index.save(tmp_path, generation=1)
    monkeypatch.setattr(lexical, "ANALYZER_VERSION", "other")
    assert LexicalIndex.load(tmp_path, generation=1) is None


@pytest.mark.parametrize("content", [b"", b"not a numpy file"])
def test_load_ignores_a_broken_file(tmp_path, content):
    (tmp_path / lexical.FILE_NAME).write_bytes(content)
    assert LexicalIndex.load(tmp_path, generation=None) is None


def test_load_missing(tmp_path):
    assert LexicalIndex.load(tmp_path / "nowhere", generation=1) is None


def test_save_leaves_no_temporary_file(index, tmp_path):
    index.save(tmp_path, generation=1)
    index.save(tmp_path, generation=2)
    assert [p.name for p in tmp_path.iterdir()] == [lexical.FILE_NAME]


def _add(catalog: Catalog, path: str, texts: list[str]) -> list[Chunk]:
    analyzer = FrenchAnalyzer()
    chunks = [Chunk(f"{path}#{i}", t, path, "Titre") for i, t in enumerate(texts)]
    catalog.replace_file(path, "sha-" + str(hash(tuple(texts))), 1, chunks,
                         [analyzer.analyze(c.index_text) for c in chunks], "2026-01-01T00:00:00")
    return chunks


def test_for_catalog_follows_generations(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    cache = tmp_path / "lexical"
    _add(catalog, "/a.md", ["Le don de matériel à une association."])
    first = LexicalIndex.for_catalog(catalog, cache)
    assert first.generation == catalog.generation and first.ids == ["/a.md#0"]
    assert LexicalIndex.load(cache, catalog.generation) is not None, "saved for the next process"

    _add(catalog, "/b.md", ["Les DEEE partent chez un éco-organisme."])
    second = LexicalIndex.for_catalog(catalog, cache)
    assert sorted(second.ids) == ["/a.md#0", "/b.md#0"], "the new file is indexed"

    catalog.remove_files(["/a.md"])
    third = LexicalIndex.for_catalog(catalog, cache, previous=second)
    assert third.ids == ["/b.md#0"], "a removed file leaves the index"
    assert third.generation == catalog.generation


def test_for_catalog_without_cache_dir(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    _add(catalog, "/a.md", ["Un label dans le DCE."])
    index = LexicalIndex.for_catalog(catalog, None)
    assert index.ids == ["/a.md#0"] and not (tmp_path / "lexical").exists()


def test_for_catalog_rebuilds_from_a_stale_file(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    cache = tmp_path / "lexical"
    LexicalIndex.build([("ghost", ["fantom"])]).save(cache, generation=99)
    _add(catalog, "/a.md", ["Un label dans le DCE."])
    index = LexicalIndex.for_catalog(catalog, cache)
    assert index.ids == ["/a.md#0"], "ids the catalog does not hold are dropped, its own are added"


def test_for_catalog_empty(tmp_path):
    catalog = Catalog(tmp_path / "catalog.sqlite")
    assert len(LexicalIndex.for_catalog(catalog, tmp_path / "lexical")) == 0
