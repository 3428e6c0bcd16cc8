"""``--backend vllm-serve`` and ``--backend openai`` against the real vLLM server (CPU build).

The session server (``vllm_server``) is started, health-checked and stopped by benchseal's own
``VLLMServeBackend``; the tests that make a server fail (start-up timeout, exit during start-up, Ctrl-C,
a server killed mid-run) use servers of their own. Nothing here asserts a timing.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import signal
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.backends.vllm_serve import VLLMServeBackend
from benchseal.errors import ServerError
from tests.fixtures.vllm import SERVED_NAME, SERVER_ARGS, VLLM_ENV, alive, group_members, vllm_server_command, wait_group_gone

CLI = [sys.executable, "-m", "benchseal"]
REPO = Path(__file__).resolve().parents[3]


def _cli_env() -> dict[str, str]:
    return {**os.environ, **VLLM_ENV, "PYTHONPATH": str(REPO)}


def _scrape(base_url: str) -> dict[str, float]:
    """``/metrics`` as {sample name with labels: value} (Prometheus text format)."""
    text = urllib.request.urlopen(base_url + "/metrics", timeout=30).read().decode()
    out = {}
    for line in text.splitlines():
        if line and not line.startswith("#"):
            name, _, value = line.rpartition(" ")
            out[name] = float(value)
    return out


def _total(metrics: dict[str, float], name: str) -> float:
    return sum(v for k, v in metrics.items() if k == name or k.startswith(name + "{"))


def test_session_server_measures_exact_tokens_and_matches_its_own_metrics(vllm_server: VLLMServeBackend, tiny_llama_vllm):
    """Streamed requests through the managed server: exact output lengths (ignore_eos), per-chunk times,
    and the server's own Prometheus counters grow by exactly what was sent."""
    reqs = [GenRequest(i, f"the quick brown fox number {i} jumps over", 12) for i in range(6)]

    async def go():
        await vllm_server.start()  # reconnects the client (keep_server); its preflight request is not counted below
        try:
            assert vllm_server.running
            before.update(_scrape(vllm_server.base_url))
            t0 = time.perf_counter()
            return await asyncio.gather(*(vllm_server.send(r, load_point="concurrency=6", t0=t0, timeout_s=120) for r in reqs))
        finally:
            await vllm_server.close()

    before: dict[str, float] = {}
    recs = asyncio.run(go())
    assert vllm_server.running  # keep_server: closing the client leaves the server up
    for r in recs:
        assert r.status == "ok", r.error
        assert r.output_tokens_server == 12 and r.finish_reason == "length"
        assert r.prompt_tokens_server is not None and r.prompt_tokens_server > 5
        assert r.first_token_s is not None and 0 <= r.send_s <= r.first_token_s <= r.end_s
        assert r.chunk_s and r.chunk_s == sorted(r.chunk_s) and r.chunk_s[-1] <= r.end_s
    after = _scrape(vllm_server.base_url)
    grew = lambda name: _total(after, name) - _total(before, name)  # noqa: E731
    assert grew("vllm:generation_tokens_total") == sum(r.output_tokens_server for r in recs)
    assert grew("vllm:prompt_tokens_total") == sum(r.prompt_tokens_server for r in recs)
    assert grew("vllm:e2e_request_latency_seconds_count") == len(reqs)
    assert after.get(f'vllm:request_success_total{{engine="0",finished_reason="length",model_name="{SERVED_NAME}"}}', 0) >= len(reqs)
    for name in ("vllm:time_to_first_token_seconds_count", "vllm:inter_token_latency_seconds_count",
                 "vllm:request_queue_time_seconds_count", "vllm:num_requests_running", "vllm:kv_cache_usage_perc"):
        assert any(k.startswith(name) for k in after), name


def test_perf_openai_cli_against_the_server(vllm_server: VLLMServeBackend, tiny_llama_vllm, tmp_path: Path):
    """``benchseal perf --backend openai`` (main environment) against the vLLM server: two load points, with
    every audit (its probes run outside the /metrics windows the reconciliation below checks)."""
    out = tmp_path / "b"
    res = subprocess.run([*CLI, "perf", "--backend", "openai", "--base-url", vllm_server.base_url, "--model", SERVED_NAME,
                          "--tokenizer", tiny_llama_vllm, "--server-ignore-eos", "--server-token-ids", "--input-len", "32",
                          "--output-len", "8", "--concurrency", "1,3", "--num-requests", "6", "--warmup", "1",
                          "--out", out, "--no-progress", "--json"], capture_output=True, text=True, timeout=600, env=_cli_env())
    assert res.returncode == 0, res.stderr[-3000:]
    summary = json.loads((out / layout.PERF_SUMMARY).read_text())
    assert summary["status"] == "complete"
    audits = {a["name"]: a for a in summary["audits"]}
    assert all(a["status"] == "pass" for a in audits.values()), audits
    assert "12 checked against the server's token ids" in audits["output-consistency"]["detail"], audits["output-consistency"]
    points = {p["load_point"]: p for p in summary["load_points"]}
    assert set(points) == {"concurrency=1", "concurrency=3"}, list(points)
    records = [json.loads(x) for x in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    measured = [r for r in records if not r.get("warmup")]
    assert len(measured) == 12 and all(r["status"] == "ok" for r in measured)
    assert all(r["output_tokens_server"] == 8 == r["output_token_ids"] and r["prompt_tokens_server"] == 32 for r in measured)
    # server-side metrics from the real /metrics: per load point, the server counted what was sent,
    # and verify re-derives the figures from the raw scrapes kept in the bundle
    sm = json.loads((out / layout.PERF_SERVER_METRICS).read_text())
    assert sm["status"] == "collected" and sm["source"] == "discovered", sm.get("reason")
    for lp in sm["load_points"]:
        assert lp["status"] in ("ok", "partial") and lp["dialect"] == "vllm", lp
        sent = 6 + lp["warmup_included"]
        assert lp["requests"] == sent and lp["generation_tokens"] == 8 * sent and lp["prompt_tokens"] == 32 * sent, lp
        assert lp["ttft_ms"]["n"] == sent and lp["reconciliation"]["ttft_overhead_ms"] is not None, lp
    from benchseal.reports.verify.server_metrics import ServerMetricsCheck
    from benchseal.reports.verify.policy import BundleContext, run_policy

    checks = run_policy(ServerMetricsCheck(), BundleContext(out, {}, require_signature=False))
    assert checks and all(c.ok and not c.skipped for c in checks), checks


def test_startup_timeout_stops_the_real_server(vllm_python: Path, tiny_llama_vllm, tmp_path: Path):
    """A real server cannot be healthy within 3 s (it imports for longer): benchseal gives up with the log
    tail and stops the whole process group."""
    b = VLLMServeBackend(str(tiny_llama_vllm), vllm_command=vllm_server_command(vllm_python), extra_args=SERVER_ARGS,
                         log_path=tmp_path / "server.log", startup_timeout_s=3, stop_grace_s=30)
    with pytest.raises(ServerError) as exc:
        asyncio.run(b.start())
    assert "not healthy within 3 s" in str(exc.value) and "# benchseal:" in str(exc.value)
    assert b.pid is not None and not alive(b.pid) and not wait_group_gone(b.pid, 30)


def test_real_server_exiting_during_startup(vllm_python: Path, tiny_llama_vllm, tmp_path: Path):
    """vLLM rejects an engine argument and exits: the exit code and vLLM's own message are reported."""
    b = VLLMServeBackend(str(tiny_llama_vllm), vllm_command=vllm_server_command(vllm_python),
                         extra_args=[*SERVER_ARGS, "--max-model-len", "not-a-number"], log_path=tmp_path / "server.log",
                         startup_timeout_s=600)
    with pytest.raises(ServerError) as exc:
        asyncio.run(b.start())
    msg = str(exc.value)
    assert "exited with code 2 before it was ready" in msg and "not-a-number" in msg
    assert b.returncode == 2 and not wait_group_gone(b.pid, 30)


def _children(pid: int) -> list[int]:
    try:
        return [int(x) for x in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _perf_vllm_serve(vllm_python: Path, model: Path, out: Path, *extra: str) -> subprocess.Popen:
    """``perf --backend vllm-serve`` (vLLM's default process tree: API server, engine core, worker)."""
    return subprocess.Popen(
        [*CLI, "perf", "--backend", "vllm-serve", "--model", str(model),
         "--vllm-command", " ".join(vllm_server_command(vllm_python)),
         *[f"--engine-arg={a}" for a in SERVER_ARGS], "--tokenizer", str(model), "--no-progress", "--out", str(out), *extra],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=_cli_env(), start_new_session=True)


def _wait_for(pred, timeout_s: float, proc: subprocess.Popen, what: str):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = pred()
        if value:
            return value
        if proc.poll() is not None:
            out, err = proc.communicate()
            pytest.fail(f"benchseal exited ({proc.returncode}) before {what}: {err[-3000:]}")
        time.sleep(0.2)
    proc.kill()
    pytest.fail(f"timed out waiting for {what}")


def test_ctrl_c_during_startup_stops_the_server(vllm_python: Path, tiny_llama_vllm, tmp_path: Path):
    out = tmp_path / "b"
    proc = _perf_vllm_serve(vllm_python, tiny_llama_vllm, out, "--input-len", "16", "--output-len", "4", "--num-requests", "2")
    try:
        server = _wait_for(lambda: _children(proc.pid), 120, proc, "the server was launched")[0]
        time.sleep(3)  # the server is importing vLLM (this takes far longer than 3 s)
        assert alive(server)
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 3 and "interrupted" in err and "Traceback" not in err, err[-3000:]
    assert not wait_group_gone(server, 30), "the server's processes outlived Ctrl-C"


def test_server_killed_mid_run_keeps_the_evidence(vllm_python: Path, tiny_llama_vllm, tmp_path: Path):
    """``perf --backend vllm-serve`` through the CLI: a real server is started and measured; killed in the
    middle of the second load point, the run stops with exit 3, keeps what was measured (partial) and leaves
    no server process behind."""
    out = tmp_path / "b"
    n = 40  # requests per load point
    proc = _perf_vllm_serve(vllm_python, tiny_llama_vllm, out, "--input-len", "32", "--output-len", "16",
                            "--concurrency", "1,2", "--num-requests", str(n), "--num-prompts", "8", "--warmup", "1",
                            "--timeout", "60", "--no-audits")  # audit probes would shift the POST count
    log = out / layout.PERF_SERVER_LOG
    try:
        server = _wait_for(lambda: _children(proc.pid), 120, proc, "the server was launched")[0]
        # health-checked, then measured: wait until the first load point is done and the second one runs
        n_posts = lambda: len(re.findall(r'"POST /v1/completions HTTP/1.1" 200', log.read_text(errors="replace")))  # noqa: E731
        # +4 into the second load point (concurrency 2): at least two of its requests answered, 36 still to
        # send (a faster client left +10 too late: the run had ended before the kill landed)
        _wait_for(lambda: n_posts() >= n + 2 + 4, 600, proc, "the second load point was running")
        members = group_members(server)
        os.killpg(server, signal.SIGKILL)
        _, err = proc.communicate(timeout=300)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 3, err[-3000:]
    assert "Traceback" not in err and "partial" in err
    assert len(members) >= 2  # API server, engine core (and its worker): all were in the killed group
    assert not wait_group_gone(server, 30)
    summary = json.loads((out / layout.PERF_SUMMARY).read_text())
    assert summary["status"] == "partial"
    records = [json.loads(x) for x in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    first = [r for r in records if r["load_point"] == "concurrency=1" and not r.get("warmup")]
    second = [r for r in records if r["load_point"] == "concurrency=2"]
    assert len(first) == n and all(r["status"] == "ok" and r["output_tokens_server"] == 16 for r in first)
    assert any(r["status"] == "ok" for r in second)
    failed = [r for r in second if r["status"] != "ok"]
    # the requests that hit the dead server failed (those after the process was reaped name its exit code;
    # earlier ones may fail before the exit is observable); the run's reason always names it
    assert failed, second
    assert "the server stopped answering" in err and "vllm serve exited with code -9" in " ".join(err.split()), err[-2000:]
    text = log.read_text(errors="replace")
    assert text.startswith("# benchseal: ") and "Application startup complete" in text  # vLLM's own output is kept


def test_run_manages_one_real_server_and_always_stops_it(vllm_python: Path, tiny_llama_vllm, tmp_path: Path):
    """``benchseal run --backend vllm-serve``: benchseal starts the real server once, passes the engine
    arguments through, measures the program's workload through it, keeps its log and its /metrics in
    the bundle, and stops it at the end (this replaced a test against a fake ``vllm serve``)."""
    import socket

    out = tmp_path / "b"
    res = subprocess.run(
        [*CLI, "run", "hunan-2025", "--backend", "vllm-serve", "--vllm-command", " ".join(vllm_server_command(vllm_python)),
         "--model", str(tiny_llama_vllm), "--stages", "hw,model,perf", "--workload", "demo-cpu",
         *[f"--engine-arg={a}" for a in SERVER_ARGS], "--out", str(out)],
        capture_output=True, text=True, timeout=900, env=_cli_env())
    assert res.returncode in (0, 1), res.stderr[-3000:]  # 1: the tiny model fails the parameter claim
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert run["stages"]["perf"]["status"] == "complete", run["stages"]
    ident = run["served_model_identity"]  # benchseal started vllm serve from the digested files (issue 22)
    assert ident["status"] == "bound" and ident["method"] == "engine-started:vllm-serve", ident
    assert "--model" in ident["command"] and ident["command"][ident["command"].index("--model") + 1] == str(tiny_llama_vllm)
    assert ident["model_digest"] == json.loads((out / layout.MODEL_JSON).read_text())["model_digest"]
    log = (out / layout.PERF_SERVER_LOG).read_text()
    argv = next(line for line in log.splitlines() if line.startswith("# benchseal: ")).split()
    assert "--max-model-len" in argv and argv[argv.index("--max-model-len") + 1] == "1024" and "--enforce-eager" in argv
    port = int(argv[argv.index("--port") + 1])
    with pytest.raises(OSError):  # stopped: nothing listens on its port any more
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    summary = json.loads((out / layout.PERF_SUMMARY).read_text())
    assert summary["status"] == "complete" and all(lp["completed"] == 8 and lp["failed"] == 0 for lp in summary["load_points"])
    assert json.loads((out / layout.PERF_SERVER_METRICS).read_text())["status"] == "collected"
