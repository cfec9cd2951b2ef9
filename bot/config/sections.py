"""The sections of `config.yaml` kbot itself reads (each platform's section lives in its adapter
package); every one refuses unknown keys."""

# Imports inside functions: phonenumbers (large metadata) loads only to check a configured default region.

from __future__ import annotations

import ipaddress
import re
from typing import Any, Literal

from pydantic import Field, SecretStr, field_validator, model_validator

from bot.config.base import Section
from bot.core.redaction import PHONE_REGIONS

_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+")


class ConfigError(Exception):
    """A config problem, worded for one line on the terminal (never contains a secret)."""


class KnowledgeSettings(Section):
    paths: list[str] = Field(default_factory=lambda: ["knowledge"])
    max_file_mb: float = Field(25, gt=0)
    chunk_words: int = Field(150, ge=20, le=2000)
    chunk_overlap_words: int = Field(30, ge=0)
    pdf_timeout_s: float = Field(60, gt=0)
    pdf_memory_mb: int = Field(1024, ge=64)
    pdf_page_budget_s: float = Field(0.5, ge=0)  # added to pdf_timeout_s for each page
    pdf_max_pages: int = Field(10_000, ge=1)
    # Pages without a text layer (scans) and uploaded images are read with offline OCR (RapidOCR).
    ocr: bool = True
    ocr_page_budget_s: float = Field(30, gt=0)  # time allowed per page OCR reads (plus 30 s to start)
    ocr_max_pages: int = Field(200, ge=1)  # per file; pages past it are reported, not read
    ocr_memory_mb: int = Field(2048, ge=512)
    ocr_dpi: int = Field(200, ge=72, le=600)
    pdf_parser: Literal["pdfium", "pypdf"] = "pdfium"
    url_timeout_s: float = Field(20, gt=0)
    pipeline: str | None = None  # a customised indexing pipeline (Haystack YAML; `kbot pipeline show indexing`)

    @model_validator(mode="after")
    def _overlap_below_length(self) -> KnowledgeSettings:
        if self.chunk_overlap_words >= self.chunk_words:
            raise ValueError("chunk_overlap_words must be smaller than chunk_words")
        return self


class WeaviateSettings(Section):
    url: str | None = None
    api_key: SecretStr | None = None
    collection: str = "Knowledge"
    grpc_port: int = 50051
    timeout_s: float = Field(10, gt=0)


class StoreSettings(Section):
    kind: Literal["lancedb", "weaviate"] = "lancedb"
    weaviate: WeaviateSettings = Field(default_factory=WeaviateSettings)

    @model_validator(mode="after")
    def _weaviate_needs_url(self) -> StoreSettings:
        if self.kind == "weaviate" and not self.weaviate.url:
            raise ValueError(
                "store.kind is weaviate but store.weaviate.url is empty: set WEAVIATE_URL or write the URL"
            )
        return self


class EmbedderSettings(Section):
    kind: Literal["local", "openai", "none"] = "local"
    model: str | None = None
    base_url: str | None = None
    api_key: SecretStr | None = None
    batch_size: int = Field(64, ge=1, le=2048)
    timeout_s: float = Field(30, gt=0)
    # local only: bfloat16 halves CPU time where the CPU has it natively; auto uses it there.
    precision: Literal["auto", "float32", "bfloat16", "int8"] = "auto"
    # local only: auto embeds queries on ONNX Runtime (no torch: a fast start; NumPy where ONNX Runtime
    # is not installed) and documents on ONNX Runtime too (torch where the CPU has bfloat16; NumPy when
    # neither is installed); numpy, onnx and sentence-transformers do both.
    runtime: Literal["auto", "numpy", "onnx", "sentence-transformers"] = "auto"
    # local only: CPU threads one process embeds with; 0: the library's choice (every core). With
    # several workers on one machine, give each cores / workers (bench/scale.py: 2 workers on 2
    # cores indexed 2.2x faster with 1 thread each than with the default).
    threads: int = Field(0, ge=0, le=256)

    @model_validator(mode="after")
    def _openai_needs_key(self) -> EmbedderSettings:
        if self.kind == "openai" and self.api_key is None and not self.base_url:
            raise ValueError(
                "embedder.kind is openai but no api_key is set: set OPENAI_API_KEY or embedder.base_url"
            )
        return self


class RerankerSettings(Section):
    """A second opinion on the retrieved passages' order: none, a local cross-encoder, or an endpoint."""

    kind: Literal["none", "local", "http"] = "none"
    model_path: str | None = None  # local: a sentence-transformers cross-encoder folder (nothing is downloaded)
    url: str | None = None  # http: e.g. https://api.cohere.com/v2/rerank, http://tei:8080/rerank
    model: str | None = None  # http: sent as "model" (Cohere, Jina, vLLM)
    api_key: SecretStr | None = None
    style: Literal["cohere", "tei"] = "cohere"  # the request and response shape of the endpoint
    timeout_s: float = Field(5, gt=0)  # past it, the retrieval order stands

    @model_validator(mode="after")
    def _what_kind_needs(self) -> RerankerSettings:
        if self.kind == "local" and not self.model_path:
            raise ValueError("retrieval.reranker.kind is local: set retrieval.reranker.model_path (a model folder)")
        if self.kind == "http" and not self.url:
            raise ValueError("retrieval.reranker.kind is http: set retrieval.reranker.url")
        return self


class RetrievalSettings(Section):
    mode: Literal["hybrid", "keyword", "vector"] = "hybrid"
    top_k: int = Field(5, ge=1, le=100)
    preset: Literal["fast", "balanced", "accurate"] = "balanced"  # admins may choose another per channel
    reranker: RerankerSettings = Field(default_factory=RerankerSettings)


class LLMSettings(Section):
    kind: Literal["openai", "extractive"] = "openai"
    model: str = "gpt-4o-mini"
    base_url: str | None = None
    api_key: SecretStr | None = None
    timeout_s: float = Field(30, gt=0)
    max_attempts: int = Field(3, ge=1, le=10)  # tries before the first token, inside timeout_s
    temperature: float = Field(0.2, ge=0, le=2)

    @property
    def effective_kind(self) -> str:
        """Extractive when no model can be reached: no API key and no compatible server."""
        if self.kind == "openai" and self.api_key is None and not self.base_url:
            return "extractive"
        return self.kind


class AnswerSettings(Section):
    # Below this best cosine similarity nothing retrieved counts as relevant. Calibrated with
    # all-MiniLM-L6-v2 by `kbot eval` on evals/public.jsonl (answerable 0.34-0.78, off-topic 0.16-0.25)
    # and evals/knowledge.jsonl (off-topic up to 0.20).
    min_similarity: float = Field(0.27, ge=-1, le=1)
    # Below min_similarity, a question still counts as relevant when the keyword and the vector
    # rankings agree on one of the first passages and it holds half the question's words
    # (bot/rag/relevance.py): short everyday questions the model underrates.
    keyword_agreement: bool = True
    history_chars: int = Field(6000, ge=0)  # thread memory budget given to each answer
    # private_first: an answer in a channel goes to the asker alone, with a "Share with the channel"
    # button; admins choose per channel with /kb visibility.
    visibility: Literal["public", "private_first"] = "public"
    pipeline: str | None = None  # a customised answer pipeline (Haystack YAML; `kbot pipeline show answer`)


class PrivacySettings(Section):
    """Personal data (e-mail addresses, phone numbers, IBANs, card numbers, secrets) is replaced by a tag
    before anything is kept: thread memory, coverage gaps, logs and saved threads, always."""

    # The question and the thread's history as sent to a hosted model, too (an extractive answer
    # sends nothing anywhere).
    redact_before_llm: bool = True
    # Countries whose national phone formats are recognised (international +NN numbers always are):
    # ISO 3166 codes.
    phone_regions: list[str] = Field(default_factory=lambda: list(PHONE_REGIONS))

    @field_validator("phone_regions")
    @classmethod
    def _regions(cls, value: list[str]) -> list[str]:
        import phonenumbers

        unknown = [region for region in value if region.upper() not in phonenumbers.SUPPORTED_REGIONS]
        if unknown:
            raise ValueError(f"unknown region(s) {', '.join(unknown)}: use ISO 3166 codes such as GB, DE, US")
        return [region.upper() for region in value]


class LimitsSettings(Section):
    """What one person or channel may ask of the bot (and of the team's LLM bill); 0 turns a rate off."""

    max_question_chars: int = Field(4000, ge=100)  # longer questions are refused, nothing reaches the model
    questions_per_person_per_minute: int = Field(6, ge=0)
    questions_per_person_per_hour: int = Field(60, ge=0)
    questions_per_channel_per_minute: int = Field(30, ge=0)


class AnalyticsSettings(Section):
    """Coverage gaps: questions kbot could not answer well, stored redacted, for `/kb gaps` and `/kb stats`."""

    enabled: bool = True
    keep_days: float = Field(90, gt=0)
    # An answer whose closest passage is less similar than this is a weak one (a gap); answerable
    # questions on the public eval set start at 0.34, so 0.4 flags the bottom of what was answered.
    weak_similarity: float = Field(0.4, ge=-1, le=1)
    digest: Literal["off", "weekly", "daily"] = "off"  # the top gaps and the week's figures, with a chart
    # PLATFORM:WORKSPACE[:CHANNEL] places the digest is posted to; empty: each platform's `admins`, by DM.
    digest_to: list[str] = Field(default_factory=list)
    digest_hour_utc: int = Field(9, ge=0, le=23)  # weekly digests go out on Mondays at this hour

    @field_validator("digest", mode="before")
    @classmethod
    def _yaml_off(cls, value: Any) -> Any:
        return "off" if value is False else value  # YAML reads an unquoted `off` as false

    @field_validator("digest_to")
    @classmethod
    def _places(cls, value: list[str]) -> list[str]:
        for place in value:
            platform, _, rest = place.partition(":")
            if not platform or not rest.partition(":")[0]:
                raise ValueError(f"{place!r} is not PLATFORM:WORKSPACE[:CHANNEL], e.g. slack:T0123:C0456")
        return value


class DatabaseSettings(Section):
    url: str | None = None
    # The password alone, any characters: kbot puts it into url itself (no %-encoding to get wrong).
    password: SecretStr | None = None
    # Start-up brings the schema up to date (under a lock, safe when processes start together); off:
    # an older schema is refused until `kbot migrate` is run (for operators who upgrade by hand).
    auto_migrate: bool = True


class JobsSettings(Section):
    """Background indexing of documents added from chat (`/kb upload`, `/kb add`)."""

    concurrency: int = Field(1, ge=1, le=16)  # documents indexed at once; questions stay fast
    uploads_per_hour: int = Field(30, ge=1)  # per person
    keep_days: float = Field(7, gt=0)  # ended jobs (and their stored uploads) are forgotten after this
    stale_after_s: float = Field(60, gt=0)  # a running job whose heartbeat is this old is taken over
    resync_minutes: float = Field(60, ge=0)  # re-read knowledge.paths and URLs added from chat; 0 turns it off
    allow_private_urls: bool = False  # `/kb add` may fetch local and private-network addresses
    # Hosts or networks `/kb add` may fetch although they are private, e.g. ["wiki.internal", "10.20.0.0/16"].
    private_url_allowlist: list[str] = Field(default_factory=list)
    # Where an upload in a public Slack or Discord channel lands: the whole workspace (server), or only
    # that channel. Private channels and DMs always keep their uploads to themselves.
    public_uploads: Literal["workspace", "channel"] = "workspace"

    @field_validator("private_url_allowlist")
    @classmethod
    def _hosts_or_networks(cls, entries: list[str]) -> list[str]:

        for entry in entries:
            try:
                ipaddress.ip_network(entry, strict=False)
            except ValueError:
                if not _HOSTNAME.fullmatch(entry):
                    raise ValueError(f"{entry!r} is neither a host name nor a network like 10.0.0.0/8") from None
        return entries


class TracingSettings(Section):
    """OpenTelemetry: a span per pipeline component, sent over OTLP/HTTP (no message text unless
    `server.log_message_text`). Needs the `tracing` extra."""

    endpoint: str | None = None  # e.g. http://otel-collector:4318/v1/traces; null: no tracing
    service_name: str = "kbot"


class ServerSettings(Section):
    """`kbot run`'s own HTTP endpoints: /healthz, /readyz, /metrics."""

    host: str = "127.0.0.1"
    port: int = Field(9464, ge=0, le=65535)  # 0 picks a free port
    shutdown_grace_s: float = Field(20, ge=0)  # in-flight answers get this long on SIGTERM
    log_message_text: bool = False  # include the question in the per-answer log line
    # Platform events are remembered this long to drop retries and replays (Slack retries for
    # about an hour, Telegram keeps updates for a day); older delivery rows are pruned hourly.
    dedup_window_hours: float = Field(48, gt=0)
    tracing: TracingSettings = Field(default_factory=TracingSettings)
