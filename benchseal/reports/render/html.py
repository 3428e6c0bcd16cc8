"""report.html: one self-contained page (inline CSS, plots as base64 data URIs, no external links
to load), in Chinese and English. Every value is HTML-escaped."""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any, Iterable

from .i18n import LABELS, PLOTS_CAPTION, RUN_STATUS, SEVERITY, STATUS, bi, fmt_value, requirement
from .sections import Sections

CSS = """
body{font-family:-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:2em auto;max-width:1200px;color:#222;padding:0 1em}
h1{font-size:1.6em}h2{border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:2em}
table{border-collapse:collapse;margin:.5em 0;font-size:.9em;width:100%}
th,td{border:1px solid #ccc;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.PASS{background:#e3f6e3;color:#14601c;font-weight:bold}.FAIL{background:#fde2e2;color:#8a1111;font-weight:bold}
.INCONCLUSIVE{background:#fff3cd;color:#7a5b00;font-weight:bold}
.badge{display:inline-block;padding:.15em .6em;border-radius:.3em}
.complete{background:#e3f6e3}.partial,.failed,.running{background:#fde2e2}
code{font-size:.85em;background:#f6f6f6;padding:0 .2em}.muted{color:#666;font-size:.85em}
figure{margin:1em 0}figure img{max-width:100%;border:1px solid #eee}
"""


def _cell(v: Any, cls: str | None = None) -> str:
    text = v if isinstance(v, str) else fmt_value(v)
    num = not isinstance(v, str) and v is not None
    klass = " ".join(c for c in (cls, "num" if num else None) if c)
    return f'<td class="{klass}">{escape(text)}</td>' if klass else f"<td>{escape(text)}</td>"


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]]) -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    body = "".join("<tr>" + "".join(c if isinstance(c, str) and c.startswith("<td") else _cell(c) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _h2(key: str) -> str:
    return f"<h2>{escape(bi(key))}</h2>"


def _claims(s: Sections) -> str:
    if not s.verdicts:
        return f"<p>{escape(bi('no_claims'))}</p>"
    rows = []
    for v in s.verdicts:
        st = v["status"]
        clause = f"<td>{escape(v.get('clause_zh') or '')}<br><span class=muted>{escape(v.get('clause_en') or '')}</span></td>"
        title = f"<td><b>{escape(v['claim_id'])}</b><br>{escape(v.get('title_zh') or '')}<br><span class=muted>{escape(v.get('title_en') or '')}</span></td>"
        rows.append([title, clause, f"<td><code>{escape(v['metric'])}</code></td>", requirement(v),
                     fmt_value(v.get("observed"), v.get("unit")), v.get("margin"), bi(v["severity"], SEVERITY),
                     f'<td class="{st}">{escape(bi(st, STATUS))}</td>', v.get("reason", "")])
    heads = [bi(k) for k in ("claim", "clause", "metric", "requirement", "observed", "margin", "severity", "status", "reason")]
    return _table(heads, rows)


def _plots(s: Sections, plots: dict[str, Path], skipped: dict[str, str]) -> str:
    parts = []
    for name, path in plots.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        cap = bi(PLOTS_CAPTION.get(name, name))
        parts.append(f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{data}"><figcaption>{escape(cap)}</figcaption></figure>')
    for name, why in skipped.items():
        parts.append(f"<p class=muted>{escape(bi(PLOTS_CAPTION.get(name, name)))}: {escape(why)}</p>")
    return "".join(parts)


def render_html(s: Sections, plots: dict[str, Path], skipped: dict[str, str]) -> str:
    run_status = s.run.get("status", "unknown")
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        f"<title>{escape(bi('title'))} — {escape(s.program_title_en or s.run.get('run_id', ''))}</title>",
        f"<style>{CSS}</style></head><body>",
        f"<h1>{escape(bi('title'))}</h1>",
        _table([bi("program"), bi("run_id"), bi("run_status"), bi("tool"), bi("started"), bi("ended")], [[
            f"{s.program_title_zh or '—'} / {s.program_title_en or '—'}" + (f" ({s.program_id})" if s.program_id else ""),
            s.run.get("run_id", "—"),
            f'<td><span class="badge {escape(run_status)}">{escape(bi(run_status, RUN_STATUS))}</span></td>',
            f"{s.run.get('tool', 'benchseal')} {s.run.get('tool_version', '')}",
            s.run.get("started_at") or "—",
            s.run.get("ended_at") or "—",
        ]]),
    ]
    if s.template:
        out.append(f"<p><b>{escape(bi('template_note'))}</b></p>")
    if s.source_url:
        out.append(f"<p class=muted>{escape(s.source_url)}</p>")
    out += [_h2("stages"), _table([bi("stage"), bi("status"), bi("error")], s.stage_rows())]
    if s.spec_rows():
        out += [f"<h3>{escape(bi('spec'))}</h3>", _table(["key", "value"], s.spec_rows())]
    out += [_h2("summary"), f"<p>{escape(s.summary_line())}</p>"]
    out += [_h2("claims"), _claims(s)]
    out += [_h2("out_of_scope"), "<ul>" + "".join(
        f"<li>{escape(o.get('zh', ''))} / {escape(o.get('en', ''))}<br><span class=muted>{escape(o.get('reason', ''))}</span></li>"
        for o in s.out_of_scope) + "</ul>"]
    out += [_h2("model"), _table([bi("metric"), bi("observed")], s.model_rows())]
    out += [_h2("hardware"), _table(*s.gpu_table()), f"<h3>{escape(bi('compute'))}</h3>", _table(*s.compute_table())]
    out += [_h2("perf"), _table(*s.perf_table())]
    out += [_h2("eval"), _table(*s.eval_table())]
    out += [_h2("plots"), _plots(s, plots, skipped)]
    out += [_h2("files"), "<ul>" + "".join(f"<li><code>{escape(f)}</code></li>" for f in s.files) + "</ul>"]
    out += [f"<p class=muted>{escape(LABELS['verify'][0])}<br>{escape(LABELS['verify'][1])}</p>", "</body></html>"]
    return "\n".join(out) + "\n"
