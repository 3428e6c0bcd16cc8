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

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.sse import ConnectionPool, Exchange, SSEDecoder, build_request, fetch
from benchseal.bench.perf.server_metrics import per_request_timing
from benchseal.errors import ServerError, UsageError
from benchseal.redact import redact_url
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
_PATHS = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}
_ERR_BODY_MAX = 300
_PAYLOAD_CACHE_MAX = 65536


def _error_text(body: bytes) -> str:
    text = body.decode("utf-8", "replace").strip()
    try:
        obj = json.loads(text)
        err = obj.get("error", obj.get("detail", obj)) if isinstance(obj, dict) else obj
        if isinstance(err, dict):
            err = err.get("message", err)
        text = str(err)
    except ValueError:
        pass
    return " ".join(text.split())[:_ERR_BODY_MAX]


_scan_once = json.JSONDecoder().scan_once


def _loads(payload: bytes) -> Any:
    """``json.loads`` for one SSE payload, without its per-call overhead (encoding detection,
    whitespace regexes): the C scanner parses the text directly; anything unusual (leading or
    trailing whitespace, not UTF-8) goes through ``json.loads``. Raises ValueError when not JSON."""
    try:
        text = payload.decode()
        obj, end = _scan_once(text, 0)
    except (StopIteration, UnicodeDecodeError):
        return json.loads(payload)
    if end != len(text):
        return json.loads(payload)
    return obj


def _int_or_none(v: Any) -> int | None:
    return v if isinstance(v, int) and not isinstance(v, bool) and v >= 0 else None


class _StreamExchange(Exchange):
    """Parses one streamed completion as it arrives."""

    __slots__ = ("done", "status", "err_body", "sse", "chunks", "texts", "usage", "finish", "error", "end_t", "_chat",
                 "metrics")

    def __init__(self, loop: asyncio.AbstractEventLoop, chat: bool) -> None:
        self.done = loop.create_future()
        self.status = 0
        self.err_body: list[bytes] | None = None
        self.sse = SSEDecoder()
        self.chunks: list[float] = []
        self.texts: list[str] = []
        self.usage: dict[str, Any] | None = None
        self.metrics: Any = None  # vLLM --enable-per-request-metrics: the final chunk's "metrics" object
        self.finish: str | None = None
        self.error: str | None = None
        self.end_t: float | None = None
        self._chat = chat

    def head(self, status, headers, t):
        self.status = status
        if status != 200:
            self.err_body = []

    def body(self, data, t):
        if self.err_body is not None:
            self.err_body.append(data)
            return
        for payload in self.sse.feed(data):
            self._event(payload, t)
            if self.error is not None or self.end_t is not None:
                self._resolve(t)
                return

    def _event(self, payload: bytes, t: float) -> None:
        if payload == b"[DONE]":
            self.end_t = t
            return
        try:
            obj = _loads(payload)
        except ValueError:
            self.error = f"malformed-sse: event is not JSON: {payload[:80].decode('utf-8', 'replace')!r}"
            return
        if not isinstance(obj, dict):
            self.error = "malformed-sse: event is not a JSON object"
            return
        if "error" in obj and obj["error"]:
            err = obj["error"]
            msg = err.get("message", err) if isinstance(err, dict) else err
            self.error = f"stream-error: {' '.join(str(msg).split())[:_ERR_BODY_MAX]}"
            return
        usage = obj.get("usage")
        if usage:
            self.usage = usage
        if obj.get("metrics"):
            self.metrics = obj["metrics"]
        choices = obj.get("choices") or ()
        if choices:
            c = choices[0]
            if not isinstance(c, dict):
                self.error = "malformed-sse: choices[0] is not an object"
                return
            if self._chat:
                delta = c.get("delta") or {}
                text = delta.get("content") or delta.get("reasoning_content") or ""
            else:
                text = c.get("text") or ""
            if text:
                self.chunks.append(t)
                self.texts.append(text)
            if c.get("finish_reason"):
                self.finish = c["finish_reason"]

    def end(self, t):
        if self.err_body is None and self.error is None:
            for payload in self.sse.flush():
                self._event(payload, t)
        if self.end_t is None:
            self.end_t = t
        self._resolve(t)

    def fail(self, exc, t):
        if self.error is None:
            kind = "disconnected" if isinstance(exc, (ConnectionError, OSError)) else "protocol"
            self.error = f"{kind}: {exc}"
        self._resolve(t)

    def _resolve(self, t: float) -> None:
        if self.end_t is None:
            self.end_t = t
        if not self.done.done():
            self.done.set_result(None)


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
                f"cannot connect to the server at {self.base_url}: {type(exc).__name__} {exc}".rstrip(),
                hint="check --base-url and that the server is running",
            ) from None
        if status in (401, 403):
            raise ServerError(f"the server at {self.base_url} refused the credentials (HTTP {status})",
                              hint="check the key in the variable named by --api-key-env")
        if status == 200:
            try:
                ids = [m.get("id") for m in json.loads(body).get("data", []) if isinstance(m, dict)]
            except (ValueError, AttributeError):
                ids = []
            self.served_models = [i for i in ids if i]
            if self.served_models and self.model not in self.served_models:
                raise UsageError(
                    f"model '{self.model}' is not served at {self.base_url} (served: {', '.join(self.served_models[:10])})",
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
                                 error=f"bad-request: {exc}", **fields)
        ex = _StreamExchange(loop, self.endpoint_kind == "chat")
        timeout = timeout_s if timeout_s is not None else self.request_timeout_s
        send_t = perf_counter()
        conn = None
        try:
            async with asyncio.timeout(timeout):
                conn = await self._pool.acquire()
                if self.send_time_header:
                    payload = payload.replace(b"\r\n\r\n", b"\r\nX-Benchseal-Send-Time: %.9f\r\n\r\n" % send_t, 1)
                conn.send(payload, ex)
                await ex.done
        except TimeoutError:
            if conn is not None:
                conn.abort()
            ex.error = f"timeout: no complete response within {timeout:g} s"
            status = "timeout"
            ex.end_t = perf_counter()
        except asyncio.CancelledError:
            if conn is not None:
                conn.abort()
            raise
        except OSError as exc:
            ex.error = f"connect: {type(exc).__name__}: {exc}"
            ex.end_t = perf_counter()
            status = "error"
        else:
            status = "ok" if ex.error is None and ex.status == 200 else "error"
            if ex.err_body is not None:
                ex.error = f"http-{ex.status}: {_error_text(b''.join(ex.err_body))}"
            elif ex.error is None and not ex.chunks and request.max_tokens > 0:
                ex.error = "empty-stream: the response carried no generated text"
                status = "error"
        return self._record(fields, ex, send_t, t0, status)

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
            error=ex.error,
            http_status=ex.status or None,
            finish_reason=ex.finish,
            server_timing=per_request_timing(ex.metrics) if ex.metrics is not None else None,
            **fields,
        )
