"""Re-derivation of the derived fields a key holder could otherwise edit and re-sign (issue 21):

- ``claim_grade`` of every eval result, from the stored limit, item counts, suite files and data
  manifest (:func:`benchseal.evaluators.runner.claim_grade` with the shipped suite), and of the safety
  results from their bank records against the shipped safety profile;
- lm-eval's aggregate of every headline result, from the per-sample log beside it (mean-aggregated
  metrics: the mean of the per-sample scores, :func:`benchseal.evaluators.paired.read_item_scores`);
- ``deciders`` and ``judged_by`` of the refusal and content-safety results, from the per-sample records
  (:func:`benchseal.evaluators.refusal.decider_counts`);
- the request records of every load point against the load spec (``num_requests`` counted requests
  unless the point stopped early or ran for a duration), and that load spec against the program's
  shipped workload.

Each is a small check object registered in :data:`DERIVED_CHECKS`.
"""

from __future__ import annotations

import math
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.io import iter_jsonl, read_json
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, not_rederived, passed, skipped

_SAFETY = ("refusal", "content-safety", "parity")
_MEAN_METRICS = frozenset({"acc", "acc_norm", "exact_match", "mc1", "mc2", "pass@1", "em"})


def _suite_dirs(ctx: BundleContext) -> list[Any]:
    root = ctx.path(layout.EVAL_DIR)
    return sorted(p for p in root.iterdir() if (p / layout.EVAL_RESULTS).is_file()) if root.is_dir() else []


class ClaimGradeCheck:
    """``claim_grade: true`` only where the stored evidence re-derives it."""

    name = "rederive:claim-grade"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        dirs = _suite_dirs(ctx)
        if not dirs:
            yield skipped(self.name, "no evaluation results in the bundle")
            return
        for d in dirs:
            rep = read_json(d / layout.EVAL_RESULTS)
            name = f"{self.name}:{d.name}"
            if not isinstance(rep, dict) or not rep.get("claim_grade"):
                yield passed(name, "not claimed as claim-grade")
                continue
            why = self._reasons(d, rep)
            yield failed(name, "claim_grade is true, but the evidence says otherwise: " + "; ".join(why[:3])) if why \
                else passed(name, "claim_grade re-derived from the stored limit, counts, suite files and data manifest")

    @staticmethod
    def _reasons(d: Any, rep: dict[str, Any]) -> list[str]:
        from benchseal.schema import EvalResult

        results = [EvalResult.model_validate(r) for r in rep.get("results") or []]
        why = [f"{r.task} ran with --limit {r.limit:g}" for r in results if r.limit is not None]
        if rep.get("protocol", {}).get("limit") is not None:
            why.append(f"the protocol records --limit {rep['protocol']['limit']}")
        suite = rep.get("suite")
        extra = rep.get("extra") or {}
        if suite == "refusal" or suite == "content-safety":
            return why + _safety_reasons(d, rep)
        if suite in _SAFETY:
            return why
        files = extra.get("suite_files")
        if files:
            from benchseal.evaluators.runner import claim_grade
            from benchseal.evaluators.suites import load_suite, shipped_suite_sha256

            if any(shipped_suite_sha256(n) != sha for n, sha in files.items()):
                return why + ["the suite files are not the shipped ones"]
            from benchseal.config import packaged_config_dir

            shipped = load_suite(str(packaged_config_dir() / "suites" / next(iter(files))))  # the suite's own file comes first
            manifest = read_json(d / "manifest.json") if (d / "manifest.json").is_file() else None
            limits = {r.limit for r in results}
            why += claim_grade(shipped, results, limit=limits.pop() if len(limits) == 1 else None, backend_notes=[],
                               manifest=manifest if isinstance(manifest, dict) else {})
            return why
        from benchseal.evaluators.suites import standard_benchmarks

        std = standard_benchmarks()
        for r in results:
            if r.headline and r.benchmark in std and std[r.benchmark].items is not None and r.n is not None \
                    and r.n != std[r.benchmark].items:
                why.append(f"{r.task} evaluated {r.n} items; the official {r.benchmark} split has {std[r.benchmark].items}")
        return why


def _safety_reasons(d: Any, rep: dict[str, Any]) -> list[str]:
    """The safety results' structure against the shipped profile, and every asked question decided."""
    from benchseal.evaluators.banks import safety_profile

    prof = safety_profile()
    extra = rep.get("extra") or {}
    why = []
    if rep.get("suite") == "refusal":
        minimum, sizes, dups = prof.refusal.min_bank, extra.get("bank_sizes") or {}, extra.get("duplicates") or {}
        samples = d / "samples_refusal.jsonl"
        undecided = ("review", "error")
    else:
        minimum, sizes, dups = prof.content.min_bank, {"content": extra.get("bank_size")}, {"content": extra.get("duplicates") or {}}
        samples = d / "samples_content.jsonl"
        undecided = ("review", "error")
    for bank, size in sizes.items():
        distinct = (dups.get(bank) or {}).get("distinct", size)
        if not isinstance(distinct, int) or distinct < minimum:
            why.append(f"the {bank} bank holds {distinct} distinct questions; {prof.label()} asks for {minimum}")
        if (dups.get(bank) or {}).get("duplicates"):
            why.append(f"the {bank} bank holds duplicate questions")
    if samples.is_file():
        rows = [r for r in iter_jsonl(samples) if isinstance(r, dict)]
        left = sum(1 for r in rows if r.get("decision") in undecided)
        if left:
            why.append(f"{left} asked question(s) were not decided")
    return why


class AggregateCheck:
    """Every mean-aggregated headline score of lm-eval's raw output equals the mean of its per-sample log."""

    name = "rederive:aggregates"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.evaluators.paired import read_item_scores

        done = 0
        for d in _suite_dirs(ctx):
            if d.name in _SAFETY or not (d / "lm_eval_results.json").is_file():
                continue
            raw = read_json(d / "lm_eval_results.json")
            rep = read_json(d / layout.EVAL_RESULTS)
            for r in rep.get("results") or []:
                if not r.get("headline") or r.get("metric") not in _MEAN_METRICS:
                    continue
                task, metric, filt = r["task"], r["metric"], r.get("filter") or "none"
                stored = ((raw.get("results") or {}).get(task) or {}).get(f"{metric},{filt}")
                scores = read_item_scores(d, raw, task, metric, filt)
                name = f"{self.name}:{d.name}/{task}"
                if not scores:
                    if (raw.get("group_subtasks") or {}).get(task):
                        continue  # a group: its leaves are checked as tasks of their own where logged
                    extra = rep.get("extra") or {}
                    if extra.get("samples_files") or extra.get("suite_files"):  # written by run_suite: the log must be there
                        yield failed(name, f"no per-sample log for {task} {metric},{filt}, so its aggregate cannot be re-derived")
                    else:
                        yield not_rederived(name, f"{task} {metric},{filt}: the bundle holds no per-sample log to re-derive it from")
                    continue
                if (raw.get("group_subtasks") or {}).get(task):
                    continue  # group aggregates are weighted by lm-eval's own rule; leaves are checked
                mean = sum(scores.values()) / len(scores)
                done += 1
                if not isinstance(stored, (int, float)) or not math.isclose(stored, mean, rel_tol=1e-9, abs_tol=1e-12):
                    yield failed(name, f"lm_eval_results.json gives {metric},{filt} = {stored}, the mean of its "
                                       f"{len(scores)} per-sample scores is {mean:.6g}")
                elif r.get("n") not in (None, len(scores)):
                    yield failed(name, f"results.json says n = {r.get('n')}, the per-sample log holds {len(scores)}")
                else:
                    yield passed(name, f"{metric},{filt} = mean of {len(scores)} per-sample scores")
        if not done:
            yield skipped(self.name, "no mean-aggregated headline result with a per-sample log")


class DecidersCheck:
    """``deciders`` and ``judged_by`` of the judged results re-derived from the per-sample records."""

    name = "rederive:deciders"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.evaluators.refusal import decider_counts

        any_ = False
        for suite, samples, kind in (("refusal", "samples_refusal.jsonl", "refusal"), ("content-safety", "samples_content.jsonl", "content")):
            d = ctx.path(f"{layout.EVAL_DIR}/{suite}")
            if not (d / layout.EVAL_RESULTS).is_file():
                continue
            any_ = True
            name = f"{self.name}:{suite}"
            extra = read_json(d / layout.EVAL_RESULTS).get("extra") or {}
            if not (d / samples).is_file():
                yield failed(name, f"no {samples}: who decided each reply cannot be re-derived")
                continue
            rows = [r for r in iter_jsonl(d / samples) if isinstance(r, dict)]
            if kind == "refusal":
                fresh = decider_counts(rows)
            else:
                fresh = {"rules": 0, "judge": sum(1 for r in rows if r.get("decider") == "judge"
                                                  and (r.get("judge") or {}).get("decision") == r.get("decision"))}
            judged = any(isinstance(r.get("judge"), dict) and "decision" in r["judge"] for r in rows)
            problems = []
            if extra.get("deciders") != fresh:
                problems.append(f"extra.deciders is {extra.get('deciders')}, the samples give {fresh}")
            if judged and extra.get("judged_by") == "rules":
                problems.append("extra.judged_by says 'rules' but samples carry judge decisions")
            if extra.get("judged_by") not in (None, "rules") and not extra.get("judge"):
                problems.append(f"extra.judged_by is {extra.get('judged_by')!r} but no judge identity is recorded")
            if fresh["judge"] and not judged:
                problems.append("judge decisions counted without a judge record in the samples")
            yield failed(name, "; ".join(problems)) if problems else passed(name, f"deciders {fresh} re-derived from {len(rows)} samples")
        if not any_:
            yield skipped(self.name, "no judged results in the bundle")


class RequestCountCheck:
    """Every load point holds the requests its load spec asked for (failures are records too), and the
    load spec is the program's shipped workload's."""

    name = "rederive:request-counts"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        summary = ctx.json(layout.PERF_SUMMARY)
        if not isinstance(summary, dict) or not ctx.path(layout.PERF_REQUESTS).is_file():
            yield skipped(self.name, "no perf summary with request records in the bundle")
            return
        load = summary.get("load") or {}
        counted: dict[str, int] = {}
        for rec in iter_jsonl(ctx.path(layout.PERF_REQUESTS)):
            if isinstance(rec, dict) and not rec.get("warmup"):
                counted[str(rec.get("load_point"))] = counted.get(str(rec.get("load_point")), 0) + 1
        want = load.get("num_requests") if isinstance(load, dict) else None
        problems = []
        for lp in summary.get("load_points") or []:
            name = str(lp.get("load_point"))
            n = counted.get(name, 0)
            if lp.get("completed", 0) + lp.get("failed", 0) != n:
                problems.append(f"{name}: the summary counts {lp.get('completed', 0) + lp.get('failed', 0)} requests, "
                                f"perf/requests.jsonl holds {n}")
            elif isinstance(want, int) and not load.get("duration_s") and not lp.get("stopped_early") \
                    and not lp.get("interrupted") and n != want:
                problems.append(f"{name}: the load spec asks for {want} requests, perf/requests.jsonl holds {n} "
                                "(dropped records, or failures left out)")
        problems += _program_load(ctx, load)
        yield failed(self.name, "; ".join(problems[:4])) if problems else \
            passed(self.name, f"{sum(counted.values())} request records match the load spec")


def _program_load(ctx: BundleContext, load: Any) -> list[str]:
    """The stored load spec against the program's shipped workload (when the run used the program's workload)."""
    from benchseal.config import packaged_config_dir

    run = ctx.json(layout.RUN_JSON) or {}
    prog = ctx.json(layout.PROGRAM_JSON) or {}
    name = prog.get("workload") if isinstance(prog, dict) else None
    if not name or (run.get("spec") or {}).get("workload") not in (None, name):
        return []  # another workload: the claims gate says so (claims.gates.gate_workload)
    path = packaged_config_dir() / "workloads" / f"{name}.yaml"
    if not path.is_file():
        return []
    from benchseal.bench.perf.run import load_workload_file

    _, spec = load_workload_file(path)
    shipped = spec.model_dump(mode="json")
    differ = sorted(k for k, v in shipped.items() if isinstance(load, dict) and k in load and load[k] != v)
    return [f"the load spec differs from the program's workload {name!r} in {', '.join(differ)}"] if differ else []


DERIVED_CHECKS = (ClaimGradeCheck(), AggregateCheck(), DecidersCheck(), RequestCountCheck())
