"""Engine and transactions of the review database.

SQLite (the default, `GUICHET_HOME/review.sqlite`) runs in WAL mode with a busy timeout, and
every write transaction starts with `BEGIN IMMEDIATE`: a writer waits for the lock up front
instead of failing half-way when another process committed first. The file (and its -wal and
-shm companions, which SQLite gives the same mode) is readable by its owner only: it holds
e-mail addresses, thread tokens and password hashes. Any other SQLAlchemy URL (PostgreSQL) is
used as is; nothing below is needed there.

Example:
    >>> from sqlalchemy import text
    >>> engine = make_engine("sqlite:///:memory:")
    >>> with transaction(engine, write=True) as session:
    ...     _ = session.execute(text("select 1"))
"""

from __future__ import annotations

import os
import threading
import weakref
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from assistant.diskfull import disk_full, is_disk_full
from assistant.review.errors import Conflict, DatabaseBusy
from assistant.sqlite import WRITE, sqlite_engine

_FILE_LOCKS: dict[str, Any] = {}  # threading.RLock per SQLite file
_FILE_LOCKS_GUARD = threading.Lock()
_BUSY_TIMEOUTS: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()
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
    if not lock.acquire(timeout=_BUSY_TIMEOUTS.get(engine, 5.0)):
        raise DatabaseBusy(_BUSY_MESSAGE)
    try:
        yield
    finally:
        lock.release()


def database_url(home: Path, url: str = "") -> str:
    """The configured URL, or the default SQLite file in the data directory."""
    if url:
        return url
    return f"sqlite:///{(Path(home) / 'review.sqlite').resolve()}"


def make_engine(url: str, busy_timeout_s: float = 5.0) -> Engine:
    """Create the engine; SQLite gets WAL, a busy timeout, foreign keys and explicit BEGINs.

    Args:
        url: SQLAlchemy URL.
        busy_timeout_s: How long a SQLite writer waits for a lock before `DatabaseBusy`.
    """
    if not url.startswith("sqlite"):
        return create_engine(url, pool_pre_ping=True)
    if url.startswith("sqlite:///") and ":memory:" not in url:
        _owner_only(Path(url.removeprefix("sqlite:///").split("?")[0]))
    engine = sqlite_engine(url, busy_timeout_s)
    _BUSY_TIMEOUTS[engine] = busy_timeout_s
    return engine


def _owner_only(path: Path) -> None:
    """Create the database file 0600, and take group and other access away from an existing one
    (made 0644 by an earlier version) and its -wal and -shm files."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    for file in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        try:
            if file.stat().st_mode & 0o077:
                file.chmod(0o600)
        except (FileNotFoundError, PermissionError):  # gone, or another user's: theirs to set
            pass


def is_locked_error(exc: OperationalError) -> bool:
    """True when SQLite reports a lock held by another connection."""
    message = str(exc.orig).lower()
    return "locked" in message or "busy" in message


@contextmanager
def transaction(engine: Engine, write: bool = False) -> Iterator[Session]:
    """One ORM session in one transaction, committed on success, rolled back on error.

    Lock timeouts become `DatabaseBusy`, stale optimistic versions `Conflict`, and a full disk
    `DiskFull` (the transaction is rolled back: nothing of it is kept, nothing before is lost).

    Args:
        engine: Engine from `make_engine`.
        write: Take the write lock at BEGIN (SQLite); reads use a plain BEGIN.
    """
    bind = engine.execution_options(**{WRITE: True}) if write else engine
    try:
        with _writer_turn(engine) if write else nullcontext(), \
                Session(bind, expire_on_commit=False) as session, session.begin():
            yield session
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

