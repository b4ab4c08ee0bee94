"""The review commands through click's CliRunner: outputs, one-line errors, exit codes."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from assistant import compose
from assistant.cli import cli
from review_fixtures import FIXED_QUOTE, draft_from_fixed_passage, open_service

COMMANDS = [
    ["advisor"], ["advisor", "add"], ["advisor", "list"], ["advisor", "passwd"], ["advisor", "remove"], ["review"], ["review", "submit"], ["review", "list"],
    ["review", "show"], ["review", "claim"], ["review", "release"], ["review", "validate"], ["review", "reject"],
    ["review", "escalate"], ["review", "redraft"], ["review", "outbox"], ["review", "retry-outbox"], ["review", "drafts"], ["stats"], ["export"],
    ["import"], ["forget"],
]


def _use_drafter(monkeypatch, drafter) -> None:
    """The CLI's drafter (the composition's one Assistant) replaced by `drafter(question, history)`."""
    monkeypatch.setattr(compose.AssistantHooks, "draft", lambda self, question, history, **job: drafter(question, history))


@pytest.fixture
def runner(home, monkeypatch) -> CliRunner:
    _use_drafter(monkeypatch, draft_from_fixed_passage)
    service = open_service()
    service.add_advisor("alice", "correct horse battery")
    service.add_advisor("bob", "correct horse battery")
    return CliRunner()


def _one_line_error(result, fragment: str, code: int = 2) -> None:
    assert result.exit_code == code, f"exit code {result.exit_code}, expected {code}: {result.output}"
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("Error: "), f"one error line expected: {result.output!r}"
    assert fragment in lines[0], f"'{fragment}' not in {lines[0]!r}"
    assert "Traceback" not in result.output


@pytest.mark.parametrize("command", COMMANDS, ids=" ".join)
def test_every_command_has_help_with_an_example(command):
    result = CliRunner().invoke(cli, [*command, "--help"])
    assert result.exit_code == 0, result.output
    assert "Example" in result.output, f"'guichet {' '.join(command)} --help' shows no example"


def test_submit_prints_id_status_thread(runner):
    result = runner.invoke(cli, ["review", "submit", "Puis-je exiger un label ?", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["status"] == "drafted" and isinstance(data["id"], int) and len(data["thread"]) >= 32, data

    again = runner.invoke(cli, ["review", "submit", "Et ensuite ?", "--thread", data["thread"], "--json"])
    assert json.loads(again.output)["thread"] == data["thread"], again.output


def test_submit_with_unknown_thread_is_refused(runner):
    _one_line_error(runner.invoke(cli, ["review", "submit", "Q ?", "--thread", "nope"]), "unknown thread")


def test_submit_when_drafting_fails_keeps_the_question_and_exits_1(runner, monkeypatch):
    def broken(question, history):
        raise RuntimeError("index missing: run 'guichet ingest'")

    _use_drafter(monkeypatch, broken)
    result = runner.invoke(cli, ["review", "submit", "Puis-je exiger un label ?", "--json"])
    assert result.exit_code == 1, result.output
    assert '"status": "received"' in result.output and "drafting failed" in result.output, result.output
    listed = runner.invoke(cli, ["review", "list", "--status", "received", "--json"])
    assert len(json.loads(listed.output)) == 1, "the question is kept as received"


def test_drafts_lists_the_jobs_and_runs_the_due_ones(runner, monkeypatch):
    queued = open_service().submit("Une question laissée au travail de fond ?", draft_now=False)
    listed = runner.invoke(cli, ["review", "drafts", "--json"])
    assert listed.exit_code == 0, listed.output
    assert [(j["question_id"], j["status"]) for j in json.loads(listed.output)] == [(queued.id, "queued")]
    ran = runner.invoke(cli, ["review", "drafts", "--run"])
    assert ran.exit_code == 0 and f"question {queued.id}: drafted" in ran.output, ran.output
    assert "done" in ran.output and open_service().show(queued.id).drafts == 1
    _one_line_error(runner.invoke(cli, ["review", "drafts", "--status", "lost"]), "unknown draft job status")


def test_drafts_run_exits_1_when_a_draft_fails(runner, monkeypatch):
    _use_drafter(monkeypatch, lambda q, h: 1 / 0)
    open_service().submit("Une question à rédiger ?", draft_now=False)
    result = runner.invoke(cli, ["review", "drafts", "--run"])
    assert result.exit_code == 1 and "failed: ZeroDivisionError" in result.output, result.output
    assert "next attempt" in result.output, "the retry is announced"


def test_list_show_and_decisions(runner, tmp_path):
    ids = [json.loads(runner.invoke(cli, ["review", "submit", f"Question {i} ?", "--json"]).output)["id"]
           for i in range(3)]
    listed = runner.invoke(cli, ["review", "list"])
    assert listed.exit_code == 0 and all(f"Question {i} ?" in listed.output for i in range(3)), listed.output

    shown = runner.invoke(cli, ["review", "show", str(ids[0])])
    assert FIXED_QUOTE in shown.output and "[1] Guide des labels" in shown.output, shown.output
    assert "source de plus de deux ans" in shown.output, "flags are shown to the advisor"

    result = runner.invoke(cli, ["review", "validate", str(ids[0]), "--advisor", "alice"])
    assert result.exit_code == 0 and "now sent" in result.output, result.output
    result = runner.invoke(cli, ["review", "reject", str(ids[1]), "--advisor", "bob", "--reason", "hors champ",
                                 "--message", "Voyez la DAJ."])
    assert result.exit_code == 0 and "now rejected" in result.output, result.output
    result = runner.invoke(cli, ["review", "escalate", str(ids[2]), "--advisor", "bob", "--reason", "juridique"])
    assert result.exit_code == 0 and "now escalated" in result.output, result.output

    statuses = {q["id"]: q["status"] for q in json.loads(runner.invoke(cli, ["review", "list", "--json"]).output)}
    assert statuses == {ids[0]: "sent", ids[1]: "rejected", ids[2]: "escalated"}, statuses
    stats = runner.invoke(cli, ["stats"])
    assert stats.exit_code == 0 and "acceptance rate 1.00" in stats.output, stats.output


@pytest.mark.parametrize(("args", "fragment"), [
    (["review", "reject", "{id}", "--advisor", "alice", "--reason", "x"], "is 'sent': cannot reject it"),
    (["review", "escalate", "{id}", "--advisor", "alice", "--reason", "x"], "is 'sent': cannot escalate it"),
    (["review", "claim", "{id}", "--advisor", "alice"], "is 'sent': cannot claim it"),
    (["review", "validate", "{id}", "--advisor", "alice"], "is 'sent': cannot validate it"),
    (["review", "show", "9999"], "no question 9999"),
    (["review", "list", "--status", "bogus"], "unknown status 'bogus'"),
    (["forget", "--thread", "nope"], "unknown thread"),
])
def test_illegal_actions_exit_non_zero_with_one_line(runner, args, fragment):
    qid = json.loads(runner.invoke(cli, ["review", "submit", "Q ?", "--json"]).output)["id"]
    runner.invoke(cli, ["review", "validate", str(qid), "--advisor", "alice"])
    _one_line_error(runner.invoke(cli, [a.replace("{id}", str(qid)) for a in args]), fragment)


def test_unknown_advisor_and_bad_text_files(runner, tmp_path):
    qid = json.loads(runner.invoke(cli, ["review", "submit", "Q ?", "--json"]).output)["id"]
    _one_line_error(runner.invoke(cli, ["review", "claim", str(qid), "--advisor", "mallory"]),
                    "unknown advisor 'mallory'")
    big = tmp_path / "big.txt"
    big.write_text("x" * 1_000_000, encoding="utf-8")
    _one_line_error(runner.invoke(cli, ["review", "validate", str(qid), "--advisor", "alice", "--text-file", str(big)]),
                    "over the limit of 100000")
    empty = tmp_path / "empty.txt"
    empty.write_text("\n", encoding="utf-8")
    _one_line_error(runner.invoke(cli, ["review", "validate", str(qid), "--advisor", "alice", "--text-file",
                                        str(empty)]), "the final answer is empty")
    result = runner.invoke(cli, ["review", "validate", str(qid), "--advisor", "alice", "--text-file", "-"],
                           input="Texte depuis stdin.\n")
    assert result.exit_code == 0 and "now sent" in result.output, result.output


def test_advisor_add_prompts_twice_or_reads_stdin(runner):
    result = runner.invoke(cli, ["advisor", "add", "carol"], input="un mot de passe\nun mot de passe\n")
    assert result.exit_code == 0 and "advisor 'carol' added" in result.output, result.output
    assert "un mot de passe" not in result.output, "the password must not be echoed"
    result = runner.invoke(cli, ["advisor", "add", "dave", "--password-stdin"], input="autre secret\n")
    assert result.exit_code == 0, result.output
    _one_line_error(runner.invoke(cli, ["advisor", "add", "erin", "--password-stdin"], input="court\n"),
                    "at least 8 characters")
    _one_line_error(runner.invoke(cli, ["advisor", "add", "dave", "--password-stdin"], input="autre secret\n"),
                    "already exists")
    listed = runner.invoke(cli, ["advisor", "list"])
    assert listed.output.split() == ["alice", "bob", "carol", "dave"], listed.output
    assert open_service().authenticate("dave", "autre secret").name == "dave"


def test_advisor_passwd_and_remove_end_the_sessions(runner):
    service = open_service()
    alice, bob = service.sessions.open("alice"), service.sessions.open("bob")
    result = runner.invoke(cli, ["advisor", "passwd", "alice"], input="nouveau secret\nnouveau secret\n")
    assert result.exit_code == 0 and "1 session(s) ended" in result.output, result.output
    assert "nouveau secret" not in result.output, "the password must not be echoed"
    assert service.sessions.advisor(alice) is None and service.authenticate("alice", "nouveau secret")
    _one_line_error(runner.invoke(cli, ["advisor", "passwd", "alice", "--password-stdin"], input="court\n"),
                    "at least 8 characters")
    _one_line_error(runner.invoke(cli, ["advisor", "passwd", "zoe", "--password-stdin"], input="assez long\n"),
                    "unknown advisor 'zoe'")
    result = runner.invoke(cli, ["advisor", "remove", "bob"])
    assert result.exit_code == 0 and "advisor 'bob' removed; 1 session(s) ended" in result.output, result.output
    assert service.sessions.advisor(bob) is None
    assert runner.invoke(cli, ["advisor", "list"]).output.split() == ["alice"]
    _one_line_error(runner.invoke(cli, ["advisor", "remove", "bob"]), "was removed")


def test_forget_through_the_cli(runner):
    data = json.loads(runner.invoke(cli, ["review", "submit", "Q ?", "--email", "a@ville.fr", "--json"]).output)
    result = runner.invoke(cli, ["forget", "--thread", data["thread"]])
    assert result.exit_code == 0, result.output
    shown = json.loads(runner.invoke(cli, ["review", "show", str(data["id"]), "--json"]).output)
    assert shown["has_email"] is False and shown["organisation"] is None, shown
