"""The index's location as the composition root builds it from the settings."""

from pathlib import Path

import pytest

from assistant.compose import index_config
from assistant.config import Settings
from assistant.errors import ConfigError
from assistant.store.options import IndexConfig


def test_settings_route_to_the_index_config(tmp_path):
    config = index_config(Settings(home=tmp_path, embedder="minilm", chroma_url="http://127.0.0.1:8000",
                                   chroma_token="jeton-secret", database_url="sqlite:///" + str(tmp_path / "db")))
    assert (config.home, config.embedder, config.chroma_url, config.chroma_token) == (
        tmp_path, "minilm", "http://127.0.0.1:8000", "jeton-secret")
    assert config.database_url.endswith("/db")
    assert (config.catalog_path, config.chroma_path, config.lexical_path) == (
        tmp_path / "catalog.sqlite", tmp_path / "chroma", tmp_path / "lexical")
    assert "jeton-secret" not in repr(config), "the Chroma token never shows in a repr or a log line"


def test_an_index_without_an_embedder_name_is_refused_in_one_line():
    with pytest.raises(ConfigError) as exc:
        IndexConfig(home=Path("index"), embedder="")
    assert "\n" not in str(exc.value) and "GUICHET_EMBEDDER" in str(exc.value)
