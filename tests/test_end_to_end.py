"""The desk's whole loop from the command line, on real documents with every real component:
ingest, a buyer's question drafted by the real retriever and generator, an advisor's edit and
validation, statistics, and the reusable answer found again by search."""

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GUIDES = ["don-materiel-informatique.md", "deee-recyclage.md", "exiger-un-label.md"]


def guichet(*args: str, stdin: str | None = None, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "assistant", *args], input=stdin, capture_output=True,
                          text=True, env=env, timeout=300)


def test_question_to_reusable_answer(tmp_path, isolated_home, monkeypatch):
    import os

    env = {**os.environ, "GUICHET_HOME": str(isolated_home)}
    docs = tmp_path / "docs"
    docs.mkdir()
    for name in GUIDES:
        (docs / name).write_bytes((ROOT / "corpus" / "guides" / name).read_bytes())
    done = guichet("ingest", str(docs), "--json", env=env)
    assert done.returncode == 0 and json.loads(done.stdout)["files"] == 3, done.stderr

    assert guichet("advisor", "add", "alice", "--password-stdin", stdin="s3cret-pass\n", env=env).returncode == 0
    submitted = guichet("review", "submit", "on peut donner nos vieux pc a une asso ?", "--json", env=env)
    assert submitted.returncode == 0, submitted.stderr
    item = json.loads(submitted.stdout)
    assert item["status"] == "drafted" and item["thread"], item

    shown = json.loads(guichet("review", "show", str(item["id"]), "--json", env=env).stdout)
    draft = shown["draft"]
    assert "[1]" in draft["text"], "the real generator cites its passages"
    shown_passages = {p["chunk_id"]: p for p in draft["passages"]}
    first = next(c for c in draft["citations"] if c["marker"] == 1)
    cited = shown_passages[first["chunk_id"]]  # [1] points to a passage shown to the advisor
    assert Path(cited["source"]).name in GUIDES and first["quote"] in cited["text"], first

    final = tmp_path / "final.txt"
    final.write_text("Oui : le don de matériel informatique réformé à une association est possible "
                     "dans les conditions de la fiche sur le don [1]. Réponse relue par le guichet vert.",
                     encoding="utf-8")
    validated = guichet("review", "validate", str(item["id"]), "--advisor", "alice", "--text-file", str(final),
                        "--reusable", "--json", env=env)
    assert validated.returncode == 0, validated.stderr
    assert json.loads(validated.stdout)["status"] == "sent"

    stats = json.loads(guichet("stats", "--json", env=env).stdout)
    assert stats["questions"] == 1 and stats["sent"] == 1, stats
    assert stats["acceptance_rate"] == 0.0, "the advisor edited the draft: not accepted unedited"

    found = json.loads(guichet("search", "relue par le guichet vert don association", "--kind", "answer",
                               "--json", env=env).stdout)
    assert found and found[0]["kind"] == "answer", found
    assert "Réponse relue par le guichet vert" in found[0]["text"], "the reusable answer is searchable"
