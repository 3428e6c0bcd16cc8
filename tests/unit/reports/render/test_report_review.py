"""What a reviewer reads first: verdict banner, provenance, claims that fit, form-ready figures,
plots that carry meaning, deterministic bytes."""

from __future__ import annotations

import json
import re
from html import unescape

import pytest

from benchseal import bundle as layout
from benchseal.reports.render.form import YI, form_fields
from benchseal.reports.render.html import _css_string
from benchseal.reports.render.view import load_view
from benchseal.reports.render.write import write_reports
from tests.helpers.bundle_factory import make_sample_bundle


def _html(bundle, out):
    write_reports(bundle, formats={"html"}, out_dir=out)
    return (out / layout.REPORT_HTML).read_text(encoding="utf-8")


@pytest.fixture(scope="module")
def rendered(sample_bundle, tmp_path_factory):
    """html, md and junit of the sample bundle rendered once for the module's readers (issue 20: CI time;
    every render draws the plots)."""
    out = tmp_path_factory.mktemp("rendered")
    return write_reports(sample_bundle, formats={"html", "md", "junit"}, out_dir=out), out


def _cpu_only(bundle):
    """Rewrite hardware.json as a CPU-only run (no GPUs, no compute rows)."""
    hw = json.loads((bundle / layout.HARDWARE_JSON).read_text())
    hw["gpus"] = []
    hw["compute"] = {"servers": 1, "gpus": 0, "rows": [], "total_tflops": {}, "unknown_gpus": [], "notes": []}
    (bundle / layout.HARDWARE_JSON).write_text(json.dumps(hw))
    return bundle


@pytest.mark.xdist_group("report-review-rendered")
def test_verdict_banner_comes_first_in_both_languages(sample_bundle, rendered):
    claims = json.loads((sample_bundle / layout.CLAIMS_JSON).read_text())
    html = (rendered[1] / layout.REPORT_HTML).read_text(encoding="utf-8")
    body = html[html.index("<body>"):]
    banner = re.search(r'<div class="verdict (\w+)"', body)
    assert banner and banner.start() < body.index("<table"), "the verdict must precede every table"
    req = [v for v in claims["verdicts"] if v["severity"] == "required"]
    failed = sum(v["status"] == "FAIL" for v in req)
    inconclusive = sum(v["status"] == "INCONCLUSIVE" for v in req)
    expected = "pass" if not failed and not inconclusive else ("fail" if failed else "inconclusive")
    assert banner.group(1) == expected
    if expected == "pass":
        assert f"全部 {len(req)} 项必需指标通过" in body and f"All {len(req)} required claims pass" in body
    # provenance right after: model digest, tool version, how to verify
    prov = body[body.index("来源与核验"):body.index("指标核验 / Claims")]
    assert "9f2c" * 16 in prov and "benchseal 0.1.0" in prov and "benchseal verify BUNDLE --key public.pem" in prov
    assert "2 × NVIDIA H100 80GB HBM3" in prov


def test_failed_and_inconclusive_counts_in_the_banner(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", status="partial", program="songjiang-2025")
    html = _html(bundle, tmp_path / "o")
    claims = json.loads((bundle / layout.CLAIMS_JSON).read_text())
    req = [v for v in claims["verdicts"] if v["severity"] == "required"]
    n_fail = sum(v["status"] == "FAIL" for v in req)
    n_inc = sum(v["status"] == "INCONCLUSIVE" for v in req)
    assert n_fail >= 1 and n_inc >= 1
    assert '<div class="verdict fail"' in html
    assert f"{n_fail} 项必需指标未通过" in html and f"{n_inc} 项必需指标无法判定" in html
    assert f"{n_fail} required claim" in html and f"{n_inc} required claim" in html and "inconclusive" in html
    assert "不完整 / partial" in html  # a partial run says so in the banner
    md = write_reports(bundle, formats={"md"}, out_dir=tmp_path / "o")[0].read_text(encoding="utf-8")
    assert md.index("FAIL") < md.index("## ")  # the verdict before the first section


def test_every_reason_in_full_and_tables_wrap(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", program="songjiang-2025")
    html = _html(bundle, tmp_path / "o")
    for v in json.loads((bundle / layout.CLAIMS_JSON).read_text())["verdicts"]:
        assert v["reason"] in unescape(html), v["claim_id"]
    assert "table-layout:fixed" in html and "overflow-wrap:break-word" in html and "size:A4" in html
    assert 'class="wide"' in html  # the perf table's columns are sized for its words ("concurrency=16", "completed")


def test_no_roofline_or_peer_chart_without_their_evidence(tmp_path):
    bundle = _cpu_only(make_sample_bundle(tmp_path / "b", program="hunan-2025"))
    for suite in (bundle / layout.EVAL_DIR).glob(f"*/{layout.EVAL_RESULTS}"):
        rep = json.loads(suite.read_text())
        rep["extra"] = {}
        suite.write_text(json.dumps(rep))
    out = tmp_path / "o"
    html = _html(bundle, out)
    plots = {p.stem for p in (out / layout.PLOTS_DIR).glob("*.png")}
    assert "roofline" not in plots and "peers" not in plots and "throughput" in plots
    assert "a roofline needs the GPU's peak FLOP/s" in unescape(html)
    assert "no peer comparison in the bundle" in html


def test_throughput_plot_has_two_separate_axes(sample_bundle, tmp_path, monkeypatch):
    from benchseal.reports.render import plots

    seen = []
    real = plots.save_png
    monkeypatch.setattr(plots, "save_png", lambda fig, out, **kw: (seen.append(fig), real(fig, out, **kw))[1])
    assert plots.throughput(load_view(sample_bundle), tmp_path / "t.png").is_file()
    axes = seen[0].get_axes()
    assert [a.get_ylabel() for a in axes] == ["requests/s", "output tokens/s"]  # no twin axis drawn on top


def test_form_fields_in_the_forms_units(sample_bundle):
    view = load_view(sample_bundle)
    fields = {f.field_zh: f for f in form_fields(view)}
    params = fields["参数量（亿）"]
    assert params.exact == 7_615_616_512 and params.value == f"{7_615_616_512 / YI:,.2f}" == "76.16" and params.unit == "亿"
    assert params.evidence == "model.json: params.total"
    tf = fields["算力规模（TFlops）"]
    assert tf.value == "1,979.00" and tf.unit == "TFlops" and "h100" in tf.basis
    assert fields["型号"].value == "NVIDIA H100 80GB HBM3 × 2" or "× 2" in fields["型号"].value
    assert fields["GPU厂商"].value == "NVIDIA"
    lat = fields["推理延迟：首字延迟 TTFT p99"]
    assert "concurrency=1" in lat.basis and lat.evidence.startswith("perf/summary.json: load_points[0].ttft_ms.p99")
    perf = json.loads((sample_bundle / layout.PERF_SUMMARY).read_text())["load_points"]
    best = max(range(len(perf)), key=lambda i: perf[i]["output_token_throughput"])
    thr = fields["吞吐量（输出 token/s）"]
    assert thr.exact == perf[best]["output_token_throughput"] and f"load_points[{best}]" in thr.evidence
    assert perf[best]["load_point"] in thr.basis


def test_form_on_a_cpu_run_says_why_there_is_no_compute_figure(tmp_path):
    bundle = _cpu_only(make_sample_bundle(tmp_path / "b"))
    fields = form_fields(load_view(bundle))
    gpu = [f for f in fields if "GPU厂商" in f.field_zh]
    assert gpu and gpu[0].value == "—" and "no NVIDIA GPU" in gpu[0].basis


def test_form_format_writes_md_and_json(sample_bundle, tmp_path):
    paths = write_reports(sample_bundle, formats={"form"}, out_dir=tmp_path)
    assert [p.name for p in paths] == ["form.md"]
    data = json.loads((tmp_path / "form.json").read_text())
    assert data["model_digest"] == "9f2c" * 16 and any(f["unit"] == "亿" for f in data["fields"])
    assert "76.16 亿" in paths[0].read_text(encoding="utf-8")


def test_markdown_rerendered_alone_has_its_plots(sample_bundle, tmp_path):
    md = write_reports(sample_bundle, formats={"md"}, out_dir=tmp_path)[0].read_text(encoding="utf-8")
    plots = md[md.index("## 图表 / Plots"):md.index("## 证据文件")]
    assert "](plots/throughput.png)" in plots and (tmp_path / "plots" / "throughput.png").is_file()


@pytest.mark.xdist_group("report-review-rendered")
def test_rendering_is_deterministic(sample_bundle, rendered, tmp_path):
    a, a_dir = rendered
    b = write_reports(sample_bundle, formats={"html", "md", "junit"}, out_dir=tmp_path / "b")
    assert len(a) == len(b) and list((a_dir / "plots").glob("*.png"))
    for x, y in zip(a, b):
        assert x.read_bytes() == y.read_bytes(), x.name
    for p in (a_dir / "plots").glob("*.png"):
        assert p.read_bytes() == (tmp_path / "b" / "plots" / p.name).read_bytes(), p.name


@pytest.mark.xdist_group("report-review-rendered")
def test_key_id_shown_when_given_or_signed(sample_bundle, rendered, tmp_path):
    html = (rendered[1] / layout.REPORT_HTML).read_text(encoding="utf-8")
    assert "statement.dsse.json" in html  # unsigned: says where the key id will be
    write_reports(sample_bundle, formats={"html"}, out_dir=tmp_path, signing_key_id="abc123keyid")
    assert "abc123keyid" in (tmp_path / layout.REPORT_HTML).read_text(encoding="utf-8")


@pytest.mark.parametrize("text", ['a"b', "x\\y", "中文 · sha256", "</style>"])
def test_footer_css_string_is_escaped(text):
    s = _css_string(text)
    inner = s[1:-1]
    assert s.startswith('"') and s.endswith('"') and '"' not in inner and "<" not in inner and "\\\\" not in inner[:0]
