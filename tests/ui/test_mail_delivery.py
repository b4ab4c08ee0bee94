"""The running app delivers mail in the background, survives kill -9, and tells the advisor the
real delivery state (issue #16, item 2).

The real app (`guichet serve`) in a subprocess, a real SMTP server on loopback (aiosmtpd)
that is down when the advisor validates, then comes back and kills the app (SIGKILL) the
moment it delivers; the app is restarted on the same data directory. The advisor's page is
driven in headless Chromium.
"""

from __future__ import annotations

import os
import re
import signal
import time

import pytest
from aiosmtpd.controller import Controller
from support import free_port
from test_browser import login, open_page, open_question, shot, wait_queue
from ui_fixtures import PASSWORD, copy_index, start_server, stop_server

pytestmark = [pytest.mark.browser, pytest.mark.slow]

QUESTION = "Puis-je exiger un label précis dans mon marché de fournitures ?"
BUYER = "acheteuse@ville-test.fr"


class Inbox:
    """Kills the app on its first delivery (without accepting it), accepts every later one."""

    def __init__(self, victim: int) -> None:
        self.victim: int | None = victim
        self.killed_at: float | None = None
        self.received: list[bytes] = []

    async def handle_DATA(self, server, session, envelope):  # noqa: N802 - aiosmtpd hook name
        if self.victim is not None:
            os.kill(self.victim, signal.SIGKILL)
            self.victim, self.killed_at = None, time.monotonic()
            return "451 4.3.0 the sender died"
        self.received.append(envelope.content)
        return "250 accepted"


def _wait(check, seconds: float, what: str) -> None:
    deadline = time.monotonic() + seconds
    while not check():
        assert time.monotonic() < deadline, what
        time.sleep(0.25)


def test_mail_is_retried_by_the_app_survives_kill_9_and_the_advisor_sees_its_state(
        index_template, tmp_path, browser, screenshots):
    from assistant.compose import review_service
    from ui_fixtures import drafted, settings_for

    home = copy_index(index_template, tmp_path / "home")
    port = free_port()  # the mail server is down when the advisor validates
    smtp = {"GUICHET_SMTP_HOST": "127.0.0.1", "GUICHET_SMTP_PORT": str(port), "GUICHET_SMTP_SECURITY": "none"}
    server = start_server(home, "--no-ingest", "--questions-per-minute", "0", env=smtp)
    restarted = controller = None
    try:
        service = review_service(settings_for(home))
        service.add_advisor("alice", PASSWORD)
        outputs = server.ask(QUESTION, email=BUYER)
        number = int(re.search(r"n° (\d+)", str(outputs)).group(1))
        drafted(service, number, timeout_s=120)  # in the background: validate the draft, not a moving one

        advisor = open_page(browser)
        login(advisor, server.url, "alice")
        wait_queue(advisor)
        open_question(advisor, number)
        advisor.click("#valider")
        advisor.locator("#avis").get_by_text("courriel : échec, nouvel essai à").wait_for()
        validated = time.monotonic()
        notice = advisor.locator("#avis").inner_text()
        assert "Réponse validée" in notice and "envoyée au demandeur" not in notice, notice
        assert re.search(r"nouvel essai à \d\d:\d\d", notice), notice
        header = advisor.locator("#question").inner_text()
        assert "Courriel au demandeur : échec, nouvel essai à" in header, header
        advisor.click("#actualiser-file")
        advisor.locator("#file").get_by_text("courriel : échec, nouvel essai à").filter(visible=True).first.wait_for()
        shot(advisor, screenshots, "20-courriel-en-echec")
        (entry,) = service.outbox()
        assert (entry.status, entry.attempts) == ("failed", 1), entry

        inbox = Inbox(victim=server.process.pid)
        controller = Controller(inbox, hostname="127.0.0.1", port=port)
        controller.start()
        _wait(lambda: inbox.killed_at is not None, 90, "the running app never retried the failed mail")
        assert inbox.killed_at - validated < 60 + 10, \
            f"the first retry must come within a minute (+ the 5 s look), came after {inbox.killed_at - validated:.0f} s"
        assert server.process.wait(timeout=30) == -signal.SIGKILL
        (entry,) = service.outbox()
        assert entry.attempts == 2 and entry.status in ("pending", "failed") and not inbox.received, entry

        restarted = start_server(home, "--no-ingest", env=smtp, log_name="server-restarted.log")
        _wait(lambda: len(inbox.received) == 1, 180, "the restarted app never delivered the mail")
        _wait(lambda: service.outbox()[0].status == "sent", 30, "the delivery is recorded")
        (entry,) = service.outbox()
        assert entry.attempts == 3, entry
        assert f"Message-ID: {entry.message_id}".encode() in inbox.received[0], "the stable Message-ID is sent"

        advisor = open_page(browser)
        login(advisor, restarted.url, "alice")
        wait_queue(advisor)
        assert advisor.locator("#file").get_by_text("courriel :").filter(visible=True).count() == 0, \
            "delivered: off the to-do list"
        open_question(advisor, number)
        advisor.locator("#question").get_by_text("Courriel au demandeur : envoyé le").wait_for()
        shot(advisor, screenshots, "21-courriel-envoye-apres-redemarrage")
        time.sleep(6)  # one more look by the background delivery: nothing is sent twice
        assert len(inbox.received) == 1
        service.close()
    finally:
        if controller is not None:
            controller.stop()
        for srv in (server, restarted):
            if srv is not None and srv.process.poll() is None:
                stop_server(srv)
