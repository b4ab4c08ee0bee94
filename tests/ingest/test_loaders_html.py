"""HTML loader and the section walker shared with Markdown, on real HTML files written here."""

from __future__ import annotations

import pytest

from assistant.errors import IngestError
from assistant.ingest.loaders.html_walk import html_sections
from assistant.ingest.loading import load_document

PAGE = """<!DOCTYPE html>
<html lang="fr"><head><title>Achats responsables | Portail</title>
<style>p { color: red }</style><script>var tracker = 1;</script></head>
<body>
<header><nav><a href="/">Accueil</a> <button>Menu</button></nav></header>
<main>
<p>Chapeau avant tout titre, avec <a href="#">un lien</a>.</p>
<h1>Guide <em>pratique</em></h1>
<p>Premier   paragraphe
sur deux lignes.<br>Ligne forcée.</p>
<!-- un commentaire -->
<h2>Critères</h2>
<ul><li>Prix</li><li>Valeur technique<ul><li>Durabilité</li></ul></li></ul>
<blockquote><p>Une citation.</p></blockquote>
<h3 class="fr-accordion__title"><button class="fr-accordion__btn" aria-expanded="false">Peut-on exiger un label ?</button></h3>
<div class="fr-collapse"><p>Oui, sous conditions.</p></div>
<h2>Tableau</h2>
<table><caption>Seuils</caption><tr><th>Procédure</th><th>Seuil</th></tr>
<tr><td>MAPA</td><td>40 000 € HT</td></tr></table>
<h2>Vide</h2>
<h2>Code</h2>
<pre>ligne 1
  ligne 2   </pre>
</main>
<footer><p>Mentions légales</p></footer>
</body></html>
"""


def test_html_page_sections_in_order(tmp_path, limits, assert_offsets):
    path = tmp_path / "page.html"
    path.write_text(PAGE, encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.title == "Achats responsables | Portail"
    assert [(s.heading, s.text) for s in doc.sections] == [
        ((), "Chapeau avant tout titre, avec un lien."),
        (("Guide pratique",), "Premier paragraphe sur deux lignes.\nLigne forcée."),
        (("Guide pratique", "Critères"), "- Prix\n- Valeur technique\n  - Durabilité\n\nUne citation."),
        (("Guide pratique", "Critères", "Peut-on exiger un label ?"), "Oui, sous conditions."),
        (("Guide pratique", "Tableau"), "Seuils\n\nProcédure | Seuil\nMAPA | 40 000 € HT"),
        (("Guide pratique", "Code"), "ligne 1\n  ligne 2"),
    ]
    everything = "\n".join(s.text for s in doc.sections)
    for noise in ("tracker", "color", "Accueil", "Menu", "Mentions", "commentaire", "<"):
        assert noise not in everything, f"{noise!r} should have been dropped"
    assert doc.kind == "guide" and doc.metadata == {}
    assert_offsets(doc)


def test_htm_extension_and_title_from_h1(tmp_path, limits):
    path = tmp_path / "sans-titre.htm"
    path.write_text("<h1>Le SPASER</h1><p>Schéma de promotion.</p>", encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.title == "Le SPASER"


def test_title_falls_back_to_file_stem(tmp_path, limits):
    path = tmp_path / "note-interne.html"
    path.write_text("<p>Juste un paragraphe.</p>", encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.title == "note-interne"
    assert doc.sections[0].heading == ()


def test_header_inside_article_is_content():
    _, parts = html_sections("<article><header><h1>Fiche</h1><p>Résumé.</p></header><p>Corps.</p></article>")
    assert parts == [("Résumé.\n\nCorps.", ("Fiche",))]


def test_deeply_nested_html_does_not_hit_the_recursion_limit():
    html = "<div>" * 5000 + "<p>Au fond.</p>" + "</div>" * 5000
    _, parts = html_sections(html)
    assert parts == [("Au fond.", ())]


def test_html_without_text(tmp_path, limits, assert_one_line):
    path = tmp_path / "vide.html"
    path.write_text("<html><head><title>Rien</title></head><body><script>go()</script></body></html>", "utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "no text")


def test_binary_file_named_html(tmp_path, limits, assert_one_line):
    path = tmp_path / "archive.html"
    path.write_bytes(b"PK\x03\x04\x14\x00\x00\x00" + bytes(range(256)))
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "binary file, not text"
