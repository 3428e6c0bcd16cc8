"""Helpers to write safetensors files byte by byte (valid ones, and broken ones for error tests)."""

from __future__ import annotations

import json
import os
import struct
from pathlib import Path

from benchseal.bench.model.safetensors_io import DTYPE_BITS


def header_for(tensors: dict[str, tuple[str, list[int]]]) -> tuple[dict, int]:
    """A consistent header (contiguous offsets) for name -> (dtype, shape); returns (header, data bytes)."""
    header, off = {}, 0
    for name, (dtype, shape) in tensors.items():
        n = 1
        for d in shape:
            n *= d
        nbytes = n * DTYPE_BITS[dtype] // 8
        header[name] = {"dtype": dtype, "shape": shape, "data_offsets": [off, off + nbytes]}
        off += nbytes
    return header, off


def write_raw(path: Path, header_bytes: bytes, data_bytes: int, *, declared_len: int | None = None) -> Path:
    """Header length, header, then a sparse (truncate) data section of ``data_bytes`` bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "wb") as fh:
        fh.write(struct.pack("<Q", len(header_bytes) if declared_len is None else declared_len))
        fh.write(header_bytes)
    os.truncate(path, 8 + len(header_bytes) + data_bytes)
    return path


def write_st(path: Path, tensors: dict[str, tuple[str, list[int]]], *, metadata: dict | None = None) -> Path:
    header, size = header_for(tensors)
    if metadata:
        header["__metadata__"] = metadata
    return write_raw(path, json.dumps(header).encode(), size)


def write_sharded(root: Path, shards: list[dict[str, tuple[str, list[int]]]], config: dict | None = None) -> Path:
    root.mkdir(parents=True, exist_ok=True)
    n = len(shards)
    weight_map = {}
    for i, tensors in enumerate(shards, 1):
        name = f"model-{i:05d}-of-{n:05d}.safetensors"
        write_st(root / name, tensors)
        weight_map.update({t: name for t in tensors})
    (root / "model.safetensors.index.json").write_text(json.dumps({"metadata": {}, "weight_map": weight_map}))
    if config is not None:
        (root / "config.json").write_text(json.dumps(config))
    return root
