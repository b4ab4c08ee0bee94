"""Chunk vectors pooled from short windows, with the real bundled e5 model."""

import numpy as np
import pytest

from assistant.compose import index_config, open_index
from assistant.config import Settings
from assistant.embeddings.factory import make_embedder
from assistant.embeddings.windows import WINDOW_CHARS, embed_chunks, vector_space, windows
from assistant.errors import IndexMismatch
from assistant.records import Chunk
from assistant.store.catalog import Catalog

LONG = ("Le don de matériel informatique aux associations est possible quand la valeur unitaire "
        "des biens ne dépasse pas un plafond fixé par les textes. Les biens ne sont pas revendus.\n\n"
        "Les déchets d'équipements électriques et électroniques suivent une filière dédiée : un "
        "éco-organisme agréé les collecte et remet un bordereau de suivi à l'administration.\n\n"
        "Les repas servis en restauration collective publique comptent une part de produits "
        "durables et de qualité, dont des produits issus de l'agriculture biologique.")


@pytest.fixture(scope="module")
def e5():
    return make_embedder("e5-small")


def test_a_short_chunk_is_one_window_equal_to_its_index_text():
    chunk = Chunk("c1", "Le label EPEAT a trois niveaux.", "/g.md", "Guide", section="Labels")
    assert windows(chunk) == [chunk.index_text]


def test_a_long_chunk_is_cut_into_windows_that_each_repeat_the_heading_path():
    chunk = Chunk("c1", LONG, "/g.md", "Guide", section="Fin de vie > Don")
    found = windows(chunk)
    assert len(found) >= 2, found
    for window in found:
        head, _, body = window.partition("\n")
        assert head == "Guide > Fin de vie > Don"
        assert len(body) <= WINDOW_CHARS and body in LONG
    covered = " ".join(w.partition("\n")[2] for w in found)
    assert all(word in covered for word in LONG.split()), "every word of the chunk is in a window"


def test_a_chunk_without_title_or_section_has_bare_windows():
    chunk = Chunk("c1", LONG, "/g.txt", "")
    assert all(w in LONG for w in windows(chunk))


def test_chunk_vector_is_the_normalised_mean_of_its_window_vectors(e5):
    short = Chunk("s", "Le label EPEAT a trois niveaux : bronze, argent et or.", "/g.md", "Guide")
    long = Chunk("l", LONG, "/g.md", "Guide", section="Fin de vie")
    made = embed_chunks(e5, [short, long])
    vectors = made.vectors
    assert vectors.shape == (2, 384)
    assert [w.shape for w in made.windows] == [(1, 384), (len(windows(long)), 384)], "one row per window"
    assert np.allclose(made.windows[1], e5.embed_passages(windows(long)), atol=1e-5), "the windows' own vectors"
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert np.allclose(vectors[0], e5.embed_passages([short.index_text])[0], atol=1e-5)
    mean = e5.embed_passages(windows(long)).mean(axis=0)
    assert np.allclose(vectors[1], mean / np.linalg.norm(mean), atol=1e-5)
    whole = e5.embed_passages([long.index_text])[0]
    assert not np.allclose(vectors[1], whole, atol=1e-3), "pooling changes a long chunk's vector"


def test_no_chunks_give_an_empty_matrix(e5):
    made = embed_chunks(e5, [])
    assert made.vectors.shape == (0, 384) and made.windows == ()


def test_an_index_whose_vectors_were_made_another_way_is_refused_with_the_fix(isolated_home, e5):
    settings = Settings()
    index = open_index(settings, e5)
    assert index.catalog.get_meta("embedder") == vector_space(e5) == \
        "e5-small, mean of 350-char windows, windows kept"
    index.close()
    for older in ("e5-small", "e5-small, mean of 350-char windows"):  # before window means; before kept windows
        catalog = Catalog(index_config(settings).catalog_path)
        catalog.set_meta("embedder", older)
        catalog.close()
        with pytest.raises(IndexMismatch, match=rf"made as '{older}'.*--rebuild PATH.*re-embed"):
            open_index(settings, e5)
