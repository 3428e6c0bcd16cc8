"""run_perf and `benchseal perf`: files written, recomputation, server death, Ctrl-C, export, secrets. — the integration half (servers, models, subprocesses)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path
import pytest
from benchseal.bench.perf.backends.openai import OpenAIBackend
from benchseal.bench.perf.backends.base import GenRequest
from benchseal.bench.perf.metrics import recompute_perf_report
from benchseal.bench.perf.run import LoadSpec, load_workload_file, run_perf
from benchseal.errors import ConfigError, RunInterrupted
from benchseal.io import iter_jsonl, read_json
from benchseal.schema import RequestRecord
from tests.unit.bench.perf.test_perf_run import REQS, _records, _write_prompts  # noqa: F401


def test_run_perf_writes_records_and_recomputable_summary(test_server, tmp_path):
    be = OpenAIBackend(model="test-model", base_url=test_server.url)
    load = LoadSpec(concurrency=[1, 3], rates=[200.0], num_requests=9, warmup_requests=2, slo={"ttft_ms": 1000})
    calls = []

    def annotate(summary, records):
        calls.append(len(records))
        return summary.model_copy(update={"utilisation": {"marker": summary.load_point}})

    report = run_perf(be, REQS, load, tmp_path, annotate=annotate, progress=False)
    assert report.status == "complete" and [lp.load_point for lp in report.load_points] == [
        "concurrency=1", "concurrency=3", "rate=200"]
    recs = _records(tmp_path)
    assert len(recs) == 3 * 11 and calls == [11, 11, 11]
    for lp in report.load_points:
        assert (lp.completed, lp.failed, lp.warmup_excluded) == (9, 0, 2)
        assert lp.ttft_ms.n == 9 and lp.tpot_ms.n == 9 and lp.itl_ms.n > 9 and lp.goodput == lp.request_throughput
        assert lp.token_accounting["output_mismatch"] == 0 and lp.token_accounting["length_checked"] == 9
    assert report.load_points[2].schedule_lag_ms.n == 9
    summary = read_json(tmp_path / "perf" / "summary.json")
    assert summary["load"]["num_requests"] == 9
    for key in ("ttft_ms", "tpot_ms", "itl_ms", "e2el_ms"):
        assert {"mean", "p50", "p90", "p95", "p99"} <= set(summary["load_points"][0][key])
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary


def test_server_killed_during_run_keeps_everything(spawn_test_server, tmp_path):
    srv = spawn_test_server(itl_ms=2, fault="die", fault_after=8, fault_at=1)
    be = OpenAIBackend(model="test-model", base_url=srv.url, preflight=False)
    with pytest.raises(RunInterrupted, match="stopped answering") as exc:
        run_perf(be, REQS, LoadSpec(concurrency=[2], num_requests=200), tmp_path, progress=False)
    assert exc.value.exit_code == 3
    recs = _records(tmp_path)
    summary = read_json(tmp_path / "perf" / "summary.json")
    assert summary["status"] == "partial" and any("partial" in n for n in summary["notes"])
    (lp,) = summary["load_points"]
    assert lp["interrupted"] and 6 <= lp["completed"] <= 8 and lp["completed"] + lp["failed"] == len(recs) < 200
    assert recompute_perf_report(summary, recs).model_dump(mode="json") == summary


def test_cli_ctrl_c_marks_partial_and_exits_3(spawn_test_server, tiny_llama, tmp_path):
    srv = spawn_test_server(itl_ms=40)
    prompts = _write_prompts(tmp_path / "p.jsonl", 200)
    out = tmp_path / "bundle"
    cmd = [sys.executable, "-m", "benchseal", "perf", "--base-url", srv.url, "--model", "test-model",
           "--tokenizer", str(tiny_llama), "--prompts", str(prompts), "--concurrency", "4", "--out", str(out), "--no-progress"]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    # Start-up (importing transformers for the tokenizer) took over 60 s on a loaded host, so the old
    # 60 s wait sent SIGINT before anything was measured, while a library swallowed the KeyboardInterrupt:
    # the run went on and exited 0. Now a signal is never lost (benchseal.interrupts) and this waits,
    # bounded, until requests are measured, so the signal lands inside the load point.
    deadline = time.monotonic() + 240
    lines = out / "perf" / "requests.jsonl"
    while time.monotonic() < deadline and proc.poll() is None and (not lines.exists() or len(lines.read_text().splitlines()) < 5):
        time.sleep(0.05)
    assert proc.poll() is None and lines.exists(), "nothing was measured within 240 s"
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=30)
    assert proc.returncode == 3, err
    assert "interrupted" in err and "Traceback" not in err
    summary = read_json(out / "perf" / "summary.json")
    recs = _records(out)
    assert summary["status"] == "partial" and summary["load_points"][0]["interrupted"]
    assert len(recs) >= 5 and sum(r.status == "cancelled" for r in recs) >= 1
    assert summary["load_points"][0]["completed"] + summary["load_points"][0]["failed"] == len(recs)


def test_cli_json_export_and_api_key_never_written(test_server, tiny_llama, tmp_path, run_cli, monkeypatch):
    secret = "sk-test-4f9c2b7d1e"
    monkeypatch.setenv("BS_TEST_KEY", secret)
    prompts = _write_prompts(tmp_path / "p.jsonl", 5, max_tokens=3)
    out = tmp_path / "bundle"
    code, stdout, stderr = run_cli("perf", "--base-url", test_server.url, "--model", "test-model", "--api-key-env",
                                   "BS_TEST_KEY", "--tokenizer", tiny_llama, "--prompts", prompts, "--concurrency", "2",
                                   "--rate", "inf", "--slo", "ttft_ms=5000", "--export", "csv", "--out", out, "--json")
    assert code == 0, stderr
    report = json.loads(stdout)
    assert [lp["completed"] for lp in report["load_points"]] == [5, 5]  # each prompt once per load point
    assert report["load"]["rates"] == ["inf"] and report["load_points"][1]["goodput"] is not None
    assert (out / "perf" / "requests.csv").exists() and (out / "perf" / "summary.csv").exists()
    import pandas as pd

    assert len(pd.read_csv(out / "perf" / "requests.csv")) == 10
    assert secret not in stdout + stderr
    for f in out.rglob("*"):
        if f.is_file():
            assert secret.encode() not in f.read_bytes(), f


def test_cli_bad_input_exit_2(run_cli, tmp_path, test_server, tiny_llama):
    code, _, err = run_cli("perf", "--model", "m", "--out", tmp_path, "--slo", "latency=3", "--tokenizer", tiny_llama)
    assert code == 2 and "slo" in err and "Traceback" not in err
    code, _, err = run_cli("perf", "--model", "wrong", "--base-url", test_server.url, "--tokenizer", tiny_llama,
                           "--num-prompts", "2", "--input-len", "8", "--output-len", "4", "--out", tmp_path)
    assert code == 2 and "not served" in err
    assert not (tmp_path / "perf" / "requests.jsonl").exists()  # nothing half-written
