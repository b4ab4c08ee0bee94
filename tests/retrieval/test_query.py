"""Bad questions: a clear message or a sensible search, never a crash."""

from __future__ import annotations

import pytest

from assistant.errors import InvalidQuery
from assistant.retrieval.query import MAX_QUERY_CHARS, prepare_question, with_completions


@pytest.mark.parametrize("question", ["", "   ", "\n\t"])
def test_empty(question):
    with pytest.raises(InvalidQuery, match="^empty question$"):
        prepare_question(question)


@pytest.mark.parametrize("question", ["?!", "🙂🌍♻️", "… — « » ???", "%%% $$$"])
def test_no_searchable_words(question):
    with pytest.raises(InvalidQuery, match="^question has no searchable words$"):
        prepare_question(question)


@pytest.mark.parametrize("question", [
    "<script>alert('x')</script> label DCE",
    "'; DROP TABLE chunks; --",
    "Can I require an ecolabel in a tender?",
    "¿Puedo exigir una etiqueta ecológica?",
    "DEEE 🙂",
])
def test_other_text_is_kept_as_text(question):
    assert prepare_question(question) == question.strip()


def test_long_question_is_cut_at_a_word():
    question = "reemploi " * 2500  # 22,500 characters
    prepared = prepare_question(question)
    assert len(prepared) <= MAX_QUERY_CHARS and prepared.endswith("reemploi")


def test_long_question_without_spaces_is_cut():
    assert len(prepare_question("x" * 20_000)) == MAX_QUERY_CHARS


def test_not_a_string():
    with pytest.raises(InvalidQuery, match="empty question"):
        prepare_question(None)  # type: ignore[arg-type]


def complete_from(known):
    return lambda word: sorted(t for t in known if t.startswith(word) and t != word)


def test_completions_for_clipped_words():
    known = {"fabric", "fabriqu", "don", "rep", "reparabilit", "an"}
    terms = with_completions([("fab", 1.0), ("don", 1.0), ("rep", 1.0), ("12", 1.0)],
                             ["fab", "don", "repa", "12"], known, complete_from(known))
    assert terms == [("fab", 1.0), ("don", 1.0), ("rep", 1.0), ("12", 1.0),
                     ("fabric", 0.3), ("fabriqu", 0.3), ("reparabilit", 0.3)], \
        "'fab' and 'repa' are completed; known words and numbers are not"


@pytest.mark.parametrize("word", ["an", "ans", "ab", "12a"])
def test_no_completion(word):
    known = {"an", "anssi", "abri", "12ab"}
    assert with_completions([], [word], known, complete_from(known)) == [], \
        f"{word!r}: known, plural of a known token, too short or not alphabetic"


def test_completions_never_lower_a_weight():
    terms = with_completions([("recond", 1.0)], ["rec"], set(), lambda w: ["recond"])
    assert dict(terms)["recond"] == 1.0
