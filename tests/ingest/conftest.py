"""Fixtures of the ingest tests: the shared real corpus and real files built by the tests."""

from __future__ import annotations

import io
import logging
import shutil
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Sequence

import pytest

from assistant.compose import ingest_config
from assistant.config import Settings
from assistant.errors import IngestError
from assistant.ingest.loaders.common import full_text
from assistant.ingest.loading import load_document
from assistant.ingest.options import FileLimits
from assistant.records import Document

CORPUS = Path(__file__).resolve().parents[3] / "shared" / "corpus" / "minumeco"


@pytest.fixture(scope="session")
def corpus_dir() -> Path:
    """../shared/corpus/minumeco, read in place; the tests that need it skip when it is absent."""
    if not CORPUS.is_dir():
        pytest.skip(f"shared corpus not found at {CORPUS}: clone ../shared beside the repository")
    return CORPUS


@dataclass(frozen=True)
class LoadedGuide:
    """The 142-page shared guide, loaded once per session, with what the loader logged."""

    doc: Document
    seconds: float
    log: tuple[logging.LogRecord, ...]


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(scope="session")
def guide(corpus_dir: Path) -> LoadedGuide:
    """guide-achats-numeriques-responsables-2021.pdf through `load_document` (about 5 s, once)."""
    logger = logging.getLogger("assistant.ingest.loaders.pdf")
    keep, level = _Keep(), logger.level
    logger.addHandler(keep)
    logger.setLevel(logging.DEBUG)
    try:
        started = time.perf_counter()
        path = corpus_dir / "pdf" / "guide-achats-numeriques-responsables-2021.pdf"
        docs = load_document(path, ingest_config(Settings(max_file_mb=50, file_timeout_s=120)).files)
        seconds = time.perf_counter() - started
    finally:
        logger.removeHandler(keep)
        logger.setLevel(level)
    assert len(docs) == 1, f"a PDF gives one document, got {len(docs)}"
    return LoadedGuide(doc=docs[0], seconds=seconds, log=tuple(keep.records))


@pytest.fixture
def folder(tmp_path, minumeco) -> Path:
    """A copy of three small real Markdown guides of ../shared, so the test can change and delete them."""
    target = tmp_path / "docs"
    target.mkdir()
    for name in ("fin-usage--cycle-de-vie.md", "guide-bonnes-pratiques--achat-durable--index.md",
                 "guide-achats-responsables--fiches-pratiques--logiciels.md"):
        shutil.copy(minumeco / "md" / name, target / name)
    return target


@pytest.fixture
def limits() -> FileLimits:
    """The default limits of reading one file (the autouse fixture of tests/conftest.py cleared
    GUICHET_* variables), as the composition root builds them."""
    return ingest_config(Settings()).files


def _assert_one_line(exc: pytest.ExceptionInfo[IngestError], *words: str) -> str:
    message = str(exc.value)
    assert message, "empty error message"
    assert "\n" not in message and "Traceback" not in message, f"message not on one line: {message!r}"
    for word in words:
        assert word.lower() in message.lower(), f"{word!r} missing from {message!r}"
    return message


@pytest.fixture
def assert_one_line() -> Callable[..., str]:
    """`assert_one_line(excinfo, *words)`: the message is one line holding every word (any case)."""
    return _assert_one_line


def _assert_offsets(doc: Document) -> None:
    text = full_text(doc.sections)
    for section in doc.sections:
        assert text[section.start : section.start + len(section.text)] == section.text, (
            f"{doc.source}: section {section.heading or section.page} is not at offset {section.start}"
        )


@pytest.fixture
def assert_offsets() -> Callable[[Document], None]:
    """`assert_offsets(doc)`: each section's start is its offset in the document's full text."""
    return _assert_offsets


def _pdf_bytes(pages: Sequence[Sequence[str]], title: str | None = None) -> bytes:
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer)
    if title:
        pdf.setTitle(title)
    for lines in pages:
        for index, line in enumerate(lines):
            pdf.drawString(72, 760 - 18 * index, line)
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


@pytest.fixture
def pdf_bytes() -> Callable[..., bytes]:
    """`pdf_bytes([["line of page 1"], ["line of page 2"]], title=None)`: a real reportlab PDF."""
    return _pdf_bytes


@pytest.fixture
def make_pdf(tmp_path: Path) -> Callable[..., Path]:
    """`make_pdf("x.pdf", pages, title=None)`: write a reportlab PDF in tmp_path, return its path."""

    def build(name: str, pages: Sequence[Sequence[str]], title: str | None = None) -> Path:
        path = tmp_path / name
        path.write_bytes(_pdf_bytes(pages, title))
        return path

    return build
