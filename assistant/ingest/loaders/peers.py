"""Peer experiences: public buyers who already made a purchase, one "peer" document per record.

A file of peers is YAML or JSON with a top-level ``peers`` list (and an optional ``notice``),
or a CSV whose header has ``organisation`` and ``what`` columns (``tags`` separated by "," or
";"). A record has:

- ``organisation``, ``type`` (commune, intercommunalité, département, région, hôpital, service de
  l'État...), ``region`` (an official région, an abbreviation such as PACA, or "national"),
  ``subject`` (what was bought, in a few words), ``what`` (what they did: purchase, clause,
  label, quantities), ``source`` (a public URL, or a document and page) and ``contact`` (a role
  or the network that knows them, never an e-mail address): required;
- ``id``, ``departement`` (checked against the région), ``tags``, ``year``, ``reliability``
  ("recoupé", "source unique, à vérifier"...) and ``date`` (when the record was checked, shown
  as "à jour au"): optional.

Example:
    >>> docs = load_answers(Path("corpus/peers/retours-experience.yaml"))   # doctest: +SKIP
    >>> docs[0].kind, docs[0].metadata["region"]                            # doctest: +SKIP
    ('peer', 'Occitanie')
"""

from __future__ import annotations

import re
from typing import Any, Iterable

from assistant.errors import IngestError
# The record helpers of past answers, which peer records share.
from assistant.ingest.loaders.answers import (
    _TAG_SPLIT,
    _date,
    _document,
    _fields,
    _joined,
    _raise_problems,
    _text,
)
from assistant.records import Document
from assistant.text.places import REGIONS, canonical_departement, canonical_region, kind_of, region_of

PEER_FIELDS = ("organisation", "type", "region", "subject", "what", "source", "contact")
#: A peer of no particular région (a national body).
NATIONAL = "national"
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"https?://[^\s;,()]+")


def peer_documents(source: str, records: Iterable[tuple[str, Any]]) -> list[Document]:
    """One "peer" document per record, in file order.

    Raises:
        IngestError: a missing required field, an e-mail address in ``contact``, an unknown
            région or département, a département outside the région, a duplicate id.
    """
    documents: list[Document] = []
    problems: list[tuple[str, str]] = []
    seen: dict[str, str] = {}
    for where, record in records:
        try:
            fields, metadata = _peer(where, record, seen)
        except IngestError as exc:
            problems.append((where, str(exc)))
            continue
        place = ", ".join(p for p in (fields["type"], metadata["departement"],
                                      metadata["region"] if metadata["region"] != NATIONAL else "",
                                      metadata["year"]) if p)
        # What is searched and quoted; the source and the contact are shown from the metadata.
        text = f"{fields['organisation']} ({place}) — {fields['subject']}.\n{fields['what']}"
        documents.append(_document(source, fields["organisation"], "peer", text, metadata))
    _raise_problems(problems)
    return documents


def _peer(where: str, record: Any, seen: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """A record's required fields and the peer's metadata (its id noted in `seen`)."""
    fields = _fields(where, record, PEER_FIELDS)
    if _EMAIL.search(fields["contact"]):
        raise IngestError(f"{where}: 'contact' holds an e-mail address: give a role or the network "
                          "that knows them, never a personal e-mail")
    region = _region(where, fields["region"])
    departement = _departement(where, _text(where, record, "departement"), region)
    peer_id = _text(where, record, "id") or f"{fields['organisation']} — {fields['subject']}"
    if peer_id in seen:
        raise IngestError(f"{where}: duplicate peer '{peer_id}' (also {seen[peer_id]})")
    seen[peer_id] = where
    url = _URL.search(fields["source"])
    return fields, {
        "peer_id": peer_id,
        "organisation": fields["organisation"],
        "org_type": fields["type"],
        "org_kind": kind_of(fields["type"]) or fields["type"],
        "region": region,
        "departement": departement,
        "subject": fields["subject"],
        "tags": _joined(where, record, "tags", ", ", _TAG_SPLIT),
        "year": _text(where, record, "year", numbers=True),  # a year may be written as a number
        "reference": fields["source"],
        "url": url.group().rstrip(".") if url else "",
        "contact": fields["contact"],
        "reliability": _text(where, record, "reliability"),
        "date": _date(where, record),
    }


def _region(where: str, value: str) -> str:
    if value.strip().lower() == NATIONAL:
        return NATIONAL
    region = canonical_region(value)
    if region is None:
        raise IngestError(f"{where}: unknown region '{value}': use one of {', '.join(REGIONS)} or '{NATIONAL}'")
    return region


def _departement(where: str, value: str, region: str) -> str:
    if not value:
        return ""
    departement = canonical_departement(value)
    if departement is None:
        raise IngestError(f"{where}: unknown département '{value}'")
    if region != NATIONAL and region_of(departement) != region:
        raise IngestError(f"{where}: département '{departement}' is in {region_of(departement)}, not in {region}")
    return departement
