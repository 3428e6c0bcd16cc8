"""report.md: the same content as report.html as GitHub-flavoured Markdown (plots linked from plots/)."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Iterable

from .form import render_form_markdown
from .i18n import LABELS, PLOTS_CAPTION, RUN_STATUS, SEVERITY, STATUS, bi, fmt_value, format_columns, requirement
from .perf_audit import LABELS as PERF_LABELS, audit_table, interval_table, records_table, shown_status, status_label
from .binding import identity_line
from .sections import Sections, overall, provenance_rows


def _esc(v: Any) -> str:
    text = v if isinstance(v, str) else fmt_value(v)
    return text.replace("|", "\\|").replace("\n", " ")


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    headers = list(headers)
    lines = ["| " + " | ".join(_esc(h) for h in headers) + " |", "|" + "---|" * len(headers)]
    lines += ["| " + " | ".join(_esc(c) for c in row) + " |" for row in format_columns([list(r) for r in rows])]
    return "\n".join(lines)


def render_markdown(s: Sections, plots: dict[str, Path], skipped: dict[str, str], *, signing_key_id: str | None = None) -> str:
    v = overall(s)
    mark = {"pass": "✔ PASS", "fail": "✘ FAIL", "inconclusive": "? INCONCLUSIVE", "none": "—"}[v.kind]
    out = [f"# {bi('title')}", ""]
    out += [f"> **{bi('verdict')}: {mark} — {v.zh}**  ", f"> **{v.en}**"]
    if v.kind != "none":
        out += ["> ", "> " + bi("counts") + ": " + ", ".join(f"{bi(st, STATUS)}: {n}" for st, n in v.counts.items())]
    if s.run.get("status", "unknown") != "complete":
        out += ["> ", f"> **{bi('run_status')}: {bi(s.run.get('status', 'unknown'), RUN_STATUS)}**"]
    out += ["> "] + [f"> {line}  " for line in identity_line(s.run)]  # which model served the figures
    out += [""]
    if s.template:
        out += [f"> **{bi('template_note')}**", ""]
    if s.source_line:
        out += [f"{bi('clauses_from')}: {s.source_line}", ""]
    out += [f"## {bi('provenance')}", "", _table(["", ""], provenance_rows(s, signing_key_id)), ""]
    out += [f"## {bi('claims')}", ""]
    if s.verdicts:
        rows = [[f"**{v['claim_id']}** {v.get('title_zh') or ''} / {v.get('title_en') or ''}",
                 f"{v.get('clause_zh') or ''} — {v.get('clause_en') or ''}", f"`{v['metric']}`", requirement(v),
                 fmt_value(v.get("observed"), v.get("unit")), v.get("margin"), bi(v["severity"], SEVERITY),
                 f"**{status_label(shown_status(v))}**" + "".join(f" ⚑ `{f}`" for f in v.get("flags") or []),  # the gates (claims.gates)
                 v.get("reason", "")] for v in s.verdicts]
        heads = [bi(k) for k in ("claim", "clause", "metric", "requirement", "observed", "margin", "severity", "status", "reason")]
        out += [_table(heads, rows), ""]
    else:
        out += [bi("no_claims"), ""]
    out += [f"## {bi('form')}", "", bi("form_note"), "", render_form_markdown(s.view), ""]
    out += [f"## {bi('out_of_scope')}", ""]
    out += [f"- {o.get('zh', '')} / {o.get('en', '')} — {o.get('reason', '')}" for o in s.out_of_scope] or ["—"]
    out += ["", f"## {bi('stages')}", "", _table([bi("stage"), bi("status"), bi("error")], s.stage_rows()), ""]
    if s.spec_rows():
        out += [f"### {bi('spec')}", "", _table(["key", "value"], s.spec_rows()), ""]
    out += [f"## {bi('model')}", "", _table([bi("metric"), bi("observed")], s.model_rows()), ""]
    out += [f"## {bi('hardware')}", "", _table(*s.gpu_table()), "", f"### {bi('compute')}", "", _table(*s.compute_table()), ""]
    out += [f"## {bi('perf')}", "", _table(*s.perf_table()), ""]
    if s.server_table() is not None:
        out += [f"### {bi('server_metrics')}", "", bi("server_metrics_note"), "", _table(*s.server_table()), ""]
    for key, table in (("audits", audit_table(s.view)), ("intervals", interval_table(s.view)),
                       ("records", records_table(s.view))):
        if table is not None:
            out += [f"### {bi(key, PERF_LABELS)}", "", bi(key + "_note", PERF_LABELS), "", _table(*table), ""]
    out += [f"## {bi('eval')}", "", _table(*s.eval_table()), ""]
    if s.lightweight_table() is not None:
        out += [f"## {bi('lightweight')}", "", _table(*s.lightweight_table()), ""]
    out += [f"## {bi('plots')}", ""]
    out += [f"![{bi(PLOTS_CAPTION.get(n, n))}](plots/{p.name})" for n, p in plots.items()]
    out += [f"- {bi(PLOTS_CAPTION.get(n, n))}: {why}" for n, why in skipped.items()]
    out += ["", f"## {bi('files')}", ""] + [f"- `{f}`" for f in s.files]
    out += ["", f"{bi('files_rendered')}:", ""] + [f"- `{f}`" for f in s.rendered_files(plots)]
    out += ["", f"_{LABELS['verify'][0]} · {LABELS['verify'][1]}_", ""]
    return "\n".join(out)
