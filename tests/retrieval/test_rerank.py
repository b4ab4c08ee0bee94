"""The optional cross-encoder stage: wiring only (no cross-encoder model ships here)."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigError
from assistant.records import Chunk, Passage
from assistant.retrieval.rerank import CrossEncoderReranker, make_reranker


class LengthScorerDouble:
    """Test double of `CrossEncoder`: scores a pair by the length of the passage text.

    A real cross-encoder cannot run here (none is installed); this stands in for its
    `predict` method only, to check how the reranker uses the scores.
    """

    def __init__(self) -> None:
        self.calls: list[list[tuple[str, str]]] = []

    def predict(self, inputs, **kwargs):
        self.calls.append(list(inputs))
        return [float(len(text)) for _, text in inputs]


def passages(*texts):
    return [Passage(Chunk(f"c{i}", t, "/a.md", "A"), 1.0 / (i + 1)) for i, t in enumerate(texts)]


def test_rerank_orders_by_model_score():
    scorer = LengthScorerDouble()
    reranker = CrossEncoderReranker("unused", model=scorer)
    result = reranker.rerank("label ?", passages("court", "un texte bien plus long", "moyen texte"))
    assert [p.chunk.id for p in result] == ["c1", "c2", "c0"]
    assert [p.score for p in result] == [23.0, 11.0, 5.0], "the passage score becomes the model's"
    assert scorer.calls == [[("label ?", "court"), ("label ?", "un texte bien plus long"),
                             ("label ?", "moyen texte")]], "pairs of (question, chunk text)"


def test_rerank_nothing_calls_nothing():
    scorer = LengthScorerDouble()
    assert CrossEncoderReranker("unused", model=scorer).rerank("q", []) == [] and scorer.calls == []


def test_wrong_number_of_scores():
    class ShortDouble:
        def predict(self, inputs, **kwargs):
            return [1.0]

    with pytest.raises(ValueError, match="reranker gave 1 scores for 2 passages"):
        CrossEncoderReranker("unused", model=ShortDouble()).rerank("q", passages("a", "b"))


@pytest.mark.parametrize("setting", ["", "   "])
def test_off_by_default(setting):
    assert make_reranker(setting) is None


def test_missing_path_is_a_clear_config_error(tmp_path):
    with pytest.raises(ConfigError, match="is not a local folder: set GUICHET_RERANKER_MODEL"):
        make_reranker(str(tmp_path / "no-such-model"))


@pytest.mark.slow  # imports sentence-transformers (torch): several seconds
def test_folder_without_a_model_fails_on_load(tmp_path):
    reranker = make_reranker(str(tmp_path))
    assert reranker is not None, "construction is cheap: the model loads on first use"
    with pytest.raises(ConfigError, match="cannot load reranker model"):
        reranker.warm_up()
