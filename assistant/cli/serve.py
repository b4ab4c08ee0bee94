"""`guichet serve`: the web app for buyers, advisors and the network."""

from __future__ import annotations

from pathlib import Path

import click

from assistant.cli import cli


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default: GUICHET_HOST, 127.0.0.1).")
@click.option("--port", type=click.IntRange(1, 65535), default=None, help="Port (default: GUICHET_PORT, 7860).")
@click.option("--corpus", "corpus", multiple=True, type=click.Path(exists=True, path_type=Path),
              help="File or folder to index on first start instead of the bundled sample corpus (repeatable).")
@click.option("--no-ingest", is_flag=True, help="Never index anything at start, even when the index is empty.")
@click.option("--questions-per-minute", type=click.IntRange(0), default=None,
              help="Questions one buyer session may ask per minute (0 = no limit; default 5).")
@click.option("--questions-per-minute-per-address", type=click.IntRange(0), default=None,
              help="Questions one client address may ask per minute (0 = no limit; default 30).")
def serve(host: str | None, port: int | None, corpus: tuple[Path, ...], no_ingest: bool,
          questions_per_minute: int | None, questions_per_minute_per_address: int | None) -> None:
    """Start the web app: / for buyers, /conseiller/ for advisors, /reseau/ for the network.

    On first start, when the index is empty, the bundled sample corpus is indexed (with a
    progress bar) before the app listens. Advisors log in with accounts made by
    'guichet advisor add'.

    \b
    Examples:
      guichet serve                                  # http://127.0.0.1:7860/
      guichet serve --host 0.0.0.0 --port 8080       # reachable from the network (put HTTPS in front)
      guichet serve --corpus ~/guides --corpus faq.yaml
      GUICHET_HOME=/srv/guichet guichet serve --no-ingest
      GUICHET_TRUSTED_PROXIES=10.0.0.5 guichet serve --host 0.0.0.0   # behind a reverse proxy at 10.0.0.5
      guichet advisor add alice --password-stdin < secret.txt   # then log in at /conseiller/
    """
    from assistant import compose
    from assistant.review.limits import Limits

    settings = compose.load_settings()
    default = compose.buyer_limits(settings)
    limits = Limits(
        per_session=default.per_session if questions_per_minute is None else questions_per_minute,
        per_address=default.per_address if questions_per_minute_per_address is None
        else questions_per_minute_per_address,
    )
    compose.serve(settings, host=host, port=port, corpus=list(corpus) or None, ingest=not no_ingest, limits=limits)
