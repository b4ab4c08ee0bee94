"""Turn HTML into headed sections of clean text (shared by the HTML and Markdown loaders).

The walk follows the document order. Every h1-h6 starts a section whose heading is the path of
enclosing headings (an h3 under an h2 under an h1 gives three parts). Paragraphs, list items
(prefixed "- "), table rows (cells joined with " | ") and block quotes become plain text, blocks
separated by a blank line. Text before the first heading goes to a section with heading ().

The text inside a heading is kept whatever wraps it: accordions put their question in
`<h3><button>QUESTION</button></h3>`. Scripts, styles, forms and navigation are dropped, and so
are page-level <header> and <footer> (site banners), but not those inside <article> or <main>.

Example:
    >>> title, parts = html_sections("<h1>Guide</h1><p>Intro</p><h2><button>Q ?</button></h2><p>R.</p>")
    >>> title, parts
    ('Guide', [('Intro', ('Guide',)), ('R.', ('Guide', 'Q ?'))])
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from bs4 import BeautifulSoup, NavigableString, Tag
from bs4.element import CData, Comment, Declaration, Doctype, ProcessingInstruction

_DROP = frozenset(
    {"script", "style", "noscript", "template", "svg", "math", "nav", "iframe", "object",
     "embed", "select", "option", "textarea", "input", "head", "title", "meta", "link", "canvas"}
)
_PAGE_CHROME = frozenset({"header", "footer"})
_HEADINGS = {f"h{level}": level for level in range(1, 7)}
_BLOCKS = frozenset(
    {"address", "article", "aside", "blockquote", "body", "caption", "center", "dd", "details",
     "dialog", "div", "dl", "dt", "fieldset", "figcaption", "figure", "footer", "form", "header",
     "hgroup", "hr", "html", "legend", "li", "main", "menu", "ol", "p", "section", "summary", "ul"}
)
_NOT_TEXT = (Comment, CData, Declaration, Doctype, ProcessingInstruction)
# HTML white space only: non-breaking and narrow spaces are kept (French typography).
_WHITE = re.compile(r"[ \t\n\r\f]+")
_SPACES = re.compile(r" {2,}")


@dataclass
class _Item:
    prefix: str
    used: bool = False


@dataclass
class _Walk:
    parts: list[tuple[str, tuple[str, ...]]] = field(default_factory=list)
    path: list[tuple[int, str]] = field(default_factory=list)
    blocks: list[tuple[str, bool]] = field(default_factory=list)  # (text, is a list item)
    inline: list[str] = field(default_factory=list)
    items: list[_Item] = field(default_factory=list)
    first_h1: str | None = None

    def text(self, value: str) -> None:
        self.inline.append(_WHITE.sub(" ", value))

    def flush(self) -> None:
        lines = (_SPACES.sub(" ", line).strip() for line in "".join(self.inline).split("\n"))
        self.inline.clear()
        text = "\n".join(line for line in lines if line)
        if not text:
            return
        if self.items:
            item = self.items[-1]
            text = (item.prefix if not item.used else " " * len(item.prefix)) + text
            item.used = True
        self.block(text, is_item=bool(self.items))

    def block(self, text: str, is_item: bool = False) -> None:
        if text.strip():
            self.blocks.append((text, is_item))

    def heading(self, level: int, text: str) -> None:
        self.flush()
        self.close_section()
        while self.path and self.path[-1][0] >= level:
            self.path.pop()
        self.path.append((level, text))
        if level == 1 and self.first_h1 is None:
            self.first_h1 = text

    def close_section(self) -> None:
        text = ""
        for index, (block, is_item) in enumerate(self.blocks):
            if index:
                text += "\n" if is_item and self.blocks[index - 1][1] else "\n\n"
            text += block
        self.blocks.clear()
        if text:
            self.parts.append((text, tuple(heading for _, heading in self.path)))


def html_sections(html: str) -> tuple[str | None, list[tuple[str, tuple[str, ...]]]]:
    """Parse HTML into (title, [(section text, heading path)]), empty sections dropped.

    The title is the <title> element, else the first h1, else None.
    """
    soup = BeautifulSoup(html, "lxml")
    title = None
    if soup.title is not None:
        title = inline_text(soup.title) or None
    walk = _Walk()
    _walk(soup, walk)
    walk.flush()
    walk.close_section()
    return title or walk.first_h1, walk.parts


def inline_text(node: Tag) -> str:
    """All the text under a node on one line, white space collapsed (headings, table cells)."""
    pieces: list[str] = []
    for descendant in node.descendants:
        if isinstance(descendant, Tag):
            if descendant.name in ("br", "p", "div", "li"):
                pieces.append(" ")
        elif not isinstance(descendant, _NOT_TEXT) and not _inside_dropped(descendant, node):
            pieces.append(str(descendant))
    return _WHITE.sub(" ", "".join(pieces)).strip()


def _inside_dropped(string: NavigableString, root: Tag) -> bool:
    for parent in string.parents:
        if parent is root:
            return False
        if parent.name in _DROP:
            return True
    return False


def _walk(root: Tag, walk: _Walk) -> None:
    # An explicit stack rather than recursion: deeply nested pages must not hit the recursion limit.
    stack: list[tuple[object, bool]] = [(root, False)]
    while stack:
        node, leaving = stack.pop()
        if leaving:
            walk.flush()
            if isinstance(node, Tag) and node.name == "li":
                walk.items.pop()
            continue
        if isinstance(node, NavigableString):
            if not isinstance(node, _NOT_TEXT):
                walk.text(str(node))
            continue
        if not isinstance(node, Tag):
            continue
        name = node.name
        if name in _DROP or (name in _PAGE_CHROME and node.find_parent(["article", "main"]) is None):
            continue
        if name in _HEADINGS:
            text = inline_text(node)
            if text:
                walk.heading(_HEADINGS[name], text)
            continue
        if name == "br":
            walk.inline.append("\n")
            continue
        if name == "table":
            walk.flush()
            _table(node, walk)
            continue
        if name == "pre":
            walk.flush()
            walk.block("\n".join(line.rstrip() for line in node.get_text().strip("\n").split("\n")))
            continue
        if name in _BLOCKS or name == "li":
            walk.flush()
            if name == "li":
                walk.items.append(_Item("  " * len(walk.items) + "- "))
            stack.append((node, True))
        stack.extend((child, False) for child in reversed(node.contents))


def _table(table: Tag, walk: _Walk) -> None:
    caption = table.find("caption")
    if caption is not None and caption.find_parent("table") is table:
        walk.block(inline_text(caption))
    rows = []
    for row in table.find_all("tr"):
        if row.find_parent("table") is not table:
            continue  # a row of a nested table: its text is in the enclosing cell
        cells = [inline_text(cell) for cell in row.find_all(["td", "th"], recursive=False)]
        if any(cells):
            rows.append(" | ".join(cells))
    walk.block("\n".join(rows))
