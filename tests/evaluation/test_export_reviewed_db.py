"""export-reviewed on a real review database, made by the real pipeline, then evaluated."""

import json
from pathlib import Path

from click.testing import CliRunner

from assistant.cli import cli
from assistant.cli import commands  # noqa: F401
from assistant.config import get_settings
from assistant.compose import open_assistant
from assistant.compose import review_service

ROOT = Path(__file__).resolve().parents[2]


def test_validated_answers_become_a_question_set_that_evaluates(tmp_path):
    settings = get_settings()
    assistant = open_assistant(settings)
    report = assistant.ingest([ROOT / "corpus" / "guides" / "don-materiel-informatique.md",
                               ROOT / "corpus" / "guides" / "exiger-un-label.md"])
    assert report.files == 2, report.as_json()
    service = review_service(settings, drafter=lambda q, history: assistant.ask(q, history=history))
    service.add_advisor("alice", "un-mot-de-passe-solide")
    for question in ("on peut donner nos vieux pc a une asso ?", "j'ai le droit d'exiger un label ?"):
        item = service.submit(question)
        detail = service.show(item.id)
        assert detail.draft and detail.draft.citations, f"the real draft cites passages: {question}"
        service.validate(item.id, "alice", text=detail.draft.text + "\nRelu par le guichet vert.")
    records = service.reviewed_records()
    service.close()
    assert len(records) == 2 and all(r["citations"] for r in records), records

    out = tmp_path / "from-the-desk.yaml"
    exported = CliRunner().invoke(cli, ["eval", "export-reviewed", "--out", str(out)])
    assert exported.exit_code == 0, exported.output
    result = CliRunner().invoke(cli, ["eval", str(out), "--json", "--quiet", "--out", str(tmp_path / "run")])
    assert result.exit_code == 0, result.output
    metrics = json.loads(result.output.strip().splitlines()[-1])
    assert metrics["n"] == 2 and metrics["hit@5"] == 1.0, metrics
    review = json.loads((tmp_path / "run" / "review.json").read_text())
    assert review and review["acceptance_rate"] == 0.0, "edited answers: the report carries draft quality"
