"""The "Des acheteurs qui l'ont fait" block of a draft: one line per peer, with its public source.

The block sits before the draft's closing line; the advisor keeps, removes or adds peers, which
rewrites the block in the text being edited (`replace_block`). A peer line says who did what,
where and when, the public source and its "à jour au" date, and how to reach them (a role or
a network, never a person).

Example:
    >>> print(peer_line({
    ...     "organisation": "Commune de Maurepas", "org_type": "commune", "region": "Île-de-France",
    ...     "year": "2015-2024", "subject": "Allonger la durée de vie du parc informatique",
    ...     "reference": "https://example.org/maurepas (page non datée)", "date": "2026-12-01",
    ...     "contact": "DSI de la commune ; réseau régional : Maximilien."}))
    - Commune de Maurepas (commune, Île-de-France, 2015-2024) : allonger la durée de vie du parc informatique. Source : https://example.org/maurepas (page non datée), à jour au 01/12/2026. Contact : DSI de la commune ; réseau régional : Maximilien.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import replace

from assistant.drafting import texts
from assistant.drafting.dates import parse_date
from assistant.records import Draft, Passage

HEADING = "Des acheteurs qui l'ont fait :"
INTRO = "(retours d'expérience publics, à vérifier auprès d'eux avant de vous en inspirer)"


def _french_date(value: str) -> str:
    day = parse_date(value) if value else None
    return day.strftime("%d/%m/%Y") if day else value


def peer_line(meta: Mapping[str, str]) -> str:
    """One peer, from its record's metadata (see `assistant.ingest.loaders.peers`), as a line of the block."""
    region = meta.get("region", "")
    where = ", ".join(p for p in (meta.get("org_type", ""), region if region != "national" else "",
                                  meta.get("year", "")) if p)
    subject = meta.get("subject", "").strip()
    if len(subject) > 1 and subject[1].islower():  # "Adoption d'un SPASER", not "SPASER ..."
        subject = subject[0].lower() + subject[1:]
    organisation = meta.get("organisation", "")
    line = f"- {organisation}" + (f" ({where})" if where else "") + f" : {subject.rstrip('.')}."
    source = meta.get("reference", "")
    if source:
        checked = _french_date(meta.get("date", ""))
        line += f" Source : {source}" + (f", à jour au {checked}" if checked else "")
        reliability = meta.get("reliability", "")
        line += f" ({reliability})." if reliability and "vérifier" in reliability else "."
    if meta.get("contact"):
        line += f" Contact : {meta['contact'].rstrip('.')}."
    return line


def block(lines: Sequence[str]) -> str:
    """The whole block from its peer lines ("" when there is none)."""
    return "\n".join([f"{HEADING} {INTRO}", *lines]) if lines else ""


def _paragraphs(text: str) -> list[str]:
    return text.split("\n\n") if text else []


def replace_block(text: str, lines: Sequence[str]) -> str:
    """The text with its peers block replaced by one of these peer lines (removed when there is none).

    A text without a block gets it before its closing line when it ends with one, else at the
    end. The rest of the text is left as it is.

    Example:
        >>> replace_block("Réponse.\\n\\nDes acheteurs qui l'ont fait : …\\n- X.\\n\\nFin.", [])
        'Réponse.\\n\\nFin.'
    """
    new = block(lines)
    paragraphs = _paragraphs(text.rstrip("\n"))
    at = next((i for i, p in enumerate(paragraphs) if p.startswith(HEADING)), None)
    if at is not None:
        paragraphs[at:at + 1] = [new] if new else []
    elif new:
        closing = len(paragraphs) - 1 if paragraphs and paragraphs[-1].strip() in (
            texts.CLOSING, texts.ABSTENTION_CLOSING) else len(paragraphs)
        paragraphs.insert(closing, new)
    return "\n\n".join(paragraphs)


def with_peers(draft: Draft, peers: Sequence[Passage]) -> Draft:
    """The draft with its peers recorded and their block in its text."""
    if not peers:
        return draft
    return replace(draft, text=replace_block(draft.text, [peer_line(p.chunk.metadata) for p in peers]),
                   peers=tuple(peers))
