"""Issue #15, items 3, 7, 8, 9, 10 (body size) and 11 (headers, public URL, file modes), replayed
over plain HTTP on the real app in a subprocess: each attack of the probe, and that it now fails."""

from __future__ import annotations

import json
import re
import secrets

import httpx
import pytest
from ui_fixtures import copy_index, start_server, stop_server
from web_client import ask, form_token, login

from assistant.ui.auth import COOKIE, CSRF_COOKIE

APPS = ("", "/conseiller", "/reseau")
#: Gradio routes the pages never use (the probe found the first three open on the buyer app).
LEFTOVERS = [
    ("POST", "/gradio_api/process_recording"), ("GET", "/monitoring"), ("GET", "/monitoring/summary"),
    ("GET", "/monitoring/0123456789"), ("GET", "/gradio_api/dev/reload"), ("GET", "/gradio_api/deep_link?session_hash=x"),
    ("GET", "/gradio_api/mcp/sse"), ("POST", "/gradio_api/upload"), ("GET", "/gradio_api/upload_progress?upload_id=x"),
    ("GET", "/gradio_api/startup-events"), ("POST", "/gradio_api/cancel"), ("GET", "/gradio_api/runs"),
    ("POST", "/gradio_api/vibe-edit"), ("POST", "/gradio_api/reset"), ("GET", "/gradio_api/openapi.json"),
    ("POST", "/gradio_api/run/predict"), ("POST", "/gradio_api/api/predict"), ("POST", "/gradio_api/call/v2/poser"),
    ("GET", "/gradio_api/file=/etc/passwd"), ("GET", "/gradio_api/proxy=http://x"), ("GET", "/manifest.json"),
    ("GET", "/pwa_icon"), ("GET", "/robots.txt"), ("POST", "/login"), ("GET", "/logout"), ("GET", "/svelte/x.js"),
    ("GET", "/gradio_api/user"), ("GET", "/gradio_api/token"), ("GET", "/gradio_api/login_check"),
    ("GET", "/config?deep_link=0123abcd"), ("GET", "/?deep_link=0123abcd"),
]


@pytest.fixture(scope="module")
def advisor_cookie(server_process) -> str:
    with httpx.Client(base_url=server_process.url, timeout=60) as client:
        assert login(client).status_code == 303
        return client.cookies[COOKIE]


def _poser(url: str) -> dict:
    config = httpx.get(f"{url}/config", timeout=30).json()
    return next(d for d in config["dependencies"] if d.get("api_name") == "poser")


def _join(client: httpx.Client, fn: dict, data: list, session: str) -> list:
    """A question through Gradio's queue, as the page sends it; returns the outputs."""
    joined = client.post("/gradio_api/queue/join", json={
        "data": data, "event_data": None, "fn_index": fn["id"], "trigger_id": fn["targets"][0][0],
        "session_hash": session})
    assert joined.status_code == 200, joined.text
    with client.stream("GET", f"/gradio_api/queue/data?session_hash={session}") as stream:
        for line in stream.iter_lines():
            message = json.loads(line[5:]) if line.startswith("data:") else {}
            if message.get("msg") == "process_completed":
                return message["output"]["data"]
    raise AssertionError("the queue closed without a result")


def test_a_buyers_session_cannot_be_read_back_through_a_deep_link(server):
    """Item 3: /gradio_api/deep_link?session_hash=<victim> gave an id, /config?deep_link=<id> the
    victim's token, e-mail and question, and Gradio wrote them to deep_links/*/state.json."""
    victim, email = f"victime-{secrets.token_hex(8)}", f"victime-{secrets.token_hex(4)}@mairie-test.fr"
    question = f"Question confidentielle {secrets.token_hex(4)} sur les labels ?"
    with httpx.Client(base_url=server.url, timeout=60) as client:
        outputs = _join(client, _poser(server.url), [question, email, "", None, None], victim)
        token = re.search(r"\?fil=([\w-]+)", str(outputs)).group(1)
        assert outputs[-1] == "", f"the victim's question is accepted: {outputs[-1]}"
        link = client.get("/gradio_api/deep_link", params={"session_hash": victim})
        assert link.status_code == 404, f"the deep link route answered {link.status_code}: {link.text[:100]}"
        for path in ("/config", "/"):
            replay = client.get(path, params={"deep_link": "0" * 16})
            assert replay.status_code == 404 and email not in replay.text and token not in replay.text
        assert email not in client.get("/config").text
    leaked = [str(path) for path in server.home.rglob("*") if path.is_file() and not path.name.startswith("review.sqlite")
              and any(secret.encode() in path.read_bytes() for secret in (email, token, question))]
    assert leaked == [], f"buyer data outside the review database: {leaked}"


@pytest.mark.parametrize("app", APPS)
@pytest.mark.parametrize("method, route", LEFTOVERS)
def test_routes_the_pages_do_not_use_are_closed(server, advisor_cookie, app, method, route):
    """Item 9 (and the deep-link route of item 3) on every app, logged in where a login is needed."""
    cookies = {COOKIE: advisor_cookie} if app else {}
    with httpx.Client(base_url=server.url, timeout=10, cookies=cookies) as client:
        body = {"files": ("enregistrement.webm", b"\0" * 1_000_000)} if "recording" in route or "upload" in route else {}
        response = client.request(method, app + route, files=body or None)
    assert response.status_code == 404, f"{method} {app}{route} answered {response.status_code}: {response.text[:120]}"


@pytest.mark.parametrize("app", APPS)
def test_the_pages_and_the_question_api_still_work(server, advisor_cookie, app):
    cookies = {COOKIE: advisor_cookie} if app else {}
    with httpx.Client(base_url=server.url, timeout=30, cookies=cookies) as client:
        page = client.get(app + "/")
        assert page.status_code == 200 and "gradio" in page.text.lower()
        config = client.get(app + "/config")
        assert config.status_code == 200 and config.json()["dependencies"]
        assert client.get(app + "/theme.css").status_code == 200
    if not app:
        assert ask(server.url, "Puis-je exiger un écolabel dans un marché ?") == ""


@pytest.mark.parametrize("path", ["/config", "/gradio_api/info", "/conseiller/config", "/reseau/config"])
def test_no_cross_origin_reads_with_credentials(server, advisor_cookie, path):
    """Item 7: with a non-localhost Host, Gradio reflected any Origin, with credentials."""
    headers = {"host": "guichet.example.org", "origin": "https://pirate.example"}
    with httpx.Client(base_url=server.url, timeout=30, cookies={COOKIE: advisor_cookie}) as client:
        read = client.get(path, headers=headers)
        preflight = client.options(path, headers={**headers, "access-control-request-method": "POST",
                                                  "access-control-request-headers": "content-type"})
        post = client.post(path.replace("/config", "/gradio_api/queue/join").replace("/gradio_api/info", "/gradio_api/queue/join"),
                           json={"data": [], "fn_index": 0, "session_hash": "x"}, headers=headers)
    assert read.status_code == 200, f"{path}: {read.status_code}"
    for response in (read, preflight):
        granted = {k: v for k, v in response.headers.items() if k.startswith("access-control-allow")}
        assert granted == {}, f"{response.request.method} {path} grants {granted}"
    assert post.status_code == 403, f"a POST sent by another site's page is refused: {post.status_code} {post.text[:100]}"


def test_bad_client_input_gets_4xx_and_one_short_log_line(server):
    """Item 8: an unknown fn_index or a lone surrogate gave a 500 and a 7.4 KB traceback each."""
    poser = _poser(server.url)
    before = server.log.read_bytes()
    surrogate = b'{"data": ["\\ud800 label ?", "", "", null, null], "fn_index": %d, "session_hash": "s"}' % poser["id"]
    statuses = []
    with httpx.Client(base_url=server.url, timeout=30) as client:
        for i in range(20):
            statuses.append(client.post("/gradio_api/queue/join", json={
                "data": [], "fn_index": 900 + i, "session_hash": "s"}).status_code)
            statuses.append(client.post("/gradio_api/queue/join", content=surrogate,
                                        headers={"content-type": "application/json"}).status_code)
            statuses.append(client.post("/gradio_api/call/poser", content=b'{"data": ["\\udfff", "", ""]}',
                                        headers={"content-type": "application/json"}).status_code)
            statuses.append(client.post("/gradio_api/call/poser", json={"data": []}).status_code)
            with client.stream("GET", f"/gradio_api/queue/data?session_hash=inconnue-{i}") as stream:
                stream.read()  # a stream for an unknown session: Gradio refuses it inside the response
        assert client.get("/sante").status_code == 200
    added = server.log.read_bytes()[len(before):].decode(errors="replace")
    assert all(400 <= s < 500 for s in statuses), f"statuses: {sorted(set(statuses))}"
    lines = added.splitlines()
    assert "Traceback" not in added, f"a traceback reached the log:\n{added[:2000]}"
    assert len(lines) <= 100 and all(len(line) < 200 for line in lines), \
        f"{len(lines)} lines, {len(added)} bytes for 100 bad requests:\n{added[:1000]}"


@pytest.mark.parametrize("path", ["/gradio_api/queue/join", "/gradio_api/call/poser", "/connexion",
                                  "/conseiller/gradio_api/queue/join"])
def test_request_bodies_are_capped_in_the_app(server, advisor_cookie, path):
    """Item 10: a 20 MB body was accepted (only nginx capped bodies)."""
    kind = "application/x-www-form-urlencoded" if path == "/connexion" else "application/json"
    response = httpx.post(server.url + path, content=b"x" * (20 * 1024 * 1024), timeout=60,
                          headers={"content-type": kind}, cookies={COOKIE: advisor_cookie})
    assert response.status_code == 413, f"{path}: {response.status_code}"
    assert httpx.get(server.url + "/sante", timeout=10).status_code == 200


def test_a_body_under_the_cap_reaches_the_app_and_gets_its_own_answer(server):
    notice = ask(server.url, "label " * 100_000)  # 600 KB: under the 1 MiB cap, over the question limit
    assert "trop long" in notice, notice


def test_pages_carry_a_content_security_policy_and_no_hsts_over_http(server, advisor_cookie):
    """Item 11: CSP on every page; HSTS only over HTTPS, and a client's X-Forwarded-Proto is not believed."""
    with httpx.Client(base_url=server.url, timeout=30, cookies={COOKIE: advisor_cookie}) as client:
        for path in ("/", "/conseiller/", "/reseau/"):
            policy = client.get(path).headers.get("content-security-policy", "")
            for directive in ("default-src 'self'", "connect-src 'self'", "frame-ancestors 'none'", "object-src 'none'"):
                assert directive in policy, f"{path}: {directive!r} missing from {policy!r}"
        form = client.get("/connexion").headers["content-security-policy"]
        assert "default-src 'none'" in form and "script-src" not in form, f"the login form runs no script: {form}"
        spoofed = client.get("/", headers={"x-forwarded-proto": "https"})
        assert "strict-transport-security" not in spoofed.headers, "HSTS over plain HTTP"
    with httpx.Client(base_url=server.url, timeout=60) as client:
        ok = login(client, headers={"x-forwarded-proto": "https"})
        assert ok.status_code == 303 and "secure" not in ok.headers["set-cookie"].lower()


def test_forwarding_headers_from_a_client_do_not_reach_the_page(server):
    """Item 11: X-Forwarded-Host (and Gradio's X-Gradio-Server) flowed into the page's root URL."""
    config = httpx.get(f"{server.url}/config", timeout=30, headers={
        "x-forwarded-host": "pirate.example", "x-gradio-server": "http://pirate.example", "x-forwarded-proto": "https"}).json()
    assert "pirate" not in config["root"] and config["root"].startswith("http://127.0.0.1"), config["root"]


@pytest.fixture(scope="module")
def behind_proxy(index_template, tmp_path_factory):
    """The app as the README says to run it behind a reverse proxy on 127.0.0.1."""
    home = copy_index(index_template, tmp_path_factory.mktemp("proxied-home"))
    srv = start_server(home, "--no-ingest", "--questions-per-minute-per-address", "2", env={
        "GUICHET_TRUSTED_PROXIES": "127.0.0.1", "GUICHET_PUBLIC_URL": "https://guichet.example.org"})
    service = srv.service()
    service.add_advisor("alice", "mot-de-passe-de-test")
    service.close()
    yield srv
    stop_server(srv)


def test_behind_a_trusted_proxy_the_public_url_https_and_client_addresses_hold(behind_proxy):
    url = behind_proxy.url
    config = httpx.get(f"{url}/config", timeout=30, headers={"host": "pirate.example", "x-forwarded-host": "pirate.example"}).json()
    assert config["root"] == "https://guichet.example.org", f"the root comes from GUICHET_PUBLIC_URL: {config['root']}"
    advisor = httpx.get(f"{url}/conseiller/config", timeout=30)
    assert advisor.status_code == 401
    # TLS ends in front of the proxy, which saw (and reports) plain HTTP, as the compose nginx did:
    # the https:// public URL says what the browser used.
    https = {"x-forwarded-proto": "http", "x-forwarded-for": "198.51.100.7"}
    page = httpx.get(f"{url}/", headers=https, timeout=30)
    assert page.headers.get("strict-transport-security", "").startswith("max-age="), "HSTS behind HTTPS"
    with httpx.Client(base_url=url, timeout=60, headers={**https, "origin": "https://guichet.example.org"}) as client:
        form = client.get("/connexion")
        assert "secure" in form.headers["set-cookie"].lower(), "the CSRF cookie is Secure behind HTTPS"
        token = form_token(form)  # httpx keeps Secure cookies off plain HTTP: the browser's copy, by hand
        ok = client.post("/connexion", data={"nom": "alice", "mot_de_passe": "mot-de-passe-de-test", "jeton": token},
                         headers={"cookie": f"{CSRF_COOKIE}={token}"})
        assert ok.status_code == 303 and "secure" in ok.headers["set-cookie"].lower(), ok.headers.get("set-cookie")
    # The proxy's X-Forwarded-For is the client: one client's spent quota is not another's.
    attacker, other = {"x-forwarded-for": "203.0.113.9"}, {"x-forwarded-for": "198.51.100.7"}
    notices = [ask(url, f"Question {i} sur les labels ?", headers=attacker) for i in range(3)]
    assert notices[:2] == ["", ""] and "beaucoup de questions" in notices[2], notices
    assert ask(url, "Et un écolabel ?", headers=other) == "", "another client behind the proxy still asks"


def test_the_files_holding_secrets_are_readable_by_their_owner_only(server):
    """Item 11: review.sqlite (thread tokens, e-mails, password hashes) was created 0644."""
    modes = {path.name: oct(path.stat().st_mode & 0o777) for path in server.home.iterdir()
             if path.name.startswith("review.sqlite") or path.name == "ui-session.key"}
    assert {"review.sqlite", "ui-session.key"} <= set(modes), modes
    assert set(modes.values()) == {"0o600"}, modes
