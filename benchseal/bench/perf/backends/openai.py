"""The ``openai`` backend: any OpenAI-compatible server, streamed ``/v1/completions`` or
``/v1/chat/completions`` (vLLM, SGLang, ``transformers serve``, vendor endpoints).

Timing (all ``time.perf_counter`` seconds relative to the load point's ``t0``):

- ``send_s``: just before a pooled connection is taken (a new TCP/TLS connect is included in TTFT,
  as in vLLM ``bench serve``);
- ``chunk_s``: the moment the bytes of each event carrying non-empty text reached Python
  (``Protocol.data_received``); events without text (role-only, usage-only, finish-only) are not
  chunks, so they add no inter-token gap;
- ``first_token_s = chunk_s[0]``; ``end_s``: the end of the HTTP response (or ``[DONE]``).

The API key is read from the environment variable named by ``api_key_env`` at construction, kept
in memory only, and never put in a record, a log line, an error message or ``endpoint``.
"""

from __future__ import annotations

import asyncio
import json
import os
import time
from typing import Any, Callable, Literal
from urllib.parse import urlsplit

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.sse import SSEDecoder, SSEError
from benchseal.bench.perf.backends.transport import (
    ConnectionPool,
    Exchange,
    HttpProtocolError,
    ResponseTruncated,
    build_request,
    fetch,
)
from benchseal.bench.perf.server_metrics import per_request_timing
from benchseal.errors import ServerError, UsageError
from benchseal import redact
from benchseal.redact import redact_url
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
_PATHS = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}
_ERR_BODY_MAX = 300
_PAYLOAD_CACHE_MAX = 65536


MAX_JSON_DEPTH = 64  # nesting of one event or error body
MAX_EVENTS = 1 << 20  # events in one response
MAX_TOKEN_COUNT = 1 << 53  # a usage count above this is not a token count
_ERR_BODY_KEEP = 65536  # bytes of an error body kept for its message
_ERR_KEEP_CHARS = 4096  # characters of server text kept in an error until secrets are scrubbed (then clipped)


class MalformedEvent(ValueError):
    """An event of the stream cannot be used (not JSON, too deep, a field of the wrong type)."""


def _depth_ok(text: str | bytes, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether the JSON ``text`` nests at most ``limit`` arrays/objects. Cheap for ordinary events:
    only a text with more than ``limit`` brackets is scanned (strings are skipped)."""
    if isinstance(text, bytes):
        if text.count(b"[") + text.count(b"{") <= limit:
            return True
        text = text.decode("utf-8", "replace")
    elif text.count("[") + text.count("{") <= limit:
        return True
    depth, in_str, esc = 0, False, False
    for ch in text:
        if in_str:
            if esc:
                esc = False
            elif ch == "\\":
                esc = True
            elif ch == '"':
                in_str = False
        elif ch == '"':
            in_str = True
        elif ch in "[{":
            depth += 1
            if depth > limit:
                return False
        elif ch in "]}":
            depth -= 1
    return True


def safe_json(data: bytes | str) -> Any:
    """``json.loads`` with bounded nesting (``MAX_JSON_DEPTH``) and bounded integers (Python's
    4,300-digit limit); raises ValueError for anything else, never RecursionError."""
    if not _depth_ok(data):
        raise ValueError(f"JSON nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        return json.loads(data)
    except RecursionError:
        raise ValueError("JSON nested too deeply") from None


def _error_text(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = safe_json(text)
        err = obj.get("error", obj.get("detail", obj)) if isinstance(obj, dict) else obj
        if isinstance(err, dict):
            err = err.get("message", err)
        text = str(err) if isinstance(err, (str, int, float)) else text
    except ValueError:
        pass
    return " ".join(text.split())[:_ERR_BODY_MAX]


_scan_once = json.JSONDecoder().scan_once


def _loads(payload: bytes) -> Any:
    """``json.loads`` for one SSE payload, without its per-call overhead (encoding detection,
    whitespace regexes): the C scanner parses the text directly; anything unusual (leading or
    trailing whitespace, not UTF-8) goes through ``json.loads``. Nesting is bounded first
    (``MAX_JSON_DEPTH``). Raises ValueError when not JSON."""
    if not _depth_ok(payload):
        raise ValueError(f"nested deeper than {MAX_JSON_DEPTH} levels")
    try:
        text = payload.decode()
        obj, end = _scan_once(text, 0)
    except (StopIteration, UnicodeDecodeError):
        return json.loads(payload)
    except RecursionError:
        raise ValueError("nested too deeply") from None
    if end != len(text):
        return json.loads(payload)
    return obj


def _int_or_none(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_TOKEN_COUNT else None


def _is_count(v: Any) -> bool:
    return v is None or (isinstance(v, int) and not isinstance(v, bool) and 0 <= v < MAX_TOKEN_COUNT)


def _str_or_none(v: Any) -> bool:
    return v is None or isinstance(v, str)


class _StreamExchange(Exchange):
    """Parses one streamed completion as it arrives.

    Completion is explicit: the request is complete when the stream carries ``data: [DONE]``, or
    carried a ``finish_reason`` and then ended (cleanly, or by the server closing the
    connection). Anything else fails with a cause (see ``RequestRecord.cause``)."""

    __slots__ = ("done", "status", "headers", "err_body", "err_size", "sse", "chunks", "texts", "usage", "finish",
                 "error", "cause", "end_t", "n_events", "done_seen", "final", "_chat", "metrics")

    def __init__(self, loop: asyncio.AbstractEventLoop, chat: bool) -> None:
        self.done = loop.create_future()
        self.status = 0
        self.headers: dict[str, str] = {}
        self.err_body: list[bytes] | None = None
        self.err_size = 0
        self.sse = SSEDecoder()
        self.chunks: list[float] = []
        self.texts: list[str] = []
        self.usage: dict[str, Any] | None = None
        self.metrics: Any = None  # vLLM --enable-per-request-metrics: the final chunk's "metrics" object
        self.finish: str | None = None
        self.error: str | None = None
        self.cause: str | None = None
        self.end_t: float | None = None
        self.n_events = 0
        self.done_seen = False
        self.final = False  # the outcome is decided; later callbacks change nothing
        self._chat = chat

    def _set_error(self, cause: str, message: str) -> None:
        if self.cause is None:
            self.cause = cause
            self.error = f"{cause}: {message}"

    def head(self, status, headers, t):
        if self.final:
            return
        self.status = status
        self.headers = headers
        if status != 200:
            self.err_body = []

    def body(self, data, t):
        if self.final:
            return
        if self.err_body is not None:
            if self.err_size < _ERR_BODY_KEEP:
                self.err_body.append(data[: _ERR_BODY_KEEP - self.err_size])
            self.err_size += len(data)
            return
        try:
            payloads = self.sse.feed(data)
        except SSEError as exc:
            self._set_error("malformed-event", str(exc))
            self._resolve(t)
            return
        for payload in payloads:
            self._event(payload, t)
            if self.cause is not None or self.done_seen:
                self._resolve(t)
                return

    def _event(self, payload: bytes, t: float) -> None:
        self.n_events += 1
        if self.n_events > MAX_EVENTS:
            self._set_error("malformed-event", f"more than {MAX_EVENTS} events in one response")
            return
        if payload == b"[DONE]":
            self.done_seen = True
            self.end_t = t
            return
        if not payload.strip():
            return  # an empty event carries nothing
        try:
            self._event_obj(_loads(payload), t)
        except MalformedEvent as exc:
            self._set_error("malformed-event", str(exc))
        except ValueError as exc:  # not JSON, too deep, an integer of more than 4,300 digits
            self._set_error("malformed-event", f"event is not JSON ({_clip(str(exc), 80)}): "
                                               f"{payload[:_ERR_KEEP_CHARS].decode('utf-8', 'replace')!r}")

    def _event_obj(self, obj: Any, t: float) -> None:
        if not isinstance(obj, dict):
            raise MalformedEvent("event is not a JSON object")
        err = obj.get("error")
        if err:
            msg = err.get("message", err) if isinstance(err, dict) else err
            self._set_error("stream-error", str(msg)[:_ERR_KEEP_CHARS])  # scrubbed, then clipped, by the record
            return
        usage = obj.get("usage")
        if usage is not None:
            if not isinstance(usage, dict):
                raise MalformedEvent("usage is not an object")
            for k in ("completion_tokens", "prompt_tokens"):
                if not _is_count(usage.get(k)):
                    raise MalformedEvent(f"usage.{k} is not a token count")
            if usage:
                self.usage = usage
        metrics = obj.get("metrics")  # vLLM --enable-per-request-metrics: the server's own timings
        if isinstance(metrics, dict) and metrics:
            self.metrics = metrics
        choices = obj.get("choices")
        if choices is None:
            return
        if not isinstance(choices, list):
            raise MalformedEvent("choices is not a list")
        if not choices:
            return
        c = choices[0]
        if not isinstance(c, dict):
            raise MalformedEvent("choices[0] is not an object")
        if self._chat:
            delta = c.get("delta")
            if delta is None:
                delta = {}
            elif not isinstance(delta, dict):
                raise MalformedEvent("choices[0].delta is not an object")
            content, reasoning = delta.get("content"), delta.get("reasoning_content")
            if not _str_or_none(content):
                raise MalformedEvent("choices[0].delta.content is not a string")
            if not _str_or_none(reasoning):
                raise MalformedEvent("choices[0].delta.reasoning_content is not a string")
            text = content or reasoning
        else:
            text = c.get("text")
            if not _str_or_none(text):
                raise MalformedEvent("choices[0].text is not a string")
        fin = c.get("finish_reason")
        if not _str_or_none(fin):
            raise MalformedEvent("choices[0].finish_reason is not a string")
        if text:
            self.chunks.append(t)
            self.texts.append(text)
        if fin:
            self.finish = fin

    def _incomplete(self) -> str:
        ctype = self.headers.get("content-type", "")
        what = f"after {len(self.chunks)} text events" if self.chunks else "before any text"
        msg = f"the stream ended without [DONE] or a finish_reason, {what}"
        if ctype and "text/event-stream" not in ctype.lower():
            msg += f" (Content-Type: {ctype[:_ERR_KEEP_CHARS]}, not an event stream)"
        return msg

    def end(self, t):
        if self.final:
            return
        if self.err_body is None and self.cause is None and not self.done_seen:
            try:
                payloads = self.sse.flush()
            except SSEError:
                payloads = []
            for payload in payloads:
                if payload == b"[DONE]" or not payload.strip():
                    self._event(payload, t)
                    continue
                self.n_events += 1
                try:  # a last event without its blank line: used only when it is complete JSON
                    obj = _loads(payload)
                except ValueError:
                    break
                try:
                    self._event_obj(obj, t)
                except MalformedEvent as exc:
                    self._set_error("malformed-event", str(exc))
            if self.cause is None and not self.done_seen and self.finish is None:
                self._set_error("truncated", self._incomplete())
        if self.end_t is None:
            self.end_t = t
        self._resolve(t)

    def fail(self, exc, t):
        if self.final:
            return
        if isinstance(exc, ResponseTruncated):
            if not exc.head:
                self._set_error("disconnected", str(exc))
            elif self.err_body is not None:
                pass  # the status says it all; the body so far is the message
            elif self.finish is not None and self.cause is None:
                pass  # the model had finished: the server closing afterwards loses nothing measured
            else:
                self._set_error("truncated", f"{exc}; {self._incomplete()}")
        elif isinstance(exc, HttpProtocolError):
            self._set_error("framing", str(exc))
        elif isinstance(exc, (ConnectionError, OSError)):
            self._set_error("disconnected" if not self.status else "truncated", f"{type(exc).__name__}: {exc}")
        else:
            self._set_error("client", f"{type(exc).__name__}: {exc}")
        self._resolve(t)

    def _resolve(self, t: float) -> None:
        self.final = True
        if self.end_t is None:
            self.end_t = t
        if not self.done.done():
            self.done.set_result(None)


def _clip(text: str, n: int) -> str:
    return " ".join(text.split())[:n]


def _served_models(body: bytes) -> list[str] | None:
    """The model ids of a ``/v1/models`` body, or None when the body is not the OpenAI shape (the
    listing is advisory: a gateway may not implement it)."""
    try:
        obj = safe_json(body)
    except ValueError:
        return None
    data = obj.get("data") if isinstance(obj, dict) else None
    if not isinstance(data, list):
        return None
    ids = [m.get("id") for m in data if isinstance(m, dict)]
    return [i for i in ids if isinstance(i, str) and i]


class OpenAIBackend:
    """Streaming client for an OpenAI-compatible server (see module docstring)."""

    name = "openai"

    def __init__(
        self,
        *,
        model: str,
        base_url: str = "http://127.0.0.1:8000",
        api_key_env: str | None = None,
        endpoint_kind: Literal["completions", "chat"] = "completions",
        request_timeout_s: float | None = 600.0,
        ignore_eos: bool = False,
        temperature: float | None = 0.0,
        include_usage: bool = True,
        preflight: bool = True,
        connect_timeout_s: float = 10.0,
        extra_body: dict[str, Any] | None = None,
        send_time_header: bool = False,
        count_tokens: Callable[[str], int | None] | None = None,
    ) -> None:
        if endpoint_kind not in _PATHS:
            raise UsageError(f"unknown endpoint kind '{endpoint_kind}'", hint="use 'completions' or 'chat'")
        # What a worker process needs to build the same client (the load generator's ``workers``
        # mode): the API key itself is not here, only the name of its environment variable.
        self._spec = {"model": model, "base_url": base_url, "api_key_env": api_key_env, "endpoint_kind": endpoint_kind,
                      "request_timeout_s": request_timeout_s, "ignore_eos": ignore_eos, "temperature": temperature,
                      "include_usage": include_usage, "preflight": False, "connect_timeout_s": connect_timeout_s,
                      "extra_body": dict(extra_body or {}), "send_time_header": send_time_header}
        base = base_url.rstrip("/")
        if base.endswith("/v1"):
            base = base[:-3]
        try:
            self._pool = ConnectionPool(base, connect_timeout_s=connect_timeout_s)
        except ValueError:
            raise UsageError(f"--base-url must be an http:// or https:// URL, got '{redact_url(base_url)}'") from None
        self._key: str | None = None
        u = urlsplit(base_url)
        self._secrets: list[str] = [u.password] if u.password else []
        if api_key_env:
            self._key = os.environ.get(api_key_env)
            if not self._key:
                raise UsageError(
                    f"the environment variable {api_key_env} named by --api-key-env is not set or empty",
                    hint=f"export {api_key_env}=... before running",
                )
        self.model = model
        self.endpoint_kind = endpoint_kind
        self.path = _PATHS[endpoint_kind]
        self.endpoint: str | None = redact_url(base) + self.path
        self.base_url = redact_url(base)
        self.request_timeout_s = request_timeout_s
        self.ignore_eos = ignore_eos
        self.temperature = temperature
        self.include_usage = include_usage
        self.preflight = preflight
        self.extra_body = dict(extra_body or {})
        # Tell benchseal's test server when the request left (its delays then count from that instant,
        # not from when its event loop got round to reading the request). Off for real servers.
        self.send_time_header = send_time_header
        self.count_tokens = count_tokens  # the client tokenizer's count of the output text (None: server usage only)
        self._headers = {"Content-Type": "application/json", "Accept": "text/event-stream"}
        if self._key:
            self._headers["Authorization"] = f"Bearer {self._key}"
            self._secrets.append(self._key)
        self.served_models: list[str] | None = None
        # Encoded HTTP requests by prompt: (prompt, extra, max_tokens, ignore_eos) -> bytes. The key holds
        # the objects' ids and the value keeps them alive, so an id cannot be reused while cached.
        self._payloads: dict[tuple[int, int, int, bool], tuple[Any, Any, bytes]] = {}

    # lifecycle -------------------------------------------------------------------------------
    async def start(self) -> None:
        try:
            status, body = await fetch(self._pool, "GET", "/v1/models", headers=self._auth_only(), timeout_s=10.0)
        except (OSError, asyncio.TimeoutError) as exc:
            raise ServerError(
                f"cannot connect to the server at {self.base_url}: {type(exc).__name__} {self.scrub(str(exc))}".rstrip(),
                hint="check --base-url and that the server is running",
            ) from None
        except HttpProtocolError as exc:
            raise ServerError(
                f"the server at {self.base_url} answered GET /v1/models with an invalid HTTP response: "
                f"{_clip(self.scrub(str(exc)) or '', _ERR_BODY_MAX)}",
                hint="check that --base-url points at an OpenAI-compatible HTTP server",
            ) from None
        if status in (401, 403):
            raise ServerError(f"the server at {self.base_url} refused the credentials (HTTP {status})",
                              hint="check the key in the variable named by --api-key-env")
        if status == 200:
            self.served_models = _served_models(body)
            if self.served_models and self.model not in self.served_models:
                names = self.scrub(", ".join(m[:100] for m in self.served_models[:10])) or ""
                raise UsageError(
                    f"model '{self.model}' is not served at {self.base_url} (served: {names})",
                    hint="pass --model with one of the served names",
                )
        if self.preflight:
            await self._preflight()

    async def _preflight(self) -> None:
        probe = GenRequest(request_id=-1, prompt="Hello", max_tokens=2, ignore_eos=False)
        rec = await self.send(probe, load_point="preflight", t0=perf_counter(), timeout_s=self.request_timeout_s or 60.0)
        if rec.status == "ok":
            return
        if rec.http_status is not None and 400 <= rec.http_status < 500:
            raise UsageError(f"the server at {self.endpoint} rejected a test request: {rec.error}",
                             hint="check --model, --endpoint and the server's accepted parameters")
        raise ServerError(f"a test request to {self.endpoint} failed: {rec.error}")

    async def close(self) -> None:
        self._pool.close()

    def capabilities(self) -> dict[str, Any]:
        return {
            "ignore_eos": self.ignore_eos,
            "usage": self.include_usage,
            "chat": self.endpoint_kind == "chat",
            "streaming": True,
            "client_tokenizer": self.count_tokens is not None,
        }

    def _auth_only(self) -> dict[str, str]:
        return {"Authorization": self._headers["Authorization"]} if "Authorization" in self._headers else {}

    # one request -----------------------------------------------------------------------------
    def _body(self, request: GenRequest) -> bytes:
        chat = self.endpoint_kind == "chat"
        prompt = request.prompt
        body: dict[str, Any] = {"model": self.model, "max_tokens": request.max_tokens, "stream": True}
        if chat:
            body["messages"] = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
        else:
            if not isinstance(prompt, str):
                raise ValueError("chat messages cannot be sent to the completions endpoint; use --endpoint chat")
            body["prompt"] = prompt
        if self.include_usage:
            body["stream_options"] = {"include_usage": True}
        if self.temperature is not None:
            body["temperature"] = self.temperature
        if self.ignore_eos and request.ignore_eos:
            body["ignore_eos"] = True
            body["min_tokens"] = request.max_tokens
        if self.extra_body:
            body.update(self.extra_body)
        if request.extra:
            body.update(request.extra)
        return json.dumps(body, ensure_ascii=False).encode("utf-8")

    def clone_spec(self) -> tuple[str, dict[str, Any]]:
        """(backend name, constructor options) to build this client again in a worker process."""
        return self.name, dict(self._spec)

    def prepare(self, requests: list[GenRequest]) -> None:
        """Encode every request of a workload now (called by the load generator before the load point's
        clock starts), so JSON encoding is not on the path between a scheduled arrival and its send."""
        for r in requests:
            try:
                self._payload(r)
            except ValueError:
                pass  # reported by send, as a record

    def _payload(self, request: GenRequest) -> bytes:
        key = (id(request.prompt), id(request.extra), request.max_tokens, request.ignore_eos)
        hit = self._payloads.get(key)
        if hit is not None and hit[0] is request.prompt and hit[1] is request.extra:
            return hit[2]
        data = build_request("POST", self._pool, self.path, self._body(request), self._headers)
        if len(self._payloads) >= _PAYLOAD_CACHE_MAX:
            self._payloads.clear()
        self._payloads[key] = (request.prompt, request.extra, data)
        return data

    async def send(self, request: GenRequest, *, load_point: str, t0: float, timeout_s: float | None) -> RequestRecord:
        loop = asyncio.get_running_loop()
        fields: dict[str, Any] = {
            "load_point": load_point,
            "request_id": request.request_id,
            "max_tokens": request.max_tokens,
            "prompt_tokens_client": request.prompt_tokens,
        }
        try:
            payload = self._payload(request)
        except ValueError as exc:
            return RequestRecord(send_s=perf_counter() - t0, end_s=perf_counter() - t0, status="error",
                                 error=self.scrub(f"bad-request: {exc}"), cause="bad-request", **fields)
        ex = _StreamExchange(loop, self.endpoint_kind == "chat")
        timeout = timeout_s if timeout_s is not None else self.request_timeout_s
        send_t = perf_counter()
        conn = None
        try:
            async with asyncio.timeout(timeout):
                if self.send_time_header:
                    payload = payload.replace(b"\r\n\r\n", b"\r\nX-Benchseal-Send-Time: %.9f\r\n\r\n" % send_t, 1)
                conn = await self._pool.acquire()
                reused = conn.served > 0
                conn.send(payload, ex)
                await ex.done
                if reused and ex.cause == "disconnected" and not ex.status:
                    # A pooled keep-alive connection the server had already closed: the request was
                    # never answered. Sent again once on a new connection (as HTTP clients do); the
                    # connect counts in this request's TTFT, like any new connection.
                    ex = _StreamExchange(loop, self.endpoint_kind == "chat")
                    conn = await self._pool.acquire(fresh=True)
                    conn.send(payload, ex)
                    await ex.done
        except TimeoutError:
            if conn is not None:
                conn.abort()
            ex.final = True
            ex.cause = "timeout"
            ex.error = f"timeout: no complete response within {timeout:g} s"
            status = "timeout"
            ex.end_t = perf_counter()
        except asyncio.CancelledError:
            if conn is not None:
                conn.abort()
            raise
        except OSError as exc:
            ex.final = True
            ex.cause = "connect"
            ex.error = f"connect: {type(exc).__name__}: {exc}"
            ex.end_t = perf_counter()
            status = "error"
        else:
            if ex.err_body is not None:
                ex.cause = "http-status"
                ex.error = f"http-{ex.status}: {_error_text(self.scrub_bytes(b''.join(ex.err_body)))}"
            status = "ok" if ex.cause is None and ex.status == 200 else "error"
            if status == "error" and ex.cause is None:  # not reachable: a non-200 has an error body list
                ex.cause, ex.error = "http-status", f"http-{ex.status}: unexpected status"
        return self._record(fields, ex, send_t, t0, status)

    # secrets (one policy: benchseal.redact) ---------------------------------------------------
    def scrub(self, text: str | None) -> str | None:
        """``text`` with every form of this backend's secrets (the API key, a password in --base-url)
        and every other registered secret replaced by ``***``, before it reaches a record or an error."""
        return None if text is None else redact.scrub(text, self._secrets, mask="***")

    def scrub_bytes(self, data: bytes) -> bytes:
        return redact.scrub_bytes(data, self._secrets, mask="***")

    def _record(self, fields: dict[str, Any], ex: _StreamExchange, send_t: float, t0: float, status: str) -> RequestRecord:
        usage = ex.usage if isinstance(ex.usage, dict) else {}
        out_server = _int_or_none(usage.get("completion_tokens"))
        prompt_server = _int_or_none(usage.get("prompt_tokens"))
        out_client = None
        if self.count_tokens is not None and ex.texts:
            out_client = self.count_tokens("".join(ex.texts))
        output_tokens = out_server if out_server is not None else out_client
        if output_tokens is None and status == "ok":
            output_tokens = len(ex.chunks)  # one token per text event: the last resort, flagged in the summary
        chunk_s = [c - t0 for c in ex.chunks]
        return RequestRecord.model_construct(
            warmup=False,
            scheduled_s=None,
            prompt_id=None,
            send_s=send_t - t0,
            first_token_s=chunk_s[0] if chunk_s else None,
            end_s=(ex.end_t - t0) if ex.end_t is not None else None,
            chunk_s=chunk_s,
            chunk_tokens=None,
            prompt_tokens=prompt_server if prompt_server is not None else fields["prompt_tokens_client"],
            output_tokens=output_tokens,
            prompt_tokens_server=prompt_server,
            output_tokens_server=out_server,
            output_tokens_client=out_client,
            status=status,
            error=None if ex.error is None else _clip(self.scrub(ex.error), _ERR_BODY_MAX),
            http_status=ex.status or None,
            finish_reason=None if ex.finish is None else _clip(self.scrub(ex.finish), 64),
            cause=None if status == "ok" else ex.cause,
            server_timing=per_request_timing(ex.metrics) if ex.metrics is not None else None,
            **fields,
        )
