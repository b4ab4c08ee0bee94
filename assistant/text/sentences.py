"""French sentence splitting that returns verbatim spans of the original text.

Drafts quote sentences word for word, so a sentence must be an exact substring of its chunk:
the splitter only finds boundaries, it never rewrites. It knows French abbreviations ("art.",
"p.", "M.", "n°", "janv."), initials ("art. L. 2111-1"), decimals ("3,8", "3.8"), list items
("- ", "• ", "1) "), all-capital headings of PDF pages and citation markers ("... 80 %. [1]"
stays one sentence).

Example:
    >>> split_sentences("Voir l'art. L. 2111-1, p. 12. Le taux est de 3,8 %. [2] Puis :\\n- un point")
    ["Voir l'art. L. 2111-1, p. 12.", 'Le taux est de 3,8 %. [2]', 'Puis :', 'un point']
"""

from __future__ import annotations

import re

# Lower-cased words that end with a period without ending the sentence.
ABBREVIATIONS = frozenset("""
art arts al ann av bd c chap cf coll dir dr éd ed env ex fig hab ibid id max min mlle mm mme
mmes me n no nos op p pp pr réf ref spéc st ste suiv sq sqq tab vol
janv févr fév fevr avr juil sept oct nov déc dec
""".split())

_END = re.compile(r"[.!?…]+(?:[ \u00a0\u202f]?[»\"”’')\]])*(?=\s|$)")
_MARKERS = re.compile(r"(?:\s*\[\d+(?:\s*[,;]\s*\d+)*\])+")
_BLOCK_BREAK = re.compile(r"\n[ \t\u00a0]*\n\s*")
_BULLET = re.compile(r"[ \t]*(?:[-*•▪◦→–]|\d{1,2}[.)])[ \t]+")
_WORD_BEFORE = re.compile(r"([\wÀ-ÿ°.-]+)$")
_CONTINUES = frozenset(",;:.)]»”’-–")
_OPEN_ENDS = frozenset(",(-–—«“/")
_LAST_WORD = re.compile(r"(?:^|[\s'’])([^\W\d_]+)$")
# Words after which a French sentence cannot stop: articles, prepositions, conjunctions.
_CANNOT_END = frozenset("""
le la les l un une des du de d au aux à a en dans par pour sur sous avec sans entre vers chez
et ou mais donc or ni car que qu qui dont où lorsque si comme son sa ses leur leurs ce cet cette ces
notre nos votre vos mon ma mes ne très
""".split())
_STARTS_SENTENCE = re.compile(r"[\"«“(\[\-–•→*\d]|[^\W\d_]")


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) offsets of each sentence of `text`, stripped of spaces and list bullets.

    Args:
        text: Any French text (a chunk, a draft).

    Returns:
        Offsets in reading order; `text[start:end]` is the verbatim sentence.

    Example:
        >>> text = "M. Martin signe. Il part."
        >>> [text[a:b] for a, b in sentence_spans(text)]
        ['M. Martin signe.', 'Il part.']
    """
    spans: list[tuple[int, int]] = []
    for start, end in _blocks(text):
        spans.extend(_split_block(text, start, end))
    return [span for span in (_strip(text, a, b) for a, b in spans) if span[1] > span[0]]


def split_sentences(text: str) -> list[str]:
    """Sentences of `text`, each an exact substring of it (see `sentence_spans`).

    Example:
        >>> split_sentences("Entre 5 et 10 ans, c’est le don. Au-delà, un DEEE.")
        ['Entre 5 et 10 ans, c’est le don.', 'Au-delà, un DEEE.']
    """
    return [text[a:b] for a, b in sentence_spans(text)]


def cut_reason(sentence: str) -> str | None:
    """Why a quoted sentence is not whole, or None when it reads on its own.

    A draft's bullet must read on its own. It is *cut* when, once its citation markers are
    removed, it:
    - holds a table's cell separators (two "|" or more, or a tab): a row of a table;
    - ends with ":" (it introduces a list that is not quoted);
    - has no lower-case letter (a heading);
    - starts with a lower-case letter or with a punctuation mark that continues a sentence
      (",", ";", ")", "»"...): its beginning was cut;
    - ends in the middle of a phrase: with a comma, an opening bracket, a hyphen or a dash, or
      with a word that cannot end a French sentence (an article, a preposition, a conjunction:
      "de", "la", "pour", "et"...).
    A list item without a final full stop ("Définir la durée de réservation (15 jours)") is
    whole; an item ending with ";" is whole too (French list punctuation).

    Example:
        >>> cut_reason("Le don est plafonné à 300 € par bien. [1]") is None
        True
        >>> [cut_reason(s) for s in ("Les étapes sont :", "| 2024 | 20 % |", "et le don est libre.",
        ...                          "Le titulaire transmet chaque année le bilan de")]
        ['introduces a list', 'table row', 'starts mid-sentence', 'ends mid-sentence']
    """
    text = _MARKERS.sub("", sentence).strip()
    if not text:
        return "empty"
    if text.count("|") >= 2 or "\t" in text:
        return "table row"
    if text.endswith(":"):
        return "introduces a list"
    if not any(c.islower() for c in text):
        return "heading"
    first = text[0]
    if first.islower() or first in _CONTINUES:
        return "starts mid-sentence"
    last = _LAST_WORD.search(text)
    if text[-1] in _OPEN_ENDS or (last and last.group(1).lower() in _CANNOT_END):
        return "ends mid-sentence"
    return None


def _blocks(text: str) -> list[tuple[int, int]]:
    """Paragraphs, list items and heading lines: a sentence never runs across them."""
    cuts = {0, len(text)}
    for match in _BLOCK_BREAK.finditer(text):
        cuts.update((match.start(), match.end()))
    offset = 0
    lines = text.split("\n")
    for i, line in enumerate(lines):
        if i and (_BULLET.match(line) or _is_heading(lines[i - 1]) or _is_heading(line)):
            cuts.add(offset)
        offset += len(line) + 1
    bounds = sorted(c for c in cuts if 0 <= c <= len(text))
    return [(a, b) for a, b in zip(bounds, bounds[1:]) if text[a:b].strip()]


def _is_heading(line: str) -> bool:
    """An all-capital line (PDF section titles such as "→ RÉDUIRE L’IMPACT")."""
    letters = [c for c in line if c.isalpha()]
    return len(letters) >= 4 and not any(c.islower() for c in letters)


def _split_block(text: str, start: int, end: int) -> list[tuple[int, int]]:
    spans = []
    bullet = _BULLET.match(text, start, end)
    begin = bullet.end() if bullet else start
    for match in _END.finditer(text, begin, end):
        stop = match.end()
        if not _is_boundary(text, match.start(), stop, end):
            continue
        markers = _MARKERS.match(text, stop, end)
        if markers:
            stop = markers.end()
        spans.append((begin, stop))
        begin = stop
    if begin < end:
        spans.append((begin, end))
    return spans


def _is_boundary(text: str, punct_start: int, punct_end: int, block_end: int) -> bool:
    rest = text[punct_end:block_end].lstrip()
    if not rest:
        return True
    if rest.startswith("[") and _MARKERS.match(rest):
        return True
    if not _STARTS_SENTENCE.match(rest) or rest[0].islower():
        return False
    if text[punct_start] == "." and text[punct_start:punct_end].rstrip("»\"”’')] \u00a0\u202f") == ".":
        word = _WORD_BEFORE.search(text, max(0, punct_start - 40), punct_start)
        last = word.group(1).split(".")[-1].lower() if word else ""
        if last in ABBREVIATIONS or (len(last) == 1 and last.isalpha()):
            return False
    return True


def _strip(text: str, start: int, end: int) -> tuple[int, int]:
    while start < end and text[start].isspace():
        start += 1
    bullet = _BULLET.match(text, start, end)
    if bullet and bullet.end() < end:
        start = bullet.end()
    while end > start and text[end - 1].isspace():
        end -= 1
    return start, end
