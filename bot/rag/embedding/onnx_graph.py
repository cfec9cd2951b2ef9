"""all-MiniLM-L6-v2 on ONNX Runtime: the same vectors as sentence-transformers (cosine 1.0 to float32
precision) without torch, for documents.

The graph is written once from the packaged safetensors weights with the `onnx` package (nothing is
downloaded, nothing is exported from torch) and cached under `data_dir/models`, keyed by the weights
file and the graph's version. ONNX Runtime fuses its GELUs and matrix products and runs them on
MLAS kernels; on a 2-core AVX2 VM it embeds document batches about 2.4x as fast as the NumPy encoder,
and a whole ingest is level with torch's (bench/ingest.py --runtime), without importing torch.
"""

# Imports inside functions: onnx and ONNX Runtime load with the model, not with the module.

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
from pathlib import Path
from typing import Any

import numpy as np

from bot.rag.embedding.minilm import MiniLMEncoder, load_tokenizer
from bot.rag.embedding.quantization import int8_in_memory, write_int8

log = logging.getLogger(__name__)
GRAPH_VERSION = 1  # bump when minilm_graph changes: cached graphs of older versions are not reused
OPSET = 18  # LayerNormalization, and reductions that take their axes as an input


def minilm_graph(encoder: MiniLMEncoder) -> bytes:
    """The encoder's weights as an ONNX model: token ids, type ids and mask in, normalised mean-pooled
    sentence vectors out, computed as MiniLMEncoder.encode computes them."""
    from onnx import TensorProto, helper, numpy_helper

    hidden, heads = encoder.dim, encoder.heads
    size = hidden // heads
    initializers: list[Any] = []
    nodes: list[Any] = []

    def constant(name: str, value: Any, dtype: Any = np.int64) -> str:
        initializers.append(numpy_helper.from_array(np.ascontiguousarray(np.asarray(value, dtype=dtype)), name))
        return name

    def node(op: str, inputs: list[str], output: str | None = None, **attributes: Any) -> str:
        name = output or f"{op.lower()}_{len(nodes)}"
        nodes.append(helper.make_node(op, inputs, [name], **attributes))
        return name

    for name, value in encoder.w.items():
        if ".qkv." in name:  # three products, as the model has them: ONNX Runtime fuses them itself
            for index, part in enumerate(("query", "key", "value")):
                constant(name.replace("qkv", part), value[..., index * hidden:(index + 1) * hidden], np.float32)
        elif name.startswith(("embeddings.", "encoder.")) and not name.endswith("position_ids"):
            constant(name, value, np.float32)

    def norm(x: str, name: str) -> str:
        return node("LayerNormalization", [x, name + ".weight", name + ".bias"], axis=-1, epsilon=encoder.eps)

    def linear(x: str, name: str) -> str:
        return node("Add", [node("MatMul", [x, name + ".weight"]), name + ".bias"])

    length = node("Shape", ["input_ids"], start=1, end=2)
    positions = node("Slice", ["embeddings.position_embeddings.weight", constant("zero", [0]), length,
                               constant("axis_zero", [0])])
    x = node("Add", [node("Add", [node("Gather", ["embeddings.word_embeddings.weight", "input_ids"]),
                                  node("Gather", ["embeddings.token_type_embeddings.weight", "token_type_ids"])]),
                     positions])
    x = norm(x, "embeddings.LayerNorm")
    mask = node("Cast", ["attention_mask"], to=TensorProto.FLOAT)
    masked = node("Mul", [node("Sub", [constant("one", 1.0, np.float32), mask]), constant("minus", -1e9, np.float32)])
    masked = node("Unsqueeze", [masked, constant("head_and_query_axes", [1, 2])])
    split_heads = constant("split_heads", [0, 0, heads, size])
    join_heads = constant("join_heads", [0, 0, hidden])
    scale = constant("scale", 1.0 / np.sqrt(size), np.float32)
    half, root2 = constant("half", 0.5, np.float32), constant("root2", np.sqrt(2.0), np.float32)
    for layer in range(encoder.layers):
        at = f"encoder.layer.{layer}."

        queries, keys, values = (
            node("Transpose", [node("Reshape", [linear(x, at + "attention.self." + part), split_heads])], perm=order)
            for part, order in (("query", [0, 2, 1, 3]), ("key", [0, 2, 3, 1]), ("value", [0, 2, 1, 3])))
        scores = node("Add", [node("Mul", [node("MatMul", [queries, keys]), scale]), masked])
        attended = node("MatMul", [node("Softmax", [scores], axis=-1), values])
        attended = node("Reshape", [node("Transpose", [attended], perm=[0, 2, 1, 3]), join_heads])
        x = norm(node("Add", [x, linear(attended, at + "attention.output.dense")]), at + "attention.output.LayerNorm")
        inner = linear(x, at + "intermediate.dense")  # exact GELU: x/2 (1 + erf(x / sqrt 2))
        erf = node("Erf", [node("Div", [inner, root2])])
        gelu = node("Mul", [node("Mul", [inner, half]), node("Add", [erf, constant(f"one_{layer}", 1.0, np.float32)])])
        x = norm(node("Add", [x, linear(gelu, at + "output.dense")]), at + "output.LayerNorm")
    weights = node("Unsqueeze", [mask, constant("feature_axis", [2])])
    summed = node("ReduceSum", [node("Mul", [x, weights]), constant("token_axis", [1])], keepdims=0)
    counted = node("ReduceSum", [weights, constant("token_axis_2", [1])], keepdims=0)
    pooled = node("Div", [summed, node("Max", [counted, constant("least_count", 1e-9, np.float32)])])
    length_of = node("ReduceL2", [pooled, constant("last_axis", [-1])], keepdims=1)
    node("Div", [pooled, node("Max", [length_of, constant("least_norm", 1e-12, np.float32)])], "embedding")
    inputs = [helper.make_tensor_value_info(name, TensorProto.INT64, ["batch", "tokens"])
              for name in ("input_ids", "token_type_ids", "attention_mask")]
    outputs = [helper.make_tensor_value_info("embedding", TensorProto.FLOAT, ["batch", hidden])]
    model = helper.make_model(helper.make_graph(nodes, "all-MiniLM-L6-v2", inputs, outputs, initializers),
                              opset_imports=[helper.make_opsetid("", OPSET)], producer_name="kbot")
    return bytes(model.SerializeToString())  # ONNX Runtime checks it as it loads it


def graph_key(folder: Path) -> str:
    """Names the cached graph: the weights file (path, size, modification time) and the graph version."""
    weights = (folder / "model.safetensors").resolve()
    stat = weights.stat()
    key = f"{GRAPH_VERSION}\x00{weights}\x00{stat.st_size}\x00{stat.st_mtime_ns}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def cached_graph(folder: Path, cache_dir: Path, int8: bool = False) -> Path:
    """The graph file for these weights, written (atomically: processes may race) when missing;
    `int8`: its quantized copy beside it (quantization.py)."""
    path = cache_dir / f"minilm-{graph_key(folder)}.onnx"
    if not path.exists():
        write_graph(folder, path)
    if not int8:
        return path
    quantized = path.with_name(path.stem + "-int8.onnx")
    if not quantized.exists():
        write_int8(path, quantized)
    return quantized


def write_graph(folder: Path, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = minilm_graph(MiniLMEncoder(folder))
    handle, temporary = tempfile.mkstemp(dir=path.parent, prefix=".minilm-", suffix=".tmp")
    try:
        with os.fdopen(handle, "wb") as out:
            out.write(data)
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise


def _session(onnxruntime: Any, folder: Path, cache_dir: Path | None, options: Any, int8: bool = False) -> Any:
    """From the cached graph; a damaged cache file is written again once; where the folder cannot be
    written (read-only, full), from a graph built in memory, so embedding still works."""
    providers = ["CPUExecutionProvider"]
    if cache_dir is not None:
        try:
            path = cached_graph(folder, cache_dir, int8)
            try:
                return onnxruntime.InferenceSession(str(path), options, providers=providers)
            except Exception:  # a truncated or damaged cache file (a full disk, a killed process)
                path.unlink(missing_ok=True)
                path = cached_graph(folder, cache_dir, int8)
                return onnxruntime.InferenceSession(str(path), options, providers=providers)
        except OSError as exc:
            log.warning("cannot keep the embedder's ONNX graph in %s (%s); building it in memory instead",
                        cache_dir, exc.strerror or exc.__class__.__name__)
    if int8:
        return onnxruntime.InferenceSession(int8_in_memory(minilm_graph(MiniLMEncoder(folder))), options,
                                            providers=providers)
    return onnxruntime.InferenceSession(minilm_graph(MiniLMEncoder(folder)), options, providers=providers)


class OnnxEncoder:
    """Texts to sentence vectors through an ONNX Runtime session; the same `encode` as MiniLMEncoder."""

    def __init__(self, folder: Path, cache_dir: Path | None = None, threads: int = 0, int8: bool = False) -> None:
        import onnxruntime

        self.tokenizer = load_tokenizer(folder)
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = threads
        options.log_severity_level = 3  # its warnings are about graph internals, not the person's data
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.session = _session(onnxruntime, folder, cache_dir, options, int8)
        self.dim = int(self.session.get_outputs()[0].shape[-1])

    def encode(self, texts: list[str]) -> np.ndarray:
        encodings = self.tokenizer.encode_batch(texts)
        feeds = {"input_ids": np.array([e.ids for e in encodings], dtype=np.int64),
                 "token_type_ids": np.array([e.type_ids for e in encodings], dtype=np.int64),
                 "attention_mask": np.array([e.attention_mask for e in encodings], dtype=np.int64)}
        vectors: np.ndarray = self.session.run(["embedding"], feeds)[0]
        return vectors
