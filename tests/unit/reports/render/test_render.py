"""report.html / report.md / junit.xml from a bundle."""

from __future__ import annotations

import importlib.util
import json
import re
import xml.etree.ElementTree as ET

import pytest

from benchseal import bundle as layout
from benchseal.claims import load_program
from benchseal.errors import BundleError
from benchseal.reports.render.write import write_reports
from tests.helpers.bundle_factory import make_sample_bundle


SECRET = "sk-benchseal-test-secret-0123456789"


def _references(html: str) -> list[tuple[str, str]]:
    """Every src/href attribute value in the page (parsed, not grepped)."""
    from html.parser import HTMLParser

    found: list[tuple[str, str]] = []

    class P(HTMLParser):
        def handle_starttag(self, tag, attrs):
            found.extend((k, v or "") for k, v in attrs if k in ("src", "href"))

    P().feed(html)
    return found


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    """The sample bundle with songjiang-2025 claims (one FAIL) and a secret in the environment."""
    mp = pytest.MonkeyPatch()
    mp.setenv("OPENAI_API_KEY", SECRET)
    bundle = make_sample_bundle(tmp_path_factory.mktemp("r") / "b", program="songjiang-2025")
    paths = write_reports(bundle)
    mp.undo()
    return bundle, paths


def test_writes_the_three_reports_and_plots(rendered):
    bundle, paths = rendered
    assert [p.name for p in paths] == [layout.REPORT_HTML, layout.REPORT_MD, layout.JUNIT_XML]
    plots = {p.stem for p in (bundle / layout.PLOTS_DIR).glob("*.png")}
    assert {"latency_cdf", "throughput", "peers"} <= plots
    if importlib.util.find_spec("benchseal.reports.render.plots_utilisation") is not None:
        assert "telemetry" in plots  # drawn by the utilisation module from telemetry.csv


def test_junit_one_testcase_per_claim_with_failures(rendered):
    bundle, _ = rendered
    claims = json.loads((bundle / layout.CLAIMS_JSON).read_text())
    root = ET.parse(bundle / layout.JUNIT_XML).getroot()
    cases = root.findall(".//testcase")
    assert [c.get("name") for c in cases] == [v["claim_id"] for v in claims["verdicts"]]
    failed = {c.get("name") for c in cases if c.find("failure") is not None}
    assert failed == {v["claim_id"] for v in claims["verdicts"] if v["status"] == "FAIL"} == {"params-above-100b"}
    suite = root.find("testsuite")
    assert suite.get("tests") == str(len(cases)) and suite.get("failures") == "1"


def test_junit_inconclusive(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", status="partial", program="songjiang-2025")
    write_reports(bundle, formats={"junit"})
    root = ET.parse(bundle / layout.JUNIT_XML).getroot()
    kinds = {c.get("name"): [e.tag for e in c if e.tag != "system-out"] for c in root.iter("testcase")}
    assert kinds["domestic-leading"] == ["error"]  # required + INCONCLUSIVE
    assert kinds["ceval-score"] == ["skipped"]  # informational + INCONCLUSIVE
    assert kinds["params-above-100b"] == ["failure"]
    assert not (bundle / layout.REPORT_HTML).exists()  # only the asked format


def test_html_is_self_contained_and_bilingual(rendered):
    bundle, _ = rendered
    html = (bundle / layout.REPORT_HTML).read_text(encoding="utf-8")
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", html, re.I)
    assert "<link" not in html and "<script" not in html
    assert html.count("data:image/png;base64,") >= 3
    for text in ("指标核验", "Claims", "超过千亿", "The number of parameters exceeds 100 billion", "未通过", "FAIL",
                 "完整", "complete", "9f2c" * 16, "NVIDIA H100 80GB HBM3", "训练数据来源合规性",
                 "Compliance of the training-data sources", "算力规模"):
        assert text in html, text
    refs = _references(html)
    assert refs and all(v.startswith("data:") for k, v in refs if k == "src"), refs
    assert not [v for k, v in refs if k == "href"]


def test_every_verdict_with_its_clause_appears(rendered):
    bundle, _ = rendered
    html = (bundle / layout.REPORT_HTML).read_text(encoding="utf-8")
    md = (bundle / layout.REPORT_MD).read_text(encoding="utf-8")
    for c in load_program("songjiang-2025").claims:
        for doc in (html, md):
            assert c.id in doc and c.clause_zh in doc and c.clause_en in doc


def test_no_secrets_from_the_environment(rendered):
    bundle, _ = rendered
    for name in (layout.REPORT_HTML, layout.REPORT_MD, layout.JUNIT_XML):
        assert SECRET not in (bundle / name).read_text(encoding="utf-8")


def test_credentials_in_the_run_spec_are_redacted(sample_bundle_copy):
    from benchseal.redact import redact

    spec = {"endpoint": "https://user:pw@api.example.com/v1", "api_key": SECRET, "headers": {"Authorization": "Bearer x"}}
    out = json.dumps(redact(spec))
    assert SECRET not in out and "user:pw" not in out and "Bearer" not in out and "api.example.com" in out

    run = json.loads((sample_bundle_copy / layout.RUN_JSON).read_text())
    run["spec"].update(spec)
    (sample_bundle_copy / layout.RUN_JSON).write_text(json.dumps(run))
    md = write_reports(sample_bundle_copy, formats={"md"})[0].read_text(encoding="utf-8")
    assert "api.example.com" in md and "sample-model" in md
    assert SECRET not in md and "user:pw" not in md


def test_partial_run_is_shown(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", status="partial", program="hunan-2025")
    md = write_reports(bundle, formats={"md"})[0].read_text(encoding="utf-8")
    assert "不完整 / partial" in md and "interrupted" in md and "无法判定" in md


def test_program_argument_rechecks_in_memory_into_out_dir(sample_bundle, tmp_path):
    before = (sample_bundle / layout.CLAIMS_JSON).read_bytes()
    out = tmp_path / "out"
    paths = write_reports(sample_bundle, formats={"md", "junit"}, program=load_program("songjiang-2025"), out_dir=out)
    assert {p.parent for p in paths} == {out}
    assert "params-above-100b" in (out / layout.REPORT_MD).read_text(encoding="utf-8")
    assert (sample_bundle / layout.CLAIMS_JSON).read_bytes() == before
    assert not (sample_bundle / layout.REPORT_MD).exists()


def test_bundle_without_program_or_claims(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b", program=None, telemetry=False)
    md = write_reports(bundle, formats={"md"})[0].read_text(encoding="utf-8")
    assert "No program given" in md
    root = ET.fromstring(write_reports(bundle, formats={"junit"})[0].read_text(encoding="utf-8"))
    assert root.get("tests") == "0"


def test_not_a_bundle(tmp_path):
    with pytest.raises(BundleError):
        write_reports(tmp_path / "missing")
    with pytest.raises(BundleError, match="run.json"):
        write_reports(tmp_path)
