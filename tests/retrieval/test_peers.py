"""Peers who did it: matched by subject, ranked by closeness to the buyer, through the real retriever.

The index is built by real ingestion, with the real bundled model, from the bundled corpus's
peers file, one file of past answers and one guide.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from assistant.config import Settings
from assistant.records import Chunk
from assistant.retrieval.filters import Filters
from assistant.retrieval.peers import MAX_PEERS, MIN_TOPIC, boost, match_peers, topic_score
from assistant.text.places import Whereabouts
from assistant.text.analysis import FrenchAnalyzer

ROOT = Path(__file__).resolve().parents[2]
PEERS_FILE = ROOT / "corpus" / "peers" / "retours-experience.yaml"
FILES = (PEERS_FILE, ROOT / "corpus" / "answers" / "informatique-numerique.yaml",
         ROOT / "corpus" / "guides" / "agec-article-58-reemploi.md")
HERAULT_PCS = "On est une commune de l'Hérault : on voudrait acheter des PC reconditionnés, quelqu'un l'a déjà fait ?"
NO_PEER = ("Quels sont les seuils de procédure en 2026 pour un marché de travaux ?",
           "Peut-on noter l'indice de réparabilité dans l'analyse des offres ?",
           "quel délai de standstill après le rejet des offres ?")


@pytest.fixture(scope="module")
def assistant(tmp_path_factory):
    from assistant.compose import open_assistant

    home = tmp_path_factory.mktemp("peers-index")
    assistant = open_assistant(Settings(home=home))
    report = assistant.ingest(list(FILES))
    assert report.files == len(FILES) and not report.failed, f"ingest failed: {report}"
    yield assistant
    assistant.index.close()


def _organisations(peers) -> list[str]:
    return [p.chunk.metadata["organisation"] for p in peers]


def test_refurbished_pcs_from_a_commune_of_herault_get_sample_peers(assistant):
    peers = assistant.peers(HERAULT_PCS)
    assert 1 <= len(peers) <= MAX_PEERS, f"one to three peers: {_organisations(peers)}"
    assert all(p.chunk.kind == "peer" and p.chunk.source == str(PEERS_FILE) for p in peers), \
        "peers come from the sample peers file, never from elsewhere"
    assert all(p.chunk.metadata["reference"] for p in peers), "each with its public source"
    assert peers[0].chunk.metadata["region"] == "Occitanie", \
        f"a peer of the buyer's région comes first: {_organisations(peers)}"
    assert any("reconditionn" in p.chunk.metadata["subject"].lower() for p in peers), _organisations(peers)


def test_the_buyers_region_ranks_peers_up(assistant):
    question = "on voudrait acheter des PC reconditionnés, quelqu'un l'a déjà fait ?"
    anywhere = assistant.peers(question)
    from_paris = assistant.peers(question, organisation="Mairie de Champigny-sur-Marne (Val-de-Marne)")
    from_herault = assistant.peers(question, organisation="Mairie de Sète (Hérault)")
    matching = {p.chunk.id for p in match_peers(assistant.retriever.search, assistant.retriever.analyzer, question,
                                                 k=100, mode="lexical")}
    assert len(anywhere) == len(from_paris) == len(from_herault) == MAX_PEERS < len(matching), \
        "more peers match than are shown: the place chooses among them"
    assert {p.chunk.id for p in from_paris + from_herault} <= matching, "the place ranks, never adds a peer"
    assert from_paris[0].chunk.metadata["region"] == "Île-de-France", _organisations(from_paris)
    assert from_herault[0].chunk.metadata["region"] == "Occitanie", _organisations(from_herault)


@pytest.mark.parametrize("question", NO_PEER)
def test_a_subject_no_peer_covers_gets_none(assistant, question):
    assert assistant.peers(question) == [], f"{question!r}: no sample peer did this"


def test_peers_are_never_quoted_as_evidence(assistant):
    found = assistant.search("acheter des PC reconditionnés pour une commune", k=5)
    assert len(found) == 5 and all(p.chunk.kind != "peer" for p in found), \
        f"the main search leaves peers out: {[p.chunk.kind for p in found]}"
    only = assistant.search("PC reconditionnés", k=3, filters=Filters(kinds=("peer",)))
    assert only and all(p.chunk.kind == "peer" for p in only), "asked for, peers are searchable"


def test_the_draft_carries_the_peers_block_with_sources(assistant):
    draft = assistant.ask(HERAULT_PCS)
    assert draft.peers, "the draft records its peers"
    assert "Des acheteurs qui l'ont fait" in draft.text
    for peer in draft.peers:
        meta = peer.chunk.metadata
        assert meta["organisation"] in draft.text and meta["reference"] in draft.text, \
            f"{meta['organisation']}: named with its source in the draft"
        assert "à jour au 01/12/2026" in draft.text
    none = assistant.ask(NO_PEER[0])
    assert none.peers == () and "Des acheteurs qui l'ont fait" not in none.text


def test_topic_score_reads_whole_tags_and_expansions():
    analyzer = FrenchAnalyzer()
    peer = Chunk("p", "…", "/p.yaml", "X", "peer", metadata={"tags": "reconditionné, ordinateurs, marché réservé"})
    terms = dict(analyzer.query_terms("des PC reconditionnés dans un marché"))
    assert topic_score(terms, peer, analyzer) == pytest.approx(1.3), "reconditionné, and PC → ordinateur (0.3)"
    assert topic_score(terms, peer, analyzer) < MIN_TOPIC, "a generic 'marché' does not make the phrase tag count"
    assert topic_score({}, peer, analyzer) == 0.0
    assert topic_score(terms, Chunk("q", "…", "/p.yaml", "Y", "peer"), analyzer) == 0.0, "a peer without tags"


@pytest.mark.parametrize("buyer, expected", [
    (Whereabouts(), 1.0),
    (Whereabouts(region="Occitanie"), 1.5),
    (Whereabouts("commune", "Aude", "Occitanie"), 1.75),
    (Whereabouts("commune", "Hérault", "Occitanie"), 2.0),
    (Whereabouts("commune", "Val-de-Marne", "Île-de-France"), 1.25),
])
def test_boost(buyer, expected):
    peer = Chunk("p", "…", "/p.yaml", "X", "peer",
                 metadata={"region": "Occitanie", "departement": "Hérault", "org_kind": "commune"})
    assert boost(peer, buyer) == expected
