"""Helpers shared by the format loaders: reading, decoding, one-line errors, section offsets.

A document's full plain text is its sections' texts joined with `SEPARATOR`; each
`Section.start` is the offset of that section in it, so `full_text(doc)[s.start:]` begins
with `s.text`.

Example:
    >>> sections = assemble_sections([("Intro", None, ()), ("", None, ("Vide",)), ("Suite", None, ("A",))])
    >>> [(s.text, s.start) for s in sections]
    [('Intro', 0), ('Suite', 7)]
    >>> full_text(sections)[7:]
    'Suite'
"""

from __future__ import annotations

import hashlib
import re
from pathlib import Path
from typing import Iterable, Sequence

from assistant.errors import IngestError
from assistant.records import Section

#: Joins the sections of a document into its full plain text.
SEPARATOR = "\n\n"

_MAX_MESSAGE = 200
_SPACES = re.compile(r"\s+")
# C0 control characters other than tab, line feed, form feed and carriage return.
_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f]")
_FILE_NAME_TITLE = re.compile(r"\.(docx?|pdf|indd|odt|pptx?|xlsx?|rtf|txt|html?)$", re.IGNORECASE)
_PLACEHOLDER_TITLES = {"untitled", "sans titre", "document", "titre", "title", "présentation powerpoint"}

SectionPart = tuple[str, "int | None", tuple[str, ...]]


def one_line(text: object, limit: int = _MAX_MESSAGE) -> str:
    """Collapse any text (an exception message, a YAML problem) into one short line.

    Example:
        >>> one_line("first line\\n  second line")
        'first line second line'
    """
    line = _SPACES.sub(" ", str(text)).strip()
    return line if len(line) <= limit else line[: limit - 1] + "…"


def describe(exc: BaseException) -> str:
    """One-line description of a third-party exception: its message, else its type name."""
    return one_line(exc) or type(exc).__name__


def source_of(path: Path) -> str:
    """The `Document.source` of a file: its absolute, resolved path."""
    return str(Path(path).resolve())


def read_bytes(path: Path) -> bytes:
    """Read a whole file.

    Raises:
        IngestError: the file cannot be read (the OS reason, in one line).
    """
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise IngestError(f"cannot read file: {exc.strerror or describe(exc)}") from None


def decode_text(data: bytes) -> str:
    """Decode a text file: UTF-8 (with or without BOM), else Windows-1252.

    Raises:
        IngestError: "binary file, not text" when the bytes hold NULs, decode in neither
            encoding, or are mostly control characters.

    Example:
        >>> decode_text("Réponse".encode("cp1252"))
        'Réponse'
    """
    if b"\x00" in data:
        raise IngestError("binary file, not text")
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:
            text = data.decode("cp1252")
        except UnicodeDecodeError:
            raise IngestError("binary file, not text") from None
    if text and len(_CONTROL.findall(text)) > max(2, len(text) // 100):
        raise IngestError("binary file, not text")
    return text


def clean_text(text: str) -> str:
    """Normalise line ends, strip trailing spaces of each line and blank lines at both ends.

    Nothing else changes: quotes taken from the text must stay verbatim.

    Example:
        >>> clean_text("\\r\\nTitre  \\r\\ntexte\\t\\n\\n")
        'Titre\\ntexte'
    """
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\x00", "")
    lines = [line.rstrip() for line in text.split("\n")]
    return "\n".join(lines).strip("\n")


def assemble_sections(parts: Iterable[SectionPart]) -> tuple[Section, ...]:
    """Build sections with their offsets in the full text; parts with blank text are dropped.

    Args:
        parts: (text, page, heading path) in reading order.
    """
    sections: list[Section] = []
    offset = 0
    for text, page, heading in parts:
        if not text.strip():
            continue
        sections.append(Section(text=text, page=page, heading=tuple(heading), start=offset))
        offset += len(text) + len(SEPARATOR)
    return tuple(sections)


def full_text(sections: Sequence[Section]) -> str:
    """The document's full plain text, in which `Section.start` offsets are counted."""
    return SEPARATOR.join(section.text for section in sections)


def meaningful_title(value: object) -> str | None:
    """A metadata title worth showing, or None for blanks, placeholders and file names.

    Example:
        >>> meaningful_title("Microsoft Word - rapport_v3.docx") is None
        True
        >>> meaningful_title("  Guide pratique  ")
        'Guide pratique'
    """
    if not isinstance(value, str):
        return None
    title = one_line(value, limit=300)
    if title.startswith("Microsoft Word - "):
        title = title[len("Microsoft Word - ") :]
    letters = sum(char.isalpha() for char in title)
    if letters < 3 or title.lower() in _PLACEHOLDER_TITLES or _FILE_NAME_TITLE.search(title):
        return None
    return title


def short_hash(text: str, length: int = 16) -> str:
    """Stable hexadecimal digest of a text (ids of records without one)."""
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:length]
