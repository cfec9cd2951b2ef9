"""Pipelines as data: YAML out (`kbot pipeline show`), YAML in (`answer.pipeline`, `knowledge.pipeline`).

Loading hands each component the run-time resources it names (the knowledge base, the model client,
secrets), which YAML never holds, and lets Haystack import kbot's own components (`bot.*`) besides
Haystack's; a team's own component module is allowed with HAYSTACK_DESERIALIZATION_ALLOWLIST.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from haystack import Pipeline
from haystack.core.serialization import DeserializationCallbacks

from bot.rag.pipeline.contract import PipelineInvalid
from bot.rag.pipeline.resources import Resources

KBOT_MODULES = ["bot.*"]
# Component modules renamed since a team may have saved a pipeline (`kbot pipeline show > answer.yaml`):
# a saved `type:` keeps loading.
RENAMED_MODULES = {
    "bot.rag.pipeline.answer": "bot.rag.pipeline.answer_pipeline",
    "bot.rag.pipeline.chunking": "bot.rag.pipeline.splitter",
    "bot.rag.pipeline.citing": "bot.rag.pipeline.citation_filter",
    "bot.rag.pipeline.converting": "bot.rag.pipeline.converter",
    "bot.rag.pipeline.generators": "bot.rag.pipeline.answer_generators",
    "bot.rag.pipeline.prompting": "bot.rag.pipeline.prompt_builder",
    "bot.rag.pipeline.retrieval": "bot.rag.pipeline.retriever",
    "bot.rag.pipeline.rewriting": "bot.rag.pipeline.rewriter",
    "bot.rag.pipeline.writing": "bot.rag.pipeline.writers",
}
_REFUSED_MODULE = re.compile(r"Refusing to deserialize a class from module '([^']+)'")


def load_pipeline(path: Path, resources: Resources) -> Pipeline:
    """The pipeline in `path`, its components given their resources; PipelineInvalid in one line."""

    def inject(_name: str, component_class: type, init_params: dict[str, Any]) -> None:
        init_params.update(resources.for_component(component_class))

    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise PipelineInvalid(f"{path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        raise PipelineInvalid(f"{path}: not valid YAML{where}") from None
    if not isinstance(data, dict) or not isinstance(data.get("components"), dict):
        raise PipelineInvalid(f"{path}: not a Haystack pipeline (it needs a 'components' mapping; see "
                              "`kbot pipeline show`)")
    for component in data["components"].values():
        if isinstance(component, dict) and isinstance(component.get("type"), str):
            component["type"] = current_type(component["type"])
    try:
        return Pipeline.from_dict(data, callbacks=DeserializationCallbacks(component_pre_init=inject),
                                  allowed_modules=KBOT_MODULES)
    except Exception as exc:  # Haystack's own errors name the component and what is wrong
        message = " ".join(str(exc).split())
        refused = _REFUSED_MODULE.search(message)
        if refused:
            message = (f"a component comes from the module {refused.group(1)!r}, which kbot does not load: it loads "
                       "its own components (bot.*) and Haystack's; allow a module of your own with "
                       f"HAYSTACK_DESERIALIZATION_ALLOWLIST={refused.group(1)}")
        raise PipelineInvalid(f"{path}: {message[:300]}") from None


def current_type(path: str) -> str:
    """A component's `module.Class` with its module's current name."""
    module, _, name = path.rpartition(".")
    return f"{RENAMED_MODULES.get(module, module)}.{name}"


def to_yaml(pipeline: Pipeline) -> str:
    return pipeline.dumps()
