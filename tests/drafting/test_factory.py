"""The generator factory: names from settings, clear errors, optional dependency message."""

from __future__ import annotations

import sys

import pytest

from assistant.compose import drafting_config
from assistant.config import get_settings
from assistant.drafting.base import Generator
from assistant.drafting.factory import GENERATORS, make_generator
from assistant.errors import ConfigError, MissingDependency

LLM = {"generator": "llm", "llm_base_url": "http://127.0.0.1:8080/v1", "llm_model": "smollm2"}


@pytest.mark.parametrize("overrides, name", [({}, "extractive"), ({"generator": "extractive"}, "extractive"), (LLM, "llm")])
def test_known_generators(overrides, name):
    generator = make_generator(drafting_config(get_settings(**overrides)))
    assert generator.name == name and isinstance(generator, Generator)


def test_unknown_generator_lists_the_allowed_ones():
    with pytest.raises(ConfigError, match="unknown generator 'gpt4' .*choose one of 'extractive', 'llm'"):
        make_generator(drafting_config(get_settings(generator="gpt4")))
    assert GENERATORS == ("extractive", "llm")


@pytest.mark.parametrize("missing, message", [("llm_base_url", "GUICHET_LLM_BASE_URL is empty"),
                                               ("llm_model", "GUICHET_LLM_MODEL is empty")])
def test_llm_needs_an_endpoint_and_a_model(missing, message):
    with pytest.raises(ConfigError, match=message):
        make_generator(drafting_config(get_settings(**{**LLM, missing: ""})))


def test_llm_without_langchain_openai_names_the_extra(monkeypatch):
    # langchain-openai is installed here; hiding it from the import system is the only way to
    # exercise the message a deployment without the extra gets.
    monkeypatch.setitem(sys.modules, "langchain_openai", None)
    with pytest.raises(MissingDependency, match=r'pip install "guichet-vert\[llm\]"'):
        make_generator(drafting_config(get_settings(**LLM)))


def test_construction_opens_no_connection():
    generator = make_generator(drafting_config(get_settings(**{**LLM, "llm_base_url": "http://127.0.0.1:9/v1"})))
    assert generator._chat is None, "the client is built on first use"


def test_llm_warm_up_builds_the_client_without_calling_the_endpoint():
    generator = make_generator(drafting_config(get_settings(**LLM)))  # nothing listens on that port here
    assert generator._chat is None, "the constructor stays cheap"
    generator.warm_up()
    assert generator._chat is not None and generator.chat is generator._chat, "built once, before any draft"
