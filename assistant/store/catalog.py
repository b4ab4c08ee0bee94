"""The catalog: which files are indexed, their chunks and the chunks' analysed tokens.

It is the ledger of incremental ingestion (a file's row is written, with all its chunks, in one
transaction after its vectors are stored) and the source of the lexical index, so the lexical
and vector sides always describe the same chunks.

Where it lives:
- by default, one SQLite file in `GUICHET_HOME` (`catalog.sqlite`);
- with `GUICHET_DATABASE_URL`, in the review database (PostgreSQL), in tables prefixed
  `catalog_`. Every app process then reads the same chunks, tokens and `generation`, and
  rebuilds its in-memory BM25 when the generation moves; the ingestion lock becomes a
  PostgreSQL advisory lock, so two ingesting processes on different machines never interleave.

Written with SQLAlchemy Core, so the same statements run on both databases.
"""

from __future__ import annotations

import time
import uuid
import zlib
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import (BigInteger, Column, Engine, ForeignKey, Index, Integer, MetaData, Table, Text,
                        bindparam, cast, create_engine, delete, func, insert, inspect, select, text,
                        update)
from sqlalchemy.engine import Connection, make_url
from sqlalchemy.exc import ArgumentError, DatabaseError, NoSuchModuleError, OperationalError
from sqlalchemy.pool import StaticPool

from assistant.diskfull import disk_full, is_disk_full
from assistant.errors import ConfigError, GuichetError, IndexMismatch, MissingDependency, NewerIndex
from assistant.records import Chunk
from assistant.sqlite import WRITE, sqlite_engine
from assistant.store.lock import WriterLock

SCHEMA = 1
#: Table name prefix in a shared database; the catalog's own SQLite file keeps bare names.
SHARED_PREFIX = "catalog_"
_BATCH = 500


def _tables(prefix: str) -> tuple[MetaData, Table, Table, Table]:
    metadata = MetaData()
    meta = Table(f"{prefix}meta", metadata,
                 Column("key", Text, primary_key=True), Column("value", Text, nullable=False))
    files = Table(f"{prefix}files", metadata,
                  Column("path", Text, primary_key=True), Column("sha256", Text, nullable=False),
                  Column("size", BigInteger, nullable=False), Column("title", Text, nullable=False),
                  Column("kind", Text, nullable=False), Column("chunks", Integer, nullable=False),
                  Column("ingested_at", Text, nullable=False))
    chunks = Table(f"{prefix}chunks", metadata,
                   Column("id", Text, primary_key=True),
                   Column("path", Text, ForeignKey(files.c.path, ondelete="CASCADE"), nullable=False),
                   Column("ord", Integer, nullable=False), Column("text", Text, nullable=False),
                   Column("title", Text, nullable=False), Column("kind", Text, nullable=False),
                   Column("page", Integer), Column("section", Text, nullable=False),
                   Column("start", Integer, nullable=False), Column("metadata", Text, nullable=False),
                   Column("tokens", Text, nullable=False))
    Index(f"{prefix}chunks_path", chunks.c.path, chunks.c.ord)
    return metadata, meta, files, chunks


class Catalog:
    """Indexed files and chunks, in SQLite or PostgreSQL.

    Args:
        target: The catalog's SQLite file (a `Path`, created with its folder if missing), or a
            SQLAlchemy URL (`sqlite:///...`, `postgresql+psycopg://...`).
        table_prefix: Prefix of the table names; default "" for a file of its own, "catalog_"
            for a URL (a database shared with the reviews).

    Raises:
        IndexMismatch: the file was written by another schema version, or is not a catalog.
        GuichetError: the database server cannot be reached.
        ConfigError, MissingDependency: an invalid URL, or its driver is not installed.

    Example:
        >>> catalog = Catalog(Path("index/catalog.sqlite"))                          # doctest: +SKIP
        >>> catalog = Catalog("postgresql+psycopg://guichet@db/guichet")             # doctest: +SKIP
        >>> catalog.files()                                                          # doctest: +SKIP
        {'/data/guide.pdf': '9f2c...'}
    """

    def __init__(self, target: Path | str, table_prefix: str | None = None) -> None:
        url, self.where, prefix = _location(target, table_prefix)
        self._engine = _make_engine(url)
        self.dialect = self._engine.dialect.name
        self._writer = self._engine.execution_options(**{WRITE: True})
        self._metadata, self._meta, self._files, self._chunks = _tables(prefix)
        self._lock = _writer_lock(target, prefix, self._engine)
        try:
            self._create()
        except BaseException:
            self._engine.dispose()
            raise

    # ------------------------------------------------------------------ connections

    @contextmanager
    def _reading(self) -> Iterator[Connection]:
        with self._translated(), self._engine.connect() as conn:
            yield conn

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        with self._translated(), self._writer.begin() as conn:
            yield conn

    def _translated(self):
        return _translated(self.dialect, self.where)

    def _create(self) -> None:
        """Create the tables and the meta rows that are missing; check the schema version.

        An existing, complete catalog is only read (no write lock is taken to open it).
        """
        try:
            if not self._complete():
                with self._writing() as conn:
                    if self.dialect == "postgresql":  # app processes starting together create it once
                        conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": self._lock.key + 1})
                    self._metadata.create_all(conn)
                    version = conn.scalar(select(self._meta.c.value).where(self._meta.c.key == "schema"))
                    if version is None:
                        conn.execute(insert(self._meta).values(key="schema", value=str(SCHEMA)))
                    if version in (None, str(SCHEMA)):
                        self._seed(conn)
        except DatabaseError as exc:
            if self.dialect != "sqlite":
                raise
            if is_disk_full(exc, Path(self.where).parent):  # never advise a rebuild for a full disk
                raise disk_full(Path(self.where).parent) from None
            raise IndexMismatch(f"{self.where} is not a catalog ({_first_line(exc)}): move it away or run "
                                "'guichet ingest --rebuild PATH...'") from None
        version = self.get_meta("schema")
        if version != str(SCHEMA):
            raise schema_mismatch(f"the catalog at {self.where}", version, SCHEMA)

    def _complete(self) -> bool:
        """True when every table exists and the schema, generation and id rows are there."""
        with self._reading() as conn:
            names = set(inspect(conn).get_table_names())
            if not {t.name for t in self._metadata.sorted_tables} <= names:
                return False
            keys = set(conn.scalars(select(self._meta.c.key).where(
                self._meta.c.key.in_(("schema", "generation", "catalog_id")))))
        return keys == {"schema", "generation", "catalog_id"}

    def _seed(self, conn: Connection) -> None:
        """Add the generation and catalog id rows if they are missing."""
        # A new catalog starts its generation at the current time in microseconds, not at 0: a
        # BM25 cache saved (by any process, on any machine) for an earlier catalog of the same
        # database can then never carry the number of this one.
        stmt = self._upsert_statement(self._meta, "key", update_existing=False)
        conn.execute(stmt, [{"key": "generation", "value": str(time.time_ns() // 1000)},
                            {"key": "catalog_id", "value": uuid.uuid4().hex}])

    # ------------------------------------------------------------------ metadata

    def get_meta(self, key: str) -> str | None:
        with self._reading() as conn:
            return conn.scalar(select(self._meta.c.value).where(self._meta.c.key == key))

    def set_meta(self, key: str, value: str) -> None:
        with self._writing() as conn:
            conn.execute(self._upsert_statement(self._meta, "key"), [{"key": key, "value": value}])

    @property
    def generation(self) -> int:
        """Changes on every change; caches built from the catalog compare it."""
        return int(self.get_meta("generation") or 0)

    @property
    def catalog_id(self) -> str:
        """A random id made with the catalog: the vector store records it, to pair the two."""
        return self.get_meta("catalog_id") or ""

    # ------------------------------------------------------------------ reading

    def files(self) -> dict[str, str]:
        """Indexed file paths and their content hashes."""
        with self._reading() as conn:
            return dict(conn.execute(select(self._files.c.path, self._files.c.sha256)).all())

    def chunk_ids(self, path: str) -> list[str]:
        c = self._chunks.c
        with self._reading() as conn:
            return list(conn.scalars(select(c.id).where(c.path == path).order_by(c.ord)))

    def all_ids(self) -> set[str]:
        with self._reading() as conn:
            return set(conn.scalars(select(self._chunks.c.id)))

    def count(self) -> int:
        with self._reading() as conn:
            return conn.scalar(select(func.count()).select_from(self._chunks)) or 0

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunk records by id (unknown ids are absent from the result)."""
        import json

        c = self._chunks.c
        columns = (c.id, c.text, c.path, c.title, c.kind, c.page, c.section, c.start, c["metadata"])
        found: dict[str, Chunk] = {}
        with self._reading() as conn:
            for i in range(0, len(ids), _BATCH):
                for r in conn.execute(select(*columns).where(c.id.in_(list(ids[i:i + _BATCH])))):
                    found[r[0]] = Chunk(id=r[0], text=r[1], source=r[2], title=r[3], kind=r[4], page=r[5],
                                        section=r[6], start=r[7], metadata=json.loads(r[8]))
        return found

    def tokens_of(self, ids: Sequence[str]) -> dict[str, list[str]]:
        """Analysed tokens of these chunks, in text order (unknown ids are absent)."""
        c = self._chunks.c
        found: dict[str, list[str]] = {}
        with self._reading() as conn:
            for i in range(0, len(ids), _BATCH):
                for id_, tokens in conn.execute(select(c.id, c.tokens).where(c.id.in_(list(ids[i:i + _BATCH])))):
                    found[id_] = tokens.split()
        return found

    def token_rows(self) -> Iterator[tuple[str, list[str]]]:
        """(chunk id, analysed tokens) of every chunk, in a stable order."""
        c = self._chunks.c
        with self._reading() as conn:
            rows = conn.execution_options(yield_per=2000).execute(
                select(c.id, c.tokens).order_by(c.path, c.ord))
            for id_, tokens in rows:
                yield id_, tokens.split()

    # ------------------------------------------------------------------ writing

    def replace_file(self, path: str, sha256: str, size: int, chunks: Sequence[Chunk],
                     tokens: Sequence[Sequence[str]], ingested_at: str) -> None:
        """Replace a file's row and all its chunks in one transaction."""
        import json

        title = chunks[0].title if chunks else Path(path).stem
        kind = chunks[0].kind if chunks else "guide"
        rows = {c.id: {"id": c.id, "path": path, "ord": i, "text": c.text, "title": c.title, "kind": c.kind,
                       "page": c.page, "section": c.section, "start": c.start,
                       "metadata": json.dumps(dict(c.metadata), ensure_ascii=False), "tokens": " ".join(t)}
                for i, (c, t) in enumerate(zip(chunks, tokens))}  # a repeated id keeps its last row
        with self._writing() as conn:
            conn.execute(delete(self._files).where(self._files.c.path == path))  # cascades to chunks
            conn.execute(insert(self._files).values(path=path, sha256=sha256, size=size, title=title,
                                                    kind=kind, chunks=len(chunks), ingested_at=ingested_at))
            if rows:
                conn.execute(self._upsert_statement(self._chunks, "id"), list(rows.values()))
            self._bump(conn)

    def remove_files(self, paths: Iterable[str]) -> list[str]:
        """Forget these files; returns the ids of their chunks."""
        paths = list(paths)
        if not paths:
            return []
        c = self._chunks.c
        removed: list[str] = []
        with self._writing() as conn:
            for path in paths:
                removed += conn.scalars(select(c.id).where(c.path == path).order_by(c.ord))
                conn.execute(delete(self._files).where(self._files.c.path == path))
            self._bump(conn)
        return removed

    def retokenize(self, analyze) -> None:
        """Re-analyse every chunk's text (after an analyser change); no re-embedding needed."""
        c = self._chunks.c
        with self._reading() as conn:
            rows = conn.execute(select(c.id, c.title, c.section, c.text)).all()
        values = [{"_id": i, "_tokens": " ".join(analyze(Chunk(id=i, text=x, source="", title=t,
                                                                section=s).index_text))}
                  for i, t, s, x in rows]
        with self._writing() as conn:
            if values:
                conn.execute(update(self._chunks).where(c.id == bindparam("_id"))
                             .values(tokens=bindparam("_tokens")), values)
            self._bump(conn)

    def clear(self) -> None:
        """Forget every file and chunk and the recorded embedder (`guichet ingest --rebuild`).

        The generation moves on, so every process drops its BM25 index at its next search.
        """
        with self._writing() as conn:
            conn.execute(delete(self._chunks))
            conn.execute(delete(self._files))
            conn.execute(delete(self._meta).where(self._meta.c.key.not_in(("schema", "generation", "catalog_id"))))
            self._bump(conn)

    def _bump(self, conn: Connection) -> None:
        value = self._meta.c.value
        # one UPDATE, so that the row lock (PostgreSQL) or the write lock (SQLite) orders writers
        bumped = conn.execute(update(self._meta).where(self._meta.c.key == "generation")
                              .values(value=cast(cast(value, BigInteger) + 1, Text)))
        if bumped.rowcount == 0:
            self._seed(conn)

    def _upsert_statement(self, table: Table, key: str, update_existing: bool = True):
        from sqlalchemy.dialects import postgresql, sqlite

        stmt = (postgresql.insert if self.dialect == "postgresql" else sqlite.insert)(table)
        if not update_existing:
            return stmt.on_conflict_do_nothing(index_elements=[key])
        return stmt.on_conflict_do_update(
            index_elements=[key], set_={col.name: stmt.excluded[col.name] for col in table.c if col.name != key})

    # ------------------------------------------------------------------ ingestion lock

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the ingestion lock of this catalog; readers are never blocked.

        A PostgreSQL advisory lock (held by one connection, released if the process dies) on a
        shared database; a lock file beside a SQLite file (see `assistant.store.lock`).

        Raises:
            GuichetError: another process (or thread) holds it.
        """
        with self._translated(), self._lock.hold():
            yield

    def close(self) -> None:
        self._engine.dispose()


def schema_mismatch(what: str, found: object, expected: int) -> IndexMismatch:
    """The error for an index of another schema: rebuild an older one, upgrade for a newer one.

    A rebuild would delete an index written by a newer guichet-vert, so that advice is given
    only for older (or unreadable) schema versions.
    """
    try:
        newer = int(str(found)) > expected
    except ValueError:
        newer = False
    if newer:
        return NewerIndex(f"{what} was written by a newer guichet-vert (schema {found}, this one reads "
                          f"{expected}): upgrade guichet-vert (pip install -U guichet-vert)")
    return IndexMismatch(f"{what} has schema {found}, this guichet-vert reads {expected}: "
                         "run 'guichet ingest --rebuild PATH...'")


@contextmanager
def _translated(dialect: str, where: str) -> Iterator[None]:
    """A server that went away becomes one clear line instead of a driver traceback."""
    try:
        yield
    except OperationalError as exc:
        if dialect == "sqlite":
            raise
        raise GuichetError(f"cannot reach the catalog database at {where} ({_first_line(exc)}): "
                           "is PostgreSQL started and GUICHET_DATABASE_URL right?") from None


def _location(target: Path | str, table_prefix: str | None) -> tuple[str, str, str]:
    """(SQLAlchemy URL, place shown in messages, table prefix) of a catalog target."""
    if isinstance(target, Path) or "://" not in str(target):
        path = Path(target)
        path.parent.mkdir(parents=True, exist_ok=True)
        return f"sqlite:///{path}", str(path), "" if table_prefix is None else table_prefix
    url = str(target)
    return url, _safe(url), SHARED_PREFIX if table_prefix is None else table_prefix


def _writer_lock(target: Path | str, prefix: str, engine: Engine) -> WriterLock:
    """The ingestion lock of a catalog: a file beside its SQLite file, else an advisory lock."""
    key = zlib.crc32(f"guichet-vert:{prefix}ingest".encode())
    if isinstance(target, Path) or "://" not in str(target):
        return WriterLock(str(Path(target).parent), lock_file=Path(target).parent / "ingest.lock", key=key)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            return WriterLock(database, lock_file=Path(database).with_name(Path(database).name + ".ingest.lock"),
                              key=key)
        return WriterLock(_safe(str(target)), key=key)
    return WriterLock(_safe(str(target)), engine=engine, key=key)


@contextmanager
def ingestion_lock(settings: Any) -> Iterator[None]:
    """Hold the ingestion lock of the catalog named by settings without opening the catalog.

    `guichet ingest --rebuild` takes it before deleting anything (the catalog may be of another
    schema, or not exist yet); `Catalog.writer_lock` in the same thread then re-enters it.

    Raises:
        GuichetError: another ingestion holds it; nothing was changed.
    """
    target = settings.database_url or settings.catalog_path
    url, where, prefix = _location(target, None)
    engine = _make_engine(url)
    try:
        with _translated(engine.dialect.name, where), _writer_lock(target, prefix, engine).hold():
            yield
    finally:
        engine.dispose()


def open_catalog(settings: Any) -> Catalog:
    """The catalog named by settings: in the review database when `database_url` is set (so every
    app process shares it), else the SQLite file `GUICHET_HOME/catalog.sqlite`."""
    if settings.database_url:
        return Catalog(settings.database_url)
    return Catalog(settings.catalog_path)


def _make_engine(url: str) -> Engine:
    try:
        parsed = make_url(url)
    except ArgumentError:
        raise ConfigError(f"invalid database URL {_safe(url)!r}: write sqlite:///PATH or "
                          "postgresql+psycopg://USER:PASSWORD@HOST:PORT/DATABASE") from None
    backend = parsed.get_backend_name()
    if backend not in ("sqlite", "postgresql"):
        raise ConfigError(f"the catalog runs on SQLite or PostgreSQL, not {backend!r} "
                          f"({_safe(url)}): change GUICHET_DATABASE_URL")
    try:
        if backend == "postgresql":
            return create_engine(parsed, pool_pre_ping=True)
        database = parsed.database or ""
        memory = database in ("", ":memory:")
        if not memory:
            Path(database).parent.mkdir(parents=True, exist_ok=True)
        engine = sqlite_engine(parsed, busy_timeout_s=30, **({"poolclass": StaticPool} if memory else {}))
    except (ImportError, NoSuchModuleError) as exc:
        raise MissingDependency(f"the driver of {_safe(url)} is not installed ({exc}): "
                                'pip install "psycopg[binary]" and write postgresql+psycopg://...') from None
    return engine


def _safe(url: str) -> str:
    """The URL with its password hidden, for messages."""
    try:
        return make_url(url).render_as_string(hide_password=True)
    except ArgumentError:
        return "(unparsable URL)"


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    lines = str(orig).strip().splitlines()
    return lines[0] if lines else type(orig).__name__
