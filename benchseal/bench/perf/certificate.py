"""The client-overhead certificate (docs/metrics.md, "Client-overhead certificate").

Before each load point, benchseal measures its own ceiling: the same client (a fresh copy of the
backend, built from ``clone_spec()``), the same load generator and the same prompts, at the same
concurrency, against a **null server** on 127.0.0.1 that answers every request at once with
``max_tokens`` text events. Nothing the model does is in that figure, so it is the most the client
could have measured. A load point whose request throughput reaches :data:`CLIENT_BOUND_FRACTION` of
its ceiling is **client-bound**: the figure may be the client's limit, not the server's, and it
cannot back a throughput claim (claims.perf_audits).

The null server runs in a thread of this process with its own event loop ("in-process"), so it
shares the interpreter with the client: the ceiling it gives is, if anything, low, and the
client-bound flag errs on the side of raising it.
"""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.client_bound import CLIENT_BOUND_FRACTION, client_bound  # noqa: F401  (re-exported)

CEILING_DURATION_S = 1.0
OPEN_LOOP_CONCURRENCY = 64  # a rate load point without --max-concurrency is certified at this concurrency


def _stream(max_tokens: int, chat: bool) -> bytes:
    events = []
    for i in range(max_tokens):
        choice = {"index": 0, "delta": {"content": f"t{i} "}} if chat else {"index": 0, "text": f"t{i} "}
        events.append({"choices": [{**choice, "finish_reason": None}]})
    last = {"index": 0, "delta": {}} if chat else {"index": 0, "text": ""}
    events.append({"choices": [{**last, "finish_reason": "length"}],
                   "usage": {"prompt_tokens": 1, "completion_tokens": max_tokens, "total_tokens": max_tokens + 1}})
    body = b"".join(b"data: " + json.dumps(e, separators=(",", ":")).encode() + b"\n\n" for e in events)
    body += b"data: [DONE]\n\n"
    return (b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nContent-Length: %d\r\n\r\n" % len(body)) + body


class _NullProtocol(asyncio.Protocol):
    def __init__(self, server: "NullServer") -> None:
        self.server, self.buf, self.transport = server, b"", None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buf += data
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = self.buf[:i]
            length = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    length = int(v.strip() or 0)
            if len(self.buf) < i + 4 + length:
                return
            self.buf = self.buf[i + 4 + length:]
            self.transport.write(self.server.models if head.startswith(b"GET") else self.server.answer)


class NullServer:
    """An OpenAI-compatible server that answers every POST with the same stream, at once."""

    def __init__(self, model: str, max_tokens: int, chat: bool) -> None:
        self.answer = _stream(max_tokens, chat)
        listing = json.dumps({"object": "list", "data": [{"id": model, "object": "model"}]}).encode()
        self.models = b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(listing) + listing
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._ready = threading.Event()
        self._thread = threading.Thread(target=self._run, name="benchseal-null-server", daemon=True)

    def _run(self) -> None:
        loop = asyncio.new_event_loop()
        self._loop = loop

        async def main() -> None:
            srv = await loop.create_server(lambda: _NullProtocol(self), "127.0.0.1", 0, backlog=4096)
            self.port = srv.sockets[0].getsockname()[1]
            self._ready.set()
            async with srv:
                await srv.serve_forever()

        try:
            loop.run_until_complete(main())
        except asyncio.CancelledError:
            pass
        finally:
            loop.close()

    def __enter__(self) -> "NullServer":
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the null server did not start")
        return self

    def __exit__(self, *exc: object) -> None:
        loop = self._loop
        if loop is not None and loop.is_running():
            def stop() -> None:
                for task in asyncio.all_tasks(loop):
                    task.cancel()
            loop.call_soon_threadsafe(stop)
        self._thread.join(5)


async def measure_ceiling(backend: Any, requests: list[GenRequest], concurrency: int,
                          duration_s: float = CEILING_DURATION_S) -> dict[str, Any]:
    """The client's own ceiling at ``concurrency`` (module docstring): a dict with the measured
    ``request_throughput`` and ``output_token_throughput``, or ``{"status": "not-run", "reason"}``."""
    from benchseal.bench.perf.loadgen import LoadPointPlan, run_load_point

    clone = getattr(backend, "clone_spec", None)
    if not callable(clone) or not requests:
        return {"status": "not-run", "reason": "the backend cannot be rebuilt against a null server"}
    name, opts = clone()
    if name != "openai":
        return {"status": "not-run", "reason": f"the {name} backend is not an HTTP client"}
    from benchseal.bench.perf.backends.openai import OpenAIBackend

    max_tokens = max(1, int(requests[0].max_tokens))
    chat = opts.get("endpoint_kind") == "chat"
    reqs = [GenRequest(request_id=r.request_id, prompt=r.prompt, max_tokens=max_tokens, prompt_tokens=r.prompt_tokens,
                       ignore_eos=r.ignore_eos, extra=r.extra) for r in requests]
    with NullServer(str(opts.get("model", "")), max_tokens, chat) as null:
        client = OpenAIBackend(**{**opts, "base_url": f"http://127.0.0.1:{null.port}", "api_key_env": None,
                                  "preflight": False, "extra_body": {}})
        records = []
        try:
            await client.start()
            plan = LoadPointPlan(load_point="client-ceiling", requests=reqs, concurrency=concurrency,
                                 duration_s=duration_s, timeout_s=30.0)
            t = time.perf_counter()
            await run_load_point(client, plan, records.append)
            wall = time.perf_counter() - t
        finally:
            await client.close()
    ok = [r for r in records if r.status == "ok" and not r.warmup]
    if not ok:
        return {"status": "not-run", "reason": "no request to the null server completed"}
    span = max(r.end_s for r in ok) - min(r.send_s for r in ok)
    span = span if span > 0 else wall
    tokens = sum(r.output_tokens or 0 for r in ok)
    return {"status": "measured", "concurrency": concurrency, "requests": len(ok), "duration_s": span,
            "output_tokens_per_request": max_tokens, "request_throughput": len(ok) / span,
            "output_token_throughput": tokens / span}
