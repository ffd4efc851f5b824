"""All-MiniLM-L6-v2 as an ONNX graph, built from the packaged safetensors weights.

No torch and no export: the graph is written node by node with the `onnx`
package's helper API from onnxruntime's fused transformer operators (domain
com.microsoft, in every CPU build of onnxruntime): `EmbedLayerNormalization`
(word + position embeddings and their layer norm), per encoder layer one
`Attention` (the packed query/key/value projection, softmax attention and the
heads' merge in one kernel), `SkipLayerNormalization` (bias, residual add and
layer norm) and `BiasGelu` (bias and the exact erf GELU, as BERT's), then mean
pooling and L2 normalisation, so onnxruntime returns finished sentence vectors.
It computes what `numpy_encoder.py` does in 7 kernels a layer instead of 31.

The graph has no attention mask: the encoder runs only batches whose texts
have the same token count, so there is no padding to hide, a text's vector
does not depend on the texts beside it, and the mean over the tokens is a
plain mean. The token type is always 0 for one sentence, so its embedding row
is folded into the position embeddings. Node names, tensor names and
initializer order are fixed and the protobuf is serialised deterministically:
the same weights always give the same bytes (a test holds two builds equal).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from kenning.embed.model import DIMENSIONS

# Bump when the graph below changes: it names the built file in the user cache.
GRAPH_VERSION = 2
HEADS = 12
LAYERS = 6
OPSET = 18
MS_DOMAIN = "com.microsoft"
EPSILON = 1e-12  # BERT's layer norm
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
    """The serialised ONNX model: input input_ids (int32, batch x length, every row a
    whole text: no padding); outputs sentence_embedding (float32, batch x 384, unit
    length) and token_mean (the mean of the output states before normalisation)."""
    from onnx import TensorProto

    w = {name: np.asarray(t, dtype=np.float32) for name, t in weights.items()
         if name != "embeddings.position_ids"}
    g = _Graph()
    ms = {"domain": MS_DOMAIN}
    g.const("last", np.array([-1], np.int64))
    g.const("tiny_norm", np.array(1e-12, np.float32))

    def param(name: str, value: np.ndarray | None = None) -> str:
        return g.const(name, w[name] if value is None else value)

    x = g.op("EmbedLayerNormalization", "input_ids", "", param("embeddings.word_embeddings.weight"),
             param("embeddings.position_embeddings.weight",
                   w["embeddings.position_embeddings.weight"]
                   + w["embeddings.token_type_embeddings.weight"][0]),
             "", param("embeddings.LayerNorm.weight"), param("embeddings.LayerNorm.bias"),
             outputs=2, epsilon=EPSILON, **ms)[0]  # (the second output, a mask index, unused)

    def dense_then_norm(h: str, residual: str, dense: str, norm: str) -> str:
        """LayerNorm(residual + h @ dense.weight + dense.bias), one kernel after the MatMul."""
        product = g.one("MatMul", h, param(dense + ".weight", w[dense + ".weight"].T))
        return g.one("SkipLayerNormalization", product, residual, param(norm + ".weight"),
                     param(norm + ".bias"), param(dense + ".bias"), epsilon=EPSILON, **ms)

    for n in range(LAYERS):
        p = f"encoder.layer.{n}."
        # query, key and value as one (384, 1152) matrix, their columns side by side
        qkv_weight = np.concatenate([w[p + f"attention.self.{k}.weight"].T
                                     for k in ("query", "key", "value")], axis=1)
        qkv_bias = np.concatenate([w[p + f"attention.self.{k}.bias"]
                                   for k in ("query", "key", "value")])
        context = g.one("Attention", x, g.const(p + "attention.self.qkv.weight", qkv_weight),
                        g.const(p + "attention.self.qkv.bias", qkv_bias), num_heads=HEADS, **ms)
        x = dense_then_norm(context, x, p + "attention.output.dense",
                            p + "attention.output.LayerNorm")
        inner = g.one("MatMul", x, param(p + "intermediate.dense.weight",
                                         w[p + "intermediate.dense.weight"].T))
        gelu = g.one("BiasGelu", inner, param(p + "intermediate.dense.bias"), **ms)  # exact erf
        x = dense_then_norm(gelu, x, p + "output.dense", p + "output.LayerNorm")
    pooled = "token_mean"  # also an output: the static model is distilled from it
    # the mean over the last axis of (batch, 384, length): onnxruntime sums the middle axis
    # of (batch, length, 384) in another order when batch > 1, the last in one order always
    states = g.one("Transpose", x, perm=[0, 2, 1])
    g.nodes.append(g.helper.make_node("ReduceMean", [states, "last"], [pooled],
                                      name="mean_pool", keepdims=0))
    norm = g.one("Clip", g.one("ReduceL2", pooled, "last", keepdims=1), "tiny_norm")
    g.nodes.append(g.helper.make_node("Div", [pooled, norm], ["sentence_embedding"],
                                      name="normalise"))
    h = g.helper
    graph = h.make_graph(
        g.nodes, "all-MiniLM-L6-v2",
        [h.make_tensor_value_info("input_ids", TensorProto.INT32, ["batch", "length"])],
        [h.make_tensor_value_info("sentence_embedding", TensorProto.FLOAT,
                                  ["batch", DIMENSIONS]),
         h.make_tensor_value_info("token_mean", TensorProto.FLOAT, ["batch", DIMENSIONS])],
        g.initializers)
    model = h.make_model(graph, opset_imports=[h.make_opsetid("", OPSET),
                                               h.make_opsetid(MS_DOMAIN, 1)],
                         producer_name="kenning", producer_version=str(GRAPH_VERSION))
    model.ir_version = IR_VERSION
    return bytes(model.SerializeToString(deterministic=True))
