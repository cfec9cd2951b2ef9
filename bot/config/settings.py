"""The whole configuration: kbot's own sections and one per platform, read from `config.yaml` with
secrets from `${ENV}` references.

The platforms' sections are handed in (`platforms`, by the composition root from the adapter
registry): the configuration knows no platform package, so reading it loads no platform's code.
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any, get_args

import yaml
from pydantic import BaseModel, Field, ValidationError, field_validator

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
    RetrievalSettings,
    ServerSettings,
    StoreSettings,
)

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "KBOT_CONFIG"
_ENV_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)(?::-([^}]*))?\}")
Platforms = Mapping[str, type[PlatformSettings]]


class Settings(Section):
    """Read-only once loaded: a command that overrides a value makes a copy (`model_copy(update=...)`)."""

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
    # Each platform's section (`slack:`, `discord:`, `telegram:`), validated by its own model.
    platforms: dict[str, PlatformSettings] = Field(default_factory=dict, exclude=True)

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
        """The section of a registered platform."""
        return self.platforms[name]

    @property
    def platform_names(self) -> list[str]:
        """Every registered platform, enabled or not."""
        return list(self.platforms)

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


def substitute_env(value: Any, environ: Mapping[str, str] | None = None) -> Any:
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
    value = getattr(settings.platforms.get(section) or getattr(settings, section), key)
    if value is not None and value.get_secret_value():
        return str(value.get_secret_value())
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


def _keys_beside(model: type[BaseModel], path: Sequence[Any]) -> list[str]:
    """The keys the section at `path` (within `model`) takes: what a mistyped key is compared with."""
    for part in path:
        field = model.model_fields.get(str(part))
        inner = next((t for t in (field.annotation, *get_args(field.annotation)) if isinstance(t, type)
                      and issubclass(t, BaseModel)), None) if field is not None else None
        if inner is None:
            return []
        model = inner
    return [name for name in model.model_fields if name not in ("root", "env_refs", "platforms")]


def _describe(error: Mapping[str, Any], source: str, model: type[BaseModel] | None = None,
              prefix: Sequence[Any] = ()) -> str:
    loc = ".".join(str(part) for part in error.get("loc", ()) if not isinstance(part, int)) or "(top level)"
    message = error.get("msg", "invalid value").removeprefix("Value error, ")
    if error.get("type") == "extra_forbidden":
        path = [p for p in error.get("loc", ()) if not isinstance(p, int)][len(prefix):]
        known = _keys_beside(model, path[:-1]) if model is not None and path else []
        close = difflib.get_close_matches(str(path[-1]), known, n=1) if path else []
        message = f"unknown key: did you mean {close[0]}?" if close else "unknown key (check its spelling and nesting)"
    elif error.get("type") == "literal_error":
        message = message.replace("Input should be", "must be")
    return f"{source}: {loc}: {message}"


def parse_settings(raw: Any, *, root: Path, platforms: Platforms, source: str = DEFAULT_CONFIG) -> Settings:
    """Validate already-loaded YAML data, each platform's section by its model in `platforms`; raises
    ConfigError with one line that names the key."""
    if raw is None:
        raw = {}
    if not isinstance(raw, dict):
        raise ConfigError(f"{source}: the top level must be a mapping of keys, got {type(raw).__name__}")
    data = _blank_to_none(substitute_env(raw))
    sections: dict[str, PlatformSettings] = {}
    try:
        for name, model in platforms.items():
            sections[name] = model.model_validate(data.pop(name, None) or {})
    except ValidationError as exc:
        error = exc.errors()[0]
        raise ConfigError(_describe({**error, "loc": (name, *error.get("loc", ()))}, source, model, (name,))) from None
    try:
        return Settings.model_validate({**data, "root": root, "env_refs": env_references(raw),
                                        "platforms": sections})
    except ValidationError as exc:
        raise ConfigError(_describe(exc.errors()[0], source, Settings)) from None


def config_path(explicit: str | Path | None) -> Path:
    """--config beats KBOT_CONFIG beats ./config.yaml."""
    chosen = explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG
    return Path(chosen).expanduser()


def load_settings(explicit: str | Path | None = None, *, platforms: Platforms) -> Settings:
    """Read and validate the config file; a missing default file means all defaults."""
    path = config_path(explicit)
    if not path.exists():
        if explicit or os.environ.get(CONFIG_ENV):
            raise ConfigError(f"{path}: config file not found")
        return parse_settings({}, root=Path.cwd(), platforms=platforms, source=str(path))
    try:
        raw = yaml.safe_load(path.read_text(encoding="utf-8"))
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        problem = getattr(exc, "problem", None) or "invalid YAML"
        raise ConfigError(f"{path}: not valid YAML{where}: {problem}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc.__class__.__name__}") from None
    return parse_settings(raw, root=path.resolve().parent, platforms=platforms, source=str(path))
