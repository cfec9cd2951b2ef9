"""kbot's configuration: `config.yaml` validated into read-only settings (bot/config/settings.py),
kbot's own sections (bot/config/sections.py) and the base every section and platform section is
built on (bot/config/base.py)."""

from bot.config.base import PlatformSettings, Section
from bot.config.sections import (
    AnalyticsSettings,
    AnswerSettings,
    ConfigError,
    DatabaseSettings,
    EmbedderSettings,
    JobsSettings,
    KnowledgeSettings,
    LimitsSettings,
    LLMSettings,
    PrivacySettings,
    RerankerSettings,
    RetrievalSettings,
    ServerSettings,
    StoreSettings,
    TracingSettings,
    WeaviateSettings,
)
from bot.config.settings import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    Platforms,
    Settings,
    config_path,
    env_references,
    load_settings,
    parse_settings,
    require_secret,
    substitute_env,
)

__all__ = [
    "CONFIG_ENV", "DEFAULT_CONFIG", "AnalyticsSettings", "AnswerSettings", "ConfigError", "DatabaseSettings",
    "EmbedderSettings", "JobsSettings", "KnowledgeSettings", "LLMSettings", "LimitsSettings", "PlatformSettings",
    "Platforms", "PrivacySettings", "RerankerSettings", "RetrievalSettings", "Section", "ServerSettings",
    "Settings", "StoreSettings", "TracingSettings", "WeaviateSettings", "config_path", "env_references",
    "load_settings", "parse_settings", "require_secret", "substitute_env",
]
