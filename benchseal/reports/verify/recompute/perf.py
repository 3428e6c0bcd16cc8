"""Re-derived perf figures: perf/summary.json from perf/requests.jsonl; MFU/MBU and energy."""

from __future__ import annotations

from typing import Iterable

from benchseal import bundle as layout
from benchseal.bench.perf.metrics import recompute_perf_report
from benchseal.bench.utilisation.mfu import annotate
from benchseal.io import iter_jsonl, read_json, validate
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, skipped
from benchseal.reports.verify.recompute.common import _compare, _Recompute


class PerfSummaryCheck(_Recompute):
    """perf/summary.json recomputed from perf/requests.jsonl."""

    name = "recompute:perf"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import PerfReport, RequestRecord

        summary_path, requests_path = ctx.path(layout.PERF_SUMMARY), ctx.path(layout.PERF_REQUESTS)
        if not summary_path.is_file():
            yield skipped(self.name, f"no {layout.PERF_SUMMARY} in the bundle")
            return
        if not requests_path.is_file():
            yield failed(self.name, f"{layout.PERF_SUMMARY} has no raw records to check it against ({layout.PERF_REQUESTS} is missing)")
            return
        recompute = recompute_perf_report
        summary = read_json(summary_path)
        stored = validate(PerfReport, summary, where=layout.PERF_SUMMARY)
        records = [validate(RequestRecord, r, where=layout.PERF_REQUESTS) for r in iter_jsonl(requests_path)]
        fresh = recompute(summary, records)
        yield _compare(
            self.name, layout.PERF_SUMMARY, stored, fresh,
            f"{len(stored.load_points)} load point(s) match {len(records)} raw request records",
        )


class UtilisationCheck(_Recompute):
    """MFU/MBU and energy of every load point recomputed from the raw records, model.json's
    architecture, hardware.json's peaks and the NVML energy counter in telemetry.csv."""

    name = "recompute:utilisation"

    def run(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.schema import PerfReport, RequestRecord

        if not ctx.path(layout.PERF_SUMMARY).is_file():
            yield skipped(self.name, f"no {layout.PERF_SUMMARY} in the bundle")
            return
        perf = validate(PerfReport, ctx.json(layout.PERF_SUMMARY), where=layout.PERF_SUMMARY)
        points = [lp for lp in perf.load_points if lp.utilisation is not None or lp.energy is not None]
        if not points:
            yield skipped(self.name, "no utilisation or energy figures in the perf summary")
            return
        if not ctx.path(layout.PERF_REQUESTS).is_file() or not ctx.path(layout.MODEL_JSON).is_file():
            yield failed(self.name, f"utilisation and energy cannot be re-derived: {layout.PERF_REQUESTS} or {layout.MODEL_JSON} is missing")
            return
        records = [validate(RequestRecord, r, where=layout.PERF_REQUESTS) for r in iter_jsonl(ctx.path(layout.PERF_REQUESTS))]
        model = ctx.json(layout.MODEL_JSON) or {}
        hardware = ctx.bundle.hardware()
        telemetry = ctx.path(layout.TELEMETRY_DIR) if ctx.path(layout.TELEMETRY_DIR).is_dir() else ctx.path(layout.TELEMETRY_CSV)
        config = {"model_type": model.get("model_type"), **(model.get("config") or {})}
        stored, fresh = [], []
        for lp in points:
            util = lp.utilisation or {}
            dtype = util.get("dtype") or model.get("dtype") or "bf16"
            new = annotate(lp, records, model_config=config, hardware=hardware, dtype=dtype,
                           telemetry_csv=telemetry if telemetry.exists() else None,
                           num_gpus=util.get("engine_gpus", util.get("gpus")))
            if new.utilisation is not None and "engine_gpus" not in util:  # a bundle from before per-GPU figures
                new.utilisation.pop("engine_gpus", None)
                new.utilisation.pop("output_tokens_per_s_per_gpu", None)
            stored.append({"load_point": lp.load_point, "utilisation": lp.utilisation, "energy": lp.energy})
            fresh.append({"load_point": new.load_point, "utilisation": new.utilisation, "energy": new.energy})
        yield _compare(self.name, f"{layout.PERF_SUMMARY}: load_points", stored, fresh,
                       f"MFU/MBU and energy of {len(points)} load point(s) re-derived from records and telemetry")
