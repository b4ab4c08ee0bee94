"""The one migration runner, on a small table set of its own, and the one engine factory."""

from __future__ import annotations

import sqlite3
import threading

import pytest
from sqlalchemy import Column, Connection, Integer, MetaData, Table, Text, inspect, select, text

from assistant.db.engine import make_engine
from assistant.db.migrations import MetaVersion, Migration, Refusal, TableSet, VersionTable, migrate
from assistant.errors import ConfigError


class Refused(Exception):
    pass


def notes_v1(conn: Connection) -> None:
    conn.exec_driver_sql("CREATE TABLE notes (id INTEGER PRIMARY KEY, body TEXT)")


def notes_v2(conn: Connection) -> None:
    conn.exec_driver_sql("ALTER TABLE notes ADD COLUMN author TEXT")
    conn.exec_driver_sql("UPDATE notes SET author = 'unknown'")


def table_set(version: str, migrations: tuple[Migration, ...], applied: list[str]) -> TableSet:
    """`notes` and its version record (a `versions` table, or a `meta` row); records each step run."""
    metadata = MetaData()
    if version == "table":
        record = VersionTable(Table("versions", metadata, Column("version", Integer, primary_key=True),
                                    Column("applied_at", Text)))
    else:
        record = MetaVersion(Table("meta", metadata, Column("key", Text, primary_key=True), Column("value", Text)))

    def step(migration: Migration) -> Migration:
        def apply(conn: Connection) -> None:
            applied.append(migration.title)
            migration.apply(conn)
        return Migration(migration.number, migration.title, apply)

    def create(conn: Connection) -> None:
        applied.append("create")
        record.table.create(conn)
        for migration in migrations:
            migration.apply(conn)

    return TableSet("notes", create, tuple(step(m) for m in migrations), record,
                    refuse=lambda r: Refused(f"{r.kind} {r.found} {r.latest}"),
                    tables=frozenset({"notes", record.table.name}))


V1 = (Migration(1, "notes", notes_v1),)
V2 = V1 + (Migration(2, "authors", notes_v2),)


@pytest.mark.parametrize("version", ["table", "meta"])
def test_an_empty_database_gets_the_current_tables_stamped_with_every_number(tmp_path, version):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    applied: list[str] = []
    assert migrate(engine, table_set(version, V2, applied)) == 2
    assert applied == ["create"], "an empty database runs no step, it is made as the code is now"
    assert migrate(engine, table_set(version, V2, applied)) == 2 and applied == ["create"], "nothing runs twice"
    assert [c["name"] for c in inspect(engine).get_columns("notes")] == ["id", "body", "author"]


@pytest.mark.parametrize("version", ["table", "meta"])
def test_an_older_database_runs_the_steps_above_its_version_in_order_and_keeps_its_rows(tmp_path, version):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    applied: list[str] = []
    migrate(engine, table_set(version, V1, applied))
    with engine.begin() as conn:
        conn.exec_driver_sql("INSERT INTO notes (body) VALUES ('kept')")
    assert migrate(engine, table_set(version, V2, applied)) == 2
    assert applied == ["create", "authors"], applied
    with engine.connect() as conn:
        assert conn.execute(text("SELECT body, author FROM notes")).all() == [("kept", "unknown")]


def test_a_failing_step_leaves_the_database_as_it_was(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    migrate(engine, table_set("table", V1, []))

    def broken(conn: Connection) -> None:
        notes_v2(conn)
        raise RuntimeError("step 2 failed half-way")

    with pytest.raises(RuntimeError, match="half-way"):
        migrate(engine, table_set("table", V1 + (Migration(2, "broken", broken),), []))
    with engine.connect() as conn:
        assert [c["name"] for c in inspect(conn).get_columns("notes")] == ["id", "body"], "the ALTER is rolled back"
        assert list(conn.scalars(text("SELECT version FROM versions"))) == [1]


@pytest.mark.parametrize("version", ["table", "meta"])
def test_a_newer_database_is_refused_and_left_alone(tmp_path, version):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    migrate(engine, table_set(version, V2, []))
    with pytest.raises(Refused, match="newer 2 1"):
        migrate(engine, table_set(version, V1, []))
    assert "author" in {c["name"] for c in inspect(engine).get_columns("notes")}


def test_tables_without_a_version_and_an_unreadable_version_are_refused(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    with engine.begin() as conn:
        notes_v1(conn)
    with pytest.raises(Refused, match="unversioned notes 1"):
        migrate(engine, table_set("meta", V1, []))
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT)")
        conn.exec_driver_sql("INSERT INTO meta VALUES ('schema', 'v1')")
    with pytest.raises(Refused, match="older v1 1"):
        migrate(engine, table_set("meta", V1, []))


def test_migrations_must_be_numbered_without_gaps():
    with pytest.raises(ValueError, match=r"numbered 1, 2, 3...: got \[1, 3\]"):
        table_set("table", V1 + (Migration(3, "gap", notes_v2),), [])


def test_an_up_to_date_database_opens_while_another_process_holds_the_write_lock(tmp_path):
    path = tmp_path / "n.sqlite"
    engine = make_engine(f"sqlite:///{path}", busy_timeout_s=0.2)
    migrate(engine, table_set("table", V1, []))
    holder = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    holder.execute("BEGIN IMMEDIATE")
    try:
        opened = threading.Event()
        threading.Thread(target=lambda: (migrate(engine, table_set("table", V1, [])), opened.set())).start()
        assert opened.wait(5), "opening an up-to-date database must not wait for the write lock"
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_refusal_carries_what_the_table_set_needs_for_its_message(tmp_path):
    seen: list[Refusal] = []
    tables = table_set("meta", V1, [])
    tables = TableSet(tables.name, tables.create, tables.migrations, tables.version,
                      refuse=lambda r: seen.append(r) or Refused(), tables=tables.tables)
    engine = make_engine(f"sqlite:///{tmp_path / 'n.sqlite'}")
    migrate(engine, tables)
    with engine.begin() as conn:
        conn.execute(tables.version.table.update().values(value="7"))
    with pytest.raises(Refused):
        migrate(engine, tables)
    assert seen == [Refusal("newer", "7", 1)]
    with engine.connect() as conn:
        assert conn.scalar(select(tables.version.table.c.value)) == "7", "a newer version is never overwritten"


@pytest.mark.parametrize(("url", "message"), [
    ("not a url", "invalid database URL '(unparsable URL)': write sqlite:///PATH or postgresql+psycopg://"),
    ("mysql://db/guichet", "guichet-vert stores its data in SQLite or PostgreSQL, not 'mysql' (mysql://db/guichet)"),
])
def test_an_unusable_url_is_one_line_saying_what_to_write(url, message):
    with pytest.raises(ConfigError) as exc:
        make_engine(url)
    assert str(exc.value).startswith(message) and "\n" not in str(exc.value), str(exc.value)


def test_a_private_sqlite_file_is_readable_by_its_owner_only(tmp_path):
    path = tmp_path / "sub" / "private.sqlite"
    make_engine(f"sqlite:///{path}", private=True).dispose()
    assert path.stat().st_mode & 0o777 == 0o600, oct(path.stat().st_mode)


def test_an_in_memory_database_is_one_database_for_every_thread():
    engine = make_engine("sqlite:///:memory:")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    seen: list[list[str]] = []
    thread = threading.Thread(target=lambda: seen.append(inspect(engine).get_table_names()))
    thread.start()
    thread.join()
    assert seen == [["t"]]
