"""The human and CI reports (report.html, report.md, junit.xml and the plots/ they show) re-rendered
from the bundle's evidence and compared with the signed copies.

Rendering is deterministic (:mod:`benchseal.reports.render.write`: no time of rendering, no random
ids, PNGs without tool metadata), so the reports are rendered again into a temporary folder by the
same function the run used, with the program of program.json, and compared byte for byte. A report
whose text differs fails: it says something the evidence does not (e.g. a FAIL rewritten as PASS).

Plot images are the one part another installation may draw differently (matplotlib and FreeType
versions change anti-aliasing). The comparison is therefore in two parts: the text of every report
with the embedded images masked (report.html's ``data:image/png;base64,…`` URIs) must be identical;
the images must be identical too, and when only they differ the plots are listed as *not re-derived*
(with the reason), never passed. report.html's embedded images must also equal the plots/ files.
"""

from __future__ import annotations

import re
import tempfile
from pathlib import Path
from typing import Iterable

from benchseal import bundle as layout
from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, not_rederived, passed, skipped

_FORMATS = {layout.REPORT_HTML: "html", layout.REPORT_MD: "md", layout.JUNIT_XML: "junit"}
_DATA_URI = re.compile(rb"data:image/png;base64,[A-Za-z0-9+/=]*")


def _window(text: str, col: int, before: int = 30, after: int = 50) -> str:
    start = max(0, col - before)
    return ("…" if start else "") + text[start:col + after] + ("…" if col + after < len(text) else "")


def _first_difference(a: bytes, b: bytes) -> str:
    """Where the two renderings first differ: the line, the column, and an excerpt of each around that
    column (a one-byte change deep in a long line shows as two different excerpts, not two equal heads)."""
    la, lb = a.decode("utf-8", "replace").splitlines(), b.decode("utf-8", "replace").splitlines()
    for i, (x, y) in enumerate(zip(la, lb), 1):
        if x != y:
            col = next((j for j, (cx, cy) in enumerate(zip(x, y)) if cx != cy), min(len(x), len(y)))
            return f"line {i}, column {col + 1}: signed {_window(x, col)!r}, re-rendered {_window(y, col)!r}"
    return f"signed copy has {len(la)} lines, re-rendered {len(lb)}"


def _before_signing(ctx: BundleContext, fresh: bytes) -> list[bytes]:
    """The same rendering as it reads when the report was written before the bundle was signed
    (``benchseal run`` without a key, then ``benchseal sign``): the key id row says so instead."""
    from html import escape

    from benchseal.reports.render.i18n import bi
    from benchseal.reports.render.sections import key_id
    from benchseal.reports.render.view import BundleView

    kid = key_id(BundleView(root=ctx.bundle_dir, run={}))
    if not kid:
        return []
    later = bi("key_id_after")
    return [fresh.replace(kid.encode(), alt.encode()) for alt in {later, escape(later)}]


class ReportsCheck:
    """report.html, report.md and junit.xml equal a fresh rendering of the bundle's evidence."""

    name = "reports"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        present = [n for n in _FORMATS if ctx.path(n).is_file()]
        plots_dir = ctx.path(layout.PLOTS_DIR)
        stored_plots = sorted(p.name for p in plots_dir.glob("*.png")) if plots_dir.is_dir() else []
        if not present:
            if stored_plots:
                yield failed(self.name, f"{layout.PLOTS_DIR}/ holds plots but the bundle has no report that shows them")
            else:
                yield skipped(self.name, "no human or CI report in the bundle")
            return
        from benchseal.claims.program import Program
        from benchseal.io import validate
        from benchseal.reports.render.write import write_reports

        program = None
        if ctx.path(layout.PROGRAM_JSON).is_file():
            program = validate(Program, ctx.json(layout.PROGRAM_JSON), where=layout.PROGRAM_JSON)
        with tempfile.TemporaryDirectory(prefix="benchseal-verify-") as tmp:
            out = Path(tmp)
            write_reports(ctx.bundle_dir, formats={_FORMATS[n] for n in present}, program=program, out_dir=out)
            fresh_plots = sorted(p.name for p in (out / layout.PLOTS_DIR).glob("*.png")) if (out / layout.PLOTS_DIR).is_dir() else []
            text_diffs, image_diffs = [], []
            for n in present:
                signed, fresh = ctx.path(n).read_bytes(), (out / n).read_bytes()
                if signed == fresh or signed in _before_signing(ctx, fresh):
                    continue
                if _DATA_URI.sub(b"data:image/png;base64,", signed) == _DATA_URI.sub(b"data:image/png;base64,", fresh):
                    image_diffs.append(f"{n} (embedded images)")
                else:
                    text_diffs.append(f"{n}: {_first_difference(signed, fresh)}")
            if stored_plots != fresh_plots:
                text_diffs.append(f"{layout.PLOTS_DIR}/ holds {stored_plots}, the evidence gives {fresh_plots}")
            else:
                image_diffs += [f"{layout.PLOTS_DIR}/{p}" for p in stored_plots
                                if (plots_dir / p).read_bytes() != (out / layout.PLOTS_DIR / p).read_bytes()]
            html = ctx.path(layout.REPORT_HTML)
            if html.is_file() and stored_plots == fresh_plots and image_diffs:
                import base64

                embedded = {base64.b64decode(m[len(b"data:image/png;base64,"):]) for m in _DATA_URI.findall(html.read_bytes())}
                stray = embedded - {(plots_dir / p).read_bytes() for p in stored_plots}
                if stray:
                    text_diffs.append(f"{layout.REPORT_HTML} embeds {len(stray)} image(s) that are not the bundle's {layout.PLOTS_DIR}/ files")
        if text_diffs:
            yield failed(self.name, "the signed reports differ from a rendering of the evidence (they state something "
                                    "the evidence does not): " + "; ".join(text_diffs[:4]))
            return
        yield passed(self.name, f"{', '.join(present)} re-rendered from the evidence: text identical"
                                + ("" if image_diffs else f", {len(stored_plots)} plot(s) byte-identical"))
        if image_diffs:
            yield not_rederived(f"{self.name}:plots", "plot images differ from this verifier's rendering of the same "
                                "data (another matplotlib/FreeType draws other pixels); their text and numbers were "
                                "re-derived, the pixels were not: " + ", ".join(image_diffs[:6]))
