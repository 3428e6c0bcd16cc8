"""SIGINT, SIGTERM and SIGHUP, once or repeated, with one or two sending processes: `benchseal perf`
and `benchseal run` end with exit 3 and the partial bundle written (signed when a key was given),
the cut-short load point summarised from its requests and marked interrupted, and no worker
process left behind (issue 11). Real subprocesses against benchseal's test server; signals are sent
once the first records are on disk, every wait is bounded."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from benchseal import bundle as layout
from tests.helpers.sampling import sampled

PASS_ENV = "BENCHSEAL_TEST_PASSPHRASE"


def _prompts(path: Path, n: int = 400) -> Path:
    path.write_text("".join(json.dumps({"prompt": f"hello number {i}", "max_tokens": 16}) + "\n" for i in range(n)))
    return path


def _start(argv: list[str], out: Path, tmp_path: Path) -> subprocess.Popen:
    env = {**os.environ, PASS_ENV: "signal-pass"}
    return subprocess.Popen([sys.executable, "-m", "benchseal", *argv], stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, env=env, start_new_session=True)


def _signal_when_measuring(proc: subprocess.Popen, out: Path, sigs: list[int]) -> str:
    lines = out / layout.PERF_REQUESTS
    deadline = time.monotonic() + 240  # start-up imports a tokenizer: slow on a loaded CI host
    while time.monotonic() < deadline and proc.poll() is None:
        if lines.exists() and len(lines.read_text().splitlines()) >= 3:
            break
        time.sleep(0.05)
    assert proc.poll() is None, "the run ended before it could be interrupted"
    assert lines.exists(), "no request was measured within 240 s"
    for s in sigs:
        proc.send_signal(s)
        time.sleep(0.05)
    try:
        _, err = proc.communicate(timeout=120)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError("the interrupted run did not end within 120 s")
    return err


def _no_children_left(proc: subprocess.Popen) -> None:
    """Every process of the run's session is gone: the load generator's workers, and multiprocessing's
    resource tracker (it exits when it reads EOF from the ended parent, a moment later)."""
    deadline = time.monotonic() + 15
    while True:
        left = subprocess.run(["ps", "-o", "pid=,args=", "-s", str(proc.pid)], capture_output=True, text=True).stdout.strip()
        if not left or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert not left, f"processes left behind: {left}"


def _check_perf(out: Path) -> dict:
    summary = json.loads((out / layout.PERF_SUMMARY).read_text())
    records = [json.loads(line) for line in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    assert summary["status"] == "partial"
    (lp,) = summary["load_points"]
    assert lp["interrupted"] and lp["completed"] >= 1
    assert lp["completed"] + lp["failed"] == len(records) < 400  # summarised from what was measured
    from benchseal.bench.perf.metrics import recompute_perf_report

    from benchseal.schema import RequestRecord

    assert recompute_perf_report(summary, [RequestRecord.model_validate(r) for r in records]).model_dump(mode="json") == summary
    return summary


CASES = [
    ("SIGTERM", 1), ("SIGHUP", 1), ("SIGINT,SIGINT", 1), ("SIGTERM", 2), ("SIGINT,SIGINT", 2), ("SIGHUP,SIGTERM", 2),
]


# each case is a real run of about 20 s: a seeded sample of two runs by default, every case with --exhaustive
@pytest.mark.parametrize("sigs,workers", sampled(CASES, 2, key="signals-perf", ids=[f"{s}-w{w}" for s, w in CASES]))
def test_perf_signal_keeps_a_partial_summary_and_exits_3(sigs, workers, spawn_test_server, tiny_llama, tmp_path):
    srv = spawn_test_server(itl_ms=40)
    out = tmp_path / "b"
    proc = _start(["perf", "--base-url", srv.url, "--model", "test-model", "--tokenizer", str(tiny_llama), "--prompts",
                   str(_prompts(tmp_path / "p.jsonl")), "--concurrency", "4", "--workers", str(workers), "--out", str(out),
                   "--no-progress"], out, tmp_path)
    err = _signal_when_measuring(proc, out, [getattr(signal, s) for s in sigs.split(",")])
    assert proc.returncode == 3, err[-2000:]
    assert "Traceback" not in err and f"interrupted by" in err
    _check_perf(out)
    _no_children_left(proc)


@pytest.mark.parametrize("sigs,workers", sampled([("SIGTERM", 1), ("SIGINT,SIGINT", 2)], 1, key="signals-run",
                                                 ids=["SIGTERM-w1", "SIGINT,SIGINT-w2"]))
def test_run_signal_leaves_a_signed_partial_bundle_and_exits_3(sigs, workers, spawn_test_server, tiny_llama, tmp_path):
    keys = tmp_path / "k"
    res = subprocess.run([sys.executable, "-m", "benchseal", "keygen", "--out", str(keys), "--passphrase-env", PASS_ENV],
                         env={**os.environ, PASS_ENV: "signal-pass"}, capture_output=True, text=True, timeout=120)
    assert res.returncode == 0, res.stderr
    srv = spawn_test_server(itl_ms=40)
    wl = tmp_path / "w.yaml"
    wl.write_text(f"workload: {{kind: jsonl, prompts_path: {_prompts(tmp_path / 'p.jsonl')}, num_prompts: 400}}\n"
                  f"load: {{concurrency: [4], workers: {workers}}}\n")
    out = tmp_path / "b"
    proc = _start(["run", "hunan-2025", "--stages", "hw,perf", "--backend", "openai", "--base-url", srv.url,
                   "--model", "test-model", "--model-path", str(tiny_llama), "--workload", str(wl), "--out", str(out),
                   "--key", str(keys / "private.pem"), "--passphrase-env", PASS_ENV], out, tmp_path)
    err = _signal_when_measuring(proc, out, [getattr(signal, s) for s in sigs.split(",")])
    assert proc.returncode == 3, err[-2000:]
    assert "Traceback" not in err
    _check_perf(out)
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert run["status"] == "partial" and run["stages"]["perf"]["status"] == "interrupted"
    assert "interrupted by" in run["stages"]["perf"]["error"]
    for name in (layout.CLAIMS_JSON, layout.REPORT_HTML, layout.STATEMENT_DSSE):
        assert (out / name).is_file(), name
    res = subprocess.run([sys.executable, "-m", "benchseal", "verify", str(out), "--key", str(keys / "public.pem"),
                          "--allow-partial"], capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stdout[-2000:]
    _no_children_left(proc)
