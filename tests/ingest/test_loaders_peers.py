"""Peer experiences loader: YAML and CSV records become "peer" documents; bad records fail in one line."""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.errors import IngestError
from assistant.ingest.loading import load_document

SAMPLE = Path(__file__).resolve().parents[2] / "corpus" / "peers" / "retours-experience.yaml"

PEERS_YAML = """\
notice: Retours d'expérience du réseau.
peers:
  - id: sete-pc-2025
    organisation: Ville de Sète
    type: commune
    region: Occitanie
    departement: herault
    subject: PC reconditionnés
    tags: [reconditionné, pc]
    what: Achat de 40 PC reconditionnés en 2025.
    year: 2025
    source: https://example.org/sete (page du 3 mars 2025)
    reliability: recoupé
    contact: DSI de la ville ; réseau régional Rés'Occ.
    date: 2026-12-01
  - organisation: Pôle national
    type: établissement public de l'État
    region: national
    subject: Fin de vie
    what: Dons.
    source: Document X, p. 4
    contact: Le réseau national.
"""


def test_yaml_peers_give_one_peer_document_each(tmp_path, limits, assert_offsets):
    path = tmp_path / "pairs.yaml"
    path.write_text(PEERS_YAML, encoding="utf-8")
    first, second = load_document(path, limits)
    assert first.kind == "peer" and first.title == "Ville de Sète"
    assert first.sections[0].text == ("Ville de Sète (commune, Hérault, Occitanie, 2025) — PC reconditionnés.\n"
                                      "Achat de 40 PC reconditionnés en 2025."), "what is searched and quoted"
    meta = dict(first.metadata)
    assert meta["departement"] == "Hérault", "the département is given its official name"
    assert meta["org_kind"] == "commune" and meta["region"] == "Occitanie" and meta["year"] == "2025"
    assert meta["url"] == "https://example.org/sete" and meta["reference"].endswith("(page du 3 mars 2025)")
    assert meta["tags"] == "reconditionné, pc" and meta["date"] == "2026-12-01" and meta["peer_id"] == "sete-pc-2025"
    assert second.metadata["region"] == "national" and second.metadata["org_kind"] == "État"
    assert "url" not in second.metadata, "a document and page is a source too, without an address"
    for doc in (first, second):
        assert_offsets(doc)


def test_csv_peers_with_semicolons(tmp_path, limits):
    path = tmp_path / "pairs.csv"
    path.write_text("organisation;type;region;subject;what;source;contact;tags\n"
                    "Commune d'Ici;commune;Bretagne;Cantine bio;50 % de bio.;https://example.org/ici;"
                    "Le réseau régional;bio;cantine\n", encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.kind == "peer" and doc.metadata["region"] == "Bretagne" and doc.metadata["tags"] == "bio"


def _changed(old: str, new: str) -> str:
    assert old in PEERS_YAML, old
    return PEERS_YAML.replace(old, new)


@pytest.mark.parametrize("name, content, words", [
    ("pairs.yaml", _changed("contact: DSI de la ville ; réseau régional Rés'Occ.", "contact: jean.dupont@sete.fr"),
     ("record 1", "e-mail")),
    ("pairs.yaml", _changed("region: Occitanie", "region: Occitannie"), ("record 1", "unknown region 'Occitannie'")),
    ("pairs.yaml", _changed("departement: herault", "departement: Atlantide"),
     ("record 1", "unknown département 'Atlantide'")),
    ("pairs.yaml", _changed("departement: herault", "departement: Gironde"),
     ("record 1", "Gironde' is in Nouvelle-Aquitaine, not in Occitanie")),
    ("pairs.yaml", _changed("    what: Achat de 40 PC reconditionnés en 2025.\n", ""), ("record 1", "missing 'what'")),
    ("pairs.yaml", _changed("  - organisation: Pôle national", "  - id: sete-pc-2025\n    organisation: Pôle national"),
     ("record 2", "duplicate peer 'sete-pc-2025'")),
    ("pairs.csv", "organisation,type,region\nX,commune,Bretagne\n", ("no 'what' column", "expected organisation, what")),
])
def test_bad_peer_records_fail_in_one_line(tmp_path, limits, assert_one_line, name, content, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, *words)


def test_the_sample_peers_file_is_sourced_and_dated(limits):
    docs = load_document(SAMPLE, limits)
    assert len(docs) >= 25, f"the sample file holds the public experience reports: {len(docs)}"
    for doc in docs:
        meta = doc.metadata
        assert meta["reference"] and meta["date"] == "2026-12-01", f"{doc.title}: source and 'à jour au' date"
        assert "@" not in meta["contact"], f"{doc.title}: never an e-mail address"
        assert meta["tags"], f"{doc.title}: tags are what matching reads"
        assert len(doc.sections) == 1 and len(doc.sections[0].text) < 900, f"{doc.title}: one chunk per peer"
    assert "Montpellier Méditerranée Métropole" in {d.title for d in docs}
