"""`guichet search` and `guichet ask`: passages and drafts for one question."""

from __future__ import annotations

import json
from pathlib import Path

import click

from assistant.cli import cli
from assistant.records import KINDS, Draft, Passage


def passage_json(rank: int, passage: Passage) -> dict:
    chunk = passage.chunk
    return {"rank": rank, "score": round(passage.score, 6), "chunk_id": chunk.id,
            "source": chunk.source, "title": chunk.title, "kind": chunk.kind, "page": chunk.page,
            "section": chunk.section, "text": chunk.text,
            "also_in": [d.source for d in passage.duplicates]}


def draft_json(draft: Draft) -> dict:
    return {"text": draft.text, "outcome": draft.outcome, "abstained": draft.abstained, "reason": draft.reason,
            "generator": draft.generator,
            "citations": [{"marker": c.marker, "chunk_id": c.chunk_id, "quote": c.quote}
                          for c in draft.citations],
            "flags": [{"sentence": f.sentence, "reason": f.reason} for f in draft.flags],
            "passages": [passage_json(i, p) for i, p in enumerate(draft.passages, 1)],
            "peers": [{"chunk_id": p.chunk.id, "score": round(p.score, 4), **dict(p.chunk.metadata)}
                      for p in draft.peers]}


def _assistant():
    """The assistant of the settings, closed when the command ends."""
    from assistant import compose
    from assistant.errors import printable

    assistant = compose.build_assistant(compose.load_settings())
    click.get_current_context().call_on_close(assistant.close)
    problem = assistant.index.health().problem
    if problem:
        click.echo(f"Warning: {printable(problem)}", err=True)
    return assistant


@cli.command()
@click.argument("question")
@click.option("-k", "top_k", type=click.IntRange(min=1), default=None, help="Passages to show (default GUICHET_TOP_K).")
@click.option("--kind", type=click.Choice(KINDS), default=None,
              help="Only passages of this document type (peer experiences are searched only this way).")
@click.option("--source", default=None, help="Only passages from this file (base name).")
@click.option("--json", "as_json", is_flag=True, help="Print the passages as JSON.")
def search(question: str, top_k: int | None, kind: str | None, source: str | None, as_json: bool) -> None:
    """Ranked passages for QUESTION, with source file, page or section, score and text.

    \b
    Examples:
      guichet search "pc de 7 ans : don ou DEEE ?"
      guichet search "clause d'insertion" -k 3 --kind answer --json
      guichet search "PC reconditionnés" --kind peer
    """
    from assistant.retrieval.filters import Filters

    filters = Filters(kinds=(kind,) if kind else (), sources=(source,) if source else ())
    passages = _assistant().search(question, k=top_k, filters=filters)
    if as_json:
        click.echo(json.dumps([passage_json(i, p) for i, p in enumerate(passages, 1)], ensure_ascii=False))
        return
    if not passages:
        click.echo("No passage found.")
    for rank, passage in enumerate(passages, 1):
        chunk = passage.chunk
        click.secho(f"{rank}. {Path(chunk.source).name} — {chunk.location}  (score {passage.score:.4f})", bold=True)
        for dup in passage.duplicates:
            click.echo(f"   also in {Path(dup.source).name} — {dup.location}")
        click.echo("   " + " ".join(chunk.text.split())[:400])


@cli.command()
@click.argument("question")
@click.option("--organisation", default=None,
              help="The buyer's organisation (ranks peers of its région and kind first).")
@click.option("--json", "as_json", is_flag=True,
              help="Print the draft, its outcome, citations, flags and peers as JSON.")
def ask(question: str, organisation: str | None, as_json: bool) -> None:
    """A cited first-level draft for QUESTION (an answer, a partial answer, or an abstention
    that says whom to ask), with the reason of that outcome.

    The draft ends with "Des acheteurs qui l'ont fait" when peer experiences match the question.

    \b
    Examples:
      guichet ask "j'ai le droit d'imposer un label precis dans mon DCE ?"
      guichet ask "quelle part de reconditionné pour les PC ?" --json
      guichet ask "des PC reconditionnés, qui l'a fait ?" --organisation "Mairie de Sète (Hérault)"
    """
    draft = _assistant().ask(question, organisation=organisation)
    if as_json:
        click.echo(json.dumps(draft_json(draft), ensure_ascii=False))
        return
    from assistant.drafting.abstention import OUTCOME_LABELS

    click.echo(draft.text)
    colour = "green" if draft.outcome == "answer" else "yellow"
    click.secho(f"\n[{OUTCOME_LABELS[draft.outcome]}] {draft.reason}", fg=colour)
    for flag in draft.flags:
        click.secho(f"[à vérifier] {flag.reason}: {flag.sentence[:120]}", fg="yellow")
