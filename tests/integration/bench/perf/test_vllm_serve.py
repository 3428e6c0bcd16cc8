"""The ``vllm-serve`` backend's process management, against a fake ``vllm serve``. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import asyncio
import json
import os
import sys
import time
from pathlib import Path

import pytest

from benchseal.bench.perf.backends.base import GenRequest, StreamingBackend  # noqa: F401
from benchseal.bench.perf.backends.vllm_serve import VLLMServeBackend  # noqa: F401
from benchseal.errors import ServerError
from tests.unit.bench.perf.test_vllm_serve import FAKE, _alive, _argv_from_log, _backend, _fake_main  # noqa: F401


def test_startup_timeout_reports_log_tail_and_stops(tmp_path: Path):
    async def go() -> None:
        b = _backend(tmp_path, "--fake-never-healthy", startup_timeout_s=1.0)
        with pytest.raises(ServerError) as exc:
            await b.start()
        msg = str(exc.value)
        assert "not healthy within 1 s" in msg and "HTTP 503" in msg and "FAKE-ARGV" in msg
        assert b.pid is not None and not _alive(b.pid)

    asyncio.run(go())
