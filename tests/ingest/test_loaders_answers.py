"""Past answers and resources loader: YAML, JSON and CSV files written here."""

from __future__ import annotations

import json

import pytest

from assistant.errors import IngestError, UnsupportedFile
from assistant.ingest.loading import load_document

ANSWERS_YAML = """\
notice: Réponses validées par le réseau ; à relire avant réutilisation.
answers:
  - id: label-01
    question: Puis-je exiger un label précis dans mon DCE ?
    answer: |
      Oui, si ses critères sont liés à l'objet du marché.
      Acceptez les labels équivalents.
    sources:
      - CCP R2111-12
      - Guide DAE, p. 34
    date: 2025-02-14
    tags: [label, specifications]
  - question: Quelle part de reconditionné acheter ?
    answer: 20 % pour les ordinateurs.
    sources: Décret 2021-254 ; Guide bureautique
    tags: reemploi, informatique
"""


def test_yaml_answers_give_one_answer_document_each(tmp_path, limits, assert_offsets):
    path = tmp_path / "reponses.yaml"
    path.write_text(ANSWERS_YAML, encoding="utf-8")
    first, second = load_document(path, limits)

    assert first.kind == "answer" and first.source == str(path.resolve())
    assert first.title == "Puis-je exiger un label précis dans mon DCE ?"
    assert first.sections[0].text == (
        "Question : Puis-je exiger un label précis dans mon DCE ?\n\n"
        "Réponse : Oui, si ses critères sont liés à l'objet du marché.\nAcceptez les labels équivalents."
    )
    assert dict(first.metadata) == {
        "answer_id": "label-01",
        "date": "2025-02-14",
        "tags": "label, specifications",
        "sources": "CCP R2111-12 ; Guide DAE, p. 34",
    }
    assert second.metadata["sources"] == "Décret 2021-254 ; Guide bureautique"
    assert second.metadata["tags"] == "reemploi, informatique"
    assert len(second.metadata["answer_id"]) == 16, "no id: a hash of the question"
    assert "date" not in second.metadata
    for doc in (first, second):
        assert_offsets(doc)


def test_answer_id_hash_is_stable(tmp_path, limits):
    path = tmp_path / "a.yml"
    path.write_text("- question: Q ?\n  answer: R.\n", encoding="utf-8")
    once = load_document(path, limits)[0].metadata["answer_id"]
    path.write_text("- question: Q ?\n  answer: Autre réponse.\n", encoding="utf-8")
    assert load_document(path, limits)[0].metadata["answer_id"] == once


def test_json_bare_list_of_answers(tmp_path, limits):
    path = tmp_path / "reponses.json"
    records = [
        {"question": "Q1 ?", "answer": "R1.", "sources": ["S1"], "tags": ["a", "b"], "date": "2024-01-02"}
    ]
    path.write_text(json.dumps(records, ensure_ascii=False), encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.kind == "answer"
    assert doc.metadata["tags"] == "a, b" and doc.metadata["date"] == "2024-01-02"


def test_csv_answers_with_semicolon_delimiter(tmp_path, limits):
    path = tmp_path / "reponses.csv"
    path.write_text(
        'id;Question;Answer;Sources;Date;Tags\n'
        'c1;"Faut-il un SPASER ?";"Oui, au-delà de 50 M€ HT d\'achats; par an.";"CCP L2111-3; D2111-3";2025-01-10;spaser\n'
        '\n'
        'c2;Quel seuil ?;40 000 € HT.;;;\n',
        encoding="utf-8",
    )
    first, second = load_document(path, limits)
    assert first.title == "Faut-il un SPASER ?"
    assert first.sections[0].text.endswith("Réponse : Oui, au-delà de 50 M€ HT d'achats; par an.")
    assert first.metadata["sources"] == "CCP L2111-3 ; D2111-3"
    assert second.metadata == {"answer_id": "c2"}


def test_csv_answers_with_comma_delimiter_and_multiline_answer(tmp_path, limits):
    path = tmp_path / "export.csv"
    path.write_text('question,answer,sources\n"Q, vraiment ?","Ligne 1\nLigne 2",A;B\n', encoding="utf-8")
    (doc,) = load_document(path, limits)
    assert doc.sections[0].text == "Question : Q, vraiment ?\n\nRéponse : Ligne 1\nLigne 2"
    assert doc.metadata["sources"] == "A ; B"


def test_resources_yaml(tmp_path, limits):
    path = tmp_path / "ressources.yaml"
    path.write_text(
        "resources:\n"
        "  - name: Rés'Occ\n"
        "    offers: réseau régional des acheteurs responsables\n"
        "    audience: acheteurs publics d'Occitanie\n"
        "    url: https://resocc.example\n"
        "    tags: [reseau, occitanie]\n"
        "  - name: Guichet vert\n"
        "    offers: conseil de premier niveau\n",
        encoding="utf-8",
    )
    first, second = load_document(path, limits)
    assert first.kind == "resource" and first.title == "Rés'Occ"
    assert first.sections[0].text == (
        "Rés'Occ — réseau régional des acheteurs responsables (acheteurs publics d'Occitanie)"
    )
    assert dict(first.metadata) == {
        "url": "https://resocc.example",
        "audience": "acheteurs publics d'Occitanie",
        "tags": "reseau, occitanie",
    }
    assert second.sections[0].text == "Guichet vert — conseil de premier niveau"


def test_empty_answers_list_gives_no_document(tmp_path, limits):
    path = tmp_path / "vide.yaml"
    path.write_text("notice: rien encore\nanswers: []\n", encoding="utf-8")
    assert load_document(path, limits) == []


@pytest.mark.parametrize(
    ("name", "content", "words"),
    [
        (
            "manque.yaml",
            "answers:\n  - question: Q1 ?\n    answer: R1.\n  - question: Q2 ?\n  - question: Q3 ?\n    answer: R3\n",
            ("record 2 (line 4): missing 'answer'",),
        ),
        ("vide.yaml", "answers:\n  - question: '  '\n    answer: R.\n", ("record 1 (line 2): missing 'question'",)),
        ("type.yaml", "answers:\n  - question: [a, b]\n    answer: R.\n", ("record 1", "'question' must be text")),
        ("scalaire.yaml", "answers:\n  - juste une phrase\n", ("record 1", "expected a mapping")),
        ("liste.yaml", "answers: {question: Q}\n", ("'answers' must be a list",)),
        ("ressource.yaml", "resources:\n  - name: X\n", ("record 1 (line 2): missing 'offers'",)),
        (
            "double.yaml",
            "- {id: a, question: Q1, answer: R1}\n- {id: a, question: Q2, answer: R2}\n",
            ("record 2", "duplicate id 'a'", "record 1"),
        ),
        ("syntaxe.yaml", "answers:\n  - question: Q\n   answer: R\n", ("invalid YAML at line 3",)),
        ("syntaxe.json", '{"answers": [{"question": "Q",}]}', ("invalid JSON at line 1",)),
        ("colonne.csv", "question,reponse\nQ,R\n", ("CSV has no 'answer' column", "question, reponse")),
        ("ligne.csv", "question,answer\nQ1,R1\n,R2\n", ("record 2 (line 3): missing 'question'",)),
    ],
)
def test_malformed_answers_name_the_record_and_field(tmp_path, limits, assert_one_line, name, content, words):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, *words)


@pytest.mark.parametrize(
    ("name", "content", "kind"),
    [
        ("config.yaml", "server:\n  port: 80\n", "YAML"),
        ("data.json", '{"items": [1, 2]}', "JSON"),
        ("rien.yml", "# que des commentaires\n", "YAML"),
    ],
)
def test_yaml_or_json_of_another_shape_is_unsupported(tmp_path, limits, assert_one_line, name, content, kind):
    path = tmp_path / name
    path.write_text(content, encoding="utf-8")
    with pytest.raises(UnsupportedFile) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == (
        f"{kind} file is neither past answers, resources nor peers: expected a top-level 'answers', "
        "'resources' or 'peers' list"
    )


GOOD_AND_BAD = """\
answers:
  - id: ok-1
    question: Puis-je exiger un label ?
    answer: Oui, avec des équivalents.
    date: 2025-02-14
  - id: bool
    question: Le réemploi compte-t-il ?
    answer: true
  - id: ok-2
    question: Quel seuil ?
    answer: 40 000 € HT.
  - id: date
    question: Depuis quand ?
    answer: Depuis le décret.
    date: 2026-13-45
"""


def test_wrong_types_and_impossible_dates_are_errors_with_their_lines(tmp_path, limits, assert_one_line):
    path = tmp_path / "reponses.yaml"
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    message = assert_one_line(exc)
    assert message.startswith("record 2 (line 6): 'answer' must be text, got the boolean true"), message
    assert "put the text in quotes" in message, "say how to write it"
    assert message.endswith("1 more bad record(s): record 4 (line 12)"), f"every bad record is named: {message}"

    path.write_text(GOOD_AND_BAD.replace("answer: true", "answer: 'true'"), encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert assert_one_line(exc) == "record 4 (line 12): 'date' is not a valid date ('2026-13-45'): write YYYY-MM-DD"

    path.write_text(GOOD_AND_BAD.replace("answer: true", "answer: 'true'").replace("2026-13-45", "28/11/2026"),
                    encoding="utf-8")
    documents = load_document(path, limits)
    assert [d.metadata["answer_id"] for d in documents] == ["ok-1", "bool", "ok-2", "date"]
    assert documents[1].sections[0].text.endswith("Réponse : true"), "a quoted 'true' is text"
    assert documents[3].metadata["date"] == "2026-11-28", "a French DD/MM/YYYY date is read and kept as ISO"


@pytest.mark.parametrize(
    ("line", "words"),
    [
        ("    answer: 42\n", ("'answer' must be text, got the number 42",)),
        ("    answer: R.\n    date: hier\n", ("'date' is not a valid date ('hier')",)),
        ("    answer: R.\n    date: [2025]\n", ("'date' must be a date",)),
        ("    answer: R.\n    tags: [ok, {a: 1}]\n", ("'tags' must be text or a list of texts, got a mapping",)),
        ("    answer: R.\n    sources: [yes]\n", ("'sources' must be text or a list of texts, got the boolean true",)),
    ],
)
def test_each_field_type_is_checked(tmp_path, limits, assert_one_line, line, words):
    path = tmp_path / "r.yaml"
    path.write_text("answers:\n  - question: Q ?\n" + line, encoding="utf-8")
    with pytest.raises(IngestError) as exc:
        load_document(path, limits)
    assert_one_line(exc, "record 1 (line 2)", *words)


def test_a_bad_record_keeps_what_was_indexed_of_the_file(tmp_path):
    from assistant.config import get_settings
    from assistant.compose import ingest_config, open_index
    from assistant.ingest.pipeline import Ingestor

    path = tmp_path / "docs" / "reponses.yaml"
    path.parent.mkdir()
    path.write_text(GOOD_AND_BAD.replace("answer: true", "answer: 'true'").replace("2026-13-45", "2026-11-28"),
                    encoding="utf-8")
    index = open_index(get_settings())
    assert Ingestor(index, ingest_config(get_settings())).ingest([path.parent]).files == 1
    before = index.catalog.all_ids()
    path.write_text(GOOD_AND_BAD, encoding="utf-8")
    report = Ingestor(index, ingest_config(get_settings())).ingest([path.parent])
    ((failed_path, error),) = report.failed
    assert failed_path == str(path) and "record 2 (line 6)" in error and "record 4 (line 12)" in error, error
    assert index.catalog.all_ids() == before, "the answers indexed before the bad edit stay searchable"
