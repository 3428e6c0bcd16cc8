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


# Bounds on what an input file may hold: far above any real config, bundle file or header, far below
# what exhausts memory or the stack. Every reader below raises ConfigError (exit 2) past them.
MAX_YAML_BYTES = 64 << 20
MAX_NESTING = 100  # YAML/JSON nesting depth; configs nest under 10
MAX_INT_DIGITS = 64  # 10^64 is beyond any count, size or digest benchseal reads as a number
MAX_YAML_NODES = 2_000_000  # nodes after expanding aliases (a "billion laughs" expands to 10^9)


def require_regular_file(path: str | os.PathLike, what: str = "file") -> Path:
    """``path`` as a Path when it is a regular file (a symlink to one is fine); a directory, FIFO,
    device or socket raises ConfigError without being opened (so /dev/zero or a FIFO cannot hang or
    exhaust memory)."""
    import stat

    path = Path(path)
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        raise ConfigError(f"{what} not found", where=str(path)) from None
    except OSError as exc:
        raise ConfigError(f"{what} cannot be read: {exc.strerror}", where=str(path)) from None
    if stat.S_ISDIR(mode):
        raise ConfigError(f"{what} path is a directory, not a file", where=str(path), hint="pass the file itself")
    if not stat.S_ISREG(mode):
        raise ConfigError(f"{what} path is not a regular file (a FIFO, device or socket)", where=str(path),
                          hint="pass a regular file")
    return path


def _bounded_int(text: str) -> int:
    if len(text.lstrip("-")) > MAX_INT_DIGITS:
        raise ValueError(f"an integer of {len(text)} digits (at most {MAX_INT_DIGITS} are read)")
    return int(text)


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON number")


def _depth_exceeds(obj: Any, limit: int) -> bool:
    stack = [(obj, 1)]
    while stack:
        o, d = stack.pop()
        if isinstance(o, (dict, list)):
            if d > limit:
                return True
            stack.extend((v, d + 1) for v in (o.values() if isinstance(o, dict) else o))
    return False


def read_response_bounded(resp: Any, *, limit: int, deadline_s: float, what: str) -> bytes:
    """At most ``limit`` bytes of an HTTP response body, within ``deadline_s`` seconds in all (a socket
    timeout bounds each read, not a server that drips a byte at a time). Raises TimeoutError or
    ValueError (body over the limit) with ``what`` in the message."""
    import time

    end = time.monotonic() + deadline_s
    chunks, got = [], 0
    while True:
        if time.monotonic() > end:
            raise TimeoutError(f"{what} took longer than {deadline_s:g} s")
        chunk = resp.read1(65536) if hasattr(resp, "read1") else resp.read(65536)
        if not chunk:
            return b"".join(chunks)
        got += len(chunk)
        if got > limit:
            raise ValueError(f"{what} is larger than {limit:,} bytes")
        chunks.append(chunk)


class HttpReply:
    """What :func:`http_request` got: status, headers (lower-case names), body (bounded)."""

    __slots__ = ("status", "headers", "body")

    def __init__(self, status: int, headers: dict[str, str], body: bytes) -> None:
        self.status, self.headers, self.body = status, headers, body


def http_request(url: str, *, method: str = "GET", body: bytes | None = None, headers: dict[str, str] | None = None,
                 timeout_s: float, limit: int, what: str) -> HttpReply:
    """One HTTP(S) exchange within ``timeout_s`` seconds **in all** (connect, a head that arrives a
    byte at a time, a body that drips: a watchdog shuts the socket at the deadline) and at most
    ``limit`` body bytes. Redirects are never followed (a 3xx is returned as it is), so a credential
    in ``headers`` reaches only ``url``'s own origin. Raises TimeoutError, ValueError (not an
    http(s) URL, body over the limit) or OSError / http.client.HTTPException, each naming ``what``."""
    import http.client
    import socket
    import threading
    import time
    from urllib.parse import urlsplit

    if not (isinstance(timeout_s, (int, float)) and 0 < timeout_s < float("inf")):
        raise ValueError(f"{what}: the timeout must be a positive number of seconds")
    u = urlsplit(url)
    if u.scheme not in ("http", "https") or not u.hostname:
        raise ValueError(f"{what}: not an http(s) URL")
    port = u.port  # ValueError for a port out of range
    cls = http.client.HTTPSConnection if u.scheme == "https" else http.client.HTTPConnection
    conn = cls(u.hostname, port, timeout=timeout_s)
    expired = threading.Event()

    def _shut() -> None:
        expired.set()
        sock = conn.sock
        if sock is not None:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    watchdog = threading.Timer(timeout_s, _shut)
    watchdog.daemon = True
    end = time.monotonic() + timeout_s
    watchdog.start()
    try:
        path = (u.path or "/") + (f"?{u.query}" if u.query else "")
        conn.request(method, path, body=body, headers=headers or {})
        if expired.is_set():
            raise TimeoutError
        resp = conn.getresponse()
        hdrs = {k.lower(): v for k, v in resp.getheaders()}
        chunks: list[bytes] = []
        got = 0
        while True:
            if time.monotonic() > end:
                raise TimeoutError
            chunk = resp.read1(65536)
            if not chunk:
                break
            got += len(chunk)
            if got > limit:
                raise ValueError(f"{what} is larger than {limit:,} bytes")
            chunks.append(chunk)
        if expired.is_set():
            raise TimeoutError
        if getattr(resp, "length", None):  # Content-Length promised more than arrived (read1 does not say)
            raise http.client.IncompleteRead(b"".join(chunks), resp.length)
        return HttpReply(resp.status, hdrs, b"".join(chunks))
    except (OSError, http.client.HTTPException) as exc:
        if expired.is_set() or time.monotonic() >= end or isinstance(exc, (TimeoutError, socket.timeout)):
            raise TimeoutError(f"{what} took longer than {timeout_s:g} s (no complete response)") from None
        raise
    finally:
        watchdog.cancel()
        conn.close()


def redirect_refusal(reply: HttpReply, url: str, what: str) -> str | None:
    """A sentence when ``reply`` is a redirect (never followed, so no credential goes elsewhere), else None."""
    if not 300 <= reply.status < 400:
        return None
    from urllib.parse import urlsplit, urljoin

    loc = reply.headers.get("location", "")
    try:
        a, b = urlsplit(url), urlsplit(urljoin(url, loc))
        same = (a.scheme, a.hostname, a.port) == (b.scheme, b.hostname, b.port)
    except ValueError:
        same = False
    where = "the same origin" if same else "another origin (scheme, host or port)"
    return (f"{what} answered a redirect (HTTP {reply.status}) to {where}, which is not followed "
            "(no credential is sent anywhere but the URL given); give the final URL")


def parse_json_bounded(data: str | bytes, *, where: str, max_depth: int = MAX_NESTING, error: type = ConfigError,
                       constants: bool = False) -> Any:
    """JSON from UTF-8 text (no byte-order mark, no UTF-16), with bounded nesting and integer size,
    and (unless ``constants``) no NaN/Infinity; every violation raises ``error`` (a ConfigError
    subclass) naming ``where``."""
    if isinstance(data, (bytes, bytearray)):
        if data[:2] in (b"\xff\xfe", b"\xfe\xff"):
            raise error("JSON is UTF-16, not UTF-8", where=where, hint="write the file as UTF-8")
        try:
            data = bytes(data).decode("utf-8")
        except UnicodeDecodeError as exc:
            raise error(f"JSON is not UTF-8 text ({exc.reason} at byte {exc.start})", where=where) from None
    if data.startswith("\ufeff"):
        raise error("JSON starts with a UTF-8 byte-order mark", where=where, hint="write the file as UTF-8 without BOM")
    try:
        obj = json.loads(data, parse_int=_bounded_int, **({} if constants else {"parse_constant": _no_constant}))
    except json.JSONDecodeError as exc:
        raise error(f"invalid JSON at line {exc.lineno} column {exc.colno}: {exc.msg}", where=where) from None
    except RecursionError:
        raise error("JSON is nested too deeply", where=where) from None
    except ValueError as exc:
        raise error(f"invalid JSON: {exc}", where=where) from None
    if _depth_exceeds(obj, max_depth):
        raise error(f"JSON is nested more than {max_depth} levels deep", where=where)
    return obj


def read_json(path: str | os.PathLike, *, max_depth: int = MAX_NESTING, constants: bool = True) -> Any:
    """A JSON file (a regular file, UTF-8, bounded as :func:`parse_json_bounded`; NaN/Infinity are
    read unless ``constants=False``, as lm-eval writes them)."""
    path = require_regular_file(path)
    with open(path, "rb") as fh:
        raw = fh.read()
    return parse_json_bounded(raw, where=str(path), max_depth=max_depth, constants=constants)


class JsonlWriter:
    """Append-only JSONL writer: one object per line, flushed after every line.

    With ``per_loop_turn=True`` (the perf hot path), :meth:`write_model` called on a running event
    loop buffers its line and flushes every line of the loop turn at once, in a callback queued with
    ``call_soon``: it runs before any I/O callback of the next turn, so every record of a completed
    request reaches the file before the client reads another byte, with one ``write`` system call per
    turn instead of one per record (docs/PERFORMANCE.md). :meth:`close` flushes what is pending."""

    def __init__(self, path: str | os.PathLike, *, append: bool = False, per_loop_turn: bool = False) -> None:
        self.path = Path(path)
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._fh = open(self.path, "a" if append else "w", encoding="utf-8")
        self.count = 0
        self._per_turn = per_loop_turn
        self._pending: list[str] = []
        self._queued = False

    def write(self, obj: Any) -> None:
        if self._pending:
            self._flush_pending()  # lines stay in call order
        self._fh.write(json.dumps(to_jsonable(obj), ensure_ascii=False, allow_nan=False) + "\n")
        self._fh.flush()
        self.count += 1

    def write_model(self, model: BaseModel) -> None:
        """One pydantic model as a line, through pydantic's own JSON serialiser (about 10x faster
        than :meth:`write` for a request record: the perf hot path). The same values with compact
        spacing, except that a non-finite float is written as null (unknown) where :meth:`write`
        refuses it."""
        line = model.model_dump_json() + "\n"
        self.count += 1
        if not self._per_turn:
            self._fh.write(line)
            self._fh.flush()
            return
        self._pending.append(line)
        if self._queued:
            return
        import asyncio  # io stays importable without it at start-up; imported once, on the first record

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:  # no running loop: written now
            self._flush_pending()
            return
        loop.call_soon(self._flush_pending)
        self._queued = True

    def _flush_pending(self) -> None:
        self._queued = False
        if self._pending and not self._fh.closed:
            lines, self._pending = self._pending, []
            self._fh.write("".join(lines))
            self._fh.flush()

    def close(self) -> None:
        if not self._fh.closed:
            self._flush_pending()
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


def _yaml_bounds(node: Any, where: str) -> None:
    """Reject a composed YAML graph that nests deeper than MAX_NESTING, expands (aliases followed)
    to more than MAX_YAML_NODES nodes, or holds an integer of more than MAX_INT_DIGITS digits."""
    import yaml

    sizes: dict[int, int] = {}
    stack: list[tuple[Any, int, bool]] = [(node, 1, False)]
    while stack:
        n, depth, done = stack.pop()
        if depth > MAX_NESTING:
            raise ConfigError(f"YAML is nested more than {MAX_NESTING} levels deep", where=where)
        if isinstance(n, yaml.ScalarNode):
            if n.tag == "tag:yaml.org,2002:int" and len(n.value.lstrip("+-").replace("_", "")) > MAX_INT_DIGITS:
                raise ConfigError(f"YAML holds an integer of {len(n.value)} digits (at most {MAX_INT_DIGITS} are read)",
                                  where=where)
            sizes[id(n)] = 1
            continue
        children = [c for kv in n.value for c in kv] if isinstance(n, yaml.MappingNode) else list(n.value)
        if done:
            total = 1 + sum(sizes.get(id(c), 1) for c in children)
            if total > MAX_YAML_NODES:
                raise ConfigError(f"YAML expands to more than {MAX_YAML_NODES:,} nodes (aliases repeated: a 'billion "
                                  "laughs' document)", where=where, hint="write the values out instead of nesting aliases")
            sizes[id(n)] = total
        elif id(n) not in sizes:
            sizes[id(n)] = 1  # a cycle (a recursive alias) counts once while it is being sized
            stack.append((n, depth, True))
            stack.extend((c, depth + 1, False) for c in children if id(c) not in sizes)


_YAML12_INT = r"[-+]?(0|[1-9][0-9]*)|0x[0-9a-fA-F]+"  # 0777 is 511 in YAML 1.1 and 777 in 1.2: refused
_YAML12_FLOAT = r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?|[-+]?\.(inf|Inf|INF)|\.(nan|NaN|NAN)"
_YAML12_BOOL = r"true|True|TRUE|false|False|FALSE"


def _yaml_strict(node: Any, where: str) -> None:
    """Refuse what reads differently, or silently, in a hand-written config: a key given twice in one
    mapping (PyYAML keeps the last), and a plain scalar that YAML 1.1 resolves to a number, boolean or
    date while YAML 1.2 reads it as text or another number (``1:30`` = 90, ``0777`` octal, ``1_000``,
    ``yes``/``no``/``on``/``off``, ``2024-01-01``). A plain ``3.0e3`` (text to YAML 1.1, a number to
    YAML 1.2) is read as the number."""
    import re

    import yaml

    forms = {"tag:yaml.org,2002:int": _YAML12_INT, "tag:yaml.org,2002:float": _YAML12_FLOAT,
             "tag:yaml.org,2002:bool": _YAML12_BOOL}
    stack = [node]
    seen: set[int] = set()
    while stack:
        n = stack.pop()
        if id(n) in seen:
            continue
        seen.add(id(n))
        if isinstance(n, yaml.ScalarNode):
            plain = not n.style  # None (PyYAML) or '' (libyaml) for a plain scalar
            if plain and n.tag == "tag:yaml.org,2002:str" and re.fullmatch(r"[-+]?([0-9]+(\.[0-9]*)?|\.[0-9]+)[eE][-+]?[0-9]+", n.value):
                n.tag = "tag:yaml.org,2002:float"  # 3.0e3: a number in YAML 1.2, text to PyYAML's YAML 1.1
                continue
            if plain and (n.tag in forms and not re.fullmatch(forms[n.tag], n.value)
                          or n.tag == "tag:yaml.org,2002:timestamp"):
                line = n.start_mark.line + 1 if n.start_mark else "?"
                raise ConfigError(f"line {line}: {n.value[:40]!r} is a YAML 1.1 form (read as a {n.tag.rsplit(':', 1)[-1]} "
                                  "by YAML 1.1 and differently by YAML 1.2)", where=where,
                                  hint="write a plain decimal number, true/false, or quote the text")
        elif isinstance(n, yaml.MappingNode):
            keys: set[str] = set()
            for k, v in n.value:
                if isinstance(k, yaml.ScalarNode):
                    if k.value in keys:
                        raise ConfigError(f"line {k.start_mark.line + 1}: key {k.value[:40]!r} appears twice in one "
                                          "mapping (the last would silently win)", where=where, hint="keep one of them")
                    keys.add(k.value)
                stack.extend((k, v))
        elif isinstance(n, yaml.SequenceNode):
            stack.extend(n.value)


def load_yaml(path: str | os.PathLike, *, strict: bool = False) -> Any:
    """A YAML file (a regular file, UTF-8, safe tags only), bounded: size, nesting, aliases, integers.
    ``strict`` (program files) also refuses duplicate keys and YAML 1.1 forms (:func:`_yaml_strict`)."""
    import yaml

    path = require_regular_file(path)
    size = path.stat().st_size
    if size > MAX_YAML_BYTES:
        raise ConfigError(f"YAML file of {size:,} bytes is larger than the {MAX_YAML_BYTES >> 20} MiB a config may be",
                          where=str(path))
    try:
        text = path.read_text(encoding="utf-8")
    except UnicodeDecodeError:
        raise ConfigError("file is not UTF-8 text", where=str(path)) from None
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)(text)  # libyaml when present: fast, depth-limited
    try:
        node = loader.get_single_node()
        if node is None:
            return None
        _yaml_bounds(node, str(path))
        if strict:
            _yaml_strict(node, str(path))
        return loader.construct_document(node)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        pos = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        hint = ("only plain YAML tags are read (no !!python/...)" if "tag" in str(problem) else "fix the YAML syntax")
        raise ConfigError(f"malformed YAML{pos}: {problem}", where=str(path), hint=hint) from None
    except RecursionError:
        raise ConfigError("YAML is nested too deeply", where=str(path)) from None
    except ValueError as exc:  # e.g. an integer beyond Python's conversion limit in a key
        raise ConfigError(f"YAML value cannot be read: {exc}", where=str(path)) from None
    finally:
        loader.dispose()


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
