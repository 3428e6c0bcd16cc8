"""A controllable OpenAI-compatible streaming server for tests and self-benchmarks (127.0.0.1 only).

Speaks ``/v1/completions`` and ``/v1/chat/completions`` (streamed, with ``usage`` in the final
chunk, or not streamed), ``/v1/models`` and ``/health``. Every generated token is sent at
``t_request + ttft + i * itl`` with :class:`~benchseal.bench.perf.loadgen.arrivals.PreciseTimer` (coarse loop
timer, then polling through the event loop), so the delays a client measures can be checked
against the injected ones. Token ``i`` is the text ``"tok<i> "`` (with ``return_token_ids``, token id ``i``); usage counts prompt words.

``GET /metrics`` answers in vLLM's Prometheus format (``vllm:`` names, ``model_name`` and
``engine`` labels, vLLM's bucket bounds) with what this server itself did: the TTFT histogram
observes, per finished request, the instant its first token was handed to the kernel minus the
request's start; ITL every gap between consecutive token writes; E2E the last write minus the
start; queue time 0 (nothing queues here); token counters and finished requests from the usage it
reports; gauges for running requests (waiting 0, KV-cache usage = running / 64, capped at 1). With
``--per-request-metrics`` the final usage chunk carries vLLM's ``metrics`` object with the same
values; ``--no-metrics`` makes ``/metrics`` a 404. A controllable ground truth for the
server-side figures.

A client may send ``X-Benchseal-Send-Time: <perf_counter>`` (the openai backend's
``send_time_header`` option): delays then count from that instant, so the server's own delay in
reading the request does not add to the TTFT it injects.

Per-request overrides in the JSON body: ``x_ttft_ms``, ``x_itl_ms``, ``x_fault``, ``x_fault_at``
(token index), ``x_usage_offset`` (added to the reported completion tokens). Faults:
``http_error`` (HTTP 500), ``error_midstream`` (an SSE error event), ``malformed`` (a non-JSON
event), ``stall`` (stop sending, keep the connection), ``disconnect`` (close the socket) and
``die`` (the process exits). Server-wide: ``--fault F --fault-after N`` applies F to every
request after the first N.

Quirks (server-wide, ``--quirk Q``): servers that answer but cheat, for the audit probes
(bench.perf.audits): ``cache`` (a prompt seen before is answered at once, every token in the
same instant: a response cache), ``usage`` (usage reports twice the tokens sent), ``swap`` (after
the first ``--quirk-after N`` requests the text changes, ``alt<i> ``: another model),
``blank_first`` (a whitespace-only chunk at once, the tokens on their normal schedule: a gateway
that hides its TTFT). ``--capacity K`` serves at most K streamed requests at once; the others wait
in arrival order, and their delays count from when they start (a server with a known knee for the
SLA search).

With ``--scoring-model DIR`` (a local model folder, e.g. a tiny test model) a non-streamed
``/v1/completions`` request with ``echo`` and ``logprobs`` is answered as vLLM answers it: the prompt's
tokens with the logprobs that model gives them (computed from its weights), so the served-model
identity probe and lm-eval's ``local-completions`` have a real ground truth. Without it, such a
request gets no ``logprobs`` (like ``transformers serve``).

    python -m benchseal.testing.server --port 0 --ttft-ms 20 --itl-ms 5   # prints {"port": ...}
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass

perf_counter = time.perf_counter
FAULTS = ("none", "http_error", "error_midstream", "malformed", "stall", "disconnect", "die")
QUIRKS = ("none", "cache", "usage", "swap", "blank_first")
_SSE_HEAD = b"HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\nTransfer-Encoding: chunked\r\n\r\n"


@dataclass
class ServerConfig:
    model: str = "test-model"
    ttft_ms: float = 0.0
    itl_ms: float = 0.0
    fault: str = "none"
    fault_after: int = 0
    fault_at: int = 1
    timer_margin_ms: float = 0.5
    metrics: bool = True  # serve /metrics
    per_request_metrics: bool = False  # vLLM's --enable-per-request-metrics
    quirk: str = "none"  # see QUIRKS
    quirk_after: int = 0  # swap: requests answered by the first model
    capacity: int = 0  # streamed requests served at once (0: unbounded); the rest queue
    scoring_model: str | None = None  # a local model folder: prompt logprobs (echo + logprobs) computed from it


# vLLM's bucket bounds (vllm/v1/metrics/loggers.py), in seconds
TTFT_BUCKETS = (0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0,
                80.0, 160.0, 640.0, 2560.0)
ITL_BUCKETS = (0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.75, 1.0, 2.5, 5.0, 7.5, 10.0, 20.0, 40.0, 80.0)
REQUEST_BUCKETS = (0.3, 0.5, 0.8, 1.0, 1.5, 2.0, 2.5, 5.0, 10.0, 15.0, 20.0, 30.0, 40.0, 50.0, 60.0, 120.0, 240.0,
                   480.0, 960.0, 1920.0, 7680.0)


class _Histogram:
    def __init__(self, bounds: tuple[float, ...]) -> None:
        self.bounds = bounds
        self.counts = [0] * (len(bounds) + 1)
        self.sum = 0.0

    def observe(self, v: float) -> None:
        i = next((k for k, b in enumerate(self.bounds) if v <= b), len(self.bounds))
        self.counts[i] += 1
        self.sum += v

    def lines(self, name: str, labels: str) -> list[str]:
        out = [f"# HELP {name} Histogram of {name}.", f"# TYPE {name} histogram"]
        cum = 0
        for b, c in zip(self.bounds, self.counts):
            cum += c
            out.append(f'{name}_bucket{{engine="0",le="{b!r}",{labels}}} {float(cum)!r}')
        cum += self.counts[-1]
        out.append(f'{name}_bucket{{engine="0",le="+Inf",{labels}}} {float(cum)!r}')
        out.append(f'{name}_count{{engine="0",{labels}}} {float(cum)!r}')
        out.append(f'{name}_sum{{engine="0",{labels}}} {self.sum!r}')
        return out


class _ServerMetrics:
    """What the test server measured of itself, exposed like vLLM's /metrics."""

    def __init__(self, model: str) -> None:
        self.model = model
        self.ttft = _Histogram(TTFT_BUCKETS)
        self.itl = _Histogram(ITL_BUCKETS)
        self.e2e = _Histogram(REQUEST_BUCKETS)
        self.queue = _Histogram(REQUEST_BUCKETS)
        self.prompt_tokens = 0
        self.generation_tokens = 0
        self.success: dict[str, int] = {}
        self.running = 0

    def finished(self, writes: list[float], prompt_tokens: int, generation_tokens: int, reason: str) -> dict:
        """Record one finished request (``writes``: token write offsets from its start, seconds);
        returns vLLM's per-request ``metrics`` object for it."""
        first, last = writes[0], writes[-1]
        self.ttft.observe(first)
        for a, b in zip(writes, writes[1:]):
            self.itl.observe(b - a)
        self.e2e.observe(last)
        self.queue.observe(0.0)
        self.prompt_tokens += prompt_tokens
        self.generation_tokens += generation_tokens
        self.success[reason] = self.success.get(reason, 0) + 1
        n = len(writes)
        return {"time_to_first_token_ms": first * 1e3, "generation_time_ms": (last - first) * 1e3, "queue_time_ms": 0.0,
                "mean_itl_ms": (last - first) / (n - 1) * 1e3 if n > 1 else None,
                "tokens_per_second": generation_tokens / last if last > 0 else None}

    def text(self) -> str:
        lab = f'model_name={json.dumps(self.model)}'
        out: list[str] = []
        out += self.ttft.lines("vllm:time_to_first_token_seconds", lab)
        out += self.itl.lines("vllm:inter_token_latency_seconds", lab)
        out += self.e2e.lines("vllm:e2e_request_latency_seconds", lab)
        out += self.queue.lines("vllm:request_queue_time_seconds", lab)
        for name, v in (("vllm:prompt_tokens", self.prompt_tokens), ("vllm:generation_tokens", self.generation_tokens)):
            out += [f"# HELP {name}_total Number of tokens.", f"# TYPE {name}_total counter",
                    f'{name}_total{{engine="0",{lab}}} {float(v)!r}']
        out += ["# HELP vllm:request_success_total Count of successfully processed requests.",
                "# TYPE vllm:request_success_total counter"]
        for reason in ("abort", "error", "length", "stop"):
            out.append(f'vllm:request_success_total{{engine="0",finished_reason="{reason}",{lab}}} '
                       f'{float(self.success.get(reason, 0))!r}')
        for name, v in (("vllm:num_requests_running", self.running), ("vllm:num_requests_waiting", 0),
                        ("vllm:kv_cache_usage_perc", min(1.0, self.running / 64))):
            out += [f"# HELP {name} Gauge.", f"# TYPE {name} gauge", f'{name}{{engine="0",{lab}}} {float(v)!r}']
        return "\n".join(out) + "\n"


def _chunk(data: bytes) -> bytes:
    return b"%x\r\n%s\r\n" % (len(data), data)


def _event(obj: dict | str) -> bytes:
    payload = obj if isinstance(obj, str) else json.dumps(obj, separators=(",", ":"))
    return _chunk(b"data: " + payload.encode() + b"\n\n")


def _json_response(status: int, obj: dict, reason: str = "OK") -> bytes:
    body = json.dumps(obj).encode()
    return (b"HTTP/1.1 %d %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n" % (status, reason.encode(), len(body))) + body


class _Handler(asyncio.Protocol):
    def __init__(self, server: "TestServer") -> None:
        self.server = server
        self.buf = b""
        self.transport = None

    def connection_made(self, transport) -> None:
        self.transport = transport

    def connection_lost(self, exc) -> None:
        self.transport = None

    def data_received(self, data: bytes) -> None:
        t = perf_counter()
        self.buf += data
        while True:
            i = self.buf.find(b"\r\n\r\n")
            if i < 0:
                return
            head = self.buf[:i].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                k, _, v = line.partition(":")
                if k.strip().lower() == "content-length":
                    length = int(v.strip())
            if len(self.buf) < i + 4 + length:
                return
            body = self.buf[i + 4 : i + 4 + length]
            self.buf = self.buf[i + 4 + length :]
            method, path = (head.split(" ", 2) + ["", ""])[:2]
            sent = head.find("X-Benchseal-Send-Time:")
            if sent >= 0:  # delays count from when the client sent the request (same monotonic clock)
                try:
                    ts = float(head[sent + 22 :].split("\r\n", 1)[0])
                    if 0 <= t - ts < 1.0:
                        t = ts
                except ValueError:
                    pass
            self.server.handle(self, method, path, body, t)

    def write(self, data: bytes) -> None:
        if self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)


class TestServer:
    """The server itself (run in its own process by :func:`spawn`; see module docstring)."""

    __test__ = False  # not a pytest test class

    def __init__(self, config: ServerConfig) -> None:
        self.cfg = config
        self.n_requests = 0
        self.timer = None
        self.lateness_ms: list[float] = []
        # per request (keyed by its start time t: the client's send instant when it sent the
        # X-Benchseal-Send-Time header): when each streamed chunk was handed to the kernel, as
        # offsets from t. Lets a test isolate the client's own timestamp error from server lateness.
        self.writes: dict[float, list[float]] = {}
        self.metrics = _ServerMetrics(config.model)
        self.seen_prompts: set[str] = set()  # the cache quirk
        self.active = 0  # streamed requests being served (capacity)
        self.waiting: list[tuple] = []  # (conn, chat, body) queued for capacity
        self.scorer = None
        if config.scoring_model:  # real prompt logprobs, from the tiny model's weights (evaluators.identity)
            from benchseal.evaluators.identity import LocalScorer

            self.scorer = LocalScorer(config.scoring_model)

    def handle(self, conn: _Handler, method: str, path: str, body: bytes, t: float) -> None:
        path = path.split("?", 1)[0]
        if method == "GET" and path == "/health":
            conn.write(_json_response(200, {"status": "ok"}))
        elif method == "GET" and path == "/stats":  # the server's own send lateness (for accuracy checks)
            lat = sorted(self.lateness_ms)
            q = (lambda f: lat[min(len(lat) - 1, int(f * len(lat)))] if lat else None)
            conn.write(_json_response(200, {"requests": self.n_requests, "events": len(lat), "p50_ms": q(0.5),
                                            "p99_ms": q(0.99), "max_ms": lat[-1] if lat else None}))
            self.lateness_ms.clear()
        elif method == "GET" and path == "/writes":  # actual chunk write offsets per request, then cleared
            conn.write(_json_response(200, {"writes": [[k, v] for k, v in self.writes.items()]}))
            self.writes.clear()
        elif method == "GET" and path == "/metrics" and self.cfg.metrics:
            body = self.metrics.text().encode()
            conn.write(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain; version=0.0.4; charset=utf-8\r\n"
                       b"Content-Length: %d\r\n\r\n" % len(body) + body)
        elif method == "GET" and path == "/v1/models":
            conn.write(_json_response(200, {"object": "list", "data": [{"id": self.cfg.model, "object": "model"}]}))
        elif method == "POST" and path in ("/v1/completions", "/v1/chat/completions"):
            if self.cfg.capacity and self.active >= self.cfg.capacity:
                self.waiting.append((conn, path.endswith("chat/completions"), body))
                return
            self.active += 1
            self.generate(conn, path.endswith("chat/completions"), body, t)
        else:
            conn.write(_json_response(404, {"error": {"message": f"no route {method} {path}", "code": 404}}, "Not Found"))

    def generate(self, conn: _Handler, chat: bool, body: bytes, t: float) -> None:
        cfg = self.cfg
        index = self.n_requests
        self.n_requests += 1
        try:
            req = json.loads(body)
        except ValueError:
            conn.write(_json_response(400, {"error": {"message": "request body is not JSON", "code": 400}}, "Bad Request"))
            self.release()
            return
        if req.get("model") != cfg.model:
            msg = f"The model `{req.get('model')}` does not exist."
            conn.write(_json_response(404, {"error": {"message": msg, "type": "NotFoundError", "code": 404}}, "Not Found"))
            self.release()
            return
        fault = req.get("x_fault") or (cfg.fault if index >= cfg.fault_after else "none")
        if fault == "http_error":
            conn.write(_json_response(500, {"error": {"message": "injected server error", "code": 500}}, "Internal Server Error"))
            self.release()
            return
        n = int(req.get("max_tokens") or 16)
        ttft = float(req.get("x_ttft_ms", cfg.ttft_ms)) / 1e3
        itl = float(req.get("x_itl_ms", cfg.itl_ms)) / 1e3
        fault_at = int(req.get("x_fault_at", cfg.fault_at))
        offset = int(req.get("x_usage_offset", 0))
        word = "tok"
        if cfg.quirk == "cache":
            key = json.dumps(req.get("messages") if chat else req.get("prompt"), sort_keys=True)
            if key in self.seen_prompts:
                ttft = itl = 0.0
            elif len(self.seen_prompts) < 100_000:
                self.seen_prompts.add(key)
        elif cfg.quirk == "usage":
            offset += n
        elif cfg.quirk == "swap" and index >= cfg.quirk_after:
            word = "alt"
        if chat:
            words = sum(len(str(m.get("content", "")).split()) for m in req.get("messages", []))
        else:
            words = len(str(req.get("prompt", "")).split())
        usage = {"prompt_tokens": words, "completion_tokens": n + offset, "total_tokens": words + n + offset}
        rid = f"cmpl-{index}"
        if not chat and req.get("echo") and req.get("logprobs") is not None and not req.get("stream") and self.scorer:
            conn.write(_json_response(200, self._echo_logprobs(rid, str(req.get("prompt", "")), n)))
            self.release()
            return
        if not req.get("stream"):
            text = "".join(f"{word}{i} " for i in range(n))
            choice = {"index": 0, "message": {"role": "assistant", "content": text}} if chat else {"index": 0, "text": text}
            obj = {"id": rid, "object": "chat.completion" if chat else "text_completion", "model": cfg.model,
                   "choices": [{**choice, "finish_reason": "length"}], "usage": usage}
            self.at(t + ttft + max(n - 1, 0) * itl, self._respond, conn, obj, t, words, n + offset)
            return
        kind = "chat.completion.chunk" if chat else "text_completion"
        prefix = '{"id":"%s","object":"%s","model":%s,"choices":[{"index":0,' % (rid, kind, json.dumps(cfg.model))
        conn.write(_SSE_HEAD)
        if chat:
            conn.write(_event(prefix + '"delta":{"role":"assistant","content":""},"finish_reason":null}]}'))
        include_usage = bool((req.get("stream_options") or {}).get("include_usage"))
        log = self.writes.setdefault(t, []) if len(self.writes) < 100_000 else None
        own: list[float] = []  # this request's write offsets (for /metrics)
        if n > 0:
            self.metrics.running += 1
        if cfg.quirk == "blank_first" and n > 0:
            blank = '"delta":{"content":" "},"finish_reason":null}]}' if chat else '"text":" ","finish_reason":null}]}'
            conn.write(_event(prefix + blank))
        for i in range(n):
            due = t + ttft + i * itl
            if fault != "none" and i == fault_at:
                self.at(due, self.fault, conn, fault, prefix)
                return
            text = json.dumps(f"{word}{i} ")
            piece = ('"delta":{"content":%s},"finish_reason":null}]}' if chat else '"text":%s,"finish_reason":null}]}') % text
            if req.get("return_token_ids"):  # vLLM's return_token_ids: this chunk's token ids
                piece = '"token_ids":[%d],' % i + piece
            data = _event(prefix + piece)
            if i == n - 1:
                fin = ('"delta":{},"finish_reason":"length"}]' if chat else '"text":"","finish_reason":"length"}]')
                self.at(due, self._write_last, conn, data, log, own, t, prefix + fin, usage if include_usage else None, words,
                        n + offset)
            else:
                self.at(due, self._write_logged, conn, data, log, t, own)
        if n == 0:
            conn.write(_event("[DONE]") + b"0\r\n\r\n")
            self.release()

    def _echo_logprobs(self, rid: str, prompt: str, n: int) -> dict:
        """vLLM's reply to ``echo`` + ``logprobs``: the prompt's tokens with their logprobs (the first
        None) scored by the scoring model, then ``n`` generated tokens ("tok<i>", logprob -1)."""
        tokens, lps = self.scorer.score(prompt)
        gen = [f"tok{i}" for i in range(n)]
        offsets, pos = [], 0
        for t in tokens + gen:
            offsets.append(pos)
            pos += len(t)
        logprobs = {"tokens": tokens + gen, "token_logprobs": lps + [-1.0] * n,
                    "top_logprobs": [None] + [{t: v} for t, v in zip(tokens[1:], lps[1:])] + [{g: -1.0} for g in gen],
                    "text_offset": offsets}
        return {"id": rid, "object": "text_completion", "model": self.cfg.model,
                "choices": [{"index": 0, "text": prompt + "".join(gen), "logprobs": logprobs, "finish_reason": "length"}],
                "usage": {"prompt_tokens": len(tokens), "completion_tokens": n, "total_tokens": len(tokens) + n}}

    @staticmethod
    def _write_logged(conn: _Handler, data: bytes, log: list[float] | None, t: float, own: list[float]) -> None:
        dt = perf_counter() - t
        if log is not None:
            log.append(dt)
        own.append(dt)
        conn.write(data)

    def _write_last(self, conn: _Handler, data: bytes, log: list[float] | None, own: list[float], t: float, fin: str,
                    usage: dict | None, prompt_tokens: int, generation_tokens: int) -> None:
        """The last token, then the finish chunk (with usage and, on request, vLLM's per-request
        metrics): the request is counted in /metrics before its last byte leaves."""
        dt = perf_counter() - t
        if log is not None:
            log.append(dt)
        own.append(dt)
        self.metrics.running -= 1
        timing = self.metrics.finished(own, prompt_tokens, generation_tokens, "length")
        tail = ""
        if usage is not None:
            tail += ',"usage":%s' % json.dumps(usage)
            if self.cfg.per_request_metrics:
                tail += ',"metrics":%s' % json.dumps(timing)
        conn.write(data + _event(fin + tail + "}") + _event("[DONE]") + b"0\r\n\r\n")
        self.release()

    def release(self) -> None:
        """One served request finished: start the next waiting one (capacity)."""
        self.active = max(0, self.active - 1)
        if self.waiting and (not self.cfg.capacity or self.active < self.cfg.capacity):
            conn, chat, body = self.waiting.pop(0)
            self.active += 1
            self.generate(conn, chat, body, perf_counter())

    def _respond(self, conn: _Handler, obj: dict, t: float, prompt_tokens: int, generation_tokens: int) -> None:
        timing = self.metrics.finished([perf_counter() - t], prompt_tokens, generation_tokens, "length")
        if self.cfg.per_request_metrics:
            obj = {**obj, "metrics": timing}
        conn.write(_json_response(200, obj))
        self.release()

    def fault(self, conn: _Handler, fault: str, prefix: str) -> None:
        if fault != "stall":
            self.metrics.running -= 1
            self.release()
        if fault == "error_midstream":
            err = {"error": {"message": "injected failure mid-stream", "type": "InternalServerError", "code": 500}}
            conn.write(_event(err) + _event("[DONE]") + b"0\r\n\r\n")
        elif fault == "malformed":
            conn.write(_event(prefix + '"text":"tok') + _event("[DONE]") + b"0\r\n\r\n")
        elif fault == "disconnect":
            if conn.transport is not None:
                conn.transport.abort()
        elif fault == "die":
            os._exit(17)
        # stall: send nothing more and keep the connection open

    def at(self, due: float, fn, *args) -> None:
        if due <= perf_counter():
            fn(*args)
        else:
            self.timer.call_at(due, self._timed, due, fn, args)

    def _timed(self, due: float, fn, args) -> None:
        fn(*args)
        if len(self.lateness_ms) < 1_000_000:
            self.lateness_ms.append((perf_counter() - due) * 1e3)

    async def serve(self, host: str = "127.0.0.1", port: int = 0, ready=None) -> None:
        from benchseal.bench.perf.loadgen import PreciseTimer

        loop = asyncio.get_running_loop()
        self.timer = PreciseTimer(loop, margin_s=self.cfg.timer_margin_ms / 1e3)
        srv = await loop.create_server(lambda: _Handler(self), host, port, reuse_address=True, backlog=4096)
        if ready is not None:
            ready(srv.sockets[0].getsockname()[1])
        async with srv:
            await srv.serve_forever()


def timestamp_errors_ms(records: list[dict], writes: list[list]) -> list[float]:
    """Client timestamp minus server write time, in ms, for every streamed chunk of every record.

    ``records`` are perf/requests.jsonl rows of a run made with ``send_time_header=True``;
    ``writes`` is the server's ``GET /writes`` answer: ``[client send instant, [write offsets]]``
    per request. The header carries the client's absolute send instant = t0 + send_s, so the one
    offset t0 shared by every record pairs each record with its server entry (the client's
    preflight request has no record). Raises ValueError when a record cannot be paired.
    """
    from collections import Counter
    from statistics import median

    diffs = [k - r["send_s"] for k, _ in writes for r in records]
    if not diffs:
        raise ValueError("no records or no server writes to pair")
    mode = Counter(round(d, 5) for d in diffs).most_common(1)[0][0]
    t0 = median(d for d in diffs if abs(d - mode) < 2e-5)  # exact to the header's 1 ns
    errors: list[float] = []
    for r in records:
        match = [o for k, o in writes if abs(k - t0 - r["send_s"]) < 1e-7]
        if len(match) != 1 or len(match[0]) != len(r["chunk_s"]):
            raise ValueError(f"request {r.get('request_id')} has no single server entry with {len(r['chunk_s'])} writes")
        errors += [(c - r["send_s"] - w) * 1e3 for c, w in zip(r["chunk_s"], match[0])]
    return errors


class TestServerProcess:
    """A test server in a child process. ``url`` is its base URL; ``kill()`` simulates a crash."""

    __test__ = False

    def __init__(self, proc: subprocess.Popen, port: int) -> None:
        self.proc, self.port = proc, port
        self.url = f"http://127.0.0.1:{port}"

    def alive(self) -> bool:
        return self.proc.poll() is None

    def kill(self) -> None:
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait(10)

    def stop(self) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.kill()
        if self.proc.stdout:
            self.proc.stdout.close()

    def __enter__(self) -> "TestServerProcess":
        return self

    def __exit__(self, *exc) -> None:
        self.stop()


def spawn(*, model: str = "test-model", ttft_ms: float = 0.0, itl_ms: float = 0.0, fault: str = "none",
          fault_after: int = 0, fault_at: int = 1, port: int = 0, timer_margin_ms: float = 0.5, nice: int = 0,
          startup_timeout_s: float = 30.0, metrics: bool = True, per_request_metrics: bool = False,
          quirk: str = "none", quirk_after: int = 0, capacity: int = 0,
          scoring_model: str | None = None) -> TestServerProcess:
    """Start a test server process on 127.0.0.1 and wait until it listens."""
    cmd = [sys.executable, "-m", "benchseal.testing.server", "--port", str(port), "--model", model,
           "--ttft-ms", str(ttft_ms), "--itl-ms", str(itl_ms), "--fault", fault, "--fault-after", str(fault_after),
           "--fault-at", str(fault_at), "--timer-margin-ms", str(timer_margin_ms), "--nice", str(nice)]
    cmd += ([] if metrics else ["--no-metrics"]) + (["--per-request-metrics"] if per_request_metrics else [])
    cmd += ["--quirk", quirk, "--quirk-after", str(quirk_after), "--capacity", str(capacity)]
    if scoring_model:
        cmd += ["--scoring-model", str(scoring_model)]
        startup_timeout_s = max(startup_timeout_s, 120.0)  # importing torch and transformers on a loaded machine
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    deadline = time.monotonic() + startup_timeout_s
    line = ""
    while time.monotonic() < deadline:
        line = proc.stdout.readline()  # type: ignore[union-attr]
        if line or proc.poll() is not None:
            break
    try:
        port_ = int(json.loads(line)["port"])
    except (ValueError, KeyError, TypeError):
        proc.kill()
        raise RuntimeError(f"test server did not start (exit {proc.poll()}): {line!r}") from None
    return TestServerProcess(proc, port_)


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m benchseal.testing.server", description=__doc__.splitlines()[0])
    ap.add_argument("--port", type=int, default=0)
    ap.add_argument("--model", default="test-model")
    ap.add_argument("--ttft-ms", type=float, default=0.0)
    ap.add_argument("--itl-ms", type=float, default=0.0)
    ap.add_argument("--fault", choices=FAULTS, default="none")
    ap.add_argument("--fault-after", type=int, default=0)
    ap.add_argument("--fault-at", type=int, default=1)
    ap.add_argument("--timer-margin-ms", type=float, default=0.5, help="wake this early, then poll")
    ap.add_argument("--nice", type=int, default=0, help="try to change the process priority by this much")
    ap.add_argument("--no-metrics", action="store_true", help="answer /metrics with 404")
    ap.add_argument("--per-request-metrics", action="store_true", help="vLLM's per-request metrics in the final usage chunk")
    ap.add_argument("--quirk", choices=QUIRKS, default="none", help="answer, but cheat (see the module docstring)")
    ap.add_argument("--quirk-after", type=int, default=0, help="swap: requests answered before the text changes")
    ap.add_argument("--capacity", type=int, default=0, help="streamed requests served at once (0: unbounded); the rest queue")
    ap.add_argument("--scoring-model", default=None,
                    help="a local model folder: answer echo + logprobs completions with prompt logprobs computed from it")
    a = ap.parse_args(argv)
    if a.nice:
        try:
            os.nice(a.nice)
        except OSError:
            pass  # not permitted: run at the normal priority
    server = TestServer(ServerConfig(a.model, a.ttft_ms, a.itl_ms, a.fault, a.fault_after, a.fault_at, a.timer_margin_ms,
                                     metrics=not a.no_metrics, per_request_metrics=a.per_request_metrics,
                                     quirk=a.quirk, quirk_after=a.quirk_after, capacity=a.capacity,
                                     scoring_model=a.scoring_model))

    def ready(port: int) -> None:
        print(json.dumps({"port": port}), flush=True)

    try:
        asyncio.run(server.serve("127.0.0.1", a.port, ready))
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
