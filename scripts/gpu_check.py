#!/usr/bin/env python3
"""The Python half of the GPU validation kit (scripts/gpu_check.sh; procedure: docs/gpu-validation.md).

Subcommands (the shell script calls them; each writes JSON into the current folder or --out):

- ``init`` / ``record`` / ``summary``: the kit's bookkeeping: steps.jsonl, summary.json, summary.md,
  results.tar.gz and the fixture copy in the output folder (stdlib only, never imports benchseal);
- ``env``: Python, platform, torch/CUDA, the packages that matter, ``pip list``;
- ``fixture-check``: replay the recorded NVML fixture and compare the inventory with the live one;
- ``telemetry``: sampler overhead per sample and achieved rate at 10 and 100 Hz; the energy
  counter over a known matmul workload against power x time;
- ``mfu-compare``: MFU/MBU per load point of a ``benchseal perf`` run, computed by the same
  ``annotate`` that ``benchseal run`` uses, against a FlopCounterMode count of the same forward
  passes and against the microbenchmark's achieved peaks;
- ``workers``: requests per second of ``benchseal perf --workers N`` against the test server;
- ``e2e``: ``benchseal run`` with wall time per stage (exit 0 when the bundle is complete, whatever
  the verdicts).

benchseal is driven through its CLI (``python -m benchseal``) and its public faces only.
"""

from __future__ import annotations

import argparse
import datetime as _dt
import json
import os
import platform
import re
import shutil
import subprocess
import sys
import tarfile
import time
from pathlib import Path
from typing import Any

SKIP = 77  # exit status for "skipped" (the shell records the SKIP: line)
STEP_TITLES = {
    "0": "setup: wheels and environment",
    "1a": "nvidia-smi -q",
    "1b": "benchseal hw (hardware report)",
    "1c": "NVML fixture recorded (redacted) and replayed",
    "2": "BENCHSEAL_REQUIRE_GPU=1 pytest -m gpu",
    "3": "benchseal hw --microbench --json",
    "4": "telemetry: sampler overhead/rate, energy counter vs power x time",
    "5a": "Llama-3.1-8B (random, bf16) built on the GPU; FlopCounterMode count; batched generate",
    "5b": "benchseal perf --backend hf, two load points (8B)",
    "5c": "MFU/MBU (benchseal) vs FlopCounterMode vs microbench",
    "6": "perf client --workers scaling against the test server",
    "7a": "Llama-3.2-1B (random, bf16) built on the GPU and saved",
    "7b": "benchseal keygen",
    "7c": "benchseal run hunan-2025 (hf, demo suite, signed)",
    "7d": "benchseal verify",
}
OUT_LIMIT = 15 * 2**20  # results.tar.gz must stay under the 16 MiB a returned file may have


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def _r(x: Any, n: int = 3) -> Any:
    return round(x, n) if isinstance(x, (int, float)) and not isinstance(x, bool) else x


def _g(x: Any, n: int = 4) -> Any:
    """n significant digits (small ratios such as a batch-1 MFU keep their digits)."""
    return float(f"{x:.{n}g}") if isinstance(x, (int, float)) and not isinstance(x, bool) else x


# ================================================================================================
# bookkeeping (stdlib only)
# ================================================================================================
def _git(repo: str, *args: str) -> str | None:
    try:
        p = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.decode("utf-8", "surrogateescape") if p.returncode == 0 else None


def worktree_tree(repo: str) -> str | None:
    """The git tree id of the files as they are on disk: tracked and untracked-not-ignored files,
    modes from the file system (executable bit, symlinks), nothing written to the object store.

    HEAD alone does not say what ran: the device machine gets a copy of the working tree over a
    .git that is not the current one (on the H200 HEAD read 4edc475, a commit of six days before,
    while main at 64fedf6 + 54e1dc4 ran). This id equals ``git rev-parse <commit>^{tree}`` of the
    commit whose files ran, so it names the code exactly wherever the copy came from."""
    import hashlib
    import stat

    listing = _git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listing is None:
        return None
    root: dict = {}
    for rel in sorted(set(p for p in listing.split("\0") if p)):
        full = os.path.join(repo, rel)
        try:
            st = os.lstat(full)
        except OSError:
            continue  # in the index, deleted on disk
        if stat.S_ISLNK(st.st_mode):
            mode, data = b"120000", os.fsencode(os.readlink(full))
        elif stat.S_ISREG(st.st_mode):
            mode = b"100755" if st.st_mode & 0o100 else b"100644"
            with open(full, "rb") as fh:
                data = fh.read()
        else:
            continue  # a submodule's folder: not hashed
        node = root
        *dirs, name = rel.split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = (mode, hashlib.sha1(b"blob %d\0" % len(data) + data).digest())

    def tree(node: dict) -> bytes:
        entries = []
        for name, v in node.items():
            raw = os.fsencode(name)
            if isinstance(v, dict):
                entries.append((raw + b"/", b"40000", raw, tree(v)))
            else:
                entries.append((raw, v[0], raw, v[1]))
        entries.sort(key=lambda e: e[0])  # git's order: a folder sorts as if its name ended in "/"
        body = b"".join(mode + b" " + raw + b"\0" + sha for _, mode, raw, sha in entries)
        return hashlib.sha1(b"tree %d\0" % len(body) + body).digest()

    return tree(root).hex()


def cmd_init(a: argparse.Namespace) -> int:
    res = Path(a.work) / "results"
    commit = (_git(a.repo, "rev-parse", "HEAD") or "").strip() or None
    status = _git(a.repo, "status", "--porcelain", "--untracked-files=normal")
    changed = None if status is None else len([ln for ln in status.splitlines() if ln.strip()])
    tree = worktree_tree(a.repo) if commit else None
    # HEAD names the code only when the files on disk are exactly its tree
    head_tree = (_git(a.repo, "rev-parse", "HEAD^{tree}") or "").strip() or None
    import hashlib

    kit = hashlib.sha256()
    for f in sorted((Path(a.repo) / "scripts").glob("gpu_*")) + sorted((Path(a.repo) / "scripts" / "gpu_kit").glob("*")):
        if f.is_file():
            kit.update(f.name.encode() + b"\0" + f.read_bytes())
    _write(res / "kit.json", {"started_at": _now(), "deadline_s": a.deadline, "steps_selected": a.steps,
                              "repo": a.repo, "commit": commit, "worktree_tree": tree,
                              "worktree_is_commit": bool(tree and tree == head_tree), "worktree_changed_paths": changed,
                              "kit_sha256": kit.hexdigest()[:16],
                              "command": "bash scripts/gpu_check.sh", "cpus": os.cpu_count()})
    (res / "steps.jsonl").touch()
    return 0


def cmd_record(a: argparse.Namespace) -> int:
    res = Path(a.work) / "results"
    row = {"id": a.id, "name": a.name, "title": STEP_TITLES.get(a.id, a.name), "status": a.status,
           "rc": a.rc, "duration_s": float(a.duration), "limit_s": int(a.limit), "reason": a.reason or None,
           "log": a.log, "ended_at": _now()}
    with open(res / "steps.jsonl", "a", encoding="utf-8") as fh:
        fh.write(json.dumps(row) + "\n")
    return 0


def _steps(res: Path) -> list[dict]:
    """One row per step id, in the order first run; a rerun's row replaces the earlier one."""
    rows: dict[str, dict] = {}
    try:
        for line in (res / "steps.jsonl").read_text().splitlines():
            if line.strip():
                row = json.loads(line)
                rows[row["id"]] = row
    except (OSError, ValueError, KeyError):
        pass
    return list(rows.values())


def _highlights(res: Path) -> dict[str, Any]:
    """The key numbers of every result file present (missing files are simply absent)."""
    h: dict[str, Any] = {}
    env = _read(res / "env.json") or {}
    hw = _read(res / "hw-microbench.json") or _read(res / "hw.json") or {}
    gpus = hw.get("gpus") or []
    if gpus or env:
        g = gpus[0] if gpus else {}
        h["device"] = {"gpu": g.get("name") or env.get("cuda_device"), "gpus": len(gpus) or None,
                       "driver": g.get("driver_version"), "cuda_driver": g.get("cuda_driver_version"),
                       "spec_id": (g.get("peak") or {}).get("spec_id"), "memory_bytes": g.get("memory_total_bytes"),
                       "power_limit_w": g.get("power_limit_w"), "torch": env.get("torch"),
                       "cuda_runtime": env.get("cuda_runtime"), "transformers": env.get("transformers"),
                       "python": env.get("python"), "cpus": env.get("cpus")}
    mb = hw.get("microbench") or {}
    if mb:
        h["microbench"] = {
            **{f"{dt}_tflops": _r(r.get("tflops"), 1) for dt, r in (mb.get("matmul") or {}).items()},
            **{f"{dt}_ratio": _r(r.get("ratio_to_peak")) for dt, r in (mb.get("matmul") or {}).items()},
            **{f"{dt}_peak": r.get("peak_tflops") for dt, r in (mb.get("matmul") or {}).items()},
            "copy_gbs": _r((mb.get("memory_copy") or {}).get("gbs"), 1),
            "copy_ratio": _r((mb.get("memory_copy") or {}).get("ratio_to_peak")),
            "copy_peak_gbs": (mb.get("memory_copy") or {}).get("peak_gbs"),
            "errors": {dt: r["error"] for dt, r in (mb.get("matmul") or {}).items() if "error" in r} or None,
        }
    fx = _read(res / "fixture-check.json")
    if fx:
        h["nvml_fixture"] = {"file": fx.get("fixture"), "replay_matches_live": fx.get("matches"),
                             "differences": fx.get("differences")}
    tel = _read(res / "telemetry.json")
    if tel:
        h["telemetry"] = {k: tel.get(k) for k in ("rates", "energy")}
    m = _read(res / "mfu-8b.json")
    if m:
        b, e, c = m.get("flopcounter") or {}, m.get("flopcounter_eager") or {}, m.get("batched") or {}
        h["flops_8b"] = {"model": m.get("config_name"), "params": (m.get("build") or {}).get("params"),
                         "build_s": _r((m.get("build") or {}).get("build_s"), 1),
                         "save_s": _r((m.get("build") or {}).get("save_s"), 1),
                         "saved_gb": _r(((m.get("build") or {}).get("saved_bytes") or 0) / 1e9, 2),
                         "counter_over_benchseal_dense_sdpa": _r(1 + b["rel_err_vs_dense"], 5) if "rel_err_vs_dense" in b else None,
                         "counter_rel_err_eager": _r(e.get("rel_err_vs_dense"), 5),
                         "benchseal_causal_over_counter": _r(b.get("causal_over_counter"), 5),
                         "sdpa_note": b.get("note"),
                         "batched_tflops": _r(c.get("achieved_tflops"), 1), "batched_mfu_datasheet": _r(c.get("mfu_vs_datasheet")),
                         "batched_mfu_microbench": _r(c.get("mfu_vs_microbench"))}
    cmp_ = _read(res / "mfu-8b-compare.json")
    if cmp_:
        h["mfu_8b"] = cmp_.get("load_points")
    w = _read(res / "workers.json")
    if w:
        h["workers"] = [{k: r.get(k) for k in ("workers", "requests_per_s", "failed", "server_cpu_pct", "wall_s")}
                        for r in w.get("runs", [])]
    e2e = _read(res / "e2e.json")
    if e2e:
        h["e2e"] = {k: e2e.get(k) for k in ("status", "exit_code", "wall_s", "stages_s", "after_stages_s", "claims",
                                            "signed")}
    v = res / "logs" / "7d_verify_e2e.log"
    if v.exists():
        lines = v.read_text(errors="replace").strip().splitlines()
        verdict = [ln for ln in lines if ln.startswith(("verified", "verification FAILED"))]  # not the notes after it
        h.setdefault("e2e", {})["verify"] = (verdict or lines or [""])[-1][:300]
    t = res / "gpu-tests.xml"
    if t.exists():
        m2 = re.search(r'<testsuite[^>]*?errors="(\d+)"[^>]*?failures="(\d+)"[^>]*?skipped="(\d+)"[^>]*?tests="(\d+)"',
                       t.read_text(errors="replace"))
        if m2:
            h["gpu_tests"] = dict(zip(("errors", "failures", "skipped", "tests"), map(int, m2.groups())))
    return h


def _code_line(kit: dict) -> str:
    """What code ran: the commit only when the files on disk are exactly its tree; else the tree id
    of the files (``git rev-parse <commit>^{tree}`` finds the commit that has it)."""
    commit, tree = kit.get("commit"), kit.get("worktree_tree")
    if not commit:
        return "code: (no git)"
    if kit.get("worktree_is_commit"):
        return f"code: commit {commit} (working tree = its tree {tree})"
    if tree:
        return (f"code: working tree {tree} (git tree id of the files that ran; HEAD there read {commit[:7]}, "
                f"which the files do not match: {kit.get('worktree_changed_paths')} paths differ)")
    return f"code: HEAD {commit} (working tree not hashed)"


def _md(summary: dict) -> str:
    h = summary["highlights"]
    dev = h.get("device") or {}
    lines = [f"# benchseal GPU validation kit: {dev.get('gpu') or 'no GPU'}", "",
             f"- started {summary['kit'].get('started_at')}, {summary['elapsed_s']} s of the {summary['deadline_s']} s "
             f"deadline; {'final' if summary['final'] else 'IN PROGRESS (written after each step)'}",
             f"- {_code_line(summary['kit'])}, kit files sha256 {summary['kit'].get('kit_sha256')}; "
             f"host CPUs {summary['kit'].get('cpus')}; steps {summary['kit'].get('steps_selected')}",
             f"- driver {dev.get('driver')} / CUDA {dev.get('cuda_driver')}; torch {dev.get('torch')} "
             f"(CUDA {dev.get('cuda_runtime')}); transformers {dev.get('transformers')}; Python {dev.get('python')}",
             "", "| step | what | status | s | limit s | reason |", "| --- | --- | --- | --- | --- | --- |"]
    for s in summary["steps"]:
        reason = (s.get("reason") or "").replace("|", "/")[:160]
        lines.append(f"| {s['id']} | {s['title']} | {s['status']} | {s['duration_s']} | {s['limit_s']} | {reason} |")
    mb = h.get("microbench")
    if mb:
        lines += ["", "## Microbenchmark (achieved / datasheet)", "", "| test | achieved | datasheet | ratio |",
                  "| --- | --- | --- | --- |"]
        for dt in ("bf16", "fp16", "tf32", "fp8"):
            if f"{dt}_tflops" in mb:
                lines.append(f"| matmul {dt} TFLOP/s | {mb[f'{dt}_tflops']} | {mb.get(f'{dt}_peak')} | {mb.get(f'{dt}_ratio')} |")
        lines.append(f"| copy GB/s (read+write) | {mb.get('copy_gbs')} | {mb.get('copy_peak_gbs')} | {mb.get('copy_ratio')} |")
    tables = {
        "mfu_8b": ("MFU / MBU, 8B, `benchseal perf --backend hf` (benchseal = `annotate`, as `benchseal run`)",
                   ("load_point", "requests", "output_tok_s", "tpot_ms_mean", "benchseal_mfu", "benchseal_mbu",
                    "mfu_vs_microbench", "mbu_vs_microbench_copy", "mfu_from_flopcounter_sdpa",
                    "benchseal_over_flopcounter_sdpa", "benchseal_over_flopcounter_eager", "energy_j_per_output_token",
                    "avg_power_w", "note")),
        "workers": ("`benchseal perf --workers N` against the test server",
                    ("workers", "requests_per_s", "failed", "server_cpu_pct", "wall_s")),
    }
    for key, title in (("nvml_fixture", "NVML fixture"), ("telemetry", "Telemetry"), ("flops_8b", "FLOPs, 8B"),
                       ("mfu_8b", ""), ("workers", ""), ("e2e", "`benchseal run` end to end"),
                       ("gpu_tests", "pytest -m gpu")):
        val = h.get(key)
        if val is None:
            continue
        if key in tables and isinstance(val, list):
            title, cols = tables[key]
            lines += ["", f"## {title}", "", "| " + " | ".join(cols) + " |", "|" + " --- |" * len(cols)]
            lines += ["| " + " | ".join(str(r.get(c, "")).replace("|", "/") for c in cols) + " |" for r in val]
        else:
            lines += ["", f"## {title}", "", "```json", json.dumps(val, indent=1, default=str, ensure_ascii=False)[:6000], "```"]
    return "\n".join(lines) + "\n"


def _archive(res: Path, out: Path) -> dict:
    """results.tar.gz of the results folder; files over 1 MiB are dropped if it would exceed the limit."""
    target = out / "results.tar.gz"
    tmp = out / ".results.tar.gz.tmp"
    skip: list[str] = []

    def build(max_file: int | None) -> int:
        with tarfile.open(tmp, "w:gz", compresslevel=6) as tar:
            for p in sorted(res.rglob("*")):
                if not p.is_file() or p.name.endswith(".tmp") or p.name == "private.pem":
                    continue
                if max_file is not None and p.stat().st_size > max_file:
                    skip.append(str(p.relative_to(res)))
                    continue
                tar.add(p, arcname=f"results/{p.relative_to(res)}")
        return tmp.stat().st_size

    size = build(None)
    if size > OUT_LIMIT:
        skip.clear()
        size = build(1 << 20)
    os.replace(tmp, target)
    return {"bytes": size, "left_out": skip}


def cmd_summary(a: argparse.Namespace) -> int:
    work, out = Path(a.work), Path(a.out)
    res = work / "results"
    out.mkdir(parents=True, exist_ok=True)
    summary = {"format": "benchseal-gpu-check/1", "kit": _read(res / "kit.json") or {}, "deadline_s": a.deadline,
               "elapsed_s": a.elapsed, "final": a.final, "written_at": _now(), "steps": _steps(res),
               "highlights": _highlights(res)}
    counts: dict[str, int] = {}
    for s in summary["steps"]:
        counts[s["status"]] = counts.get(s["status"], 0) + 1
    summary["counts"] = counts
    fixtures = sorted(res.glob("nvml_*.json"))
    for f in fixtures:
        shutil.copyfile(f, out / f.name)
    summary["fixture_files"] = [f.name for f in fixtures]
    _write(res / "summary.json", summary)
    (res / "summary.md").write_text(_md(summary))
    try:
        summary["archive"] = _archive(res, out)
    except OSError as exc:
        summary["archive"] = {"error": str(exc)}
    _write(out / "summary.json", summary)
    shutil.copyfile(res / "summary.md", out / "summary.md")
    if a.final:
        print(f"gpu_check summary: {counts}; {out}/summary.md")
    return 0


# ================================================================================================
# measurements
# ================================================================================================
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
    from nvml_replay import make_fake_pynvml

    from benchseal.hw import probe
    from benchseal.schema import HardwareReport

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


def cmd_telemetry(a: argparse.Namespace) -> int:
    import csv

    import torch

    from benchseal.hw import TelemetrySampler, energy_between

    if not torch.cuda.is_available():
        print("SKIP: torch sees no CUDA device")
        return SKIP
    out: dict[str, Any] = {"rates": [], "device": torch.cuda.get_device_name(0)}
    for interval in (0.1, 0.01):  # idle: what one sampling pass costs, and the rate achieved
        with TelemetrySampler(f"telemetry-idle-{int(1 / interval)}hz.csv", interval_s=interval) as s:
            time.sleep(a.idle_s)
        r = s.result
        out["rates"].append({"target_hz": round(1 / interval), "achieved_hz": _r(r.achieved_hz, 2), "samples": r.samples,
                             "overhead_us_per_sample": _r((r.overhead_s_per_sample or 0) * 1e6, 1),
                             "overhead_fraction_of_interval": _r((r.overhead_s_per_sample or 0) / interval, 5),
                             "available": r.available, "note": r.note})
        print(json.dumps(out["rates"][-1]), flush=True)
    # a known workload: back-to-back bf16 8192^3 matmuls for --work-s seconds, idle margins around it
    n = 8192
    x = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    y = torch.randn(n, n, device="cuda", dtype=torch.bfloat16)
    z = torch.empty_like(x)
    for _ in range(5):
        torch.matmul(x, y, out=z)
    torch.cuda.synchronize()
    path = Path("telemetry-workload.csv")
    count = 0
    with TelemetrySampler(path, interval_s=a.interval_s) as s:
        time.sleep(a.margin_s)
        torch.cuda.synchronize()
        t0 = time.time()
        while time.time() - t0 < a.work_s:
            for _ in range(20):
                torch.matmul(x, y, out=z)
            count += 20
            torch.cuda.synchronize()
        t1 = time.time()
        time.sleep(a.margin_s)
    r = s.result
    rows = list(csv.DictReader(path.open()))
    pts = [(float(row["t_wall"]), float(row["power_w"])) for row in rows if row.get("power_w")]

    def integral(lo: float, hi: float) -> float | None:  # trapezoid of power over [lo, hi]
        p = [(t, w) for t, w in pts if lo <= t <= hi]
        if len(p) < 2:
            return None
        return sum((t2 - t1_) * (w1 + w2) / 2 for (t1_, w1), (t2, w2) in zip(p, p[1:]))

    energies = [int(row["energy_mj"]) for row in rows if row.get("energy_mj")]
    changes = sum(1 for u, v in zip(energies, energies[1:]) if u != v)
    window = energy_between(path, t0, t1)
    p_all = integral(r.t_wall_start, r.t_wall_end)
    p_win = integral(t0, t1)
    flops = count * 2 * n**3
    out["energy"] = {
        "workload": f"{count} bf16 {n}^3 matmuls in {t1 - t0:.2f} s ({flops / (t1 - t0) / 1e12:.0f} TFLOP/s), "
                    f"{a.margin_s} s idle before and after, sampled every {a.interval_s} s",
        "samples": r.samples, "counter_value_changes": changes,
        "counter_j_whole": _r(r.energy_j, 1), "power_x_time_j_whole": _r(p_all, 1),
        "counter_over_power_x_time_whole": _r(r.energy_j / p_all, 4) if r.energy_j and p_all else None,
        "counter_j_workload": _r((window or {}).get("energy_j"), 1), "power_x_time_j_workload": _r(p_win, 1),
        "counter_over_power_x_time_workload": _r(window["energy_j"] / p_win, 4) if window and p_win else None,
        "avg_power_w_workload": _r((window or {}).get("avg_power_w"), 1),
        "j_per_tflop": _r(window["energy_j"] / (flops / 1e12), 4) if window else None,
        "max_power_w": max((w for _, w in pts), default=None), "note": r.note,
    }
    _write(Path(a.out), out)
    print(json.dumps(out["energy"]))
    return 0


def _records(perf_dir: Path):
    from benchseal.schema import PerfReport, RequestRecord

    report = PerfReport.model_validate(json.loads((perf_dir / "perf" / "summary.json").read_text()))
    records = [RequestRecord.model_validate_json(line) for line in (perf_dir / "perf" / "requests.jsonl").read_text().splitlines()
               if line.strip()]
    return report, records


def cmd_mfu_compare(a: argparse.Namespace) -> int:
    from benchseal.bench.utilisation import FlopsModel, annotate  # the same names before and after the restructure
    from benchseal.schema import HardwareReport

    perf_dir = Path(a.perf)
    report, records = _records(perf_dir)
    hardware = HardwareReport.model_validate(json.loads(Path(a.hardware).read_text()))
    config = json.loads((Path(a.model) / "config.json").read_text())
    count = json.loads(Path(a.count).read_text())
    fc, fce = count.get("flopcounter") or {}, count.get("flopcounter_eager") or {}
    mb = hardware.microbench or {}
    short = {"bfloat16": "bf16", "float16": "fp16", "float32": "tf32"}.get(a.dtype, a.dtype)
    micro_tflops = ((mb.get("matmul") or {}).get(short) or {}).get("tflops")
    micro_gbs = (mb.get("memory_copy") or {}).get("gbs")
    fm = FlopsModel.from_config(config)

    # FlopCounterMode counted one generate at the workload's (p, o), with SDPA (what the hf backend
    # runs) and with eager attention (every matmul an aten op); counted / benchseal-dense at that
    # shape turns benchseal's dense count of every request into an independent count
    def scale(c: dict) -> float | None:
        return c["flopcounter"] / c["benchseal_dense_scores"] if c.get("flopcounter") and c.get("benchseal_dense_scores") else None

    scales = {"sdpa": scale(fc), "eager": scale(fce)}
    telemetry = perf_dir / "telemetry.csv"
    rows = []
    for lp in report.load_points:
        ann = annotate(lp, records, model_config=config, hardware=hardware, dtype=a.dtype,
                       telemetry_csv=telemetry if telemetry.exists() else None, num_gpus=1)
        u, e = ann.utilisation or {}, ann.energy or {}
        counted = [r for r in records if r.load_point == lp.load_point and not r.warmup and r.status == "ok"]
        shapes = sorted({(r.prompt_tokens, r.output_tokens) for r in counted})
        dense = sum(fm.request_flops(r.prompt_tokens, r.output_tokens, causal=False) for r in counted)
        peak, achieved = u.get("peak_tflops"), u.get("achieved_flops_per_s")
        row = {
            "load_point": lp.load_point, "requests": len(counted), "shapes_prompt_output": shapes[:4],
            "duration_s": _r(lp.duration_s), "output_tok_s": _r(lp.output_token_throughput, 1),
            "tpot_ms_mean": _r(lp.tpot_ms.mean, 2), "ttft_ms_mean": _r(lp.ttft_ms.mean, 1),
            "benchseal_mfu": _g(u.get("mfu")), "benchseal_mbu": _g(u.get("mbu")),
            "achieved_tflops": _g(u.get("achieved_tflops")), "achieved_bandwidth_gbs": _g(u.get("achieved_bandwidth_gbs")),
            "datasheet_peak_tflops": peak, "datasheet_peak_gbs": u.get("peak_bandwidth_gbs"),
            "mfu_vs_microbench": _g(achieved / (micro_tflops * 1e12)) if micro_tflops and achieved else None,
            "mbu_vs_microbench_copy": _g(u["achieved_bandwidth_gbs"] / micro_gbs) if micro_gbs and u.get("achieved_bandwidth_gbs") else None,
            "energy_j_per_output_token": _g(e.get("j_per_output_token")), "avg_power_w": _r(e.get("avg_power_w"), 1),
            "note": u.get("note"),
        }
        for kind, k in scales.items():
            counter_flops_s = dense * k / lp.duration_s if k and lp.duration_s > 0 else None
            row[f"mfu_from_flopcounter_{kind}"] = _g(counter_flops_s / (peak * 1e12)) if counter_flops_s and peak else None
            row[f"benchseal_over_flopcounter_{kind}"] = _g(achieved / counter_flops_s, 5) if counter_flops_s and achieved else None
        rows.append(row)
        print(json.dumps(row), flush=True)
    keys = ("prompt_len", "output_len", "flopcounter", "benchseal_causal", "benchseal_dense_scores", "rel_err_vs_dense",
            "causal_over_counter", "note")
    out = {"method": "benchseal.bench.annotate (as `benchseal run` annotates each load point) on the records of "
                     "`benchseal perf --backend hf`; FlopCounterMode counts of one generate at the workload's (p, o) "
                     "from scripts/gpu_validate_mfu.py (SDPA and eager attention) scale benchseal's dense-score count "
                     "of every request; benchseal counts causal attention, so benchseal/FlopCounterMode is below 1 "
                     "by the causal/dense ratio",
           "flopcounter_sdpa": {k: fc.get(k) for k in keys}, "flopcounter_eager": {k: fce.get(k) for k in keys},
           "dtype": a.dtype, f"microbench_{short}_tflops": micro_tflops, "microbench_copy_gbs": micro_gbs,
           "load_points": rows}
    _write(Path(a.out), out)
    # no MFU on a machine whose hardware report has a GPU means a missing peak: a failure to look at
    return 0 if rows and (not hardware.gpus or all(r["benchseal_mfu"] is not None for r in rows)) else 1


def _proc_cpu_s(pid: int) -> float | None:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, IndexError, ValueError):
        return None


def cmd_workers(a: argparse.Namespace) -> int:
    try:
        from benchseal.bench.testserver import spawn
    except ImportError:  # after the package restructure
        from benchseal.testing.server import spawn

    prompts = Path("workers-prompts.jsonl")
    prompts.write_text("".join(json.dumps({"prompt": "a b c d e f g h", "max_tokens": a.tokens}) + "\n" for _ in range(64)))
    runs = []
    srv = spawn()
    try:
        for w in [int(x) for x in a.workers.split(",") if x.strip()]:
            cpu0, t0 = _proc_cpu_s(srv.proc.pid), time.perf_counter()
            cmd = [sys.executable, "-m", "benchseal", "perf", "--backend", "openai", "--model", "test-model",
                   "--base-url", srv.url, "--workers", str(w), "--concurrency", str(a.concurrency),
                   "--num-requests", str(a.requests), "--warmup", str(a.concurrency), "--prompts", str(prompts),
                   "--out", f"workers/w{w}", "--json", "--no-progress"]
            p = subprocess.run(cmd, capture_output=True, text=True, timeout=a.run_timeout)
            wall = time.perf_counter() - t0
            cpu1 = _proc_cpu_s(srv.proc.pid)
            row: dict[str, Any] = {"workers": w, "wall_s": _r(wall, 2), "exit": p.returncode}
            if p.returncode == 0:
                lp = json.loads(p.stdout)["load_points"][0]
                row.update(requests_per_s=_r(lp["request_throughput"], 1), completed=lp["completed"], failed=lp["failed"],
                           ttft_ms_p50=_r(lp["ttft_ms"]["p50"], 2), e2el_ms_p99=_r(lp["e2el_ms"]["p99"], 2))
            else:
                row["error"] = (p.stderr.strip().splitlines() or ["?"])[-1][:300]
            if cpu0 is not None and cpu1 is not None:
                row["server_cpu_s"] = _r(cpu1 - cpu0, 2)
                if row.get("requests_per_s"):  # near 100: the one-process server, not the client, is the limit
                    row["server_cpu_pct"] = _r(100 * (cpu1 - cpu0) / ((row["completed"] + a.concurrency) / row["requests_per_s"]), 1)
            runs.append(row)
            print(json.dumps(row), flush=True)
    finally:
        srv.stop()
    _write(Path(a.out), {"server": "benchseal test server (one process, zero delay)", "concurrency": a.concurrency,
                         "requests": a.requests, "tokens_per_request": a.tokens, "cpus": os.cpu_count(), "runs": runs})
    return 0 if runs and all(r["exit"] == 0 and not r.get("failed") for r in runs) else 1


def _ts(s: str | None) -> float | None:
    if not s:
        return None
    try:
        return _dt.datetime.fromisoformat(s.replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def cmd_e2e(a: argparse.Namespace) -> int:
    """`benchseal run ARGS...` with wall time per stage; 0 when the bundle is complete."""
    args = a.run_args[1:] if a.run_args[:1] == ["--"] else a.run_args
    out = Path(args[args.index("--out") + 1])
    t0 = time.time()
    p = subprocess.run([sys.executable, "-m", "benchseal", "run", *args])
    wall = time.time() - t0
    run = _read(out / "run.json") or {}
    stages = {k: _r((_ts(v.get("ended_at")) or 0) - (_ts(v.get("started_at")) or 0), 1) if v.get("ended_at") else None
              for k, v in (run.get("stages") or {}).items()}
    ends = [_ts(v.get("ended_at")) for v in (run.get("stages") or {}).values() if v.get("ended_at")]
    claims = _read(out / "claims.json") or {}
    result = {
        "exit_code": p.returncode, "status": run.get("status"), "wall_s": _r(wall, 1),
        "stages_s": stages, "stage_status": {k: v.get("status") for k, v in (run.get("stages") or {}).items()},
        "stage_errors": {k: v.get("error") for k, v in (run.get("stages") or {}).items() if v.get("error")},
        "start_to_first_stage_s": _r(min((_ts(v.get("started_at")) or t0 + wall for v in (run.get("stages") or {}).values()),
                                         default=t0) - t0, 1),
        "after_stages_s": _r(t0 + wall - max(ends), 1) if ends else None,  # claims, report, signature, exit
        "claims": {v.get("claim_id"): v.get("status") for v in claims.get("verdicts", [])},
        "signed": (out / "statement.dsse.json").exists(),
    }
    _write(Path("e2e.json"), result)
    print(json.dumps(result, default=str))
    return 0 if result["status"] == "complete" and p.returncode in (0, 1) and result["signed"] else 1


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = ap.add_subparsers(dest="cmd", required=True)
    p = sub.add_parser("init")
    p.add_argument("--work", required=True)
    p.add_argument("--repo", required=True)
    p.add_argument("--deadline", type=int, required=True)
    p.add_argument("--steps", default="all")
    p = sub.add_parser("record")
    for k in ("work", "id", "name", "status", "rc", "duration", "limit", "reason", "log"):
        p.add_argument(f"--{k}", required=k not in ("reason", "log"), default="")
    p = sub.add_parser("summary")
    p.add_argument("--work", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--deadline", type=int, default=0)
    p.add_argument("--elapsed", type=int, default=0)
    p.add_argument("--final", action="store_true")
    p = sub.add_parser("env")
    p.add_argument("--out", default="env.json")
    p = sub.add_parser("fixture-check")
    p.add_argument("--hardware", default="hw.json")
    p = sub.add_parser("telemetry")
    p.add_argument("--out", default="telemetry.json")
    p.add_argument("--idle-s", type=float, default=2.0)
    p.add_argument("--work-s", type=float, default=6.0)
    p.add_argument("--margin-s", type=float, default=1.5)
    p.add_argument("--interval-s", type=float, default=0.05)
    p = sub.add_parser("mfu-compare")
    p.add_argument("--perf", required=True, help="`benchseal perf --out` folder")
    p.add_argument("--model", required=True, help="model folder (config.json)")
    p.add_argument("--hardware", required=True, help="hardware report JSON (with microbench)")
    p.add_argument("--count", required=True, help="scripts/gpu_validate_mfu.py JSON")
    p.add_argument("--dtype", default="bfloat16")
    p.add_argument("--out", default="mfu-compare.json")
    p = sub.add_parser("workers")
    p.add_argument("--workers", default="1,2,4,8")
    p.add_argument("--requests", type=int, default=4000)
    p.add_argument("--concurrency", type=int, default=64)
    p.add_argument("--tokens", type=int, default=8)
    p.add_argument("--run-timeout", type=float, default=60)
    p.add_argument("--out", default="workers.json")
    p = sub.add_parser("e2e")
    p.add_argument("run_args", nargs=argparse.REMAINDER)
    a = ap.parse_args(argv)
    fn = {"init": cmd_init, "record": cmd_record, "summary": cmd_summary, "env": cmd_env,
          "fixture-check": cmd_fixture_check, "telemetry": cmd_telemetry, "mfu-compare": cmd_mfu_compare,
          "workers": cmd_workers, "e2e": cmd_e2e}[a.cmd]
    return fn(a)


if __name__ == "__main__":
    raise SystemExit(main())
