"""`guichet review redraft`: a claimed question drafted again from the passages an advisor picks,
over a real index (the bundled embedder, real Chroma) with the real extractive drafter."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from assistant.cli import cli
from assistant.cli import commands  # noqa: F401  (registers the subcommands)

GUIDES = Path(__file__).resolve().parents[2] / "corpus" / "guides"


@pytest.fixture
def claimed(home):
    """A question on gifts of computers, drafted then claimed by alice, over an index of two guides."""
    runner = CliRunner()
    for name in ("don-materiel-informatique.md", "exiger-un-label.md"):
        assert runner.invoke(cli, ["ingest", str(GUIDES / name), "-q"]).exit_code == 0
    assert runner.invoke(cli, ["advisor", "add", "alice", "--password-stdin"],
                         input="correct horse battery\n").exit_code == 0
    submitted = runner.invoke(cli, ["review", "submit", "Peut-on donner nos vieux ordinateurs à une association ?",
                                    "--json"])
    assert submitted.exit_code == 0, submitted.output
    question = json.loads(submitted.output)["id"]
    assert runner.invoke(cli, ["review", "claim", str(question), "--advisor", "alice"]).exit_code == 0
    return runner, question


def test_redraft_from_the_passages_given_cites_only_them(claimed):
    runner, question = claimed
    found = runner.invoke(cli, ["search", "exiger un label dans un marché", "--json", "-k", "3"])
    assert found.exit_code == 0, found.output
    chunk = json.loads(found.output)[0]["chunk_id"]
    result = runner.invoke(cli, ["review", "redraft", str(question), "--advisor", "alice", "--passage", chunk,
                                 "--json"])
    assert result.exit_code == 0, result.output
    detail = json.loads(result.output)
    assert detail["drafts"] == 2, "a second draft was written"
    assert [p["chunk_id"] for p in detail["draft"]["passages"]] == [chunk], "only the picked passage is used"
    assert {c["chunk_id"] for c in detail["draft"]["citations"]} <= {chunk}


def test_a_passage_gone_from_the_index_is_one_line_and_changes_nothing(claimed):
    runner, question = claimed
    result = runner.invoke(cli, ["review", "redraft", str(question), "--advisor", "alice", "--passage", "nope"])
    assert result.exit_code == 2 and result.output.count("\n") == 1, result.output
    assert "no longer in the index" in result.output
    shown = json.loads(runner.invoke(cli, ["review", "show", str(question), "--json"]).output)
    assert shown["drafts"] == 1, "no draft was added"


def test_only_the_advisor_holding_the_claim_redrafts(claimed):
    runner, question = claimed
    assert runner.invoke(cli, ["advisor", "add", "bob", "--password-stdin"],
                         input="correct horse battery\n").exit_code == 0
    result = runner.invoke(cli, ["review", "redraft", str(question), "--advisor", "bob"])
    assert result.exit_code == 2 and result.output.startswith("Error: ") and result.output.count("\n") == 1, \
        result.output
