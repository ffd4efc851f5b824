"""All-MiniLM-L6-v2 as an ONNX graph, built from the packaged safetensors weights.

No torch and no export: the graph is written node by node with the `onnx`
package's helper API and holds the same computation as `numpy_encoder.py`
(BERT embeddings, six encoder layers with exact erf GELU, mean pooling over
the attention mask, L2 normalisation), so onnxruntime returns finished
sentence vectors. The token type is always 0 for one sentence, so its
embedding row is folded into the position embeddings. Node names, tensor
names and initializer order are fixed and the protobuf is serialised
deterministically: the same weights always give the same bytes (a test holds
two builds equal).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

import numpy as np

from kenning.embed.model import DIMENSIONS

# Bump when the graph below changes: it names the built file in the user cache.
GRAPH_VERSION = 1
HEADS = 12
LAYERS = 6
OPSET = 18
IR_VERSION = 8


class _Graph:
    """Collects nodes and initializers under generated, stable names."""

    def __init__(self) -> None:
        from onnx import helper, numpy_helper

        self.helper, self.numpy_helper = helper, numpy_helper
        self.nodes: list = []
        self.initializers: list = []
        self._count = 0

    def const(self, name: str, value: np.ndarray) -> str:
        array = np.ascontiguousarray(value)
        self.initializers.append(self.numpy_helper.from_array(array, name))
        return name

    def op(self, op_type: str, *inputs: str, outputs: int = 1, **attrs: Any) -> list[str]:
        self._count += 1
        names = [f"{op_type.lower()}{self._count}_{i}" for i in range(outputs)]
        self.nodes.append(self.helper.make_node(op_type, list(inputs), names,
                                                name=f"{op_type.lower()}{self._count}", **attrs))
        return names

    def one(self, op_type: str, *inputs: str, **attrs: Any) -> str:
        return self.op(op_type, *inputs, **attrs)[0]


def build_model_bytes(weights: Mapping[str, np.ndarray]) -> bytes:
    """The serialised ONNX model: inputs input_ids, attention_mask (int64, batch x length);
    outputs sentence_embedding (float32, batch x 384, unit length) and token_mean (the
    mean of the output states before normalisation)."""
    from onnx import TensorProto

    w = {name: np.asarray(t, dtype=np.float32) for name, t in weights.items()
         if name != "embeddings.position_ids"}
    g = _Graph()
    f32 = np.float32
    head_dim = DIMENSIONS // HEADS
    g.const("word_embeddings", w["embeddings.word_embeddings.weight"])
    g.const("position_embeddings", w["embeddings.position_embeddings.weight"]
            + w["embeddings.token_type_embeddings.weight"][0])
    g.const("zero", np.array([0], np.int64))
    g.const("one", np.array([1], np.int64))
    g.const("two", np.array([2], np.int64))
    g.const("last", np.array([-1], np.int64))
    g.const("heads_shape", np.array([0, 0, HEADS, head_dim], np.int64))
    g.const("hidden_shape", np.array([0, 0, DIMENSIONS], np.int64))
    g.const("scale", np.array(1.0 / math.sqrt(head_dim), f32))
    g.const("half", np.array(0.5, f32))
    g.const("unit", np.array(1.0, f32))
    g.const("sqrt2", np.array(math.sqrt(2.0), f32))
    g.const("lowest", np.array(np.finfo(f32).min, f32))
    g.const("tiny_count", np.array(1e-9, f32))
    g.const("tiny_norm", np.array(1e-12, f32))

    def layer_norm(x: str, prefix: str) -> str:
        gamma = g.const(prefix + ".weight", w[prefix + ".weight"])
        beta = g.const(prefix + ".bias", w[prefix + ".bias"])
        return g.one("LayerNormalization", x, gamma, beta, axis=-1, epsilon=1e-12)

    def dense(x: str, prefix: str, weight: np.ndarray | None = None,
              bias: np.ndarray | None = None) -> str:
        matrix = g.const(prefix + ".weight", w[prefix + ".weight"].T if weight is None else weight)
        offset = g.const(prefix + ".bias", w[prefix + ".bias"] if bias is None else bias)
        return g.one("Add", g.one("MatMul", x, matrix), offset)

    length = g.one("Slice", g.one("Shape", "input_ids"), "one", "two")
    x = g.one("Add", g.one("Gather", "word_embeddings", "input_ids"),
              g.one("Slice", "position_embeddings", "zero", length))
    x = layer_norm(x, "embeddings.LayerNorm")
    mask = g.one("Cast", "attention_mask", to=TensorProto.FLOAT)
    # padding gets the lowest float as attention bias, as transformers does
    attention_bias = g.one("Unsqueeze", g.one("Mul", g.one("Sub", "unit", mask), "lowest"),
                           g.const("head_axes", np.array([1, 2], np.int64)))
    for n in range(LAYERS):
        p = f"encoder.layer.{n}."
        # query, key and value as one (384, 1152) matrix: one MatMul instead of three
        qkv_weight = np.concatenate([w[p + f"attention.self.{k}.weight"].T
                                     for k in ("query", "key", "value")], axis=1)
        qkv_bias = np.concatenate([w[p + f"attention.self.{k}.bias"]
                                   for k in ("query", "key", "value")])
        qkv = dense(x, p + "attention.self.qkv", qkv_weight, qkv_bias)
        q, k, v = g.op("Split", qkv, outputs=3, axis=-1, num_outputs=3)
        q = g.one("Transpose", g.one("Reshape", q, "heads_shape"), perm=[0, 2, 1, 3])
        k = g.one("Transpose", g.one("Reshape", k, "heads_shape"), perm=[0, 2, 3, 1])
        v = g.one("Transpose", g.one("Reshape", v, "heads_shape"), perm=[0, 2, 1, 3])
        scores = g.one("Add", g.one("Mul", g.one("MatMul", q, k), "scale"), attention_bias)
        context = g.one("MatMul", g.one("Softmax", scores, axis=-1), v)
        context = g.one("Reshape", g.one("Transpose", context, perm=[0, 2, 1, 3]), "hidden_shape")
        x = layer_norm(g.one("Add", x, dense(context, p + "attention.output.dense")),
                       p + "attention.output.LayerNorm")
        inner = dense(x, p + "intermediate.dense")
        erf = g.one("Erf", g.one("Div", inner, "sqrt2"))
        gelu = g.one("Mul", g.one("Mul", inner, "half"), g.one("Add", "unit", erf))
        x = layer_norm(g.one("Add", x, dense(gelu, p + "output.dense")), p + "output.LayerNorm")
    token_mask = g.one("Unsqueeze", mask, "last")
    summed = g.one("ReduceSum", g.one("Mul", x, token_mask), "one", keepdims=0)
    count = g.one("Clip", g.one("ReduceSum", token_mask, "one", keepdims=0), "tiny_count")
    pooled = "token_mean"  # also an output: the static model is distilled from it
    g.nodes.append(g.helper.make_node("Div", [summed, count], [pooled], name="mean_pool"))
    norm = g.one("Clip", g.one("ReduceL2", pooled, "last", keepdims=1), "tiny_norm")
    g.nodes.append(g.helper.make_node("Div", [pooled, norm], ["sentence_embedding"],
                                      name="normalise"))
    h = g.helper
    graph = h.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [h.make_tensor_value_info("input_ids", TensorProto.INT64, ["batch", "length"]),
         h.make_tensor_value_info("attention_mask", TensorProto.INT64, ["batch", "length"])],
        [h.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                  ["batch", DIMENSIONS]),
         h.make_tensor_value_info("token_mean", TensorProto.FLOAT, ["batch", DIMENSIONS])],
        g.initializers)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET)],
                         producer_name="kenning", producer_version=str(GRAPH_VERSION))
    model.ir_version = IR_VERSION
    return bytes(model.SerializeToString(deterministic=True))
