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
import os
import time
from itertools import repeat
from operator import sub as _sub
from typing import Any, Callable, Literal
from urllib.parse import urlsplit

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.request import PATHS as _PATHS, PayloadCache, request_body
from benchseal.bench.perf.backends.stream import (  # noqa: F401  (re-exported: the stream's rules)
    MAX_EVENTS,
    MAX_JSON_DEPTH,
    MAX_TOKEN_COUNT,
    MalformedEvent,
    StreamExchange,
    _clip,
    _depth_ok,
    _error_text,
    _int_or_none,
    _served_models,
    safe_json,
)
from benchseal.bench.perf.backends.transport import ConnectionPool, HttpProtocolError, build_request, fetch
from benchseal.bench.perf.server_metrics import per_request_timing
from benchseal.errors import ServerError, UsageError
from benchseal import redact
from benchseal.redact import redact_url
from benchseal.schema import RequestRecord

perf_counter = time.perf_counter
_ERR_BODY_MAX = 300


_PLAIN_FINISH = frozenset({"length", "stop"})  # the usual finish reasons: nothing to scrub (the hot path)
# Every field in schema order at its default (None for the required ones, which every record sets):
# each record is these values updated with its own (``request_record``).
_DEFAULTS = dict.fromkeys(RequestRecord.model_fields)
_DEFAULTS.update(RequestRecord.model_construct(load_point="", request_id=0).__dict__)
_new = object.__new__
_set = object.__setattr__


def request_record(values: dict[str, Any]) -> RequestRecord:
    """A RequestRecord of ``values`` over the schema defaults, built as pydantic's ``model_construct``
    builds one (``__dict__``, fields set, no extra, no private; no validation: the values are the
    client's own) without its walk over every field's aliases and defaults per call, nor
    ``model_copy``'s ``copy.copy`` of a blank record: the perf hot path, one record per request.
    tests/unit/bench/perf/test_request_record.py holds it equal to a validated RequestRecord."""
    rec = _new(RequestRecord)
    d = _DEFAULTS.copy()
    d["chunk_s"] = []  # a default list of its own (the schema's default_factory)
    d.update(values)
    _set(rec, "__dict__", d)
    _set(rec, "__pydantic_fields_set__", set(values))
    _set(rec, "__pydantic_extra__", None)
    _set(rec, "__pydantic_private__", None)
    return rec


def _expire(ex: StreamExchange, conn) -> None:
    """A request's deadline passed before its response completed: the connection is dropped and the
    waiting request wakes up to record a timeout (``OpenAIBackend._send``)."""
    if not ex.done.done():
        ex.timed_out = True
        conn.abort()
        ex.done.set_result(None)


async def _exchange(loop: asyncio.AbstractEventLoop, conn, payload: bytes, ex: StreamExchange,
                    deadline: float | None) -> None:
    """Send ``payload`` on ``conn`` and wait for ``ex`` to complete; TimeoutError when ``deadline``
    (loop time) passes first. The timer is cancelled however the wait ends (a cancelled task too)."""
    timer = None if deadline is None else loop.call_at(deadline, _expire, ex, conn)
    try:
        conn.send(payload, ex)
        await ex.done
    finally:
        if timer is not None:
            timer.cancel()
    if ex.timed_out:
        raise TimeoutError


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
        self._payloads = PayloadCache(
            lambda r: build_request("POST", self._pool, self.path, self._body(r), self._headers))

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
        return request_body(request, model=self.model, chat=self.endpoint_kind == "chat",
                            include_usage=self.include_usage, temperature=self.temperature,
                            ignore_eos=self.ignore_eos, extra_body=self.extra_body)

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
        return self._payloads.get(request)

    async def send(self, request: GenRequest, *, load_point: str, t0: float, timeout_s: float | None) -> RequestRecord:
        return (await self._send(request, load_point, t0, timeout_s))[0]

    async def send_text(self, request: GenRequest, *, load_point: str, t0: float,
                        timeout_s: float | None) -> tuple[RequestRecord, str]:
        """One request, with the text it streamed (the audit probes compare answers; the load path
        keeps no text)."""
        rec, ex = await self._send(request, load_point, t0, timeout_s)
        return rec, "".join(ex.texts) if ex is not None else ""

    async def _send(self, request: GenRequest, load_point: str, t0: float,
                    timeout_s: float | None) -> tuple[RequestRecord, StreamExchange | None]:
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
                                 error=self.scrub(f"bad-request: {exc}"), cause="bad-request", **fields), None
        ex = StreamExchange(loop, self.endpoint_kind == "chat")
        timeout = timeout_s if timeout_s is not None else self.request_timeout_s
        send_t = perf_counter()
        deadline = None if timeout is None else loop.time() + timeout  # None: no deadline
        conn = None
        try:
            if self.send_time_header:
                payload = payload.replace(b"\r\n\r\n", b"\r\nX-Benchseal-Send-Time: %.9f\r\n\r\n" % send_t, 1)
            # The request's deadline is one timer callback (``_expire``), not an ``asyncio.timeout``
            # scope per request (a task-cancellation context: the perf hot path); only opening a new
            # connection runs under a scope, as it awaits the connect itself.
            conn = self._pool.idle()
            if conn is None:
                async with asyncio.timeout_at(deadline):
                    conn = await self._pool.acquire()
            reused = conn.served > 0
            await _exchange(loop, conn, payload, ex, deadline)
            if reused and ex.cause == "disconnected" and not ex.status:
                # A pooled keep-alive connection the server had already closed: the request was
                # never answered. Sent again once on a new connection (as HTTP clients do); the
                # connect counts in this request's TTFT, like any new connection.
                ex = StreamExchange(loop, self.endpoint_kind == "chat")
                async with asyncio.timeout_at(deadline):
                    conn = await self._pool.acquire(fresh=True)
                await _exchange(loop, conn, payload, ex, deadline)
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
        return self._record(fields, ex, send_t, t0, status), ex

    # secrets (one policy: benchseal.redact) ---------------------------------------------------
    def scrub(self, text: str | None) -> str | None:
        """``text`` with every form of this backend's secrets (the API key, a password in --base-url)
        and every other registered secret replaced by ``***``, before it reaches a record or an error."""
        return None if text is None else redact.scrub(text, self._secrets, mask="***")

    def scrub_bytes(self, data: bytes) -> bytes:
        return redact.scrub_bytes(data, self._secrets, mask="***")

    def _record(self, fields: dict[str, Any], ex: StreamExchange, send_t: float, t0: float, status: str) -> RequestRecord:
        usage = ex.usage if isinstance(ex.usage, dict) else {}
        out_server = _int_or_none(usage.get("completion_tokens"))
        prompt_server = _int_or_none(usage.get("prompt_tokens"))
        out_client = None
        if self.count_tokens is not None and ex.texts:
            out_client = self.count_tokens("".join(ex.texts))
        output_tokens = out_server if out_server is not None else out_client
        if output_tokens is None and status == "ok":
            output_tokens = len(ex.chunks)  # one token per text event: the last resort, flagged in the summary
        chunk_s = list(map(_sub, ex.chunks, repeat(t0)))  # [c - t0 for c in chunks], without a Python loop
        return request_record(dict(  # warmup, scheduled_s, prompt_id, chunk_tokens: the defaults
            send_s=send_t - t0,
            first_token_s=chunk_s[0] if chunk_s else None,
            end_s=(ex.end_t - t0) if ex.end_t is not None else None,
            chunk_s=chunk_s,
            prompt_tokens=prompt_server if prompt_server is not None else fields["prompt_tokens_client"],
            output_tokens=output_tokens,
            prompt_tokens_server=prompt_server,
            output_tokens_server=out_server,
            output_tokens_client=out_client,
            output_token_ids=ex.n_token_ids,
            status=status,
            error=None if ex.error is None else _clip(self.scrub(ex.error), _ERR_BODY_MAX),
            http_status=ex.status or None,
            finish_reason=ex.finish if ex.finish in _PLAIN_FINISH else None if ex.finish is None else _clip(
                self.scrub(ex.finish), 64),
            cause=None if status == "ok" else ex.cause,
            server_timing=per_request_timing(ex.metrics) if ex.metrics is not None else None,
            first_content_s=(ex.first_content - t0) if ex.first_content is not None else None,
            finish_count=ex.n_finish,
            **fields,
        ))
