"""Backup as JSON lines and restore into an empty database (round trip on real SQLite files)."""

from __future__ import annotations

import json
import os
import stat

import pytest
from click.testing import CliRunner

import assistant.cli.review  # noqa: F401 - registers the review commands on `cli`
from assistant.cli import cli
from assistant.review.errors import BackupError, NotEmpty
from assistant.review.migrations import LATEST
from review_fixtures import open_service


def _populate(service):
    first = service.submit("Puis-je exiger un label ?", email="un@ville.fr", organisation="Ville")
    service.claim(first.id, "alice")
    service.validate(first.id, "alice", "Oui [1]. <b>équivalents</b> acceptés.", reusable=True)
    service.feedback(first.thread, first.id, 5, "parfait")
    follow = service.submit("Et pour les écrans ?", thread_token=first.thread)
    service.reject(follow.id, "bob", "hors champ", message="Voyez l'ADEME.")
    other = service.submit("Que faire des PC de 7 ans ?")
    service.escalate(other.id, "bob", "groupe de travail réemploi")
    service.submit("Question encore en attente ?")
    return first


def _snapshot(service):
    questions = [service.show(q.id) for q in service.list_questions()]
    return {
        "questions": [(q.id, q.thread, q.status, q.version, q.text, q.created_at, q.organisation, q.has_email,
                       q.draft, q.drafts, q.answer, q.reason, q.buyer_message, q.events) for q in questions],
        "stats": service.stats(),
        "advisors": service.advisors(),
    }


def test_export_import_round_trip(service, home, tmp_path, monkeypatch):
    first = _populate(service)
    before = _snapshot(service)
    out = tmp_path / "backup" / "review.jsonl"
    count = service.export(out)
    lines = out.read_text(encoding="utf-8").splitlines()
    assert len(lines) == count + 1, "one header line plus one line per row"
    assert stat.S_IMODE(os.stat(out).st_mode) == 0o600, "the backup holds personal data: owner-only"
    tables = {json.loads(line)["table"] for line in lines[1:]}
    assert tables >= {"threads", "questions", "drafts", "answers", "events", "advisors", "feedback"}, tables

    monkeypatch.setenv("GUICHET_HOME", str(tmp_path / "restored"))
    restored = open_service()
    assert restored.import_backup(out) == count
    after = _snapshot(restored)
    assert after == before, "the restored database must hold exactly what was exported"
    assert restored.authenticate("alice", "correct horse battery").name == "alice", "password hashes survive"
    assert restored.thread(first.thread).messages[0].answer == "Oui [1]. <b>équivalents</b> acceptés."

    new = restored.submit("Nouvelle question après restauration ?")
    assert new.id > max(q[0] for q in before["questions"]), "ids continue after the restored ones"


def test_import_refuses_a_non_empty_database(service, tmp_path):
    service.submit("Question ?")
    out = tmp_path / "b.jsonl"
    service.export(out)
    with pytest.raises(NotEmpty, match="already holds data .*import only into an empty database"):
        service.import_backup(out)
    assert len(service.list_questions()) == 1, "nothing may be imported on top of existing data"


HEADER = json.dumps({"format": "guichet-review-backup", "schema_version": LATEST})


@pytest.mark.parametrize(("content", "message"), [
    ("", "not a guichet-vert review backup"),
    ('{"format": "other"}\n', "not a guichet-vert review backup"),
    ('{"format": "guichet-review-backup", "schema_version": 99}\n', "schema version 99"),
    (HEADER + '\n{not json\n', "line 2 .* is not JSON"),
    (HEADER + '\n{"table": "nope", "row": {}}\n', "line 2 .* names no known table"),
    (HEADER + '\n{"table": "threads", "row": {"x": 1}}\n', "column 'x' of table 'threads' is unknown"),
])
def test_damaged_backups_are_refused_and_import_nothing(home, tmp_path, content, message):
    path = tmp_path / "bad.jsonl"
    path.write_text(content, encoding="utf-8")
    service = open_service()
    with pytest.raises(BackupError, match=message):
        service.import_backup(path)
    assert service.list_questions() == [] and service.advisors() == []


def test_export_and_import_through_the_cli(service, tmp_path, monkeypatch):
    _populate(service)
    out = tmp_path / "cli.jsonl"
    runner = CliRunner()
    result = runner.invoke(cli, ["export", "--out", str(out)])
    assert result.exit_code == 0 and "rows written" in result.output, result.output

    result = runner.invoke(cli, ["import", str(out)])
    assert result.exit_code == 2 and result.output.startswith("Error: the review database already holds"), \
        result.output

    monkeypatch.setenv("GUICHET_HOME", str(tmp_path / "other"))
    result = runner.invoke(cli, ["import", str(out)])
    assert result.exit_code == 0 and "rows restored" in result.output, result.output
    result = runner.invoke(cli, ["review", "list", "--json"])
    assert len(json.loads(result.output)) == 4, result.output
