"""Timing accuracy against injected delays (the only tests here that assert timings).

The controllable server sends token i at t_send + TTFT + i*ITL, t_send being the client's send
instant (passed in a header, same monotonic clock). Measured TTFT and every
inter-chunk gap must match the injected values within 1 ms at p99 under moderate load
(4 concurrent streams, 800 tokens/s). The machine is shared: an attempt is repeated (at most 3)
and the test is skipped, not passed, only when the server itself reports that it sent late or
the host is overloaded, which says the box, not the instrument, was off.
"""

from __future__ import annotations

import json
import os
import urllib.request

import numpy as np
import pytest

from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.run import LoadSpec, run_perf
from benchseal.testing.server import timestamp_errors_ms
from benchseal.io import iter_jsonl

pytestmark = pytest.mark.serial  # timing measurements: alone under pytest-xdist (tests/conftest.py)

TTFT_MS, ITL_MS, TOKENS = 30.0, 5.0, 16


def _server_lateness(url: str) -> dict:
    return json.loads(urllib.request.urlopen(url + "/stats", timeout=5).read())


def _overloaded() -> bool:
    return os.getloadavg()[0] > (os.cpu_count() or 1)


def _host_wake_p99_ms(n: int = 200, period_s: float = 0.005) -> float:
    """How late this process wakes for a deadline right now (coarse sleep, then spin): the floor
    under any client's timing on this host at this moment, measured the way the load generator waits."""
    import time

    late = []
    for _ in range(n):
        due = time.perf_counter() + period_s
        time.sleep(max(period_s - 0.001, 0))
        while time.perf_counter() < due:
            pass
        late.append((time.perf_counter() - due) * 1000)
    late.sort()
    return late[int(0.99 * (n - 1))]


def test_ttft_and_itl_match_injected_delays(spawn_test_server, tmp_path):
    srv = spawn_test_server(ttft_ms=TTFT_MS, itl_ms=ITL_MS)
    reqs = [GenRequest(request_id=i, prompt="a b c", max_tokens=TOKENS) for i in range(8)]
    tries = []
    for attempt in range(3):
        _server_lateness(srv.url)  # reset the server's counters
        be = OpenAIBackend(model="test-model", base_url=srv.url, send_time_header=True)
        report = run_perf(be, reqs, LoadSpec(concurrency=[4], num_requests=40, warmup_requests=4),
                          tmp_path / str(attempt), progress=False)
        server = _server_lateness(srv.url)
        recs = [r for r in iter_jsonl(tmp_path / str(attempt) / "perf" / "requests.jsonl") if not r["warmup"]]
        assert len(recs) == 40 and all(r["status"] == "ok" and len(r["chunk_s"]) == TOKENS for r in recs)
        ttft_err = np.abs(np.array([(r["first_token_s"] - r["send_s"]) * 1e3 for r in recs]) - TTFT_MS)
        itl_err = np.abs(np.concatenate([np.diff(r["chunk_s"]) * 1e3 for r in recs]) - ITL_MS)
        p99 = (float(np.percentile(ttft_err, 99)), float(np.percentile(itl_err, 99)))
        lp = report.load_points[0]
        tries.append({"ttft_err_p99_ms": p99[0], "itl_err_p99_ms": p99[1], "server": server,
                      "ttft_p50": lp.ttft_ms.p50, "itl_p50": lp.itl_ms.p50})
        if max(p99) <= 1.0:
            assert lp.ttft_ms.p50 == pytest.approx(TTFT_MS, abs=1.0) and lp.itl_ms.p50 == pytest.approx(ITL_MS, abs=1.0)
            return
    if all((t["server"]["p99_ms"] or 0) > 0.5 for t in tries) or _overloaded():
        pytest.skip(f"host too busy for a timing check (the server itself sent late): {tries}")
    pytest.fail(f"measured timings off by more than 1 ms at p99: {tries}")


def test_open_loop_arrivals_follow_the_schedule(test_server, tmp_path):
    reqs = [GenRequest(request_id=i, prompt="a b", max_tokens=4, extra={"x_itl_ms": 2}) for i in range(4)]
    tries = []
    for attempt in range(3):
        be = OpenAIBackend(model="test-model", base_url=test_server.url)
        report = run_perf(be, reqs, LoadSpec(rates=[100.0], num_requests=150), tmp_path / str(attempt), progress=False)
        lag = report.load_points[0].schedule_lag_ms
        assert lag.n == 150 and lag.min >= 0
        tries.append((lag.p50, lag.p99))
        if lag.p99 <= 1.0:
            return
    host = _host_wake_p99_ms()
    if _overloaded() or host > 1.0:
        pytest.skip(f"host too busy for a timing check: lag p50/p99 ms {tries}; host wake-up p99 {host:.2f} ms")
    pytest.fail(f"send times off the schedule by more than 1 ms at p99: {tries} (host wake-up p99 {host:.2f} ms)")


def test_client_timestamps_match_the_server_writes(spawn_test_server, tmp_path):
    """The instrument's own error, free of the server's lateness: the server logs when it handed
    each chunk to the kernel (same monotonic clock), the client logs when it saw it. Every chunk of
    every request: never seen before it was written, and seen within 1 ms at p99."""
    srv = spawn_test_server(ttft_ms=TTFT_MS, itl_ms=ITL_MS)
    reqs = [GenRequest(request_id=i, prompt="a b c", max_tokens=TOKENS) for i in range(8)]
    tries = []
    for attempt in range(3):
        json.loads(urllib.request.urlopen(srv.url + "/writes", timeout=5).read())  # clear
        be = OpenAIBackend(model="test-model", base_url=srv.url, send_time_header=True)
        out = tmp_path / str(attempt)
        run_perf(be, reqs, LoadSpec(concurrency=[4], num_requests=40, warmup_requests=4), out, progress=False)
        writes = json.loads(urllib.request.urlopen(srv.url + "/writes", timeout=5).read())["writes"]
        recs = list(iter_jsonl(out / "perf" / "requests.jsonl"))
        assert len(recs) == 44 and all(len(r["chunk_s"]) == TOKENS for r in recs)
        err = np.array(timestamp_errors_ms(recs, writes))
        assert err.min() > -0.05, f"a chunk was timestamped before the server wrote it: {err.min():.3f} ms"
        p50, p99 = float(np.percentile(err, 50)), float(np.percentile(err, 99))
        tries.append((round(p50, 3), round(p99, 3)))
        if p99 <= 1.0:
            return
    host = _host_wake_p99_ms()
    if _overloaded() or host > 1.0:
        pytest.skip(f"host too busy for a timing check: write-to-timestamp p50/p99 ms {tries}; host wake-up p99 {host:.2f} ms")
    pytest.fail(f"chunks timestamped more than 1 ms after the server wrote them at p99: {tries} (host wake-up p99 {host:.2f} ms)")
