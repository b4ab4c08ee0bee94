"""Pick the draft generator named by `Settings.generator`.

Example:
    >>> from assistant.config import get_settings
    >>> make_generator(get_settings()).name
    'extractive'
    >>> make_generator(get_settings(generator="gpt"))
    Traceback (most recent call last):
    ...
    assistant.errors.ConfigError: unknown generator 'gpt' (GUICHET_GENERATOR): choose one of 'extractive', 'llm'
"""

from __future__ import annotations

import importlib.util

from assistant.drafting.abstention import Model
from assistant.drafting.base import Generator
from assistant.drafting.terms import Rarity
from assistant.drafting.extractive import ExtractiveGenerator, RelatedResources
from assistant.errors import ConfigError, MissingDependency

GENERATORS = ("extractive", "llm")


def make_generator(settings, related_resources: RelatedResources | None = None,
                   model: Model | None = None, rarity: Rarity | None = None) -> Generator:
    """The generator of `settings.generator`; cheap: no model or connection is opened here.

    Args:
        settings: The assistant's settings.
        related_resources: Optional `(question) -> resource chunks` for "Pour aller plus loin".
        model: Abstention model (default: GUICHET_HOME's fit, else the shipped one).
        rarity: Rarity of terms in the indexed corpus (`Assistant.term_rarity`).

    Raises:
        ConfigError: an unknown generator name, or `llm` without base URL or model.
        MissingDependency: `llm` without langchain-openai installed.
    """
    name = settings.generator
    if name == "extractive":
        return ExtractiveGenerator(settings, related_resources, model, rarity=rarity)
    if name == "llm":
        if importlib.util.find_spec("langchain_openai") is None:
            raise MissingDependency('the llm generator needs langchain-openai: pip install "guichet-vert[llm]"')
        from assistant.drafting.llm import LLMGenerator

        return LLMGenerator(settings, related_resources, model, rarity=rarity)
    allowed = ", ".join(repr(g) for g in GENERATORS)
    raise ConfigError(f"unknown generator {name!r} (GUICHET_GENERATOR): choose one of {allowed}")
