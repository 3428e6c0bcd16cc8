"""The GPU validation kit (scripts/gpu_check.sh) on a machine without a GPU: the CPU-only steps run,
every GPU step is recorded as skipped with its reason, and what comes back fits the device tool's
limits (at most 8 files, each under 16 MiB, plain names, summary written)."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import tarfile
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
KIT = REPO / "scripts" / "gpu_check.sh"
GPU_STEPS = {"1a", "1c", "3", "4", "5a", "5b", "5c", "7a", "7b", "7c", "7d", "2"}

pytestmark = pytest.mark.skipif(shutil.which("bash") is None or shutil.which("timeout") is None,
                                reason="the kit needs bash and coreutils' timeout")


def _run_kit(tmp_path: Path, timeout: float = 180, **env: str) -> tuple[subprocess.CompletedProcess, Path, dict]:
    out = tmp_path / "out"
    e = {**os.environ, "PYTHON": sys.executable, "GPU_CHECK_FORCE_CPU": "1", "GPU_CHECK_WORK": str(tmp_path / "work"),
         "GPU_CHECK_SITE": str(tmp_path / "site"), "GPU_CHECK_WORKERS": "1,2", "GPU_CHECK_WORKER_REQUESTS": "100", **env}
    e.pop("OUT", None)
    proc = subprocess.run(["bash", str(KIT), str(out)], capture_output=True, text=True, env=e, timeout=timeout)
    summary = json.loads((out / "summary.json").read_text())
    return proc, out, summary


GPU_ONLY = {"1a", "1c", "3", "4", "2"}  # skipped even when rehearsing; steps 5 and 7 run on the CPU then


@pytest.fixture(scope="module")
def cpu_kit(tmp_path_factory):
    """One kit run on the CPU for the dry-run and rehearsal tests (issue 20: CI time; they share steps 0, 1b
    and the output folder): every step, steps 5 and 7 rehearsed with the tiny model, step 6 with 40 requests
    per worker count (the GPU path keeps its defaults: 1,2,4,8 workers, 4000 requests)."""
    pytest.importorskip("torch")
    pytest.importorskip("lm_eval")
    return _run_kit(tmp_path_factory.mktemp("kit"), timeout=480, GPU_CHECK_REHEARSE="1", GPU_CHECK_WORKER_REQUESTS="40")


@pytest.mark.slow
@pytest.mark.xdist_group("gpu-kit")  # one worker builds cpu_kit (module-scoped) for both its tests
def test_cpu_dry_run(cpu_kit):
    proc, out, summary = cpu_kit
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "running the CPU-only steps" in proc.stdout
    steps = {s["id"]: s for s in summary["steps"]}
    assert {"0", "1b", "6"} | GPU_STEPS <= set(steps)
    assert all(steps[i]["status"] == "ok" for i in ("0", "1b", "6")), summary["steps"]
    for i in GPU_ONLY:
        assert steps[i]["status"] == "skipped" and steps[i]["reason"] == "GPU_CHECK_FORCE_CPU=1", steps[i]
    # steps 5 and 7 without GPU_CHECK_REHEARSE: test_global_deadline_skips_and_still_writes_the_summary
    assert summary["final"] and summary["counts"] == {"ok": 3 + len(GPU_STEPS - GPU_ONLY), "skipped": len(GPU_ONLY)}
    assert [r["workers"] for r in summary["highlights"]["workers"]] == [1, 2]
    assert all(r["requests_per_s"] > 0 and r["failed"] == 0 for r in summary["highlights"]["workers"])

    # what the device tool brings back: <= 8 plain files, <= 16 MiB each, at most two folders down
    files = [p for p in out.rglob("*") if p.is_file()]
    assert {p.name for p in files} == {"summary.json", "summary.md", "results.tar.gz"}
    assert len(files) <= 8 and all(re.fullmatch(r"[A-Za-z0-9._-]+", p.name) and p.stat().st_size < 16 * 2**20 for p in files)
    assert "| 6 | perf client --workers scaling" in (out / "summary.md").read_text()
    with tarfile.open(out / "results.tar.gz") as tar:
        names = set(tar.getnames())
    assert {"results/hw.json", "results/env.json", "results/workers.json", "results/steps.jsonl",
            "results/logs/1b_hw_report.log", "results/logs/6_workers.log"} <= names


def test_global_deadline_skips_and_still_writes_the_summary(tmp_path):
    # every step asked for: the GPU steps (5 and 7 too, without GPU_CHECK_REHEARSE) are skipped for the
    # missing GPU, the CPU steps for the deadline
    proc, out, summary = _run_kit(tmp_path, GPU_CHECK_DEADLINE_S="12")
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = {s["id"]: s for s in summary["steps"]}
    assert set(steps) == {"0", "1b", "6"} | GPU_STEPS
    assert steps["1b"]["status"] == steps["6"]["status"] == "skipped"
    assert "global deadline" in steps["6"]["reason"]
    for i in GPU_STEPS:
        assert steps[i]["status"] == "skipped" and steps[i]["reason"] == "GPU_CHECK_FORCE_CPU=1", steps[i]
    assert (out / "results.tar.gz").is_file() and (out / "summary.md").is_file()


@pytest.mark.parametrize("name", ["llama-3.1-8b", "llama-3.2-1b"])
def test_published_configs_give_their_published_parameter_counts(tmp_path, name):
    try:  # after the package restructure (issue 10)
        from benchseal.bench.model import count_params
        from benchseal.testing.published_configs import LLAMA3_8B
    except ImportError:
        from benchseal.bench.params import count_params
        from tests.bench.published_configs import LLAMA3_8B

    data = json.loads((REPO / "scripts" / "gpu_kit" / f"{name}.json").read_text())
    (tmp_path / "config.json").write_text(json.dumps(data["config"]))
    assert count_params(tmp_path).total == data["params_published"]
    if name == "llama-3.1-8b":  # the same architecture as the hand-copied Llama-3 8B of the params tests
        keys = set(LLAMA3_8B) - {"max_position_embeddings", "rope_theta"}
        assert {k: data["config"][k] for k in keys} == {k: LLAMA3_8B[k] for k in keys}


@pytest.mark.slow
@pytest.mark.xdist_group("gpu-kit")
def test_rehearsal_runs_steps_5_and_7_on_the_cpu(cpu_kit):
    """GPU_CHECK_REHEARSE=1: the 8B and 1B steps with a tiny model on the CPU, so the kit's plumbing
    (paths, flags, JSON between steps, the signed bundle and its verification) is checked anywhere."""
    proc, out, summary = cpu_kit  # every step asked for (test_cpu_dry_run checks the others)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    steps = {s["id"]: s["status"] for s in summary["steps"]}
    assert {i: steps.get(i) for i in ("0", "1b", "5a", "5b", "5c", "7a", "7b", "7c", "7d")} == {
        i: "ok" for i in ("0", "1b", "5a", "5b", "5c", "7a", "7b", "7c", "7d")}, summary["steps"]
    h = summary["highlights"]
    assert h["flops_8b"]["counter_rel_err_eager"] < 0.02  # eager attention: every matmul counted
    assert [r["load_point"] for r in h["mfu_8b"]] == ["concurrency=1", "concurrency=4"]
    assert all(r["note"] == "no GPU in the hardware report" for r in h["mfu_8b"])
    assert h["e2e"]["status"] == "complete" and h["e2e"]["signed"] and h["e2e"]["verify"].startswith("verified")
    assert set(h["e2e"]["stages_s"]) == {"preflight", "hw", "model", "perf", "eval"}
