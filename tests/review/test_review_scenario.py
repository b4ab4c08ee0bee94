"""The whole desk scenario, once through the service and once through the CLI.

submit → list → claim → edit and validate → mail received on a real loopback SMTP server →
buyer thread → stats updated → reusable past-answer YAML written and the hook called.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner

import assistant.cli.review  # noqa: F401 - registers the review commands on `cli`
from assistant import compose
from assistant.cli import cli
from assistant.compose import review_service
from assistant.config import get_settings
from review_fixtures import FIXED_PASSAGE, FIXED_QUOTE, body, draft_from_fixed_passage

EDITED = (
    "Oui. Vous pouvez exiger un label précis dans les spécifications techniques [1], "
    "à condition d'accepter les labels équivalents [2]."
)


def _check_mail_and_yaml(home: Path, inbox, question_id: int, question: str, hook_calls: list[Path]) -> None:
    messages = inbox.to("acheteuse@ville.fr")
    assert len(messages) == 1, f"exactly one mail expected for the buyer, got {len(messages)}"
    message = messages[0]
    assert message["Subject"] == f"Guichet vert : réponse à votre question n° {question_id}", message["Subject"]
    text = body(message)
    assert EDITED in text, f"the validated text must be in the mail body:\n{text}"
    assert "Sources :" in text and FIXED_PASSAGE.chunk.title in text, f"sources list missing:\n{text}"
    assert "p. 12" in text and "https://exemple.gouv.fr/guide-labels.pdf" in text, text
    assert question in text, "the mail must quote the buyer's question"

    path = home / "answers" / f"{question_id}.yaml"
    assert hook_calls == [path], f"the reuse hook must be called once with {path}, got {hook_calls}"
    document = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert "notice" in document, "the past-answer file carries a notice"
    (entry,) = document["answers"]
    assert entry["question"] == question and entry["answer"] == EDITED, entry
    assert entry["id"] == question_id and entry["tags"] == [], entry
    assert any(FIXED_PASSAGE.chunk.title in s for s in entry["sources"]), entry["sources"]
    assert len(entry["date"]) == 10 and entry["date"][4] == "-", f"date must be YYYY-MM-DD: {entry['date']}"


def test_scenario_through_the_service(home, smtp):
    inbox, _ = smtp
    hook_calls: list[Path] = []
    service = review_service(get_settings(), drafter=draft_from_fixed_passage, on_reusable=hook_calls.append)
    service.add_advisor("alice", "correct horse battery")
    question = "Puis-je exiger l'Écolabel européen pour des ordinateurs ?"

    sub = service.submit(question, email="acheteuse@ville.fr", organisation="Ville de Test")
    assert sub.status == "drafted", f"a drafted question is expected, got {sub}"
    queue = service.list_questions(status="drafted")
    assert [q.id for q in queue] == [sub.id], f"the question must be in the drafted queue: {queue}"

    opened = service.claim(sub.id, "alice")
    assert opened.status == "in_review" and opened.claimed_by == "alice", opened
    assert opened.draft is not None and FIXED_QUOTE in opened.draft.text, "the draft must be shown"
    assert opened.draft.passages[0].page == 12, "the passages shown must keep their page"
    assert service.thread(sub.thread).messages[0].answer is None, "no draft may appear in the thread"
    assert inbox.messages() == [], "nothing is mailed before validation"

    sent = service.validate(sub.id, "alice", EDITED, reusable=True, expected_version=opened.version)
    assert sent.status == "sent", sent.status
    assert sent.answer.edited and 0 < sent.answer.edit_ratio < 1, sent.answer
    assert [e.status for e in sent.outbox] == ["sent"], f"mail must be delivered: {sent.outbox}"
    assert "validated" in [e.action for e in sent.events], "the audit log records the validation"
    diff = next(e.diff for e in sent.events if e.action == "validated")
    assert "-Oui : " in diff and "+Oui. Vous pouvez" in diff, f"the audit keeps the diff:\n{diff}"

    thread = service.thread(sub.thread)
    assert thread.messages[0].answer == EDITED and thread.messages[0].status == "answered", thread
    assert [s.marker for s in thread.messages[0].sources] == [1, 2], thread.messages[0].sources

    stats = service.stats()
    assert stats["questions"] == 1 and stats["sent"] == 1, stats
    assert stats["acceptance_rate"] == 0.0, "an edited draft is not accepted as is"
    assert stats["edit_ratio_mean"] == pytest.approx(sent.answer.edit_ratio, abs=1e-4), stats
    assert stats["time_to_answer_s"]["p50"] is not None, stats
    assert stats["per_advisor"]["alice"]["sent"] == 1, stats["per_advisor"]

    _check_mail_and_yaml(home, inbox, sub.id, question, hook_calls)


def test_scenario_through_the_cli(home, smtp, monkeypatch, tmp_path):
    inbox, _ = smtp
    hook_calls: list[Path] = []
    # the CLI's one Assistant (drafter and reuse hook) replaced by the fixed drafter and a recorder
    monkeypatch.setattr(compose.AssistantHooks, "draft", lambda self, question, history, **job:
                        draft_from_fixed_passage(question, history))
    monkeypatch.setattr(compose.AssistantHooks, "reuse", lambda self, path: hook_calls.append(path))
    runner = CliRunner()
    question = "Puis-je exiger l'Écolabel européen pour des ordinateurs ?"

    result = runner.invoke(cli, ["advisor", "add", "alice", "--password-stdin"], input="correct horse battery\n")
    assert result.exit_code == 0, result.output

    result = runner.invoke(cli, ["review", "submit", question, "--email", "acheteuse@ville.fr", "--json"])
    assert result.exit_code == 0, result.output
    submitted = json.loads(result.output)
    assert set(submitted) == {"id", "status", "thread"} and submitted["status"] == "drafted", submitted
    qid = submitted["id"]

    result = runner.invoke(cli, ["review", "list", "--status", "drafted", "--json"])
    assert result.exit_code == 0 and [q["id"] for q in json.loads(result.output)] == [qid], result.output

    result = runner.invoke(cli, ["review", "claim", str(qid), "--advisor", "alice"])
    assert result.exit_code == 0 and "in_review" in result.output, result.output

    result = runner.invoke(cli, ["review", "show", str(qid)])
    assert result.exit_code == 0 and FIXED_QUOTE in result.output and "p. 12" in result.output, result.output

    final = tmp_path / "final.txt"
    final.write_text(EDITED + "\n", encoding="utf-8")
    result = runner.invoke(cli, ["review", "validate", str(qid), "--advisor", "alice",
                                 "--text-file", str(final), "--reusable", "--json"])
    assert result.exit_code == 0, result.output
    validated = json.loads(result.output)
    assert validated["status"] == "sent" and validated["answer"]["text"] == EDITED, validated

    result = runner.invoke(cli, ["stats", "--json"])
    assert result.exit_code == 0, result.output
    stats = json.loads(result.output)
    for key in ("questions", "sent", "acceptance_rate", "edit_ratio_mean", "time_to_answer_s"):
        assert key in stats, f"stats lacks {key}: {stats}"
    assert stats["questions"] == 1 and stats["sent"] == 1, stats
    assert set(stats["time_to_answer_s"]) >= {"p50", "p95"}, stats

    _check_mail_and_yaml(home, inbox, qid, question, hook_calls)
