"""Backup of the whole review database as JSON lines, and restore into an empty database.

Line 1 is a header (`format`, `schema_version`, `exported_at`); every other line is
`{"table": NAME, "row": {...}}`, tables in foreign-key order. The file holds personal data
(e-mails) and password hashes: it is written readable by its owner only. Login sessions and
rate-limit counters are not saved: a restored desk starts with everyone logged out.

Example:
    >>> from assistant.review.db import make_engine
    >>> from assistant.review.migrations import migrate
    >>> import tempfile, pathlib
    >>> engine = make_engine("sqlite:///:memory:"); _ = migrate(engine)
    >>> export_jsonl(engine, pathlib.Path(tempfile.mkdtemp()) / "backup.jsonl")
    0
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, Table, func, insert, select, text

from assistant.review.db import transaction
from assistant.review.errors import BackupError, NotEmpty
from assistant.review.migrations import LATEST
from assistant.review.models import Base, LimitHitRow, SchemaVersion, SessionRow, UTCDateTime

FORMAT = "guichet-review-backup"
#: Tables left out of a backup: the schema stamp, and what only lives for minutes or hours.
NOT_SAVED = (SchemaVersion.__tablename__, SessionRow.__tablename__, LimitHitRow.__tablename__)


def _tables() -> list[Table]:
    return [t for t in Base.metadata.sorted_tables if t.name not in NOT_SAVED]


def _encode(row: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, datetime) else v for k, v in row.items()}


def _decode(table: Table, row: dict[str, Any]) -> dict[str, Any]:
    decoded = {}
    for key, value in row.items():
        if key not in table.c:
            raise BackupError(f"column '{key}' of table '{table.name}' is unknown: the backup "
                              "comes from another schema")
        if value is not None and isinstance(table.c[key].type, UTCDateTime):
            value = datetime.fromisoformat(value)
        decoded[key] = value
    return decoded


def export_jsonl(engine: Engine, out: Path) -> int:
    """Write every row to `out` (atomically) from one consistent snapshot; returns the row count."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_name(out.name + ".tmp")
    count = 0
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle, transaction(engine) as session:
        header = {"format": FORMAT, "schema_version": LATEST,
                  "exported_at": datetime.now(timezone.utc).isoformat()}
        handle.write(json.dumps(header) + "\n")
        for table in _tables():
            for row in session.execute(select(table).order_by(*table.primary_key.columns)).mappings():
                handle.write(json.dumps({"table": table.name, "row": _encode(dict(row))},
                                        ensure_ascii=False) + "\n")
                count += 1
    os.replace(tmp, out)
    return count


def _read(path: Path) -> Iterator[tuple[int, dict[str, Any]]]:
    try:
        with open(path, encoding="utf-8") as handle:
            for number, line in enumerate(handle, start=1):
                if line.strip():
                    try:
                        yield number, json.loads(line)
                    except json.JSONDecodeError:
                        raise BackupError(f"line {number} of {path} is not JSON: the backup is "
                                          "damaged") from None
    except FileNotFoundError:
        raise BackupError(f"backup file {path} does not exist") from None


def import_jsonl(engine: Engine, path: Path) -> int:
    """Restore a backup into an empty database, all or nothing; returns the row count.

    Raises:
        NotEmpty: the database already holds rows.
        BackupError: not a backup, another schema version, or a damaged line.
    """
    lines = _read(Path(path))
    first = next(lines, None)
    if first is None or first[1].get("format") != FORMAT:
        raise BackupError(f"{path} is not a guichet-vert review backup (no header line)")
    version = first[1].get("schema_version")
    if version != LATEST:
        raise BackupError(f"{path} is a backup of schema version {version}, this guichet-vert "
                          f"restores version {LATEST}: import it with the version that wrote it")
    tables = {t.name: t for t in _tables()}
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    for number, record in lines:
        table = tables.get(record.get("table")) if isinstance(record, dict) else None
        if table is None or not isinstance(record.get("row"), dict):
            raise BackupError(f"line {number} of {path} names no known table: the backup is damaged")
        rows[table.name].append(_decode(table, record["row"]))
    with transaction(engine, write=True) as session:
        held = {name: session.scalar(select(func.count()).select_from(t)) for name, t in tables.items()}
        if any(held.values()):
            summary = ", ".join(f"{n} {name}" for name, n in held.items() if n)
            raise NotEmpty(f"the review database already holds data ({summary}): import only "
                           "into an empty database (a new GUICHET_HOME or GUICHET_DATABASE_URL)")
        for name, table in tables.items():
            if rows[name]:
                session.execute(insert(table), rows[name])
        if engine.dialect.name == "postgresql":
            # Explicit ids do not advance PostgreSQL sequences; the next insert would collide.
            for name in tables:
                if rows[name]:
                    session.execute(text(
                        f"SELECT setval(pg_get_serial_sequence('{name}', 'id'), "
                        f"(SELECT max(id) FROM {name}))"
                    ))
    return sum(len(r) for r in rows.values())
