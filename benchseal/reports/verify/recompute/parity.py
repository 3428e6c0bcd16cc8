"""Re-derived reference comparisons: parity against a reference bundle; the lightweight comparison."""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from benchseal import bundle as layout
from benchseal.evaluators import results_from_lm_eval
from benchseal.evaluators.lightweight import LightweightReport, bundle_lightweight
from benchseal.evaluators.parity import bundle_parity, parity_protocol, parity_raw
from benchseal.io import read_json, validate
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, skipped
from benchseal.reports.verify.recompute.common import _compare, _dump, _Recompute


def reference_copy_problems(ref: Path, recorded: dict[str, str], field: str) -> list[str]:
    """The reference run copied into the bundle against the sha256 the bundle recorded for it: files
    missing, files not recorded in ``field``, and files whose sha256 differs."""
    from benchseal.io import sha256_file

    present = {p.relative_to(ref).as_posix(): sha256_file(p) for p in ref.rglob("*") if p.is_file()} if ref.is_dir() else {}
    problems = [f"reference/{f}: missing" for f in sorted(set(recorded) - set(present))]
    problems += [f"reference/{f}: not recorded in {field}" for f in sorted(set(present) - set(recorded))]
    problems += [f"reference/{f}: sha256 differs from {field}" for f in sorted(set(present) & set(recorded))
                 if present[f] != recorded[f]]
    return problems


class ParityCheck(_Recompute):
    """eval/parity: extra.parity re-derived from the reference run copied into eval/parity/reference/
    (checked against the recorded sha256) and this bundle's own eval/<suite> runs."""

    name = "recompute:parity"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        rel = f"{layout.EVAL_DIR}/parity"
        d = ctx.path(rel)
        if not (d / layout.EVAL_RESULTS).is_file():
            yield skipped(self.name, "no parity results in the bundle")
            return
        report = validate(EvalReport, read_json(d / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
        stored = report.extra.get("parity")
        if not isinstance(stored, dict):
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has no extra.parity report")
            return
        ref = d / "reference"
        if not ref.is_dir():
            yield failed(self.name, f"{rel} has no reference/ copy of the reference run, so the parity report "
                                    "cannot be re-derived")
            return
        problems = reference_copy_problems(ref, (report.extra.get("reference") or {}).get("files") or {},
                                           "extra.reference.files")
        if problems:
            yield failed(self.name, f"{rel}: " + "; ".join(problems[:4]))
            return
        fresh = bundle_parity(Path(ctx.bundle_dir), ratio=float(stored.get("required_ratio", 0.99)))
        raw = parity_raw(fresh)
        fresh_results = results_from_lm_eval(
            raw, suite=report.suite, protocol=parity_protocol(fresh))
        yield _compare(self.name, rel, {"parity": stored, "results": [_dump(r) for r in report.results]},
                       {"parity": _dump(fresh), "results": [_dump(r) for r in fresh_results]},
                       f"parity of {len(fresh.tasks)} task(s) re-derived from the reference copy and this bundle's runs")


class LightweightCheck(_Recompute):
    """lightweight/lightweight.json re-derived from the full model's files copied into
    lightweight/reference/ (checked against the recorded sha256) and this bundle's model.json,
    perf/summary.json and eval/parity results."""

    name = "recompute:lightweight"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        rel = layout.LIGHTWEIGHT_JSON
        if not ctx.path(rel).is_file():
            yield skipped(self.name, "no lightweight comparison in the bundle")
            return
        stored = validate(LightweightReport, read_json(ctx.path(rel)), where=rel)
        ref = ctx.path(f"{layout.LIGHTWEIGHT_DIR}/reference")
        problems = reference_copy_problems(ref, stored.reference.get("files") or {}, "reference.files")
        if problems:
            yield failed(self.name, f"{rel}: " + "; ".join(problems[:4]))
            return
        fresh = bundle_lightweight(Path(ctx.bundle_dir), reference=stored.reference)
        yield _compare(self.name, rel, stored, fresh,
                       f"weights, memory, {len(fresh.perf.get('load_points') or [])} load point(s) and "
                       f"{len(fresh.parity.get('tasks') or [])} parity task(s) re-derived from the full model's copy")
