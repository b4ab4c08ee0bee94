"""Ingestion's parameters as the composition root builds them, each bad value refused in one line."""

from dataclasses import replace

import pytest

from assistant.compose import ingest_config
from assistant.config import Settings
from assistant.errors import ConfigError


def test_settings_route_to_the_ingest_config(tmp_path):
    synonyms = tmp_path / "synonymes.yaml"
    config = ingest_config(Settings(chunk_size=600, chunk_overlap=80, prune=False, embed_batch_size=4,
                                    synonyms_file=synonyms, max_file_mb=3, file_timeout_s=9,
                                    file_memory_mb=512, max_expanded_mb=20))
    assert (config.chunk_size, config.chunk_overlap, config.prune, config.embed_batch_size, config.synonyms_file) == (
        600, 80, False, 4, synonyms)
    assert (config.files.max_file_mb, config.files.timeout_s, config.files.memory_mb,
            config.files.max_expanded_mb) == (3, 9, 512, 20)
    assert config.chunking == "600:80", "the catalog records size and overlap to know when to re-chunk"


@pytest.mark.parametrize("field, value, words", [
    ("chunk_size", 0, "chunk_size must be > 0"),
    ("embed_batch_size", 0, "embed_batch_size must be > 0"),
    ("chunk_overlap", -5, "chunk_overlap must be >= 0"),
])
def test_bad_ingest_values_are_refused_in_one_line(field, value, words):
    with pytest.raises(ConfigError) as exc:
        replace(ingest_config(Settings()), **{field: value})
    assert str(exc.value).startswith(words) and "\n" not in str(exc.value)


@pytest.mark.parametrize("field, name", [("max_file_mb", "max_file_mb"), ("timeout_s", "file_timeout_s"),
                                         ("memory_mb", "file_memory_mb"), ("max_expanded_mb", "max_expanded_mb")])
def test_bad_file_limits_are_refused_in_one_line(field, name):
    with pytest.raises(ConfigError) as exc:
        replace(ingest_config(Settings()).files, **{field: 0})
    assert str(exc.value) == f"{name} must be > 0, got 0"
