"""Assembly of the web app: three Gradio apps on one FastAPI app, advisor login, first start.

Routes:
    /              buyer page (open); its thread link is /?fil=TOKEN
    /conseiller/   advisor page (login required)
    /reseau/       network dashboard (login required)
    /reseau/export/sujets.csv?periode=…   recurring topics as CSV (login required)
    /connexion     advisor login form (French); /deconnexion logs out
    /sante         health check

How the login is enforced (two independent layers, both tested over plain HTTP):
1. `ProtectedPaths`, an ASGI middleware in front of everything: any request under /conseiller
   or /reseau (pages, /gradio_api/*, files, uploads, heartbeats, websockets, routes a future
   Gradio adds) without a valid session cookie is refused (401; a browser asking for the page is
   sent to /connexion).
2. Gradio's own check: both apps are mounted with `auth_dependency`, so Gradio's `login_check`
   refuses its page config and API routes (queue/join, call, info, file, upload) with 401.
The session cookie is an HMAC-signed, expiring token (key in GUICHET_HOME/ui-session.key), so
several app processes sharing GUICHET_HOME accept each other's sessions; HttpOnly,
SameSite=Strict (no cross-site request carries it), Secure behind HTTPS.

Example:
    >>> app = create_app(get_settings())                   # doctest: +SKIP
    >>> uvicorn.run(app, host="127.0.0.1", port=7860)      # doctest: +SKIP
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import html
import logging
import os
import secrets
import sys
import threading
import time
from collections.abc import Sequence
from contextlib import nullcontext
from http.cookies import SimpleCookie
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import gradio as gr
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response

from assistant.insights.exports import groups_csv
from assistant.insights.indicators import DEFAULT_PERIOD, PERIODS
from assistant.ui import advisor, buyer, dashboard
from assistant.ui.dashboard import EXPORT_PATH, export_filename
from assistant.ui.desk import Desk
from assistant.ui.ratelimit import LOGIN_FAILURES, LOGIN_WINDOW_S, Limits, RateLimit, RateLimited

log = logging.getLogger(__name__)

ADVISOR_PATH = "/conseiller"
NETWORK_PATH = "/reseau"
PROTECTED = (ADVISOR_PATH, NETWORK_PATH)
LOGIN_PATH = "/connexion"
LOGOUT_PATH = "/deconnexion"
COOKIE = "guichet_session"
#: How long an advisor stays logged in without logging in again.
SESSION_HOURS = 10
#: Headers added to every response.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    # Thread links carry the buyer's token: never leak the page address to linked sites.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
#: Gradio routes the open buyer app never needs: its file server reads Gradio's cache, which all
#: three apps share, and nothing there is for anonymous visitors.
CLOSED_ON_OPEN_APP = ("/gradio_api/file=", "/gradio_api/file/", "/gradio_api/upload", "/gradio_api/proxy=",
                      "/file=", "/upload")
#: Folders of the bundled sample corpus, ingested on first start when the index is empty.
SAMPLE_CORPUS = ("guides", "answers", "resources")


# ---------------------------------------------------------------------- sessions


class Sessions:
    """Signed, expiring advisor sessions (stateless: any process with the key checks them).

    Args:
        key: HMAC key (32 random bytes).
        hours: Lifetime of a session.
    """

    def __init__(self, key: bytes, hours: float = SESSION_HOURS) -> None:
        self._key = key
        self.seconds = int(hours * 3600)
        self._revoked: dict[str, float] = {}
        self._lock = threading.Lock()

    @classmethod
    def for_home(cls, home: Path, hours: float = SESSION_HOURS) -> "Sessions":
        """Sessions keyed by `HOME/ui-session.key`, created (mode 0600) on first use."""
        path = Path(home) / "ui-session.key"
        path.parent.mkdir(parents=True, exist_ok=True)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            key = path.read_bytes()
        else:
            key = secrets.token_bytes(32)
            with os.fdopen(fd, "wb") as out:
                out.write(key)
        if len(key) < 32:
            raise ValueError(f"{path} holds a key of {len(key)} bytes: delete it, a new one is made at start")
        return cls(key, hours)

    def _sign(self, payload: str) -> str:
        return hmac.new(self._key, payload.encode(), hashlib.sha256).hexdigest()

    def issue(self, name: str) -> str:
        """A new session token for an authenticated advisor."""
        encoded = base64.urlsafe_b64encode(name.encode()).decode().rstrip("=")
        payload = f"{encoded}:{int(time.time()) + self.seconds}:{secrets.token_urlsafe(12)}"
        return f"{payload}:{self._sign(payload)}"

    def _parts(self, token: str | None) -> tuple[str, int, str] | None:
        if not token or token.count(":") != 3:
            return None
        payload, signature = token.rsplit(":", 1)
        if not hmac.compare_digest(signature, self._sign(payload)):
            return None
        encoded, expires, nonce = payload.split(":")
        try:
            name = base64.urlsafe_b64decode(encoded + "=" * (-len(encoded) % 4)).decode()
            expires_at = int(expires)
        except ValueError:
            return None
        return name, expires_at, nonce

    def user(self, token: str | None) -> str | None:
        """The advisor a token belongs to, or None (bad signature, expired, logged out)."""
        parts = self._parts(token)
        if parts is None:
            return None
        name, expires_at, nonce = parts
        if expires_at < time.time() or nonce in self._revoked:
            return None
        return name

    def revoke(self, token: str | None) -> None:
        """Log a session out (in this process; the cookie is deleted in the browser too)."""
        parts = self._parts(token)
        if parts is None:
            return
        now = time.time()
        with self._lock:
            self._revoked = {n: exp for n, exp in self._revoked.items() if exp > now}
            self._revoked[parts[2]] = parts[1]


def _cookie(scope_or_request_headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    for key, value in scope_or_request_headers:
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no session
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


class ProtectedPaths:
    """ASGI middleware: nothing under the protected prefixes without a valid session, and no file
    route on the open buyer app."""

    def __init__(self, app, sessions: Sessions, prefixes: Sequence[str] = PROTECTED) -> None:
        self.app = app
        self.sessions = sessions
        self.prefixes = tuple(prefixes)

    def _protected(self, path: str) -> str | None:
        for prefix in self.prefixes:
            if path == prefix or path.startswith(prefix + "/"):
                return prefix
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        prefix = self._protected(path)
        if prefix is None and path.startswith(CLOSED_ON_OPEN_APP):
            return await JSONResponse({"erreur": "introuvable"}, status_code=404)(scope, receive, send)
        if prefix is None or self.sessions.user(_cookie(scope.get("headers", []))) is not None:
            return await self.app(scope, receive, send)
        if scope["type"] == "websocket":
            return await send({"type": "websocket.close", "code": 4401})
        if scope.get("method") in ("GET", "HEAD") and path in (prefix, prefix + "/"):
            response = RedirectResponse(f"{LOGIN_PATH}?{urlencode({'suite': prefix + '/'})}", status_code=303)
        else:
            response = JSONResponse({"erreur": "connexion requise"}, status_code=401)
        return await response(scope, receive, send)


class SecurityHeaders:
    """ASGI middleware adding `SECURITY_HEADERS` to every HTTP response."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in SECURITY_HEADERS if h[0] not in names)]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


# ---------------------------------------------------------------------- login page


LOGIN_HTML = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>Connexion — Guichet vert</title>
<style>
body {{ font-family: system-ui, sans-serif; background: #f4f7f4; margin: 0; }}
main {{ max-width: 380px; margin: 10vh auto; background: #fff; padding: 2rem; border-radius: 12px;
        box-shadow: 0 2px 12px rgba(0,0,0,.08); }}
h1 {{ font-size: 1.4rem; color: #1f5f3a; }} label {{ display: block; margin-top: 1rem; }}
input {{ width: 100%; padding: .6rem; margin-top: .3rem; box-sizing: border-box; font-size: 1rem; }}
button {{ margin-top: 1.5rem; width: 100%; padding: .7rem; background: #1f7a4a; color: #fff; border: 0;
          border-radius: 6px; font-size: 1rem; cursor: pointer; }}
.erreur {{ color: #a61b1b; margin-top: 1rem; }} small {{ color: #555; }}
</style></head>
<body><main>
<h1>Guichet vert — espace conseillers</h1>
<p><small>Comptes créés par l'administrateur avec <code>guichet advisor add</code>.</small></p>
<form method="post" action="{action}">
<input type="hidden" name="suite" value="{suite}">
<label for="nom">Nom de conseiller</label><input id="nom" name="nom" autocomplete="username" required>
<label for="mot_de_passe">Mot de passe</label>
<input id="mot_de_passe" name="mot_de_passe" type="password" autocomplete="current-password" required>
<button type="submit" id="se-connecter">Se connecter</button>
</form>
{error}
<p><small><a href="/">Retour à la page des acheteurs</a></small></p>
</main></body></html>"""


def _safe_next(target: str | None) -> str:
    """Where to go after login: only our own protected pages (no open redirect)."""
    target = target or ""
    for prefix in PROTECTED:
        if target in (prefix, prefix + "/"):
            return prefix + "/"
    return ADVISOR_PATH + "/"


def _login_page(suite: str, error: str = "", status: int = 200) -> HTMLResponse:
    block = f'<p class="erreur" role="alert">{html.escape(error)}</p>' if error else ""
    return HTMLResponse(LOGIN_HTML.format(action=LOGIN_PATH, suite=html.escape(_safe_next(suite)), error=block),
                        status_code=status, headers={"cache-control": "no-store"})


def _is_https(request: Request) -> bool:
    return request.url.scheme == "https" or request.headers.get("x-forwarded-proto", "").split(",")[0] == "https"


def add_routes(app: FastAPI, desk: Desk, sessions: Sessions) -> None:
    failures = RateLimit(LOGIN_FAILURES, LOGIN_WINDOW_S)

    @app.get(LOGIN_PATH, response_class=HTMLResponse, include_in_schema=False)
    def login_form(suite: str = "") -> HTMLResponse:
        return _login_page(suite)

    @app.post(LOGIN_PATH, include_in_schema=False)
    def login(request: Request, nom: str = Form(""), mot_de_passe: str = Form(""), suite: str = Form("")):
        address = request.client.host if request.client else "-"
        try:
            failures.check(address)
        except RateLimited as exc:
            return _login_page(suite, f"Trop de tentatives : réessayez dans {round(exc.retry_after / 60) or 1} min.",
                               status=429)
        if not desk.authenticate(nom, mot_de_passe):
            try:
                failures.hit(address)
            except RateLimited:
                pass
            log.warning("failed advisor login for %r from %s", nom[:64], address)
            return _login_page(suite, "Nom ou mot de passe incorrect.", status=401)
        response = RedirectResponse(_safe_next(suite), status_code=303)
        response.set_cookie(COOKIE, sessions.issue(nom.strip()), max_age=sessions.seconds, httponly=True,
                            samesite="strict", secure=_is_https(request), path="/")
        return response

    @app.get(LOGOUT_PATH, include_in_schema=False)
    def logout(request: Request):
        sessions.revoke(request.cookies.get(COOKIE))
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response

    @app.get(EXPORT_PATH, include_in_schema=False)
    def export_topics(request: Request, periode: str = DEFAULT_PERIOD) -> Response:
        # Checked here too, so that the export stays private even without the middleware.
        if sessions.user(request.cookies.get(COOKIE)) is None:
            return JSONResponse({"erreur": "connexion requise"}, status_code=401)
        if periode not in PERIODS:
            return JSONResponse({"erreur": f"période inconnue : {periode}"}, status_code=400)
        view = desk.network(periode)
        # Built in memory: the buyers' questions are never left in a shared temporary folder.
        return Response("\ufeff" + groups_csv(view.groups), media_type="text/csv; charset=utf-8", headers={
            "content-disposition": f'attachment; filename="{export_filename(periode)}"',
            "cache-control": "no-store"})

    @app.get("/sante", include_in_schema=False)
    def health() -> dict[str, Any]:
        return {"statut": "ok"}


# ---------------------------------------------------------------------- assembly


def create_app(settings: Any, desk: Desk | None = None, limits: Limits | None = None,
               guard: bool = True) -> FastAPI:
    """The whole web app, ready for uvicorn.

    Args:
        settings: `assistant.config.Settings`.
        desk: The service layer (built from settings when None).
        limits: Buyer rate limits (default: `Limits()`, or the settings' values when they exist).
        guard: Put `ProtectedPaths` in front (False only in the test that checks Gradio's own
            enforcement alone).
    """
    desk = desk or Desk(settings, limits=limits or limits_from(settings))
    secret = settings.session_secret.get_secret_value()
    sessions = (Sessions(hashlib.sha256(secret.encode()).digest()) if secret
                else Sessions.for_home(Path(settings.home)))
    app = FastAPI(title="Guichet vert", docs_url=None, redoc_url=None, openapi_url=None)
    add_routes(app, desk, sessions)  # before the mounts, which would shadow /reseau/export

    def current_advisor(request: Request) -> str | None:
        return sessions.user(request.cookies.get(COOKIE))

    common = dict(footer_links=[], run_history=False, show_error=True, max_file_size="1mb",
                  theme=gr.themes.Default(primary_hue="green", secondary_hue="emerald"),
                  js="() => { document.documentElement.lang = 'fr'; }")
    for path, panel in ((ADVISOR_PATH, advisor.build(desk)), (NETWORK_PATH, dashboard.build(desk))):
        panel.queue(default_concurrency_limit=4)
        gr.mount_gradio_app(app, panel, path=path, auth_dependency=current_advisor, **common)
    page = buyer.build(desk)
    page.queue(default_concurrency_limit=4, max_size=512)
    gr.mount_gradio_app(app, page, path="/", **common)  # last: "/" would shadow the others
    if guard:
        app.add_middleware(ProtectedPaths, sessions=sessions)
    app.add_middleware(SecurityHeaders)
    app.state.desk = desk
    app.state.sessions = sessions
    return app


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
        print(f"  ÉCHEC {path} : {error}", file=out)
    return report


def serve(settings: Any, host: str | None = None, port: int | None = None, corpus: Sequence[Path] | None = None,
          ingest: bool = True, limits: Limits | None = None) -> None:
    """Start the web app (blocking): first-start ingestion, warm-up, then uvicorn."""
    import uvicorn

    desk = Desk(settings, limits=limits or limits_from(settings))
    if ingest:
        first_start(desk, list(corpus) if corpus else sample_corpus())
    desk.warm_up()
    app = create_app(settings, desk)
    host, port = host or settings.host, port or settings.port
    shown = "127.0.0.1" if host in ("0.0.0.0", "::") else host
    print(f"Guichet vert : http://{shown}:{port}/ (acheteurs) · http://{shown}:{port}{ADVISOR_PATH}/ "
          f"(conseillers) · http://{shown}:{port}{NETWORK_PATH}/ (réseau)", file=sys.stderr, flush=True)
    uvicorn.run(app, host=host, port=port, log_level="warning", timeout_graceful_shutdown=5)


def main() -> None:
    """`python app.py`: serve with the settings from the environment (errors in one line, exit 2)."""
    from assistant.config import get_settings
    from assistant.errors import GuichetError

    try:
        serve(get_settings())
    except GuichetError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None

