"""Form-ready figures: the values an applicant copies into a program's application form, each in
the form's own unit, with the load point or note it comes from and the bundle evidence behind it.

The fields follow the Hunan form (参数量（亿）; 推理算力: 服务器数量、GPU厂商、型号及算力规模（TFlops）;
推理延迟、吞吐量); the same figures serve the other programs. Values are rounded for people here; the
exact value sits in the evidence file named next to each field (and in ``form.json``).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

from .view import BundleView

YI = 100_000_000  # 亿


@dataclass(frozen=True)
class FormField:
    field_zh: str
    field_en: str
    value: str  # as written in the form, in the form's unit
    unit: str
    basis: str  # the load point / note the value comes from
    evidence: str  # bundle file and JSON path
    exact: Any = None  # the unrounded value from the evidence

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)


def _sig(x: float, digits: int = 4) -> str:
    """Round for a form field: 2 decimals at 1 and above, else ``digits`` significant digits."""
    if x == 0:
        return "0"
    if abs(x) >= 1:
        return f"{x:,.2f}"
    return f"{x:.{digits}g}"


def _params(view: BundleView) -> list[FormField]:
    p = (view.model or {}).get("params") or {}
    total = p.get("total")
    if total is None:
        return [FormField("参数量（亿）", "Parameters (亿 = 10^8)", "—", "亿", "model stage did not run", "model.json: missing")]
    total = int(total)
    out = [FormField("参数量（亿）", "Parameters (亿 = 10^8)", _sig(total / YI), "亿",
                     f"{total:,} parameters, method {p.get('method') or '?'}", "model.json: params.total", total)]
    active = p.get("active")
    if active is not None and int(active) != total:
        out.append(FormField("激活参数量（亿）", "Active parameters (亿)", _sig(int(active) / YI), "亿",
                             f"{int(active):,} parameters per token", "model.json: params.active", int(active)))
    return out


def _compute(view: BundleView) -> list[FormField]:
    hw = view.hardware
    if not hw:
        return [FormField("推理算力", "Inference compute", "—", "", "hardware stage did not run", "hardware.json: missing")]
    comp = hw.get("compute") or {}
    rows = comp.get("rows") or []
    servers = comp.get("servers") or 0
    out = [FormField("服务器数量", "Number of servers", str(servers), "台", "servers probed in this run", "hardware.json: compute.servers", servers)]
    if not rows:
        why = "no NVIDIA GPU found (CPU-only run): 算力规模 cannot be stated from this bundle"
        if comp.get("unknown_gpus"):
            why = "GPU(s) without a datasheet entry: " + ", ".join(comp["unknown_gpus"])
        out.append(FormField("GPU厂商、型号及算力规模", "GPU vendor, model and compute", "—", "TFlops", why, "hardware.json: compute.rows"))
        return out
    for i, r in enumerate(rows):
        tflops = (r.get("tflops_total") or {}).get("bf16")
        where = f"server {r.get('server')}" if len(rows) > 1 or servers > 1 else "this server"
        out.append(FormField("GPU厂商", "GPU vendor", str(r.get("vendor") or "—"), "", where, f"hardware.json: compute.rows[{i}].vendor"))
        out.append(FormField("型号", "GPU model", f"{r.get('model')} × {r.get('count')}", "", where,
                             f"hardware.json: compute.rows[{i}].model, .count", r.get("count")))
        out.append(FormField("算力规模（TFlops）", "Compute (TFlops, dense BF16 peak)", "—" if tflops is None else _sig(float(tflops)),
                             "TFlops", f"{where}: datasheet dense BF16 peak × {r.get('count')} GPU(s) ({r.get('spec_id')})",
                             f"hardware.json: compute.rows[{i}].tflops_total.bf16", tflops))
    total = (comp.get("total_tflops") or {}).get("bf16")
    if total is not None and len(rows) > 1:
        out.append(FormField("算力规模合计（TFlops）", "Total compute (TFlops, BF16)", _sig(float(total)), "TFlops",
                             f"{servers} server(s), {comp.get('gpus')} GPU(s)", "hardware.json: compute.total_tflops.bf16", total))
    return out


def _load_points(view: BundleView) -> list[tuple[int, dict[str, Any]]]:
    return [(i, lp) for i, lp in enumerate((view.perf or {}).get("load_points") or []) if lp.get("completed")]


def _latency(view: BundleView) -> list[FormField]:
    lps = _load_points(view)
    if not lps:
        return [FormField("推理延迟", "Inference latency", "—", "ms", "perf stage did not run or completed no request", "perf/summary.json: missing")]
    # the lightest load point: the latency a single user sees
    i, lp = min(lps, key=lambda t: (t[1].get("concurrency") or float("inf"), t[1].get("rate") or float("inf")))
    name = lp.get("load_point")
    out = []
    for key, zh, en, q in (("ttft_ms", "推理延迟：首字延迟 TTFT p99", "Latency: time to first token, p99", "p99"),
                           ("e2el_ms", "推理延迟：端到端 p99", "Latency: end-to-end, p99", "p99"),
                           ("tpot_ms", "推理延迟：每输出 token 时间 TPOT p50", "Latency: time per output token, p50", "p50")):
        v = (lp.get(key) or {}).get(q)
        if v is None:
            continue
        out.append(FormField(zh, en, _sig(float(v)), "ms", f"load point {name} ({lp.get('completed')} requests)",
                             f"perf/summary.json: load_points[{i}].{key}.{q}", v))
    return out


def _throughput(view: BundleView) -> list[FormField]:
    lps = _load_points(view)
    if not lps:
        return [FormField("吞吐量", "Throughput", "—", "tokens/s", "perf stage did not run or completed no request", "perf/summary.json: missing")]
    i, lp = max(lps, key=lambda t: t[1].get("output_token_throughput") or 0.0)
    name = lp.get("load_point")
    out = [FormField("吞吐量（输出 token/s）", "Throughput (output tokens/s)", _sig(float(lp.get("output_token_throughput") or 0.0)),
                     "tokens/s", f"highest of {len(lps)} load point(s): {name}",
                     f"perf/summary.json: load_points[{i}].output_token_throughput", lp.get("output_token_throughput"))]
    per_gpu = (lp.get("utilisation") or {}).get("output_tokens_per_s_per_gpu")
    if per_gpu is not None:
        gpus = (lp.get("utilisation") or {}).get("engine_gpus")
        out.append(FormField("吞吐量（每 GPU 输出 token/s）", "Throughput per GPU (output tokens/s/GPU)", _sig(float(per_gpu)),
                             "tokens/s/GPU", f"same load point: {name}, over the {gpus} GPU(s) the engine uses",
                             f"perf/summary.json: load_points[{i}].utilisation.output_tokens_per_s_per_gpu", per_gpu))
    if lp.get("request_throughput") is not None:
        out.append(FormField("吞吐量（请求/s）", "Throughput (requests/s)", _sig(float(lp["request_throughput"])), "requests/s",
                             f"same load point: {name}", f"perf/summary.json: load_points[{i}].request_throughput", lp["request_throughput"]))
    return out


def form_fields(view: BundleView) -> list[FormField]:
    """Every form field with its value, in the order of the Hunan form."""
    return _params(view) + _compute(view) + _latency(view) + _throughput(view)


def form_rows(view: BundleView) -> list[list[Any]]:
    return [[f"{f.field_zh} / {f.field_en}", f"{f.value} {f.unit}".strip() if f.value != "—" else "—", f.basis, f.evidence]
            for f in form_fields(view)]


FORM_HEADERS = ["表单栏目 / Form field", "填写值 / Value to write", "依据 / From", "证据 / Evidence (file: JSON path)"]


def render_form_markdown(view: BundleView) -> str:
    lines = ["| " + " | ".join(FORM_HEADERS) + " |", "|---|---|---|---|"]
    for row in form_rows(view):
        lines.append("| " + " | ".join(str(c).replace("|", "\\|") for c in row) + " |")
    return "\n".join(lines)


def form_json(view: BundleView) -> dict[str, Any]:
    return {"program": view.program_id, "model_digest": (view.model or {}).get("model_digest"),
            "fields": [f.as_dict() for f in form_fields(view)], "note": "values rounded for the form; `exact` is the evidence value"}


__all__ = ["FORM_HEADERS", "FormField", "form_fields", "form_json", "form_rows", "render_form_markdown"]
