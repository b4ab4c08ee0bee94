"""Load any supported file into documents, after checking that it can and should be read.

Example:
    >>> limits = FileLimits(max_file_mb=50, timeout_s=120, memory_mb=2048, max_expanded_mb=200)
    >>> docs = load_document(Path("guide.pdf"), limits)              # doctest: +SKIP
    >>> docs[0].sections[0].page                                     # doctest: +SKIP
    1
"""

from __future__ import annotations

import os
import stat
from pathlib import Path
from typing import Callable

from assistant.errors import IngestError, UnsupportedFile, printable
from assistant.ingest.loaders.common import describe
from assistant.ingest.loaders.isolation import ChildError, run_with_time_limit
from assistant.ingest.options import FileLimits
from assistant.records import Document

#: Extensions `load_document` reads (lower case, with the dot).
SUPPORTED = frozenset({".pdf", ".md", ".markdown", ".html", ".htm", ".txt", ".docx", ".yaml", ".yml", ".json", ".csv"})

_BYTES_PER_MB = 1024 * 1024
_HINTS = {
    ".doc": "save it as .docx",
    ".odt": "save it as .docx",
    ".rtf": "save it as .docx",
    ".xlsx": "save past answers as .csv",
    ".xls": "save past answers as .csv",
}


def load_document(path: Path, limits: FileLimits) -> list[Document]:
    """Check a file, then load it with the loader of its extension.

    One file gives one document, except a file of past answers or resources, which gives one
    document per record (possibly none).

    Every format is read in a forked child process (see `loaders.isolation`) under the same
    limits, so no file can hang or exhaust the ingesting process: past them, that file fails
    in one line and the others go on.

    Args:
        path: The file to load.
        limits: Size, time and memory the file may cost (see `FileLimits`).

    Returns:
        The loaded documents; their `source` is the file's resolved absolute path.

    Raises:
        UnsupportedFile: an extension outside `SUPPORTED`, or YAML/JSON of another shape.
        IngestError: unreadable, empty, too large, too slow, too greedy, or invalid for its
            format; the message is one line saying what is wrong and, when useful, what to do.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED:
        shown = f"'{path.suffix}'" if path.suffix else "(none)"
        hint = f" ({_HINTS[suffix]})" if suffix in _HINTS else ""
        raise UnsupportedFile(f"unsupported extension {shown}{hint}: supported are {', '.join(sorted(SUPPORTED))}")
    size = _check_readable(path)
    if size == 0:
        raise IngestError("empty file (0 bytes)")
    limit = limits.max_file_mb * _BYTES_PER_MB
    if size > limit:
        raise IngestError(
            f"file is {_size(size)}, over the {limits.max_file_mb:g} MB limit (GUICHET_MAX_FILE_MB)"
        )
    loader = _loader(suffix)
    try:
        if suffix == ".pdf":  # pypdf already runs in children of its own, which share the pages
            return loader(path, limits)
        return run_with_time_limit(loader, (path, limits), timeout_s=limits.timeout_s,
                                   memory_mb=limits.memory_mb, what="text extraction")
    except IngestError:
        raise
    except ChildError as exc:  # a loader bug or a library error nobody foresaw: still one line
        raise IngestError(f"could not read the file ({exc})") from None
    except Exception as exc:
        raise IngestError(f"could not read the file ({type(exc).__name__}: {describe(exc)})") from exc


def _check_readable(path: Path) -> int:
    """The file's size, once sure that it is a regular file this process can open."""
    try:
        info = path.stat()
    except FileNotFoundError:
        if path.is_symlink():
            raise IngestError(f"broken symbolic link to '{printable(os.readlink(path))}'") from None
        raise IngestError("file not found") from None
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or describe(exc)}") from None
    if not stat.S_ISREG(info.st_mode):
        raise IngestError(f"not a regular file ({_file_type(info.st_mode)}): cannot read it")
    try:
        with path.open("rb") as handle:
            handle.read(1)
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or describe(exc)}") from None
    return info.st_size


def _file_type(mode: int) -> str:
    if stat.S_ISDIR(mode):
        return "a directory"
    if stat.S_ISFIFO(mode):
        return "a named pipe"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device"
    return "not a file"


def _size(size: int) -> str:
    megabytes = size / _BYTES_PER_MB
    return f"{megabytes:.1f} MB" if megabytes >= 0.1 else f"{size / 1024:.1f} KB"


def _loader(suffix: str) -> Callable[[Path, FileLimits], list[Document]]:
    # Imported on use: the CLI's --help must not pay for pypdf, lxml or python-docx. Imported
    # here, in the parent, so that each forked child finds them loaded.
    if suffix == ".pdf":
        from assistant.ingest.loaders.pdf import load_pdf

        return lambda path, limits: [load_pdf(path, timeout_s=limits.timeout_s, memory_mb=limits.memory_mb)]
    if suffix in (".md", ".markdown"):
        from assistant.ingest.loaders.markdown import load_markdown, warm_up

        warm_up()
        return lambda path, limits: [load_markdown(path)]
    if suffix in (".html", ".htm"):
        from assistant.ingest.loaders.html import load_html

        return lambda path, limits: [load_html(path)]
    if suffix == ".txt":
        from assistant.ingest.loaders.text import load_text

        return lambda path, limits: [load_text(path)]
    if suffix == ".docx":
        import docx  # noqa: F401  (python-docx: a few hundred milliseconds, paid once)

        from assistant.ingest.loaders.word import load_word

        return lambda path, limits: [load_word(path, max_expanded_mb=limits.max_expanded_mb)]
    from assistant.ingest.loaders.answers import load_answers

    return lambda path, limits: load_answers(path)
