"""Markdown loader: YAML front matter becomes metadata, the body is rendered to HTML and walked.

The body is rendered by markdown-it-py with raw HTML and tables enabled, then goes through the
same section walker as HTML pages, so inline HTML (accordions, tables) becomes clean text and
headings, even those inside raw HTML, give the section path.

Example:
    >>> doc = load_markdown(Path("faq.md"))              # doctest: +SKIP
    >>> doc.title, doc.metadata["date"]                  # doctest: +SKIP
    ('Foire aux questions', '2023-04-03')
"""

from __future__ import annotations

import datetime as dt
import functools
import json
from pathlib import Path
from typing import Any, Mapping

import yaml

from assistant.errors import IngestError
from assistant.ingest.loaders.common import decode_text, describe, one_line, read_bytes
from assistant.ingest.loaders.html import build_document
from assistant.ingest.loaders.html_walk import html_sections
from assistant.records import Document

_FENCE = "---"
_CLOSING_FENCES = ("---", "...")


def load_markdown(path: Path) -> Document:
    """Load a Markdown file as a "guide" document, one section per heading.

    Returns:
        A document whose metadata holds the front matter: "title", "date" (ISO), "url" (from
        url or permalink), "tags" (joined with ", "), other scalars as text, other values as JSON.

    Raises:
        IngestError: binary content, invalid front matter (with its line), or no text.
    """
    path = Path(path)
    text = decode_text(read_bytes(path))
    front, body = split_front_matter(text)
    metadata = front_matter_metadata(front)
    try:
        html = _renderer().render(body)
        title, parts = html_sections(html)
    except Exception as exc:
        raise IngestError(f"cannot render the Markdown ({describe(exc)})") from None
    title = metadata.get("title") or title
    return build_document(path, title, parts, metadata=metadata, empty="no text in the Markdown file")


def split_front_matter(text: str) -> tuple[dict[str, Any], str]:
    """Split "---" YAML front matter from the body.

    Returns:
        (front matter mapping, empty when there is none; body text).

    Raises:
        IngestError: unclosed or invalid front matter, naming the line.

    Example:
        >>> split_front_matter("---\\ntitle: FAQ\\n---\\n# Corps\\n")
        ({'title': 'FAQ'}, '# Corps\\n')
    """
    lines = text.split("\n")
    if lines[0].rstrip() != _FENCE:
        return {}, text
    end = next((i for i, line in enumerate(lines[1:], start=1) if line.rstrip() in _CLOSING_FENCES), None)
    if end is None:
        raise IngestError("invalid front matter at line 1: no closing '---' line")
    try:
        front = _parse_yaml(lines[1:end])
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 2}" if mark is not None else ""  # +1: 1-based, +1: the fence
        problem = getattr(exc, "problem", None) or describe(exc)
        raise IngestError(f"invalid front matter{where}: {one_line(problem)}") from None
    if front is None:
        front = {}
    if not isinstance(front, dict):
        raise IngestError("invalid front matter at line 2: expected 'key: value' lines")
    return front, "\n".join(lines[end + 1 :])


def _parse_yaml(lines: list[str]) -> Any:
    """Parse front matter; on failure, retry with indenting tabs read as two spaces.

    YAML forbids tabs in indentation, but editors insert them and the site generators that
    publish these files accept them (the shared guide index has one). The error reported is
    the one of the file as written.
    """
    try:
        return yaml.safe_load("\n".join(lines))
    except yaml.YAMLError:
        if not any(line.startswith("\t") for line in lines):
            raise
        untabbed = []
        for line in lines:
            body = line.lstrip("\t")
            untabbed.append("  " * (len(line) - len(body)) + body)
        try:
            return yaml.safe_load("\n".join(untabbed))
        except yaml.YAMLError:
            pass
        raise


def front_matter_metadata(front: Mapping[str, Any]) -> dict[str, str]:
    """Flatten front matter into string metadata (see `load_markdown` for the rules).

    Example:
        >>> front_matter_metadata({"date": dt.date(2023, 4, 3), "tags": ["a", "b"], "permalink": "/faq/"})
        {'date': '2023-04-03', 'tags': 'a, b', 'url': '/faq/'}
    """
    metadata: dict[str, str] = {}
    for key, value in front.items():
        key = str(key)
        if value is None:
            continue
        if key == "tags" and isinstance(value, (list, tuple)):
            metadata["tags"] = ", ".join(str(tag) for tag in value if tag is not None)
        elif key in ("url", "permalink"):
            if key == "url" or "url" not in metadata:
                metadata["url"] = _scalar(value)
        else:
            metadata[key] = _scalar(value)
    return {key: value for key, value in metadata.items() if value != ""}


def _scalar(value: Any) -> str:
    if isinstance(value, dt.datetime):
        return value.date().isoformat()
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (str, int, float)):
        return str(value).strip()
    return json.dumps(value, ensure_ascii=False, default=str)


def warm_up() -> None:
    """Build the renderer now (loading markdown-it), so that forked loaders inherit it."""
    _renderer()


@functools.cache
def _renderer() -> Any:
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": True}).enable("table")
