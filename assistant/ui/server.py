"""Assembly of the web app: three Gradio apps on one FastAPI app, advisor login, first start.

Routes:
    /              buyer page (open); its thread link is /?fil=TOKEN
    /conseiller/   advisor page (login required)
    /reseau/       network dashboard (login required)
    /reseau/export/sujets.csv?periode=…   recurring topics and their quality as CSV (login required)
    /connexion     advisor login form (French); /deconnexion shows the logout button (POST)
    /sante         health check

How the login is enforced (two independent layers, both tested over plain HTTP):
1. `guard.ProtectedPaths`, an ASGI middleware in front of everything: any request under
   /conseiller or /reseau (pages, /gradio_api/*, files, uploads, heartbeats, websockets, routes a
   future Gradio adds) without a live session is refused (401; a browser asking for the page is
   sent to /connexion).
2. Gradio's own check: both apps are mounted with `auth_dependency`, so Gradio's `login_check`
   refuses its page config and API routes (queue/join, call, info, file, upload) with 401.
Sessions live in the review database (`assistant.ui.auth`): every app process sees a login and
a logout at once.

Example:
    >>> app = create_app(get_settings())                   # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=7860)      # doctest: +SKIP
"""

from __future__ import annotations

import logging
import sys
from collections.abc import Sequence
from contextlib import nullcontext
from pathlib import Path
from typing import Any

import anyio
import gradio as gr
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from assistant.errors import printable
from assistant.insights.exports import topics_csv
from assistant.insights.indicators import DEFAULT_PERIOD, PERIODS
from assistant.insights.quality import sort_topics
from assistant.review.delivery import DeliveryWorker
from assistant.review.limits import Limits
from assistant.ui import advisor, buyer, dashboard
from assistant.ui.auth import ADVISOR_PATH, COOKIE, NETWORK_PATH, SessionCookies, add_login_routes, key_of
from assistant.ui.dashboard import EXPORT_PATH, export_filename
from assistant.ui.desk import Desk
from assistant.ui.guard import (
    ADVISOR_STATE,
    ForwardedHeaders,
    GradioInput,
    ProtectedPaths,
    QuietErrors,
    SameOrigin,
    SecurityHeaders,
)

log = logging.getLogger(__name__)

#: Folders of the bundled sample corpus, ingested on first start when the index is empty.
SAMPLE_CORPUS = ("guides", "answers", "resources", "peers")


def add_routes(app: FastAPI, desk: Desk, cookies: SessionCookies) -> None:
    add_login_routes(app, desk, cookies)

    @app.get(EXPORT_PATH, include_in_schema=False)
    def export_topics(request: Request, periode: str = DEFAULT_PERIOD) -> Response:
        # Checked here too, so that the export stays private even without the middleware.
        if cookies.user(request.cookies.get(COOKIE)) is None:
            return JSONResponse({"erreur": "connexion requise"}, status_code=401)
        if periode not in PERIODS:
            return JSONResponse({"erreur": f"période inconnue : {periode}"}, status_code=400)
        view = desk.network(periode)
        # Built in memory: the buyers' questions are never left in a shared temporary folder.
        return Response("\ufeff" + topics_csv(sort_topics(view.topics)), media_type="text/csv; charset=utf-8",
                        headers={"content-disposition": f'attachment; filename="{export_filename(periode)}"',
                                 "cache-control": "no-store"})

    @app.get("/sante", include_in_schema=False)
    def health() -> dict[str, Any]:
        # Still 200 when degraded: keyword search works, the process must stay in rotation.
        problem = desk.assistant.index.health().problem
        return {"statut": "ok"} if problem is None else {"statut": "dégradé", "index": problem}


# ---------------------------------------------------------------------- assembly


def create_app(settings: Any, desk: Desk | None = None, limits: Limits | None = None,
               guard: bool = True) -> FastAPI:
    """The whole web app, ready for uvicorn.

    Args:
        settings: `assistant.config.Settings`.
        desk: The service layer (built from settings when None).
        limits: Buyer rate limits (default: `Limits()`, or the settings' values when they exist).
        guard: Put `ProtectedPaths` and `GradioInput` in front (False only in the test that
            checks Gradio's own enforcement alone).

    Middlewares, from the outside in (see `assistant.ui.guard`): ForwardedHeaders,
    SecurityHeaders, QuietErrors, SameOrigin, ProtectedPaths, GradioInput, then a CORS policy
    that allows no origin; FastAPI caps request bodies at GUICHET_MAX_REQUEST_KB before any of
    them reads one.
    """
    desk = desk or Desk(settings, limits=limits or limits_from(settings))
    cookies = SessionCookies(key_of(settings), desk.review.sessions)
    app = FastAPI(title="Guichet vert", docs_url=None, redoc_url=None, openapi_url=None,
                  max_body_size=settings.max_request_kb * 1024)
    add_routes(app, desk, cookies)  # before the mounts, which would shadow /reseau/export

    async def current_advisor(request: Request) -> str | None:
        known = request.scope.get("state", {}).get(ADVISOR_STATE)
        return known or await anyio.to_thread.run_sync(cookies.user, request.cookies.get(COOKIE))

    common = dict(footer_links=[], run_history=False, show_error=True, max_file_size="1mb",
                  theme=gr.themes.Default(primary_hue="green", secondary_hue="emerald"),
                  js="() => { document.documentElement.lang = 'fr'; }")
    inputs: dict[str, dict[int | str, frozenset[int]]] = {}
    # The pages' links and API calls start from GUICHET_PUBLIC_URL when set, never from the
    # request's Host or X-Forwarded-Host (a full URL as root_path is used as is by Gradio).
    root = settings.public_url
    for path, panel in ((ADVISOR_PATH, advisor.build(desk)), (NETWORK_PATH, dashboard.build(desk))):
        panel.queue(default_concurrency_limit=4)
        gr.mount_gradio_app(app, panel, path=path, auth_dependency=current_advisor,
                            root_path=root + path if root else None, **common)
        inputs[path] = _inputs_of(panel)
    page = buyer.build(desk)
    page.queue(default_concurrency_limit=4, max_size=512)
    gr.mount_gradio_app(app, page, path="/", root_path=root or None, **common)  # last: "/" would shadow the others
    inputs[""] = _inputs_of(page)
    # No cross-origin reads at all: with a CORSMiddleware of its parent, Gradio adds none of its
    # own (it would allow any Origin, with credentials, once the Host is not localhost).
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_credentials=False)
    if guard:
        app.add_middleware(GradioInput, inputs=inputs)
        app.add_middleware(ProtectedPaths, cookies=cookies)
    app.add_middleware(SameOrigin, public_url=settings.public_url)
    app.add_middleware(QuietErrors)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ForwardedHeaders, trusted=settings.trusted_proxies,  # outermost: the client first
                       public_url=settings.public_url)
    app.state.desk = desk
    app.state.cookies = cookies
    return app


def _inputs_of(blocks: gr.Blocks) -> dict[int | str, frozenset[int]]:
    """How many inputs each function of an app may be given: by index (the page sends them
    all), and by API name (a script may leave out the session's state, which Gradio fills)."""
    counts: dict[int | str, frozenset[int]] = {index: frozenset({len(fn.inputs)}) for index, fn in blocks.fns.items()}
    counts.update({fn.api_name: frozenset({len(fn.inputs), sum(not block.skip_api for block in fn.inputs)})
                   for fn in blocks.fns.values() if fn.api_name})
    return counts


def limits_from(settings: Any) -> Limits:
    """Buyer rate limits from settings."""
    return Limits(per_session=settings.buyer_questions_per_minute,
                  per_address=settings.address_questions_per_minute)


# ---------------------------------------------------------------------- first start


def sample_corpus() -> list[Path]:
    """The bundled sample corpus folders (empty when the package was installed without them)."""
    root = Path(__file__).resolve().parents[2] / "corpus"
    return [root / name for name in SAMPLE_CORPUS if (root / name).is_dir()]


class _Lines:
    """Progress as plain lines, for a console that is not a terminal (logs, CI)."""

    def __init__(self, out) -> None:
        self.out, self.total, self.done = out, 0, 0

    def start(self, total_files: int) -> None:
        self.total = total_files
        print(f"  {total_files} fichier(s) à indexer", file=self.out, flush=True)

    def file_done(self, path: str) -> None:
        self.done += 1
        print(f"  [{self.done}/{self.total}] {Path(path).name}", file=self.out, flush=True)

    def embedding(self, done: int, total: int) -> None:
        pass


def first_start(desk: Desk, paths: Sequence[Path], out=None):
    """Index `paths` when the index is empty (first start), with progress on the console.

    Returns:
        The ingestion report, or None when the index already had documents.
    """
    from assistant.cli.progress import IngestBars

    out = out or sys.stderr
    if desk.assistant.index.catalog.count() > 0:
        return None
    if not paths:
        print("Index vide et aucun corpus d'exemple trouvé : lancez 'guichet ingest DOSSIER'.", file=out)
        return None
    print("Premier démarrage : indexation du corpus d'exemple (une seule fois)…", file=out, flush=True)
    bars = IngestBars() if out.isatty() else None
    with bars or nullcontext():
        report = desk.assistant.ingest(list(paths), progress=bars or _Lines(out))
    print(f"Index prêt : {report.files} fichier(s), {report.chunks} passage(s), {len(report.failed)} échec(s).",
          file=out, flush=True)
    for path, error in report.failed:
        print(f"  ÉCHEC {printable(path)} : {printable(error)}", file=out)
    return report


def serve(settings: Any, host: str | None = None, port: int | None = None, corpus: Sequence[Path] | None = None,
          ingest: bool = True, limits: Limits | None = None) -> None:
    """Start the web app (blocking): first-start ingestion, warm-up, the drafting threads, then uvicorn."""
    import uvicorn

    desk = Desk(settings, limits=limits or limits_from(settings))
    if ingest:
        first_start(desk, list(corpus) if corpus else sample_corpus())
    desk.warm_up()
    problem = desk.assistant.index.health().problem
    if problem:
        log.warning("index: %s", problem)
        print(f"Attention, index incomplet : {printable(problem)}", file=sys.stderr, flush=True)
    app = create_app(settings, desk)
    host, port = host or settings.host, port or settings.port
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


def main() -> None:
    """`python app.py`: serve with the settings from the environment (errors in one line, exit 2)."""
    from assistant.config import get_settings
    from assistant.errors import GuichetError

    try:
        serve(get_settings())
    except GuichetError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

