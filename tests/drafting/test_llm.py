"""The `llm` generator against a REAL OpenAI-compatible server (llama.cpp serving SmolLM2-135M).

SmolLM2-135M writes poor French, so these tests check protocol behaviour, not wording:
completion, streaming, fallback to the extractive draft on a timeout, a refused connection and
an unknown model name, and verification of whatever the model wrote.
"""

from __future__ import annotations

import time
from datetime import date

import pytest

from assistant.compose import drafting_config
from assistant.config import get_settings
from assistant.drafting import texts
from assistant.drafting.citations import body_sentences, parse_markers, strip_markers
from assistant.drafting.llm import LLMGenerator
from assistant.evaluation.drafts import citations_valid
from assistant.text.normalize import normalize

from .helpers import md_chunk, paragraph, passages
from .llama_server import LlamaServer, free_port

pytestmark = pytest.mark.llm

QUESTION = "pc de 7 ans qui tourne encore : don ou DEEE ?"
FAQ = md_chunk("fin-usage--faq.md", paragraph("fin-usage--faq.md", "En dessous de 5 ans"), section="DEEE")
DON = md_chunk("fin-usage--don.md", paragraph("fin-usage--don.md", "15 jours"), section="Comment donner ?")
FALLBACK = "le générateur LLM n'a pas répondu ("


def generator(server: LlamaServer, **overrides) -> LLMGenerator:
    settings = get_settings(**{"generator": "llm", "llm_base_url": server.base_url, "llm_model": server.model,
                               "llm_timeout_s": 120.0, **overrides})
    return LLMGenerator(drafting_config(settings).llm, today=date(2024, 1, 1))


def notes(draft) -> list[str]:
    return [f.reason for f in draft.flags if f.reason.startswith(FALLBACK)]


def assert_verified(draft) -> None:
    """Every body sentence without a marker is flagged "no citation"; each marker maps to a passage."""
    body = draft.text.split("\n\n" + texts.SOURCES_HEADING)[0]
    uncited = {strip_markers(s) for s in body_sentences(body) if not parse_markers(s)}
    flagged = {f.sentence for f in draft.flags if f.reason == "no citation"}
    assert flagged == {u for u in uncited if any(c.isalpha() for c in u)}, (draft.text, draft.flags)
    for citation in draft.citations:
        assert 1 <= citation.marker <= len(draft.passages)
        assert citation.chunk_id == draft.passages[citation.marker - 1].chunk.id


def test_completion(llama_server):
    draft = generator(llama_server).draft(QUESTION, passages(FAQ, DON))
    assert draft.generator == "llm" and not draft.abstained, draft
    assert notes(draft) == [], draft.flags
    assert draft.text.strip() and draft.text.endswith(texts.CLOSING), draft.text
    assert_verified(draft)


def test_streaming(llama_server):
    stream = generator(llama_server).stream(QUESTION, passages(FAQ, DON))
    pieces = list(stream)
    assert len(pieces) > 2, f"the text arrives in pieces, got {len(pieces)}"
    assert stream.draft is not None and stream.draft.generator == "llm" and notes(stream.draft) == []
    assert normalize("".join(pieces)) == normalize(stream.draft.text)
    assert_verified(stream.draft)


def test_verification_flags_uncited_output(llama_server):
    # Whatever SmolLM2 writes, each sentence it did not cite is flagged for the advisor, and the
    # draft keeps every sentence it wrote.
    draft = generator(llama_server).draft("Que faire d'un ordinateur de 7 ans qui fonctionne ?", passages(FAQ))
    assert_verified(draft)
    body = draft.text.split("\n\n" + texts.SOURCES_HEADING)[0].split("\n\n" + texts.CLOSING)[0]
    assert all(f.sentence in draft.text for f in draft.flags if f.sentence), "flags point at text in the draft"
    assert body.strip(), "the model's text is kept"


def test_refused_connection_falls_back_to_extractive(llama_server):
    closed = f"http://127.0.0.1:{free_port()}/v1"
    start = time.monotonic()
    draft = generator(llama_server, llm_base_url=closed).draft(QUESTION, passages(FAQ, DON))
    assert notes(draft) == [f"{FALLBACK}connexion impossible à {closed}) : brouillon extractif"], draft.flags
    assert draft.generator == "extractive" and draft.text.startswith(texts.OPENING)
    assert citations_valid(draft, passages(FAQ, DON)), "the fallback draft is a valid extractive draft"
    assert time.monotonic() - start < 30, "two retries with backoff, not a hang"


def test_refused_connection_while_streaming(llama_server):
    closed = f"http://127.0.0.1:{free_port()}/v1"
    stream = generator(llama_server, llm_base_url=closed).stream(QUESTION, passages(FAQ, DON))
    text = "".join(stream)
    assert text == stream.draft.text and text.startswith(texts.OPENING)
    assert notes(stream.draft), stream.draft.flags


def test_unknown_model_name_is_answered_by_the_served_model(llama_server):
    # llama-cpp-python's server maps any unknown model name to the model it was started with
    # (LlamaProxy.__call__ in llama_cpp/server/model.py), so the draft is a normal llm draft.
    # Servers that refuse an unknown model (vLLM, hosted APIs: HTTP 404) take the HTTP error path.
    draft = generator(llama_server, llm_model="no-such-model").draft(QUESTION, passages(FAQ, DON))
    assert draft.generator == "llm" and notes(draft) == [], draft.flags
    assert_verified(draft)


def test_http_error_falls_back_to_extractive(llama_server):
    wrong = llama_server.base_url.replace("/v1", "/no-such-path/v1")
    draft = generator(llama_server, llm_base_url=wrong).draft(QUESTION, passages(FAQ, DON))
    assert [n[:len(FALLBACK) + 15] for n in notes(draft)] == [f"{FALLBACK}erreur HTTP 404"], draft.flags
    assert draft.generator == "extractive" and citations_valid(draft, passages(FAQ, DON))


def test_abstention_does_not_call_the_model(llama_server):
    closed = f"http://127.0.0.1:{free_port()}/v1"
    draft = generator(llama_server, llm_base_url=closed).draft("recette de la blanquette de veau ?", passages(FAQ))
    assert draft.abstained and draft.generator == "llm" and notes(draft) == [], draft


def test_timeout_falls_back_to_extractive(llama_server):
    start = time.monotonic()
    draft = generator(llama_server, llm_timeout_s=0.01).draft(QUESTION, passages(FAQ, DON))
    assert notes(draft) == [f"{FALLBACK}délai de 0.01 s dépassé) : brouillon extractif"], draft.flags
    assert draft.generator == "extractive" and citations_valid(draft, passages(FAQ, DON))
    assert time.monotonic() - start < 30
