"""`benchseal run`'s perf stage audits by default; the bundle verifies with the audits re-derived,
and a failed audit makes the perf claims it touches INCONCLUSIVE with the audit named."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchseal import bundle as layout

pytestmark = pytest.mark.serial  # the cache probe compares timings: alone under pytest-xdist (tests/conftest.py)

EXE = str(Path(sys.executable).parent / "benchseal")
PASS_ENV = "BENCHSEAL_TEST_PASSPHRASE"


def _cli(*argv, env=None, timeout=600):
    return subprocess.run([EXE, *map(str, argv)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_run_audits_and_verify_rederives_them(tmp_path, tiny_llama):
    from benchseal.testing.server import spawn

    env = {PASS_ENV: "pw"}
    assert _cli("keygen", "--out", tmp_path / "k", "--passphrase-env", PASS_ENV, env=env).returncode == 0
    srv = spawn(model="tiny", itl_ms=2.0, quirk="cache")  # a response cache: the cache audit must fail
    out = tmp_path / "b"
    try:
        res = _cli("run", "hunan-2025", "--backend", "openai", "--base-url", srv.url, "--model", "tiny",
                   "--model-path", tiny_llama, "--stages", "hw,perf", "--workload", "demo-cpu", "--out", out,
                   "--skip-audit", "accuracy-under-load:short demo load points", "--key", tmp_path / "k" / "private.pem",
                   "--passphrase-env", PASS_ENV, env=env)
    finally:
        srv.stop()
    assert res.returncode == 1, res.stderr[-2000:]  # claims are not all PASS
    summary = json.loads((out / layout.PERF_SUMMARY).read_text())
    audits = {a["name"]: a for a in summary["audits"]}
    assert audits["cache"]["status"] == "fail" and audits["prompt-reuse"]["status"] == "pass", audits
    assert audits["accuracy-under-load"] == {"name": "accuracy-under-load", "status": "not-run",
                                             "detail": "short demo load points", "touches": []}
    assert all(lp["client_ceiling"]["status"] == "measured" for lp in summary["load_points"])
    claims = json.loads((out / layout.CLAIMS_JSON).read_text())
    perf = [v for v in claims["verdicts"] if v["metric"].startswith("perf.")]
    # the first gate that applies gives the reason: the served model's identity (claims/binding) comes
    # before the audits; every other perf claim names the failed audit
    assert perf and all(v["status"] == "INCONCLUSIVE" for v in perf), perf
    assert all("audit 'cache' failed" in v["reason"] or "model" in v["reason"].lower() for v in perf), perf
    res = _cli("verify", out, "--key", tmp_path / "k" / "public.pem", "--json", "--allow-partial")
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["recompute:perf-audits"]["ok"] and not checks["recompute:perf-audits"].get("skipped"), checks
    assert checks["recompute:perf"]["ok"] and checks["recompute:claims"]["ok"]
