"""Read a GGUF file's header (metadata and tensor infos) without touching tensor data.

Layout (GGUF v2/v3, little-endian; https://github.com/ggml-org/ggml/blob/master/docs/gguf.md):
``"GGUF"``, uint32 version, uint64 tensor_count, uint64 kv_count, then kv_count metadata pairs
(string key, uint32 value type, value), then tensor_count infos (string name, uint32 n_dims,
uint64 dims[n_dims], uint32 ggml type, uint64 offset into the data section), then padding to
``general.alignment`` (default 32) and the data section. Strings are uint64 length + UTF-8 bytes.

Every length and count is checked against the file size before it is used, so a corrupt header
never makes us allocate or loop over an absurd amount.
"""

from __future__ import annotations

import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

from benchseal.errors import ModelFormatError

# ggml type id -> (name, block size in elements, bytes per block)   (ggml.h / gguf-py constants.py)
GGML_TYPES: dict[int, tuple[str, int, int]] = {
    0: ("F32", 1, 4), 1: ("F16", 1, 2), 2: ("Q4_0", 32, 18), 3: ("Q4_1", 32, 20), 6: ("Q5_0", 32, 22),
    7: ("Q5_1", 32, 24), 8: ("Q8_0", 32, 34), 9: ("Q8_1", 32, 40), 10: ("Q2_K", 256, 84),
    11: ("Q3_K", 256, 110), 12: ("Q4_K", 256, 144), 13: ("Q5_K", 256, 176), 14: ("Q6_K", 256, 210),
    15: ("Q8_K", 256, 292), 16: ("IQ2_XXS", 256, 66), 17: ("IQ2_XS", 256, 74), 18: ("IQ3_XXS", 256, 98),
    19: ("IQ1_S", 256, 50), 20: ("IQ4_NL", 32, 18), 21: ("IQ3_S", 256, 110), 22: ("IQ2_S", 256, 82),
    23: ("IQ4_XS", 256, 136), 24: ("I8", 1, 1), 25: ("I16", 1, 2), 26: ("I32", 1, 4), 27: ("I64", 1, 8),
    28: ("F64", 1, 8), 29: ("IQ1_M", 256, 56), 30: ("BF16", 1, 2), 34: ("TQ1_0", 256, 54),
    35: ("TQ2_0", 256, 66), 39: ("MXFP4", 32, 17), 40: ("NVFP4", 64, 36), 41: ("Q1_0", 128, 18),
}

# metadata value type -> struct format of a scalar (8 = string, 9 = array are handled apart)
_SCALARS: dict[int, str] = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?", 10: "<Q", 11: "<q", 12: "<d"}
_KEEP_ARRAY_MAX = 64  # metadata arrays longer than this are skipped (tokenizer vocabularies), only their length kept


@dataclass(frozen=True)
class GgufTensor:
    name: str
    ggml_type: str
    shape: tuple[int, ...]  # ggml order (ne[0] first, the contiguous dimension)
    numel: int
    offset: int
    nbytes: int


@dataclass
class GgufFile:
    path: Path
    version: int
    metadata: dict[str, Any] = field(default_factory=dict)
    tensors: list[GgufTensor] = field(default_factory=list)
    data_offset: int = 0

    @property
    def architecture(self) -> str | None:
        arch = self.metadata.get("general.architecture")
        return arch if isinstance(arch, str) else None


class _Reader:
    def __init__(self, fh: BinaryIO, size: int, path: Path) -> None:
        self.fh, self.size, self.path = fh, size, path

    def bad(self, what: str) -> ModelFormatError:
        return ModelFormatError(what, where=str(self.path), hint="re-download or re-convert the GGUF file")

    def read(self, n: int) -> bytes:
        if n > self.size - self.fh.tell():
            raise self.bad(f"truncated GGUF header: needs {n} more bytes at offset {self.fh.tell()} of {self.size}")
        return self.fh.read(n)

    def unpack(self, fmt: str) -> Any:
        return struct.unpack(fmt, self.read(struct.calcsize(fmt)))[0]

    def string(self) -> str:
        n = self.unpack("<Q")
        try:
            return self.read(n).decode("utf-8")
        except UnicodeDecodeError:
            raise self.bad(f"invalid UTF-8 string at offset {self.fh.tell() - n}") from None

    def count(self, n: int, min_item_bytes: int, what: str) -> int:
        if n * min_item_bytes > self.size - self.fh.tell():
            raise self.bad(f"{what} {n} needs more bytes than the {self.size}-byte file holds: it is truncated or corrupt")
        return n

    def value(self, vtype: int, depth: int = 0) -> Any:
        if vtype in _SCALARS:
            return self.unpack(_SCALARS[vtype])
        if vtype == 8:
            return self.string()
        if vtype == 9 and depth == 0:
            etype = self.unpack("<I")
            n = self.count(self.unpack("<Q"), 1, "metadata array length")
            if etype in _SCALARS and n > _KEEP_ARRAY_MAX:  # skip in one seek
                sz = struct.calcsize(_SCALARS[etype])
                if n * sz > self.size - self.fh.tell():
                    raise self.bad(f"truncated GGUF header: metadata array of {n} items runs past the end of the file")
                self.fh.seek(n * sz, os.SEEK_CUR)
                return {"array_length": n}
            items = [self.value(etype, depth + 1) for _ in range(n)]
            return items if n <= _KEEP_ARRAY_MAX else {"array_length": n}
        raise self.bad(f"unknown GGUF metadata value type {vtype}")


def read_gguf(path: str | os.PathLike) -> GgufFile:
    """Parse and validate the GGUF header of ``path``."""
    path = Path(path)
    try:
        size = path.stat().st_size
        fh = open(path, "rb")
    except FileNotFoundError:
        raise ModelFormatError("GGUF file not found", where=str(path), hint="check the path") from None
    with fh:
        r = _Reader(fh, size, path)
        if size < 24:
            raise r.bad(f"truncated GGUF file: {size} bytes")
        if r.read(4) != b"GGUF":
            raise r.bad("not a GGUF file (bad magic)")
        version = r.unpack("<I")
        if version not in (2, 3):
            raise r.bad(f"unsupported GGUF version {version} (benchseal reads versions 2 and 3)")
        n_tensors = r.count(r.unpack("<Q"), 8 + 4 + 8 + 4 + 8, "tensor count")
        n_kv = r.count(r.unpack("<Q"), 8 + 4 + 1, "metadata count")
        meta: dict[str, Any] = {}
        for _ in range(n_kv):
            key = r.string()
            meta[key] = r.value(r.unpack("<I"))
        infos = []
        for _ in range(n_tensors):
            name = r.string()
            n_dims = r.unpack("<I")
            if n_dims > 8:
                raise r.bad(f"tensor '{name}' has {n_dims} dimensions (GGML allows at most 4)")
            dims = struct.unpack(f"<{n_dims}Q", r.read(8 * n_dims))
            tid = r.unpack("<I")
            offset = r.unpack("<Q")
            infos.append((name, dims, tid, offset))
        alignment = meta.get("general.alignment", 32)
        if not isinstance(alignment, int) or alignment <= 0:
            raise r.bad(f"invalid general.alignment {alignment!r}")
        data_offset = -(-fh.tell() // alignment) * alignment
    out = GgufFile(path, version, meta, [], data_offset)
    spans = []
    for name, dims, tid, offset in infos:
        if tid not in GGML_TYPES:
            raise r.bad(f"tensor '{name}' has unknown GGML type {tid}")
        tname, block, block_bytes = GGML_TYPES[tid]
        numel = 1
        for d in dims:
            numel *= d
        if dims and dims[0] % block:
            raise r.bad(f"tensor '{name}' row length {dims[0]} is not a multiple of the {tname} block size {block}")
        nbytes = numel // block * block_bytes
        if data_offset + offset + nbytes > size:
            raise r.bad(f"tensor '{name}' data [{offset}, {offset + nbytes}) is out of bounds of the file (truncated?)")
        spans.append((offset, offset + nbytes, name))
        out.tensors.append(GgufTensor(name, tname, tuple(dims), numel, offset, nbytes))
    spans.sort()
    prev_end, prev = 0, None
    for begin, end, name in spans:
        if begin < prev_end:
            raise r.bad(f"tensors '{prev}' and '{name}' have overlapping data")
        if end > begin:
            prev_end, prev = end, name
    return out
