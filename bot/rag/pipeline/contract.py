"""What a flow's pipeline must take and give, checked once at start-up so a customised YAML that
cannot work fails there, in one line, rather than on the first question or upload."""

from __future__ import annotations

from typing import TypeVar

from haystack import Pipeline

E = TypeVar("E", bound=BaseException)


class PipelineInvalid(ValueError):
    """A pipeline that does not keep its flow's contract; the message is one line."""


def accepted_inputs(pipeline: Pipeline) -> set[str]:
    """Every input socket name some component takes (flat inputs reach each component taking them)."""
    return {socket for sockets in pipeline.inputs().values() for socket in sockets}


def output_components(pipeline: Pipeline, names: tuple[str, ...]) -> dict[str, str]:
    """Which component produces each named output (the first one that has such a socket)."""
    found: dict[str, str] = {}
    for component_name, sockets in pipeline.outputs(include_components_with_connected_outputs=True).items():
        for socket in sockets:
            if socket in names and socket not in found:
                found[socket] = component_name
    return found


def check_contract(pipeline: Pipeline, inputs: dict[str, str], outputs: tuple[str, ...],
                   required: str, producer: str) -> dict[str, str]:
    """`inputs`: each required input and why; `required`: the output some component must produce
    (`producer` names one that does). The producing component of each of `outputs` present."""
    taken = accepted_inputs(pipeline)
    for name, why in inputs.items():
        if name not in taken:
            raise PipelineInvalid(f"no component takes the input {name!r} ({why})")
    produced = output_components(pipeline, outputs)
    if required not in produced:
        raise PipelineInvalid(f"no component produces an {required!r} output (e.g. {producer})")
    return produced


def raised_within(exc: BaseException, kind: type[E]) -> E | None:
    """The `kind` error a component raised, under Haystack's PipelineRuntimeError wrapping."""
    seen: BaseException | None = exc
    while seen is not None:
        if isinstance(seen, kind):
            return seen
        seen = seen.__cause__ or seen.__context__
    return None


def has_reranker(pipeline: Pipeline) -> bool:
    """Does some component rerank (take the query and documents, give documents back)? Any Haystack
    ranker does, kbot's own or a custom pipeline's; a preset then retrieves more for it to choose from."""
    inputs = pipeline.inputs(include_components_with_connected_inputs=True)
    outputs = pipeline.outputs(include_components_with_connected_outputs=True)
    return any({"query", "documents"} <= set(sockets) and "documents" in outputs.get(name, {})
               for name, sockets in inputs.items())
