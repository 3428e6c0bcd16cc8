"""The report in a real browser: headless Chromium (Debian's `chromium`) lays out report.html at
1280 px and at the width of an A4 page's text, and prints the PDF. Skips cleanly without Chromium.

Checked: nothing is wider than the window (no horizontal overflow), the verdict banner is at the
top, every claim's full reason is in the PDF's text, and every PDF page's footer carries the bundle
digest and the verify command.
"""

from __future__ import annotations

import hashlib
import json
import re
import unicodedata
from pathlib import Path

import pytest

from benchseal import bundle as layout
from benchseal.reports.render.pdf import chromium_args, find_chromium, run_chromium
from benchseal.reports.render.write import REPORT_PDF, write_reports
from tests.helpers.bundle_factory import make_sample_bundle

CHROMIUM = find_chromium()
pytestmark = [pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)"),
              pytest.mark.slow]

A4_TEXT_PX = 718  # 210 mm - 2 x 10 mm margins at 96 px/in

PROBE = """<script>
(function(){
  var w = window.innerWidth, worst = 0, who = "";
  document.querySelectorAll("body *").forEach(function(el){
    var r = el.getBoundingClientRect();
    if (r.width && r.right > worst) { worst = r.right; who = el.tagName + "." + el.className; }
  });
  var v = document.querySelector(".verdict").getBoundingClientRect();
  var out = document.createElement("pre"); out.id = "probe";
  out.textContent = JSON.stringify({inner: w, scroll: document.documentElement.scrollWidth, right: worst, who: who,
                                    verdict_top: v.top, first_table_top: document.querySelector("table").getBoundingClientRect().top});
  document.body.appendChild(out);
})();
</script>"""


def _norm(text: str) -> str:
    """PDF text for comparison: compatibility forms folded (CJK radicals, ligatures), no whitespace."""
    return re.sub(r"\s+", "", unicodedata.normalize("NFKC", text))


def _probe(html_path: Path, width: int, tmp_path: Path) -> dict:
    import subprocess

    page = tmp_path / f"probe-{width}.html"
    page.write_text(html_path.read_text(encoding="utf-8").replace("</body>", PROBE + "</body>"), encoding="utf-8")
    args = chromium_args(CHROMIUM, page, width=width, height=900)
    args = [a for a in args if not a.startswith("--proxy")] + ["--dump-dom", f"--window-size={width},900"]
    with __import__("tempfile").TemporaryDirectory() as prof:
        r = subprocess.run(args[:1] + [f"--user-data-dir={prof}"] + args[1:], capture_output=True, text=True, timeout=120)
    m = re.search(r'<pre id="probe">(.*?)</pre>', r.stdout, re.S)
    assert m, r.stderr[-2000:]
    return json.loads(m.group(1).replace("&quot;", '"').replace("&amp;", "&"))


@pytest.fixture(scope="module", params=["hunan-2025", "songjiang-2025"])
def rendered(request, tmp_path_factory):
    d = tmp_path_factory.mktemp(request.param)
    bundle = make_sample_bundle(d / "bundle", program=request.param, status="partial" if request.param == "songjiang-2025" else "complete")
    # a long reason, as a real run can produce, must wrap rather than run off the page
    claims = json.loads((bundle / layout.CLAIMS_JSON).read_text())
    claims["verdicts"][0]["reason"] += " " + "; ".join(f"load point concurrency={2**i}: p99=123.456 ms" for i in range(12)) + \
        " perf.load_points[concurrency=1].ttft_ms.p99/" + "x" * 120
    (bundle / layout.CLAIMS_JSON).write_text(json.dumps(claims))
    (bundle / layout.STATEMENT_JSON).write_text('{"_type": "https://in-toto.io/Statement/v1"}')  # stands in for a signed bundle
    out = d / "out"
    write_reports(bundle, formats={"html", "pdf"}, out_dir=out)
    return bundle, out, claims


@pytest.mark.parametrize("width", [1280, A4_TEXT_PX])
def test_report_fits_the_window_and_puts_the_verdict_first(rendered, width, tmp_path):
    _, out, _ = rendered
    p = _probe(out / layout.REPORT_HTML, width, tmp_path)
    assert p["scroll"] <= p["inner"] and p["right"] <= p["inner"] + 0.5, p
    assert p["verdict_top"] < p["first_table_top"] and p["verdict_top"] < 200, p


def test_pdf_has_every_reason_and_the_footer_on_every_page(rendered):
    from pypdf import PdfReader

    bundle, out, claims = rendered
    reader = PdfReader(out / REPORT_PDF)
    width_pt, height_pt = float(reader.pages[0].mediabox.width), float(reader.pages[0].mediabox.height)
    assert abs(width_pt - 595.3) < 2 and abs(height_pt - 841.9) < 2  # A4
    pages = [p.extract_text() or "" for p in reader.pages]
    text = _norm("\n".join(pages))
    for v in claims["verdicts"]:
        assert _norm(v["reason"]) in text, v["claim_id"]
        assert _norm(v["claim_id"]) in text
    digest = hashlib.sha256((bundle / layout.STATEMENT_JSON).read_bytes()).hexdigest()
    for i, page in enumerate(pages):
        assert digest in _norm(page) and _norm("benchseal verify BUNDLE --key public.pem") in _norm(page), f"page {i + 1}"
    first = _norm(pages[0])
    assert first.index(_norm("必需指标")) < first.index(_norm("来源与核验"))  # verdict before provenance


def test_cli_writes_the_pdf(sample_bundle, tmp_path, run_cli):
    code, out, err = run_cli("report", str(sample_bundle), "--out", str(tmp_path), "-f", "pdf")
    assert (tmp_path / REPORT_PDF).read_bytes()[:5] == b"%PDF-", err
    assert code in (0, 1) and str(tmp_path / REPORT_PDF) in out


def test_screenshot_at_1280(rendered, tmp_path):
    """A 1280 px screenshot is made (kept under the test's tmp folder for a person to look at)."""
    _, out, _ = rendered
    shot = tmp_path / "report-1280.png"
    run_chromium(chromium_args(CHROMIUM, out / layout.REPORT_HTML, screenshot=shot, width=1280, height=1600))
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
