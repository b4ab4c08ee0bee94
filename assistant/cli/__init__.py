"""The `guichet` command: one click group, one module per command family.

Example:
    $ guichet ingest corpus/
    $ guichet search "pc de 7 ans : don ou DEEE ?" -k 3
"""

from __future__ import annotations

import sys

import click

from assistant.errors import GuichetError, printable


class Group(click.Group):
    """A click group that turns every GuichetError, and a full disk, into one clear line and exit code 2."""

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except GuichetError as exc:
            click.echo(f"Error: {printable(exc)}", err=True)
            sys.exit(2)
        except Exception as exc:
            # A full disk surfaces as whatever the storage layer raised (Chroma, SQLite): one line.
            from assistant.diskfull import disk_full, is_disk_full

            home = _home()
            if not isinstance(exc, click.ClickException) and is_disk_full(exc, home):
                click.echo(f"Error: {disk_full(home)}", err=True)
                sys.exit(2)
            raise


def _home():
    from pathlib import Path

    from assistant.compose import load_settings

    try:
        return load_settings().home
    except GuichetError:
        return Path("index")


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="guichet-vert")
def cli() -> None:
    """Guichet vert: cited first-level answers on responsible public purchasing.

    \b
    Examples:
      guichet ingest corpus/                # index the bundled sample corpus
      guichet search "label dans un DCE ?"  # ranked passages with their sources
      guichet ask "pc de 7 ans : don ou DEEE ?"
      guichet eval evals/sample-questions.yaml --json
      guichet serve                         # the web app on http://127.0.0.1:7860
      guichet topics --period 30d           # recurring topics and where the desk struggles
    """


def main() -> None:
    """Entry point of the `guichet` console script."""
    from assistant.cli import commands  # noqa: F401  (registers the subcommands)

    cli()
