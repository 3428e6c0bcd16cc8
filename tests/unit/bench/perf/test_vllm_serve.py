"""The ``vllm-serve`` backend: its command line, and the one fault the real server cannot be made to show.

Start-up, health checks, measuring, stopping, a start-up timeout, a server exiting during start-up,
Ctrl-C during start-up and a server killed mid-run all run against the real vLLM server in
tests/integration/vllm/test_serve.py. What stays here:

- pure checks (command line and redaction, a missing command, a request before start);
- a server that ignores SIGTERM, so that benchseal must SIGKILL it after the grace period. vLLM's API
  server installs its own SIGTERM handler and shuts down, so no option makes it ignore SIGTERM: this
  file is a stand-in for that case only. Run as a script (``python test_vllm_serve.py --model M --port P
  ...``) it parses the arguments benchseal passes, prints them as one JSON line to its log, ignores
  SIGTERM and answers ``/health``, with standard library code only.
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
    p.add_argument("--model", required=True)
    p.add_argument("--host", required=True)
    p.add_argument("--port", type=int, required=True)
    p.add_argument("--tensor-parallel-size", type=int, required=True)
    p.add_argument("--pipeline-parallel-size", type=int, required=True)
    p.add_argument("--served-model-name")
    args = p.parse_args(argv)
    print("FAKE-ARGV " + json.dumps(vars(args), sort_keys=True), flush=True)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)

    class H(BaseHTTPRequestHandler):
        def log_message(self, fmt: str, *a: object) -> None:
            print("fake-vllm: " + fmt % a, file=sys.stderr, flush=True)

        def do_GET(self) -> None:
            self.send_response(200 if self.path == "/health" else 404)
            self.send_header("Content-Length", "0")
            self.end_headers()

    ThreadingHTTPServer((args.host, args.port), H).serve_forever()


if __name__ == "__main__":
    _fake_main(sys.argv[1:])
    sys.exit(0)

# ------------------------------------------------------------------------------------------------
# tests
# ------------------------------------------------------------------------------------------------
import pytest  # noqa: E402

from benchseal.bench.perf.backends.base import GenRequest  # noqa: E402
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
        "vllm", "serve", "--model", "Qwen/Qwen2.5-7B", "--host", "127.0.0.1", "--port", "9001",
        "--tensor-parallel-size", "4", "--pipeline-parallel-size", "2", "--served-model-name", "qwen",
        "--max-model-len", "4096", "--api-key", "sk-secret",
    ]
    shown = b.capabilities()["command"]
    assert "sk-secret" not in shown and shown[-2:] == ["--api-key", "***"]
    assert redact_args(["x", "--api-key=abc"]) == ["x", "--api-key=***"]


def test_sigkill_after_grace_period(tmp_path: Path):
    async def go() -> None:
        b = _backend(tmp_path, preflight=False, served_model_name="tiny-served", tensor_parallel_size=2)
        b.stop_grace_s = 0.3
        await b.start()
        pid = b.pid
        await b.close()
        assert pid is not None and not _alive(pid)
        assert b.returncode == -9  # SIGKILL
        argv = _argv_from_log(tmp_path / "server.log")
        assert argv["model"] == "/models/tiny" and argv["port"] == b.port and argv["served_model_name"] == "tiny-served"
        assert argv["tensor_parallel_size"] == 2 and argv["pipeline_parallel_size"] == 1

    asyncio.run(go())


def test_missing_vllm_command(tmp_path: Path):
    b = VLLMServeBackend("m", vllm_command=[str(tmp_path / "no-such-vllm"), "serve"], log_path=tmp_path / "l.log")
    with pytest.raises(ServerError, match="command not found"):
        asyncio.run(b.start())


def test_send_before_start_is_an_error_record():
    b = VLLMServeBackend("m")
    rec = asyncio.run(b.send(GenRequest(1, "x", 2), load_point="lp", t0=time.perf_counter(), timeout_s=1))
    assert rec.status == "error" and "not started" in (rec.error or "")




def test_exit_note_names_the_managed_process_exit_once_it_is_observable():
    """When the load generator gives up on a dead managed server, the reason names the process's exit
    code, waiting briefly for the exit to be reaped (it is not always observable when connections first fail)."""
    import signal
    import subprocess
    import sys

    from benchseal.bench.perf.backends.vllm_serve import VLLMServeBackend

    be = object.__new__(VLLMServeBackend)
    be._proc, be.returncode = None, None
    assert be.exit_note(wait_s=0.1) is None  # never started
    be._proc = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        assert be.exit_note(wait_s=0.2) is None  # still running: a hung server, not an exit
        be._proc.send_signal(signal.SIGKILL)
        assert be.exit_note(wait_s=10) == "vllm serve exited with code -9" and be.returncode == -9
    finally:
        be._proc.kill()
        be._proc.wait()
