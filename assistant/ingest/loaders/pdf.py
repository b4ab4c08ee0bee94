"""PDF loader: one section per page, with its real page number, extracted by pypdf.

Extraction runs in forked child processes (see `isolation`) that only run pypdf and send back
plain data, so a hostile file that makes pypdf spin is killed after the time limit. pypdf is
pure Python: a larger file has its pages shared among up to 4 children, one per core
(pages 1, 3, 5... in one, 2, 4, 6... in the other on 2 cores). Page text
is kept as pypdf extracts it (quotes must stay verbatim): only line ends are normalised and
trailing spaces stripped.

Example:
    >>> doc = load_pdf(Path("guide.pdf"), timeout_s=60)    # doctest: +SKIP
    >>> doc.sections[3].page, doc.sections[3].text[:5]     # doctest: +SKIP
    (4, 'PRÉFA')
"""

from __future__ import annotations

import logging
import math
import os
import re
import warnings
from collections import Counter
from pathlib import Path
from typing import Any

from assistant.errors import IngestError
from assistant.ingest.loaders.common import (
    assemble_sections,
    clean_text,
    describe,
    meaningful_title,
    one_line,
    source_of,
)
from assistant.ingest.loaders.isolation import ChildError, run_all_with_time_limit
from assistant.ingest.loaders.pdf_title import choose_title
from assistant.records import Document

_log = logging.getLogger(__name__)

#: How far from the end of the file the %%EOF marker is looked for (some producers append junk).
_EOF_WINDOW = 32 * 1024
#: Smaller files are extracted by one child: forking more costs more than it saves.
_PARALLEL_FROM_BYTES = 256 * 1024
_MAX_CHILDREN = 4
#: pypdf messages that mean an optional dependency is missing and text may be wrong.
_MISSING_DEPENDENCY = re.compile(r"not installed|is required|install ", re.IGNORECASE)


def load_pdf(path: Path, *, timeout_s: float = 120.0, memory_mb: float | None = None) -> Document:
    """Load a PDF file: one section per page that has text, with its 1-based page number.

    Args:
        path: The PDF file.
        timeout_s: Time limit of the text extraction (the children are killed after it).
        memory_mb: Memory each extracting child may allocate (None: no limit).

    Returns:
        A "guide" document; metadata holds "pages", and "date", "author" when the PDF says,
        and "unreadable_pages" when some pages failed.

    Raises:
        IngestError: not a PDF, truncated, encrypted with a password, no extractable text,
            every page failing, or the time or memory limit passed.
    """
    import pypdf  # noqa: F401  imported once in the parent: forked children inherit it

    path = Path(path)
    size = _check_envelope(path)
    parts = _parallelism(size)
    calls = [(_extract, (str(path), part, parts)) for part in range(parts)]
    try:
        results = run_all_with_time_limit(calls, timeout_s=timeout_s, what="text extraction", memory_mb=memory_mb)
    except ChildError as exc:
        raise IngestError(f"not a valid PDF ({exc})") from None
    problem = next((result["problem"] for result in results if result.get("problem")), None)
    if problem:
        raise IngestError(problem)
    data = _merge(results)
    _relay_warnings(path, data["warnings"])

    pages: list[str | None] = data["pages"]
    failures: list[tuple[int, str]] = data["failures"]
    texts = [clean_text(text) if text else "" for text in pages]
    if not any(texts):
        if failures:
            raise IngestError(f"text extraction failed on every page (page {failures[0][0]}: {failures[0][1]})")
        raise IngestError("no extractable text (scanned PDF?): run OCR first")
    for number, reason in failures:
        _log.warning("%s: page %d skipped: %s", path.name, number, reason)

    metadata = {"pages": str(len(pages))}
    metadata.update({key: value for key, value in data["info"].items() if value})
    if failures:
        metadata["unreadable_pages"] = ", ".join(str(number) for number, _ in failures)
    title = meaningful_title(data["title"]) or choose_title(data["cover"], texts) or path.stem
    sections = assemble_sections((text, number, ()) for number, text in enumerate(texts, start=1))
    return Document(source=source_of(path), title=title, kind="guide", sections=sections, metadata=metadata)


def _check_envelope(path: Path) -> int:
    """Refuse, cheaply and before forking, what is not a complete PDF file; return its size."""
    try:
        with path.open("rb") as handle:
            head = handle.read(1024)
            handle.seek(0, 2)
            size = handle.tell()
            handle.seek(max(0, size - _EOF_WINDOW))
            tail = handle.read()
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or describe(exc)}") from None
    if b"%PDF-" not in head:
        raise IngestError("not a valid PDF (no %PDF- header: is it really a PDF?)")
    if b"%%EOF" not in tail:
        # pypdf would "recover" and silently lose the pages after the cut.
        raise IngestError("not a valid PDF (truncated: no %%EOF marker at the end; get the file again)")
    return size


def _parallelism(size: int) -> int:
    """How many children share the pages: pypdf is pure Python, one core per child."""
    if size < _PARALLEL_FROM_BYTES:
        return 1
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        cores = os.cpu_count() or 1
    return max(1, min(cores, _MAX_CHILDREN))


def _merge(results: list[dict[str, Any]]) -> dict[str, Any]:
    """Put the pages extracted by each child back in order."""
    by_number: dict[int, str | None] = {}
    failures: list[tuple[int, str]] = []
    warnings_: list[str] = []
    for result in results:
        by_number.update(result["pages"])
        failures += result["failures"]
        warnings_ += result["warnings"]
    pages = [by_number.get(number) for number in range(1, results[0]["count"] + 1)]
    return {
        "title": results[0]["title"],
        "cover": results[0]["cover"],
        "info": results[0]["info"],
        "pages": pages,
        "failures": sorted(failures),
        "warnings": warnings_,
    }


def _extract(path: str, part: int = 0, parts: int = 1) -> dict[str, Any]:
    """Runs in a child: the text of pages part, part + parts, ... as plain data.

    Returns {"problem": message} for a file that cannot be read; never raises for a bad file.
    The first child (part 0) also returns the title and the document information.
    """
    collector = _Collector()
    pypdf_logger = logging.getLogger("pypdf")
    propagate = pypdf_logger.propagate
    pypdf_logger.addHandler(collector)
    pypdf_logger.propagate = False  # the parent relays what matters, once
    try:
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            result = _read(path, part, parts)
    finally:  # restored for the inline case (no fork inside a daemonic process)
        pypdf_logger.removeHandler(collector)
        pypdf_logger.propagate = propagate
    result["warnings"] = collector.messages + [one_line(w.message) for w in caught]
    return result


def _read(path: str, part: int, parts: int) -> dict[str, Any]:
    from pypdf import PdfReader
    from pypdf.errors import DependencyError

    try:
        reader = PdfReader(path)
        if reader.is_encrypted:
            try:
                if not reader.decrypt(""):
                    return {"problem": "encrypted PDF: password required"}
            except DependencyError as exc:
                return {"problem": f"encrypted PDF needs a crypto library: {describe(exc)}"}
        count = len(reader.pages)
    except Exception as exc:
        return {"problem": f"not a valid PDF ({describe(exc)})"}
    pages: dict[int, str | None] = {}
    failures: list[tuple[int, str]] = []
    cover: list[tuple[float, float, str]] = []
    for index in range(part, count, parts):
        try:
            visitor = _runs_visitor(cover) if index == 0 else None
            pages[index + 1] = reader.pages[index].extract_text(visitor_text=visitor)
        except Exception as exc:  # one broken page must not lose the others
            pages[index + 1] = None
            failures.append((index + 1, describe(exc)))
    title, info = _metadata(reader) if part == 0 else (None, {})
    return {"title": title, "cover": cover, "info": info, "count": count, "pages": pages,
            "failures": failures}


def _runs_visitor(runs: list[tuple[float, float, str]]):
    """A pypdf `visitor_text` that appends (font size, height on the page, text) of each text run."""

    def visit(text, cm, tm, font, size) -> None:
        try:
            scale = math.hypot(tm[2], tm[3]) * math.hypot(cm[2], cm[3])
            y = tm[5] * cm[3] + tm[4] * cm[1] + cm[5]
            if text.strip() and size:
                runs.append((round(float(size) * (scale or 1.0), 1), round(float(y), 1), text))
        except (TypeError, ValueError, IndexError):
            pass  # a run without usable geometry only loses its say in the title

    return visit


def _metadata(reader: Any) -> tuple[str | None, dict[str, str]]:
    """Title, date and author from the document information dictionary; broken values ignored."""
    try:
        meta = reader.metadata
    except Exception:
        return None, {}
    if meta is None:
        return None, {}
    info: dict[str, str] = {}
    title = None
    try:
        title = meta.title
        info["author"] = one_line(meta.author or "")
    except Exception:
        pass
    for attribute in ("modification_date", "creation_date"):
        try:
            moment = getattr(meta, attribute)
        except Exception:
            continue
        if moment is not None:
            info["date"] = moment.date().isoformat()
            break
    return (str(title) if title else None), info


class _Collector(logging.Handler):
    """Keeps pypdf's log messages so that the parent can relay them."""

    def __init__(self) -> None:
        super().__init__(level=logging.WARNING)
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.messages.append(one_line(record.getMessage(), limit=300))
        except Exception:
            self.messages.append(one_line(record.msg, limit=300))


def _relay_warnings(path: Path, messages: list[str]) -> None:
    """Log pypdf's warnings once each: a missing optional dependency loudly, the rest at INFO.

    pypdf warns about most real-world PDFs ("Ignoring wrong pointing object"); these are
    repaired, and logging them at WARNING would drown the ingest summary.
    """
    for message, count in Counter(messages).items():
        times = f" (x{count})" if count > 1 else ""
        level = logging.WARNING if _MISSING_DEPENDENCY.search(message) else logging.INFO
        _log.log(level, "%s: pypdf: %s%s", path.name, message, times)
