"""Advisor login: session cookies, the login and logout forms, and their CSRF token.

A session cookie is `SESSION_ID.SIGNATURE`: the id of a session row in the review database
(`assistant.review.sessions`, which every app process reads, so a logout, a password change or
an advisor's removal ends it everywhere at once), signed with the app's key (GUICHET_SESSION_SECRET,
or a key file in GUICHET_HOME) so that a forged cookie is refused without reading the database.
The cookie is HttpOnly, SameSite=Strict (no cross-site request carries it) and Secure over HTTPS.

Both forms (login, logout) carry a CSRF token that must equal the one in a SameSite=Strict
cookie: a page on another site can neither read the token nor send the cookie, so it can
neither log a visitor in as someone else nor log them out. Logging out is a POST; the GET of
/deconnexion only shows the button.

Example:
    >>> cookies = SessionCookies(session_key("", home), desk.review.sessions)   # doctest: +SKIP
    >>> add_login_routes(app, desk, cookies)                               # doctest: +SKIP
"""

from __future__ import annotations

import hashlib
import hmac
import html
import logging
import math
import os
import secrets
from pathlib import Path
from urllib.parse import urlencode

import anyio
from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from assistant.review.errors import RateLimited
from assistant.review.sessions import AdvisorSessions
from assistant.ui.desk import Desk

log = logging.getLogger(__name__)

ADVISOR_PATH = "/conseiller"
NETWORK_PATH = "/reseau"
PROTECTED = (ADVISOR_PATH, NETWORK_PATH)
LOGIN_PATH = "/connexion"
LOGOUT_PATH = "/deconnexion"
COOKIE = "guichet_session"
CSRF_COOKIE = "guichet_csrf"
CSRF_FIELD = "jeton"
#: Logins checked at once by one process (each may hold an argon2 check or wait as long as one);
#: the others wait for their turn, never more than `LOGIN_WAIT_S`, without holding a thread.
LOGIN_THREADS = 4
LOGIN_WAIT_S = 20.0
KEY_FILE = "ui-session.key"


def session_key(secret: str, home: Path) -> bytes:
    """The signing key: from `secret` (GUICHET_SESSION_SECRET), else `home/ui-session.key` (made
    0600 on first use)."""
    if secret:
        return hashlib.sha256(secret.encode()).digest()
    path = Path(home) / KEY_FILE
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
    return key


class SessionCookies:
    """Advisors' session cookies over the sessions of the review database.

    Args:
        key: HMAC key (32 bytes or more).
        sessions: The shared session store.
    """

    def __init__(self, key: bytes, sessions: AdvisorSessions) -> None:
        self._key = key
        self.sessions = sessions

    @property
    def seconds(self) -> int:
        return self.sessions.seconds

    def _sign(self, session_id: str) -> str:
        return hmac.new(self._key, session_id.encode(), hashlib.sha256).hexdigest()

    def _session_id(self, cookie: str | None) -> str | None:
        if not cookie or cookie.count(".") != 1:
            return None
        session_id, signature = cookie.split(".")
        return session_id if hmac.compare_digest(signature, self._sign(session_id)) else None

    def issue(self, advisor: str) -> str:
        """Open a session for an authenticated advisor; returns the cookie value."""
        session_id = self.sessions.open(advisor)
        return f"{session_id}.{self._sign(session_id)}"

    def user(self, cookie: str | None) -> str | None:
        """The advisor of a cookie, or None (forged, expired, logged out, advisor removed)."""
        session_id = self._session_id(cookie)
        return self.sessions.advisor(session_id) if session_id else None

    def revoke(self, cookie: str | None) -> None:
        """End the cookie's session on every process."""
        session_id = self._session_id(cookie)
        if session_id:
            self.sessions.close(session_id)


# ---------------------------------------------------------------------- pages

PAGE_HTML = """<!doctype html>
<html lang="fr"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{title} — Guichet vert</title>
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
{body}
</main></body></html>"""

LOGIN_BODY = """<h1>Guichet vert — espace conseillers</h1>
<p><small>Comptes créés par l'administrateur avec <code>guichet advisor add</code>.</small></p>
<form method="post" action="{action}">
<input type="hidden" name="suite" value="{suite}">
<input type="hidden" name="{field}" value="{token}">
<label for="nom">Nom de conseiller</label><input id="nom" name="nom" autocomplete="username" required>
<label for="mot_de_passe">Mot de passe</label>
<input id="mot_de_passe" name="mot_de_passe" type="password" autocomplete="current-password" required>
<button type="submit" id="se-connecter">Se connecter</button>
</form>
{error}
<p><small><a href="/">Retour à la page des acheteurs</a></small></p>"""

LOGOUT_BODY = """<h1>Se déconnecter</h1>
<p>Fermer la session de conseiller ouverte dans ce navigateur ?</p>
<form method="post" action="{action}">
<input type="hidden" name="{field}" value="{token}">
<button type="submit" id="se-deconnecter">Se déconnecter</button>
</form>
{error}
<p><small><a href="{back}">Retour à l'espace conseillers</a></small></p>"""

EXPIRED_FORM = "Le formulaire a expiré : il a été rechargé, recommencez."
#: The forms run no script at all, and post only here.
FORM_CSP = "default-src 'none'; style-src 'unsafe-inline'; form-action 'self'; base-uri 'none'; frame-ancestors 'none'"


def safe_next(target: str | None) -> str:
    """Where to go after login: only our own protected pages (no open redirect)."""
    target = target or ""
    for prefix in PROTECTED:
        if target in (prefix, prefix + "/"):
            return prefix + "/"
    return ADVISOR_PATH + "/"


def is_https(request: Request) -> bool:
    """Whether the browser reached us over HTTPS (the scheme a trusted proxy reported, if any)."""
    return request.url.scheme == "https"


def _csrf_token(request: Request) -> str:
    token = request.cookies.get(CSRF_COOKIE, "")
    return token if len(token) == 43 and token.replace("-", "").replace("_", "").isalnum() else \
        secrets.token_urlsafe(32)


def csrf_ok(request: Request, submitted: str) -> bool:
    """Whether a form's token equals the CSRF cookie (which no other site can send or read)."""
    cookie = request.cookies.get(CSRF_COOKIE, "")
    return bool(cookie) and hmac.compare_digest(cookie.encode(), (submitted or "").encode())


def _page(request: Request, title: str, body: str, status: int = 200, **fields: str) -> HTMLResponse:
    token = _csrf_token(request)
    escaped = {k: html.escape(v) for k, v in fields.items() if k != "error"}
    error = fields.get("error", "")
    block = f'<p class="erreur" role="alert">{html.escape(error)}</p>' if error else ""
    response = HTMLResponse(PAGE_HTML.format(title=title, body=body.format(
        field=CSRF_FIELD, token=token, error=block, **escaped)), status_code=status,
        # same-origin, not no-referrer: with no referrer a browser names the form's origin "null".
        headers={"cache-control": "no-store", "content-security-policy": FORM_CSP, "referrer-policy": "same-origin"})
    response.set_cookie(CSRF_COOKIE, token, httponly=True, samesite="strict", secure=is_https(request), path="/")
    return response


def login_page(request: Request, suite: str, error: str = "", status: int = 200,
               headers: dict[str, str] | None = None) -> HTMLResponse:
    response = _page(request, "Connexion", LOGIN_BODY, status, action=LOGIN_PATH, suite=safe_next(suite),
                     error=error)
    response.headers.update(headers or {})
    return response


def logout_page(request: Request, error: str = "", status: int = 200) -> HTMLResponse:
    return _page(request, "Déconnexion", LOGOUT_BODY, status, action=LOGOUT_PATH, back=ADVISOR_PATH + "/",
                 error=error)


def add_login_routes(app: FastAPI, desk: Desk, cookies: SessionCookies) -> None:
    """/connexion (GET form, POST login) and /deconnexion (GET button, POST logout)."""
    turns = anyio.CapacityLimiter(LOGIN_THREADS)

    @app.get(LOGIN_PATH, response_class=HTMLResponse, include_in_schema=False)
    def login_form(request: Request, suite: str = "") -> HTMLResponse:
        return login_page(request, suite)

    @app.post(LOGIN_PATH, include_in_schema=False)
    async def login(request: Request, nom: str = Form(""), mot_de_passe: str = Form(""), suite: str = Form(""),
                    jeton: str = Form("")) -> Response:
        if not csrf_ok(request, jeton):
            return login_page(request, suite, EXPIRED_FORM, status=403)
        address = request.client.host if request.client else "-"
        try:
            with anyio.fail_after(LOGIN_WAIT_S):
                ok = await anyio.to_thread.run_sync(desk.authenticate, nom, mot_de_passe, limiter=turns,
                                                    abandon_on_cancel=True)
        except TimeoutError:
            return login_page(request, suite, "Le serveur est très sollicité : réessayez dans un instant.",
                              status=503, headers={"retry-after": "5"})
        except RateLimited as exc:
            wait = max(1, math.ceil(exc.retry_after))
            shown = f"{wait} s" if wait < 120 else f"{math.ceil(wait / 60)} min"
            return login_page(request, suite, f"Trop de tentatives pour ce compte : réessayez dans {shown}.",
                              status=429, headers={"retry-after": str(wait)})
        if not ok:
            log.warning("failed advisor login for %r from %s", nom[:64], address)
            return login_page(request, suite, "Nom ou mot de passe incorrect.", status=401)
        cookie = await anyio.to_thread.run_sync(cookies.issue, nom.strip())
        response = RedirectResponse(safe_next(suite), status_code=303)
        response.set_cookie(COOKIE, cookie, max_age=cookies.seconds, httponly=True, samesite="strict",
                            secure=is_https(request), path="/")
        return response

    @app.get(LOGOUT_PATH, response_class=HTMLResponse, include_in_schema=False)
    def logout_form(request: Request) -> Response:
        if cookies.user(request.cookies.get(COOKIE)) is None:
            return RedirectResponse(f"{LOGIN_PATH}?{urlencode({'suite': ADVISOR_PATH + '/'})}", status_code=303)
        return logout_page(request)

    @app.post(LOGOUT_PATH, include_in_schema=False)
    def logout(request: Request, jeton: str = Form("")) -> Response:
        if not csrf_ok(request, jeton):
            return logout_page(request, EXPIRED_FORM, status=403)
        cookies.revoke(request.cookies.get(COOKIE))
        response = RedirectResponse(LOGIN_PATH, status_code=303)
        response.delete_cookie(COOKIE, path="/")
        return response
