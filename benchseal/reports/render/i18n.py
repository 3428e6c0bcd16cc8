"""Bilingual labels (Chinese first, English second) for the human reports."""

from __future__ import annotations

LABELS: dict[str, tuple[str, str]] = {
    "title": ("大模型测评证据报告", "Model evidence report"),
    "program": ("申报项目", "Program"),
    "run": ("运行", "Run"),
    "run_id": ("运行编号", "Run id"),
    "choices": ("申请方选择", "Applicant choices"),
    "run_status": ("运行状态", "Run status"),
    "tool": ("工具版本", "Tool version"),
    "started": ("开始时间", "Started"),
    "ended": ("结束时间", "Ended"),
    "stages": ("阶段", "Stages"),
    "spec": ("运行参数", "Run settings"),
    "stage": ("阶段", "Stage"),
    "status": ("状态", "Status"),
    "error": ("错误", "Error"),
    "summary": ("结论摘要", "Summary"),
    "overall_pass": ("全部必需指标通过", "All required claims pass"),
    "overall_fail": ("存在未通过或无法判定的必需指标", "A required claim failed or is inconclusive"),
    "no_claims": ("未指定申报项目，未进行指标核验", "No program given: no claims were checked"),
    "claims": ("指标核验", "Claims"),
    "claim": ("指标", "Claim"),
    "clause": ("条款原文 / 英文释义", "Clause (Chinese / English gloss)"),
    "metric": ("证据路径", "Metric path"),
    "requirement": ("要求", "Requirement"),
    "observed": ("实测值", "Observed"),
    "margin": ("余量", "Margin"),
    "severity": ("级别", "Severity"),
    "reason": ("说明", "Reason"),
    "out_of_scope": ("不在测评范围内的事项", "Out of scope (not measured by benchseal)"),
    "model": ("模型", "Model"),
    "model_digest": ("模型摘要 (sha256)", "Model digest (sha256)"),
    "params_total": ("总参数量", "Total parameters"),
    "params_active": ("激活参数量", "Active parameters"),
    "params_embedding": ("嵌入层参数量", "Embedding parameters"),
    "params_method": ("计数方法", "Counting method"),
    "architecture": ("架构", "Architecture"),
    "hardware": ("硬件与算力", "Hardware and compute"),
    "compute": ("算力规模 (TFLOPS，稠密峰值)", "Compute inventory (TFLOPS, dense peak)"),
    "host": ("主机", "Host"),
    "perf": ("推理性能", "Inference performance"),
    "server_metrics": ("服务端指标与客户端对账", "Server-side metrics and client/server reconciliation"),
    "server_metrics_note": ("服务端数值取自每个负载点开始与结束时抓取的 /metrics 之差；百分位由直方图桶线性插值估计；开销 = 客户端减服务端",
                            "server figures are the difference of the /metrics scrapes at each load point's start and end; "
                            "percentiles are estimated from histogram buckets by linear interpolation; overhead = client minus server"),
    "eval": ("评测得分", "Evaluation scores"),
    "lightweight": ("轻量化部署（轻量版 / 完整模型）", "Lightweight deployment (light variant / full model)"),
    "claim_grade": ("可用于申报", "Claim-grade"),
    "plots": ("图表", "Plots"),
    "plot_latency_cdf": ("延迟累积分布", "Latency CDF"),
    "plot_throughput": ("吞吐量与并发", "Throughput vs concurrency"),
    "plot_telemetry": ("GPU 遥测（随时间）", "GPU telemetry over time"),
    "plot_peers": ("同类模型对比", "Peer comparison"),
    "plot_roofline": ("屋顶线模型", "Roofline"),
    "verify": ("离线核验：benchseal verify 本目录", "Verify offline: benchseal verify THIS_FOLDER"),
    "missing": ("缺失", "missing"),
    "files": ("证据文件", "Evidence files"),
    "verdict": ("结论", "Verdict"),
    "provenance": ("来源与核验", "Provenance and verification"),
    "key_id": ("签名密钥编号", "Signature key id"),
    "key_id_after": ("报告写入后签名，密钥编号见 statement.dsse.json", "signed after this report was written: the key id is in statement.dsse.json"),
    "how_to_verify": ("如何核验", "How to verify"),
    "verify_hint": ("在证据目录上运行，使用签名方提供的公钥；签名、每个文件摘要与每个结论都会重新计算",
                    "run on the bundle folder with the signer's public key; it checks the signature, every file digest and re-derives every verdict"),
    "bundle_digest": ("证据包摘要 (statement.json sha256)", "Bundle digest (statement.json sha256)"),
    "unsigned": ("未签名", "unsigned"),
    "form": ("申报表填写数据", "Form-ready figures"),
    "form_note": ("按申报表栏目与单位给出的数值（已四舍五入，精确值见证据文件）",
                  "Values in each form field's own unit, rounded for the form; the exact value is in the evidence file named"),
    "counts": ("各状态指标数", "Claims by status"),
    "template_note": ("本项目阈值由申报单位自行设定", "The thresholds of this program are set by the applicant"),
}

STATUS: dict[str, tuple[str, str]] = {
    "PASS": ("通过", "PASS"),
    "FAIL": ("未通过", "FAIL"),
    "INCONCLUSIVE": ("无法判定", "INCONCLUSIVE"),
}

SEVERITY: dict[str, tuple[str, str]] = {
    "required": ("必需", "required"),
    "advisory": ("建议", "advisory"),
    "informational": ("参考", "informational"),
}

RUN_STATUS: dict[str, tuple[str, str]] = {
    "complete": ("完整", "complete"),
    "partial": ("不完整", "partial"),
    "failed": ("失败", "failed"),
    "running": ("进行中（未结束）", "running (not finished)"),
    "interrupted": ("已中断", "interrupted"),
    "skipped": ("已跳过", "skipped"),
    "pending": ("未开始", "pending"),
}

OPS: dict[str, tuple[str, str]] = {
    ">=": ("≥（以上）", ">="),
    ">": ("＞（超过）", ">"),
    "<=": ("≤（不超过）", "<="),
    "<": ("＜（低于）", "<"),
    "==": ("＝", "=="),
    "present": ("须提供", "present"),
}


def bi(key: str, table: dict[str, tuple[str, str]] | None = None, sep: str = " / ") -> str:
    """``"中文 / English"`` for a label key (the key itself when unknown)."""
    zh, en = (table or LABELS).get(key, (key, key))
    return zh if zh == en else f"{zh}{sep}{en}"


def fmt_value(v: object, unit: str | None = None) -> str:
    """A value for a table cell: big ints with thousands separators, floats to 4 significant digits."""
    if v is None:
        return "—"
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, str) and v.lstrip("-").isdigit():
        v = int(v)
    if isinstance(v, int):
        text = f"{v:,}"
    elif isinstance(v, float):
        text = f"{v:,.4g}" if abs(v) < 1e6 else f"{v:,.0f}"
    else:
        text = str(v)
    return f"{text} {unit}" if unit else text


def requirement(verdict: dict) -> str:
    """``≥（以上） 800,000,000 parameters`` / ``须提供 / present``."""
    op = verdict.get("op", "")
    zh, en = OPS.get(op, (op, op))
    if op == "present":
        return f"{zh} / {en}"
    return f"{zh} {fmt_value(verdict.get('threshold'), verdict.get('unit'))}"


# plot name (benchseal.reports.render.plots.PLOTS) -> LABELS key of its caption
PLOTS_CAPTION: dict[str, str] = {
    "latency_cdf": "plot_latency_cdf",
    "throughput": "plot_throughput",
    "telemetry": "plot_telemetry",
    "peers": "plot_peers",
    "roofline": "plot_roofline",
}
