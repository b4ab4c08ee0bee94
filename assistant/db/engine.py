"""The one engine factory of every database guichet-vert writes: the catalog and the reviews.

SQLite files get WAL, a busy timeout, foreign keys and explicit BEGINs (see `db.sqlite`); an
in-memory SQLite database is one database per engine (every thread sees the same one);
PostgreSQL gets connections checked before use. Any other backend, an unparsable URL or a
missing driver is one line saying what to change.

Example:
    >>> engine = make_engine("sqlite:///:memory:")
    >>> engine.dialect.name
    'sqlite'
    >>> make_engine("mysql://db/guichet")
    Traceback (most recent call last):
    ...
    assistant.errors.ConfigError: guichet-vert stores its data in SQLite or PostgreSQL, not 'mysql' (mysql://db/guichet): change GUICHET_DATABASE_URL
"""

from __future__ import annotations

import os
import weakref
from pathlib import Path

from sqlalchemy import Engine, create_engine
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, NoSuchModuleError
from sqlalchemy.pool import StaticPool

from assistant.db.sqlite import sqlite_engine
from assistant.errors import ConfigError, MissingDependency

_BUSY_TIMEOUTS: weakref.WeakKeyDictionary[Engine, float] = weakref.WeakKeyDictionary()


def make_engine(url: str, busy_timeout_s: float = 5.0, private: bool = False) -> Engine:
    """An engine on a SQLite or PostgreSQL URL.

    Args:
        url: SQLAlchemy URL (`sqlite:///PATH`, `sqlite:///:memory:`, `postgresql+psycopg://...`).
        busy_timeout_s: How long a SQLite connection waits for another one's lock.
        private: Create the SQLite file readable by its owner only (0600), and take group and
            other access away from an existing one and its -wal and -shm files.

    Raises:
        ConfigError: the URL is unparsable or names another backend.
        MissingDependency: the driver the URL names is not installed.
    """
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"invalid database URL {safe_url(url)!r}: write sqlite:///PATH or "
                          "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"guichet-vert stores its data in SQLite or PostgreSQL, not {backend!r} "
                          f"({safe_url(url)}): change GUICHET_DATABASE_URL")
    try:
        if backend == "postgresql":
            return create_engine(parsed, pool_pre_ping=True)
        database = parsed.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
            if private:
                _owner_only(Path(database))
        engine = sqlite_engine(parsed, busy_timeout_s, **({"poolclass": StaticPool} if memory else {}))
    except (ImportError, NoSuchModuleError) as exc:
        raise MissingDependency(f"the driver of {safe_url(url)} is not installed ({exc}): "
                                'pip install "psycopg[binary]" and write postgresql+psycopg://...') from None
    _BUSY_TIMEOUTS[engine] = busy_timeout_s
    return engine


def busy_timeout(engine: Engine) -> float:
    """The busy timeout `make_engine` gave this engine (5 s for an engine made elsewhere)."""
    return _BUSY_TIMEOUTS.get(engine, 5.0)


def _owner_only(path: Path) -> None:
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


def safe_url(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def first_line(exc: BaseException) -> str:
    """The first line of a driver's error (SQLAlchemy wraps it in `orig`)."""
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
