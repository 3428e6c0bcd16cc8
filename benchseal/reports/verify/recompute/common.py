"""What every recomputation check shares: the tolerance, the comparison and the check base class."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from benchseal.reports.seal.canonical import diff_values, summarise
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, passed

REL_TOL = 1e-9
LM_EVAL_RAW = "lm_eval_results.json"


def _dump(obj: Any) -> Any:
    return obj.model_dump(mode="json") if hasattr(obj, "model_dump") else obj


def _compare(name: str, where: str, stored: Any, recomputed: Any, ok_detail: str) -> CheckResult:
    diffs = diff_values(_dump(stored), _dump(recomputed), where, rel=REL_TOL)
    if diffs:
        return failed(name, f"{len(diffs)} value(s) differ from the recomputation: {summarise(diffs)}")
    return passed(name, ok_detail)


class _Recompute:
    name = "recompute"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        yield from self.run(ctx)

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:  # pragma: no cover - interface
        raise NotImplementedError


def _yaml(path: Path) -> Any:
    from benchseal.io import load_yaml

    return load_yaml(path)
