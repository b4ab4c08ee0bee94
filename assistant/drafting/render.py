"""Write the parts of a draft: quoted lines, the "Sources" list, "Pour aller plus loin",
the closing line and the abstention message.

Example:
    >>> from assistant.records import Chunk
    >>> chunk = Chunk("c1", "Texte.", "/corpus/faq.md", "Foire aux questions", section="DEEE",
    ...               metadata={"date": "2023-04-03"})
    >>> source_line(1, chunk)
    '[1] Foire aux questions — DEEE — 2023-04-03 — faq.md'
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Iterable, Sequence

from assistant.drafting import texts
from assistant.drafting.dates import date_label, document_date
from assistant.records import Chunk, Passage
from assistant.text.normalize import fold

MAX_FURTHER = 3

_HYPHEN_BREAK = re.compile(r"(\w)-[ \t]*\n\s*(\w)")
# Some PDFs mark a word's break with "¬" (or a soft hyphen) even where the line does not break.
_SOFT_HYPHEN = re.compile(r"(\w)[¬\u00ad]\s*(\w)")
_LEGAL = re.compile(
    r"\b(?:droit|legal\w*|juridique\w*|loi|decret|code|ccp|articles?|seuils?|delais?|standstill|"
    r"recours|contentieux|obligatoires?|obligations?|interdit\w*|autorise\w*|reglement\w*|"
    r"jurisprudence|clauses?|penalites?|dce|procedures?|mapa|appel d'offres|attribution|rejet|"
    r"marches? publics?|imposer|exiger)\b")


def display(sentence: str) -> str:
    """A verbatim sentence as shown in the draft: PDF hyphenation joined ("fabri-\\ncation",
    "appli¬cations"), spaces collapsed.

    The FORMAT.md normalisation undoes the first and the last; citation checks compare quotes
    with `display` applied to both sides, so a quote still matches its passage.

    Example:
        >>> display("La fabri-\\ncation représente\\njusqu’à 80 %.")
        'La fabrication représente jusqu’à 80 %.'
    """
    return " ".join(_SOFT_HYPHEN.sub(r"\1\2", _HYPHEN_BREAK.sub(r"\1\2", sentence)).split())


def title_of(chunk: Chunk) -> str:
    """How a source is named: a past answer as the desk's validated answer with its date (its
    title is the buyer's question, in the buyer's words), a document by its title, else its
    file name.

    Example:
        >>> title_of(Chunk("a1", "Question : c quoi ?", "/r.yaml", "c quoi ?", "answer", metadata={"date": "2026-11-28"}))
        'Réponse validée du guichet du 2026-11-28'
    """
    if chunk.kind == "answer":
        found = document_date(chunk)
        return f"{texts.PAST_ANSWER} du {found.isoformat()}" if found else texts.PAST_ANSWER
    return chunk.title.strip() or Path(chunk.source).name


def link_of(chunk: Chunk) -> str:
    """The document's web address when known (absolute URL), else its file name.

    The file name, not the path: the text may be sent to a buyer, who has no use for (and should
    not see) where the server keeps its files.

    Example:
        >>> link_of(Chunk("c1", "T.", "/c/faq.md", "FAQ", metadata={"url": "/publications/faq/"}))
        'faq.md'
    """
    url = str(chunk.metadata.get("url", ""))
    return url if url.startswith(("http://", "https://")) else Path(chunk.source).name


def source_line(marker: int, chunk: Chunk, duplicates: Sequence[Chunk] = ()) -> str:
    """"[n] Title — p. 12 / section path — date — link or path" (+ other copies of the text);
    "[n] Réponse validée du guichet du DATE" for a past answer."""
    if chunk.kind == "answer":
        return f"[{marker}] {title_of(chunk)}"
    line = f"[{marker}] {title_of(chunk)} — {chunk.location} — {date_label(chunk)} — {link_of(chunk)}"
    others = [title_of(c) for c in duplicates if title_of(c) != title_of(chunk)]
    if others:
        line += f" (même texte dans : {', '.join(dict.fromkeys(others))})"
    return line


def sources_block(cited: Sequence[tuple[int, Passage]]) -> str:
    """The "Sources :" heading and one line per cited passage, in marker order."""
    lines = [source_line(marker, p.chunk, p.duplicates) for marker, p in cited]
    return "\n".join([texts.SOURCES_HEADING, *lines])


def without_sources(text: str) -> str:
    """The text without its "Sources :" block (heading to the next blank line).

    The message a buyer receives lists the sources once, from the citations: the block of the
    draft would repeat them.

    Example:
        >>> without_sources("Oui [1].\\n\\nSources :\\n[1] Guide — p. 3\\n\\nÀ bientôt.")
        'Oui [1].\\n\\nÀ bientôt.'
    """
    lines = text.split("\n")
    out: list[str] = []
    skipping = False
    for line in lines:
        if not skipping and line.strip() == texts.SOURCES_HEADING:
            skipping = True
            while out and not out[-1].strip():
                out.pop()
            continue
        if skipping:
            if line.strip():
                continue
            skipping = False
        out.append(line)
    return "\n".join(out).strip("\n")


def further_line(resources: Iterable[Chunk]) -> str:
    """ "Pour aller plus loin : Title (link) ; ..." or "" when there is no resource.

    Example:
        >>> further_line([Chunk("r1", "Réseau", "/r.md", "Réseau régional RAN COPER", "resource",
        ...                     metadata={"url": "https://example.org"})])
        'Pour aller plus loin : Réseau régional RAN COPER (https://example.org).'
    """
    seen: dict[str, str] = {}
    for chunk in resources:
        seen.setdefault(title_of(chunk), link_of(chunk))
    items = [f"{title} ({link})" for title, link in list(seen.items())[:MAX_FURTHER]]
    return f"{texts.FURTHER_PREFIX} {' ; '.join(items)}." if items else ""


def is_legal(question: str) -> bool:
    """True when the question is about the law (the abstention then also suggests a legal expert).

    Example:
        >>> is_legal("délai de standstill mini ?"), is_legal("recette de la blanquette ?")
        (True, False)
    """
    return bool(_LEGAL.search(fold(question.lower()).replace("\u2019", "'")))


def abstention_text(question: str, resources: Iterable[Chunk] = ()) -> str:
    """The French message of a draft that abstains: no reliable source, and whom to ask.

    Whom to ask comes from the resources directory (networks, desks, facilitators) when the
    question found entries there; else the regional network in general.

    Example:
        >>> print(abstention_text("recette ?", [Chunk("r1", "Réseau.", "/r.yaml", "RAN COPER", "resource",
        ...                                          metadata={"url": "https://example.org"})]).split("\\n\\n")[1])
        Ces interlocuteurs peuvent vous orienter :
        - RAN COPER (https://example.org)
    """
    parts = [texts.ABSTENTION]
    contacts = _contacts(resources)
    if not contacts:
        parts[0] += " " + texts.ASK_NETWORK
    if is_legal(question):
        parts[0] += " " + texts.ASK_LEGAL
    if contacts:
        parts.append("\n".join([texts.ASK_RESOURCES, *contacts]))
    return "\n\n".join([*parts, texts.ABSTENTION_CLOSING])


def _contacts(resources: Iterable[Chunk]) -> list[str]:
    seen: dict[str, str] = {}
    for chunk in resources:
        seen.setdefault(title_of(chunk), link_of(chunk))
    return [f"- {title} ({link})" for title, link in list(seen.items())[:MAX_FURTHER]]
