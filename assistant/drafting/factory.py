"""Pick the draft generator a `DraftingConfig` names; the config is checked when built.

Example:
    >>> make_generator(DraftingConfig("extractive", max_source_age_days=730)).name
    'extractive'
    >>> DraftingConfig("gpt", max_source_age_days=730)
    Traceback (most recent call last):
    ...
    assistant.errors.ConfigError: unknown generator 'gpt' (GUICHET_GENERATOR): choose one of 'extractive', 'llm'
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from assistant.drafting.abstention import Model, load_model
from assistant.drafting.base import Generator
from assistant.drafting.terms import Rarity
from assistant.drafting.extractive import ExtractiveGenerator, RelatedResources
from assistant.errors import ConfigError, MissingDependency


class GeneratorKind(StrEnum):
    """The draft generators (the `GUICHET_GENERATOR` setting)."""

    EXTRACTIVE = "extractive"
    LLM = "llm"


GENERATORS = tuple(GeneratorKind)


@dataclass(frozen=True)
class LLMConfig:
    """An OpenAI-compatible endpoint, checked when built.

    Args:
        base_url: The endpoint, e.g. http://127.0.0.1:8080/v1.
        model: The model name it serves.
        api_key: Its key ("" for local servers); never shown in the repr.
        timeout_s: Timeout of one request (> 0).

    Raises:
        ConfigError: an empty base URL or model name, or a timeout <= 0.
    """

    base_url: str
    model: str
    timeout_s: float
    api_key: str = field(default="", repr=False)

    def __post_init__(self) -> None:
        if not self.base_url:
            raise ConfigError("GUICHET_LLM_BASE_URL is empty: set it to an OpenAI-compatible endpoint, "
                              "e.g. http://127.0.0.1:8080/v1")
        if not self.model:
            raise ConfigError("GUICHET_LLM_MODEL is empty: set it to a model name the endpoint serves")
        if self.timeout_s <= 0:
            raise ConfigError(f"llm_timeout_s must be > 0, got {self.timeout_s}")


@dataclass(frozen=True)
class DraftingConfig:
    """Which generator drafts, and with what.

    Args:
        generator: "extractive" or "llm".
        max_source_age_days: Sources older than this are flagged for the advisor (> 0).
        abstention_home: Folder of a desk's own abstention fit (GUICHET_HOME; None: the shipped one).
        llm: The endpoint, required by the llm generator.

    Raises:
        ConfigError: an unknown generator (with the allowed ones), or llm without an endpoint.
    """

    generator: GeneratorKind
    max_source_age_days: int
    abstention_home: Path | None = None
    llm: LLMConfig | None = None

    def __post_init__(self) -> None:
        if self.generator not in GENERATORS:
            allowed = ", ".join(repr(str(g)) for g in GENERATORS)
            raise ConfigError(f"unknown generator {self.generator!r} (GUICHET_GENERATOR): choose one of {allowed}")
        object.__setattr__(self, "generator", GeneratorKind(self.generator))
        if self.generator == GeneratorKind.LLM and self.llm is None:
            raise ConfigError("the llm generator needs an endpoint: set GUICHET_LLM_BASE_URL and GUICHET_LLM_MODEL")
        if self.max_source_age_days <= 0:
            raise ConfigError(f"max_source_age_days must be > 0, got {self.max_source_age_days}")


def make_generator(config: DraftingConfig, related_resources: RelatedResources | None = None,
                   model: Model | None = None, rarity: Rarity | None = None) -> Generator:
    """The generator `config` names; cheap: no model or connection is opened here.

    Args:
        config: What drafts (checked when it was built).
        related_resources: Optional `(question) -> resource chunks` for "Pour aller plus loin".
        model: Abstention model (default: `config.abstention_home`'s fit, else the shipped one).
        rarity: Rarity of terms in the indexed corpus (`Assistant.term_rarity`).

    Raises:
        MissingDependency: `llm` without langchain-openai installed.
    """
    model = model or load_model(config.abstention_home)
    if config.generator == GeneratorKind.EXTRACTIVE:
        return ExtractiveGenerator(related_resources, model, rarity=rarity, max_age_days=config.max_source_age_days)
    if importlib.util.find_spec("langchain_openai") is None:
        raise MissingDependency('the llm generator needs langchain-openai: pip install "guichet-vert[llm]"')
    from assistant.drafting.llm import LLMGenerator

    assert config.llm is not None  # checked when the config was built
    return LLMGenerator(config.llm, related_resources, model, rarity=rarity, max_age_days=config.max_source_age_days)
