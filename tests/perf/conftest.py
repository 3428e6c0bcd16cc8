"""Shared fixtures for the perf tests.

- ``test_server``: one controllable streaming server (benchseal.testing.server) per session on
  127.0.0.1, zero delay by default; per-request delays and faults go in ``GenRequest.extra``
  (``x_ttft_ms``, ``x_itl_ms``, ``x_fault``, ``x_fault_at``, ``x_usage_offset``).
- ``spawn_test_server``: a factory for private servers (server-wide faults such as ``die``).
- ``transformers_server``: ``transformers serve`` with the tiny Llama on 127.0.0.1 (session scope).
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest


@pytest.fixture(scope="session")
def test_server():
    from benchseal.testing.server import spawn

    srv = spawn()
    yield srv
    srv.stop()


@pytest.fixture
def spawn_test_server():
    from benchseal.testing.server import spawn

    started = []

    def _spawn(**kw):
        srv = spawn(**kw)
        started.append(srv)
        return srv

    yield _spawn
    for srv in started:
        srv.stop()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def transformers_server(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory):
    """``transformers serve`` pinned to the tiny Llama; yields (base_url, model_name)."""
    exe = Path(sys.executable).parent / "transformers"
    if not exe.exists():
        pytest.skip("transformers CLI not installed (pip install 'transformers[serving]')")
    home = tmp_path_factory.mktemp("hf-home")
    (home / "hub").mkdir()
    port = _free_port()
    log = open(home / "serve.log", "w")
    env = {**os.environ, "HF_HOME": str(home), "HF_HUB_OFFLINE": "1"}
    proc = subprocess.Popen([str(exe), "serve", str(tiny_llama), "--host", "127.0.0.1", "--port", str(port),
                             "--device", "cpu"], stdout=log, stderr=subprocess.STDOUT, env=env)
    url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    try:
        while True:
            if proc.poll() is not None:
                pytest.fail(f"transformers serve exited: {(home / 'serve.log').read_text()[-2000:]}")
            try:
                urllib.request.urlopen(url + "/health", timeout=2).read()
                break
            except OSError:
                if time.monotonic() > deadline:
                    pytest.fail("transformers serve did not become ready in 90 s")
                time.sleep(0.3)
        yield url, str(tiny_llama)
    finally:
        proc.terminate()
        try:
            proc.wait(15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)
        log.close()
