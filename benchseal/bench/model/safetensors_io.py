"""Read safetensors *headers* only (never tensor data) and validate them.

Format (https://github.com/huggingface/safetensors): 8 bytes little-endian unsigned header length N,
then N bytes of UTF-8 JSON ``{name: {"dtype", "shape", "data_offsets": [begin, end]}, "__metadata__": {...}}``,
then the byte buffer; offsets are relative to the start of the buffer (byte 8 + N).

Every defect is a :class:`~benchseal.errors.ModelFormatError` naming the file: truncated file, header
length beyond the file or absurd (never allocated), invalid JSON, unknown dtype, shape and byte size
disagreeing, offsets out of bounds or overlapping, a shard named by an index that is missing.
"""

from __future__ import annotations

import json
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import NamedTuple

from benchseal.errors import ModelFormatError

# Same limit as the safetensors reference implementation (100 MB): anything larger is refused
# before a single byte of it is read or allocated.
MAX_HEADER_BYTES = 100_000_000
MAX_DIMS = 16  # tensors have at most a handful of dimensions
MAX_ELEMENTS = 1 << 64  # more elements than any file of u64 offsets can hold

# dtype -> bits per element (safetensors Dtype enum, incl. sub-byte float formats).
DTYPE_BITS: dict[str, int] = {
    "BOOL": 8, "U8": 8, "I8": 8, "F8_E5M2": 8, "F8_E4M3": 8, "F8_E4M3FNUZ": 8, "F8_E5M2FNUZ": 8,
    "F8_E8M0": 8, "I16": 16, "U16": 16, "F16": 16, "BF16": 16, "I32": 32, "U32": 32, "F32": 32,
    "F64": 64, "I64": 64, "U64": 64, "C64": 64, "F4": 4, "F6_E2M3": 6, "F6_E3M2": 6,
}

_HINT_REDOWNLOAD = "re-download or re-export the file (e.g. with save_pretrained(safe_serialization=True))"


class TensorInfo(NamedTuple):
    name: str
    dtype: str
    shape: list[int]
    numel: int
    file: str  # file name relative to the model root


@dataclass
class SafetensorsFile:
    path: Path
    header_bytes: int
    data_bytes: int
    metadata: dict[str, str] = field(default_factory=dict)
    tensors: list[TensorInfo] = field(default_factory=list)


def _bad(what: str, path: Path, hint: str = _HINT_REDOWNLOAD) -> ModelFormatError:
    return ModelFormatError(what, where=str(path), hint=hint)


def read_header(path: str | os.PathLike, *, rel: str | None = None) -> SafetensorsFile:
    """Read and validate the header of one .safetensors file (at most 8 + N bytes are read)."""
    path = Path(path)
    rel = rel or path.name
    try:
        size = path.stat().st_size
        with open(path, "rb") as fh:
            head = fh.read(8)
            if len(head) < 8:
                raise _bad(f"truncated safetensors file: {size} bytes, fewer than the 8-byte header length", path)
            (n,) = struct.unpack("<Q", head)
            if n > MAX_HEADER_BYTES:
                raise _bad(f"absurd safetensors header length {n} bytes (limit {MAX_HEADER_BYTES}); not a safetensors file or corrupt", path)
            if 8 + n > size:
                raise _bad(f"safetensors header length {n} bytes is beyond the file size ({size} bytes); the file is truncated", path)
            raw = fh.read(n)
    except FileNotFoundError:
        raise ModelFormatError("weight file not found", where=str(path), hint="check the path") from None
    except IsADirectoryError:
        raise ModelFormatError("expected a .safetensors file, found a directory", where=str(path)) from None
    if len(raw) < n:  # the file shrank while reading
        raise _bad("truncated safetensors header", path)
    header = _parse_header(raw, path)
    if not isinstance(header, dict):
        raise _bad("safetensors header is not a JSON object", path)

    def bad(what: str, hint: str = _HINT_REDOWNLOAD) -> ModelFormatError:
        _strict(raw, path)  # the bounded parser's own error first (as when it parsed every header)
        return _bad(what, path, hint)

    data_bytes = size - 8 - n
    meta = header.pop("__metadata__", None) or {}
    if not isinstance(meta, dict):
        raise bad("safetensors __metadata__ is not a JSON object")
    if not all(type(v) is str for v in meta.values()):
        _strict(raw, path)  # nested or numeric metadata: let the bounded parser judge depth and integer size
    tensors: list[TensorInfo] = []
    append = tensors.append
    spans: list[tuple[int, int, str]] = []
    bits_of = DTYPE_BITS.get
    new = tuple.__new__  # TensorInfo(...) without the generated __new__'s Python frame (~92,000 calls on a 671B checkpoint)
    for name, info in header.items():
        try:
            dtype = info["dtype"]
            shape = info["shape"]
            begin, end = info["data_offsets"]
        except (KeyError, TypeError, ValueError):
            raise bad(f"tensor '{name}' lacks dtype, shape or data_offsets [begin, end]") from None
        if len(info) != 3 and any(isinstance(v, (dict, list, int, float)) for k, v in info.items()
                                  if k not in ("dtype", "shape", "data_offsets")):
            _strict(raw, path)  # extra fields: the bounded parser judges their depth and integer size
        bits = bits_of(dtype) if type(dtype) is str else None
        if bits is None:
            raise bad(f"tensor '{name}' has unknown dtype {dtype!r}",
                      hint=f"known dtypes: {', '.join(DTYPE_BITS)}; upgrade benchseal if this is a new safetensors dtype")
        if type(shape) is not list or len(shape) > MAX_DIMS:
            raise bad(f"tensor '{name}' has an invalid shape {str(shape)[:80]}")
        numel = 1
        for d in shape:
            if type(d) is not int or d < 0 or d > MAX_ELEMENTS:
                if type(d) is int and d > MAX_ELEMENTS:
                    raise bad(f"tensor '{name}' shape {str(shape)[:80]} has more elements than any file can hold "
                              "(the element count overflows)")
                raise bad(f"tensor '{name}' has an invalid shape {str(shape)[:80]}")
            numel *= d
        if numel > MAX_ELEMENTS:
            raise bad(f"tensor '{name}' shape {str(shape)[:80]} has more elements than any file can hold "
                      "(the element count overflows)")
        if type(begin) is not int or type(end) is not int or begin < 0 or end < begin:
            raise bad(f"tensor '{name}' has invalid data_offsets {[begin, end]!r}")
        nbits = numel * bits
        if nbits % 8 or nbits // 8 != end - begin:
            raise bad(f"tensor '{name}' shape {shape} of {dtype} needs {nbits / 8:g} bytes but its data_offsets span {end - begin}")
        if end > data_bytes:
            raise bad(f"tensor '{name}' data_offsets [{begin}, {end}] are out of bounds: the data section has {data_bytes} bytes (file truncated?)")
        spans.append((begin, end, name))
        append(new(TensorInfo, (name, dtype, shape, numel, rel)))
    spans.sort()
    prev_end, prev_name = 0, None
    for begin, end, name in spans:
        if begin < prev_end:
            raise bad(f"tensors '{prev_name}' and '{name}' have overlapping data_offsets")
        if end > begin:
            prev_end, prev_name = end, name
    return SafetensorsFile(path, n, data_bytes, {str(k): str(v) for k, v in meta.items()}, tensors)


def _parse_header(raw: bytes, path: Path) -> dict:
    """The header JSON: UTF-8 without BOM, nesting of at most 3 levels (name -> info -> shape), no
    integer over 20 digits (offsets are u64), no NaN/Infinity.

    Fast path: the C parser with no per-value callbacks (a 671B checkpoint has ~370,000 integers in its
    headers). Whatever it cannot vouch for, :func:`read_header` checks by structure (shapes and offsets
    are lists of bounded ints, metadata values strings); anything else, and every error, goes through
    the bounded parser (:func:`_strict`), so a bad header gets the same error as before."""
    if raw[:3] == b"\xef\xbb\xbf" or raw[:2] in (b"\xff\xfe", b"\xfe\xff"):
        _strict(raw, path)
    try:
        return json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):  # UnicodeDecodeError and JSONDecodeError are ValueErrors
        _strict(raw, path)
        raise _bad("invalid safetensors header", path) from None  # pragma: no cover - _strict raises first


def _no_constant(name: str) -> object:
    raise ValueError(f"{name} is not a JSON number")


def _strict(raw: bytes, path: Path) -> dict:
    """The header through the bounded parser (benchseal.io.parse_json_bounded): raises its error, if any."""
    from benchseal.io import parse_json_bounded

    try:
        return parse_json_bounded(raw, where=str(path), max_depth=4, error=ModelFormatError)
    except ModelFormatError as exc:
        raise _bad(f"invalid safetensors header: {exc.what}", path) from None


def shard_name_ok(name: object) -> bool:
    """A shard file name an index may give: a plain relative path that stays in the model directory."""
    from pathlib import PurePosixPath

    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    p = PurePosixPath(name)
    return not p.is_absolute() and all(part not in ("", ".", "..") for part in p.parts) and p.as_posix() == name


def check_shard_names(root: Path, names: list[str], index: Path) -> None:
    """Every shard an index names stays inside ``root`` (no absolute path, no '..', no symlink out)."""
    bad = [n for n in names if not shard_name_ok(n)]
    if not bad:
        real = root.resolve()
        bad = [n for n in names if not (root / n).resolve().is_relative_to(real)]
    if bad:
        raise ModelFormatError(f"the checkpoint index names shard file(s) outside the model directory: "
                               f"{', '.join(repr(b) for b in bad[:3])}", where=str(index),
                               hint="an index may name only files in its own directory; fix or re-download it")


def read_index(path: str | os.PathLike) -> dict[str, str]:
    """The ``weight_map`` (tensor name -> shard file) of a ``*.safetensors.index.json``: not empty,
    every shard a file name inside the model directory."""
    from benchseal.errors import ConfigError
    from benchseal.io import read_json

    path = Path(path)
    try:
        data = _fast_index(path)
        if data is None:
            data = read_json(path, max_depth=8, constants=False)
    except ConfigError as exc:
        raise _bad(f"invalid checkpoint index: {exc.what}", path) from None
    wm = data.get("weight_map") if isinstance(data, dict) else None
    if not isinstance(wm, dict) or not all(isinstance(v, str) for v in wm.values()):
        raise _bad("checkpoint index has no 'weight_map' object of tensor name -> shard file", path)
    if not wm:
        raise _bad("checkpoint index has an empty 'weight_map': it names no tensor", path)
    check_shard_names(path.parent, sorted(set(wm.values())), path)
    return wm


def _fast_index(path: Path) -> dict | None:
    """The index JSON by the C parser alone when its shape is the usual one (an object whose values are
    scalars or objects of scalars: metadata, weight_map), else None (the bounded reader decides)."""
    from benchseal.io import MAX_INT_DIGITS, require_regular_file

    with open(require_regular_file(path), "rb") as fh:
        raw = fh.read()
    if raw[:3] == b"\xef\xbb\xbf":
        return None
    try:
        data = json.loads(raw.decode("utf-8"), parse_constant=_no_constant)
    except (ValueError, RecursionError):
        return None
    if not isinstance(data, dict):
        return None
    limit = 10 ** MAX_INT_DIGITS
    for v in data.values():
        for x in (v.values() if isinstance(v, dict) else (v,)):
            if isinstance(x, (dict, list)) or (type(x) is int and abs(x) >= limit):
                return None
    return data


def read_checkpoint(root: Path, files: list[str], index: str | None = None) -> list[SafetensorsFile]:
    """Read every shard header of a checkpoint; with an index, check it names existing shards and tensors."""
    if index is not None:
        wm = read_index(root / index)
        shards = sorted(set(wm.values()))
        for shard in shards:
            if not (root / shard).is_file():
                raise ModelFormatError(
                    f"shard '{shard}' named in the checkpoint index is missing",
                    where=str(root / index),
                    hint="download the missing shard or fix the index",
                )
        files = shards
    out = [read_header(root / f, rel=f) for f in files]
    seen = {t.name: t.file for sf in out for t in sf.tensors}
    if len(seen) != sum(len(sf.tensors) for sf in out):  # a name stored twice (names are unique within one header)
        seen = {}
        for sf in out:
            for t in sf.tensors:
                if seen.setdefault(t.name, t.file) != t.file:
                    raise ModelFormatError(
                        f"tensor '{t.name}' is stored twice, in '{seen[t.name]}' and '{t.file}'", where=str(root),
                        hint="remove stale shards from the directory",
                    )
    if index is not None and seen != wm:  # equal: every name maps to its shard (the usual case, compared in C)
        for name, shard in wm.items():
            if seen.get(name) != shard:
                raise ModelFormatError(
                    f"the checkpoint index maps tensor '{name}' to '{shard}' but that shard does not hold it",
                    where=str(root / index),
                    hint="re-download the checkpoint; the index and shards come from different versions",
                )
    return out
