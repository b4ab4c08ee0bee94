"""Generator `llm`: fluent drafts from any OpenAI-compatible endpoint, verified like the others.

langchain-openai's `ChatOpenAI` talks to the endpoint of `GUICHET_LLM_BASE_URL` (vLLM, a
llama.cpp server, Ollama's `http://127.0.0.1:11434/v1`, or a hosted API) with the model
`GUICHET_LLM_MODEL` and the key `GUICHET_LLM_API_KEY` (local servers accept any key). Each
request has the timeout `GUICHET_LLM_TIMEOUT_S` and two retries.

The model's text is then checked: markers are turned into `Citation` records (quote = the
claim when it is in the cited passage, else the passage's closest sentence, with a flag),
`citations.verify` flags every sentence without a valid citation, and old sources are flagged.
When the abstention model says abstain, the draft abstains without calling the LLM; a partial
outcome is flagged on the LLM's draft. When the endpoint
fails (refused connection, timeout, HTTP error, unknown model), the extractive draft is
returned with a note for the advisor.

Example:
    >>> endpoint = LLMConfig("http://127.0.0.1:8080/v1", "smollm2", timeout_s=60.0)
    >>> draft = LLMGenerator(endpoint).draft("Plafond d'un don ?", passages)  # doctest: +SKIP
    >>> [f.reason for f in draft.flags]                                       # doctest: +SKIP
    ['not a verbatim quote of [1]: check the claim against the passage']
"""

from __future__ import annotations

import collections.abc as abc
from dataclasses import replace
from datetime import date
from typing import Any, Sequence

import httpx
import openai

from assistant.drafting import texts
from assistant.drafting.abstention import Model
from assistant.drafting.terms import Rarity
from assistant.drafting.base import DraftStream
from assistant.drafting.citations import cite_markers, verify
from assistant.drafting.dates import MAX_SOURCE_AGE_DAYS, age_flags
from assistant.drafting.extractive import ExtractiveGenerator, RelatedResources
from assistant.drafting.factory import LLMConfig
from assistant.drafting.followup import contextual_query
from assistant.drafting.prompts import SYSTEM_PROMPT, user_message
from assistant.drafting.render import sources_block
from assistant.records import Draft, Flag, Passage

MAX_RETRIES = 2
#: Longest answer, in tokens: two to five sentences need far less. Sent as the request's
#: "max_tokens", which vLLM, Ollama and llama.cpp read (llama-cpp-python's server ignores the
#: newer "max_completion_tokens" that ChatOpenAI's own `max_tokens` field would send).
MAX_ANSWER_TOKENS = 400
#: Placeholder key for local servers, which accept any (the OpenAI client refuses an empty one).
NO_KEY = "sk-no-key-required"

# What an unreachable or misbehaving endpoint raises through ChatOpenAI.
_FAILURES = (openai.OpenAIError, httpx.HTTPError, ValueError)


class LLMGenerator:
    """Drafts with an OpenAI-compatible chat model; falls back to extractive on failure.

    Args:
        llm: The endpoint (`LLMConfig`, checked when built).
        related_resources: Optional resources lookup for "Pour aller plus loin".
        model: The abstention model (default: as the extractive generator's).
        today: Reference day for source ages (default: today).
        rarity: Rarity of terms in the corpus, for the abstention model.
        max_age_days: Sources older than this many days are flagged (as the extractive generator).
    """

    name = "llm"

    def __init__(self, llm: LLMConfig, related_resources: RelatedResources | None = None,
                 model: Model | None = None, today: date | None = None, rarity: Rarity | None = None,
                 max_age_days: int = MAX_SOURCE_AGE_DAYS) -> None:
        self.llm = llm
        self.today = today
        self.fallback = ExtractiveGenerator(related_resources, model, today, rarity, max_age_days)
        self._chat: Any = None

    def warm_up(self) -> None:
        """Build the client now (importing langchain-openai takes seconds); no request is sent."""
        _ = self.chat

    @property
    def chat(self):
        """The `ChatOpenAI` client, built on first use."""
        if self._chat is None:
            from langchain_openai import ChatOpenAI

            self._chat = ChatOpenAI(model=self.llm.model, base_url=self.llm.base_url,
                                    api_key=self.llm.api_key or NO_KEY, timeout=self.llm.timeout_s,
                                    max_retries=MAX_RETRIES, temperature=0,
                                    extra_body={"max_tokens": MAX_ANSWER_TOKENS})
        return self._chat

    def draft(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> Draft:
        """Draft with the model (one request), or abstain, or fall back to extractive."""
        passages = tuple(passages)
        early = self._abstention(question, passages, history)
        if early is not None:
            return early
        try:
            reply = self.chat.invoke(self._messages(question, passages, history))
        except _FAILURES as exc:
            return self._fall_back(question, passages, history, _cause(exc, self.llm))
        body = _text(reply.content).strip()
        if not body:
            return self._fall_back(question, passages, history, "réponse vide")
        return self._finish(body, question, passages, history)

    def stream(self, question: str, passages: Sequence[Passage], history: Sequence[str] = ()) -> DraftStream:
        """Yield the model's text as it arrives, then the sources; `.draft` once exhausted."""
        return DraftStream(self._pieces(question, tuple(passages), history))

    def _pieces(self, question: str, passages: tuple[Passage, ...],
                history: Sequence[str]) -> abc.Generator[str, None, Draft]:
        early = self._abstention(question, passages, history)
        if early is not None:
            yield early.text
            return early
        written: list[str] = []
        try:
            for chunk in self.chat.stream(self._messages(question, passages, history)):
                piece = _text(chunk.content)
                if piece:
                    written.append(piece)
                    yield piece
        except _FAILURES as exc:
            draft = self._fall_back(question, passages, history, _cause(exc, self.llm))
            yield (f"\n\n{texts.LLM_INTERRUPTED}\n\n" if written else "") + draft.text
            return draft
        body = "".join(written).strip()
        if not body:
            draft = self._fall_back(question, passages, history, "réponse vide")
            yield draft.text
            return draft
        draft = self._finish(body, question, passages, history)
        yield draft.text[len(body):]
        return draft

    def _messages(self, question: str, passages: Sequence[Passage], history: Sequence[str]):
        from langchain_core.messages import HumanMessage, SystemMessage

        return [SystemMessage(SYSTEM_PROMPT), HumanMessage(user_message(question, passages, history))]

    def _abstention(self, question: str, passages: tuple[Passage, ...], history: Sequence[str]) -> Draft | None:
        if self.fallback.decision(contextual_query(question, history), passages).outcome != "abstain":
            return None
        return replace(self.fallback.draft(question, passages, history), generator=self.name)

    def _fall_back(self, question: str, passages: tuple[Passage, ...], history: Sequence[str], cause: str) -> Draft:
        draft = self.fallback.draft(question, passages, history)
        note = Flag("", texts.LLM_FALLBACK.format(cause=cause))
        return replace(draft, flags=(note, *draft.flags))

    def _finish(self, body: str, question: str, passages: tuple[Passage, ...], history: Sequence[str]) -> Draft:
        citations, unquoted = cite_markers(body, passages)
        cited = sorted({c.marker for c in citations})
        text = body
        if cited:
            text += "\n\n" + sources_block([(m, passages[m - 1]) for m in cited])
        query = contextual_query(question, history)
        further, notes = self.fallback.further(query, passages)
        text += "\n\n" + "\n\n".join(p for p in (further, texts.CLOSING) if p)
        decision = self.fallback.decision(query, passages)
        if decision.outcome == "partial":
            notes = (Flag("", texts.PARTIAL_FLAG.format(missing=decision.missing)), *notes)
        flags = (verify(text, citations, passages) + unquoted
                 + age_flags({m: passages[m - 1].chunk for m in cited}, self.fallback.max_age_days, self.today)
                 + notes)
        return Draft(text, citations, passages, False, decision.reason, tuple(dict.fromkeys(flags)), self.name,
                     decision.outcome)


def _text(content: Any) -> str:
    """Message content as text (a string, or a list of content blocks)."""
    if isinstance(content, str):
        return content
    return "".join(b.get("text", "") if isinstance(b, dict) else str(b) for b in content or ())


def _cause(exc: BaseException, llm: LLMConfig) -> str:
    """One line for the advisor saying why the endpoint did not answer."""
    if isinstance(exc, (openai.APITimeoutError, httpx.TimeoutException)):
        return f"délai de {llm.timeout_s:g} s dépassé"
    if isinstance(exc, (openai.APIConnectionError, httpx.TransportError)):
        return f"connexion impossible à {llm.base_url}"
    if isinstance(exc, openai.APIStatusError):
        return f"erreur HTTP {exc.status_code} : {_first_line(exc.message)}"
    return f"{type(exc).__name__} : {_first_line(str(exc))}"


def _first_line(message: str, limit: int = 160) -> str:
    line = (message or "").strip().splitlines()[0] if (message or "").strip() else ""
    return line if len(line) <= limit else line[: limit - 1] + "…"
