"""Peers proposed with a draft: stored with it, shown back, kept by backups, added by a migration."""

from __future__ import annotations

import sqlite3
from dataclasses import replace

from assistant.config import Settings
from assistant.records import Chunk, Passage
from assistant.review.db import make_engine
from assistant.review.migrations import LATEST, MIGRATIONS, migrate
from assistant.compose import review_service
from review_fixtures import draft_from_fixed_passage, open_service

#: The schema step that gives drafts their peers.
PEERS_MIGRATION = next(m.number for m in MIGRATIONS if m.apply.__name__ == "_draft_peers")
PEER = Passage(Chunk("peer-1", "Ville de Champigny-sur-Marne (commune) — Portables.\nAchat de 50 portables.",
                     "/corpus/peers/retours-experience.yaml", "Ville de Champigny-sur-Marne", "peer",
                     metadata={"organisation": "Ville de Champigny-sur-Marne", "region": "Île-de-France",
                               "reference": "https://example.org/champigny (page non datée)",
                               "contact": "DSI de la ville"}), 2.6)


def draft_with_a_peer(question: str, history: list[str], organisation: str | None = None, **options):
    """The fixed cited draft, with one peer proposed when the buyer's organisation is known (test
    input, not a drafting algorithm)."""
    return replace(draft_from_fixed_passage(question, history), peers=(PEER,) if organisation else ())


def test_the_peers_of_a_draft_are_stored_and_shown(home, tmp_path):
    service = open_service(drafter=draft_with_a_peer)
    sub = service.submit("Qui a acheté des portables reconditionnés ?", organisation="Mairie de Sète (Hérault)")
    (peer,) = service.show(sub.id).draft.peers
    assert (peer.chunk_id, peer.organisation, peer.score) == ("peer-1", "Ville de Champigny-sur-Marne", 2.6)
    assert peer.metadata["reference"].startswith("https://example.org/champigny") and "50 portables" in peer.text
    plain = service.submit("Sans pair ?")
    assert service.show(plain.id).draft.peers == ()
    backup = tmp_path / "backup.jsonl"
    service.export(backup)
    service.close()
    restored = review_service(Settings(home=tmp_path / "other"), drafter=draft_with_a_peer)
    restored.import_backup(backup)
    assert restored.show(sub.id).draft.peers == (peer,), "a backup keeps the peers of drafts"
    restored.close()


def test_a_draft_job_gets_the_buyers_organisation(home):
    seen = []

    def drafter(question, history, **options):
        seen.append((question, options.get("organisation")))
        return draft_from_fixed_passage(question, history)

    service = open_service(drafter=drafter)
    first = service.submit("Des PC reconditionnés ?", organisation="Mairie de Sète (Hérault)", draft_now=False)
    service.submit("Et des écrans ?", thread_token=first.thread, draft_now=False)
    service.submit("Sans organisation ?", draft_now=False)
    assert [o.stored for o in service.draft_pending(limit=3)] == [True, True, True]
    assert sorted(seen) == [("Des PC reconditionnés ?", "Mairie de Sète (Hérault)"),
                            ("Et des écrans ?", "Mairie de Sète (Hérault)"), ("Sans organisation ?", None)], \
        "the worker's drafter gets the thread's organisation, and no keyword when there is none"
    service.close()


def test_the_migration_adds_the_peers_of_drafts(home):
    service = open_service()
    old = service.submit("Question rédigée avant les pairs ?").id
    service.close()
    with sqlite3.connect(home / "review.sqlite") as conn:  # back to the schema before the peers of drafts
        conn.executescript("ALTER TABLE drafts DROP COLUMN peers; ALTER TABLE questions DROP COLUMN sealed_token; "
                           f"DELETE FROM schema_version WHERE version >= {PEERS_MIGRATION};")
    assert migrate(make_engine(f"sqlite:///{home / 'review.sqlite'}")) == LATEST
    reopened = open_service(drafter=draft_with_a_peer)
    assert reopened.show(old).draft.peers == (), "a draft from before has no peers"
    new = reopened.submit("Et maintenant ?", organisation="Mairie de Sète (Hérault)").id
    assert reopened.show(new).draft.peers[0].chunk_id == "peer-1"
