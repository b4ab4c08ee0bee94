"""ASGI middlewares in front of the whole app: who the client is, who may reach what, headers.

- `ForwardedHeaders`: X-Forwarded-For and X-Forwarded-Proto are believed only from the trusted
  proxies (GUICHET_TRUSTED_PROXIES, uvicorn's algorithm: the right-most address that is not a
  trusted proxy), then every forwarding header is dropped, so that nothing behind (Gradio
  builds URLs from X-Forwarded-Host) reads one a client made up.
- `ProtectedPaths`: nothing under /conseiller or /reseau without a live session (checked in the
  shared database), and no file route on the open buyer app.
- `SecurityHeaders`: fixed headers on every response.

Example:
    >>> app.add_middleware(ProtectedPaths, cookies=cookies)        # doctest: +SKIP
    >>> app.add_middleware(ForwardedHeaders, trusted="10.0.0.5")   # doctest: +SKIP
"""

from __future__ import annotations

from collections.abc import Sequence
from http.cookies import SimpleCookie
from urllib.parse import urlencode

import anyio
from fastapi.responses import JSONResponse, RedirectResponse
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from assistant.ui.auth import COOKIE, LOGIN_PATH, PROTECTED, SessionCookies

#: Where `ProtectedPaths` leaves the logged-in advisor's name, for Gradio's `auth_dependency`.
ADVISOR_STATE = "guichet_advisor"
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
#: Request headers that only a trusted proxy may set; dropped once read.
FORWARDING_HEADERS = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-host",
                                b"x-forwarded-port", b"x-forwarded-prefix", b"forwarded", b"x-real-ip",
                                b"x-gradio-server"})


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


class ForwardedHeaders:
    """The client's address and scheme as the trusted proxies saw them; no forwarding header after.

    Args:
        app: The wrapped ASGI app.
        trusted: Comma-separated addresses or networks of the trusted proxies ("" = none).
    """

    def __init__(self, app, trusted: str = "") -> None:
        self.inner = app
        self.app = ProxyHeadersMiddleware(self._without_forwarding, trusted_hosts=trusted) if trusted \
            else self._without_forwarding

    async def _without_forwarding(self, scope, receive, send):
        if scope["type"] in ("http", "websocket"):
            scope["headers"] = [(k, v) for k, v in scope["headers"] if k not in FORWARDING_HEADERS]
        return await self.inner(scope, receive, send)

    async def __call__(self, scope, receive, send):
        return await self.app(scope, receive, send)


class ProtectedPaths:
    """Nothing under the protected prefixes without a live session, no file route on the open app.

    Args:
        app: The wrapped ASGI app.
        cookies: Session cookies (each check reads the shared database, in a worker thread).
        prefixes: The protected path prefixes.
    """

    def __init__(self, app, cookies: SessionCookies, prefixes: Sequence[str] = PROTECTED) -> None:
        self.app = app
        self.cookies = cookies
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
        if prefix is None:
            if path.startswith(CLOSED_ON_OPEN_APP):
                return await JSONResponse({"erreur": "introuvable"}, status_code=404)(scope, receive, send)
            return await self.app(scope, receive, send)
        cookie = session_cookie(scope.get("headers", []))
        advisor = await anyio.to_thread.run_sync(self.cookies.user, cookie) if cookie else None
        if advisor is not None:
            scope.setdefault("state", {})[ADVISOR_STATE] = advisor
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
