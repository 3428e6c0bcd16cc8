"""Re-derived safety figures: refusal rates and the generated-content pass rate from their per-sample records."""

from __future__ import annotations

from typing import Iterable

from benchseal import bundle as layout
from benchseal.evaluators import results_from_lm_eval
from benchseal.evaluators.refusal import (
    RefusalRules,
    counts_of,
    flags_from_samples,
    load_rules,
    reclassify,
    refusal_raw,
)
from benchseal.io import iter_jsonl, read_json, validate
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, skipped
from benchseal.reports.verify.recompute.common import LM_EVAL_RAW, _compare, _dump, _Recompute


class RefusalCheck(_Recompute):
    """eval/refusal: every stored reply classified again with the stored rule set, and the rates,
    counts and lm-eval-format raw file re-derived from the per-sample decisions."""

    name = "recompute:refusal"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import EvalReport

        rel = f"{layout.EVAL_DIR}/refusal"
        d = ctx.path(rel)
        if not (d / layout.EVAL_RESULTS).is_file():
            yield skipped(self.name, "no refusal results in the bundle")
            return
        samples_name = "samples_refusal.jsonl"
        if not (d / samples_name).is_file():
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has no {samples_name}, so the refusal rates "
                                    "cannot be re-derived")
            return
        report = validate(EvalReport, read_json(d / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
        if not isinstance(report.extra.get("rules"), dict):
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has per-sample replies but no extra.rules to classify them with")
            return
        rules = validate(RefusalRules, report.extra["rules"], where=f"{rel}/{layout.EVAL_RESULTS}: extra.rules")
        problems: list[str] = []
        if (d / "rules.yaml").is_file():
            from benchseal.io import sha256_file

            if sha256_file(d / "rules.yaml") != report.extra.get("rules_sha256"):
                problems.append(f"{rel}/rules.yaml does not have the sha256 recorded in extra.rules_sha256")
            if load_rules(d / "rules.yaml") != rules:
                problems.append(f"{rel}/rules.yaml differs from extra.rules")
        samples = list(iter_jsonl(d / samples_name))
        problems += reclassify(samples, rules)
        if problems:
            yield failed(self.name, f"{len(problems)} problem(s): " + "; ".join(problems[:3]))
            return
        flags = flags_from_samples(samples)
        raw = refusal_raw(flags)
        fresh_results = results_from_lm_eval(raw, suite=report.suite, protocol=report.protocol)
        stored = {"results": [_dump(r) for r in report.results], "counts": report.extra.get("counts")}
        fresh = {"results": [_dump(r) for r in fresh_results], "counts": counts_of(flags)}
        if (d / LM_EVAL_RAW).is_file():
            stored_raw = read_json(d / LM_EVAL_RAW)
            stored["raw"] = {k: stored_raw.get(k) for k in ("results", "n-samples")}
            fresh["raw"] = {k: raw.get(k) for k in ("results", "n-samples")}
        yield _compare(self.name, rel, stored, fresh,
                       f"{len(samples)} replies re-classified with the stored rules; rates and counts re-derived")


class ContentSafetyCheck(_Recompute):
    """eval/content-safety: every stored decision checked against its judge record, and the counts,
    the pass rate and the lm-eval-format raw file re-derived from the per-sample rows."""

    name = "recompute:content-safety"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.evaluators import content_safety as cs
        from benchseal.schema import EvalReport

        rel = f"{layout.EVAL_DIR}/{cs.SUITE}"
        d = ctx.path(rel)
        if not (d / layout.EVAL_RESULTS).is_file():
            yield skipped(self.name, "no content-safety results in the bundle")
            return
        if not (d / cs.SAMPLES).is_file():
            yield failed(self.name, f"{rel}/{layout.EVAL_RESULTS} has no {cs.SAMPLES}, so the pass rate cannot be re-derived")
            return
        report = validate(EvalReport, read_json(d / layout.EVAL_RESULTS), where=f"{rel}/{layout.EVAL_RESULTS}")
        samples = list(iter_jsonl(d / cs.SAMPLES))
        problems = cs.recheck(samples, report)
        if problems:
            yield failed(self.name, f"{len(problems)} problem(s): " + "; ".join(problems[:3]))
            return
        raw = cs.content_raw(samples, bank_size=int(report.extra.get("bank_size") or 0))
        stored = {"results": [_dump(r) for r in report.results]}
        fresh = {"results": [_dump(r) for r in results_from_lm_eval(raw, suite=report.suite, protocol=report.protocol)]}
        if (d / LM_EVAL_RAW).is_file():
            stored_raw = read_json(d / LM_EVAL_RAW)
            stored["raw"] = {k: stored_raw.get(k) for k in ("results", "n-samples")}
            fresh["raw"] = {k: raw.get(k) for k in ("results", "n-samples")}
        yield _compare(self.name, rel, stored, fresh,
                       f"{len(samples)} judged replies checked against their judge records; counts and pass rate re-derived")
