"""An index and a review database made by an older guichet-vert open and upgrade on SQLite.

The fixtures (`tests/fixtures/old-main`, see `tests/old_main.py`) were written by the commit in
their MADE_WITH file; each test restores a copy into its own GUICHET_HOME.
"""

from __future__ import annotations

import pytest
from old_main import assert_upgraded, restore_sqlite, snapshot

pytestmark = pytest.mark.slow


def test_an_index_and_a_review_database_of_the_older_version_upgrade_on_sqlite(isolated_home, tmp_path):
    restore_sqlite(isolated_home)
    before = snapshot(f"sqlite:///{isolated_home / 'review.sqlite'}", f"sqlite:///{isolated_home / 'catalog.sqlite'}",
                      prefix="")
    (tmp_path / "empty").mkdir()
    assert_upgraded(before, isolated_home, tmp_path / "empty")
    stored = b"".join(p.read_bytes() for p in isolated_home.glob("review.sqlite*"))
    assert not [t for t in before.tokens.values() if t.encode() in stored], "a clear thread token is left in the file"
