"""`embedder.precision: int8`: the float32 graph's weight matrices quantized to int8 (per output
channel, dynamically quantized activations) for ONNX Runtime's int8 kernels (VNNI where the CPU has
it). Only the products with a weight are quantized: attention's two products of activations stay
float32, which is what keeps the vectors close (cosine ≥ 0.98 to float32's on real passages;
bench/precision.py prints the time and the agreement, tests/rag/embedding/test_int8.py the retrieval)."""

# Imports inside functions: onnx and ONNX Runtime's quantization tools load only to write the graph once.

from __future__ import annotations

import os
import tempfile
from pathlib import Path

# Weight matrices that may be kept in float32 by name suffix (none by default: keeping the
# feed-forward products in float32 changed no shipped evaluation's figure).
KEEP_FLOAT: tuple[str, ...] = ()


def write_int8(source: Path, target: Path, keep_float: tuple[str, ...] = KEEP_FLOAT) -> None:
    """`source` (the float32 graph) quantized into `target`, written atomically (processes may race)."""
    import onnx
    from onnxruntime.quantization import QuantType, quantize_dynamic

    model = onnx.load(str(source))
    for index, node in enumerate(model.graph.node):
        if not node.name:  # quantize_dynamic names nodes to exclude by name
            node.name = f"{node.op_type}_{index}"
    weights = {tensor.name for tensor in model.graph.initializer}
    weights |= {out for node in model.graph.node if node.op_type == "Constant" for out in node.output}
    activations_only = [node.name for node in model.graph.node
                        if node.op_type == "MatMul" and not any(name in weights for name in node.input)]
    kept = [node.name for node in model.graph.node if node.op_type == "MatMul" and keep_float
            and any(name.endswith(keep_float) for name in node.input)]
    target.parent.mkdir(parents=True, exist_ok=True)
    handle, named = tempfile.mkstemp(dir=target.parent, prefix=".minilm-named-", suffix=".onnx")
    os.close(handle)
    handle, quantized = tempfile.mkstemp(dir=target.parent, prefix=".minilm-int8-", suffix=".tmp")
    os.close(handle)
    try:
        onnx.save(model, named)
        quantize_dynamic(named, quantized, weight_type=QuantType.QInt8, op_types_to_quantize=["MatMul"],
                         nodes_to_exclude=activations_only + kept, per_channel=True)
        os.replace(quantized, target)
    finally:
        Path(named).unlink(missing_ok=True)
        Path(quantized).unlink(missing_ok=True)


def int8_in_memory(graph: bytes) -> bytes:
    """The quantized graph as bytes, where no folder can keep it (quantize_dynamic works on files)."""
    with tempfile.TemporaryDirectory() as folder:
        source, target = Path(folder) / "fp32.onnx", Path(folder) / "int8.onnx"
        source.write_bytes(graph)
        write_int8(source, target)
        return target.read_bytes()
