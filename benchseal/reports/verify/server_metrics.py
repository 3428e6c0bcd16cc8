"""``recompute:server-metrics``: perf/server_metrics.json re-derived from the raw scrapes in
perf/server_scrapes.jsonl and the request records in perf/requests.jsonl, with the functions that
derived it during the run (:func:`benchseal.bench.perf.server_metrics.derive_report`)."""

from __future__ import annotations

from typing import Iterable

from benchseal import bundle as layout
from benchseal.bench.perf.server_metrics import derive_report
from benchseal.io import iter_jsonl, validate
from benchseal.reports.seal.canonical import diff_values, summarise
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, passed, skipped

REL_TOL = 1e-9


class ServerMetricsCheck:
    """Server TTFT/ITL/E2E/queue, token counters, gauges and the client/server reconciliation of
    every load point recomputed from the stored scrapes."""

    name = "recompute:server-metrics"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import RequestRecord, ServerMetricsReport

        if not ctx.path(layout.PERF_SERVER_METRICS).is_file():
            yield skipped(self.name, f"no {layout.PERF_SERVER_METRICS} in the bundle")
            return
        stored = validate(ServerMetricsReport, ctx.json(layout.PERF_SERVER_METRICS), where=layout.PERF_SERVER_METRICS)
        if not ctx.path(layout.PERF_SERVER_SCRAPES).is_file():
            yield failed(self.name, f"{layout.PERF_SERVER_METRICS} has no raw scrapes to check it against "
                                    f"({layout.PERF_SERVER_SCRAPES} is missing)")
            return
        if not ctx.path(layout.PERF_REQUESTS).is_file():
            yield failed(self.name, f"the reconciliation in {layout.PERF_SERVER_METRICS} cannot be re-derived: "
                                    f"{layout.PERF_REQUESTS} is missing")
            return
        scrapes = [s for s in iter_jsonl(ctx.path(layout.PERF_SERVER_SCRAPES)) if isinstance(s, dict)]
        records = [validate(RequestRecord, r, where=layout.PERF_REQUESTS) for r in iter_jsonl(ctx.path(layout.PERF_REQUESTS))]
        fresh = derive_report(stored, scrapes, records, model=stored.model)
        diffs = diff_values(stored.model_dump(mode="json"), fresh.model_dump(mode="json"), layout.PERF_SERVER_METRICS,
                            rel=REL_TOL)
        if diffs:
            yield failed(self.name, f"{len(diffs)} value(s) differ from the recomputation: {summarise(diffs)}")
            return
        ok = sum(1 for s in scrapes if s.get("ok"))
        yield passed(self.name, f"{len(stored.load_points)} load point(s) re-derived from {ok} of {len(scrapes)} "
                                f"raw scrape(s) and the request records")
