"""The composition root: every object of kbot, built once from the settings and handed on through
constructors. `kbot run`, `kbot chat`, `kbot ask` and every other command use it; each builds only
what it touches (an `App` is cheap until asked for its parts, so `kbot search` never loads a chat SDK).
"""

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from bot.clock import SYSTEM_CLOCK, Clock
from bot.config import ConfigError, LimitsSettings, Settings, require_secret
from bot.rag.embedders import (
    LOCAL_MODEL_DIM,
    LOCAL_MODEL_NAME,
    EmbedderFingerprint,
    EmbedderOptions,
    auto_document_runtime,
    auto_query_runtime,
)

if TYPE_CHECKING:
    from haystack import Pipeline
    from sqlalchemy.engine import Engine

    from bot.access import AccessControl
    from bot.analytics import GapLog
    from bot.channel_scopes import ChannelScopes
    from bot.commands.base import CommandEnv
    from bot.conversation import Conversation
    from bot.database_watch import DatabaseWatch
    from bot.deliveries import DeliveryLog
    from bot.digest import Digest, Post
    from bot.feedback import FeedbackLog
    from bot.gate import Gate
    from bot.housekeeping import Housekeeping
    from bot.jobs import JobListener, JobQueue, JobRunner
    from bot.memory import ThreadMemory
    from bot.messages import Adapter
    from bot.metrics import Metrics
    from bot.rag.embedders import Embedder
    from bot.rag.generation import LLMGenerator, LLMOptions
    from bot.rag.indexing import Indexer
    from bot.rag.knowledge_base import KnowledgeBase
    from bot.rag.parsing import Limits
    from bot.rag.parsing.addresses import AddressPolicy
    from bot.rag.pipeline.answer import AnswerOptions
    from bot.rag.pipeline.resources import Resources
    from bot.rag.splitting import Chunking
    from bot.rag.stores.base import StoreBackend
    from bot.rates import RateLimiter
    from bot.redaction import Redactor
    from bot.removal import DocumentRemover
    from bot.resync import Resync
    from bot.service import QuestionService
    from bot.tracing import Tracing


class App:
    """kbot's object graph. `terminal`: the operator at `kbot ask` / `kbot chat`, whom no question
    rate limits (the place is theirs, and scripts call `kbot ask` in loops)."""

    def __init__(self, settings: Settings, *, terminal: bool = False, clock: Clock = SYSTEM_CLOCK) -> None:
        self.settings = settings
        self.terminal = terminal
        self.clock = clock  # pacing, deadlines and retries (tests pass one that runs faster)

    # -- the knowledge base ------------------------------------------------------------------------

    @cached_property
    def embedder(self) -> Embedder | None:
        from bot.rag.embedders import build_embedder

        return build_embedder(embedder_options(self.settings))

    @cached_property
    def backend(self) -> StoreBackend:
        dim = self.embedder.fingerprint.dim if self.embedder is not None else None
        store = self.settings.store
        if store.kind == "weaviate":
            from bot.rag.stores.weaviate import WeaviateBackend

            weaviate = store.weaviate
            return WeaviateBackend(weaviate.url or "", _secret(weaviate.api_key), weaviate.collection,
                                   weaviate.grpc_port, weaviate.timeout_s)
        from bot.db import private_folder
        from bot.rag.stores.lancedb_backend import LanceDBBackend

        return LanceDBBackend(private_folder(self.settings.data_path) / "lancedb", dim or None)

    @cached_property
    def knowledge_base(self) -> KnowledgeBase:
        from bot.rag.knowledge_base import NO_EMBEDDER, KnowledgeBase

        embedder = self.embedder
        fingerprint = embedder.fingerprint if embedder is not None else NO_EMBEDDER
        return KnowledgeBase(self.backend, embedder, fingerprint, default_mode=self.settings.effective_mode,
                             default_top_k=self.settings.retrieval.top_k)

    @cached_property
    def indexer(self) -> Indexer:
        """The operator's own (`kbot ingest`): URLs are fetched as given."""
        _ = self.tracing
        return build_indexer(self.settings, self.knowledge_base)

    @cached_property
    def chat_indexer(self) -> Indexer:
        """For what chat users add (jobs, their re-syncs): every URL through the guarded fetcher."""
        _ = self.tracing
        return build_indexer(self.settings, self.knowledge_base, for_chat=True)

    @cached_property
    def url_policy(self) -> AddressPolicy:
        return url_policy(self.settings)

    # -- the database ------------------------------------------------------------------------------

    @cached_property
    def engine(self) -> Engine:
        from bot.db import make_engine

        database = self.settings.database
        return make_engine(database.url, self.settings.data_path, "upgrade" if database.auto_migrate else "require")

    @cached_property
    def redactor(self) -> Redactor:
        """Personal data out of everything kept (and of what a hosted model is sent, `privacy.*`)."""
        from bot.redaction import Redactor

        return Redactor(tuple(self.settings.privacy.phone_regions))

    @cached_property
    def memory(self) -> ThreadMemory:
        from bot.memory import ThreadMemory

        return ThreadMemory(self.engine, self.settings.answer.history_chars, self.redactor)

    @cached_property
    def deliveries(self) -> DeliveryLog:
        from bot.deliveries import DeliveryLog

        return DeliveryLog(self.engine)

    @cached_property
    def feedback(self) -> FeedbackLog:
        from bot.feedback import FeedbackLog

        return FeedbackLog(self.engine)

    @cached_property
    def channel_scopes(self) -> ChannelScopes:
        from bot.channel_scopes import ChannelScopes

        return ChannelScopes(self.engine)

    @cached_property
    def rates(self) -> RateLimiter:
        from bot.rates import RateLimiter

        return RateLimiter(self.engine)

    @cached_property
    def access(self) -> AccessControl:
        return build_access(self.settings, self.engine)

    # -- answering ---------------------------------------------------------------------------------

    @cached_property
    def llm(self) -> LLMGenerator | None:
        if self.settings.llm.effective_kind != "openai":
            return None
        from bot.rag.generation import LLMGenerator

        return LLMGenerator(llm_options(self.settings), self.clock)

    @cached_property
    def resources(self) -> Resources:
        """What the pipelines' components are handed at run time (never written to YAML)."""
        from bot.rag.pipeline.resources import Resources

        chunking, limits = indexing_options(self.settings)
        return Resources(self.knowledge_base, self.llm, _secret(self.settings.retrieval.reranker.api_key),
                         chunking, limits)

    @cached_property
    def tracing(self) -> Tracing | None:
        """Spans of every pipeline run, when `server.tracing.endpoint` is set (started with the first pipeline)."""
        from bot.tracing import TracingUnavailable, start_tracing

        traced = self.settings.server.tracing
        if traced.endpoint is None:
            return None
        try:
            return start_tracing(traced.endpoint, traced.service_name, self.settings.server.log_message_text)
        except TracingUnavailable as exc:
            raise ConfigError(str(exc)) from None

    @cached_property
    def answer_pipeline(self) -> Pipeline:
        """The default answer pipeline, or `answer.pipeline` (checked now: a mistake is one line at start-up)."""
        from bot.rag.pipeline.answer import check_answer_pipeline, default_answer_pipeline
        from bot.rag.pipeline.contract import PipelineInvalid
        from bot.rag.pipeline.loading import load_pipeline

        custom = self.settings.answer.pipeline
        _ = self.tracing
        check_reranker(self.settings)
        try:
            if custom is None:
                return default_answer_pipeline(answer_options(self.settings), self.knowledge_base, self.llm,
                                               self.resources.rerank_api_key)
            pipeline = load_pipeline(self.settings.resolve(custom), self.resources)
            check_answer_pipeline(pipeline)
            return pipeline
        except PipelineInvalid as exc:
            raise ConfigError(f"answer.pipeline: {exc}") from None

    @cached_property
    def conversation(self) -> Conversation:
        from bot.conversation import Conversation

        reranked = any(type(c).__name__.endswith("Reranker") for _, c in self.answer_pipeline.walk())
        return Conversation(self.knowledge_base, self.memory, self.llm, self.settings.answer,
                            max_question_chars=self.settings.limits.max_question_chars,
                            pipeline=self.answer_pipeline, preset=self.settings.retrieval.preset, reranked=reranked,
                            clock=self.clock,
                            redact_for_llm=self.redactor if self.settings.privacy.redact_before_llm else None)

    @cached_property
    def gate(self) -> Gate:
        from bot.gate import Gate

        limits = self.settings.limits
        if self.terminal:  # the operator's own terminal: the length cap holds, rates do not
            limits = LimitsSettings(max_question_chars=limits.max_question_chars, questions_per_person_per_minute=0,
                                    questions_per_person_per_hour=0, questions_per_channel_per_minute=0)
        return Gate(self.access, self.rates, limits, self.channel_scopes)

    @cached_property
    def database_watch(self) -> DatabaseWatch:
        """Whether the database answers, for the running bot (the service holds questions meanwhile,
        jobs wait)."""
        from bot.database_watch import DatabaseWatch

        return DatabaseWatch(self.engine, self.clock)

    @cached_property
    def metrics(self) -> Metrics:
        from bot.metrics import Metrics

        return Metrics()

    @cached_property
    def service(self) -> QuestionService:
        from bot.explain import Explanations
        from bot.service import QuestionService

        return QuestionService(self.conversation, self.deliveries, self.feedback, self.metrics, self.gate,
                               self.commands, log_message_text=self.settings.server.log_message_text,
                               explanations=Explanations(self.engine), gaps=self.gaps,
                               default_visibility=self.settings.answer.visibility,
                               # At a terminal (`kbot ask`, `kbot chat`) a database failure is one line, at once.
                               watch=None if self.terminal else self.database_watch)

    def digest(self, post: Post) -> Digest | None:
        """The scheduled coverage digest (None when `analytics.digest` is off); `post` reaches a platform."""
        from bot.analytics import Area
        from bot.digest import Digest, DigestTarget

        analytics = self.settings.analytics
        if analytics.digest == "off" or not analytics.enabled:
            return None
        targets = [DigestTarget.parse(place) for place in analytics.digest_to]
        if not targets:  # the admins each platform lists, in their DMs, with the platform's figures
            targets = [DigestTarget(name, f"@{admin}", Area(name, shown_in=f"@{admin}"))
                       for name in self.settings.platform_names
                       if self.settings.platform(name).enabled for admin in self.settings.platform(name).admins]
        return Digest(self.gaps, self.knowledge_base, self.deliveries, targets, post, analytics.digest,
                      analytics.digest_hour_utc)

    @cached_property
    def gaps(self) -> GapLog:
        from bot.analytics import GapLog

        analytics = self.settings.analytics
        return GapLog(self.engine, enabled=analytics.enabled, weak_similarity=analytics.weak_similarity,
                      redact=self.redactor,
                      keep_days=analytics.keep_days)

    # -- documents from chat -----------------------------------------------------------------------

    @cached_property
    def jobs(self) -> JobQueue:
        from bot.jobs import JobQueue

        return JobQueue(self.engine, self.chat_indexer, stale_after_s=self.settings.jobs.stale_after_s)

    @cached_property
    def remover(self) -> DocumentRemover:
        from bot.removal import DocumentRemover

        return DocumentRemover(self.knowledge_base, self.memory, self.jobs)

    @cached_property
    def commands(self) -> CommandEnv:
        from bot.commands.base import CommandEnv

        return CommandEnv(self.knowledge_base, self.jobs, self.rates, self.access, self.remover,
                          channel_scopes=self.channel_scopes, url_policy=self.url_policy,
                          uploads_per_hour=self.settings.jobs.uploads_per_hour,
                          default_preset=self.settings.retrieval.preset, gaps=self.gaps, memory=self.memory,
                          default_visibility=self.settings.answer.visibility)

    @cached_property
    def resync(self) -> Resync:
        from bot.resync import Resync

        return Resync(self.chat_indexer, self.jobs, self.settings.knowledge_paths, self.settings.root)

    def job_runner(self, show_job: JobListener, *, claims: bool = True,
                   platforms: frozenset[str] | None = None) -> JobRunner:
        from bot.jobs import JobRunner

        jobs = self.settings.jobs
        return JobRunner(self.jobs, show_job, concurrency=jobs.concurrency,
                         keep_ended=timedelta(days=jobs.keep_days), resync=self.resync,
                         resync_s=jobs.resync_minutes * 60, claims=claims, platforms=platforms,
                         heartbeat_s=min(5.0, jobs.stale_after_s / 3),  # beats well inside the takeover bound
                         watch=self.database_watch)

    @cached_property
    def housekeeping(self) -> Housekeeping:
        from bot.housekeeping import Housekeeping

        window = timedelta(hours=self.settings.server.dedup_window_hours)
        return Housekeeping({
            "delivery records": lambda: self.deliveries.forget_older_than(window),
            "rate counters": lambda: self.rates.forget_older_than(2 * 3600),
            "stale pairing requests": self.access.forget_stale_requests,
            "coverage gaps": self.gaps.forget_older_than_keep_days,
        })

    # -- platforms ---------------------------------------------------------------------------------

    def adapters(self) -> list[Adapter]:
        """One adapter per enabled platform; a missing secret is a ConfigError naming its variable."""
        from bot.adapters.context import PlatformContext
        from bot.adapters.registry import factory

        context = PlatformContext(self.service, int(self.settings.knowledge.max_file_mb * 1_000_000),
                                  self.settings.jobs.public_uploads, self.clock)
        return [factory(name)(self.settings.platform(name), platform_secrets(self.settings, name), context)
                for name in self.settings.enabled_platforms]

    async def aclose(self) -> None:
        if "database_watch" in self.__dict__:
            await self.database_watch.close()
        if "llm" in self.__dict__ and self.llm is not None:
            await self.llm.aclose()
        if self.__dict__.get("tracing") is not None:
            await asyncio.to_thread(self.__dict__.pop("tracing").close)  # sends the spans still buffered


# -- settings mapped onto the plain parameters of the parts -------------------------------------------

def _secret(value: object) -> str | None:
    return value.get_secret_value() if value is not None else None  # type: ignore[attr-defined]


def platform_secrets(settings: Settings, name: str) -> dict[str, str]:
    """The secrets an enabled platform needs, or a ConfigError naming the variable to set."""
    return {key: require_secret(settings, f"{name}.{key}", why)
            for key, why in settings.platform(name).required_secrets().items()}


def check_secrets(settings: Settings) -> None:
    """Every token an enabled platform needs, checked before anything slow starts."""
    for name in settings.enabled_platforms:
        platform_secrets(settings, name)


def embedder_options(settings: Settings) -> EmbedderOptions:
    embedder = settings.embedder
    return EmbedderOptions(embedder.kind, embedder.model, embedder.base_url, _secret(embedder.api_key),
                           embedder.batch_size, embedder.timeout_s, embedder.precision, embedder.runtime,
                           embedder.threads, str(settings.data_path / "models"))


def check_reranker(settings: Settings) -> None:
    """A local reranker's folder and library are there (nothing is downloaded at run time)."""
    import importlib.util

    reranker = settings.retrieval.reranker
    if reranker.kind != "local" or reranker.model_path is None:
        return
    folder = settings.resolve(reranker.model_path)
    if not (folder / "config.json").is_file():
        raise ConfigError(f"retrieval.reranker.model_path: no model folder at {folder} (it needs the "
                          "cross-encoder's config.json and weights; kbot never downloads one)")
    if importlib.util.find_spec("sentence_transformers") is None:
        raise ConfigError("retrieval.reranker.kind is local, but sentence-transformers is not installed: "
                          "scripts/setup --torch installs torch's CPU build and sentence-transformers")


def answer_options(settings: Settings) -> AnswerOptions:
    from bot.rag.pipeline.answer import AnswerOptions, RerankerOptions

    reranker = settings.retrieval.reranker
    return AnswerOptions(
        mode=None, top_k=settings.retrieval.top_k, min_similarity=settings.answer.min_similarity,
        keyword_agreement=settings.answer.keyword_agreement, extractive=settings.llm.effective_kind != "openai",
        reranker=RerankerOptions(reranker.kind, reranker.url, reranker.model,
                                 str(settings.resolve(reranker.model_path)) if reranker.model_path else None,
                                 reranker.style, reranker.timeout_s))


def llm_options(settings: Settings) -> LLMOptions:
    from bot.rag.generation import LLMOptions

    llm = settings.llm
    return LLMOptions(llm.model, llm.base_url, _secret(llm.api_key), llm.timeout_s, llm.max_attempts,
                      llm.temperature)


def indexing_options(settings: Settings) -> tuple[Chunking, Limits]:
    from bot.rag.parsing import Limits, OcrLimits, PdfLimits
    from bot.rag.splitting import Chunking

    knowledge = settings.knowledge
    return (Chunking(knowledge.chunk_words, knowledge.chunk_overlap_words),
            Limits(max_bytes=int(knowledge.max_file_mb * 1_000_000), url_timeout_s=knowledge.url_timeout_s,
                   pdf=PdfLimits(timeout_s=knowledge.pdf_timeout_s, page_budget_s=knowledge.pdf_page_budget_s,
                                 memory_mb=knowledge.pdf_memory_mb, max_pages=knowledge.pdf_max_pages,
                                 parser=knowledge.pdf_parser),
                   ocr=OcrLimits(enabled=knowledge.ocr, page_budget_s=knowledge.ocr_page_budget_s,
                                 max_pages=knowledge.ocr_max_pages, memory_mb=knowledge.ocr_memory_mb,
                                 dpi=knowledge.ocr_dpi)))


def url_policy(settings: Settings) -> AddressPolicy:
    """Where a URL a chat user gave may lead: public addresses, plus what the admins allowed."""
    from bot.rag.parsing.addresses import AddressPolicy

    return AddressPolicy.from_allowlist(settings.jobs.private_url_allowlist,
                                        allow_private=settings.jobs.allow_private_urls)


# -- one part at a time, for callers that need only that (tests, benchmarks, scripts) ------------------

def build_knowledge_base(settings: Settings) -> KnowledgeBase:
    return App(settings).knowledge_base


def build_indexer(settings: Settings, knowledge_base: KnowledgeBase, *, for_chat: bool = False) -> Indexer:
    """`for_chat`: every URL is fetched through the guarded fetcher (jobs and re-syncs of `kbot run`)."""
    from bot.rag.indexing import Indexer
    from bot.rag.parsing import UrlFetcher

    fetcher = UrlFetcher(url_policy(settings)) if for_chat else UrlFetcher()
    chunking, limits = indexing_options(settings)
    return Indexer(knowledge_base, chunking, limits, fetcher, indexing_pipeline(settings, knowledge_base))


def indexing_pipeline(settings: Settings, knowledge_base: KnowledgeBase) -> Pipeline | None:
    """`knowledge.pipeline` loaded and checked (a mistake is one line at start-up); None: the default."""
    from bot.rag.pipeline.contract import PipelineInvalid
    from bot.rag.pipeline.indexing import check_indexing_pipeline
    from bot.rag.pipeline.loading import load_pipeline
    from bot.rag.pipeline.resources import Resources

    if settings.knowledge.pipeline is None:
        return None
    chunking, limits = indexing_options(settings)
    try:
        pipeline = load_pipeline(settings.resolve(settings.knowledge.pipeline),
                                 Resources(knowledge_base=knowledge_base, chunking=chunking, limits=limits))
        check_indexing_pipeline(pipeline)
    except PipelineInvalid as exc:
        raise ConfigError(f"knowledge.pipeline: {exc}") from None
    return pipeline


def build_access(settings: Settings, engine: Engine) -> AccessControl:
    """Each platform's rule from its section: `access`, and the places it answers without approval."""
    from bot.access import AccessControl, PlatformAccess

    rules = {name: PlatformAccess(settings.platform(name).access, settings.platform(name).allowed_places())
             for name in settings.platform_names}
    return AccessControl(engine, rules)


def describe_answer_mode(settings: Settings) -> str:
    """How answers are made, in words (printed at start-up and by `kbot status`)."""
    if settings.llm.effective_kind == "extractive":
        why = " (no LLM configured: set llm.api_key or llm.base_url)" if settings.llm.kind == "openai" else ""
        return f"extractive: quoted passages, no LLM{why}"
    return f"llm: {settings.llm.model} via {settings.llm.base_url or 'api.openai.com'}"


def describe_reranker(settings: Settings) -> str:
    reranker = settings.retrieval.reranker
    if reranker.kind == "local":
        return f"local cross-encoder at {reranker.model_path}"
    if reranker.kind == "http":
        return f"http ({reranker.style} style) at {_without_secrets(reranker.url or '')}"
    return "none"


def _without_secrets(url: str) -> str:
    """An address fit for printing: no user, password or query (where keys tend to hide)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    host = (parts.netloc.rpartition("@")[2]) or ""
    return f"{parts.scheme}://{host}{parts.path}"


def describe_embedder(settings: Settings) -> str:
    """The configured embedder in words, without loading it."""
    if settings.embedder.kind == "none":
        return "none (keyword search only)"
    if settings.embedder.kind == "local":
        model = settings.embedder.model or LOCAL_MODEL_NAME
        dims = f", {LOCAL_MODEL_DIM} dims" if settings.embedder.model is None else ""
        names = {"numpy": "NumPy", "onnx": "ONNX Runtime", "sentence-transformers": "sentence-transformers"}
        options = embedder_options(settings)
        documents = auto_document_runtime(options)
        queries = "numpy" if documents == "numpy" else auto_query_runtime(options)
        runtime = (names.get(settings.embedder.runtime)
                   or f"queries in {names[queries]}, documents with {names[documents]}")
        return f"local ({model}{dims}, offline; {runtime})"
    where = settings.embedder.base_url or "api.openai.com"
    return f"openai ({settings.embedder.model or 'text-embedding-3-small'} via {where})"


__all__ = [
    "App", "EmbedderFingerprint", "build_access", "build_indexer", "build_knowledge_base", "check_secrets",
    "describe_answer_mode", "describe_embedder", "embedder_options", "indexing_options", "llm_options",
    "platform_secrets", "url_policy",
]
