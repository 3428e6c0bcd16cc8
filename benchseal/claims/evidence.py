"""Read an evidence bundle into one nested dict that metric paths walk (docs/claims.md).

::

    {"run": run.json, "hardware": hardware.json, "model": model.json,
     "perf": perf/summary.json (+ derived fields), "eval": {suite: eval/<suite>/results.json},
     "lightweight": lightweight/lightweight.json (only with --lightweight-of),
     "references": {"lightweight_model": lightweight/reference/model.json} (only with --lightweight-of),
     "claims_grade": {"run_complete": bool, "eval": {suite: bool}}}

Missing files are simply absent. Derived values (written nowhere, recomputed on every load):

- ``perf.load_points[*].error_rate`` = failed / (completed + failed), or absent when both are 0;
- ``perf.usage`` = request and token totals summed from perf/requests.jsonl (warm-up excluded):
  ``requests, completed, failed, error_rate, prompt_tokens, output_tokens, total_tokens``.

This is the only part of claims that reads files; :func:`benchseal.claims.check` is pure.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

from benchseal import bundle as layout
from benchseal.errors import BundleError, ConfigError
from benchseal.io import iter_jsonl, read_json

# Top-level evidence section -> bundle file it comes from (for Verdict.evidence).
SECTION_FILES: dict[str, str] = {
    "run": layout.RUN_JSON,
    "hardware": layout.HARDWARE_JSON,
    "model": layout.MODEL_JSON,
    "perf": layout.PERF_SUMMARY,
    "lightweight": layout.LIGHTWEIGHT_JSON,
}

# Why a whole section is absent, when its absence means something (the verdict's reason).
ABSENT_SECTION_REASONS: dict[str, str] = {
    "lightweight": "no lightweight variant measured (run the light model with --lightweight-of FULL_BUNDLE)",
}


@dataclass(frozen=True)
class Evidence:
    """A bundle as data. ``data`` is the nested dict; ``files`` the bundle files it was read from."""

    data: Mapping[str, Any]
    files: tuple[str, ...] = ()
    bundle: str | None = field(default=None, compare=False)

    def get(self, key: str, default: Any = None) -> Any:
        return self.data.get(key, default)


def _read(path: Path) -> Any:
    try:
        return read_json(path)
    except ConfigError as exc:
        raise BundleError(exc.what, where=str(path), hint="the bundle file is not valid JSON; re-run the stage that wrote it") from None


def _usage(requests_path: Path) -> dict[str, Any]:
    tot = {"requests": 0, "completed": 0, "failed": 0, "prompt_tokens": 0, "output_tokens": 0}
    try:
        rows = iter_jsonl(requests_path)
        for rec in rows:
            if not isinstance(rec, dict) or rec.get("warmup"):
                continue
            tot["requests"] += 1
            if rec.get("status") == "ok":
                tot["completed"] += 1
            else:
                tot["failed"] += 1
            tot["prompt_tokens"] += int(rec.get("prompt_tokens") or 0)
            tot["output_tokens"] += int(rec.get("output_tokens") or 0)
    except ConfigError as exc:
        raise BundleError(exc.what, where=str(requests_path)) from None
    tot["total_tokens"] = tot["prompt_tokens"] + tot["output_tokens"]
    tot["error_rate"] = tot["failed"] / tot["requests"] if tot["requests"] else None
    return tot


def derive_perf(perf: dict[str, Any]) -> dict[str, Any]:
    """Add ``error_rate`` to every load point (a copy; the input is not changed)."""
    out = dict(perf)
    points = []
    for lp in perf.get("load_points") or []:
        lp = dict(lp)
        done, failed = lp.get("completed") or 0, lp.get("failed") or 0
        if done + failed:
            lp["error_rate"] = failed / (done + failed)
        points.append(lp)
    out["load_points"] = points
    return out


def load_evidence(bundle_dir: str | Path) -> Evidence:
    """Read the bundle's evidence files; raise BundleError when the folder is not there."""
    root = Path(bundle_dir)
    if not root.is_dir():
        raise BundleError("bundle folder not found", where=str(root), hint="pass the folder a run wrote")
    data: dict[str, Any] = {}
    files: list[str] = []
    for section, rel in SECTION_FILES.items():
        if (root / rel).is_file():
            data[section] = _read(root / rel)
            files.append(rel)
    if isinstance(data.get("perf"), dict):
        data["perf"] = derive_perf(data["perf"])
    if (root / layout.PERF_REQUESTS).is_file():
        data.setdefault("perf", {})["usage"] = _usage(root / layout.PERF_REQUESTS)
        files.append(layout.PERF_REQUESTS)
    evals: dict[str, Any] = {}
    eval_dir = root / layout.EVAL_DIR
    if eval_dir.is_dir():
        for res in sorted(eval_dir.glob(f"*/{layout.EVAL_RESULTS}")):
            evals[res.parent.name] = _read(res)
            files.append(f"{layout.EVAL_DIR}/{res.parent.name}/{layout.EVAL_RESULTS}")
    if evals:
        data["eval"] = evals
    ref_model = root / layout.LIGHTWEIGHT_DIR / "reference" / layout.MODEL_JSON
    if ref_model.is_file():  # the full model's card, for the lightweight identity gate (claims.gates)
        data["references"] = {"lightweight_model": _read(ref_model)}
        files.append(f"{layout.LIGHTWEIGHT_DIR}/reference/{layout.MODEL_JSON}")
    run = data.get("run") if isinstance(data.get("run"), dict) else {}
    data["claims_grade"] = {
        "run_complete": run.get("status") == "complete",
        "eval": {s: bool(r.get("claim_grade")) for s, r in evals.items() if isinstance(r, dict)},
    }
    return Evidence(data=data, files=tuple(files), bundle=str(root))


def evidence_from_dict(data: Mapping[str, Any]) -> Evidence:
    """Wrap an in-memory evidence dict (tests, re-checks); perf load points get their derived fields."""
    data = dict(data)
    if isinstance(data.get("perf"), dict):
        data["perf"] = derive_perf(data["perf"])
    return Evidence(data=data)

