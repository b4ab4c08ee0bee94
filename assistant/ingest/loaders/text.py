"""Plain-text loader: one section; the title is the first line when it is short.

Example:
    >>> doc = load_text(Path("note.txt"))     # doctest: +SKIP
    >>> doc.title, len(doc.sections)          # doctest: +SKIP
    ('Note sur le PNAD', 1)
"""

from __future__ import annotations

from pathlib import Path

from assistant.errors import IngestError
from assistant.ingest.loaders.common import assemble_sections, clean_text, decode_text, read_bytes, source_of
from assistant.records import Document

#: A first line longer than this is a paragraph, not a title.
TITLE_MAX_CHARS = 120


def load_text(path: Path) -> Document:
    """Load a UTF-8 (or Windows-1252) text file as a "guide" document with one section.

    Raises:
        IngestError: binary content, or only white space.
    """
    path = Path(path)
    text = clean_text(decode_text(read_bytes(path)))
    if not text.strip():
        raise IngestError("no text: the file holds only white space")
    first = next(line.strip() for line in text.split("\n") if line.strip())
    title = first if len(first) < TITLE_MAX_CHARS else path.stem
    sections = assemble_sections([(text, None, ())])
    return Document(source=source_of(path), title=title, kind="guide", sections=sections)
