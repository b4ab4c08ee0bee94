"""Where the desk struggles, end to end: a review database seeded through the real desk (real
index, model and drafter) with validated, rewritten, abstained and rated questions; then the CSV
export of the running app, `guichet topics --json` and the dashboard in headless Chromium."""

from __future__ import annotations

import csv
import io
import json
import os
import re
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from ui_fixtures import FAST_HASHER, PASSWORD, ROOT, copy_index, drafted, settings_for, start_server, stop_server
from web_client import login

REPAIR = ("Depuis quand les collectivités doivent-elles tenir compte de l'indice de réparabilité ?",
          "L'indice de réparabilité c'est une note sur combien ?",
          "Un EPIC est-il obligé de prendre en compte l'indice de réparabilité ?",
          "Quels critères composent l'indice de réparabilité ?")
LABELS = ("Puis-je exiger un label précis dans mon marché ?",
          "Un label équivalent doit-il être accepté ?",
          "Un candidat n'a pas pu obtenir le label à temps, peut-il prouver autrement ?")
CANTEEN = ("EGalim : quel pourcentage de bio à la cantine ?",
           "Le menu végétarien hebdomadaire est-il obligatoire en restauration scolaire ?",
           "Restauration collective : quelle part de viande durable dans les repas ?")
REWRITE = "Réponse entièrement réécrite par le conseiller, sans rien garder du brouillon proposé."


@pytest.fixture(scope="module")
def seeded(index_template, tmp_path_factory):
    """A data directory whose review database holds the seeded questions, and what was seeded."""
    from assistant.compose import open_desk
    from assistant.review.limits import Limits

    home = copy_index(index_template, tmp_path_factory.mktemp("topics-home"))
    desk = open_desk(settings_for(home), limits=Limits(per_session=0, per_address=0), on_reusable=None,
                     password_hasher=FAST_HASHER)
    desk.review.add_advisor("alice", PASSWORD)
    desk.drafts.poll_s = 0.2
    desk.start_drafting()
    for i, question in enumerate(REPAIR):  # rewritten by the advisor, rated low
        ack = desk.ask(question)
        drafted(desk, ack.question_id)
        detail = desk.open(ack.question_id, "alice").detail
        desk.validate(ack.question_id, "alice", REWRITE, False, detail.version)
        desk.rate(ack.thread, ack.question_id, 1 + i % 2)
    for question in LABELS:  # sent as drafted (or written when the draft abstained), rated well
        ack = desk.ask(question)
        drafted(desk, ack.question_id)
        detail = desk.open(ack.question_id, "alice").detail
        text = detail.draft.text if not detail.draft.abstained else "Oui, sous conditions (R2111-13 du CCP)."
        desk.validate(ack.question_id, "alice", text, False, detail.version)
        desk.rate(ack.thread, ack.question_id, 5)
    canteen = [drafted(desk, desk.ask(question).question_id).id for question in CANTEEN]  # left in the queue
    drafts = {q.id: desk.show(q.id).draft for q in desk.review.list_questions()}
    desk.close()
    return home, drafts, canteen


@pytest.fixture(scope="module")
def app(seeded):
    home, _, _ = seeded
    server = start_server(home, "--no-ingest")
    yield server
    stop_server(server)


def _cli_topics(home: Path, *options: str) -> dict:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GUICHET_")}
    env["GUICHET_HOME"] = str(home)
    done = subprocess.run([sys.executable, "-m", "assistant", "topics", "--period", "all", "--json", *options],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    return json.loads(done.stdout)


def _csv_topics(server) -> list[dict]:
    with httpx.Client(base_url=server.url, timeout=60) as client:
        response = login(client, suite="/reseau/")
        assert response.status_code == 303, response.text
        response = client.get("/reseau/export/sujets.csv", params={"periode": "Depuis le début"})
    assert response.status_code == 200
    return list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))


def _number(cell: str):
    return None if cell == "" else float(cell)


def test_the_csv_export_and_guichet_topics_hold_the_same_figures(seeded, app):
    home, drafts, canteen = seeded
    data = _cli_topics(home)
    rows = _csv_topics(app)
    assert data["questions"] == len(REPAIR) + len(LABELS) + len(CANTEEN) == sum(t["questions"] for t in data["topics"])
    assert [r["sujet"] for r in rows] == [t["subject"] for t in data["topics"]], "same topics, same order"
    for row, topic in zip(rows, data["topics"]):
        assert row["identifiants"] == " ".join(map(str, topic["question_ids"]))
        assert int(row["questions"]) == topic["questions"] and int(row["avis"]) == topic["ratings"]
        assert int(row["brouillons_reecrits"]) == topic["rewritten_drafts"]
        assert (row["a_approfondir"] == "oui") is topic["to_deepen"]
        for column, key in (("score", "score"), ("abstentions", "abstention_share"),
                            ("reponses_partielles", "partial_share"), ("reecriture_moyenne", "edit_ratio_mean"),
                            ("delai_median_s", "answer_p50_s"), ("note_moyenne", "rating_mean")):
            assert _number(row[column]) == topic[key], f"{topic['subject']}: {column} {row[column]} vs {topic[key]}"

    by_subject = {t["subject"]: t for t in data["topics"]}
    repair = by_subject["Indice de réparabilité et durabilité"]
    assert repair["questions"] == 4 and repair["rating_mean"] == 1.5 and repair["ratings"] == 4
    assert repair["to_deepen"] and repair["reasons"], f"rewritten and rated low: flagged {repair}"
    answered = [drafts[i] for i in repair["question_ids"] if not drafts[i].abstained]
    assert repair["rewritten_drafts"] == len(answered), "every answered draft was rewritten"
    if answered:
        assert repair["edit_ratio_mean"] > 0.8 and repair["cited_sections"], repair
        cited = {f"{p.title} — {p.location}" for d in answered for c in d.citations
                 for p in d.passages if p.chunk_id == c.chunk_id}
        assert {s["section"] for s in repair["cited_sections"]} <= cited, "sections of the rewritten drafts"
    labels = by_subject["Labels et écolabels"]
    assert labels["rating_mean"] == 5.0 and not labels["to_deepen"], labels
    canteen_topic = by_subject["Restauration collective (EGAlim)"]
    abstained = sum(drafts[i].abstained for i in canteen)
    assert canteen_topic["question_ids"] == canteen and canteen_topic["sent"] == 0
    assert canteen_topic["abstention_share"] == round(abstained / 3, 4), "abstentions counted from the drafts"


@pytest.mark.browser
def test_the_dashboard_shows_quality_and_the_flag_and_sorts(app, browser, screenshots):
    from test_browser import login as browser_login
    from test_browser import open_page, shot

    page = open_page(browser)
    browser_login(page, app.url, "alice", target="/reseau/")
    page.locator("#indicateurs").get_by_text(re.compile(r"\d+ questions")).first.wait_for()
    table = page.locator("#sujets")
    table.get_by_text("Indice de réparabilité et durabilité").filter(visible=True).first.wait_for()
    for header in ("À approfondir", "Abstentions et réponses partielles", "Réécriture des brouillons",
                   "Délai médian", "Note des demandeurs", "Sections les plus citées (brouillons réécrits)"):
        assert table.get_by_text(header).count() >= 1, f"column {header!r} missing"
    assert table.get_by_text("⚑ à approfondir").count() >= 1, "the flag is in the table"
    deepen = page.locator("#a-approfondir")
    deepen.get_by_text("Indice de réparabilité et durabilité").wait_for()
    assert "note moyenne 1,5 / 5" in deepen.inner_text() and "Exemples" in deepen.inner_text()
    shot(page, screenshots, "17-reseau-qualite-par-sujet")

    home = app.home
    for label, name in (("Note (la plus basse d'abord)", "rating"), ("Questions (les plus nombreuses d'abord)",
                                                                      "questions")):
        page.locator("#tri-sujets input").click()
        page.locator("[data-testid=dropdown-option]", has_text=label).click()
        expected = [t["subject"] for t in _cli_topics(home, "--sort", name)["topics"]]
        deadline = time.monotonic() + 30
        while _visible_order(page, expected) != expected and time.monotonic() < deadline:
            time.sleep(0.3)  # the table is redrawn once the server has answered
        assert _visible_order(page, expected) == expected, f"the table follows `guichet topics --sort {name}`"
    shot(page, screenshots, "18-reseau-tri-par-nombre")


def _visible_order(page, subjects: list[str]) -> list[str]:
    """The subjects in the order the visible table shows them (top to bottom)."""
    where = {}
    for subject in subjects:
        cell = page.locator("#sujets").get_by_text(subject, exact=True).filter(visible=True).first
        where[subject] = cell.bounding_box()["y"]
    return sorted(subjects, key=where.get)
