"""What a browser or a script does over plain HTTP against the real app: log in and out through
the forms (with their CSRF token), ask a question through the public API."""

from __future__ import annotations

import re

import httpx
from ui_fixtures import PASSWORD, call_poser


def form_token(page: httpx.Response) -> str:
    """The CSRF token of a login or logout form (the browser gets its cookie with the page)."""
    match = re.search(r'name="jeton" value="([^"]+)"', page.text)
    assert match, f"no CSRF token in the form: {page.status_code} {page.text[:300]}"
    return match.group(1)


def login(client, name: str = "alice", password: str = PASSWORD, suite: str = "/conseiller/", headers=None):
    """Log in as a browser does: get the form (and its CSRF cookie), then post it."""
    token = form_token(client.get("/connexion"))
    return client.post("/connexion", data={"nom": name, "mot_de_passe": password, "suite": suite, "jeton": token},
                       headers=headers)


def logout(client):
    """Log out as a browser does: the /deconnexion page, then its button (a POST)."""
    return client.post("/deconnexion", data={"jeton": form_token(client.get("/deconnexion"))})


def session_of(client) -> str:
    """The session cookie a logged-in client holds."""
    return client.cookies["guichet_session"]


def ask(url: str, question: str, headers: dict[str, str] | None = None, email: str = "") -> str:
    """Ask through the public API; returns the page's notice ("" = accepted)."""
    return call_poser(url, [question, email, ""], headers=headers)[-1]
