"""Fixtures of the `server` tests: a real `chroma run` and a real PostgreSQL, started once.

The session starts `chroma run --path TMP --host 127.0.0.1 --port FREE` (waiting until its
heartbeat answers) and a throwaway PostgreSQL cluster (initdb/pg_ctl as the `postgres` user when
run as root), and stops both at the end. SERVER_TEST_CHROMA_URL and SERVER_TEST_POSTGRES_URL
(server URL without a database name) point the tests at servers started elsewhere instead.
Missing binaries fail the tests with the command that installs them: they are never skipped.
Each test gets a fresh PostgreSQL database and an empty Chroma collection.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest

from assistant.config import Settings, get_settings
from server_helpers import (GUIDES, SMALL_GUIDES, ChromaServer, PostgresServer, drop_chunks_collection,
                            new_database)


def _server_url(variable: str, server_class) -> Iterator[str]:
    """The URL in `variable` when set (a server already running), else that of one started here."""
    if os.environ.get(variable):
        yield os.environ[variable].rstrip("/")
        return
    try:
        server = server_class.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server.url
    finally:
        server.stop()


@pytest.fixture(scope="session")
def chroma_url() -> Iterator[str]:
    """URL of a running Chroma server."""
    yield from _server_url("SERVER_TEST_CHROMA_URL", ChromaServer)


@pytest.fixture(scope="session")
def postgres_url() -> Iterator[str]:
    """SQLAlchemy URL (without database name) of a running PostgreSQL server."""
    yield from _server_url("SERVER_TEST_POSTGRES_URL", PostgresServer)


@pytest.fixture(scope="session")
def embedder():
    """The real bundled embedder, loaded once for the session."""
    from assistant.embeddings.factory import make_embedder

    model = make_embedder("e5-small")
    model.warm_up()
    return model


@pytest.fixture
def database_url(postgres_url: str) -> str:
    """A fresh, empty PostgreSQL database for this test."""
    return new_database(postgres_url)


@pytest.fixture
def servers(isolated_home: Path, chroma_url: str, database_url: str, monkeypatch) -> Settings:
    """Settings (and GUICHET_* variables, for child processes) on the Chroma server and PostgreSQL."""
    drop_chunks_collection(chroma_url)
    monkeypatch.setenv("GUICHET_CHROMA_URL", chroma_url)
    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    return get_settings()


@pytest.fixture
def docs(tmp_path: Path) -> Path:
    """A copy of three small real guides, so that a test can change and delete them."""
    target = tmp_path / "docs"
    target.mkdir()
    for name in SMALL_GUIDES:
        shutil.copy(GUIDES / name, target / name)
    return target
