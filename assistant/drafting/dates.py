"""Document dates of cited sources, and flags for sources old enough to be out of date.

Rules change (the shared guide of 2021 cites a decree that a 2024 decree replaced), so the
advisor is told when a draft leans on an old document. The date is `chunk.metadata["date"]`,
set by the loaders from front matter ("date", "à jour au"), PDF metadata or the file itself.

Example:
    >>> from assistant.records import Chunk
    >>> chunk = Chunk("c1", "Texte.", "/c/faq.md", "FAQ", metadata={"date": "2023-04-03"})
    >>> document_date(chunk)
    datetime.date(2023, 4, 3)
    >>> date_label(Chunk("c2", "Texte.", "/c/x.md", "X"))
    'date inconnue'
"""

from __future__ import annotations

import re
from datetime import date
from typing import Mapping

from assistant.records import Chunk, Flag

UNKNOWN = "date inconnue"
#: Sources older than this many days are flagged (the default of GUICHET_MAX_SOURCE_AGE_DAYS).
MAX_SOURCE_AGE_DAYS = 730

_MONTHS = {"janvier": 1, "fevrier": 2, "février": 2, "mars": 3, "avril": 4, "mai": 5, "juin": 6,
           "juillet": 7, "aout": 8, "août": 8, "septembre": 9, "octobre": 10, "novembre": 11,
           "decembre": 12, "décembre": 12}
_ISO = re.compile(r"(?<!\d)(\d{4})-(\d{2})-(\d{2})(?!\d)")
_PDF = re.compile(r"^D:(\d{4})(\d{2})?(\d{2})?")
_DMY = re.compile(r"(?<!\d)(\d{1,2})[/.](\d{1,2})[/.](\d{4})(?!\d)")
_FRENCH = re.compile(r"(?<!\d)(\d{1,2})(?:er)?\s+([a-zéû]+)\s+(\d{4})(?!\d)", re.IGNORECASE)
_YEAR = re.compile(r"^\s*(\d{4})\s*$")


def parse_date(value: str) -> date | None:
    """A date from the formats loaders produce, or None.

    Accepts ISO ("2023-04-03", "2023-04-03T10:00:00"), PDF ("D:20210428120709+02'00'"),
    French numeric ("03/04/2023"), French words ("1er janvier 2022") and a bare year ("2021",
    read as 1 January).

    Example:
        >>> parse_date("D:20210428120709+02'00'"), parse_date("à jour au 1er mars 2025")
        (datetime.date(2021, 4, 28), datetime.date(2025, 3, 1))
    """
    value = str(value).strip()
    candidates = []
    if match := _ISO.search(value):
        candidates.append((int(match[1]), int(match[2]), int(match[3])))
    if match := _PDF.match(value):
        candidates.append((int(match[1]), int(match[2] or 1), int(match[3] or 1)))
    if match := _DMY.search(value):
        candidates.append((int(match[3]), int(match[2]), int(match[1])))
    if (match := _FRENCH.search(value)) and match[2].lower() in _MONTHS:
        candidates.append((int(match[3]), _MONTHS[match[2].lower()], int(match[1])))
    if match := _YEAR.match(value):
        candidates.append((int(match[1]), 1, 1))
    for year, month, day in candidates:
        try:
            return date(year, month, day)
        except ValueError:
            continue
    return None


def document_date(chunk: Chunk) -> date | None:
    """The date of the chunk's document, from `metadata["date"]`; None when undated."""
    return parse_date(chunk.metadata.get("date", "")) if chunk.metadata.get("date") else None


def date_label(chunk: Chunk) -> str:
    """ISO date of the chunk's document for the sources list, or "date inconnue"."""
    found = document_date(chunk)
    return found.isoformat() if found else UNKNOWN


def age_flags(cited: Mapping[int, Chunk], max_age_days: int, today: date | None = None) -> tuple[Flag, ...]:
    """One flag per cited document older than `max_age_days` (undated ones are not flagged).

    Args:
        cited: Marker number -> cited chunk.
        max_age_days: Age above which a source must be checked (`Settings.max_source_age_days`).
        today: Reference day (default: today).

    Returns:
        Flags in marker order; a flag's sentence names the document and its markers
        ("[1], [3] Guide").

    Example:
        >>> old = Chunk("c1", "Texte.", "/g.pdf", "Guide", metadata={"date": "2021-04-28"})
        >>> flag = age_flags({1: old}, 730, today=date(2026, 1, 1))[0]
        >>> flag.sentence, flag.reason
        ('[1] Guide', 'source dated 2021-04-28, older than 730 days: check it is still current')
    """
    if max_age_days <= 0:
        raise ValueError(f"max_age_days must be > 0, got {max_age_days}")
    today = today or date.today()
    documents: dict[str, list[int]] = {}
    first: dict[str, Chunk] = {}
    for marker, chunk in sorted(cited.items()):
        documents.setdefault(chunk.source, []).append(marker)
        first.setdefault(chunk.source, chunk)
    flags = []
    for source, markers in documents.items():
        chunk = first[source]
        found = document_date(chunk)
        if found is not None and (today - found).days > max_age_days:
            named = ", ".join(f"[{m}]" for m in markers)
            flags.append(Flag(sentence=f"{named} {chunk.title}",
                              reason=f"source dated {found.isoformat()}, older than {max_age_days} days: "
                                     "check it is still current"))
    return tuple(flags)
