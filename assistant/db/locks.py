"""The one lock helper: advisory lock numbers, transaction-scoped locks, and the writer lock.

- `transaction_lock(conn, key)`: a PostgreSQL advisory lock held until the transaction ends
  (migrations, check-and-count of rate limits); nothing on SQLite, whose write transaction
  (`BEGIN IMMEDIATE`) already serialises writers.
- `lock_key(name)`: the advisory lock number of a name, the same in every process.
- `WriterLock`: one writer at a time of a catalog (the ingestion lock), from any process on any
  machine, held across transactions: a lock file beside a SQLite catalog (`flock`, released by
  the kernel when the holder dies), a PostgreSQL advisory lock for a shared catalog (released
  with the holder's connection), a thread lock for an in-memory one. It is re-entrant in the
  thread that holds it, so that `guichet ingest --rebuild` takes it before deleting anything
  and keeps it while it re-ingests through a catalog it opens afterwards.

Example:
    >>> lock_key("catalog_ingest")
    4139148877
    >>> lock = WriterLock("/tmp/index", lock_file=Path("/tmp/index/ingest.lock"))   # doctest: +SKIP
    >>> with lock.hold():                                                           # doctest: +SKIP
    ...     pass
"""

from __future__ import annotations

import fcntl
import threading
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Connection, Engine, text
from sqlalchemy.exc import DatabaseError

from assistant.errors import GuichetError

#: The advisory lock every schema migration takes (the number earlier versions used for the
#: review database's, so that processes of both versions starting together still take turns).
MIGRATION_LOCK = 7345012

_registry = threading.Lock()
#: Locks held by this process: identity → (holding thread, depth).
_held: dict[str, tuple[int, int]] = {}


def lock_key(name: str) -> int:
    """The advisory lock number of `name` (a CRC-32: the same in every process and version)."""
    return zlib.crc32(f"guichet-vert:{name}".encode())


def transaction_lock(conn: Connection, key: int) -> None:
    """Hold advisory lock `key` until the transaction of `conn` ends (PostgreSQL; nothing on SQLite).

    Several processes doing the same check-then-write (app processes starting together on an
    empty database, two takers of one rate limit) then take turns instead of racing.
    """
    if conn.dialect.name == "postgresql":
        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": key})


class WriterLock:
    """One writer at a time (the ingestion lock of a catalog).

    Args:
        place: Where the catalog is, for the message shown when the lock is taken.
        lock_file: The lock file of a SQLite catalog.
        engine: The engine of a PostgreSQL catalog (advisory lock number `key`).
        key: Advisory lock number.
    """

    def __init__(self, place: str, lock_file: Path | None = None, engine: Engine | None = None,
                 key: int = 0) -> None:
        self.place = place
        self.lock_file = lock_file
        self.engine = engine if engine is not None and engine.dialect.name == "postgresql" else None
        self.key = key
        self._thread_lock = threading.Lock()
        if self.engine is not None:
            self.identity = f"postgresql:{place}:{key}"
        elif lock_file is not None:
            self.identity = f"file:{Path(lock_file).resolve()}"
        else:
            self.identity = f"memory:{id(self)}"

    @contextmanager
    def hold(self) -> Iterator[None]:
        """Hold the lock; readers are never blocked.

        Raises:
            GuichetError: another process or thread holds it.
        """
        me = threading.get_ident()
        with _registry:
            owner, depth = _held.get(self.identity, (None, 0))
            if owner == me:
                _held[self.identity] = (me, depth + 1)
        if owner == me:  # already ours (a rebuild re-ingesting): hold it once more
            try:
                yield
            finally:
                with _registry:
                    _held[self.identity] = (me, depth)
            return
        with self._acquired():
            with _registry:
                _held[self.identity] = (me, 1)
            try:
                yield
            finally:
                with _registry:
                    _held.pop(self.identity, None)

    @contextmanager
    def _acquired(self) -> Iterator[None]:
        busy = f"another ingestion is running on {self.place}: wait for it to finish"
        if self.engine is not None:
            with self.engine.connect() as conn:
                conn = conn.execution_options(isolation_level="AUTOCOMMIT")  # no transaction held open
                if not conn.scalar(text("SELECT pg_try_advisory_lock(:key)"), {"key": self.key}):
                    raise GuichetError(busy)
                try:
                    yield
                finally:
                    try:
                        conn.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": self.key})
                    except DatabaseError:
                        conn.invalidate()  # closing the session releases the lock on the server
        elif self.lock_file is not None:
            Path(self.lock_file).parent.mkdir(parents=True, exist_ok=True)
            with open(self.lock_file, "w") as handle:
                try:
                    fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
                except BlockingIOError:
                    raise GuichetError(busy) from None
                try:
                    yield
                finally:
                    fcntl.flock(handle, fcntl.LOCK_UN)
        else:  # an in-memory database lives in this process only
            if not self._thread_lock.acquire(blocking=False):
                raise GuichetError(busy)
            try:
                yield
            finally:
                self._thread_lock.release()
