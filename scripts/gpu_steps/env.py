"""``env`` (Python, platform, torch/CUDA, packages) and ``fixture-check`` (the recorded NVML fixture against the live inventory)."""

from __future__ import annotations

import argparse
import json
import os
import platform
import subprocess
import sys
from pathlib import Path
from typing import Any

from gpu_steps.common import _now, _write


def cmd_env(a: argparse.Namespace) -> int:
    info: dict[str, Any] = {"python": platform.python_version(), "executable": sys.executable,
                            "platform": platform.platform(), "cpus": os.cpu_count(), "at": _now()}
    mods = {}
    for m in ("benchseal", "pydantic", "cryptography", "rfc8785", "lm_eval", "datasets", "pynvml", "torch",
              "transformers", "yaml", "rich", "pandas", "pyarrow", "fsspec", "huggingface_hub", "pytest"):
        try:
            mod = __import__(m)
            mods[m] = {"version": getattr(mod, "__version__", None), "file": getattr(mod, "__file__", None)}
        except Exception as exc:  # noqa: BLE001 - recorded
            mods[m] = {"error": f"{type(exc).__name__}: {exc}"}
    info["modules"] = mods
    try:
        import torch

        info.update(torch=torch.__version__, cuda_runtime=torch.version.cuda, cuda_available=torch.cuda.is_available())
        if torch.cuda.is_available():
            info.update(cuda_device=torch.cuda.get_device_name(0), cuda_capability=list(torch.cuda.get_device_capability(0)))
        import transformers

        info["transformers"] = transformers.__version__
    except Exception as exc:  # noqa: BLE001
        info["torch_error"] = f"{type(exc).__name__}: {exc}"
    try:
        pl = subprocess.run([sys.executable, "-m", "pip", "list", "--format=freeze", "--disable-pip-version-check"],
                            capture_output=True, text=True, timeout=30)
        Path("pip-freeze.txt").write_text(pl.stdout)
    except (OSError, subprocess.SubprocessError) as exc:
        info["pip_error"] = str(exc)
    _write(Path(a.out), info)
    bad = [m for m in ("benchseal", "pydantic", "cryptography", "rfc8785") if "error" in mods[m]]
    print(json.dumps({k: info.get(k) for k in ("python", "torch", "cuda_device", "transformers")}))
    if bad:
        print(f"missing modules: {', '.join(bad)}: {[mods[m]['error'] for m in bad]}", file=sys.stderr)
        return 1
    return 0


def cmd_fixture_check(a: argparse.Namespace) -> int:
    """Probe through a replay of the recorded fixture; compare with the live hardware report."""
    repo = Path(__file__).resolve().parents[1]
    sys.path[:0] = [str(repo / "tests" / "helpers"), str(repo / "tests" / "hw")]  # after / before the restructure
    from benchseal.hw import probe
    from benchseal.schema import HardwareReport
    from nvml_replay import make_fake_pynvml

    fixtures = sorted(Path(".").glob("nvml_*.json"))
    if not fixtures:
        print("no nvml_*.json fixture was recorded", file=sys.stderr)
        return 1
    data = json.loads(fixtures[0].read_text())
    text = fixtures[0].read_text()
    live = HardwareReport.model_validate(json.loads(Path(a.hardware).read_text()))
    leaks = [g.uuid for g in live.gpus if g.uuid and g.uuid in text] + [g.serial for g in live.gpus if g.serial and g.serial in text]
    sys.modules["pynvml"] = make_fake_pynvml(data)
    replayed = probe()
    # live readings (and the PCIe link, which trains down when idle) may differ between two probes
    live_fields = {"uuid", "serial", "temperature_c", "sm_clock_mhz", "mem_clock_mhz", "hostname", "notes",
                   "pcie_gen", "pcie_width"}
    diffs = []
    for g_live, g_rep in zip(live.gpus, replayed.gpus):
        x, y = g_live.model_dump(exclude=live_fields), g_rep.model_dump(exclude=live_fields)
        diffs += [{"gpu": g_live.index, "field": k, "live": x[k], "replayed": y.get(k)} for k in x if x[k] != y.get(k)]
    if len(live.gpus) != len(replayed.gpus):
        diffs.append({"field": "gpu count", "live": len(live.gpus), "replayed": len(replayed.gpus)})
    out = {"fixture": fixtures[0].name, "devices": len(data.get("devices", [])), "matches": not diffs and not leaks,
           "differences": diffs, "identifiers_left_in_fixture": len(leaks),
           "compute_matches": live.compute.model_dump() == replayed.compute.model_dump()}
    _write(Path("fixture-check.json"), out)
    print(json.dumps(out, default=str))
    return 0 if out["matches"] else 1
