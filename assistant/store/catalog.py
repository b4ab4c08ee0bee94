"""The catalog: which files are indexed, their chunks and the chunks' analysed tokens.

One SQLite file in `GUICHET_HOME`. It is the ledger of incremental ingestion (a file's row is
written, with all its chunks, in one transaction after its vectors are stored) and the source
of the lexical index, so the lexical and vector sides always describe the same chunks.
"""

from __future__ import annotations

import json
import sqlite3
import threading
from pathlib import Path
from typing import Iterable, Iterator, Sequence

from assistant.errors import IndexMismatch
from assistant.records import Chunk

SCHEMA = 1

_DDL = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS files (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, size INTEGER NOT NULL,
    title TEXT NOT NULL, kind TEXT NOT NULL, chunks INTEGER NOT NULL, ingested_at TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS chunks (
    id TEXT PRIMARY KEY, path TEXT NOT NULL REFERENCES files(path) ON DELETE CASCADE,
    ord INTEGER NOT NULL, text TEXT NOT NULL, title TEXT NOT NULL, kind TEXT NOT NULL,
    page INTEGER, section TEXT NOT NULL, start INTEGER NOT NULL, metadata TEXT NOT NULL,
    tokens TEXT NOT NULL);
CREATE INDEX IF NOT EXISTS chunks_path ON chunks(path, ord);
"""


class Catalog:
    """Indexed files and chunks, in SQLite.

    Args:
        path: The SQLite file (created with its folder if missing).

    Raises:
        IndexMismatch: the file was written by another schema version.

    Example:
        >>> catalog = Catalog(Path("index/catalog.sqlite"))     # doctest: +SKIP
        >>> catalog.files()                                      # doctest: +SKIP
        {'/data/guide.pdf': '9f2c...'}
    """

    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(str(path), check_same_thread=False, timeout=30)
        self._lock = threading.RLock()
        try:
            self._db.executescript("PRAGMA journal_mode=WAL; PRAGMA foreign_keys=ON;" + _DDL)
        except sqlite3.DatabaseError as exc:
            raise IndexMismatch(f"{path} is not a catalog ({exc}): move it away or run "
                                "'guichet ingest --rebuild PATH...'") from None
        version = self.get_meta("schema")
        if version is None:
            self.set_meta("schema", str(SCHEMA))
        elif version != str(SCHEMA):
            raise IndexMismatch(f"catalog schema {version} is not {SCHEMA}: "
                                "run 'guichet ingest --rebuild PATH...'")

    def get_meta(self, key: str) -> str | None:
        row = self._db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def set_meta(self, key: str, value: str) -> None:
        with self._lock, self._db:
            self._db.execute("INSERT OR REPLACE INTO meta VALUES (?, ?)", (key, value))

    @property
    def generation(self) -> int:
        """Incremented on every change; caches built from the catalog compare it."""
        return int(self.get_meta("generation") or 0)

    def files(self) -> dict[str, str]:
        """Indexed file paths and their content hashes."""
        return dict(self._db.execute("SELECT path, sha256 FROM files"))

    def chunk_ids(self, path: str) -> list[str]:
        return [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ? ORDER BY ord", (path,))]

    def all_ids(self) -> set[str]:
        return {r[0] for r in self._db.execute("SELECT id FROM chunks")}

    def count(self) -> int:
        return self._db.execute("SELECT count(*) FROM chunks").fetchone()[0]

    def replace_file(self, path: str, sha256: str, size: int, chunks: Sequence[Chunk],
                     tokens: Sequence[Sequence[str]], ingested_at: str) -> None:
        """Replace a file's row and all its chunks in one transaction."""
        title = chunks[0].title if chunks else Path(path).stem
        kind = chunks[0].kind if chunks else "guide"
        with self._lock, self._db:
            self._db.execute("DELETE FROM files WHERE path = ?", (path,))
            self._db.execute("INSERT INTO files VALUES (?, ?, ?, ?, ?, ?, ?)",
                             (path, sha256, size, title, kind, len(chunks), ingested_at))
            self._db.executemany(
                "INSERT OR REPLACE INTO chunks VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                [(c.id, path, i, c.text, c.title, c.kind, c.page, c.section, c.start,
                  json.dumps(dict(c.metadata), ensure_ascii=False), " ".join(t))
                 for i, (c, t) in enumerate(zip(chunks, tokens))])
            self._bump()

    def remove_files(self, paths: Iterable[str]) -> list[str]:
        """Forget these files; returns the ids of their chunks."""
        paths = list(paths)
        if not paths:
            return []
        with self._lock, self._db:
            removed = []
            for path in paths:
                removed += [r[0] for r in self._db.execute("SELECT id FROM chunks WHERE path = ?", (path,))]
                self._db.execute("DELETE FROM files WHERE path = ?", (path,))
            self._bump()
        return removed

    def files_of(self, ids: Iterable[str]) -> set[str]:
        """Files that own any of these chunk ids."""
        ids = list(ids)
        found: set[str] = set()
        for i in range(0, len(ids), 500):
            part = ids[i:i + 500]
            found.update(r[0] for r in self._db.execute(
                f"SELECT DISTINCT path FROM chunks WHERE id IN ({','.join('?' * len(part))})", part))
        return found

    def get_chunks(self, ids: Sequence[str]) -> dict[str, Chunk]:
        """Chunk records by id (unknown ids are absent from the result)."""
        found: dict[str, Chunk] = {}
        for i in range(0, len(ids), 500):
            part = list(ids[i:i + 500])
            rows = self._db.execute(
                "SELECT id, text, path, title, kind, page, section, start, metadata FROM chunks "
                f"WHERE id IN ({','.join('?' * len(part))})", part)
            for r in rows:
                found[r[0]] = Chunk(id=r[0], text=r[1], source=r[2], title=r[3], kind=r[4], page=r[5],
                                    section=r[6], start=r[7], metadata=json.loads(r[8]))
        return found

    def token_rows(self) -> Iterator[tuple[str, list[str]]]:
        """(chunk id, analysed tokens) of every chunk, in a stable order."""
        for id_, tokens in self._db.execute("SELECT id, tokens FROM chunks ORDER BY path, ord"):
            yield id_, tokens.split()

    def retokenize(self, analyze) -> None:
        """Re-analyse every chunk's text (after an analyser change); no re-embedding needed."""
        rows = self._db.execute("SELECT id, title, section, text FROM chunks").fetchall()
        with self._lock, self._db:
            self._db.executemany("UPDATE chunks SET tokens = ? WHERE id = ?",
                                 [(" ".join(analyze(Chunk(id=i, text=x, source="", title=t, section=s).index_text)), i)
                                  for i, t, s, x in rows])
            self._bump()

    def _bump(self) -> None:
        self._db.execute("INSERT OR REPLACE INTO meta VALUES ('generation', ?)", (str(self.generation + 1),))

    def close(self) -> None:
        self._db.close()
