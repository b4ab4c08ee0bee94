"""The learned second stage: its features on real chunks, its parameter files, its fit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from assistant.errors import ConfigError
from assistant.records import Chunk
from assistant.compose import retrieval_config
from assistant.retrieval.hybrid import HybridRetriever
from assistant.retrieval.ranker import FEATURES, FORMAT, SHIPPED, LinearRanker, fit, load_ranker, profile

pytestmark = pytest.mark.slow  # the features are computed on a real index (real e5-small vectors)

COL = {name: i for i, name in enumerate(FEATURES)}


def first_stage(small_index, question):
    retriever = HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                                retrieval_config(small_index.settings()))
    stage = retriever.first_stage(question)
    return stage, {Path(c.chunk.source).name + (f"#{c.chunk.page}" if c.chunk.page else ""): i
                   for i, c in enumerate(stage.candidates)}


def test_features_of_real_chunks_say_what_they_mean(small_index):
    stage, at = first_stage(small_index, "dans quel délai le fabricant doit-il communiquer la note de réparabilité ?")
    x = stage.features
    assert x.shape == (len(stage.candidates), len(FEATURES)), x.shape
    note = x[at["indice-reparabilite-en-pratique.md"]]
    assert note[COL["words_found"]] == pytest.approx(1.0), "every word of the question is in that chunk"
    assert note[COL["coverage"]] == pytest.approx(1.0) and note[COL["window"]] > 0.5, note
    assert note[COL["figure"]] == 1.0, "a 'délai' is a number, and the chunk holds '15 jours'"
    label = x[at["guide-achats-numeriques-responsables-2021.pdf#38"]]
    assert label[COL["words_found"]] < note[COL["words_found"]], "the label chunk shares fewer words"
    assert x[:, COL["bm25_rel"]].max() == pytest.approx(1.0), "BM25 relative to the best candidate"
    assert x[:, COL["window_gap"]].max() == pytest.approx(0.0) and (x[:, COL["window_gap"]] <= 0).all()
    assert ((-1 <= x[:, COL["best_cosine"]]) & (x[:, COL["best_cosine"]] <= 1)).all()
    assert x[:, COL["share"]].max() == 0.0, "no share asked for"


def test_document_features_look_at_the_other_chunks_of_the_same_file(small_index):
    stage, at = first_stage(small_index, "collecte des DEEE gratuite ou payante ?")
    x = stage.features
    faq = [i for i, c in enumerate(stage.candidates) if c.chunk.source.endswith("fin-usage--faq.md")]
    assert len(faq) == 2, [c.chunk.source for c in stage.candidates]
    a, b = faq
    assert x[a, COL["doc_bm25"]] == pytest.approx(x[b, COL["bm25_rel"]]), "the best other chunk of the file"
    assert x[a, COL["doc_chunks"]] == pytest.approx(np.log(2)), "one other chunk of the file"
    alone = at["fin-usage--don.md"]
    assert x[alone, COL["doc_chunks"]] == 0.0 and x[alone, COL["doc_bm25"]] == 0.0


def test_a_question_asking_for_a_share_favours_chunks_with_a_percent(small_index):
    stage, at = first_stage(small_index, "le numérique c'est quel pourcentage des émissions de GES ?")
    x = stage.features
    assert x[at["guide-achats-numeriques-responsables-2021.pdf#4"], COL["share"]] == 1.0
    without = [i for i, c in enumerate(stage.candidates) if "%" not in c.chunk.text]
    assert without and (x[without, COL["share"]] == 0.0).all(), "no '%' in the chunk, no share"


def test_profile_counts_questions_and_letters():
    questionnaire = Chunk("q", "Quelle est votre politique ? Avez-vous un label ? Décrire.", "/g.md", "G")
    table = Chunk("t", "| 12 | 3,4 | 56 |", "/g.md", "G")
    assert profile(questionnaire, ["politiqu", "label"]).questions == pytest.approx(2 / 3)
    assert profile(table, ["12", "3,4", "56"]).letters == 0.0 and profile(table, ["12"]).digits


def test_the_shipped_parameters_load_and_rank_the_real_answer_first(small_index):
    ranker = LinearRanker.load(SHIPPED)
    assert ranker.fitted.get("questions", 0) > 100, "fitted on the pooled question sets"
    retriever = HybridRetriever(small_index.catalog, small_index.store, small_index.embedder,
                                retrieval_config(small_index.settings()))
    passages = retriever.search("il a combien de temps pour répondre sur sa note de réparabilité ?", k=3)
    assert Path(passages[0].chunk.source).name == "indice-reparabilite-en-pratique.md", passages
    assert 0 < passages[-1].score <= passages[0].score <= 1, "softmax shares, best first"


def _write(path: Path, **changes) -> Path:
    data = json.loads(SHIPPED.read_text(encoding="utf-8"))
    for key, value in changes.items():
        if key in ("kind", "format"):
            data[key] = value
        else:
            data["params"][key] = value
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@pytest.mark.parametrize("changes, message", [
    ({"format": FORMAT + 1}, f"format {FORMAT + 1}, this version reads format {FORMAT}"),
    ({"features": list(FEATURES[:-1])}, "fitted on other features"),
    ({"weights": [0.0]}, f"must have {len(FEATURES)} values per vector"),
    ({"scale": [0.0] * len(FEATURES)}, "non-positive scales"),
    ({"kind": "abstention"}, "holds 'abstention' parameters, not 'ranker'"),
])
def test_a_parameter_file_from_another_version_fails_in_one_line(tmp_path, changes, message):
    path = _write(tmp_path / "ranker.json", **changes)
    with pytest.raises(ConfigError, match=message) as info:
        LinearRanker.load(path)
    assert "\n" not in str(info.value)


def test_a_corrupt_parameter_file_fails_in_one_line(tmp_path):
    path = tmp_path / "ranker.json"
    path.write_bytes(SHIPPED.read_bytes()[:200])
    with pytest.raises(ConfigError, match="unreadable.*guichet tune") as info:
        LinearRanker.load(path)
    assert "\n" not in str(info.value)


def test_settings_choose_the_parameters(isolated_home, tmp_path):
    from assistant.config import Settings

    def load(settings):
        config = retrieval_config(settings)
        return load_ranker(config.ranker, config.ranker_params)

    assert load(Settings(ranker="fusion")) is None
    shipped = load(Settings())
    assert shipped.weights.tolist() == LinearRanker.load(SHIPPED).weights.tolist()
    tuned = LinearRanker([1.0] * len(FEATURES), [0.0] * len(FEATURES), [1.0] * len(FEATURES))
    tuned.save(isolated_home / "ranker.json")
    assert load(Settings()).weights.tolist() == [1.0] * len(FEATURES), "a desk's own file wins"
    _write(tmp_path / "bad.json", format=0)
    with pytest.raises(ConfigError, match="format 0"):
        load(Settings(ranker_params=tmp_path / "bad.json"))


def test_fit_learns_the_order_within_each_question():
    rng = np.random.default_rng(0)
    x, y, q = [], [], []
    for question in range(40):
        rows = rng.normal(size=(20, len(FEATURES)))
        rows[:, 0] += 5 * question  # a per-question offset the softmax must ignore
        best = int(np.argmax(rows[:, 1]))  # the relevant one has the largest second feature
        x.append(rows)
        y.append(np.eye(20)[best])
        q.append(np.full(20, question))
    ranker = fit(np.concatenate(x), np.concatenate(y), np.concatenate(q))
    assert int(np.argmax(np.abs(ranker.weights))) == 1 and ranker.weights[1] > 0, ranker.weights
    with pytest.raises(ValueError, match="no question has a relevant candidate"):
        fit(np.zeros((3, len(FEATURES))), np.zeros(3), np.zeros(3))
