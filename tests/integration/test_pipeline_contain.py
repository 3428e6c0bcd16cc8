"""`benchseal run` never lies, crashes or hangs: a missing model, a dead server, a workload whose
every request fails, a key given instead of a variable name, a chat workload — each ends with one
sentence, the right exit code and (once the bundle exists) a signed partial bundle with claims and
report (issue 11)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from benchseal import bundle as layout

EXE = str(Path(sys.executable).parent / "benchseal")
PASS_ENV = "BENCHSEAL_TEST_PASSPHRASE"


def _cli(*argv, env=None, timeout=300):
    return subprocess.run([EXE, *map(str, argv)], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, PASS_ENV: "contain-pass", **(env or {})})


@pytest.fixture(scope="module")
def key(tmp_path_factory):
    from benchseal.cli import main

    d = tmp_path_factory.mktemp("keys")
    with pytest.MonkeyPatch.context() as mp:  # in-process (issue 20: CI time): the key is an input, not under test
        mp.setenv(PASS_ENV, "contain-pass")
        assert main(["keygen", "--out", str(d), "--passphrase-env", PASS_ENV]) == 0
    return d


def _workload(tmp_path: Path, *, chat: bool = False, n: int = 6) -> Path:
    p = tmp_path / "w.yaml"
    p.write_text(f"workload: {{kind: synthetic, input_len: 16, output_len: 4, num_prompts: {n}, seed: 0, chat: {str(chat).lower()}}}\n"
                 f"load: {{concurrency: [2], num_requests: {n}}}\n")
    return p


def _signed_partial(out: Path, key: Path, run_cli) -> dict:
    for name in (layout.RUN_JSON, layout.CLAIMS_JSON, layout.REPORT_HTML, layout.REPORT_MD, layout.STATEMENT_DSSE):
        assert (out / name).is_file(), name
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert run["status"] == "partial"
    code, stdout, _ = run_cli("verify", out, "--key", key / "public.pem", "--allow-partial")  # in-process: not under test
    assert code == 0, stdout[-2000:]
    return run


def _run(out, key, *extra, env=None):
    return _cli("run", "hunan-2025", "--out", out, "--key", key / "private.pem", "--passphrase-env", PASS_ENV, *extra,
                env=env)


def test_missing_model_fails_preflight_with_one_sentence_and_nothing_signed(tmp_path, key):
    """A usage error found by the pre-flight: exit 2, the sentence last on stderr, no claims, report or
    signature (an unsigned run.json records the refusal), and the directory can be reused."""
    out = tmp_path / "b"
    res = _run(out, key, "--backend", "hf", "--model", tmp_path / "no-such-model", "--stages", "hw,perf")
    assert res.returncode == 2, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "model path does not exist" in res.stderr
    assert "Claims" not in res.stderr  # no table repeating the sentence
    assert sorted(p.name for p in out.iterdir()) == [layout.PROGRAM_JSON, layout.RUN_JSON]
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert run["status"] == "failed" and run["stages"]["preflight"]["status"] == "failed"
    assert run["stages"]["perf"]["status"] == "skipped" and "pre-flight" in run["stages"]["perf"]["error"]
    res = _run(out, key, "--backend", "hf", "--model", tmp_path / "still-no-model", "--stages", "hw")
    assert res.returncode == 2 and "not empty" not in res.stderr, res.stderr[-2000:]  # the refused record is replaced


def test_dead_server_fails_preflight_exit_3(tmp_path, key, tiny_llama, run_cli):
    import socket

    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    out = tmp_path / "b"
    res = _run(out, key, "--backend", "openai", "--base-url", f"http://127.0.0.1:{port}", "--model", "m",
               "--model-path", tiny_llama, "--stages", "hw,perf", "--workload", _workload(tmp_path))
    assert res.returncode == 3, res.stderr[-2000:]
    assert "Traceback" not in res.stderr and "cannot connect" in res.stderr
    run = _signed_partial(out, key, run_cli)
    assert run["stages"]["preflight"]["status"] == "failed" and run["stages"]["hw"]["status"] == "skipped"


def test_every_request_failing_fails_the_perf_stage_naming_the_cause(tmp_path, key, tiny_llama, spawn_test_server, run_cli):
    srv = spawn_test_server(fault="http_error", fault_after=3)  # the pre-flight's requests pass, the run's fail
    out = tmp_path / "b"
    res = _run(out, key, "--backend", "openai", "--base-url", srv.url, "--model", "test-model",
               "--model-path", tiny_llama, "--stages", "perf", "--workload", _workload(tmp_path))
    assert res.returncode == 3, res.stderr[-3000:]
    assert "most requests failed" in res.stderr and "500" in res.stderr
    run = _signed_partial(out, key, run_cli)
    perf = run["stages"]["perf"]
    assert perf["status"] == "failed" and "6 of 6 requests failed" in perf["error"] and "500" in perf["error"]
    assert layout.PERF_REQUESTS in perf["files"]
    claims = json.loads((out / layout.CLAIMS_JSON).read_text())
    perf_verdicts = [v for v in claims["verdicts"] if v["metric"].startswith("perf.")]
    assert perf_verdicts and all("500" in v["reason"] for v in perf_verdicts)
    assert "500" in (out / layout.REPORT_MD).read_text()


def test_chat_workload_chooses_the_chat_endpoint(tmp_path, tiny_llama, test_server):
    out = tmp_path / "b"
    res = _cli("run", "shenzhen-2025", "--backend", "openai", "--base-url", test_server.url, "--model", "test-model",
               "--model-path", tiny_llama, "--stages", "perf", "--workload", _workload(tmp_path, chat=True), "--out", out)
    assert res.returncode in (0, 1), res.stderr[-3000:]
    run = json.loads((out / layout.RUN_JSON).read_text())
    assert run["spec"]["backend"]["endpoint"] == "chat" and run["stages"]["perf"]["status"] == "complete"
    records = [json.loads(line) for line in (out / layout.PERF_REQUESTS).read_text().splitlines()]
    assert records and all(r["status"] == "ok" for r in records)
    # an explicit --endpoint completions with a chat workload is refused before measuring
    res = _cli("run", "shenzhen-2025", "--backend", "openai", "--base-url", test_server.url, "--model", "test-model",
               "--model-path", tiny_llama, "--stages", "perf", "--workload", _workload(tmp_path, chat=True),
               "--endpoint", "completions", "--out", tmp_path / "c")
    assert res.returncode == 2 and "chat" in res.stderr and "Traceback" not in res.stderr


def test_api_key_given_instead_of_a_variable_name_is_refused_unechoed(tmp_path, tiny_llama, test_server):
    for secret in ("sk-proj-4f9c2b7d1e8a6c3b", "hf_AbCdEfGh1234567890XyZ"):
        out = tmp_path / secret[:4]
        res = _cli("run", "hunan-2025", "--backend", "openai", "--base-url", test_server.url, "--model", "test-model",
                   "--api-key-env", secret, "--stages", "perf", "--out", out)
        assert res.returncode == 2, res.stderr
        assert secret not in res.stdout + res.stderr and "--api-key-env" in res.stderr
        assert not out.exists() or not any(secret.encode() in f.read_bytes() for f in out.rglob("*") if f.is_file())


def test_api_key_and_passphrase_never_reach_the_bundle(tmp_path, key, tiny_llama, spawn_test_server):
    srv = spawn_test_server()
    secret = "sk-contain-7e3a9f1c2b"
    out = tmp_path / "b"
    res = _run(out, key, "--backend", "openai", "--base-url", srv.url, "--model", "test-model", "--api-key-env",
               "CONTAIN_KEY", "--model-path", tiny_llama, "--stages", "perf", "--workload", _workload(tmp_path),
               env={"CONTAIN_KEY": secret})
    assert res.returncode in (0, 1), res.stderr[-2000:]
    for f in out.rglob("*"):
        if f.is_file():
            data = f.read_bytes()
            assert secret.encode() not in data and b"contain-pass" not in data, f
