"""The kit's bookkeeping: steps.jsonl, summary.json, summary.md, results.tar.gz (stdlib only, never imports benchseal)."""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import tarfile
from pathlib import Path
from typing import Any

from gpu_steps.common import OUT_LIMIT, STEP_TITLES, _git, _now, _r, _read, _write, worktree_tree


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
