"""Fixtures of the drafting tests: the real llama.cpp server for the `llm` generator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from .llama_server import LlamaServer, start, stop


@pytest.fixture(scope="session")
def llama_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LlamaServer]:
    """llama.cpp's OpenAI-compatible server on 127.0.0.1, serving SmolLM2-135M; stopped after."""
    server = start(tmp_path_factory.mktemp("llama") / "server.log")
    try:
        yield server
    finally:
        stop(server.process)
