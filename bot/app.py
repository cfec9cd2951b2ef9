"""The composition root: every object of kbot, built once from the settings and handed on through
constructors. `kbot run`, `kbot chat`, `kbot ask` and every other command use it; each builds only
what it touches (an `App` is cheap until asked for its parts, so `kbot search` never loads a chat SDK).
"""

# Imports inside functions: each part's room is imported where the part is first built, so `kbot search` loads
# no platform, job or web code and a worker no chat code.

from __future__ import annotations

import asyncio
from datetime import timedelta
from functools import cached_property
from typing import TYPE_CHECKING

from bot.config import ConfigError, LimitsSettings, Settings
from bot.core.clock import SYSTEM_CLOCK, Clock
from bot.wiring import (
    answer_options,
    build_access,
    check_reranker,
    embedder_options,
    indexing_options,
    indexing_pipeline,
    llm_options,
    platform_secrets,
    secret_value,
    url_policy,
)

if TYPE_CHECKING:
    from haystack import Pipeline
    from sqlalchemy.engine import Engine

    from bot.chat.commands.base import CommandEnv
    from bot.chat.conversation import Conversation
    from bot.chat.gate import Gate
    from bot.chat.service import QuestionService
    from bot.core.jobs import JobListener
    from bot.core.messages import Adapter
    from bot.core.redaction import Redactor
    from bot.insights.digest import Digest, Post
    from bot.insights.gaps import GapLog
    from bot.jobs.housekeeping import Housekeeping
    from bot.jobs.queue import JobQueue
    from bot.jobs.removal import DocumentRemover
    from bot.jobs.resync import Resync
    from bot.jobs.runner import JobRunner
    from bot.ops.metrics import Metrics
    from bot.ops.tracing import Tracing
    from bot.rag.embedding.contract import Embedder
    from bot.rag.indexer import Indexer
    from bot.rag.knowledge_base import KnowledgeBase
    from bot.rag.llm_client import LLMGenerator
    from bot.rag.parsing.addresses import AddressPolicy
    from bot.rag.pipeline.resources import Resources
    from bot.rag.stores.base import StoreBackend
    from bot.state.access import AccessControl
    from bot.state.database_watch import DatabaseWatch
    from bot.state.deliveries import DeliveryLog
    from bot.state.feedback import FeedbackLog
    from bot.state.memory import ThreadMemory
    from bot.state.place_choices import ChannelScopes
    from bot.state.rates import RateLimiter


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
        from bot.rag.embedding.build import build_embedder

        return build_embedder(embedder_options(self.settings))

    @cached_property
    def backend(self) -> StoreBackend:
        dim = self.embedder.fingerprint.dim if self.embedder is not None else None
        store = self.settings.store
        if store.kind == "weaviate":
            from bot.rag.stores.weaviate import WeaviateBackend

            weaviate = store.weaviate
            return WeaviateBackend(weaviate.url or "", secret_value(weaviate.api_key), weaviate.collection,
                                   weaviate.grpc_port, weaviate.timeout_s)
        from bot.rag.stores.lancedb_backend import LanceDBBackend
        from bot.state.files import private_folder

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
        from bot.state.engine import make_engine

        database = self.settings.database
        return make_engine(database.url, self.settings.data_path, "upgrade" if database.auto_migrate else "require",
                           secret_value(database.password))

    @cached_property
    def redactor(self) -> Redactor:
        """Personal data out of everything kept (and of what a hosted model is sent, `privacy.*`)."""
        from bot.core.redaction import Redactor

        return Redactor(tuple(self.settings.privacy.phone_regions))

    @cached_property
    def memory(self) -> ThreadMemory:
        from bot.state.memory import ThreadMemory

        return ThreadMemory(self.engine, self.settings.answer.history_chars, self.redactor)

    @cached_property
    def deliveries(self) -> DeliveryLog:
        from bot.state.deliveries import DeliveryLog

        return DeliveryLog(self.engine)

    @cached_property
    def feedback(self) -> FeedbackLog:
        from bot.state.feedback import FeedbackLog

        return FeedbackLog(self.engine)

    @cached_property
    def channel_scopes(self) -> ChannelScopes:
        from bot.state.place_choices import ChannelScopes

        return ChannelScopes(self.engine)

    @cached_property
    def rates(self) -> RateLimiter:
        from bot.state.rates import RateLimiter

        return RateLimiter(self.engine)

    @cached_property
    def access(self) -> AccessControl:
        return build_access(self.settings, self.engine)

    # -- answering ---------------------------------------------------------------------------------

    @cached_property
    def llm(self) -> LLMGenerator | None:
        if self.settings.llm.effective_kind != "openai":
            return None
        from bot.rag.llm_client import LLMGenerator

        return LLMGenerator(llm_options(self.settings), self.clock)

    @cached_property
    def resources(self) -> Resources:
        """What the pipelines' components are handed at run time (never written to YAML)."""
        from bot.rag.pipeline.resources import Resources

        chunking, limits = indexing_options(self.settings)
        return Resources(self.knowledge_base, self.llm, secret_value(self.settings.retrieval.reranker.api_key),
                         chunking, limits)

    @cached_property
    def tracing(self) -> Tracing | None:
        """Spans of every pipeline run, when `server.tracing.endpoint` is set (started with the first pipeline)."""
        from bot.ops.tracing import TracingUnavailable, start_tracing

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
        from bot.rag.pipeline.answer_pipeline import check_answer_pipeline, default_answer_pipeline
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
        from bot.chat.conversation import Conversation
        from bot.rag.pipeline.contract import has_reranker

        reranked = has_reranker(self.answer_pipeline)
        return Conversation(self.knowledge_base, self.memory, self.llm, self.settings.answer,
                            max_question_chars=self.settings.limits.max_question_chars,
                            pipeline=self.answer_pipeline, preset=self.settings.retrieval.preset, reranked=reranked,
                            clock=self.clock,
                            redact_for_llm=self.redactor if self.settings.privacy.redact_before_llm else None)

    @cached_property
    def gate(self) -> Gate:
        from bot.chat.gate import Gate

        limits = self.settings.limits
        if self.terminal:  # the operator's own terminal: the length cap holds, rates do not
            limits = LimitsSettings(max_question_chars=limits.max_question_chars, questions_per_person_per_minute=0,
                                    questions_per_person_per_hour=0, questions_per_channel_per_minute=0)
        return Gate(self.access, self.rates, limits, self.channel_scopes)

    @cached_property
    def database_watch(self) -> DatabaseWatch:
        """Whether the database answers, for the running bot (the service holds questions meanwhile,
        jobs wait)."""
        from bot.state.database_watch import DatabaseWatch

        return DatabaseWatch(self.engine, self.clock)

    @cached_property
    def metrics(self) -> Metrics:
        from bot.ops.metrics import Metrics

        return Metrics()

    @cached_property
    def service(self) -> QuestionService:
        from bot.chat.service import QuestionService
        from bot.state.explanations import Explanations

        return QuestionService(self.conversation, self.deliveries, self.feedback, self.metrics, self.gate,
                               self.commands, log_message_text=self.settings.server.log_message_text,
                               explanations=Explanations(self.engine), gaps=self.gaps,
                               default_visibility=self.settings.answer.visibility,
                               # At a terminal (`kbot ask`, `kbot chat`) a database failure is one line, at once.
                               watch=None if self.terminal else self.database_watch)

    def digest(self, post: Post) -> Digest | None:
        """The scheduled coverage digest (None when `analytics.digest` is off); `post` reaches a platform."""
        from bot.insights.digest import Digest, DigestTarget
        from bot.insights.gaps import Area

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
        from bot.insights.gaps import GapLog

        analytics = self.settings.analytics
        return GapLog(self.engine, enabled=analytics.enabled, weak_similarity=analytics.weak_similarity,
                      redact=self.redactor,
                      keep_days=analytics.keep_days)

    # -- documents from chat -----------------------------------------------------------------------

    @cached_property
    def jobs(self) -> JobQueue:
        from bot.jobs.queue import JobQueue

        return JobQueue(self.engine, self.chat_indexer, stale_after_s=self.settings.jobs.stale_after_s)

    @cached_property
    def remover(self) -> DocumentRemover:
        from bot.jobs.removal import DocumentRemover

        return DocumentRemover(self.knowledge_base, self.memory, self.jobs)

    @cached_property
    def commands(self) -> CommandEnv:
        from bot.chat.commands.base import CommandEnv

        return CommandEnv(self.knowledge_base, self.jobs, self.rates, self.access, self.remover,
                          channel_scopes=self.channel_scopes, url_policy=self.url_policy,
                          uploads_per_hour=self.settings.jobs.uploads_per_hour,
                          default_preset=self.settings.retrieval.preset, gaps=self.gaps, memory=self.memory,
                          default_visibility=self.settings.answer.visibility)

    @cached_property
    def resync(self) -> Resync:
        from bot.jobs.resync import Resync

        return Resync(self.chat_indexer, self.jobs, self.settings.knowledge_paths, self.settings.root)

    def job_runner(self, show_job: JobListener, *, claims: bool = True,
                   platforms: frozenset[str] | None = None) -> JobRunner:
        from bot.jobs.runner import JobRunner

        jobs = self.settings.jobs
        return JobRunner(self.jobs, show_job, concurrency=jobs.concurrency,
                         keep_ended=timedelta(days=jobs.keep_days), resync=self.resync,
                         resync_s=jobs.resync_minutes * 60, claims=claims, platforms=platforms,
                         heartbeat_s=min(5.0, jobs.stale_after_s / 3),  # beats well inside the takeover bound
                         watch=self.database_watch)

    @cached_property
    def housekeeping(self) -> Housekeeping:
        from bot.jobs.housekeeping import Housekeeping

        window = timedelta(hours=self.settings.server.dedup_window_hours)
        return Housekeeping({
            "delivery records": lambda: self.deliveries.forget_older_than(window),
            "rate counters": lambda: self.rates.forget_older_than(2 * 3600),
            "stale pairing requests": self.access.forget_stale_requests,
            "coverage gaps": self.gaps.forget_older_than_keep_days,
        })

    # -- platforms ---------------------------------------------------------------------------------

    def adapters(self) -> list[Adapter]:
        """One adapter per enabled platform; a missing secret is a ConfigError naming its variable,
        raised before the service (the store, the embedder, the database) opens."""
        from bot.adapters.context import PlatformContext
        from bot.adapters.registry import factory

        secrets = {name: platform_secrets(self.settings, name) for name in self.settings.enabled_platforms}
        context = PlatformContext(self.service, int(self.settings.knowledge.max_file_mb * 1_000_000),
                                  self.settings.jobs.public_uploads, self.clock)
        return [factory(name)(self.settings.platform(name), secrets[name], context)
                for name in self.settings.enabled_platforms]

    async def aclose(self) -> None:
        if "database_watch" in self.__dict__:
            await self.database_watch.close()
        if "llm" in self.__dict__ and self.llm is not None:
            await self.llm.aclose()
        if self.__dict__.get("tracing") is not None:
            await asyncio.to_thread(self.__dict__.pop("tracing").close)  # sends the spans still buffered


# -- one part at a time, for callers that need only that (tests, benchmarks, scripts) ------------------

def build_knowledge_base(settings: Settings) -> KnowledgeBase:
    return App(settings).knowledge_base


def build_indexer(settings: Settings, knowledge_base: KnowledgeBase, *, for_chat: bool = False) -> Indexer:
    """`for_chat`: every URL is fetched through the guarded fetcher (jobs and re-syncs of `kbot run`)."""
    from bot.rag.indexer import Indexer
    from bot.rag.parsing import UrlFetcher

    fetcher = UrlFetcher(url_policy(settings)) if for_chat else UrlFetcher()
    chunking, limits = indexing_options(settings)
    return Indexer(knowledge_base, chunking, limits, fetcher, indexing_pipeline(settings, knowledge_base))




__all__ = ["App", "build_indexer", "build_knowledge_base"]
