"""Engine and transactions of the review database.

The engine comes from the one factory (`assistant.db.engine`): SQLite (the default,
`GUICHET_HOME/review.sqlite`) runs in WAL mode with a busy timeout, and every write transaction
starts with `BEGIN IMMEDIATE`: a writer waits for the lock up front instead of failing half-way
when another process committed first. The file (and its -wal and -shm companions, which SQLite
gives the same mode) is readable by its owner only: it holds e-mail addresses, thread tokens and
password hashes. PostgreSQL needs nothing of this.

Example:
    >>> from sqlalchemy import text
    >>> engine = make_engine("sqlite:///:memory:")
    >>> with transaction(engine, write=True) as session:
    ...     _ = session.execute(text("select 1"))
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from assistant.db import engine as engines
from assistant.db.sqlite import WRITE
from assistant.diskfull import disk_full, is_disk_full
from assistant.review.errors import Conflict, DatabaseBusy

_FILE_LOCKS: dict[str, Any] = {}  # threading.RLock per SQLite file
_FILE_LOCKS_GUARD = threading.Lock()
_BUSY_MESSAGE = ("the review database is locked by another process: retry in a moment, or stop the "
                 "process holding it")


@contextmanager
def _writer_turn(engine: Engine) -> Iterator[None]:
    """One writer at a time per SQLite file within this process.

    Threads queue on a Python lock instead of in SQLite's busy handler, which polls with sleeps
    of up to 100 ms and makes the latency tail long. Other processes still meet SQLite's lock.
    """
    if engine.dialect.name != "sqlite":
        yield
        return
    with _FILE_LOCKS_GUARD:
        lock = _FILE_LOCKS.setdefault(str(engine.url), threading.RLock())
    if not lock.acquire(timeout=engines.busy_timeout(engine)):
        raise DatabaseBusy(_BUSY_MESSAGE)
    try:
        yield
    finally:
        lock.release()


#: The review database's file in the data directory when no database URL is configured.
SQLITE_FILE = "review.sqlite"


def database_url(home: Path, url: str = "") -> str:
    """The configured URL, or the default SQLite file in the data directory."""
    if url:
        return url
    return f"sqlite:///{(Path(home) / SQLITE_FILE).resolve()}"


def make_engine(url: str, busy_timeout_s: float = 5.0) -> Engine:
    """The review database's engine: the one factory's, with a SQLite file only its owner reads.

    Args:
        url: SQLAlchemy URL.
        busy_timeout_s: How long a SQLite writer waits for a lock before `DatabaseBusy`.
    """
    return engines.make_engine(url, busy_timeout_s, private=True)


def is_locked_error(exc: OperationalError) -> bool:
    """True when SQLite reports a lock held by another connection."""
    message = str(exc.orig).lower()
    return "locked" in message or "busy" in message


@contextmanager
def translated(engine: Engine) -> Iterator[None]:
    """Lock timeouts become `DatabaseBusy`, stale optimistic versions `Conflict`, and a full disk
    `DiskFull`."""
    try:
        yield
    except StaleDataError:
        raise Conflict("another advisor changed this item at the same moment: reload it, "
                       "nothing was overwritten") from None
    except OperationalError as exc:
        if engine.dialect.name == "sqlite" and is_locked_error(exc):
            raise DatabaseBusy(_BUSY_MESSAGE) from None
        if engine.dialect.name == "sqlite" and engine.url.database:
            home = Path(engine.url.database).parent
            if is_disk_full(exc, home):
                raise disk_full(home) from None
        raise


@contextmanager
def transaction(engine: Engine, write: bool = False) -> Iterator[Session]:
    """One ORM session in one transaction, committed on success, rolled back on error.

    Errors are `translated`: a full disk rolls the transaction back, nothing of it is kept and
    nothing before is lost.

    Args:
        engine: Engine from `make_engine`.
        write: Take the write lock at BEGIN (SQLite); reads use a plain BEGIN.
    """
    bind = engine.execution_options(**{WRITE: True}) if write else engine
    with translated(engine), _writer_turn(engine) if write else nullcontext(), \
            Session(bind, expire_on_commit=False) as session, session.begin():
        yield session
