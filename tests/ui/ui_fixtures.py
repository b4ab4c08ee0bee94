"""Constants and helpers of the web app tests, imported by name (`from conftest import` could
resolve to another test package's conftest.py, whichever was imported first)."""

from __future__ import annotations

import shutil
from pathlib import Path

from assistant.config import Settings

ROOT = Path(__file__).resolve().parents[2]
#: Password of the advisors the fixtures create.
PASSWORD = "mot-de-passe-de-test"


def settings_for(home: Path) -> Settings:
    return Settings(home=home)


def copy_index(template: Path, home: Path) -> Path:
    shutil.copytree(template, home, dirs_exist_ok=True)
    return home
