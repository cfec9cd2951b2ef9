"""Validated settings read from `config.yaml`; secrets come from `${ENV}` references."""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import Field, SecretStr, ValidationError, create_model, field_validator, model_validator

from bot.adapters.registry import settings_models
from bot.redaction import PHONE_REGIONS
from bot.settings_types import PlatformSettings, Section

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "KBOT_CONFIG"

_HOSTNAME = re.compile(r"(?=.{1,253}$)([A-Za-z0-9_]([A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?\.?)+")
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")


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
    precision: Literal["auto", "float32", "bfloat16"] = "auto"
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
        import ipaddress

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


# One section per registered platform (slack, discord, telegram), each defined in its own package.
_PlatformSections: type[Section] = create_model(  # type: ignore[call-overload]
    "_PlatformSections", __base__=Section,
    **{name: (model, Field(default_factory=model)) for name, model in settings_models().items()},
)


class Settings(_PlatformSections):  # type: ignore[misc,valid-type]
    data_dir: Path = Path(".kbot")
    knowledge: KnowledgeSettings = Field(default_factory=KnowledgeSettings)
    store: StoreSettings = Field(default_factory=StoreSettings)
    embedder: EmbedderSettings = Field(default_factory=EmbedderSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    llm: LLMSettings = Field(default_factory=LLMSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    database: DatabaseSettings = Field(default_factory=DatabaseSettings)
    server: ServerSettings = Field(default_factory=ServerSettings)
    jobs: JobsSettings = Field(default_factory=JobsSettings)
    limits: LimitsSettings = Field(default_factory=LimitsSettings)
    analytics: AnalyticsSettings = Field(default_factory=AnalyticsSettings)
    privacy: PrivacySettings = Field(default_factory=PrivacySettings)
    # `${VAR}` references by dotted key, so a missing secret can be named by its variable.
    env_refs: dict[str, str] = Field(default_factory=dict, exclude=True)
    # Where relative paths (data_dir, knowledge.paths) are anchored: the config file's folder.
    root: Path = Field(default_factory=Path.cwd, exclude=True)

    @field_validator("data_dir", mode="before")
    @classmethod
    def _data_dir_not_empty(cls, value: Any) -> Any:
        if value in (None, ""):
            raise ValueError("must be a folder path")
        return value

    def resolve(self, path: str | Path) -> Path:
        """A config-relative path made absolute."""
        candidate = Path(path).expanduser()
        return candidate if candidate.is_absolute() else (self.root / candidate)

    @property
    def data_path(self) -> Path:
        return self.resolve(self.data_dir)

    @property
    def knowledge_paths(self) -> list[Path]:
        return [self.resolve(p) for p in self.knowledge.paths]

    def platform(self, name: str) -> PlatformSettings:
        """The section of a registered platform (`settings.platform("slack")` is `settings.slack`)."""
        return getattr(self, name)

    @property
    def platform_names(self) -> list[str]:
        """Every registered platform, enabled or not."""
        return list(settings_models())

    @property
    def enabled_platforms(self) -> list[str]:
        return [name for name in self.platform_names if self.platform(name).enabled]

    def require_a_platform(self) -> None:
        """`kbot run` serves the enabled platforms: with none, say which keys turn one on."""
        if not self.enabled_platforms:
            keys = ", ".join(f"{name}.enabled" for name in self.platform_names)
            raise ConfigError(f"no platform is enabled: set one of {keys} to true (the README has a section "
                              "for each platform)")

    @property
    def effective_mode(self) -> str:
        """Keyword-only when there is no embedder, whatever `retrieval.mode` says."""
        return "keyword" if self.embedder.kind == "none" else self.retrieval.mode


def substitute_env(value: Any, environ: dict[str, str] | None = None) -> Any:
    """Replace `${VAR}` and `${VAR:-default}` in every string; an unset variable becomes empty."""
    env = os.environ if environ is None else environ
    if isinstance(value, str):
        return _ENV_REF.sub(lambda m: env.get(m.group(1)) or (m.group(2) or ""), value)
    if isinstance(value, dict):
        return {k: substitute_env(v, env) for k, v in value.items()}
    if isinstance(value, list):
        return [substitute_env(v, env) for v in value]
    return value


def env_references(value: Any, prefix: str = "") -> dict[str, str]:
    """Dotted key -> the first `${VAR}` it reads, e.g. {"slack.bot_token": "SLACK_BOT_TOKEN"}."""
    found: dict[str, str] = {}
    if isinstance(value, str):
        match = _ENV_REF.search(value)
        if match:
            found[prefix] = match.group(1)
    elif isinstance(value, dict):
        for key, inner in value.items():
            found.update(env_references(inner, f"{prefix}.{key}" if prefix else str(key)))
    return found


def require_secret(settings: Settings, dotted: str, why: str) -> str:
    """The secret at `dotted`, or a ConfigError naming the environment variable to set."""
    section, _, key = dotted.partition(".")
    value = getattr(getattr(settings, section), key)
    if value is not None and value.get_secret_value():
        return value.get_secret_value()
    variable = settings.env_refs.get(dotted)
    hint = f"set the environment variable {variable}" if variable else f"set {dotted} in the config"
    raise ConfigError(f"{why}, but {dotted} is not set: {hint}")


def _blank_to_none(value: Any) -> Any:
    """An empty string (an unset `${VAR}`) means "not configured"."""
    if isinstance(value, dict):
        return {k: _blank_to_none(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_blank_to_none(v) for v in value]
    return None if value == "" else value


def _describe(error: dict[str, Any], source: str) -> str:
    loc = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int)) or "(top level)"
    message = error.get("msg", "invalid value").removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        message = "unknown key (check its spelling and nesting)"
    elif error.get("type") == "literal_error":
        message = message.replace("Input should be", "must be")
    return f"{source}: {loc}: {message}"


def parse_settings(raw: Any, *, root: Path, source: str = DEFAULT_CONFIG) -> Settings:
    """Validate already-loaded YAML data; raises ConfigError with one line that names the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {type(raw).__name__}")
    data = _blank_to_none(substitute_env(raw))
    try:
        return Settings.model_validate({**data, "root": root, "env_refs": env_references(raw)})
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], source)) from None


def config_path(explicit: str | Path | None) -> Path:
    """--config beats KBOT_CONFIG beats ./config.yaml."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return Path(chosen).expanduser()


def load_settings(explicit: str | Path | None = None) -> Settings:
    """Read and validate the config file; a missing default file means all defaults."""
    path = config_path(explicit)
    if not path.exists():
        if explicit or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{path}: config file not found")
        return parse_settings({}, root=Path.cwd(), source=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    return parse_settings(raw, root=path.resolve().parent, source=str(path))
