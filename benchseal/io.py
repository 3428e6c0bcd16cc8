"""Small, dependency-light I/O helpers shared by every component.

- JSON files are written atomically (temp file + rename), so nothing is half-written.
- JSONL streams are appended line by line and flushed, so a crash loses nothing already measured.
- YAML/JSON configs are validated into pydantic models with one clear error message.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any, Callable, Iterator, TypeVar

from pydantic import BaseModel, ValidationError

from benchseal.errors import ConfigError

M = TypeVar("M", bound=BaseModel)


def to_jsonable(obj: Any) -> Any:
    if isinstance(obj, BaseModel):
        return obj.model_dump(mode="json")
    return obj


def dumps(obj: Any, *, indent: int | None = 2) -> str:
    return json.dumps(to_jsonable(obj), indent=indent, ensure_ascii=False, sort_keys=False, allow_nan=False)


def write_bytes_atomic(path: str | os.PathLike, data: bytes, *, mode: int = 0o644) -> Path:
    """The one atomic write: a temp file in the same folder (created 0600, so a key is never
    world-readable, then set to ``mode``), fsync, rename over ``path``. A crash leaves the old file
    or the new one, never half of one."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def write_json(path: str | os.PathLike, obj: Any, *, indent: int | None = 2) -> Path:
    """Write JSON atomically (:func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, (dumps(obj, indent=indent) + "\n").encode("utf-8"))


def write_text(path: str | os.PathLike, text: str) -> Path:
    """Write UTF-8 text atomically (:func:`write_bytes_atomic`)."""
    return write_bytes_atomic(path, text.encode("utf-8"))


def read_json(path: str | os.PathLike) -> Any:
    path = Path(path)
    try:
        with open(path, encoding="utf-8") as fh:
            return json.load(fh)
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except json.JSONDecodeError as exc:
        raise ConfigError(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", where=str(path)) from None


class JsonlWriter:
    """Append-only JSONL writer: one object per line, flushed after every line."""

    def __init__(self, path: str | os.PathLike, *, append: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a" if append else "w", encoding="utf-8")
        self.count = 0

    def write(self, obj: Any) -> None:
        self._fh.write(json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False) + "\n")
        self._fh.flush()
        self.count += 1

    def close(self) -> None:
        if not self._fh.closed:
            self._fh.flush()
            os.fsync(self._fh.fileno())
            self._fh.close()

    def __enter__(self) -> "JsonlWriter":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def iter_jsonl(path: str | os.PathLike) -> Iterator[Any]:
    path = Path(path)
    with open(path, encoding="utf-8") as fh:
        for lineno, line in enumerate(fh, 1):
            line = line.strip()
            if not line:
                continue
            try:
                yield json.loads(line)
            except json.JSONDecodeError as exc:
                raise ConfigError(f"invalid JSON on line {lineno}: {exc.msg}", where=str(path)) from None


def format_validation_error(exc: ValidationError) -> str:
    parts = []
    for err in exc.errors()[:5]:
        loc = ".".join(str(p) for p in err["loc"]) or "(top level)"
        parts.append(f"{loc}: {err['msg']}")
    more = f" (and {exc.error_count() - 5} more)" if exc.error_count() > 5 else ""
    return "; ".join(parts) + more


def validate(model: type[M], data: Any, *, where: str) -> M:
    """Validate ``data`` into ``model``; raise ConfigError naming the file and fields on failure."""
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"invalid {model.__name__}: {format_validation_error(exc)}", where=where) from None


def load_yaml(path: str | os.PathLike) -> Any:
    import yaml

    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError("file not found", where=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", where=str(path)) from None
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise ConfigError(f"malformed YAML{pos}: {problem}", where=str(path), hint="fix the YAML syntax") from None


def load_yaml_model(model: type[M], path: str | os.PathLike) -> M:
    """Load a YAML file and validate it into ``model``."""
    data = load_yaml(path)
    if data is None:
        raise ConfigError("file is empty", where=str(path))
    return validate(model, data, where=str(path))


def sha256_file(path: str | os.PathLike, *, block: int = 8 << 20, on_bytes: Callable[[int], None] | None = None) -> str:
    """The one sha256 of a file: read in ``block``-sized chunks into one reused buffer
    (``on_bytes(n)`` after each chunk, for progress bars)."""
    import hashlib

    h = hashlib.sha256()
    buf = bytearray(block)
    view = memoryview(buf)
    with open(path, "rb", buffering=0) as fh:
        while n := fh.readinto(buf):
            h.update(view[:n])
            if on_bytes:
                on_bytes(n)
    return h.hexdigest()
