"""A stand-in for the embedding model mcp-server-qdrant loads at start, in fastembed's cache.

mcp-server-qdrant constructs ``fastembed.TextEmbedding(EMBEDDING_MODEL)`` before it serves
anything, and fastembed downloads the model (Hugging Face Hub, then a Google Cloud Storage
tarball) unless its cache holds it. Neither is reachable from the test machines, so the tier puts
a small model of the same shape where fastembed's cache lookup finds it: the legacy cache
directory ``<FASTEMBED_CACHE_PATH>/fast-<model name>/``, which fastembed returns as is when it
is not empty (``retrieve_model_gcs``). With ``HF_HUB_OFFLINE=1`` the hub is not asked at all.

The model is a valid ONNX graph with the inputs and output of a sentence-transformers export
(``input_ids``, ``attention_mask`` -> ``last_hidden_state`` of width ``dim``): token vectors are
``id * w + b``, so different texts embed differently. Its quality is irrelevant: the tier proves
the transport, not the embeddings. The protobuf is written by hand (field numbers from
onnx.proto) so that no ``onnx`` package is needed.
"""

from __future__ import annotations

import json
import math
import struct
from pathlib import Path
from typing import Final

WORDS: Final = (
    "the", "a", "is", "of", "to", "in", "on", "for", "and", "not", "with", "it", "memory",
    "remember", "store", "find", "agent", "gateway", "vector", "search", "qdrant", "mcp",
    "hello", "world", "user", "likes", "tea", "coffee", "green", "blue",
)  # fmt: skip
SPECIAL: Final = ("[PAD]", "[UNK]", "[CLS]", "[SEP]")
MAX_LENGTH: Final = 256

# onnx.proto: TensorProto.DataType and AttributeProto.AttributeType values.
FLOAT: Final = 1
INT64: Final = 7
ATTRIBUTE_INT: Final = 2
ATTRIBUTE_INTS: Final = 7


def _varint(value: int) -> bytes:
    out = bytearray()
    value &= (1 << 64) - 1  # negative int64 values are ten-byte varints
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _int(field: int, value: int) -> bytes:
    return _varint(field << 3) + _varint(value)


def _bytes(field: int, value: bytes | str) -> bytes:
    data = value.encode() if isinstance(value, str) else value
    return _varint(field << 3 | 2) + _varint(len(data)) + data


def _value_info(name: str, elem_type: int, dims: tuple[int | str, ...]) -> bytes:
    shape = b"".join(
        _bytes(1, _int(1, dim) if isinstance(dim, int) else _bytes(2, dim)) for dim in dims
    )
    tensor_type = _int(1, elem_type) + _bytes(2, shape)
    return _bytes(1, name) + _bytes(2, _bytes(1, tensor_type))


def _tensor(name: str, values: list[float]) -> bytes:
    raw = struct.pack(f"<{len(values)}f", *values)
    return _int(1, len(values)) + _int(2, FLOAT) + _bytes(8, name) + _bytes(9, raw)


def _node(op: str, inputs: tuple[str, ...], output: str, attributes: bytes = b"") -> bytes:
    return (
        b"".join(_bytes(1, name) for name in inputs)
        + _bytes(2, output)
        + _bytes(3, f"{op.lower()}_{output}")
        + _bytes(4, op)
        + attributes
    )


def _attribute_int(name: str, value: int) -> bytes:
    return _bytes(5, _bytes(1, name) + _int(3, value) + _int(20, ATTRIBUTE_INT))


def _attribute_ints(name: str, values: tuple[int, ...]) -> bytes:
    ints = b"".join(_int(8, value) for value in values)
    return _bytes(5, _bytes(1, name) + ints + _int(20, ATTRIBUTE_INTS))


def onnx_model(dim: int) -> bytes:
    """``last_hidden_state[b, s, :] = input_ids[b, s] * w + b`` as an ONNX model (opset 11)."""
    weights = [math.sin(i + 1) for i in range(dim)]
    bias = [1.0 + math.cos(i) / 2 for i in range(dim)]
    graph = (
        _bytes(1, _node("Cast", ("input_ids",), "ids", _attribute_int("to", FLOAT)))
        + _bytes(1, _node("Unsqueeze", ("ids",), "ids3", _attribute_ints("axes", (2,))))
        + _bytes(1, _node("Mul", ("ids3", "w"), "scaled"))
        + _bytes(1, _node("Add", ("scaled", "b"), "last_hidden_state"))
        + _bytes(2, "standin")
        + _bytes(5, _tensor("w", weights))
        + _bytes(5, _tensor("b", bias))
        + _bytes(11, _value_info("input_ids", INT64, ("batch", "sequence")))
        + _bytes(11, _value_info("attention_mask", INT64, ("batch", "sequence")))
        + _bytes(12, _value_info("last_hidden_state", FLOAT, ("batch", "sequence", dim)))
    )
    opset = _bytes(1, "") + _int(2, 11)
    return _int(1, 6) + _bytes(2, "agent-platform tests") + _bytes(7, graph) + _bytes(8, opset)


def tokenizer() -> dict[str, object]:
    """A Hugging Face ``tokenizers`` WordLevel tokenizer (lowercase, split on whitespace)."""
    vocab = {token: index for index, token in enumerate((*SPECIAL, *WORDS))}
    return {
        "version": "1.0",
        "truncation": None,
        "padding": None,
        "added_tokens": [],
        "normalizer": {"type": "Lowercase"},
        "pre_tokenizer": {"type": "Whitespace"},
        "post_processor": None,
        "decoder": None,
        "model": {"type": "WordLevel", "vocab": vocab, "unk_token": "[UNK]"},
    }


def write(cache_dir: Path, model_name: str, dim: int) -> Path:
    """Write the stand-in for ``model_name`` (``owner/name``) under ``cache_dir``; its directory."""
    directory = cache_dir / f"fast-{model_name.rsplit('/', maxsplit=1)[-1]}"
    directory.mkdir(parents=True, exist_ok=True)
    (directory / "model.onnx").write_bytes(onnx_model(dim))
    files: dict[str, object] = {
        "tokenizer.json": tokenizer(),
        "config.json": {"pad_token_id": 0},
        "tokenizer_config.json": {"model_max_length": MAX_LENGTH, "pad_token": "[PAD]"},
        "special_tokens_map.json": dict(zip(("pad_token", "unk_token", "cls_token",
                                             "sep_token"), SPECIAL, strict=True)),
    }  # fmt: skip
    for name, content in files.items():
        (directory / name).write_text(json.dumps(content))
    return directory
