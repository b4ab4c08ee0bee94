"""HTML loader: headed sections of clean text (see `html_walk`), title from <title> or the first h1.

Example:
    >>> doc = load_html(Path("page.html"))          # doctest: +SKIP
    >>> doc.sections[0].heading                     # doctest: +SKIP
    ('Guide', 'Bureautique')
"""

from __future__ import annotations

from pathlib import Path

from assistant.errors import IngestError
from assistant.ingest.loaders.common import assemble_sections, decode_text, describe, read_bytes, source_of
from assistant.ingest.loaders.html_walk import html_sections
from assistant.records import Document


def load_html(path: Path) -> Document:
    """Load an HTML file as a "guide" document, one section per heading.

    Raises:
        IngestError: binary content, or no text at all once markup is removed.
    """
    path = Path(path)
    html = decode_text(read_bytes(path))
    try:
        title, parts = html_sections(html)
    except Exception as exc:  # lxml and bs4 errors, whatever their type
        raise IngestError(f"not a valid HTML file ({describe(exc)})") from None
    return build_document(path, title, parts, metadata={}, empty="no text in the HTML page")


def build_document(
    path: Path,
    title: str | None,
    parts: list[tuple[str, tuple[str, ...]]],
    *,
    metadata: dict[str, str],
    empty: str,
) -> Document:
    """A "guide" document from walked sections; shared with the Markdown loader.

    Raises:
        IngestError: `empty` when no section has text.
    """
    sections = assemble_sections((text, None, heading) for text, heading in parts)
    if not sections:
        raise IngestError(empty)
    return Document(
        source=source_of(path), title=title or path.stem, kind="guide", sections=sections, metadata=metadata
    )
