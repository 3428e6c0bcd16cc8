"""``recompute:perf-audits``: the ``audits`` of perf/summary.json re-derived from the request
records (perf/requests.jsonl) and the audit probes' rows (perf/audits.jsonl) with the function that
derived them during the run (:func:`benchseal.bench.perf.audits.derive_audits`)."""

from __future__ import annotations

from typing import Iterable

from benchseal import bundle as layout
from benchseal.bench.perf.audits import derive_audits
from benchseal.io import iter_jsonl, validate
from benchseal.reports.seal.canonical import diff_values, summarise
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, passed, skipped


class PerfAuditsCheck:
    """Every audit verdict (status and detail) recomputed from the raw evidence."""

    name = "recompute:perf-audits"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import PerfReport, RequestRecord

        if not ctx.path(layout.PERF_SUMMARY).is_file():
            yield skipped(self.name, f"no {layout.PERF_SUMMARY} in the bundle")
            return
        summary = ctx.json(layout.PERF_SUMMARY)
        stored = validate(PerfReport, summary, where=layout.PERF_SUMMARY)
        has_rows = ctx.path(layout.PERF_AUDITS).is_file()
        if not stored.audits:
            if has_rows:
                yield failed(self.name, f"{layout.PERF_AUDITS} is in the bundle but {layout.PERF_SUMMARY} states no audits")
            else:
                yield skipped(self.name, "the run made no audits")
            return
        if not has_rows or not ctx.path(layout.PERF_REQUESTS).is_file():
            missing = layout.PERF_AUDITS if not has_rows else layout.PERF_REQUESTS
            yield failed(self.name, f"the audits in {layout.PERF_SUMMARY} cannot be re-derived: {missing} is missing")
            return
        records = [validate(RequestRecord, r, where=layout.PERF_REQUESTS) for r in iter_jsonl(ctx.path(layout.PERF_REQUESTS))]
        rows = [r for r in iter_jsonl(ctx.path(layout.PERF_AUDITS)) if isinstance(r, dict)]
        try:
            fresh = [a.model_dump(mode="json") for a in derive_audits(summary, records, rows)]
        except (TypeError, ValueError, KeyError, AttributeError) as exc:
            yield failed(self.name, f"{layout.PERF_AUDITS} cannot be read as audit rows: {type(exc).__name__}: {exc}"[:300])
            return
        diffs = diff_values([a.model_dump(mode="json") for a in stored.audits], fresh, f"{layout.PERF_SUMMARY}:audits")
        if diffs:
            yield failed(self.name, f"{len(diffs)} value(s) differ from the recomputation: {summarise(diffs)}")
            return
        counts = {s: sum(a["status"] == s for a in fresh) for s in ("pass", "fail", "not-run")}
        yield passed(self.name, f"{len(fresh)} audit(s) re-derived from {len(records)} request records and "
                                f"{len(rows)} probe rows ({counts['pass']} pass, {counts['fail']} fail, "
                                f"{counts['not-run']} not run)")
