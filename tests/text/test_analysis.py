"""The French analyser: the same tokens for the ways buyers and guides write the same thing."""

from __future__ import annotations

import pytest

from assistant.errors import ConfigError
from assistant.text.analysis import EXPANSION_WEIGHT, STOP_WORDS, FrenchAnalyzer, expand, words
from assistant.text.normalize import fold


@pytest.fixture(scope="module")
def analyzer() -> FrenchAnalyzer:
    return FrenchAnalyzer()


@pytest.mark.parametrize("text, expected", [
    ("l'utilisation", ["utilis"]),
    ("l’utilisation", ["utilis"]),           # typographic apostrophe
    ("d'équipements", ["equip"]),
    ("qu'il", []),
    ("jusqu'à", []),
    ("lorsqu'un", []),
    ("puisqu'elle", []),
    ("j'achète", ["achet"]),
    ("n'excède", ["exced"]),
    ("c'est", []),
    ("s'applique", ["appliqu"]),
    ("aujourd'hui", ["aujourd", "hui"]),     # not an elision: both parts stay
])
def test_elisions(analyzer, text, expected):
    assert analyzer.analyze(text) == expected, f"elision of {text!r}"


@pytest.mark.parametrize("accented, plain", [
    ("réemploi", "reemploi"),
    ("données", "donnees"),                 # Snowball would stem these two differently
    ("réparabilité", "reparabilite"),
    ("matériel", "materiel"),
    ("ÉTAT", "etat"),
    ("déchets", "dechets"),
])
def test_accents_do_not_matter(analyzer, accented, plain):
    assert analyzer.analyze(accented) == analyzer.analyze(plain), f"{accented!r} vs {plain!r}"


@pytest.mark.parametrize("singular, plural", [
    ("ordinateur", "ordinateurs"), ("équipement", "équipements"), ("label", "labels"),
])
def test_stemming_joins_inflections(analyzer, singular, plural):
    assert analyzer.analyze(singular) == analyzer.analyze(plural)


def test_données_is_not_don(analyzer):
    assert analyzer.analyze("données") != analyzer.analyze("don"), "data and donation must stay apart"


@pytest.mark.parametrize("text", ["le la les de des du un une et à au aux", "ça c'est quoi quel combien"])
def test_stop_words_removed(analyzer, text):
    assert analyzer.analyze(text) == [], f"stop words left in {text!r}"


@pytest.mark.parametrize("negation", ["pas", "sans", "non"])
def test_negations_are_kept(analyzer, negation):
    assert analyzer.analyze(negation), f"{negation!r} changes the meaning of a question"


def test_stop_words_are_folded():
    assert all(fold(w) == w for w in STOP_WORDS), "stop words are compared after accent folding"


@pytest.mark.parametrize("text, expected", [
    ("3,8 %", ["3,8"]),
    ("3.8 %", ["3,8"]),                      # a decimal point gives the same token
    ("20 %", ["20"]),
    ("20%", ["20"]),
    ("en 2027", ["2027"]),
    ("5 404 000 € HT", ["5404000", "ht"]),
    ("5\u202f404\u00a0000 €", ["5404000"]),  # narrow and non-breaking spaces
    ("entre 1,30 et 6,63", ["entr", "1,30", "6,63"]),
    ("R2111-14", ["r2111", "14"]),
    ("ISO 14040", ["iso", "14040"]),
    ("2022 150 agents", ["2022", "150", "agent"]),   # a year is not a thousands group
])
def test_numbers_and_percentages(analyzer, text, expected):
    assert analyzer.analyze(text) == expected, f"numbers of {text!r}"


def test_hyphenated_words_are_split(analyzer):
    assert analyzer.analyze("éco-conception") == analyzer.analyze("éco conception")


@pytest.mark.parametrize("text", ["", "   ", "?!…", "🙂🙂", "<p></p>"])
def test_nothing_to_analyse(analyzer, text):
    assert analyzer.analyze(text) == []
    assert analyzer.analyze_query(text) == []


def test_words_keeps_order_and_folds():
    assert words("Jusqu’à 3.8 % ; l'éco-conception") == ["a", "3,8", "eco", "conception"]


@pytest.mark.parametrize("question, expected", [
    ("benne DEEE", ["dechet", "equip", "electr"]),            # acronym -> expansion
    ("déchets d'équipements électriques et électroniques", ["dee"]),  # expansion -> acronym
    ("mon DCE", ["dossi", "consult", "entrepris"]),
    ("un vieil ordi", ["ordin"]),                             # informal word -> document word
    ("matériel reconditionné", ["reemploi"]),                 # equivalents
    ("une asso", ["associ"]),
])
def test_query_expansion(analyzer, question, expected):
    tokens = analyzer.analyze_query(question)
    for token in expected:
        assert token in tokens, f"{token!r} missing from the expansion of {question!r}: {tokens}"


def test_expansions_weigh_less(analyzer):
    terms = dict(analyzer.query_terms("benne DEEE"))
    assert terms["dee"] == 1.0 and terms["ben"] == 1.0, "the question's own words keep weight 1"
    assert terms["dechet"] == EXPANSION_WEIGHT < 1.0, "expansions weigh less"


def test_acronyms_match_the_word_not_its_stem(analyzer):
    # Snowball stems "repa" (clipped "réparabilité") to "rep", the stem of the acronym REP
    assert "producteur" not in analyzer.analyze_query("indice de repa"), "REP must not fire on 'repa'"
    assert "producteur" in analyzer.analyze_query("la REP des DEEE"), "REP fires on 'REP'"


def test_documents_are_not_expanded(analyzer):
    assert analyzer.analyze("DEEE") == ["dee"], "the table is for queries only (no re-indexing on edit)"


def test_expand_matches_consecutive_tokens_only():
    table = [(("fin", "vi"), False, ("fin", "usag"))]
    assert expand([("fin", "fin"), ("vie", "vi")], table) == ["fin", "usag"]
    assert expand([("fin", "fin"), ("de", "de"), ("vie", "vi")], table) == []
    assert expand([], table) == []


def test_synonyms_file_adds_entries(tmp_path):
    extra = tmp_path / "synonymes.yaml"
    extra.write_text("acronyms:\n  CSP: catégorie socio-professionnelle\n"
                     "equivalents:\n  - [vélo, bicyclette]\n"
                     "expansions:\n  trottinette: engin de déplacement\n", encoding="utf-8")
    analyzer = FrenchAnalyzer(extra)
    assert "categor" in analyzer.analyze_query("les CSP"), "acronym from the extra file"
    assert "bicyclet" in analyzer.analyze_query("vélo"), "equivalents from the extra file"
    assert "engin" in analyzer.analyze_query("trottinette"), "expansion from the extra file"
    assert "ordin" in analyzer.analyze_query("ordi"), "built-in entries stay"


@pytest.mark.parametrize("content, message", [
    ("[a, b]", "expected a mapping"),
    ("synonyms: {}", "expected a mapping"),
    ("acronyms: [DCE]", "'acronyms': expected a mapping"),
    ("equivalents: {a: b}", "'equivalents': expected a list"),
    ("equivalents: [x]", "equivalents #1: expected a list"),
    ("acronyms: {DCE: ''}", "expected a non-empty word"),
    ("acronyms: {DCE: [1, {a: b}]}", "expected a non-empty word"),
    ("acronyms: {DCE: [", "not readable YAML"),
])
def test_bad_synonyms_file(tmp_path, content, message):
    path = tmp_path / "bad.yaml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(ConfigError, match=message) as err:
        FrenchAnalyzer(path).analyze_query("DCE")
    assert str(path) in str(err.value), "the message names the file"


def test_missing_synonyms_file(tmp_path):
    with pytest.raises(ConfigError, match="does not exist"):
        FrenchAnalyzer(tmp_path / "absent.yaml").analyze_query("DCE")


def test_documents_need_no_synonyms_file(tmp_path):
    assert FrenchAnalyzer(tmp_path / "absent.yaml").analyze("label") == ["label"], \
        "document analysis never reads the table"
