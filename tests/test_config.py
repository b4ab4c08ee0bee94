from pathlib import Path

import pytest

from assistant.compose import has_review_data, home, index_config, over_home
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


def test_over_home_keeps_the_configuration_and_changes_the_home(tmp_path):
    settings = get_settings(home=tmp_path / "a", top_k=7)
    other = over_home(settings, tmp_path / "b", ranker="fusion")
    assert (home(other), other.top_k, other.ranker) == (tmp_path / "b", 7, "fusion")
    assert (home(settings), settings.ranker) == (tmp_path / "a", "learned"), "the original is unchanged"


def test_over_home_refuses_an_unknown_setting(tmp_path):
    with pytest.raises(ConfigError, match="unknown setting 'topk'"):
        over_home(get_settings(home=tmp_path), tmp_path / "b", topk=3)


def test_review_data_is_a_database_url_or_an_existing_review_file(tmp_path):
    assert not has_review_data(get_settings(home=tmp_path))
    assert has_review_data(get_settings(home=tmp_path, database_url="postgresql://u@db/x"))
    (tmp_path / "review.sqlite").touch()
    assert has_review_data(get_settings(home=tmp_path))
