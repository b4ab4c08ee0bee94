"""The title of a PDF without a usable /Title: from the cover's layout or the running header.

Drafts name their sources by title, so a title read in the wrong order ("pour des achats
numériques responsables GUIDE PRATIQUE": the big lines first, the small line above them last)
or a generic one ("Dossier de Presse") reads badly. Three general signals, in order:

1. the cover's layout: the block of lines around the largest type on page 1, read top to
   bottom, when that type stands out (clearly larger than the rest of the page, or a cover
   page set in display sizes);
2. the running header: the same first or last line (page numbers removed) on at least half
   of the pages, which is the document's own short title;
3. the first heading-like lines of page 1's text.

When the cover block and the running header are the same words, the one not set in capitals
is kept. A block that mixes a line in capitals ("GUIDE PRATIQUE") with lower-case lines gets
that line in sentence case. Pure functions over plain data (the runs come from pypdf's
`visitor_text` in the extraction child).

Example:
    >>> runs = [(38.0, 636.0, "pour des achats"), (38.0, 594.0, "numériques"),
    ...         (38.0, 552.0, "responsables"), (18.0, 674.0, "GUIDE PRATIQUE")]
    >>> choose_title(runs, ["pour des achats\\nnumériques\\nresponsables\\nGUIDE PRATIQUE"])
    'Guide pratique pour des achats numériques responsables'
"""

from __future__ import annotations

import re
from collections import Counter
from statistics import median
from typing import Sequence

from assistant.text.normalize import fold

#: (font size in points, height of the baseline on the page, text) of one text run.
Run = tuple[float, float, str]

MAX_CHARS = 120
MAX_LINES = 4
#: The title type must be this much larger than the page's other text...
CONTRAST = 1.3
#: ...or, on a page holding only the title block, at least this large (display sizes).
DISPLAY_SIZE = 16.0
#: Lines of one block are at most this many font sizes apart.
LINE_GAP = 1.6
#: A smaller line joins the block (a kicker such as "GUIDE PRATIQUE") down to this share of the size.
MIN_SHARE = 0.4
#: A running header is on at least this share of the pages (and on 3 pages or more).
HEADER_SHARE = 0.5

#: A page number at either end of a header line, with its separators ("| 12", "I 2 I", "Page 3 -").
_PAGE_NUMBER = re.compile(r"^(?:[Pp]age\s*)?[\s|•·\-–—/I]*\d+[\s|•·\-–—/I]*(?=\S)|"
                          r"(?<=\S)[\s|•·\-–—/I]*\d+[\s|•·\-–—/I]*$")


def choose_title(cover: Sequence[Run], pages: Sequence[str]) -> str | None:
    """The best title from the cover's runs and the pages' texts, or None.

    Args:
        cover: Text runs of page 1 (may be empty when the geometry was unusable).
        pages: Text of every page ("" for pages without text).
    """
    block = cover_title(cover)
    header = running_header(pages)
    if block and header and _key(block) == _key(header):
        return header if _is_capitals(block) and not _is_capitals(header) else block
    return block or header or heading_title(pages[0] if pages else "")


def cover_title(runs: Sequence[Run]) -> str | None:
    """The block of lines around the largest type of the cover, top to bottom, or None.

    Example:
        >>> cover_title([(12.0, 700.0, "Note"), (12.0, 682.0, "Un texte de corps.")]) is None
        True
    """
    lines = _lines(runs)
    if not lines:
        return None
    top = max(range(len(lines)), key=lambda i: (lines[i][0], -i))
    size = lines[top][0]
    first = last = top
    while first > 0 and _joins(lines[first - 1], lines[first], size):
        first -= 1
    while last + 1 < len(lines) and _joins(lines[last + 1], lines[last], size):
        last += 1
    block = lines[first:last + 1]
    rest = [(s, len(t)) for i, (s, _, t) in enumerate(lines) if not first <= i <= last]
    if rest:
        body = median([s for s, n in rest for _ in range(min(n, 200))])
        if size < CONTRAST * body:
            return None
    elif size < DISPLAY_SIZE:
        return None
    texts = [t for _, _, t in block]
    if len(texts) > MAX_LINES or any(len(t) > 80 or t.endswith((".", ",", ";", ":")) for t in texts):
        return None
    return _tidy(texts)


def running_header(pages: Sequence[str]) -> str | None:
    """The first or last line repeated on at least half of the pages (page numbers removed, and
    not a sentence: a line ending with punctuation is text, not a header).

    Example:
        >>> running_header([f"Guide de l'achat durable | {n}\\nTexte {n}." for n in range(1, 6)])
        "Guide de l'achat durable"
    """
    with_text = [p for p in pages if p and p.strip()]
    if len(with_text) < 3:
        return None
    counts: Counter[str] = Counter()
    for page in with_text:
        lines = [" ".join(line.split()) for line in page.split("\n") if line.strip()]
        edges = {_PAGE_NUMBER.sub("", line).strip() for line in (lines[0], lines[-1])}
        counts.update(e for e in edges if sum(c.isalpha() for c in e) >= 3 and len(e) <= MAX_CHARS
                      and not e.endswith((".", "!", "?", ":", ";", ",")))
    if not counts:
        return None
    header, seen = counts.most_common(1)[0]
    return header if seen >= max(3, HEADER_SHARE * len(with_text)) else None


def heading_title(first_page: str) -> str | None:
    """The first lines of page 1 when they look like a title (short, not ending a sentence)."""
    lines: list[str] = []
    for raw in first_page.split("\n"):
        line = " ".join(raw.split())
        if not line:
            if lines:
                break
            continue
        if not lines and not any(char.isalpha() for char in line):
            continue  # a page number or a rule before the title
        if len(line) > 80 or line.endswith((".", ",", ";", ":")):
            break
        if len(" ".join(lines + [line])) > MAX_CHARS:
            break
        lines.append(line)
        if len(lines) == MAX_LINES:
            break
    title = " ".join(lines)
    return title if sum(char.isalpha() for char in title) >= 3 else None


def _lines(runs: Sequence[Run]) -> list[tuple[float, float, str]]:
    """Runs merged into lines (same baseline), top of the page first: (size, height, text)."""
    by_height: dict[float, list[tuple[float, str]]] = {}
    for size, y, text in runs:
        if text.strip():
            by_height.setdefault(round(y), []).append((size, text))
    lines = []
    for y in sorted(by_height, reverse=True):
        parts = by_height[y]
        text = " ".join(" ".join(t for _, t in parts).split())
        if text:
            lines.append((max(s for s, _ in parts), float(y), text))
    return lines


def _joins(line: tuple[float, float, str], neighbour: tuple[float, float, str], size: float) -> bool:
    gap = abs(line[1] - neighbour[1])
    return line[0] >= MIN_SHARE * size and gap <= LINE_GAP * max(line[0], neighbour[0])


def _tidy(texts: Sequence[str]) -> str | None:
    """Join the block's lines; a line in capitals among lower-case ones goes to sentence case."""
    mixed = any(not _is_capitals(t) for t in texts)
    parts = []
    for text in texts:
        if mixed and _is_capitals(text) and len(text.split()) >= 2:
            text = text.lower()
        parts.append(text)
    title = " ".join(parts)
    if sum(c.isalpha() for c in title) < 3 or len(title) > MAX_CHARS:
        return None
    return title[0].upper() + title[1:]


def _is_capitals(text: str) -> bool:
    letters = [c for c in text if c.isalpha()]
    return bool(letters) and not any(c.islower() for c in letters)


def _key(text: str) -> str:
    return " ".join(re.findall(r"\w+", fold(text.lower())))
