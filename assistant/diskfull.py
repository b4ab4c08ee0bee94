"""A full disk behind any storage error, said in one line.

SQLite says "database or disk is full" or only "disk I/O error" (it cannot grow its shared
memory file), Chroma says "Error in compaction: Failed to apply logs to the metadata segment"
or "(code: 13) database or disk is full", Python says ENOSPC. What they share is a data
directory with no room left, so an error of the storage layers counts as "disk full" when it
says so or when the data directory has almost no free space.

Example:
    >>> is_disk_full(OSError(28, "No space left on device"), Path("."))
    True
    >>> is_disk_full(ValueError("bad value"), Path("."))
    False
"""

from __future__ import annotations

import errno
import shutil
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from assistant.errors import DiskFull

#: Less free space than this in the data directory makes a storage error a full disk.
LOW_SPACE_BYTES = 64 * 1024 * 1024
_SAYS_FULL = ("disk is full", "no space left", "os error 28", "sqlite_full", "quota exceeded")
_SPACE_ERRNOS = {errno.ENOSPC, errno.EDQUOT}
_STORAGE_MODULES = ("sqlite3", "sqlalchemy", "chromadb")


def is_disk_full(exc: BaseException, home: Path) -> bool:
    """Whether `exc` (or what it wraps) comes from a full disk under `home`."""
    storage = False
    for error in _chain(exc):
        if isinstance(error, OSError) and error.errno in _SPACE_ERRNOS:
            return True
        if getattr(error, "sqlite_errorname", "") == "SQLITE_FULL":
            return True
        if any(words in str(error).lower() for words in _SAYS_FULL):
            return True
        storage = storage or (isinstance(error, OSError) and error.errno == errno.EIO) \
            or type(error).__module__.split(".")[0] in _STORAGE_MODULES
    return storage and _free_bytes(home) < LOW_SPACE_BYTES


def disk_full(home: Path) -> DiskFull:
    """The one-line error: where, what to do, and that nothing was lost."""
    return DiskFull(f"disk full in GUICHET_HOME ({home}): free space and re-run; nothing was lost")


@contextmanager
def disk_full_translated(home: Path) -> Iterator[None]:
    """Turn a storage error caused by a full disk into `DiskFull`; anything else passes."""
    try:
        yield
    except DiskFull:
        raise
    except Exception as exc:
        if is_disk_full(exc, home):
            raise disk_full(home) from None
        raise


def _chain(exc: BaseException | None) -> Iterator[BaseException]:
    seen = 0
    while exc is not None and seen < 20:
        yield exc
        orig = getattr(exc, "orig", None)  # SQLAlchemy keeps the driver's error there
        if isinstance(orig, BaseException):
            yield orig
        exc, seen = exc.__cause__ or exc.__context__, seen + 1


def _free_bytes(home: Path) -> int:
    """Free space of the file system holding `home` (or its nearest existing parent)."""
    path = Path(home).absolute()
    while not path.exists() and path != path.parent:
        path = path.parent
    try:
        return shutil.disk_usage(path).free
    except OSError:
        return LOW_SPACE_BYTES  # unknown: do not guess "full"
