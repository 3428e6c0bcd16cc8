"""The ``vllm-serve`` backend's process management, against a fake ``vllm serve``.

This file is also the fake: run as a script (``python test_vllm_serve.py MODEL --port P ...``) it
parses the arguments ``vllm serve`` takes, prints them as one JSON line to its log, and serves
``/health``, ``/v1/models`` and streamed ``/v1/completions`` with standard library code only.
``--fake-*`` flags (passed as extra args) make it misbehave.
"""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

FAKE = [sys.executable, str(Path(__file__).resolve())]


# ------------------------------------------------------------------------------------------------
# the fake server (stdlib only; runs in a subprocess)
# ------------------------------------------------------------------------------------------------
def _fake_main(argv: list[str]) -> None:
    import argparse
    import signal
    from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

    p = argparse.ArgumentParser()
    p.add_argument("model")
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tensor-parallel-size", type=int, required=True)
    p.add_argument("--pipeline-parallel-size", type=int, required=True)
    p.add_argument("--served-model-name")
    p.add_argument("--max-model-len", type=int)
    p.add_argument("--fake-exit", type=int)
    p.add_argument("--fake-never-healthy", action="store_true")
    p.add_argument("--fake-health-delay", type=float, default=0.0)
    p.add_argument("--fake-ignore-sigterm", action="store_true")
    args = p.parse_args(argv)
    print("FAKE-ARGV " + json.dumps(vars(args), sort_keys=True), flush=True)
    if args.fake_exit is not None:
        print("RuntimeError: CUDA out of memory (fake)", file=sys.stderr, flush=True)
        sys.exit(args.fake_exit)
    if args.fake_ignore_sigterm:
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
    ready_at = time.monotonic() + args.fake_health_delay
    name = args.served_model_name or args.model

    class H(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.0"  # close-delimited bodies

        def log_message(self, fmt: str, *a: object) -> None:
            print("fake-vllm: " + fmt % a, file=sys.stderr, flush=True)

        def _json(self, code: int, obj: object) -> None:
            data = json.dumps(obj).encode()
            self.send_response(code)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def do_GET(self) -> None:
            if self.path == "/health":
                ok = not args.fake_never_healthy and time.monotonic() >= ready_at
                self._json(200 if ok else 503, {})
            elif self.path == "/v1/models":
                self._json(200, {"object": "list", "data": [{"id": name, "object": "model"}]})
            else:
                self._json(404, {"error": "not found"})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", 0))))
            if self.path != "/v1/completions" or body.get("model") != name:
                self._json(404, {"error": {"message": f"unknown model {body.get('model')!r}"}})
                return
            n = int(body["max_tokens"])
            self.send_response(200)
            self.send_header("Content-Type", "text/event-stream")
            self.end_headers()
            for i in range(n):
                ev = {"choices": [{"index": 0, "text": f" w{i}", "finish_reason": "length" if i == n - 1 else None}]}
                self.wfile.write(b"data: " + json.dumps(ev).encode() + b"\n\n")
                self.wfile.flush()
            usage = {"prompt_tokens": len(body["prompt"].split()), "completion_tokens": n, "total_tokens": 0}
            self.wfile.write(b"data: " + json.dumps({"choices": [], "usage": usage}).encode() + b"\n\n")
            self.wfile.write(b"data: [DONE]\n\n")

    ThreadingHTTPServer((args.host, args.port), H).serve_forever()


if __name__ == "__main__":
    _fake_main(sys.argv[1:])
    sys.exit(0)

# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------
import pytest  # noqa: E402

from benchseal.bench.perf.backends.base import GenRequest, StreamingBackend  # noqa: E402
from benchseal.bench.perf.backends.vllm_serve import VLLMServeBackend  # noqa: E402
from benchseal.redact import redact_args  # noqa: E402
from benchseal.errors import ServerError  # noqa: E402


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    # a zombie still answers kill(0); check its state
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def _backend(tmp_path: Path, *extra: str, **kw: object) -> VLLMServeBackend:
    kw.setdefault("startup_timeout_s", 20)
    return VLLMServeBackend(
        "/models/tiny",
        vllm_command=FAKE,
        extra_args=list(extra),
        log_path=tmp_path / "server.log",
        health_interval_s=0.05,
        stop_grace_s=5,
        **kw,
    )


def _argv_from_log(log: Path) -> dict:
    line = next(ln for ln in log.read_text().splitlines() if ln.startswith("FAKE-ARGV "))
    return json.loads(line.removeprefix("FAKE-ARGV "))


def test_command_line_and_redaction():
    b = VLLMServeBackend(
        "Qwen/Qwen2.5-7B", tensor_parallel_size=4, pipeline_parallel_size=2, port=9001,
        served_model_name="qwen", extra_args=["--max-model-len", "4096", "--api-key", "sk-secret"],
    )
    assert b.command() == [
        "vllm", "serve", "Qwen/Qwen2.5-7B", "--host", "127.0.0.1", "--port", "9001",
        "--tensor-parallel-size", "4", "--pipeline-parallel-size", "2", "--served-model-name", "qwen",
        "--max-model-len", "4096", "--api-key", "sk-secret",
    ]
    shown = b.capabilities()["command"]
    assert "sk-secret" not in shown and shown[-2:] == ["--api-key", "***"]
    assert redact_args(["x", "--api-key=abc"]) == ["x", "--api-key=***"]


def test_start_request_log_and_stop(tmp_path: Path):
    async def go() -> None:
        b = _backend(tmp_path, "--max-model-len", "512", tensor_parallel_size=2, pipeline_parallel_size=3,
                     served_model_name="tiny-served")
        assert isinstance(b, StreamingBackend)
        try:
            await b.start()
            assert b.running and b.port is not None
            assert b.endpoint is not None and f":{b.port}/" in b.endpoint
            t0 = time.perf_counter()
            rec = await b.send(GenRequest(7, "one two three", 5), load_point="concurrency=1", t0=t0, timeout_s=10)
            assert rec.status == "ok", rec.error
            assert rec.request_id == 7 and rec.output_tokens_server == 5 and rec.prompt_tokens_server == 3
            assert len(rec.chunk_s) == 5 and rec.first_token_s is not None and rec.first_token_s >= rec.send_s
        finally:
            await b.close()
        pid = b.pid
        assert pid is not None and not _alive(pid) and not b.running
        argv = _argv_from_log(tmp_path / "server.log")
        assert argv["model"] == "/models/tiny" and argv["port"] == b.port and argv["host"] == "127.0.0.1"
        assert argv["tensor_parallel_size"] == 2 and argv["pipeline_parallel_size"] == 3
        assert argv["served_model_name"] == "tiny-served" and argv["max_model_len"] == 512
        log = (tmp_path / "server.log").read_text()
        assert "POST /v1/completions" in log  # the server's own output is in the log
        await b.close()  # safe twice

    asyncio.run(go())




def test_process_exit_during_startup(tmp_path: Path):
    async def go() -> None:
        b = _backend(tmp_path, "--fake-exit", "7")
        with pytest.raises(ServerError) as exc:
            await b.start()
        assert "exited with code 7" in str(exc.value)
        assert "CUDA out of memory (fake)" in str(exc.value)
        assert b.returncode == 7

    asyncio.run(go())


def test_cancel_during_startup_stops_server(tmp_path: Path):
    async def go() -> None:
        b = _backend(tmp_path, "--fake-health-delay", "60")
        task = asyncio.ensure_future(b.start())
        for _ in range(200):  # wait until the fake has written its arguments (it is running)
            await asyncio.sleep(0.02)
            if "FAKE-ARGV" in (tmp_path / "server.log").read_text():
                break
        assert b.running
        task.cancel()  # what Ctrl-C does to the running coroutine
        with pytest.raises(asyncio.CancelledError):
            await task
        assert b.pid is not None and not _alive(b.pid)

    asyncio.run(go())


def test_sigkill_after_grace_period(tmp_path: Path):
    async def go() -> None:
        b = _backend(tmp_path, "--fake-ignore-sigterm", preflight=False)
        b.stop_grace_s = 0.3
        await b.start()
        pid = b.pid
        await b.close()
        assert pid is not None and not _alive(pid)
        assert b.returncode == -9  # SIGKILL

    asyncio.run(go())


def test_missing_vllm_command(tmp_path: Path):
    b = VLLMServeBackend("m", vllm_command=[str(tmp_path / "no-such-vllm"), "serve"], log_path=tmp_path / "l.log")
    with pytest.raises(ServerError, match="command not found"):
        asyncio.run(b.start())


def test_send_before_start_is_an_error_record():
    b = VLLMServeBackend("m")
    rec = asyncio.run(b.send(GenRequest(1, "x", 2), load_point="lp", t0=time.perf_counter(), timeout_s=1))
    assert rec.status == "error" and "not started" in (rec.error or "")


def test_server_death_is_reported_on_requests(tmp_path: Path):
    async def go() -> None:
        import signal

        b = _backend(tmp_path, preflight=False)
        await b.start()
        try:
            os.killpg(b.pid, signal.SIGKILL)
            for _ in range(100):
                if not b.running:
                    break
                await asyncio.sleep(0.02)
            rec = await b.send(GenRequest(1, "a b", 3), load_point="lp", t0=time.perf_counter(), timeout_s=5)
            assert rec.status == "error" and rec.error is not None
            assert rec.error.startswith("connect:") and rec.error.endswith("(vllm serve exited with code -9)")
        finally:
            await b.close()

    asyncio.run(go())
