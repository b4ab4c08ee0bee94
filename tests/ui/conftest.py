"""Fixtures of the web app tests: a real small index, the real app in a subprocess, Chromium.

The index (three guides, one file of past answers and the peers file of the bundled corpus,
embedded with the real bundled model) is built once per session and copied for each consumer, so that each
server or desk gets its own review database and nothing leaks between tests.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest
from ui_fixtures import (
    FAST_HASHER,
    PASSWORD,
    ROOT,
    Server,
    copy_index,
    forget_limits,
    settings_for,
    start_server,
    stop_server,
)

CORPUS_FILES = (
    ROOT / "corpus" / "guides" / "exiger-un-label.md",
    ROOT / "corpus" / "guides" / "don-materiel-informatique.md",
    ROOT / "corpus" / "guides" / "indice-reparabilite.md",
    ROOT / "corpus" / "answers" / "cadre-juridique.yaml",
    ROOT / "corpus" / "peers" / "retours-experience.yaml",
)
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]


@pytest.fixture(scope="session")
def index_template(tmp_path_factory) -> Path:
    """A data directory holding a real index of CORPUS_FILES (built once per session)."""
    from assistant.compose import open_assistant

    home = tmp_path_factory.mktemp("index-template")
    report = open_assistant(settings_for(home)).ingest(list(CORPUS_FILES))
    assert report.files == len(CORPUS_FILES) and not report.failed, f"template ingest failed: {report}"
    return home


@pytest.fixture
def desk(index_template, tmp_path):
    """A Desk (service layer) on its own copy of the index, with a fast password hasher."""
    from assistant.compose import open_desk
    from assistant.review.limits import Limits

    home = copy_index(index_template, tmp_path / "desk-home")
    d = open_desk(settings_for(home), limits=Limits(per_session=0, per_address=0), password_hasher=FAST_HASHER)
    d.review.add_advisor("alice", PASSWORD)
    d.review.add_advisor("bob", PASSWORD)
    d.drafts.poll_s = 0.2
    d.start_drafting()
    yield d
    d.close()


@pytest.fixture(scope="module")
def server_process(index_template, tmp_path_factory) -> Iterator[Server]:
    """The real app (`guichet serve`) on a free port, its own data directory, two advisors
    (shared by a module's tests: use `server`)."""
    home = copy_index(index_template, tmp_path_factory.mktemp("server-home"))
    srv = start_server(home, "--no-ingest", "--questions-per-minute", "5", "--questions-per-minute-per-address", "0")
    service = srv.service()
    service.add_advisor("alice", PASSWORD)
    service.add_advisor("bob", PASSWORD)
    service.close()
    yield srv
    stop_server(srv)


@pytest.fixture
def server(server_process) -> Server:
    """The module's app, with no rate-limit hit and no failed login left by an earlier test."""
    forget_limits(server_process.home)
    return server_process


@pytest.fixture
def start_app(index_template, tmp_path):
    """Starts real apps (`guichet serve`, no rate limit) on copies of the index, or on a given home
    (a restart); every app still running is stopped after the test."""
    started: list[Server] = []

    def start(settings: dict[str, str] | None = None, home: Path | None = None) -> Server:
        home = home or copy_index(index_template, tmp_path / f"app-{len(started)}")
        srv = start_server(home, "--no-ingest", "--questions-per-minute", "0", "--questions-per-minute-per-address",
                           "0", env=settings)
        started.append(srv)
        return srv

    yield start
    for srv in started:
        if srv.process.poll() is None:
            stop_server(srv)


_SHOTS: list[Path] = []


@pytest.fixture(scope="session")
def screenshots(tmp_path_factory) -> Path:
    """Where the browser tests save their screenshots: $UI_SCREENSHOTS_DIR, else pytest's tmp dir
    (the folder is printed at the end of the run)."""
    folder = Path(os.environ.get("UI_SCREENSHOTS_DIR") or tmp_path_factory.mktemp("screenshots"))
    folder.mkdir(parents=True, exist_ok=True)
    _SHOTS.append(folder)
    return folder


def pytest_terminal_summary(terminalreporter) -> None:
    for folder in _SHOTS:
        terminalreporter.write_line(f"browser test screenshots: {folder}")


@pytest.fixture(scope="session")
def browser():
    """Headless Debian Chromium driven by Playwright (no browser download)."""
    if not Path(CHROMIUM).exists():
        pytest.fail(f"{CHROMIUM} is missing: install Debian's chromium package (see .ci/run)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()
