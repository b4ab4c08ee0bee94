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

Written with SQLAlchemy Core, so the same statements run on both databases. The engine, the
migrations and the locks are those of every database guichet-vert writes (`assistant.db`): the
catalog's tables are a table set of their own (`tables`), whose version is the `meta` row
`schema`, as every released version wrote it.
"""

from __future__ import annotations

import time
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterable, Iterator, Sequence

from sqlalchemy import (BigInteger, Column, Engine, ForeignKey, Index, Integer, MetaData, Table, Text,
                        bindparam, cast, delete, func, insert, select, update)
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DatabaseError, OperationalError

from assistant.db.engine import first_line, make_engine, safe_url
from assistant.db.locks import WriterLock, lock_key
from assistant.db.migrations import MetaVersion, Migration, Refusal, TableSet, migrate
from assistant.db.sqlite import WRITE
from assistant.diskfull import disk_full, is_disk_full
from assistant.errors import GuichetError, IndexMismatch, NewerIndex
from assistant.records import Chunk
from assistant.store.options import IndexConfig

#: Table name prefix in a shared database; the catalog's own SQLite file keeps bare names.
SHARED_PREFIX = "catalog_"
_BATCH = 500
_KEPT_META = ("schema", "generation", "catalog_id")


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


def _table_set(metadata: MetaData, meta: Table, where: str) -> TableSet:
    """The catalog's tables as the migration runner sees them; the version is meta's `schema` row."""
    def initial(conn: Connection) -> None:
        metadata.create_all(conn)
        _seed(conn, meta)

    migrations = (Migration(1, "files, chunks with their analysed tokens, meta; generation and catalog id", initial),)
    # Schema 0 (or no number) predates the migrations: only a rebuild makes it a catalog.
    return TableSet("catalog", initial, migrations, MetaVersion(meta), refuse=lambda r: _refusal(r, where),
                    oldest=1)


def _refusal(refusal: Refusal, where: str) -> IndexMismatch:
    if refusal.kind == "unversioned":
        return IndexMismatch(f"{where} has catalog tables ({refusal.found}) but no schema version: move it away "
                             "or run 'guichet ingest --rebuild PATH...'")
    return schema_mismatch(f"the catalog at {where}", refusal.found, refusal.latest)


def _seed(conn: Connection, meta: Table) -> None:
    """Add the generation and catalog id rows if they are missing."""
    # A new catalog starts its generation at the current time in microseconds, not at 0: a BM25
    # cache saved (by any process, on any machine) for an earlier catalog of the same database
    # can then never carry the number of this one.
    stmt = _upsert(conn.dialect.name, meta, "key", update_existing=False)
    conn.execute(stmt, [{"key": "generation", "value": str(time.time_ns() // 1000)},
                        {"key": "catalog_id", "value": uuid.uuid4().hex}])


def _upsert(dialect: str, table: Table, key: str, update_existing: bool = True) -> Any:
    """INSERT ... ON CONFLICT (key) DO UPDATE (or DO NOTHING) on SQLite and PostgreSQL alike."""
    from sqlalchemy.dialects import postgresql, sqlite

    stmt = (postgresql.insert if dialect == "postgresql" else sqlite.insert)(table)
    if not update_existing:
        return stmt.on_conflict_do_nothing(index_elements=[key])
    return stmt.on_conflict_do_update(
        index_elements=[key], set_={col.name: stmt.excluded[col.name] for col in table.c if col.name != key})


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
        self._engine = make_engine(url, busy_timeout_s=30)
        self.dialect = self._engine.dialect.name
        self._writer = self._engine.execution_options(**{WRITE: True})
        self._metadata, self._meta, self._files, self._chunks = _tables(prefix)
        self._lock = _writer_lock(target, prefix, self._engine)
        try:
            self._migrate()
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

    def _migrate(self) -> None:
        """Create the tables of an empty catalog, upgrade an older one, refuse another schema.

        An up-to-date catalog is only read (no write lock is taken to open it).
        """
        try:
            with self._translated():
                migrate(self._engine, _table_set(self._metadata, self._meta, self.where))
        except DatabaseError as exc:
            if self.dialect != "sqlite":
                raise
            if is_disk_full(exc, Path(self.where).parent):  # never advise a rebuild for a full disk
                raise disk_full(Path(self.where).parent) from None
            raise IndexMismatch(f"{self.where} is not a catalog ({first_line(exc)}): move it away or run "
                                "'guichet ingest --rebuild PATH...'") from None

    # ------------------------------------------------------------------ metadata

    def get_meta(self, key: str) -> str | None:
        with self._reading() as conn:
            return conn.scalar(select(self._meta.c.value).where(self._meta.c.key == key))

    def set_meta(self, key: str, value: str) -> None:
        with self._writing() as conn:
            conn.execute(_upsert(self.dialect, self._meta, "key"), [{"key": key, "value": value}])

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
                conn.execute(_upsert(self.dialect, self._chunks, "id"), list(rows.values()))
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
            conn.execute(delete(self._meta).where(self._meta.c.key.not_in(_KEPT_META)))
            self._bump(conn)

    def _bump(self, conn: Connection) -> None:
        value = self._meta.c.value
        # one UPDATE, so that the row lock (PostgreSQL) or the write lock (SQLite) orders writers
        bumped = conn.execute(update(self._meta).where(self._meta.c.key == "generation")
                              .values(value=cast(cast(value, BigInteger) + 1, Text)))
        if bumped.rowcount == 0:
            _seed(conn, self._meta)

    # ------------------------------------------------------------------ ingestion lock

    @contextmanager
    def writer_lock(self) -> Iterator[None]:
        """Hold the ingestion lock of this catalog; readers are never blocked.

        A PostgreSQL advisory lock (held by one connection, released if the process dies) on a
        shared database; a lock file beside a SQLite file (see `assistant.db.locks`).

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
        raise GuichetError(f"cannot reach the catalog database at {where} ({first_line(exc)}): "
                           "is PostgreSQL started and GUICHET_DATABASE_URL right?") from None


def _location(target: Path | str, table_prefix: str | None) -> tuple[str, str, str]:
    """(SQLAlchemy URL, place shown in messages, table prefix) of a catalog target."""
    if isinstance(target, Path) or "://" not in str(target):
        path = Path(target)
        return f"sqlite:///{path}", str(path), "" if table_prefix is None else table_prefix
    url = str(target)
    return url, safe_url(url), SHARED_PREFIX if table_prefix is None else table_prefix


def _writer_lock(target: Path | str, prefix: str, engine: Engine) -> WriterLock:
    """The ingestion lock of a catalog: a file beside its SQLite file, else an advisory lock."""
    key = lock_key(f"{prefix}ingest")
    if isinstance(target, Path) or "://" not in str(target):
        return WriterLock(str(Path(target).parent), lock_file=Path(target).parent / "ingest.lock", key=key)
    if engine.dialect.name == "sqlite":
        database = engine.url.database
        if database and database != ":memory:":
            return WriterLock(database, lock_file=Path(database).with_name(Path(database).name + ".ingest.lock"),
                              key=key)
        return WriterLock(safe_url(str(target)), key=key)
    return WriterLock(safe_url(str(target)), engine=engine, key=key)


@contextmanager
def ingestion_lock(config: IndexConfig) -> Iterator[None]:
    """Hold the ingestion lock of the catalog `config` names, without opening the catalog.

    `guichet ingest --rebuild` takes it before deleting anything (the catalog may be of another
    schema, or not exist yet); `Catalog.writer_lock` in the same thread then re-enters it.

    Raises:
        GuichetError: another ingestion holds it; nothing was changed.
    """
    target = config.database_url or config.catalog_path
    url, where, prefix = _location(target, None)
    engine = make_engine(url, busy_timeout_s=30)
    try:
        with _translated(engine.dialect.name, where), _writer_lock(target, prefix, engine).hold():
            yield
    finally:
        engine.dispose()


def open_catalog(config: IndexConfig) -> Catalog:
    """The catalog `config` names: in the review database when `database_url` is set (so every
    app process shares it), else the SQLite file `GUICHET_HOME/catalog.sqlite`."""
    if config.database_url:
        return Catalog(config.database_url)
    return Catalog(config.catalog_path)
