"""Re-derived evaluation figures: eval/<suite>/results.json from lm-eval's raw results; peer comparisons."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.evaluators import results_from_lm_eval
from benchseal.evaluators.peers import PeerSnapshot, PeerTable, comparison_from_dir
from benchseal.io import read_json, validate
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, passed, skipped
from benchseal.reports.verify.recompute.common import LM_EVAL_RAW, _compare, _dump, _Recompute, _yaml


class EvalResultsCheck(_Recompute):
    """eval/<suite>/results.json recomputed from lm-eval's raw output in the same folder."""

    name = "recompute:eval"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        root = ctx.path(layout.EVAL_DIR)
        suites = sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []
        suites = [p for p in suites if (p / layout.EVAL_RESULTS).is_file() or (p / LM_EVAL_RAW).is_file()]
        if not suites:
            yield skipped(self.name, "no evaluation results in the bundle")
            return
        for suite_dir in suites:
            name, rel = f"{self.name}:{suite_dir.name}", f"{layout.EVAL_DIR}/{suite_dir.name}"
            if not (suite_dir / layout.EVAL_RESULTS).is_file():
                yield failed(name, f"{rel}/{LM_EVAL_RAW} has no {layout.EVAL_RESULTS} summary next to it")
                continue
            if not (suite_dir / LM_EVAL_RAW).is_file():
                yield failed(name, f"{rel}/{layout.EVAL_RESULTS} has no raw lm-eval output to check it against ({LM_EVAL_RAW} is missing)")
                continue
            report = validate(EvalReport, read_json(suite_dir / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
            fn = results_from_lm_eval
            limits = {r.limit for r in report.results}
            limit = report.protocol.get("limit", limits.pop() if len(limits) == 1 else None)
            fresh = fn(read_json(suite_dir / LM_EVAL_RAW), suite=report.suite, limit=limit, protocol=report.protocol)
            yield _compare(
                name, f"{rel}/{layout.EVAL_RESULTS}: results", [_dump(r) for r in report.results], [_dump(r) for r in fresh],
                f"{len(report.results)} result(s) match the raw lm-eval output",
            )


def _eval_dirs(ctx: BundleContext) -> list[Path]:
    root = ctx.path(layout.EVAL_DIR)
    return sorted(p for p in root.iterdir() if p.is_dir()) if root.is_dir() else []


class ComparisonCheck(_Recompute):
    """eval/<suite>/results.json's extra.comparison re-derived from the same file's results and the
    peer rows copied into eval/<suite>/peers.json; the copied rows of a shipped table compared with
    the verifier's own configs/peers table (``peers:<suite>``)."""

    name = "recompute:comparison"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        found = False
        for d in _eval_dirs(ctx):
            rel = f"{layout.EVAL_DIR}/{d.name}"
            data = read_json(d / layout.EVAL_RESULTS) if (d / layout.EVAL_RESULTS).is_file() else None
            stored = ((data or {}).get("extra") or {}).get("comparison") if isinstance(data, dict) else None
            has_peers = (d / "peers.json").is_file()
            if stored is None and not has_peers:
                continue
            found = True
            name = f"{self.name}:{d.name}"
            if data is None:
                yield failed(name, f"{rel}/peers.json has no {layout.EVAL_RESULTS} next to it")
                continue
            if stored is None:
                yield failed(name, f"{rel}/peers.json is present but {rel}/{layout.EVAL_RESULTS} has no extra.comparison")
                continue
            if not has_peers:
                yield failed(name, f"{rel}/{layout.EVAL_RESULTS} has a peer comparison without {rel}/peers.json, "
                                   "so it cannot be re-derived")
                continue
            snapshot_model = PeerSnapshot
            report = validate(EvalReport, data, where=f"{rel}/{layout.EVAL_RESULTS}")
            snapshot = validate(snapshot_model, read_json(d / "peers.json"), where=f"{rel}/peers.json")
            rows = sum(len(t.rows) for t in snapshot.tables)
            fresh = comparison_from_dir(d, report)  # results, samples, peers.json and peer_runs/ of the same folder
            yield _compare(name, f"{rel}/{layout.EVAL_RESULTS}: extra.comparison", stored, fresh,
                           f"comparison re-derived from {len(report.results)} result(s), {rows} peer row(s) in peers.json "
                           f"and {len(fresh.peer_runs)} measured peer run(s) with their samples")
            yield from self._published(f"peers:{d.name}", rel, report, snapshot)
        if not found:
            yield skipped(self.name, "no peer comparison in the bundle")

    def _published(self, name: str, rel: str, report: Any, snapshot: Any) -> Iterable[CheckResult]:
        from benchseal.config import config_dir

        benches = {r.benchmark for r in report.results if r.headline and r.benchmark}
        table_model = PeerTable
        diffs, checked = [], 0
        for t in snapshot.tables:
            src = config_dir() / t.file[len("configs/"):] if t.file.startswith("configs/") else None
            if src is None or not src.is_file():
                continue
            checked += 1
            published = validate(table_model, _yaml(src), where=str(src))
            want = [r.model_dump() for r in published.rows if r.benchmark in benches]
            got = [r.model_dump() for r in t.rows]
            missing = [f"{r['model']} {r['benchmark']} {r['score']}" for r in want if r not in got]
            extra = [f"{r['model']} {r['benchmark']} {r['score']}" for r in got if r not in want]
            if missing:
                diffs.append(f"{t.file}: row(s) left out: {', '.join(missing[:3])}")
            if extra:
                diffs.append(f"{t.file}: row(s) not in the published table: {', '.join(extra[:3])}")
        if not checked:
            yield skipped(name, f"{rel}/peers.json holds no table of this verifier's configs/peers")
        elif diffs:
            yield failed(name, f"{rel}/peers.json differs from the verifier's peer tables: " + "; ".join(diffs[:4]))
        else:
            yield passed(name, f"{checked} peer table(s) in peers.json match the verifier's configs/peers for these benchmarks")
