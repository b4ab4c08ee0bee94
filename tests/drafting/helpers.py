"""Hand-made chunks and passages over REAL text of the shared corpus (../shared/corpus/minumeco).

The files are read as they are; only Markdown and HTML markup is stripped from a paragraph,
as a loader would, so every quote the tests check is the corpus's own wording.
"""

from __future__ import annotations

import re
from functools import lru_cache
from pathlib import Path

import pytest

from assistant.records import Chunk, Passage, chunk_id

SHARED = Path(__file__).resolve().parents[3] / "shared"
MINUMECO = SHARED / "corpus" / "minumeco"

_FRONT = re.compile(r"\A---\n(.*?)\n---\n", re.S)
_TAG = re.compile(r"<[^>]+>")
_LINK = re.compile(r"\[([^\]]+)\]\([^)]+\)")


def corpus_file(relative: str) -> Path:
    """A corpus file; fails (never skips) when ../shared is not beside the repository."""
    path = MINUMECO / relative
    if not path.is_file():
        pytest.fail(f"{path} is missing: the drafting tests read the shared corpus beside the repository")
    return path


@lru_cache(maxsize=None)
def front_matter(name: str) -> dict[str, str]:
    """The `key: value` lines of a Markdown file's front matter."""
    match = _FRONT.match(corpus_file(f"md/{name}").read_text(encoding="utf-8"))
    out = {}
    for line in (match.group(1).splitlines() if match else []):
        key, sep, value = line.partition(":")
        if sep and not line.startswith(" "):
            out[key.strip()] = value.strip().strip('"')
    return out


def plain(markdown: str) -> str:
    """Markdown/HTML paragraph as plain text: tags, emphasis and link targets removed."""
    text = _LINK.sub(r"\1", _TAG.sub("", markdown)).replace("**", "")
    return "\n".join(line.rstrip() for line in text.splitlines()).strip()


def paragraph(name: str, containing: str, following: int = 0) -> str:
    """The plain text of the blank-line-separated block of `md/name` holding `containing`,
    plus the `following` blocks after it."""
    text = _FRONT.sub("", corpus_file(f"md/{name}").read_text(encoding="utf-8"))
    blocks = [b for b in re.split(r"\n\s*\n", text) if plain(b)]
    for i, block in enumerate(blocks):
        if containing in block:
            return "\n\n".join(plain(b) for b in blocks[i:i + 1 + following])
    pytest.fail(f"no paragraph of {name} contains {containing!r}: was the corpus changed?")


@lru_cache(maxsize=None)
def pdf_page(name: str, page: int) -> str:
    """Text of one page of `pdf/name` (1-based), as pypdf extracts it."""
    from pypdf import PdfReader

    return PdfReader(corpus_file(f"pdf/{name}")).pages[page - 1].extract_text()


def md_chunk(name: str, text: str, *, section: str = "", kind: str = "guide", **metadata: str) -> Chunk:
    """A chunk of `md/name` with its real title and date from the front matter."""
    meta = front_matter(name)
    data = {"date": meta.get("date", "")} | metadata
    return Chunk(chunk_id(str(MINUMECO / "md" / name), None, 0, text), text, str(MINUMECO / "md" / name),
                 meta.get("title", name), kind, None, section, 0, {k: v for k, v in data.items() if v})


def pdf_chunk(name: str, page: int, text: str | None = None, *, title: str, date: str = "") -> Chunk:
    """A chunk of one PDF page (its whole text unless `text` is given)."""
    text = pdf_page(name, page) if text is None else text
    source = str(MINUMECO / "pdf" / name)
    return Chunk(chunk_id(source, page, 0, text), text, source, title, "guide", page, "", 0,
                 {"date": date} if date else {})


def passages(*chunks: Chunk, agree: bool = True) -> list[Passage]:
    """Passages ranked in the given order; `agree` puts each in both the lexical and dense lists."""
    return [Passage(c, round(1 / (61 + i) * (2 if agree else 1), 6), (), i + 1, i + 1 if agree else None)
            for i, c in enumerate(chunks)]
