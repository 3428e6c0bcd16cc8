"""The ``hf`` backend on a tiny local Llama (CPU)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from benchseal.bench.perf.backends.base import GenRequest, StreamingBackend
from benchseal.bench.perf.backends.hf import HFBackend
from benchseal.bench.perf.workload import WorkloadSpec, build_workload
from benchseal.errors import ServerError


def _check_ok(rec, max_tokens: int) -> None:
    assert rec.status == "ok", rec.error
    assert rec.output_tokens == rec.output_tokens_server == max_tokens == len(rec.chunk_s)
    assert rec.chunk_tokens == [1] * max_tokens
    assert rec.first_token_s == rec.chunk_s[0]
    assert rec.send_s <= rec.first_token_s <= rec.chunk_s[-1] <= rec.end_s
    assert rec.chunk_s == sorted(rec.chunk_s)
    assert rec.output_tokens_client == max_tokens and rec.finish_reason == "length"






def test_hf_backend_errors_are_records_or_clear(tmp_path: Path):
    b = HFBackend(str(tmp_path / "missing-model"), device="cpu")
    rec = asyncio.run(b.send(GenRequest(0, "x", 2), load_point="lp", t0=time.perf_counter(), timeout_s=5))
    assert rec.status == "error" and "not started" in (rec.error or "")
    with pytest.raises(ServerError, match="could not load the model"):
        asyncio.run(b.start())
    with pytest.raises(ServerError, match="unknown dtype"):
        asyncio.run(HFBackend(str(tmp_path), device="cpu", dtype="float7").start())
