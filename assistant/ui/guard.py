"""ASGI middlewares in front of the whole app: who the client is, what it may reach, what it gets.

From the outside in:
- `ForwardedHeaders`: X-Forwarded-For and X-Forwarded-Proto are believed only from the trusted
  proxies (GUICHET_TRUSTED_PROXIES, uvicorn's algorithm: the right-most address that is not a
  trusted proxy), then every forwarding header is dropped, so that nothing behind (Gradio
  builds URLs from X-Forwarded-Host and X-Gradio-Server) reads one a client made up.
- `SecurityHeaders`: fixed headers, a Content-Security-Policy, and HSTS over HTTPS.
- `QuietErrors`: an unexpected error gets a 500 and one log line, its traceback only the first
  time it is seen (a flood of bad requests cannot fill the log with stacks).
- `SameOrigin`: a POST (or a websocket) that a page of another site sent is refused.
- `ProtectedPaths`: nothing under /conseiller or /reseau without a live session (checked in
  the shared database), and on every app only the routes the pages use (`allowed`): Gradio's
  deep links, recordings, monitoring, reload stream, uploads, files, MCP... answer 404, and so
  will a route a Gradio upgrade adds.
- `GradioInput`: bad input to Gradio's API (an unknown function, inputs of the wrong count, a
  JSON body holding a lone surrogate) gets a 4xx and one short log line before Gradio sees it.

Example:
    >>> app.add_middleware(ProtectedPaths, cookies=cookies)        # doctest: +SKIP
    >>> app.add_middleware(ForwardedHeaders, trusted="10.0.0.5")   # doctest: +SKIP
"""

from __future__ import annotations

import json
import logging
import traceback
from collections.abc import Mapping, Sequence
from http.cookies import SimpleCookie
from urllib.parse import urlencode, urlsplit

import anyio
from fastapi.responses import JSONResponse, RedirectResponse
from starlette.exceptions import HTTPException
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from assistant.ui.auth import COOKIE, LOGIN_PATH, LOGOUT_PATH, PROTECTED, SessionCookies

log = logging.getLogger(__name__)

#: Where `ProtectedPaths` leaves the logged-in advisor's name, for Gradio's `auth_dependency`.
ADVISOR_STATE = "guichet_advisor"
#: Headers added to every response.
SECURITY_HEADERS = (
    (b"x-content-type-options", b"nosniff"),
    # Thread links carry the buyer's token: never leak the page address to linked sites.
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)
#: Gradio's pages run inline scripts and compile code at run time ('unsafe-inline',
#: 'unsafe-eval'); the policy still keeps every request, image, font and form on this origin,
#: so that an injected script or image could send nothing elsewhere, and no site can frame us.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self' 'unsafe-inline' 'unsafe-eval'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; font-src 'self' data:; connect-src 'self'; media-src 'self' data: blob:; "
    "worker-src 'self' blob:; object-src 'none'; base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
).encode()
HSTS = b"max-age=31536000"
#: Request headers that only a trusted proxy may set; dropped once read.
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
                                b"x-forwarded-port", b"x-forwarded-prefix", b"forwarded", b"x-real-ip",
                                b"x-gradio-server"})
#: The app's own routes and their methods.
APP_ROUTES: Mapping[str, frozenset[str]] = {
    LOGIN_PATH: frozenset({"GET", "HEAD", "POST"}), LOGOUT_PATH: frozenset({"GET", "HEAD", "POST"}),
    "/sante": frozenset({"GET", "HEAD"}), "/reseau/export/sujets.csv": frozenset({"GET", "HEAD"}),
}
#: What the pages and the public question API use, relative to where a Gradio app is mounted.
GRADIO_GET = frozenset({"", "/", "/config", "/theme.css", "/favicon.ico", "/gradio_api/info",
                        "/gradio_api/queue/data"})
GRADIO_GET_UNDER = ("/assets/", "/static/", "/gradio_api/heartbeat/", "/gradio_api/call/poser/")
GRADIO_POST = frozenset({"/gradio_api/queue/join", "/gradio_api/call/poser"})
#: Methods that change nothing (an Origin check is for the others).
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


def _mount_of(path: str, prefixes: Sequence[str] = PROTECTED) -> str:
    for prefix in prefixes:
        if path == prefix or path.startswith(prefix + "/"):
            return prefix
    return ""


def allowed(method: str, path: str, query: bytes = b"") -> bool:
    """Whether a request is one the pages make (the app's routes, or a Gradio route they use).

    >>> allowed("POST", "/gradio_api/queue/join"), allowed("GET", "/gradio_api/deep_link")
    (True, False)
    >>> allowed("GET", "/conseiller/assets/index.js"), allowed("POST", "/conseiller/gradio_api/upload")
    (True, False)
    """
    if path in APP_ROUTES:
        return method in APP_ROUTES[path]
    relative = path[len(_mount_of(path)):]
    if b"deep_link" in query:  # Gradio would rebuild another session's page from it
        return False
    if method in ("GET", "HEAD"):
        return relative in GRADIO_GET or relative.startswith(GRADIO_GET_UNDER)
    return method == "POST" and relative in GRADIO_POST


def _header(scope, name: bytes) -> str | None:
    for key, value in scope.get("headers", []):
        if key == name:
            return value.decode("latin-1")
    return None


def session_cookie(headers: Sequence[tuple[bytes, bytes]]) -> str | None:
    """The session cookie of raw ASGI headers, or None."""
    for key, value in headers:
        if key == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is no session
                return None
            if COOKIE in jar:
                return jar[COOKIE].value
    return None


def origin_of(url: str) -> str:
    """scheme://host[:port] of a URL, without the scheme's default port.

    >>> origin_of("https://guichet.example.org:443/conseiller/"), origin_of("http://127.0.0.1:7860")
    ('https://guichet.example.org', 'http://127.0.0.1:7860')
    """
    parts = urlsplit(url)
    scheme, host = parts.scheme.lower(), (parts.netloc.rsplit("@", 1)[-1]).lower()
    default = {"http": ":80", "https": ":443"}.get(scheme, "")
    if default and host.endswith(default):
        host = host[: -len(default)]
    return f"{scheme}://{host}"


async def _refuse(scope, receive, send, status: int, message: str) -> None:
    if scope["type"] == "websocket":
        return await send({"type": "websocket.close", "code": 4000 + status})
    return await JSONResponse({"erreur": message}, status_code=status)(scope, receive, send)


class ForwardedHeaders:
    """The client's address and scheme as the trusted proxies saw them; no forwarding header after.

    When GUICHET_PUBLIC_URL is an https:// address, every request is taken as made over HTTPS
    (Secure cookies, HSTS), whatever scheme the proxy reports: TLS may end in front of a proxy
    that only saw plain HTTP.

    Args:
        app: The wrapped ASGI app.
        trusted: Comma-separated addresses or networks of the trusted proxies ("" = none).
        public_url: GUICHET_PUBLIC_URL ("" = none).
    """

    def __init__(self, app, trusted: str = "", public_url: str = "") -> None:
        self.inner = app
        self.https = public_url.startswith("https://")
        self.app = ProxyHeadersMiddleware(self._without_forwarding, trusted_hosts=trusted) if trusted \
            else self._without_forwarding

    async def _without_forwarding(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in FORWARDING_HEADERS]
            if self.https:
                scope["scheme"] = "https" if scope["type"] == "http" else "wss"
        return await self.inner(scope, receive, send)

    async def __call__(self, scope, receive, send):
        return await self.app(scope, receive, send)


class SecurityHeaders:
    """`SECURITY_HEADERS`, the CSP (unless the response has its own) and, over HTTPS, HSTS."""

    def __init__(self, app) -> None:
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        extra = [*SECURITY_HEADERS, (b"content-security-policy", CONTENT_SECURITY_POLICY)]
        if scope.get("scheme") == "https":
            extra.append((b"strict-transport-security", HSTS))

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": [*message.get("headers", []),
                                                  *(h for h in extra if h[0] not in names)]}
            await send(message)

        return await self.app(scope, receive, send_with_headers)


def _lone_surrogate(value, depth: int = 0) -> bool:
    if isinstance(value, str):
        try:
            value.encode("utf-8")
            return False
        except UnicodeEncodeError:
            return True
    if depth > 64:
        return True
    if isinstance(value, dict):
        return any(_lone_surrogate(k, depth + 1) or _lone_surrogate(v, depth + 1) for k, v in value.items())
    if isinstance(value, list):
        return any(_lone_surrogate(v, depth + 1) for v in value)
    return False


def _is_body_limit(exc: BaseException) -> bool:
    # Starlette's body limit answers 413 itself and signals it with exceptions its middleware
    # (outside ours) catches: they are not errors and must go through.
    return isinstance(exc, HTTPException) or type(exc).__module__ == "starlette.middleware.body_limit"


class QuietErrors:
    """An unexpected error gets a 500 and one log line, its traceback only the first time.

    Args:
        app: The wrapped ASGI app.
    """

    def __init__(self, app) -> None:
        self.app = app
        self._traced: set[tuple[str, str]] = set()

    def _log(self, scope, exc: BaseException) -> None:
        cause = exc.__cause__
        if isinstance(cause, HTTPException) and cause.status_code < 500:
            # Gradio refusing a request inside a response already started (a stream for an
            # unknown session, say): the client's mistake, told in one line.
            log.warning("refused %s %s: %s", scope.get("method"), scope.get("path", "")[:120], cause.status_code)
            return
        frames = traceback.extract_tb(exc.__traceback__)
        where = f"{frames[-1].filename}:{frames[-1].lineno}" if frames else "?"
        first = (type(exc).__name__, where) not in self._traced and len(self._traced) < 1000
        self._traced.add((type(exc).__name__, where))
        log.error("%s %s failed: %s: %s (%s)", scope.get("method"), scope.get("path", "")[:120],
                  type(exc).__name__, str(exc)[:200], where, exc_info=exc if first else None)

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = finished = False

        async def tracking_send(message):
            nonlocal started, finished
            started = started or message["type"] == "http.response.start"
            finished = finished or message["type"] == "http.response.body" and not message.get("more_body", False)
            await send(message)

        try:
            await self.app(scope, receive, tracking_send)
        except Exception as exc:  # noqa: BLE001 - one line in the log, never a stack per request
            if _is_body_limit(exc):
                raise
            self._log(scope, exc)
            if not started:
                await JSONResponse({"erreur": "erreur interne : elle a été consignée"}, status_code=500)(
                    scope, receive, send)
            elif not finished:
                await send({"type": "http.response.body", "body": b"", "more_body": False})


class GradioInput:
    """Bad input to Gradio's API gets a 4xx and one short line before Gradio sees it.

    Checked in JSON bodies under /gradio_api/: no lone surrogate anywhere (Gradio and the
    database fail on one deep inside), and for queue/join (by function index) and call/NAME
    (by API name) a function the app has, given as many inputs as it takes.

    Args:
        app: The wrapped ASGI app.
        inputs: Per Gradio mount prefix ("" for the buyer app), {function index or API name:
            the numbers of inputs it may be given}.
    """

    def __init__(self, app, inputs: Mapping[str, Mapping[int | str, frozenset[int]]]) -> None:
        self.app = app
        self.inputs = inputs

    def problem(self, path: str, body: bytes) -> tuple[int, str] | None:
        """(status, French message) when the body is bad input, else None."""
        try:
            payload = json.loads(body)
        except (ValueError, RecursionError):
            return None  # FastAPI answers 422 to a body that is not JSON
        if _lone_surrogate(payload):
            return 400, "texte invalide : un caractère isolé (demi-paire UTF-16) n'est pas du texte"
        prefix = _mount_of(path)
        relative, known = path[len(prefix):], self.inputs.get(prefix, {})
        if relative == "/gradio_api/queue/join":
            function = payload.get("fn_index") if isinstance(payload, dict) else None
            if isinstance(function, bool) or not isinstance(function, int):
                function = None
        elif relative.startswith("/gradio_api/call/"):
            function = relative.removeprefix("/gradio_api/call/").strip("/")
        else:
            return None
        if function not in known:
            return 422, f"fonction inconnue : {str(function)[:20]}"
        data = payload.get("data") if isinstance(payload, dict) else None
        if not isinstance(data, list) or len(data) not in known[function]:
            counts = " ou ".join(map(str, sorted(known[function])))
            return 422, f"la fonction {function} attend {counts} valeur(s)"
        return None

    async def __call__(self, scope, receive, send):
        content_type = (_header(scope, b"content-type") or "").split(";")[0].strip().lower()
        if scope["type"] != "http" or scope["method"] != "POST" or content_type != "application/json" \
                or "/gradio_api/" not in scope["path"]:
            return await self.app(scope, receive, send)
        chunks, more = [], True
        while more:  # under FastAPI's body limit, which answers 413 past GUICHET_MAX_REQUEST_KB
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunks.append(message.get("body", b""))
            more = message.get("more_body", False)
        body = b"".join(chunks)
        problem = self.problem(scope["path"], body)
        if problem is not None:
            log.warning("refused %s %s: %s", scope["method"], scope["path"][:120], problem[1])
            return await JSONResponse({"erreur": problem[1]}, status_code=problem[0])(scope, receive, send)
        return await self.app(scope, _replaying(body, receive), send)


def _replaying(body: bytes, receive):
    """A `receive` that gives the body already read, then the client's next messages."""
    replayed = False

    async def replay():
        nonlocal replayed
        if replayed:
            return await receive()
        replayed = True
        return {"type": "http.request", "body": body, "more_body": False}

    return replay


class SameOrigin:
    """Refuse a request that changes something (or a websocket) sent by a page of another origin.

    A browser names the page's origin in `Origin`; ours is the scheme and Host the browser used,
    or GUICHET_PUBLIC_URL. Requests without `Origin` (scripts, the CLI) are not a browser's
    cross-site requests and pass.

    Args:
        app: The wrapped ASGI app.
        public_url: GUICHET_PUBLIC_URL ("" = none).
    """

    def __init__(self, app, public_url: str = "") -> None:
        self.app = app
        self.public = origin_of(public_url) if public_url else None

    def _ours(self, scope, origin: str) -> bool:
        scheme = {"ws": "http", "wss": "https"}.get(scope.get("scheme", "http"), scope.get("scheme", "http"))
        host = _header(scope, b"host") or ""
        return origin_of(origin) in {self.public, origin_of(f"{scheme}://{host}")} if "://" in origin else False

    async def __call__(self, scope, receive, send):
        safe = scope["type"] == "http" and scope.get("method") in SAFE_METHODS
        if safe or scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        origin = _header(scope, b"origin")
        if origin is None or self._ours(scope, origin):
            return await self.app(scope, receive, send)
        log.warning("refused %s %s from origin %s", scope.get("method", "websocket"), scope.get("path", "")[:120],
                    origin[:80])
        return await _refuse(scope, receive, send, 403, "requête envoyée par un autre site : refusée")


class ProtectedPaths:
    """Nothing under the protected prefixes without a live session; only the routes the pages use.

    Args:
        app: The wrapped ASGI app.
        cookies: Session cookies (each check reads the shared database, in a worker thread).
        prefixes: The protected path prefixes.
    """

    def __init__(self, app, cookies: SessionCookies, prefixes: Sequence[str] = PROTECTED) -> None:
        self.app = app
        self.cookies = cookies
        self.prefixes = tuple(prefixes)

    async def __call__(self, scope, receive, send):
        if scope["type"] not in ("http", "websocket"):
            return await self.app(scope, receive, send)
        path = scope.get("path", "")
        prefix = _mount_of(path, self.prefixes)
        if prefix:
            cookie = session_cookie(scope.get("headers", []))
            advisor = await anyio.to_thread.run_sync(self.cookies.user, cookie) if cookie else None
            if advisor is None:
                if scope["type"] == "http" and scope.get("method") in ("GET", "HEAD") and path in (prefix, prefix + "/"):
                    redirect = RedirectResponse(f"{LOGIN_PATH}?{urlencode({'suite': prefix + '/'})}", status_code=303)
                    return await redirect(scope, receive, send)
                return await _refuse(scope, receive, send, 401, "connexion requise")
            scope.setdefault("state", {})[ADVISOR_STATE] = advisor
        if scope["type"] == "websocket" or not allowed(scope.get("method", ""), path, scope.get("query_string", b"")):
            return await _refuse(scope, receive, send, 404, "introuvable")
        return await self.app(scope, receive, send)
