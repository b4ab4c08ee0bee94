"""Word (.docx) loader: headings from paragraph styles give the section path.

Paragraphs and tables are read in document order. A paragraph styled "Heading 1".."Heading 6"
(or the French "Titre 1".."Titre 6") starts a section; list paragraphs are prefixed "- ";
table rows become one line each, cells joined with " | ".

Example:
    >>> doc = load_word(Path("note.docx"))      # doctest: +SKIP
    >>> doc.sections[1].heading                 # doctest: +SKIP
    ('Critères', 'Notation')
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

from assistant.errors import IngestError
from assistant.ingest.loaders.common import assemble_sections, describe, meaningful_title, source_of
from assistant.records import Document

_HEADING_STYLE = re.compile(r"^(?:heading|titre)\s*([1-6])$", re.IGNORECASE)
_TITLE_STYLES = {"title", "titre"}
_LIST_STYLE = re.compile(r"^(?:list|liste)\b", re.IGNORECASE)


def load_word(path: Path, max_expanded_mb: float = 200.0) -> Document:
    """Load a .docx file as a "guide" document, one section per heading.

    Args:
        path: The .docx file.
        max_expanded_mb: Largest total unzipped size of its parts. python-docx reads every
            part into memory, and Python's zipfile never inflates a part past the size its
            header declares, so the declared sizes bound what opening the file costs.

    Returns:
        A document titled from the file's properties, its "Title" paragraph, its first heading
        or the file name; metadata holds "date" and "author" when the file says.

    Raises:
        IngestError: "not a valid Word file (...)" for anything python-docx cannot open,
            a file that expands past `max_expanded_mb`, or no text at all.
    """
    import docx  # python-docx, imported on use: loading it costs a few hundred milliseconds

    path = Path(path)
    if not zipfile.is_zipfile(path):
        raise IngestError("not a valid Word file (not a complete .docx archive: truncated, or another format renamed)")
    _check_expanded_size(path, max_expanded_mb)
    try:
        document = docx.Document(str(path))
        parts, styled_title, first_heading = _walk(document)
        properties = _properties(document)
    except IngestError:
        raise
    except Exception as exc:
        raise IngestError(f"not a valid Word file ({describe(exc)})") from None
    sections = assemble_sections(parts)
    if not sections:
        raise IngestError("no text in the Word file")
    title = meaningful_title(properties.pop("title", None)) or styled_title or first_heading or path.stem
    return Document(source=source_of(path), title=title, kind="guide", sections=sections, metadata=properties)


def _check_expanded_size(path: Path, max_expanded_mb: float) -> None:
    try:
        with zipfile.ZipFile(path) as archive:
            expanded = sum(info.file_size for info in archive.infolist())
    except (zipfile.BadZipFile, OSError, ValueError) as exc:
        raise IngestError(f"not a valid Word file ({describe(exc)})") from None
    if expanded > max_expanded_mb * 1024 * 1024:
        raise IngestError(f"the .docx expands to {expanded / 1024 / 1024:,.0f} MB once unzipped, over the "
                          f"{max_expanded_mb:g} MB limit (GUICHET_MAX_EXPANDED_MB): a zip bomb, or raise the limit")


def _walk(document: Any) -> tuple[list[tuple[str, None, tuple[str, ...]]], str | None, str | None]:
    from docx.table import Table

    parts: list[tuple[str, None, tuple[str, ...]]] = []
    path: list[tuple[int, str]] = []
    blocks: list[str] = []
    styled_title: str | None = None
    first_heading: str | None = None

    def close() -> None:
        parts.append(("\n\n".join(blocks), None, tuple(text for _, text in path)))
        blocks.clear()

    for item in document.iter_inner_content():
        if isinstance(item, Table):
            table = _table_text(item)
            if table:
                blocks.append(table)
            continue
        text = " ".join(item.text.split())
        if not text:
            continue
        style = (getattr(item.style, "name", "") or "").strip()
        heading = _HEADING_STYLE.match(style)
        if heading:
            level = int(heading.group(1))
            close()
            while path and path[-1][0] >= level:
                path.pop()
            path.append((level, text))
            first_heading = first_heading or text
        elif style.lower() in _TITLE_STYLES and styled_title is None:
            styled_title = text
        elif _LIST_STYLE.match(style) or _is_numbered(item):
            if blocks and blocks[-1].startswith("- "):
                blocks[-1] += "\n- " + text  # consecutive items form one block
            else:
                blocks.append("- " + text)
        else:
            blocks.append(text)
    close()
    return parts, styled_title, first_heading


def _is_numbered(paragraph: Any) -> bool:
    properties = paragraph._p.pPr
    return properties is not None and properties.numPr is not None


def _table_text(table: Any) -> str:
    rows = []
    for row in table.rows:
        cells: list[str] = []
        previous = None
        for cell in row.cells:
            if cell._tc is previous:
                continue  # a merged cell is returned once per grid column it spans
            previous = cell._tc
            cells.append(" ".join(cell.text.split()))
        if any(cells):
            rows.append(" | ".join(cells))
    return "\n".join(rows)


def _properties(document: Any) -> dict[str, str]:
    core = document.core_properties
    properties: dict[str, str] = {}
    if core.title:
        properties["title"] = core.title
    if core.author:
        properties["author"] = " ".join(core.author.split())
    moment = core.modified or core.created
    if moment is not None:
        properties["date"] = moment.date().isoformat()
    return properties
