"""The composition root: the one module that reads `Settings` and builds the stages from them.

Components below take typed parameters (`RetrievalConfig`, `DraftingConfig`, `ReviewConfig`,
durations, limits) and check them when they are built; none of them imports `assistant.config`.
The web app and the CLI are wired here, by the same functions.

Example:
    >>> settings = load_settings(home="/tmp/guichet-doc")                    # doctest: +SKIP
    >>> with open_assistant(settings) as assistant:                          # doctest: +SKIP
    ...     assistant.search("pc de 7 ans : don ou DEEE ?", k=3)
    >>> hooks = AssistantHooks(settings)                                     # doctest: +SKIP
    >>> service = review_service(settings, hooks)   # drafter and reuse hook: one shared Assistant
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Mapping, Sequence
from datetime import timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.config import Settings, get_settings
from assistant.drafting.factory import DraftingConfig, GeneratorKind, LLMConfig
from assistant.embeddings.base import Embedder
from assistant.errors import ConfigError, GuichetError
from assistant.ingest.options import FileLimits, IngestConfig
from assistant.pipeline import Assistant
from assistant.records import Draft
from assistant.retrieval.options import RetrievalConfig, SearchMode
from assistant.retrieval.ranker import ranker_path
from assistant.review.limits import Limits
from assistant.review.options import ReviewConfig
from assistant.store.index import KnowledgeIndex
from assistant.store.options import IndexConfig

if TYPE_CHECKING:
    from fastapi import FastAPI

    from assistant.evaluation.naive import NaiveAssistant
    from assistant.ui.app import WebConfig
    from assistant.ui.desk import Desk
    from assistant.review.mailer import Mailer
    from assistant.review.service import ReviewService

#: Named retrieval configurations for `guichet eval --config NAME`: settings overrides and a mode.
CONFIGS: dict[str, dict] = {
    "default": {"mode": "hybrid"},
    "lexical": {"mode": "lexical"},
    "dense": {"mode": "dense"},
    # the default before the learned ranker: min-max score fusion 1 / 0.4 of 50 + 50 candidates
    "fusion": {"mode": "hybrid", "ranker": "fusion", "candidates": 50},
    "rrf": {"mode": "hybrid", "ranker": "fusion", "candidates": 50, "fusion": "rrf", "lexical_weight": 1.0,
            "dense_weight": 1.0},
    "naive": {"mode": "naive"},
}

#: `review_service(mailer=...)` default: the SMTP mailer of the settings (None without a host).
FROM_SETTINGS: Any = object()


def load_settings(**overrides: Any) -> Settings:
    """The settings of the environment with `overrides` on top (see `assistant.config`).

    Raises:
        ConfigError: an unknown `GUICHET_*` variable or an invalid value, in one line.
    """
    return get_settings(**overrides)


def home(settings: Settings) -> Path:
    """GUICHET_HOME of `settings`: where a desk's own files live (tuned parameters, eval runs)."""
    return settings.home


def over_home(settings: Settings, other: Path, **changes: Any) -> Settings:
    """This configuration over another index: `settings` with GUICHET_HOME `other` and `changes`
    (setting names, e.g. `ranker="fusion"`) on top; used to pool question sets of several indexes."""
    unknown = set(changes) - set(Settings.model_fields)
    if unknown:
        raise ConfigError(f"unknown setting {sorted(unknown)[0]!r}")
    return settings.model_copy(update={"home": Path(other), **changes})


def has_review_data(settings: Settings) -> bool:
    """Whether `settings` name a review database that may hold answers: a shared database URL,
    or a `review.sqlite` already in GUICHET_HOME (none is created by asking)."""
    from assistant.review.db import SQLITE_FILE

    return bool(settings.database_url) or (settings.home / SQLITE_FILE).exists()


# ---------------------------------------------------------------------- typed parameters


def index_config(settings: Settings) -> IndexConfig:
    """Where the index lives: data directory, embedder, optional shared database and Chroma server."""
    return IndexConfig(settings.home, settings.embedder, database_url=settings.database_url,
                       chroma_url=settings.chroma_url, chroma_token=settings.chroma_token.get_secret_value())


def ingest_config(settings: Settings) -> IngestConfig:
    """Chunking, file limits, embedding batch and pruning of `guichet ingest`."""
    return IngestConfig(settings.chunk_size, settings.chunk_overlap, settings.prune, settings.embed_batch_size,
                        settings.synonyms_file,
                        FileLimits(settings.max_file_mb, settings.file_timeout_s, settings.file_memory_mb,
                                   settings.max_expanded_mb))


def retrieval_config(settings: Settings) -> RetrievalConfig:
    """Hybrid search's parameters; the ranker file is the one `settings` selects now."""
    return RetrievalConfig(
        top_k=settings.top_k, candidates=settings.candidates, rrf_k=settings.rrf_k,
        lexical_weight=settings.lexical_weight, dense_weight=settings.dense_weight,
        fusion=settings.fusion, ranker=settings.ranker,  # type: ignore[arg-type]  # checked by RetrievalConfig
        ranker_params=ranker_path(settings.home, settings.ranker_params),
        answer_boost=settings.answer_boost, synonyms_file=settings.synonyms_file,
        reranker_model=settings.reranker_model)


def drafting_config(settings: Settings) -> DraftingConfig:
    """Which generator drafts; the llm endpoint is checked when the llm generator is named."""
    llm = None
    if settings.generator == GeneratorKind.LLM:
        llm = LLMConfig(settings.llm_base_url, settings.llm_model, settings.llm_timeout_s,
                        api_key=settings.llm_api_key.get_secret_value())
    return DraftingConfig(settings.generator, settings.max_source_age_days,  # type: ignore[arg-type]
                          abstention_home=settings.home, llm=llm)


def review_config(settings: Settings) -> ReviewConfig:
    """Where the review data lives, and the claim and draft-lease durations."""
    return ReviewConfig(settings.home, settings.database_url, draft_lease=timedelta(seconds=settings.draft_lease_s),
                        claim=timedelta(minutes=settings.claim_minutes))


def smtp_mailer(settings: Settings) -> Mailer | None:
    """The SMTP mailer of the settings, or None when `smtp_host` is empty (no mail)."""
    from assistant.review.mailer import SmtpMailer

    if not settings.smtp_host:
        return None
    return SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_security, settings.smtp_user,
                      settings.smtp_password.get_secret_value(), settings.smtp_from)


def buyer_limits(settings: Settings) -> Limits:
    """Buyers' question limits per minute."""
    return Limits(per_session=settings.buyer_questions_per_minute,
                  per_address=settings.address_questions_per_minute)


# ---------------------------------------------------------------------- the stages


def open_index(settings: Settings, embedder: Embedder | None = None) -> KnowledgeIndex:
    """The knowledge index (catalog, vector store, embedder) the settings name.

    Args:
        embedder: An embedder already made (default: the one `settings.embedder` names).
    """
    return KnowledgeIndex(index_config(settings), embedder)


def open_assistant(settings: Settings, config: str = "default") -> Assistant | NaiveAssistant:
    """The assistant of a named configuration of CONFIGS; close it when done (`with` does).

    The "naive" configuration is the LangChain tutorial baseline (see `evaluation.naive`) over
    the same files as the main index: it searches and asks, and has no `history` or `peers`.

    Raises:
        ConfigError: an unknown configuration name (with the allowed ones), or a bad setting.
    """
    if config not in CONFIGS:
        raise ConfigError(f"unknown configuration {config!r}: choose one of {', '.join(CONFIGS)}")
    overrides = dict(CONFIGS[config])
    mode = overrides.pop("mode")
    if mode == "naive":
        from assistant.evaluation.naive import NaiveAssistant

        index = open_index(settings)
        try:
            return NaiveAssistant(settings.home / "naive", index.catalog.files())
        finally:
            index.close()
    if overrides:
        settings = settings.model_copy(update=overrides)
    return build_assistant(settings, SearchMode(mode))


def build_assistant(settings: Settings, mode: SearchMode = SearchMode.HYBRID) -> Assistant:
    """The full assistant (hybrid search, drafts, peers) over the index of `settings`."""
    retrieval, drafting = retrieval_config(settings), drafting_config(settings)
    index = index_config(settings)
    return Assistant(KnowledgeIndex(index), retrieval, drafting, ingest_config(settings), mode=mode,
                     lexical_cache_dir=index.lexical_path)


class AssistantHooks:
    """The review stage's drafter and reuse hook, over one Assistant opened on first use.

    The web app hands its shared Assistant; a CLI command opens one only when it drafts or
    indexes a reusable answer, and `close` closes it (the command's end).

    Args:
        settings: Where the index is, how to search and draft.
        assistant: An Assistant already open (not closed by `close`).
    """

    def __init__(self, settings: Settings, assistant: Assistant | None = None) -> None:
        self._settings = settings
        self._assistant = assistant
        self._owned = assistant is None
        self._lock = threading.Lock()

    @property
    def assistant(self) -> Assistant:
        with self._lock:
            if self._assistant is None:
                self._assistant = build_assistant(self._settings)
            return self._assistant

    def draft(self, question: str, history: Sequence[str] = (), passages: Sequence[Mapping[str, Any]] | None = None,
              on_text: Callable[[str], None] | None = None, organisation: str | None = None) -> Draft:
        """The drafter of draft jobs (`review.runner.Drafter`)."""
        return self.assistant.draft_job(question, history, passages, on_text, organisation=organisation)

    def reuse(self, path: Path) -> None:
        """A validated answer marked reusable joins the knowledge base at once.

        Raises:
            GuichetError: the file could not be indexed (the service records it as `reuse_failed`).
        """
        report = self.assistant.ingest([Path(path)], prune=False)
        if report.failed:
            raise GuichetError(f"reusable answer not indexed: {report.failed[0][1]}")

    def close(self) -> None:
        with self._lock:
            if self._owned and self._assistant is not None:
                self._assistant.close()
                self._assistant = None


def review_service(settings: Settings, hooks: AssistantHooks | None = None, *, mailer: Any = FROM_SETTINGS,
                   **kwargs: Any) -> ReviewService:
    """The review service on the configured database; the one wiring of drafter and reuse hook.

    Args:
        settings: The settings.
        hooks: Drafter and reuse hook (None: a service that drafts nothing, e.g. to list or export).
        mailer: What delivers mail (default: the SMTP server of the settings, if any).
        **kwargs: Passed to `ReviewService` (drafter, clock, live, password_hasher, ...).
    """
    from assistant.review.service import ReviewService

    if hooks is not None:
        kwargs.setdefault("drafter", hooks.draft)
        kwargs.setdefault("on_reusable", hooks.reuse)
    chosen = smtp_mailer(settings) if mailer is FROM_SETTINGS else mailer
    return ReviewService(review_config(settings), mailer=chosen, **kwargs)


# ---------------------------------------------------------------------- the web app


def open_desk(settings: Settings, *, assistant: Assistant | None = None, limits: Limits | None = None,
              **review_kwargs: Any) -> Desk:
    """The web app's service layer: one shared Assistant, the review service drafting with it.

    Args:
        settings: The settings.
        assistant: The shared Assistant (opened from settings when None).
        limits: Buyers' question limits (default: from the settings).
        **review_kwargs: Passed to `review_service` (mailer, password_hasher, clock, ...).
    """
    from assistant.review.live import LiveDrafts
    from assistant.ui.desk import Desk

    shared = assistant if assistant is not None else build_assistant(settings)
    review_kwargs.setdefault("live", LiveDrafts())
    review = review_service(settings, AssistantHooks(settings, shared), **review_kwargs)
    return Desk(shared, review, draft_workers=settings.draft_workers,
                limits=limits if limits is not None else buyer_limits(settings))


def web_config(settings: Settings) -> WebConfig:
    """Session key (from GUICHET_SESSION_SECRET or the key file in GUICHET_HOME), public
    address, trusted proxies and request size limit of the web app."""
    from assistant.ui.app import WebConfig
    from assistant.ui.auth import session_key

    return WebConfig(session_key(settings.session_secret.get_secret_value(), settings.home),
                     public_url=settings.public_url, trusted_proxies=settings.trusted_proxies,
                     max_request_kb=settings.max_request_kb)


def web_app(settings: Settings, desk: Desk | None = None, guard: bool = True) -> FastAPI:
    """The whole web app over `desk` (a desk of its own, from settings, when None).

    Args:
        guard: False only in the test that checks Gradio's own login enforcement alone.
    """
    from assistant.ui.app import create_app

    return create_app(desk if desk is not None else open_desk(settings), web_config(settings), guard=guard)


def serve(settings: Settings, host: str | None = None, port: int | None = None,
          corpus: Sequence[Path] | None = None, ingest: bool = True, limits: Limits | None = None) -> None:
    """`guichet serve` and `python app.py`: the web app on `host:port` (default: the settings'), blocking."""
    from assistant.ui.server import run

    web = web_config(settings)  # a bad key file fails before the index is opened
    desk = open_desk(settings, limits=limits)

    def app_of(ready: Desk) -> FastAPI:
        from assistant.ui.app import create_app

        return create_app(ready, web)

    run(desk, app_of, host or settings.host, port or settings.port, corpus=corpus, ingest=ingest)


def main() -> None:
    """`python app.py`: serve with the settings from the environment (errors in one line, exit 2)."""
    import sys

    try:
        serve(load_settings())
    except GuichetError as exc:
        print(f"Error: {exc}", file=sys.stderr)
        raise SystemExit(2) from None
