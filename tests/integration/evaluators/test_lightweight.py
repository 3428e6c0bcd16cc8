"""Lightweight deployment measured end to end on CPU: the tiny model in float32 (full) and a
bfloat16 copy of it (light), both run through `benchseal run hunan-2025` with the same workload and
suite; the light run with `--lightweight-of FULL_BUNDLE`, signed, then verified and tampered with."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from benchseal import bundle as layout

pytestmark = [pytest.mark.slow, pytest.mark.xdist_group("lightweight")]  # one worker builds the module's two runs

EXE = str(Path(sys.executable).parent / "benchseal")
PASS_ENV = "BENCHSEAL_TEST_PASSPHRASE"
COMMON = ("--backend", "hf", "--device", "cpu", "--stages", "model,perf,eval", "--workload", "demo-cpu", "--suite", "demo")


def _cli(*argv, timeout=600):
    env = {**os.environ, PASS_ENV: "pw", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}
    return subprocess.run([EXE, *map(str, argv)], capture_output=True, text=True, timeout=timeout, env=env)


@pytest.fixture(scope="module")
def light_model(tiny_llama: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A bfloat16 copy of the float32 tiny model (same tokenizer): half the bytes per weight."""
    import torch
    import transformers

    out = tmp_path_factory.mktemp("light") / "tiny-bf16"
    model = transformers.AutoModelForCausalLM.from_pretrained(tiny_llama, dtype=torch.float32)
    model.to(torch.bfloat16).save_pretrained(out)
    transformers.AutoTokenizer.from_pretrained(tiny_llama).save_pretrained(out)
    return out


@pytest.fixture(scope="module")
def keys(tmp_path_factory: pytest.TempPathFactory) -> Path:
    d = tmp_path_factory.mktemp("keys") / "k"
    assert _cli("keygen", "--out", d, "--passphrase-env", PASS_ENV).returncode == 0
    return d


@pytest.fixture(scope="module")
def full_bundle(tiny_llama: Path, keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("full") / "b"  # signed: a reference backs a claim only with its key (issue 21)
    res = _cli("run", "hunan-2025", "--model", tiny_llama, *COMMON, "--out", out,
               "--key", keys / "private.pem", "--passphrase-env", PASS_ENV)
    assert res.returncode == 1, res.stderr[-3000:]  # complete; hunan's required claims fail on a tiny model
    return out


@pytest.fixture(scope="module")
def light_bundle(light_model: Path, full_bundle: Path, keys: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("light-run") / "b"
    res = _cli("run", "hunan-2025", "--model", light_model, *COMMON, "--dtype", "bfloat16", "--lightweight-of", full_bundle,
               "--reference-key", keys / "public.pem", "--out", out, "--key", keys / "private.pem", "--passphrase-env", PASS_ENV)
    assert res.returncode == 1, res.stderr[-3000:]
    return out


@pytest.fixture
def cli(run_cli, monkeypatch):
    """The CLI in-process (sign, verify and refusals are not about the subprocess; issue 20: CI time):
    a CompletedProcess-like (returncode, stdout, stderr), with the passphrase and offline environment of _cli."""
    for k, v in {PASS_ENV: "pw", "HF_HUB_OFFLINE": "1", "HF_DATASETS_OFFLINE": "1"}.items():
        monkeypatch.setenv(k, v)

    def _run(*argv):
        code, out, err = run_cli(*argv)
        return subprocess.CompletedProcess(argv, code, out, err)

    return _run


def _verdicts(bundle: Path) -> dict:
    return {v["claim_id"]: v for v in json.loads((bundle / layout.CLAIMS_JSON).read_text())["verdicts"]}


def test_the_full_run_alone_leaves_the_lightweight_claims_inconclusive(full_bundle: Path):
    v = _verdicts(full_bundle)
    light = {k: x for k, x in v.items() if k.startswith("lightweight")}
    assert light and all(x["status"] == "INCONCLUSIVE" and "no lightweight variant measured" in x["reason"] for x in light.values())
    caps = json.loads((full_bundle / layout.PERF_SUMMARY).read_text())["capabilities"]["memory"]
    assert caps["dtype"] == "float32" and caps["peak_kind"] == "process_peak_rss" and caps["weights_bytes"] > 0


def test_the_light_run_measures_memory_speed_and_parity_against_the_full_model(light_bundle: Path, full_bundle: Path):
    run = json.loads((light_bundle / layout.RUN_JSON).read_text())
    assert run["status"] == "complete" and run["stages"]["lightweight"]["status"] == "complete"
    lw = json.loads((light_bundle / layout.LIGHTWEIGHT_JSON).read_text())
    full_caps = json.loads((full_bundle / layout.PERF_SUMMARY).read_text())["capabilities"]["memory"]
    light_caps = json.loads((light_bundle / layout.PERF_SUMMARY).read_text())["capabilities"]["memory"]
    assert light_caps["dtype"] == "bfloat16"
    assert lw["memory"]["weights_ratio"] == pytest.approx(light_caps["weights_bytes"] / full_caps["weights_bytes"])
    assert 0.45 < lw["memory"]["weights_ratio"] < 0.55  # bf16 against fp32
    assert 0.45 < lw["weights"]["bytes_ratio"] < 0.55
    assert lw["memory"]["peak_kind"] == "process_peak_rss" and lw["memory"]["peak_ratio"] > 0
    assert {lp["load_point"] for lp in lw["perf"]["load_points"]} == {"concurrency=1", "concurrency=2"}
    assert {t["task"] for t in lw["parity"]["tasks"]} == {"demo/benchseal_demo_mc", "demo/benchseal_demo_gen"}
    assert (light_bundle / "lightweight/reference/model.json").read_bytes() == (full_bundle / layout.MODEL_JSON).read_bytes()
    v = _verdicts(light_bundle)
    assert v["lightweight-memory"]["status"] == "PASS" and v["lightweight-memory"]["observed"] == pytest.approx(lw["memory"]["weights_ratio"])
    # the demo suite is never claim-grade (and a tiny random model scores 0 on its generation task), so
    # parity on it is a figure, not a claim (claims.gates: parity-not-claim-grade, parity-zero)
    acc = v["lightweight-accuracy-parity"]
    assert acc["status"] == "INCONCLUSIVE" and {"parity-not-claim-grade", "parity-zero"} & set(acc["flags"]), acc
    # demo-cpu is not hunan's workload: the throughput ratio is a figure, not a claim (claims.gates)
    assert v["lightweight-throughput"]["status"] == "INCONCLUSIVE" and "workload-not-program" in v["lightweight-throughput"]["flags"]
    assert lw["reference"]["signature"]["verified"] and lw["reference"]["model_digest"] != json.loads(
        (light_bundle / layout.MODEL_JSON).read_text())["model_digest"]
    assert (light_bundle / "eval/parity/results.json").is_file()  # --lightweight-of implies --parity-reference
    assert "Lightweight deployment" in (light_bundle / layout.REPORT_MD).read_text()


def test_the_light_bundle_verifies_and_a_tampered_comparison_does_not(light_bundle: Path, keys: Path, tmp_path: Path, cli):
    res = cli("verify", light_bundle, "--key", keys / "public.pem", "--json")
    assert res.returncode == 0, res.stdout[-3000:]
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["recompute:lightweight"]["ok"] and not checks["recompute:lightweight"].get("skipped")

    # A better memory ratio written into lightweight.json and consistently re-signed: only the
    # recomputation from the stored inputs catches it.
    bad = tmp_path / "bad"
    shutil.copytree(light_bundle, bad)
    lw = json.loads((bad / layout.LIGHTWEIGHT_JSON).read_text())
    lw["memory"]["weights_ratio"] = 0.25
    (bad / layout.LIGHTWEIGHT_JSON).write_text(json.dumps(lw))
    assert cli("sign", bad, "--key", keys / "private.pem", "--passphrase-env", PASS_ENV).returncode == 0
    res = cli("verify", bad, "--key", keys / "public.pem", "--json")
    assert res.returncode == 1
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert checks["signature"]["ok"] and not checks["recompute:lightweight"]["ok"]
    assert "weights_ratio" in checks["recompute:lightweight"]["detail"]

    # The full model's copied files edited (a heavier "full" model): the recorded sha256 no longer holds.
    bad2 = tmp_path / "bad2"
    shutil.copytree(light_bundle, bad2)
    perf = bad2 / "lightweight/reference/perf/summary.json"
    perf.write_text(perf.read_text().replace('"weights_bytes": ', '"weights_bytes": 9'))
    assert cli("sign", bad2, "--key", keys / "private.pem", "--passphrase-env", PASS_ENV).returncode == 0
    res = cli("verify", bad2, "--key", keys / "public.pem", "--json")
    checks = {c["name"]: c for c in json.loads(res.stdout)["checks"]}
    assert res.returncode == 1 and "sha256 differs" in checks["recompute:lightweight"]["detail"]


def test_a_full_bundle_of_another_workload_or_suite_is_refused(light_model: Path, full_bundle: Path, tmp_path: Path, cli):
    res = cli("run", "hunan-2025", "--model", light_model, "--backend", "hf", "--device", "cpu", "--stages", "model,perf,eval",
               "--workload", "demo-cpu", "--suite", "gsm8k", "--lightweight-of", full_bundle, "--out", tmp_path / "a")
    assert res.returncode == 2 and "other suites" in res.stderr and "Traceback" not in res.stderr
    res = cli("run", "hunan-2025", "--model", light_model, "--backend", "hf", "--device", "cpu", "--stages", "model,perf",
               "--workload", "chat-interactive", "--lightweight-of", full_bundle, "--out", tmp_path / "b")
    assert res.returncode == 2 and "another workload" in res.stderr and "Traceback" not in res.stderr
