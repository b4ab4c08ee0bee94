"""SQLite engines for the catalog and the review database: WAL, busy timeout, foreign keys, and
explicit transactions where writers begin with `BEGIN IMMEDIATE`.

A writer takes the lock up front: a deferred transaction that later upgrades to a write fails at
once with "database is locked" instead of waiting for the busy timeout.

Example:
    >>> engine = sqlite_engine("sqlite:///:memory:", busy_timeout_s=5)
    >>> with engine.execution_options(**{WRITE: True}).begin() as conn:
    ...     _ = conn.exec_driver_sql("select 1")
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, create_engine, event

#: Execution option that marks a connection as a writer (`BEGIN IMMEDIATE`).
WRITE = "guichet_write"


def sqlite_engine(url: Any, busy_timeout_s: float, **engine_options: Any) -> Engine:
    """A SQLite engine configured for several threads and processes sharing one file.

    Args:
        url: SQLAlchemy URL (string or URL object) of a SQLite database.
        busy_timeout_s: How long a connection waits for another one's lock.
        **engine_options: Passed to `create_engine` (a pool class for in-memory databases).
    """
    engine = create_engine(url, connect_args={"timeout": busy_timeout_s, "check_same_thread": False},
                           **engine_options)
    busy_ms = int(busy_timeout_s * 1000)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        dbapi_connection.isolation_level = None  # pysqlite's implicit BEGIN off: the hook below decides
        cursor = dbapi_connection.cursor()
        cursor.execute(f"PRAGMA busy_timeout = {busy_ms}")
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA foreign_keys = ON")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Any) -> None:
        immediate = conn.get_execution_options().get(WRITE, False)
        conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")

    return engine
