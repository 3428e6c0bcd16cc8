"""Report sections for the audited perf figures: the audits of the run, the 95% intervals of the
claim-relevant figures, and how a verdict's status is shown (an ``op: present`` claim that holds is
"reported", never a green PASS). Plain rows, shared by the HTML and Markdown renderers."""

from __future__ import annotations

from typing import Any

from .i18n import bi
from .view import BundleView

Table = tuple[list[str], list[list[Any]]]

LABELS: dict[str, tuple[str, str]] = {
    "audits": ("性能审计", "Performance audits"),
    "audits_note": ("审计未通过时，其涉及的性能指标判定为无法判定（见 docs/metrics.md「Audits」）",
                    "A failed audit makes the claims on the figures it touches INCONCLUSIVE (docs/metrics.md, Audits)"),
    "intervals": ("95% 置信区间与客户端上限", "95% intervals and the client's ceiling"),
    "intervals_note": ("百分位：次序统计量区间；吞吐：泊松计数区间；“—”表示样本量不足以给出该界",
                       "Percentiles: order-statistic intervals; throughput: Poisson count interval; — where the sample is too small for that bound; "
                       "client ceiling: the client's own throughput on a null server at the same concurrency"),
    "REPORTED": ("已报告", "reported"),
    "records": ("超过公开纪录的数值（待复核）", "Figures above a published record (for review)"),
    "records_note": ("同一模型与 GPU 的公开最高吞吐（configs/records/inference.yaml，逐条注明出处）；超过并不等于错误，但须复核",
                     "The best published throughput for the same model and GPU (configs/records/inference.yaml, each cited); "
                     "above it is not wrong by itself, but must be reviewed"),
}


def shown_status(v: dict[str, Any]) -> str:
    """The status to show: ``REPORTED`` for a holding ``op: present`` claim, else its own status."""
    return "REPORTED" if v.get("op") == "present" and v.get("status") == "PASS" else str(v.get("status"))


def status_label(status: str) -> str:
    from .i18n import STATUS

    return bi(status, LABELS if status == "REPORTED" else STATUS)


def audit_table(view: BundleView) -> Table | None:
    audits = (view.perf or {}).get("audits") or []
    if not audits:
        return None
    return ["audit", "status", "detail"], [[a.get("name"), a.get("status"), a.get("detail")] for a in audits]


def _iv(ci: Any) -> str:
    if not isinstance(ci, list) or len(ci) != 2:
        return "—"
    return " – ".join("—" if x is None else f"{x:.4g}" for x in ci)


def interval_table(view: BundleView) -> Table | None:
    rows = []
    for lp in (view.perf or {}).get("load_points") or []:
        t, e = lp.get("ttft_ms") or {}, lp.get("e2el_ms") or {}
        tci, eci, thr = t.get("ci95") or {}, e.get("ci95") or {}, lp.get("throughput_ci95") or {}
        ceil = lp.get("client_ceiling") or {}
        if not (tci or thr or ceil):
            continue
        if ceil.get("status") == "measured":
            frac = lp.get("client_bound_fraction") or 0.0
            cert = f"{ceil.get('request_throughput', 0):.4g} req/s; reached {100 * frac:.0f}%" + (
                " — client-bound" if lp.get("client_bound") else "")
        else:
            cert = f"not measured: {ceil.get('reason')}" if ceil else "—"
        rows.append([lp.get("load_point"), t.get("n"), _iv(tci.get("p50")), _iv(tci.get("p99")), _iv(eci.get("p99")),
                     _iv(thr.get("request_throughput")), _iv(thr.get("output_token_throughput")), cert])
    if not rows:
        return None
    return ["load point", "n", "TTFT p50 ms", "TTFT p99 ms", "E2EL p99 ms", "req/s", "output tok/s",
            "client ceiling (certificate)"], rows


def records_table(view: BundleView) -> Table | None:
    """Load points whose output-token throughput per GPU exceeds the published record (bench.perf.records)."""
    from benchseal.bench.perf.records import records_flags

    try:
        flags = records_flags(view.perf, view.hardware, view.model)
    except Exception as exc:  # the table is advisory; a broken user table must not stop the report
        return ["records check"], [[f"not run: {type(exc).__name__}: {exc}"]]
    if not flags:
        return None
    return (["load point", "measured tok/s per GPU", "record tok/s per GPU", "record", "source"],
            [[f["load_point"], f"{f['measured_per_gpu']:.4g}", f"{f['record_per_gpu']:.4g}", f["record"], f["source"]]
             for f in flags])
