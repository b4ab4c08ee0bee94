"""`guichet topics`: bad input gives one line and exit code 2; an empty desk gives an empty period."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import assistant.cli.topics  # noqa: F401 - registers the command on `cli`
from assistant.cli import cli


@pytest.mark.parametrize("args, message", [
    (["--period", "hier"], "unknown period 'hier': choose one of 7d, 30d, 90d, 12m, all"),
    (["--sort", "random"], "'random' is not one of"),
    (["--json", "--csv"], "choose --json or --csv, not both"),
])
def test_bad_options_fail_in_one_line(args, message):
    result = CliRunner().invoke(cli, ["topics", *args])
    assert result.exit_code == 2 and message in result.output, result.output
    assert "Traceback" not in result.output


def test_an_empty_desk_has_no_topics():
    result = CliRunner().invoke(cli, ["topics", "--period", "30d", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["period"] == "30 derniers jours" and data["questions"] == 0 and data["topics"] == []
    assert data["start"] < data["end"]
    text = CliRunner().invoke(cli, ["topics", "--period", "Depuis le début"])
    assert text.exit_code == 0 and "Depuis le début: 0 question(s), 0 topic(s)" in text.output
    csv = CliRunner().invoke(cli, ["topics", "--csv"])
    assert csv.output.startswith("sujet,questions,identifiants,exemples,a_approfondir")
