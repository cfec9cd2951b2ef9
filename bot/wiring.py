"""Settings mapped onto the plain parameters of kbot's parts, and config.yaml read with every
registered platform's section. Light on purpose: `kbot --help` and the config checks import it before
anything heavy, so each part's library is imported only inside the function that builds for it."""

# Imports inside functions: the wiring functions import the parts they wire, so loading settings imports no
# platform or model code.

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from pydantic import SecretStr

from bot import config
from bot.config import ConfigError, Settings, require_secret

if TYPE_CHECKING:
    from haystack import Pipeline
    from sqlalchemy.engine import Engine

    from bot.rag.embedding.contract import EmbedderOptions
    from bot.rag.knowledge_base import KnowledgeBase
    from bot.rag.llm_client import LLMOptions
    from bot.rag.parsing import Limits
    from bot.rag.parsing.addresses import AddressPolicy
    from bot.rag.pipeline.answer_pipeline import AnswerOptions
    from bot.rag.splitting import Chunking
    from bot.state.access import AccessControl


def load_settings(explicit: str | Path | None = None) -> Settings:
    """`config.yaml` (or --config, KBOT_CONFIG) with every registered platform's section."""
    from bot.adapters.registry import settings_models

    return config.load_settings(explicit, platforms=settings_models())


def parse_settings(raw: Any, *, root: Path, source: str = config.DEFAULT_CONFIG) -> Settings:
    """Already-loaded YAML data, validated with every registered platform's section."""
    from bot.adapters.registry import settings_models

    return config.parse_settings(raw, root=root, platforms=settings_models(), source=source)


def secret_value(value: SecretStr | None) -> str | None:
    """A `SecretStr` setting's text (None where unset): read here, at the one place a part is given it."""
    return value.get_secret_value() if value is not None else None


def platform_secrets(settings: Settings, name: str) -> dict[str, str]:
    """The secrets an enabled platform needs, or a ConfigError naming the variable to set."""
    return {key: require_secret(settings, f"{name}.{key}", why)
            for key, why in settings.platform(name).required_secrets().items()}


def embedder_options(settings: Settings) -> EmbedderOptions:
    from bot.rag.embedding.contract import EmbedderOptions

    embedder = settings.embedder
    return EmbedderOptions(embedder.kind, embedder.model, embedder.base_url, secret_value(embedder.api_key),
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
    from bot.rag.pipeline.answer_pipeline import AnswerOptions, RerankerOptions

    reranker = settings.retrieval.reranker
    return AnswerOptions(
        mode=None, top_k=settings.retrieval.top_k, min_similarity=settings.answer.min_similarity,
        keyword_agreement=settings.answer.keyword_agreement, extractive=settings.llm.effective_kind != "openai",
        reranker=RerankerOptions(reranker.kind, reranker.url, reranker.model,
                                 str(settings.resolve(reranker.model_path)) if reranker.model_path else None,
                                 reranker.style, reranker.timeout_s))


def llm_options(settings: Settings) -> LLMOptions:
    from bot.rag.llm_client import LLMOptions

    llm = settings.llm
    return LLMOptions(llm.model, llm.base_url, secret_value(llm.api_key), llm.timeout_s, llm.max_attempts,
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



def indexing_pipeline(settings: Settings, knowledge_base: KnowledgeBase) -> Pipeline | None:
    """`knowledge.pipeline` loaded and checked (a mistake is one line at start-up); None: the default."""
    from bot.rag.pipeline.contract import PipelineInvalid
    from bot.rag.pipeline.indexing_pipeline import check_indexing_pipeline
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
    from bot.state.access import AccessControl, PlatformAccess

    rules = {name: PlatformAccess(settings.platform(name).access, settings.platform(name).allowed_places())
             for name in settings.platform_names}
    return AccessControl(engine, rules)
