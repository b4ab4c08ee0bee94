from pathlib import Path

import pytest

from assistant.compose import index_config
from assistant.config import get_settings, settings_table, unknown_variables
from assistant.errors import ConfigError

ROOT = Path(__file__).resolve().parents[1]


def test_defaults_and_home_from_environment(isolated_home):
    settings = get_settings()
    assert settings.home == isolated_home, "GUICHET_HOME must set the data directory"
    assert settings.embedder == "e5-small", "the bundled offline model is the default embedder"
    assert index_config(settings).catalog_path.parent == isolated_home


def test_unknown_variable_is_refused(monkeypatch):
    monkeypatch.setenv("GUICHET_TOPK", "3")
    assert unknown_variables() == ["GUICHET_TOPK"]
    with pytest.raises(ConfigError, match="unknown setting GUICHET_TOPK"):
        get_settings()


@pytest.mark.parametrize("name,value,fragment", [
    ("GUICHET_TOP_K", "0", "GUICHET_TOP_K"),
    ("GUICHET_TOP_K", "many", "GUICHET_TOP_K"),
    ("GUICHET_PORT", "70000", "GUICHET_PORT"),
    ("GUICHET_CHUNK_SIZE", "10", "GUICHET_CHUNK_SIZE"),
    ("GUICHET_TRUSTED_PROXIES", "nginx", "GUICHET_TRUSTED_PROXIES"),
    ("GUICHET_TRUSTED_PROXIES", "10.0.0.1, 300.1.1.1", "GUICHET_TRUSTED_PROXIES"),
])
def test_invalid_value_gives_one_line(monkeypatch, name, value, fragment):
    monkeypatch.setenv(name, value)
    with pytest.raises(ConfigError) as info:
        get_settings()
    message = str(info.value)
    assert fragment in message and "\n" not in message, f"expected one line naming {fragment}: {message!r}"


def test_secrets_never_appear_in_repr(monkeypatch):
    monkeypatch.setenv("GUICHET_LLM_API_KEY", "sk-very-secret")
    settings = get_settings()
    assert "sk-very-secret" not in repr(settings), "API keys must not leak into logs"
    assert settings.llm_api_key.get_secret_value() == "sk-very-secret"


def test_readme_lists_every_setting():
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert settings_table() in readme, "README's settings table is stale: run python -m assistant.config"
