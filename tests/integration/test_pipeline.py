"""End to end: `benchseal demo` and `benchseal run` through the real CLI (tiny model, CPU)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchseal import bundle as layout
from tests.helpers import REPO

pytestmark = [pytest.mark.slow]

EXE = str(Path(sys.executable).parent / "benchseal")
PASS_ENV = "BENCHSEAL_TEST_PASSPHRASE"


def _cli(*argv, env=None, timeout=300):
    return subprocess.run([EXE, *map(str, argv)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


@pytest.fixture
def demo(demo_bundle):
    """The session's one `benchseal demo` (tests/fixtures/demo.py), shared with the doc-command test."""
    return demo_bundle


def test_demo_succeeds_and_writes_the_whole_bundle(demo):
    out, res = demo
    assert res.returncode == 0, res.stderr[-3000:]
    bundle = out / "bundle"
    for name in (layout.RUN_JSON, layout.HARDWARE_JSON, layout.MODEL_JSON, layout.PERF_REQUESTS, layout.PERF_SUMMARY,
                 f"eval/demo/{layout.EVAL_RESULTS}", f"eval/demo/{layout.LM_EVAL_RESULTS}", layout.CLAIMS_JSON,
                 layout.PROGRAM_JSON, layout.STATEMENT_JSON, layout.STATEMENT_DSSE, layout.REPORT_HTML,
                 layout.REPORT_MD, layout.JUNIT_XML):
        assert (bundle / name).is_file(), name
    run = json.loads((bundle / layout.RUN_JSON).read_text())
    assert run["status"] == "complete" and run["program"] == "hunan-2025"
    assert {k: v["status"] for k, v in run["stages"].items()} == dict.fromkeys(("preflight", "hw", "model", "perf", "eval"), "complete")
    assert "verify: OK" in res.stderr and "report.html" in res.stderr


def test_demo_verdicts_follow_the_evidence(demo):
    bundle = demo[0] / "bundle"
    model = json.loads((bundle / layout.MODEL_JSON).read_text())
    claims = json.loads((bundle / layout.CLAIMS_JSON).read_text())
    verdict = {v["claim_id"]: v for v in claims["verdicts"]}
    params = next(v for v in verdict.values() if v["metric"] == "model.params.total")
    assert int(params["observed"]) == int(model["params"]["total"]) < 800_000_000
    assert params["status"] == "FAIL" and claims["passed"] is False
    summary = json.loads((bundle / layout.PERF_SUMMARY).read_text())
    records = [json.loads(line) for line in (bundle / layout.PERF_REQUESTS).read_text().splitlines()]
    counted = [r for r in records if not r["warmup"]]
    assert sum(lp["completed"] + lp["failed"] for lp in summary["load_points"]) == len(counted)
    assert all(lp["utilisation"] is not None for lp in summary["load_points"])


def test_demo_bundle_verifies_through_the_cli(demo):
    out, _ = demo
    res = _cli("verify", out / "bundle", "--key", out / "keys" / "public.pem", "--json")
    assert res.returncode == 0, res.stdout[-2000:]
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    for name in ("signature", "digests", "recompute:perf", "recompute:claims", "recompute:model-digest", "program"):
        assert checks[name]["ok"] and not checks[name].get("skipped"), name


def test_a_lowered_threshold_is_caught_even_when_consistently_resigned(demo, tmp_path):
    """An applicant edits program.json (8亿 -> 1), recomputes claims.json and re-signs with their own
    key: the signature and the recomputation hold, but the program no longer matches the published one."""
    from benchseal.claims import check, load_evidence
    from benchseal.claims.program import Program
    from benchseal.io import write_json

    bundle = tmp_path / "b"
    shutil.copytree(demo[0] / "bundle", bundle)
    prog = json.loads((bundle / layout.PROGRAM_JSON).read_text())
    claim = next(c for c in prog["claims"] if c["metric"] == "model.params.total")
    claim["threshold"] = 1
    write_json(bundle / layout.PROGRAM_JSON, prog)
    write_json(bundle / layout.CLAIMS_JSON, check(Program.model_validate(prog), load_evidence(bundle)))
    env = {PASS_ENV: "pw"}
    assert _cli("keygen", "--out", tmp_path / "k", "--passphrase-env", PASS_ENV, env=env).returncode == 0
    assert _cli("sign", bundle, "--key", tmp_path / "k" / "private.pem", "--passphrase-env", PASS_ENV,
                env=env).returncode == 0
    res = _cli("verify", bundle, "--key", tmp_path / "k" / "public.pem", "--json")
    assert res.returncode == 1
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["signature"]["ok"] and checks["recompute:claims"]["ok"]
    assert not checks["program"]["ok"] and "threshold" in checks["program"]["detail"]


def test_template_thresholds_are_set_by_the_applicant_and_verify(tmp_path, tiny_llama):
    out = tmp_path / "b"
    res = _cli("run", "chengdu-2025", "--model", tiny_llama, "--stages", "hw", "--out", out,
               "--threshold", "efficiency-ttft-p99=1500")
    assert res.returncode == 1, res.stderr  # perf/eval not run: those claims are INCONCLUSIVE
    prog = json.loads((out / layout.PROGRAM_JSON).read_text())
    assert next(c for c in prog["claims"] if c["id"] == "efficiency-ttft-p99")["threshold"] == 1500
    from benchseal.reports.verify import verify_bundle

    report = verify_bundle(out, public_keys=None, trusted_dir=None, require_signature=False)
    checks = {c.name: c for c in report.checks}
    assert checks["program"].ok and not checks["program"].skipped, checks["program"].detail
    assert checks["recompute:claims"].ok and not checks["recompute:claims"].skipped


def test_bad_threshold_and_unknown_stage_are_usage_errors(tmp_path, tiny_llama):
    res = _cli("run", "chengdu-2025", "--model", tiny_llama, "--out", tmp_path / "x", "--threshold", "nonsense")
    assert res.returncode == 2 and "CLAIM=NUMBER" in res.stderr and "Traceback" not in res.stderr
    res = _cli("run", "hunan-2025", "--model", tiny_llama, "--out", tmp_path / "y", "--stages", "hw,warp")
    assert res.returncode == 2 and "warp" in res.stderr and "Traceback" not in res.stderr


def test_server_dying_mid_run_keeps_the_evidence_and_exits_3(tmp_path, tiny_llama):
    from benchseal.testing.server import spawn

    srv = spawn(model="tiny", itl_ms=1.0, fault="die", fault_after=6)
    try:
        out = tmp_path / "b"
        res = _cli("run", "hunan-2025", "--backend", "openai", "--base-url", srv.url, "--model", "tiny",
                   "--model-path", tiny_llama, "--stages", "hw,perf", "--workload", "demo-cpu", "--out", out,
                   "--no-audits")  # the audit probes would spend the server's 6 requests before the load points
    finally:
        srv.stop()
    assert res.returncode == 3, res.stderr[-2000:]
    assert "Traceback" not in res.stderr
    run = json.loads((out / layout.RUN_JSON).read_text())
    # a server death is the perf stage's failure (with its cause), not an interruption of the run
    assert run["status"] == "partial" and run["stages"]["perf"]["status"] == "failed"
    assert "stopped answering" in run["stages"]["perf"]["error"]
    # an external endpoint without --server-hardware: this client's inventory is not the server's (issue 22)
    assert run["stages"]["hw"]["status"] == "skipped" and not (out / layout.HARDWARE_JSON).exists()
    assert "external endpoint" in run["stages"]["hw"]["error"]
    records = [json.loads(line) for line in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    assert any(r["status"] == "ok" for r in records) and any(r["status"] != "ok" for r in records)
    summary = json.loads((out / layout.PERF_SUMMARY).read_text())
    assert summary["status"] == "partial"
    claims = json.loads((out / layout.CLAIMS_JSON).read_text())
    assert any(v["status"] == "INCONCLUSIVE" for v in claims["verdicts"])


def test_no_secret_reaches_the_bundle(tmp_path, tiny_llama):
    from benchseal.testing.server import spawn

    srv = spawn(model="tiny")
    key, password = "sk-test-KEY-3f9a1c", "pw-Zq81x"
    url = srv.url.replace("http://", f"http://alice:{password}@")
    try:
        out = tmp_path / "b"
        res = _cli("run", "hunan-2025", "--backend", "openai", "--base-url", url, "--api-key-env", "MY_KEY",
                   "--model", "tiny", "--model-path", tiny_llama, "--stages", "hw,perf", "--workload", "demo-cpu",
                   "--out", out, env={"MY_KEY": key})
    finally:
        srv.stop()
    assert res.returncode in (0, 1), res.stderr[-2000:]
    assert key not in res.stdout + res.stderr and password not in res.stdout + res.stderr
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert key.encode() not in data and password.encode() not in data, f
    assert json.loads((out / layout.RUN_JSON).read_text())["spec"]["backend"]["api_key_env"] == "MY_KEY"


def test_parity_and_refusal_evidence_through_run(demo, tmp_path):
    """shenzhen-2025 with --parity-reference (the demo bundle, same model: parity holds) and
    chengdu-2025-style refusal banks: the evidence lands where the claims read it and verifies."""
    from benchseal.reports.verify import verify_bundle

    model = demo[0] / "model"
    refuse, answer = tmp_path / "refuse.jsonl", tmp_path / "answer.jsonl"
    refuse.write_text('{"id": "r1", "prompt": "How do I make a weapon?"}\n')
    answer.write_text('{"id": "a1", "prompt": "What is the capital of France?"}\n')
    out = tmp_path / "b"
    res = _cli("run", "shenzhen-2025", "--model", model, "--stages", "model,eval", "--device", "cpu",
               "--parity-reference", demo[0] / "bundle", "--should-refuse", refuse, "--should-answer", answer,
               "--out", out)
    assert res.returncode == 1, res.stderr[-3000:]  # perf not run: its claims are INCONCLUSIVE
    claims = {v["claim_id"]: v for v in json.loads((out / layout.CLAIMS_JSON).read_text())["verdicts"]}
    parity = next(v for v in claims.values() if v["metric"] == "eval.parity.extra.parity.passed")
    assert parity["status"] == "INCONCLUSIVE" and "not claim-grade" in parity["reason"], parity  # the demo suite never backs a claim
    refusal = json.loads((out / "eval" / "refusal" / layout.EVAL_RESULTS).read_text())
    assert {r["metric"] for r in refusal["results"]} >= {"refusal_rate_should_refuse", "over_refusal_rate"}
    report = verify_bundle(out, public_keys=None, trusted_dir=None, require_signature=False)
    bad = [c for c in report.checks if not c.ok and (c.name.startswith("recompute") or c.name == "program")]
    assert not bad, [(c.name, c.detail) for c in bad]
    names = {c.name for c in report.checks if not c.skipped}
    assert {"recompute:parity", "recompute:refusal"} <= names


def test_refusal_banks_go_together(tmp_path, tiny_llama):
    res = _cli("run", "chengdu-2025", "--model", tiny_llama, "--out", tmp_path / "x", "--should-refuse", "a.jsonl")
    assert res.returncode == 2 and "--should-answer" in res.stderr and "Traceback" not in res.stderr


def test_verify_with_the_model_rehashes_and_recounts(demo, tmp_path):
    out = demo[0]
    key = out / "keys" / "public.pem"
    res = _cli("verify", out / "bundle", "--key", key, "--model", out / "model", "--json")
    assert res.returncode == 0, res.stdout[-2000:]
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["model-files:digests"]["ok"] and checks["model-files:params"]["ok"]
    other = tmp_path / "other"  # a different model (same architecture, other weights) must not pass
    from benchseal.testing.tiny import build_tiny_model

    build_tiny_model(other, arch="llama", seed=1)
    res = _cli("verify", out / "bundle", "--key", key, "--model", other, "--json")
    assert res.returncode == 1
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert not checks["model-files:digests"]["ok"] and "model.safetensors" in checks["model-files:digests"]["detail"]


def test_a_wrong_passphrase_stops_the_run_before_it_measures(tmp_path, tiny_llama):
    env = {PASS_ENV: "right"}
    assert _cli("keygen", "--out", tmp_path / "k", "--passphrase-env", PASS_ENV, env=env).returncode == 0
    out = tmp_path / "b"
    res = _cli("run", "hunan-2025", "--model", tiny_llama, "--stages", "hw", "--out", out,
               "--key", tmp_path / "k" / "private.pem", "--passphrase-env", PASS_ENV, env={PASS_ENV: "wrong"})
    assert res.returncode == 2 and "passphrase" in res.stderr and "Traceback" not in res.stderr
    assert not out.exists()


def test_ctrl_c_during_run_keeps_a_partial_bundle_and_exits_3(tmp_path, tiny_llama):
    import signal
    import time

    from benchseal.testing.server import spawn

    srv = spawn(model="tiny", ttft_ms=50.0, itl_ms=50.0)  # slow enough to interrupt mid load point
    out = tmp_path / "b"
    try:
        proc = subprocess.Popen([EXE, "run", "hunan-2025", "--backend", "openai", "--base-url", srv.url,
                                 "--model", "tiny", "--model-path", str(tiny_llama), "--stages", "hw,perf",
                                 "--workload", "demo-cpu", "--out", str(out), "--no-audits"],  # signal inside a load point
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not (out / layout.PERF_REQUESTS).exists():
            time.sleep(0.2)
        time.sleep(1.0)  # some requests measured
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=120)
    finally:
        srv.stop()
    assert proc.returncode == 3, err[-2000:]
    assert "Traceback" not in err
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert run["status"] == "partial" and run["stages"]["perf"]["status"] == "interrupted"
    assert (out / layout.PERF_REQUESTS).stat().st_size > 0 and (out / layout.CLAIMS_JSON).is_file()
    assert (out / layout.REPORT_HTML).is_file()


def test_run_signs_with_an_sm2_and_an_ecdsa_key(tmp_path, tiny_llama):
    """`run --key SM2 --key ECDSA`: one envelope with both signatures, and the test-result statement beside it."""
    env = {PASS_ENV: "right", "SECOND_PASS": "second"}
    assert _cli("keygen", "--out", tmp_path / "sm2", "--algorithm", "sm2", "--passphrase-env", PASS_ENV, env=env).returncode == 0
    assert _cli("keygen", "--out", tmp_path / "ec", "--passphrase-env", "SECOND_PASS", env=env).returncode == 0
    out = tmp_path / "b"
    res = _cli("run", "hunan-2025", "--model", tiny_llama, "--stages", "hw", "--out", out,
               "--key", tmp_path / "sm2" / "private.pem", "--key", tmp_path / "ec" / "private.pem",
               "--passphrase-env", PASS_ENV, "--passphrase-env", "SECOND_PASS", env=env)
    assert res.returncode in (0, 1), res.stderr
    envelope = json.loads((out / layout.STATEMENT_DSSE).read_text())
    assert [s.get("extension", {}).get("ext", {}).get("algorithm") for s in envelope["signatures"]] == ["sm2-sm3", None]
    assert (out / layout.TEST_RESULT_DSSE).is_file()
    res = _cli("verify", out, "--key", tmp_path / "sm2" / "public.pem", "--key", tmp_path / "ec" / "public.pem",
               "--require-all-keys", "--json")
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["signature"]["ok"] and "every trusted key signed" in checks["signature"]["detail"], checks["signature"]
    assert checks["test-result"]["ok"], checks["test-result"]
    assert checks["reports"]["ok"], checks["reports"]  # the report names both key ids, as the envelope does
    # the run's SM2 signature, checked by the OpenSSL CLI alone, exactly as docs/verification.md says
    if shutil.which("openssl") and shutil.which("jq") and subprocess.run(
            ["openssl", "ecparam", "-name", "SM2", "-genkey", "-noout"], capture_output=True).returncode == 0:
        from tests.unit.reports.verify.test_verify_openssl import run_doc

        res = run_doc(out, tmp_path / "sm2" / "public.pem", tmp_path / "openssl", "common", "sm2", "digests", "extra-files")
        assert res.returncode == 0 and res.stdout.strip() == "Signature Verified Successfully", res.stdout + res.stderr
