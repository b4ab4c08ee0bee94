"""The shared PostgreSQL database of an older guichet-vert (review and catalog tables) upgrades.

The fixture (`tests/fixtures/old-main/postgresql.sql`, see `tests/old_main.py`) is a pg_dump of
what the commit in MADE_WITH wrote with GUICHET_DATABASE_URL set; it is restored into a fresh
database of the real PostgreSQL server.
"""

from __future__ import annotations

import pytest
from old_main import assert_upgraded, restore_postgresql, snapshot

pytestmark = [pytest.mark.server, pytest.mark.slow]


def test_the_shared_database_of_the_older_version_upgrades_on_postgresql(isolated_home, database_url, tmp_path,
                                                                         monkeypatch):
    restore_postgresql(database_url)
    before = snapshot(database_url, database_url, prefix="catalog_")
    monkeypatch.setenv("GUICHET_DATABASE_URL", database_url)
    (tmp_path / "empty").mkdir()
    assert_upgraded(before, isolated_home, tmp_path / "empty")
