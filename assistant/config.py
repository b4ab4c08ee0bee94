"""One settings object, read from `GUICHET_*` environment variables.

Example:
    >>> import os; os.environ["GUICHET_TOP_K"] = "3"
    >>> get_settings().top_k
    3
"""

from __future__ import annotations

import ipaddress
import os
from pathlib import Path
from typing import Literal
from urllib.parse import urlsplit

from pydantic import Field, SecretStr, ValidationError, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from assistant.drafting.dates import MAX_SOURCE_AGE_DAYS
from assistant.errors import ConfigError

PREFIX = "GUICHET_"


class Settings(BaseSettings):
    """Every setting of the assistant, with its documented default.

    Each field is read from the variable `GUICHET_<FIELD NAME IN CAPITALS>`.
    """

    model_config = SettingsConfigDict(env_prefix=PREFIX, extra="forbid", frozen=True)

    home: Path = Field(Path("index"), description="Data directory: index, database, logs, eval runs.")
    embedder: str = Field(
        "e5-small",
        description="Embedding backend: 'e5-small' (bundled, offline), 'minilm' (bundled English "
        "model through sentence-transformers) or 'sentence-transformers:NAME_OR_PATH'.",
    )
    chunk_size: int = Field(900, gt=100, description="Target chunk length in characters.")
    chunk_overlap: int = Field(150, ge=0, description="Characters shared by consecutive chunks.")
    max_file_mb: float = Field(50.0, gt=0, description="Files larger than this are refused.")
    file_timeout_s: float = Field(120.0, gt=0, description="Per-file time limit for text extraction.")
    file_memory_mb: float = Field(
        2048.0, gt=0, description="Memory the text extraction of one file may allocate; past it the file fails.")
    max_expanded_mb: float = Field(
        200.0, gt=0, description="Zip-based files (.docx) whose parts unzip to more than this are refused.")
    prune: bool = Field(True, description="Remove chunks of files that disappeared from an ingested folder.")
    embed_batch_size: int = Field(16, gt=0, description="Chunks embedded per batch.")

    top_k: int = Field(5, gt=0, description="Passages returned by search and given to the generator.")
    candidates: int = Field(100, gt=0, description="Candidates taken from each retriever (lexical, dense) "
                            "for the second stage.")
    rrf_k: int = Field(60, gt=0, description="Reciprocal-rank fusion constant.")
    lexical_weight: float = Field(1.0, ge=0, description="Weight of the lexical (BM25) list in fusion.")
    dense_weight: float = Field(0.4, ge=0, description="Weight of the dense (embedding) list in fusion.")
    fusion: Literal["score", "rrf"] = Field(
        "score", description="How lexical and dense lists are fused: 'score' (min-max normalised scores, "
        "weighted sum) or 'rrf' (weighted reciprocal-rank fusion).")
    ranker: Literal["learned", "fusion"] = Field(
        "learned", description="Second stage of hybrid search: 'learned' (a fitted linear ranker over the "
        "union of both candidate lists) or 'fusion' (the fusion of the two lists alone, see GUICHET_FUSION).")
    ranker_params: Path | None = Field(
        None, description="Parameter file of the learned ranker; empty = GUICHET_HOME/ranker.json when "
        "'guichet tune' wrote one, else the parameters shipped with the package.")
    answer_boost: float = Field(1.0, ge=0, description="Score multiplier for validated past answers.")
    synonyms_file: Path | None = Field(None, description="Extra acronyms and synonyms (YAML) for the French analyser.")
    reranker_model: str = Field("", description="Local path of a cross-encoder reranker; empty = off.")

    generator: str = Field("extractive", description="Draft generator: 'extractive' or 'llm'.")
    llm_base_url: str = Field("", description="OpenAI-compatible endpoint, e.g. http://127.0.0.1:8080/v1.")
    llm_model: str = Field("", description="Model name served by the endpoint.")
    llm_api_key: SecretStr = Field(SecretStr(""), description="API key of the endpoint (environment only).")
    llm_timeout_s: float = Field(60.0, gt=0, description="Timeout of one LLM request.")
    max_source_age_days: int = Field(MAX_SOURCE_AGE_DAYS, gt=0, description="Sources older than this are flagged for the advisor.")
    draft_workers: int = Field(2, ge=0, description="Drafting threads of each app process (0 = this process "
                               "drafts nothing; another process or 'guichet review drafts --run' does).")
    draft_lease_s: float = Field(30.0, gt=0, description="How long a draft job stays claimed without a sign of "
                                 "life: the job of a process that died is drafted again after this.")

    claim_minutes: int = Field(30, gt=0, description="How long an advisor's claim on a question lasts.")
    database_url: str = Field(
        "", description="SQLAlchemy URL of the review database, which then also holds the index catalog "
        "(files, chunks, BM25 tokens) shared by every app process, e.g. "
        "postgresql+psycopg://guichet:PASSWORD@db:5432/guichet; empty = SQLite files in GUICHET_HOME.")
    chroma_url: str = Field(
        "", description="URL of a Chroma server started by `chroma run`, e.g. http://127.0.0.1:8000 "
        "(write the port); empty = embedded Chroma in GUICHET_HOME.")
    chroma_token: SecretStr = Field(
        SecretStr(""), description="Token sent as 'Authorization: Bearer' to the Chroma server or to the "
        "proxy in front of it (environment only).")
    buyer_questions_per_minute: int = Field(5, ge=0, description="Questions one buyer session may ask per minute (0 = no limit).")
    address_questions_per_minute: int = Field(30, ge=0, description="Questions one client address may ask per minute (0 = no limit).")
    session_secret: SecretStr = Field(
        SecretStr(""), description="Key signing advisors' session cookies; set the same value on every app "
        "process behind one proxy. Empty = a key file made in GUICHET_HOME (environment only).")
    trusted_proxies: str = Field(
        "", description="Addresses or networks of the reverse proxies in front of the app, comma-separated "
        "(e.g. 172.30.0.10 or 10.0.0.0/8): only from them are X-Forwarded-For and X-Forwarded-Proto "
        "believed, so a client cannot pick its address. Empty = trust none (the app is reached directly).")
    public_url: str = Field(
        "", description="The address buyers and advisors type, e.g. https://guichet.example.org: the pages' "
        "links and API calls are built from it rather than from the request's Host or X-Forwarded-Host "
        "headers, and requests from pages of this origin are accepted; an https:// address makes every request count "
        "as HTTPS (Secure cookies, HSTS). Empty = the Host the browser used.")
    max_request_kb: int = Field(1024, gt=0, description="Largest request body the app reads (KiB); larger "
                                "ones get 413, whatever the proxy in front allows.")
    host: str = Field("127.0.0.1", description="Address the web app listens on.")
    port: int = Field(7860, gt=0, lt=65536, description="Port the web app listens on.")

    smtp_host: str = Field("", description="SMTP server for mailing validated answers; empty = no mail.")
    smtp_port: int = Field(587, gt=0, lt=65536, description="SMTP port.")
    smtp_security: str = Field("starttls", description="'starttls', 'ssl' or 'none'.")
    smtp_user: str = Field("", description="SMTP user name.")
    smtp_password: SecretStr = Field(SecretStr(""), description="SMTP password (environment only).")
    smtp_from: str = Field("guichet-vert@localhost", description="Sender address of mailed answers.")

    @field_validator("trusted_proxies")
    @classmethod
    def _proxies_are_addresses(cls, value: str) -> str:
        entries = [item.strip() for item in value.split(",") if item.strip()]
        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                raise ValueError(f"'{entry}' is not an IP address or network (write 10.0.0.5 or "
                                 "10.0.0.0/24, comma-separated)") from None
        return ",".join(entries)

    @field_validator("public_url")
    @classmethod
    def _public_url_is_an_origin(cls, value: str) -> str:
        value = value.strip().rstrip("/")
        if value:
            parts = urlsplit(value)
            if parts.scheme not in ("http", "https") or not parts.netloc or parts.path or parts.query:
                raise ValueError(f"'{value}' is not a scheme and host such as https://guichet.example.org "
                                 "(no path: the app is served at the root)")
        return value


def unknown_variables(environ: dict[str, str] | None = None) -> list[str]:
    """`GUICHET_*` variables that name no setting (a typo would otherwise be silently ignored)."""
    environ = os.environ if environ is None else environ
    known = {PREFIX + name.upper() for name in Settings.model_fields}
    return sorted(key for key in environ if key.startswith(PREFIX) and key not in known)


def get_settings(**overrides) -> Settings:
    """Read settings from the environment, with explicit overrides on top.

    Raises:
        ConfigError: an unknown `GUICHET_*` variable or an invalid value, in one line.
    """
    unknown = unknown_variables()
    if unknown:
        raise ConfigError(f"unknown setting {unknown[0]}: see the configuration table in README.md")
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        err = exc.errors()[0]
        name = PREFIX + str(err["loc"][0]).upper() if err["loc"] else "setting"
        raise ConfigError(f"invalid {name}: {err['msg']}") from None


def settings_table() -> str:
    """The Markdown table of every setting, its default and meaning (kept in README.md)."""
    rows = ["| variable | default | meaning |", "| --- | --- | --- |"]
    for name, field in Settings.model_fields.items():
        default = field.default
        empty = isinstance(default, SecretStr) or default in (None, "")
        shown = "(empty)" if empty else f"`{default}`"
        rows.append(f"| `{PREFIX}{name.upper()}` | {shown} | {field.description} |")
    return "\n".join(rows)


if __name__ == "__main__":
    print(settings_table())
