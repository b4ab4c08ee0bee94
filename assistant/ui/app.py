"""The web app: three Gradio apps on one FastAPI app behind the advisor login.

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
    >>> app = compose.web_app(settings, desk)              # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=7860)      # doctest: +SKIP
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Any

import anyio
import gradio as gr
from fastapi import FastAPI, Request
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import JSONResponse, Response

from assistant.insights.exports import topics_csv
from assistant.insights.indicators import DEFAULT_PERIOD, PERIODS
from assistant.insights.quality import sort_topics
from assistant.ui import advisor, buyer, dashboard
from assistant.ui.auth import ADVISOR_PATH, COOKIE, NETWORK_PATH, SessionCookies, add_login_routes
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


@dataclass(frozen=True)
class WebConfig:
    """How the app faces the network, checked when built (`assistant.compose` builds it).

    Args:
        session_key: Key signing the advisors' session cookies (32 bytes or more).
        public_url: The address people type ("" = the Host the browser used).
        trusted_proxies: Comma-separated addresses or networks of the reverse proxies.
        max_request_kb: Largest request body read (KiB, > 0).

    Raises:
        ValueError: a short key or a size <= 0.
    """

    session_key: bytes = field(repr=False)
    public_url: str
    trusted_proxies: str
    max_request_kb: int

    def __post_init__(self) -> None:
        if len(self.session_key) < 32:
            raise ValueError(f"the session key holds {len(self.session_key)} bytes, 32 are needed")
        if self.max_request_kb <= 0:
            raise ValueError(f"max_request_kb must be > 0, got {self.max_request_kb}")


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


def create_app(desk: Desk, web: WebConfig, guard: bool = True) -> FastAPI:
    """The whole web app, ready for uvicorn.

    Args:
        desk: The service layer.
        web: Session key, public address, trusted proxies, request size limit.
        guard: Put `ProtectedPaths` and `GradioInput` in front (False only in the test that
            checks Gradio's own enforcement alone).

    Middlewares, from the outside in (see `assistant.ui.guard`): ForwardedHeaders,
    SecurityHeaders, QuietErrors, SameOrigin, ProtectedPaths, GradioInput, then a CORS policy
    that allows no origin; FastAPI caps request bodies at GUICHET_MAX_REQUEST_KB before any of
    them reads one.
    """
    cookies = SessionCookies(web.session_key, desk.review.sessions)
    app = FastAPI(title="Guichet vert", docs_url=None, redoc_url=None, openapi_url=None,
                  max_body_size=web.max_request_kb * 1024)
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
    root = web.public_url
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
    app.add_middleware(SameOrigin, public_url=web.public_url)
    app.add_middleware(QuietErrors)
    app.add_middleware(SecurityHeaders)
    app.add_middleware(ForwardedHeaders, trusted=web.trusted_proxies,  # outermost: the client first
                       public_url=web.public_url)
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
