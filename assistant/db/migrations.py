"""The one migration runner: numbered migrations of every table set (the reviews, the catalog).

A table set is the tables one part of guichet-vert owns, with its `MIGRATIONS` list (as in
simonw/llm) and the place its version is recorded. `migrate(engine, tables)`:

- an empty database (none of the set's tables) gets the current tables at once and is stamped
  with every migration number;
- a database below the latest version runs, in order and in one transaction, the migrations
  numbered above its version;
- a database at the latest version is only read (opening it takes no write lock);
- a database of a newer version, of an older one no migration upgrades, or holding the set's
  tables without a version, is refused with the set's own message (`Refusal`).

Every migration transaction holds the advisory lock `MIGRATION_LOCK` on PostgreSQL, so app
processes starting together on one database migrate it once; on SQLite the write transaction
(`BEGIN IMMEDIATE`) serialises them. Where the version is recorded stays where released versions
look for it (the review database's `schema_version` rows, the catalog's `meta` row `schema`):
an older guichet-vert then still sees that a database is newer than itself.

To change a schema: change the tables, then append a `Migration` whose function brings a
database of the previous version to the new one, written with SQLAlchemy Core/DDL constructs so
that it runs on SQLite and PostgreSQL alike.

Example:
    >>> from sqlalchemy import Column, MetaData, Integer, Table, Text
    >>> from assistant.db.engine import make_engine
    >>> meta = MetaData()
    >>> notes = Table("notes", meta, Column("key", Text, primary_key=True), Column("value", Text))
    >>> NOTES = TableSet("notes", meta.create_all, (Migration(1, "notes", meta.create_all),),
    ...                  MetaVersion(notes), refuse=lambda r: ValueError(r.kind))
    >>> migrate(make_engine("sqlite:///:memory:"), NOTES)
    1
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Protocol

from sqlalchemy import Connection, Engine, Table, func, insert, inspect, select

from assistant.db.locks import MIGRATION_LOCK, transaction_lock
from assistant.db.sqlite import WRITE


@dataclass(frozen=True)
class Migration:
    """One schema step.

    Args:
        number: Schema version reached after `apply`.
        title: What the step does, for humans.
        apply: Function run inside the migration transaction.
    """

    number: int
    title: str
    apply: Callable[[Connection], None]


class VersionRecord(Protocol):
    """Where a table set records its version."""

    @property
    def table(self) -> Table:
        """The table holding the version (one of the set's)."""

    def read(self, conn: Connection) -> str | None:
        """The recorded version as written (None: nothing recorded); the table exists."""

    def stamp(self, conn: Connection, numbers: list[int]) -> None:
        """Record that these migrations were applied, in order."""


@dataclass(frozen=True)
class VersionTable:
    """One row per applied migration (`version`, `applied_at`); the highest is the version.

    An existing table with no row is version 0: every migration runs.
    """

    table: Table

    def read(self, conn: Connection) -> str | None:
        return str(conn.scalar(select(func.max(self.table.c.version))) or 0)

    def stamp(self, conn: Connection, numbers: list[int]) -> None:
        now = datetime.now(timezone.utc)
        if numbers:
            conn.execute(insert(self.table), [{"version": n, "applied_at": now} for n in numbers])


@dataclass(frozen=True)
class MetaVersion:
    """The version in one row of a key/value table (`key`, `value`)."""

    table: Table
    key: str = "schema"

    def read(self, conn: Connection) -> str | None:
        return conn.scalar(select(self.table.c.value).where(self.table.c.key == self.key))

    def stamp(self, conn: Connection, numbers: list[int]) -> None:
        if not numbers:
            return
        found = self.read(conn)
        if found is None:
            conn.execute(insert(self.table).values(key=self.key, value=str(numbers[-1])))
        else:
            conn.execute(self.table.update().where(self.table.c.key == self.key).values(value=str(numbers[-1])))


@dataclass(frozen=True)
class Refusal:
    """Why the runner leaves a database alone, for the table set's message.

    Attributes:
        kind: "newer" (a newer guichet-vert wrote it), "older" (no migration upgrades from
            `found`, or it is not a number), or "unversioned" (the set's tables are there, but
            no version: `found` lists them).
        found: The version found, or the tables found.
        latest: The version this code writes.
    """

    kind: str
    found: str
    latest: int


@dataclass(frozen=True)
class TableSet:
    """The tables one part of guichet-vert owns, and how they are migrated.

    Args:
        name: What they are, for humans ("review database", "catalog").
        create: Makes the current tables (and their first rows) in an empty database.
        migrations: Every schema step, numbered from 1 without gaps.
        version: Where the version is recorded (a table of the set).
        refuse: The error for a database the runner leaves alone.
        tables: The set's table names (default: those of `version`'s metadata).
        oldest: The lowest recorded version the migrations upgrade from.
    """

    name: str
    create: Callable[[Connection], None]
    migrations: tuple[Migration, ...]
    version: VersionRecord
    refuse: Callable[[Refusal], Exception]
    tables: frozenset[str] = frozenset()
    oldest: int = 0

    def __post_init__(self) -> None:
        numbers = [m.number for m in self.migrations]
        if numbers != list(range(1, len(numbers) + 1)):
            raise ValueError(f"migrations of the {self.name} must be numbered 1, 2, 3...: got {numbers}")
        if not self.tables:
            metadata = self.version.table.metadata
            object.__setattr__(self, "tables", frozenset(metadata.tables))

    @property
    def latest(self) -> int:
        return self.migrations[-1].number


def migrate(engine: Engine, tables: TableSet) -> int:
    """Bring the table set to its latest version; returns that version.

    Raises:
        Exception: `tables.refuse(...)` for a newer, too old or unversioned database.
    """
    with engine.connect() as conn, conn.begin():  # opening an up-to-date database writes nothing
        if _version(conn, tables) == tables.latest:
            return tables.latest
    with engine.execution_options(**{WRITE: True}).begin() as conn:
        transaction_lock(conn, MIGRATION_LOCK)
        current = _version(conn, tables)  # again: another process may have migrated meanwhile
        if current is None:
            tables.create(conn)
            tables.version.stamp(conn, [m.number for m in tables.migrations])
        else:
            for migration in tables.migrations[current:]:
                migration.apply(conn)
                tables.version.stamp(conn, [migration.number])
    _checkpoint(engine)
    return tables.latest


def _checkpoint(engine: Engine) -> None:
    """Write a SQLite WAL back into the database file and empty it: the rows a migration rewrote
    (a token replaced by its digest) leave the WAL at once."""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()


def _version(conn: Connection, tables: TableSet) -> int | None:
    """The recorded version (None for an empty database), or the set's refusal."""
    present = set(inspect(conn).get_table_names()) & tables.tables
    found = tables.version.read(conn) if tables.version.table.name in present else None
    if found is None:
        if present:
            raise tables.refuse(Refusal("unversioned", ", ".join(sorted(present)), tables.latest))
        return None
    try:
        current = int(found)
    except ValueError:
        raise tables.refuse(Refusal("older", found, tables.latest)) from None
    if current > tables.latest:
        raise tables.refuse(Refusal("newer", found, tables.latest))
    if current < tables.oldest:
        raise tables.refuse(Refusal("older", found, tables.latest))
    return current
