"""End to end in headless Chromium: a buyer asks, an advisor validates, the buyer reads the answer.

Every page is saved as a screenshot in the session's screenshot folder (see conftest). The XSS
payloads are typed and shown in the real browser, which must neither run them nor build the
elements they describe.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from ui_fixtures import PASSWORD, drafted

pytestmark = pytest.mark.browser

TIMEOUT = 30_000
LABEL_QUESTION = "Puis-je exiger un label précis dans mon marché de fournitures ?"


class Watch:
    """Dialogs (alert, confirm, prompt) opened by a page: there must never be any; and what the
    Content-Security-Policy blocked: the pages must need nothing it forbids."""

    def __init__(self) -> None:
        self.dialogs: list[str] = []
        self.blocked: list[str] = []

    def __call__(self, dialog) -> None:
        self.dialogs.append(dialog.message)
        dialog.dismiss()

    def console(self, message) -> None:
        if "Content Security Policy" in message.text:
            self.blocked.append(message.text[:300])


def open_page(browser, watch: Watch | None = None):
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 1000})
    context.set_default_timeout(TIMEOUT)
    page = context.new_page()
    if watch is not None:
        page.on("dialog", watch)
        page.on("console", watch.console)
    return page


def shot(page, folder: Path, name: str) -> None:
    page.screenshot(path=str(folder / f"{name}.png"), full_page=True)


def field(page, elem_id: str):
    return page.locator(f"#{elem_id}").locator("textarea, input").first


def login(page, base: str, name: str, target: str = "/conseiller/") -> None:
    page.goto(base + target)
    page.wait_for_url(re.compile(r"/connexion\?suite="))
    page.fill("#nom", name)
    page.fill("#mot_de_passe", PASSWORD)
    page.click("#se-connecter")
    page.wait_for_url(base + target)


def wait_queue(page) -> None:
    page.locator("#connecte").get_by_text("Connecté(e)").wait_for()


def open_question(page, number: int) -> None:
    field(page, "numero").fill(str(number))
    page.click("#ouvrir")
    page.locator("#question").get_by_text(f"Question n° {number}").wait_for()


def open_buyer_page(page, url: str) -> None:
    """Open the buyer page and wait until its load event has run (the page is then interactive)."""
    page.goto(url)
    page.locator("#lien-fil").get_by_text(re.compile("Votre fil aura son propre lien|Lien de votre fil")).wait_for()


def ask_in_browser(page, base: str, question: str) -> str:
    open_buyer_page(page, base + "/")
    field(page, "question").fill(question)
    page.click("#envoyer")
    page.get_by_text("Votre question est bien reçue").last.wait_for()
    page.wait_for_url(re.compile(r"[?&]fil="))
    return page.url.split("fil=", 1)[1]


def test_buyer_asks_advisor_edits_and_validates_buyer_reads_and_rates(server, browser, screenshots):
    watch = Watch()
    buyer = open_page(browser, watch)
    open_buyer_page(buyer, server.url + "/")
    field(buyer, "question").fill(LABEL_QUESTION)
    buyer.get_by_text("Vos coordonnées (facultatif)").click()
    field(buyer, "email").fill("acheteuse@ville-test.fr")
    field(buyer, "organisation").fill("Ville de Test")
    buyer.click("#envoyer")
    ack = buyer.locator("#fil").get_by_text("Votre question est bien reçue")
    ack.wait_for()
    fil = buyer.locator("#fil")
    assert fil.get_by_text("Exiger un label dans un marché public").count() >= 1, "relevant resources are listed"
    assert fil.get_by_text("délai habituel").count() == 1, "the expected delay is given"
    assert fil.get_by_text("D'après les documents").count() == 0, "the unvalidated draft is never shown"
    buyer.wait_for_url(re.compile(r"\?fil="))
    token = buyer.url.split("fil=", 1)[1]
    assert buyer.evaluate("document.documentElement.lang") == "fr", "the page declares its language"
    assert len(token) >= 32 and buyer.locator("#lien-fil").get_by_text(token).count() == 1
    shot(buyer, screenshots, "01-acheteur-accuse-de-reception")

    advisor = open_page(browser, watch)
    advisor.goto(server.url + "/conseiller/")
    advisor.wait_for_url(re.compile(r"/connexion\?suite="))
    advisor.fill("#nom", "alice")
    advisor.fill("#mot_de_passe", "pas le bon")
    advisor.click("#se-connecter")
    advisor.get_by_text("Nom ou mot de passe incorrect.").wait_for()
    shot(advisor, screenshots, "02-connexion-refusee")
    login(advisor, server.url, "alice")
    wait_queue(advisor)
    row = advisor.locator("#file").get_by_text(LABEL_QUESTION).filter(visible=True).first
    row.wait_for()
    shot(advisor, screenshots, "03-conseiller-file")
    row.click()  # a click on the queue row opens the question
    advisor.locator("#question").get_by_text("Question n°").wait_for()
    header = advisor.locator("#question").inner_text()
    assert LABEL_QUESTION in header and "Ville de Test" in header and "e-mail : oui" in header, header
    editor = field(advisor, "editeur")
    # Drafted in the background: already there, or streamed in as soon as it is written.
    advisor.wait_for_function("() => document.querySelector('#editeur textarea').value.includes('[1]')")
    draft = editor.input_value()
    assert "[1]" in draft, f"the draft with its citations is in the editor: {draft[:200]}"
    assert advisor.locator("#citations mark").count() >= 1, "quoted text is highlighted beside its passage"
    advisor.locator("#citations summary").first.click()
    assert advisor.locator("#citations details[open]").count() == 1, "the full passage opens"
    shot(advisor, screenshots, "04-conseiller-question-et-citations")
    final = ("Oui : vous pouvez exiger un label précis, s'il remplit les conditions du code [1].\n\n"
             "Relu et complété par le guichet vert.")
    editor.fill(final)
    advisor.click("#valider")
    advisor.locator("#avis").get_by_text("Réponse validée :").wait_for()
    shot(advisor, screenshots, "05-conseiller-validee")

    buyer.click("#actualiser")
    fil.get_by_text("Relu et complété par le guichet vert.").wait_for()
    assert fil.get_by_text("Réponse du guichet vert").count() == 1
    assert fil.get_by_text("Exiger un label dans un marché public").count() >= 2, "sources under the answer"
    buyer.locator("#note").get_by_text("5", exact=True).click()
    field(buyer, "commentaire").fill("Très clair, merci.")
    buyer.click("#envoyer-avis")
    buyer.locator("#avis").get_by_text("Merci pour votre avis").wait_for()
    shot(buyer, screenshots, "06-acheteur-reponse-validee")
    service = server.service()
    try:
        assert service.stats()["feedback"]["count"] >= 1, "the rating reached the service"
    finally:
        service.close()

    later = open_page(browser, watch)  # the buyer comes back later with the link only
    later.goto(f"{server.url}/?fil={token}")
    later.locator("#fil").get_by_text("Relu et complété par le guichet vert.").wait_for()

    advisor.goto(server.url + "/reseau/")
    advisor.locator("#indicateurs").get_by_text(re.compile(r"\d+ questions?")).first.wait_for()
    advisor.locator("#sujets").get_by_text("Labels et écolabels").filter(visible=True).first.wait_for()
    with advisor.expect_download() as download:
        advisor.locator("#export-csv a").click()
    content = Path(download.value.path()).read_text(encoding="utf-8-sig")
    assert content.startswith("sujet,questions,identifiants,exemples") and "Labels et écolabels" in content
    shot(advisor, screenshots, "07-reseau-tableau-de-bord")
    assert watch.dialogs == [], f"dialogs opened: {watch.dialogs}"
    assert watch.blocked == [], f"the pages need what their Content-Security-Policy forbids: {watch.blocked}"


PAYLOADS = [
    '<img src=x onerror="window.__xss=1;alert(1)">',
    "<script>window.__xss=2;alert(2)</script>",
    '<svg onload="window.__xss=3;alert(3)">',
    '<iframe srcdoc="<script>parent.__xss=4;alert(4)</script>"></iframe>',
    "[cliquez ici](javascript:window.__xss=5;alert(5))",
    '<a href="javascript:alert(6)">lien</a> <details open ontoggle="window.__xss=7;alert(7)">x</details>',
]
INJECTED = ("img[src='x']", "svg[onload]", "iframe", "a[href^='javascript']", "details[ontoggle]", "[onerror]")


def assert_inert(page, watch: Watch, where: str) -> None:
    page.wait_for_timeout(500)  # let any injected handler fire
    assert watch.dialogs == [], f"{where}: a payload opened a dialog: {watch.dialogs}"
    assert page.evaluate("window.__xss") is None, f"{where}: a payload ran (window.__xss set)"
    for selector in INJECTED:
        assert page.locator(selector).count() == 0, f"{where}: an injected {selector} element exists"
    scripts = page.evaluate("[...document.scripts].filter(s => s.textContent.includes('__xss')).length")
    assert scripts == 0, f"{where}: an injected <script> element exists"


def test_xss_payloads_stay_text_in_every_page(server, browser, screenshots):
    watch = Watch()
    buyer = open_page(browser, watch)
    token = ask_in_browser(buyer, server.url, f"Label et {PAYLOADS[0]} {PAYLOADS[1]}")
    assert_inert(buyer, watch, "buyer page")
    assert buyer.locator("#fil").get_by_text(PAYLOADS[0]).count() == 1, "the payload is shown as typed"
    numbers = []
    for payload in PAYLOADS:
        outputs = server.ask(f"Question piégée {payload} sur les labels ?", organisation=payload)
        numbers.append(int(re.search(r"n° (\d+)", str(outputs)).group(1)))

    advisor = open_page(browser, watch)
    login(advisor, server.url, "alice")
    wait_queue(advisor)
    advisor.locator("#file").get_by_text("Question piégée").filter(visible=True).first.wait_for()
    assert_inert(advisor, watch, "advisor queue")
    for number, payload in zip(numbers, PAYLOADS):
        open_question(advisor, number)
        assert_inert(advisor, watch, f"advisor question {number}")
        header = advisor.locator("#question").inner_text()
        assert payload in header, f"the payload is shown as text in the header: {header[:300]}"
    shot(advisor, screenshots, "08-xss-conseiller")

    first = int(re.search(r"n° (\d+)", buyer.locator("#fil").inner_text()).group(1))
    open_question(advisor, first)
    field(advisor, "editeur").fill(f"Réponse avec {PAYLOADS[2]} et {PAYLOADS[4]} et **gras**.")
    advisor.click("#valider")
    advisor.locator("#avis").get_by_text("Réponse validée :").wait_for()
    buyer.goto(f"{server.url}/?fil={token}")
    buyer.locator("#fil").get_by_text("Réponse du guichet vert").wait_for()
    assert_inert(buyer, watch, "buyer page with an answer")
    assert buyer.locator("#fil").get_by_text(PAYLOADS[2]).count() == 1, "the advisor's text is shown as typed"
    shot(buyer, screenshots, "09-xss-acheteur")

    advisor.goto(server.url + "/reseau/")
    advisor.locator("#sujets").get_by_text("Question piégée").filter(visible=True).first.wait_for()
    assert_inert(advisor, watch, "network dashboard")
    shot(advisor, screenshots, "10-xss-reseau")


def test_conflict_between_two_advisors_loses_nothing(server, browser, screenshots):
    outputs = server.ask("Un label équivalent doit-il être accepté dans mon marché ?")
    number = int(re.search(r"n° (\d+)", str(outputs)).group(1))
    bob = open_page(browser)
    login(bob, server.url, "bob")
    wait_queue(bob)
    open_question(bob, number)
    bob.locator("#avis").get_by_text("Question prise en charge").wait_for()

    alice = open_page(browser)
    login(alice, server.url, "alice")
    wait_queue(alice)
    open_question(alice, number)
    alice.locator("#avis").get_by_text("Lecture seule").wait_for()
    assert "prise par bob" in alice.locator("#avis").inner_text()
    mine = "Texte d'alice, long à écrire : il ne doit pas se perdre."
    field(alice, "editeur").fill(mine)
    alice.click("#valider")
    alice.locator("#avis").get_by_text("Conflit").wait_for()
    notice = alice.locator("#avis").inner_text()
    assert "prise par bob" in notice and "votre texte reste dans l'éditeur" in notice, notice
    assert field(alice, "editeur").input_value() == mine, "the advisor's edited text is kept"
    shot(alice, screenshots, "11-conflit-entre-conseillers")

    bob.click("#relacher")
    bob.locator("#avis").get_by_text("Question relâchée").wait_for()
    alice.click("#recharger")
    alice.locator("#avis").get_by_text("votre texte est resté dans l'éditeur").wait_for()
    assert field(alice, "editeur").input_value() == mine
    alice.click("#valider")
    alice.locator("#avis").get_by_text("Réponse validée :").wait_for()
    service = server.service()
    try:
        detail = service.show(number)
        assert detail.status == "sent" and detail.answer.text == mine and detail.answer.advisor == "alice"
    finally:
        service.close()


def test_a_thread_link_shows_only_its_own_thread(server, browser, screenshots):
    first = server.ask("Que faire de nos ordinateurs de sept ans ?")
    second = server.ask("Question confidentielle d'une autre acheteuse sur les labels")
    token = re.search(r"\?fil=([\w-]+)", str(first)).group(1)
    page = open_page(browser)
    page.goto(f"{server.url}/?fil={token}")
    page.locator("#fil").get_by_text("Que faire de nos ordinateurs de sept ans ?").wait_for()
    assert page.get_by_text("Question confidentielle").count() == 0
    for bad in ("x" * 32, token[:-1] + ("A" if token[-1] != "A" else "B"), "%2e%2e%2f"):
        page.goto(f"{server.url}/?fil={bad}")
        page.locator("#avis").get_by_text("Ce lien de suivi n'est pas valide").wait_for()
        assert page.get_by_text("Question confidentielle").count() == 0
        assert page.get_by_text("ordinateurs de sept ans").count() == 0
    shot(page, screenshots, "12-lien-de-fil-inconnu")
    assert second  # the other buyer's thread exists: it is simply not reachable without its token


def test_advisor_redrafts_from_picked_passages_escalates_and_rejects(server, browser, screenshots):
    outputs = server.ask("Que faire de nos ordinateurs réformés de sept ans ?")
    number = int(re.search(r"n° (\d+)", str(outputs)).group(1))
    token = re.search(r"\?fil=([\w-]+)", str(outputs)).group(1)
    page = open_page(browser)
    login(page, server.url, "alice")
    wait_queue(page)
    open_question(page, number)
    page.wait_for_function("() => document.querySelector('#editeur textarea').value.includes('[1]')")
    before = field(page, "editeur").input_value()

    page.get_by_text("Re-rédiger à partir d'autres passages").click()
    field(page, "recherche").fill("valeur unitaire du bien cédé gratuitement à une association")
    page.click("#chercher")
    page.locator("#avis").get_by_text("passage(s) ajouté(s)").wait_for()
    boxes = page.locator("#passages input[type=checkbox]")
    assert boxes.count() > 1, "the search results are added to the draft's passages"
    for i in range(boxes.count()):
        if boxes.nth(i).is_checked():
            boxes.nth(i).uncheck()
    page.locator("#passages label").filter(has_text="Les trois conditions du don").first.click()  # one, alone
    page.click("#rediger")
    page.locator("#avis").get_by_text(re.compile("Brouillon prêt|le brouillon s'abstient")).wait_for()
    service = server.service()
    try:
        draft = service.show(number).draft
    finally:
        service.close()
    assert draft is not None and len(draft.passages) == 1, "only the picked passage was given to the drafter"
    if draft.abstained:
        assert field(page, "editeur").input_value() == before, "an abstaining re-draft keeps the editor's text"
    else:
        assert field(page, "editeur").input_value() == draft.text != before
        assert all(c.chunk_id == draft.passages[0].chunk_id for c in draft.citations)
    shot(page, screenshots, "13-conseiller-re-redaction")

    page.get_by_text("Rejeter ou escalader").click()
    field(page, "motif").fill("Question juridique pointue : à voir avec la DAJ.")
    page.click("#escalader")
    page.locator("#avis").get_by_text("Question escaladée").wait_for()
    assert "Escaladée" in page.locator("#question").inner_text()
    field(page, "message").fill("Nous ne pouvons pas répondre : contactez votre service juridique.")
    page.click("#rejeter")
    page.locator("#avis").get_by_text("Question rejetée").wait_for()

    buyer = open_page(browser)
    buyer.goto(f"{server.url}/?fil={token}")
    buyer.locator("#fil").get_by_text("contactez votre service juridique").wait_for()
    assert buyer.get_by_text("DAJ").count() == 0, "the reason for advisors never reaches the buyer"
    shot(buyer, screenshots, "14-acheteur-question-cloturee")

    page.goto(server.url + "/reseau/")
    page.locator("#indicateurs").get_by_text(re.compile(r"\d+ questions?")).first.wait_for()
    page.locator("#periode input").click()
    page.locator("[data-testid=dropdown-option]", has_text="Depuis le début").click()
    page.locator("#indicateurs").get_by_text("depuis le début").wait_for()
    summary = page.locator("#indicateurs").inner_text()
    assert re.search(r"[1-9]\d* rejetées?\b", summary), f"the rejected question is counted: {summary[:200]}"


@pytest.fixture(scope="module")
def other_site():
    """Pages of another site, served on a free port of this machine (reached as localhost, a
    different site from 127.0.0.1 for the browser, and as 127.0.0.1 on another port)."""
    import threading
    from functools import partial
    from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
    from tempfile import TemporaryDirectory

    from support import free_port

    with TemporaryDirectory() as folder:
        port = free_port()
        httpd = ThreadingHTTPServer(("127.0.0.1", port), partial(SimpleHTTPRequestHandler, directory=folder))
        thread = threading.Thread(target=httpd.serve_forever, daemon=True)
        thread.start()
        yield Path(folder), port
        httpd.shutdown()


def _auto_post(action: str, fields: dict[str, str]) -> str:
    inputs = "".join(f'<input name="{k}" value="{v}">' for k, v in fields.items())
    return f'<form id="f" method="post" action="{action}">{inputs}</form><script>document.getElementById("f").submit()</script>'


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1"], ids=["another-site", "same-site-other-port"])
def test_another_site_can_neither_log_a_visitor_in_nor_out(server, browser, screenshots, other_site, host):
    """Issue #15, item 6: a page elsewhere auto-posted the login form with the attacker's account
    (the victim then worked as the attacker), and location='.../deconnexion' logged anyone out."""
    folder, port = other_site
    service = server.service()
    try:
        if "mallory" not in [a.name for a in service.advisors()]:
            service.add_advisor("mallory", PASSWORD)  # the attacker's own, real account
    finally:
        service.close()
    (folder / "login.html").write_text(_auto_post(f"{server.url}/connexion", {
        "nom": "mallory", "mot_de_passe": PASSWORD, "suite": "/conseiller/"}))
    (folder / "logout-get.html").write_text(f'<script>location = "{server.url}/deconnexion"</script>')
    (folder / "logout-post.html").write_text(_auto_post(f"{server.url}/deconnexion", {"jeton": "x" * 43}))
    site = f"http://{host}:{port}"

    victim = open_page(browser)
    victim.goto(server.url + "/connexion")  # the victim has our CSRF cookie already: the worst case
    with victim.expect_response(f"{server.url}/connexion") as answered:
        victim.goto(f"{site}/login.html")
    assert answered.value.status == 403, f"the forged login answered {answered.value.status}"
    assert not [c for c in victim.context.cookies(server.url) if c["name"] == "guichet_session"], \
        "the forged login gave the victim a session"
    victim.goto(server.url + "/conseiller/")
    victim.wait_for_url(re.compile(r"/connexion\?suite="))  # not logged in as mallory
    shot(victim, screenshots, f"15-connexion-forgee-refusee-{host}")

    login(victim, server.url, "alice")
    wait_queue(victim)
    victim.goto(f"{site}/logout-get.html")
    # A GET of /deconnexion only shows the button (or, from another site, which the SameSite
    # session cookie does not come along from, the login form).
    victim.wait_for_url(re.compile(re.escape(server.url) + r"/(deconnexion|connexion)"))
    victim.wait_for_load_state()
    with victim.expect_response(f"{server.url}/deconnexion") as answered:
        victim.goto(f"{site}/logout-post.html")
    assert answered.value.status in (401, 403), f"the forged logout answered {answered.value.status}"
    victim.goto(server.url + "/conseiller/")
    wait_queue(victim)
    assert "alice" in victim.locator("#connecte").inner_text(), "alice is still logged in"

    victim.goto(server.url + "/deconnexion")
    victim.click("#se-deconnecter")  # the real button does log out
    victim.wait_for_url(server.url + "/connexion")
    victim.goto(server.url + "/conseiller/")
    victim.wait_for_url(re.compile(r"/connexion\?suite="))


HERAULT_PCS = "On est une commune de l'Hérault : on voudrait acheter des PC reconditionnés, quelqu'un l'a déjà fait ?"


def test_peers_reach_the_buyer_and_the_advisor_keeps_removes_and_adds_them(server, browser, screenshots):
    watch = Watch()
    buyer = open_page(browser, watch)
    token = ask_in_browser(buyer, server.url, HERAULT_PCS)
    fil = buyer.locator("#fil")
    fil.get_by_text("Des acheteurs qui l'ont fait").wait_for()
    service = server.service()
    try:
        question = next(q for q in service.list_questions() if q.text == HERAULT_PCS)
        draft = drafted(service, question.id).draft  # written in the background
    finally:
        service.close()
    proposed = draft.peers
    assert "Des acheteurs qui l'ont fait" in draft.text and proposed[0].metadata["reference"] in draft.text, \
        "the draft names the peers with their sources"
    assert len(proposed) >= 2 and proposed[0].metadata["region"] == "Occitanie", [p.organisation for p in proposed]
    assert fil.get_by_text(proposed[0].organisation).count() >= 1, "the buyer sees who did it"
    assert fil.locator(f"a[href='{proposed[0].metadata['url']}']").count() == 1, "with a link to the public source"
    shot(buyer, screenshots, "15-acheteur-des-acheteurs-qui-l-ont-fait")

    advisor = open_page(browser, watch)
    login(advisor, server.url, "alice")
    wait_queue(advisor)
    open_question(advisor, question.id)
    panel = advisor.locator("#pairs")
    panel.get_by_text(proposed[0].organisation).first.wait_for()
    assert panel.get_by_text("à jour au 01/12/2026").count() >= 1 and panel.locator("a[href^='https://']").count() >= 1, \
        "each peer beside the draft with its source and date"
    editor = field(advisor, "editeur")
    if not draft.abstained:
        assert "Des acheteurs qui l'ont fait" in editor.input_value(), "the block is in the draft being edited"
    editor.fill("Bonjour, voici ce que nous pouvons vous dire.\n\nRelu par le guichet vert.")
    boxes = advisor.locator("#pairs-choisis input[type=checkbox]")
    assert boxes.count() == len(proposed) and all(boxes.nth(i).is_checked() for i in range(boxes.count()))
    removed = proposed[-1].organisation
    advisor.locator("#pairs-choisis label").filter(has_text=removed).first.click()  # untick one
    field(advisor, "recherche-pairs").fill("cantine bio restauration collective")
    advisor.click("#chercher-pairs")
    advisor.locator("#avis").get_by_text("pair(s) ajouté(s)").wait_for()
    advisor.locator("#pairs-choisis label").filter(has_text="Mouans-Sartoux").first.click()  # add one
    advisor.click("#appliquer-pairs")
    advisor.locator("#avis").get_by_text("Réponse mise à jour").wait_for()
    text = editor.input_value()
    assert "Mouans-Sartoux" in text and proposed[0].organisation in text and removed not in text, text[-900:]
    assert text.startswith("Bonjour, voici ce que nous pouvons vous dire."), "the advisor's own text stays"
    shot(advisor, screenshots, "16-conseiller-pairs")
    advisor.click("#valider")
    advisor.locator("#avis").get_by_text("Réponse validée :").wait_for()

    buyer.goto(f"{server.url}/?fil={token}")
    buyer.locator("#fil").get_by_text("Réponse du guichet vert").wait_for()
    answer = buyer.locator("#fil").inner_text()
    assert "Mouans-Sartoux" in answer and removed not in answer.split("Réponse du guichet vert", 1)[1], \
        "the buyer gets the peers the advisor kept"
    assert watch.dialogs == []
