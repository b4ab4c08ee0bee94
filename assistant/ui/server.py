"""Running the web app: first start, warm-up, drafting threads, mail delivery, then uvicorn.

The app and its service layer are built by `assistant.compose.serve`, which calls `run`.

Example:
    >>> run(desk, create_app(desk, web), "127.0.0.1", 7860)   # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Callable, Sequence
from pathlib import Path

from fastapi import FastAPI

from assistant.errors import printable
from assistant.review.delivery import DeliveryWorker
from assistant.ui.auth import ADVISOR_PATH, NETWORK_PATH
from assistant.ui.desk import Desk
from assistant.ui.start import first_start, sample_corpus

log = logging.getLogger(__name__)


def run(desk: Desk, app_of: Callable[[Desk], FastAPI], host: str, port: int,
        corpus: Sequence[Path] | None = None, ingest: bool = True) -> None:
    """Start the web app (blocking): first-start ingestion, warm-up, the drafting threads, then
    uvicorn; `desk` is closed when the server stops.

    Args:
        desk: The service layer.
        app_of: Builds the app over the desk (once the index is ready).
        host: Address to listen on.
        port: Port to listen on.
        corpus: What to index on first start (default: the bundled sample corpus).
        ingest: False: never index at start.
    """
    import uvicorn

    if ingest:
        first_start(desk, list(corpus) if corpus else sample_corpus())
    desk.warm_up()
    problem = desk.assistant.index.health().problem
    if problem:
        log.warning("index: %s", problem)
        print(f"Attention, index incomplet : {printable(problem)}", file=sys.stderr, flush=True)
    app = app_of(desk)
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Guichet vert : http://{shown}:{port}/ (acheteurs) · http://{shown}:{port}{ADVISOR_PATH}/ "
          f"(conseillers) · http://{shown}:{port}{NETWORK_PATH}/ (réseau)", file=sys.stderr, flush=True)
    desk.start_drafting()  # also drafts what a previous run left queued
    # Mail to buyers is retried in the background for as long as the app runs (and after a restart).
    delivery = DeliveryWorker(desk.review.mail).start() if desk.review.mail.mailer is not None else None
    try:
        # proxy_headers=False: uvicorn would believe X-Forwarded-For from 127.0.0.1; the app's own
        # ForwardedHeaders believes it only from GUICHET_TRUSTED_PROXIES.
        uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5,
                    proxy_headers=False, server_header=False)
    finally:
        if delivery is not None:
            delivery.stop()
        desk.close()
