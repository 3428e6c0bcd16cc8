"""report.html: one self-contained page (inline CSS, plots as base64 data URIs, no external links
to load), in Chinese and English. Every value is HTML-escaped.

Order is the order a reviewer needs: the verdict (colour and words), then provenance (model digest,
hardware, tool, signature key, how to verify), then every claim with its full reason, the
form-ready figures, and the evidence tables and plots. Every table has a fixed layout and wraps
its text, so the page fits a 1280 px screen and an A4 page; ``@page`` puts the verify command (and,
for the PDF, the bundle digest) in every printed page's footer. Nothing depends on the time of
rendering: the same bundle gives the same bytes.
"""

from __future__ import annotations

import base64
from html import escape
from pathlib import Path
from typing import Any, Iterable, Sequence

from .form import FORM_HEADERS, form_rows
from .i18n import LABELS, PLOTS_CAPTION, RUN_STATUS, SEVERITY, STATUS, Num, bi, fmt_value, format_columns, requirement
from .perf_audit import LABELS as PERF_LABELS, audit_table, interval_table, records_table, shown_status, status_label
from .binding import identity_line
from .sections import VERIFY_CMD, Sections, overall, provenance_rows

CSS = """
*{box-sizing:border-box;-webkit-print-color-adjust:exact;print-color-adjust:exact}
body{font-family:-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC","Microsoft YaHei",sans-serif;margin:1.5em auto;max-width:1200px;color:#222;padding:0 1em;line-height:1.4}
h1{font-size:1.5em;margin:.2em 0 .5em}h2{font-size:1.2em;border-bottom:2px solid #ddd;padding-bottom:.2em;margin-top:1.6em;break-after:avoid}
h3{font-size:1em;break-after:avoid}
table{border-collapse:collapse;margin:.5em 0;font-size:.85em;width:100%;table-layout:fixed}
th,td{border:1px solid #ccc;padding:.3em .45em;text-align:left;vertical-align:top;overflow-wrap:break-word;word-break:normal}
table.wide th,table.wide td{font-size:.9em;padding:.25em .3em}
tr{break-inside:avoid}thead{display:table-header-group}
th{background:#f3f3f3}td.num{text-align:right;font-variant-numeric:tabular-nums}
.PASS{background:#e3f6e3;color:#14601c;font-weight:bold}.REPORTED{background:#eef0f4;color:#333}.FAIL{background:#fde2e2;color:#8a1111;font-weight:bold}
.INCONCLUSIVE{background:#fff3cd;color:#7a5b00;font-weight:bold}
.verdict{border:3px solid;border-radius:.4em;padding:.6em 1em;margin:.5em 0 1em;break-inside:avoid}
.verdict .big{font-size:1.35em;font-weight:bold}.verdict .en{font-size:1.05em}
.verdict.pass{background:#e3f6e3;border-color:#2e8b3a;color:#14601c}
.verdict.fail{background:#fde2e2;border-color:#c62828;color:#8a1111}
.verdict.inconclusive{background:#fff3cd;border-color:#d29b00;color:#6b4f00}
.verdict.none{background:#eee;border-color:#999;color:#333}
.verdict .counts{font-size:.9em;margin-top:.3em;color:#333}
.badge{display:inline-block;padding:.05em .5em;border-radius:.3em;border:1px solid #999;background:#f3f3f3;color:#333}
.badge.partial,.badge.failed,.badge.running,.badge.interrupted{background:#fff3cd;border-color:#d29b00}
table.kv td:first-child{width:24%;background:#fafafa;font-weight:bold}
code{font-size:.85em;background:#f6f6f6;padding:0 .2em;overflow-wrap:anywhere}.muted{color:#555;font-size:.85em}
figure{margin:1em 0;break-inside:avoid}figure img{max-width:100%;height:auto;border:1px solid #eee}
.note{color:#555;font-size:.9em}
@page{size:A4;margin:12mm 10mm 16mm 10mm;@bottom-left{content:var(--footer);font-size:7pt;color:#555}
@bottom-right{content:counter(page) " / " counter(pages);font-size:7pt;color:#555}}
@media print{body{max-width:none;margin:0;padding:0;font-size:9pt}table{font-size:7.5pt}h2{margin-top:1em}}
"""

# claims table columns: claim (id, title, clause zh/en, metric path), requirement, observed, status, reason
CLAIM_COLS = (27, 12, 14, 12, 35)


def _css_string(text: str) -> str:
    """``text`` as a CSS string literal (for the @page footer)."""
    return '"' + "".join(c if c.isalnum() or c in " .:/-_=()[]@,;+#·" else f"\\{ord(c):x} " for c in text) + '"'


def _cell(v: Any, cls: str | None = None) -> str:
    text = v if isinstance(v, str) else fmt_value(v)
    num = isinstance(v, Num) or (not isinstance(v, str) and v is not None)
    klass = " ".join(c for c in (cls, "num" if num else None) if c)
    return f'<td class="{klass}">{escape(text)}</td>' if klass else f"<td>{escape(text)}</td>"


# the load point ("concurrency=16", "rate=8/s") and "completed" need room for the whole word; 9 figures share the rest
PERF_WIDTHS = (14, 9, 6, 8, 8, 8, 8, 8, 7, 9, 7, 8)


def _table(headers: Iterable[str], rows: Iterable[Iterable[Any]], *, widths: Sequence[int] | None = None, cls: str = "") -> str:
    head = "".join(f"<th>{escape(h)}</th>" for h in headers)
    cols = "<colgroup>" + "".join(f'<col style="width:{w}%">' for w in widths) + "</colgroup>" if widths else ""
    body = "".join("<tr>" + "".join(c if isinstance(c, str) and c.startswith("<td") else _cell(c) for c in row) + "</tr>"
                   for row in format_columns([list(r) for r in rows]))
    klass = f' class="{cls}"' if cls else ""
    return f"<table{klass}>{cols}<thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _kv(rows: Iterable[Iterable[Any]]) -> str:
    body = "".join("<tr>" + "".join(_cell(c) if not (isinstance(c, str) and c.startswith("<td")) else c for c in row) + "</tr>" for row in rows)
    return f'<table class="kv"><tbody>{body}</tbody></table>'


def _h2(key: str) -> str:
    return f"<h2>{escape(bi(key))}</h2>"


def _banner(s: Sections) -> str:
    v = overall(s)
    mark = {"pass": "✔ 通过 PASS", "fail": "✘ 未通过 FAIL", "inconclusive": "? 无法判定 INCONCLUSIVE", "none": "— 未核验"}[v.kind]
    counts = ", ".join(f"{bi(st, STATUS)}: {n}" for st, n in v.counts.items())
    run_status = s.run.get("status", "unknown")
    status_note = "" if run_status == "complete" else (
        f'<div class="counts"><b>{escape(bi("run_status"))}: {escape(bi(run_status, RUN_STATUS))}</b></div>')
    return (f'<div class="verdict {v.kind}" role="status"><div class="big">{escape(mark)} — {escape(v.zh)}</div>'
            f'<div class="en">{escape(v.en)}</div>'
            + (f'<div class="counts">{escape(bi("counts"))}: {escape(counts)}</div>' if v.kind != "none" else "")
            + status_note + '<div class="counts">' + "<br>".join(escape(x) for x in identity_line(s.run)) + "</div></div>")


def _claims(s: Sections) -> str:
    if not s.verdicts:
        return f"<p>{escape(bi('no_claims'))}</p>"
    rows = []
    for v in s.verdicts:
        st = shown_status(v)
        claim = (f"<td><b>{escape(v['claim_id'])}</b><br>{escape(v.get('title_zh') or '')} / {escape(v.get('title_en') or '')}"
                 f"<br>「{escape(v.get('clause_zh') or '')}」<br><span class=muted>{escape(v.get('clause_en') or '')}</span>"
                 f"<br><code>{escape(v['metric'])}</code></td>")
        observed = escape(fmt_value(v.get("observed"), v.get("unit")))
        if v.get("margin") is not None:
            observed += f"<br><span class=muted>{escape(bi('margin'))}: {escape(fmt_value(v.get('margin')))}</span>"
        rows.append([claim, requirement(v), f'<td class="num">{observed}</td>',
                     f'<td class="{st}">{escape(status_label(st))}<br><span class=muted>{escape(bi(v["severity"], SEVERITY))}</span>'
                     + "".join(f"<br><span class=flag>&#9873; {escape(f)}</span>" for f in v.get("flags") or []) + "</td>",
                     v.get("reason", "")])
    heads = [bi("claim"), bi("requirement"), bi("observed"), bi("status"), bi("reason")]
    return _table(heads, rows, widths=CLAIM_COLS, cls="claims")


def _plots(plots: dict[str, Path], skipped: dict[str, str]) -> str:
    parts = []
    for name, path in plots.items():
        data = base64.b64encode(path.read_bytes()).decode("ascii")
        cap = bi(PLOTS_CAPTION.get(name, name))
        parts.append(f'<figure><img alt="{escape(name)}" src="data:image/png;base64,{data}"><figcaption>{escape(cap)}</figcaption></figure>')
    for name, why in skipped.items():
        parts.append(f"<p class=muted>{escape(bi(PLOTS_CAPTION.get(name, name)))}: {escape(why)}</p>")
    return "".join(parts)


def footer_text(s: Sections, bundle_digest: str | None = None) -> str:
    """The text at the foot of every printed page."""
    parts = [f"bundle sha256 {bundle_digest}" if bundle_digest else f"run {s.run.get('run_id', '—')}"]
    digest = (s.view.model or {}).get("model_digest")
    if digest and not bundle_digest:
        parts.append(f"model {digest[:16]}…")
    parts.append(VERIFY_CMD)
    return " · ".join(parts)


def render_html(s: Sections, plots: dict[str, Path], skipped: dict[str, str], *, signing_key_id: str | None = None,
                bundle_digest: str | None = None) -> str:
    title = s.program_title_en or s.run.get("run_id", "")
    out = [
        "<!DOCTYPE html>",
        '<html lang="zh-CN"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{escape(bi('title'))} — {escape(title)}</title>",
        f"<style>:root{{--footer:{_css_string(footer_text(s, bundle_digest))}}}{CSS}</style></head><body>",
        f"<h1>{escape(bi('title'))}</h1>",
        _banner(s),
    ]
    if s.template:
        out.append(f"<p><b>{escape(bi('template_note'))}</b></p>")
    prov = provenance_rows(s, signing_key_id)
    if bundle_digest:
        prov.append([bi("bundle_digest"), bundle_digest])
    out += [_h2("provenance"), _kv(prov)]
    if s.source_line:
        out.append(f"<p class=muted>{escape(bi('clauses_from'))}: {escape(s.source_line)}</p>")
    out += [_h2("claims"), _claims(s)]
    out += [_h2("form"), f"<p class=note>{escape(bi('form_note'))}</p>", _table(FORM_HEADERS, form_rows(s.view), widths=(26, 20, 28, 26))]
    out += [_h2("out_of_scope"), "<ul>" + "".join(
        f"<li>{escape(o.get('zh', ''))} / {escape(o.get('en', ''))}<br><span class=muted>{escape(o.get('reason', ''))}</span></li>"
        for o in s.out_of_scope) + "</ul>"]
    out += [_h2("stages"), _table([bi("stage"), bi("status"), bi("error")], s.stage_rows(), widths=(20, 20, 60))]
    if s.spec_rows():
        out += [f"<h3>{escape(bi('spec'))}</h3>", _kv(s.spec_rows())]
    out += [_h2("model"), _kv(s.model_rows())]
    out += [_h2("hardware"), _table(*s.gpu_table()), f"<h3>{escape(bi('compute'))}</h3>", _table(*s.compute_table())]
    out += [_h2("perf"), _table(*s.perf_table(), widths=PERF_WIDTHS, cls="wide")]
    if s.server_table() is not None:
        out += [f"<h3>{escape(bi('server_metrics'))}</h3>", f"<p class=note>{escape(bi('server_metrics_note'))}</p>",
                _table(*s.server_table())]
    for key, table in (("audits", audit_table(s.view)), ("intervals", interval_table(s.view)),
                       ("records", records_table(s.view))):
        if table is not None:
            out += [f"<h3>{escape(bi(key, PERF_LABELS))}</h3>", f"<p class=note>{escape(bi(key + '_note', PERF_LABELS))}</p>",
                    _table(*table)]
    out += [_h2("eval"), _table(*s.eval_table())]
    if s.lightweight_table() is not None:
        out += [_h2("lightweight"), _table(*s.lightweight_table())]
    out += [_h2("plots"), _plots(plots, skipped)]
    out += [_h2("files"), "<ul>" + "".join(f"<li><code>{escape(f)}</code></li>" for f in s.files) + "</ul>"]
    out += [f"<p class=muted>{escape(bi('files_rendered'))}:</p>",
            "<ul>" + "".join(f"<li><code>{escape(f)}</code></li>" for f in s.rendered_files(plots)) + "</ul>"]
    out += [f"<p class=muted>{escape(LABELS['verify'][0])}<br>{escape(LABELS['verify'][1])}</p>", "</body></html>"]
    return "\n".join(out) + "\n"
