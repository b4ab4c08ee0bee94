"""`guichet ingest`: index files and folders."""

from __future__ import annotations

import json
from contextlib import nullcontext
from pathlib import Path

import click

from assistant.cli import cli
from assistant.progress import IngestBars, wants_bars
from assistant.errors import printable


@cli.command()
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option("--json", "as_json", is_flag=True, help="Print the machine-readable summary.")
@click.option("--quiet", "-q", is_flag=True, help="No progress bar.")
@click.option("--prune/--no-prune", default=None,
              help="Forget files that disappeared from the folders given (default: GUICHET_PRUNE, on).")
@click.option("--follow-links", is_flag=True,
              help="Also index what symbolic links inside the folders point to outside them (not by default).")
@click.option("--rebuild", is_flag=True,
              help="Delete the index and rebuild it from these paths; refused, deleting nothing, while "
                   "another ingestion runs.")
def ingest(paths: tuple[Path, ...], as_json: bool, quiet: bool, prune: bool | None, follow_links: bool,
           rebuild: bool) -> None:
    """Index PDF, Markdown, HTML, text and Word files and past answers (YAML, JSON, CSV).

    Unchanged files are skipped, changed files replace their chunks, and a bad file is
    reported without stopping the others. Exit code 1 if any file failed. A symbolic link
    inside a folder that points out of the folders given is reported, not followed, unless
    --follow-links.

    \b
    Examples:
      guichet ingest corpus/
      guichet ingest guides/achat-durable.pdf reponses.yaml --json
      guichet ingest ~/partage/guides --follow-links
      GUICHET_EMBEDDER=minilm guichet ingest --rebuild corpus/
    """
    from assistant import compose
    from assistant.ingest.pipeline import Ingestor
    from assistant.store.index import rebuilding

    settings = compose.load_settings()
    # A rebuild holds the ingestion lock from before it deletes anything until its ingest is done.
    with rebuilding(compose.index_config(settings)) if rebuild else nullcontext():
        index = compose.open_index(settings)
        try:
            bars = IngestBars() if wants_bars(quiet or as_json) else None
            with bars or nullcontext():
                report = Ingestor(index, compose.ingest_config(settings), progress=bars).ingest(
                    list(paths), prune=prune, follow_links=follow_links)
        finally:
            index.close()
    if report.repaired:
        # Said on stderr with --json too: the JSON contract stays as it is.
        click.echo(f"Repaired the vector store: {report.repaired} vector(s) missing from it were "
                   "re-embedded from the catalog.", err=True)
    if as_json:
        click.echo(json.dumps(report.as_json(), ensure_ascii=False))
    else:
        click.echo(f"{report.files} file(s) indexed ({report.chunks} chunks, {report.embedded} embedded), "
                   f"{report.unchanged} unchanged, {report.removed} removed, "
                   f"{len(report.failed)} failed, {len(report.skipped)} skipped.")
        for path in report.skipped:
            click.echo(f"  skipped {printable(path)}: unsupported type")
        for path, error in report.failed:
            click.echo(f"  FAILED {printable(path)}: {printable(error)}", err=True)
    raise SystemExit(1 if report.failed else 0)
