"""Fixtures shared by every test package: an isolated GUICHET_HOME and the shared real corpus."""

from __future__ import annotations

from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SHARED = ROOT.parent / "shared"
MINUMECO = SHARED / "corpus" / "minumeco"


@pytest.fixture(autouse=True)
def isolated_home(tmp_path, monkeypatch) -> Path:
    """Every test gets its own empty data directory and no stray GUICHET_* variable."""
    import os

    for key in list(os.environ):
        if key.startswith("GUICHET_"):
            monkeypatch.delenv(key)
    home = tmp_path / "home"
    monkeypatch.setenv("GUICHET_HOME", str(home))
    return home


@pytest.fixture(scope="session")
def minumeco() -> Path:
    """The real public documents in ../shared/corpus/minumeco (read, never copied)."""
    if not MINUMECO.is_dir():
        pytest.fail(f"{MINUMECO} is missing: the tests need ../shared beside the repository")
    return MINUMECO
