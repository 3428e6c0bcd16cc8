"""report.pdf: the HTML report printed to A4, for program offices that receive PDFs.

The same page as report.html (same renderer), with the bundle digest (sha256 of statement.json when
the bundle is signed) and the verify command in every page's footer. Rendered by headless Chromium
where one is installed (``$BENCHSEAL_CHROMIUM``, else ``chromium``, ``chromium-browser``,
``google-chrome`` on PATH), else by WeasyPrint (``pip install benchseal[pdf]``). The PDF's own
metadata (creation date) comes from the renderer, so unlike report.html it is not byte-stable.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
from pathlib import Path

from benchseal.errors import EnvironmentFailure as _EnvError

CHROMIUM_NAMES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
_TIMEOUT_S = 120


def find_chromium() -> str | None:
    env = os.environ.get("BENCHSEAL_CHROMIUM")
    if env:
        return env if Path(env).is_file() or shutil.which(env) else None
    for name in CHROMIUM_NAMES:
        path = shutil.which(name)
        if path:
            return path
    return None


def chromium_args(exe: str, html: Path, *, print_to_pdf: Path | None = None, screenshot: Path | None = None,
                  width: int = 1280, height: int = 2000) -> list[str]:
    """Headless Chromium arguments; no network, no profile left behind (the caller gives a temp profile)."""
    args = [exe, "--headless", "--disable-gpu", "--no-sandbox", "--no-first-run", "--no-default-browser-check",
            "--disable-extensions", "--disable-background-networking", "--disable-sync", "--hide-scrollbars",
            "--allow-file-access-from-files", "--proxy-server=127.0.0.1:9", "--proxy-bypass-list=<-loopback>"]
    if print_to_pdf is not None:
        args += ["--no-pdf-header-footer", f"--print-to-pdf={print_to_pdf}"]
    if screenshot is not None:
        args += [f"--window-size={width},{height}", f"--screenshot={screenshot}"]
    return args + [html.resolve().as_uri()]


def run_chromium(args: list[str]) -> None:
    with tempfile.TemporaryDirectory(prefix="benchseal-chromium-") as profile:
        full = args[:1] + [f"--user-data-dir={profile}"] + args[1:]
        try:
            r = subprocess.run(full, capture_output=True, text=True, timeout=_TIMEOUT_S,
                               env={**os.environ, "HOME": profile})
        except subprocess.TimeoutExpired:
            raise _EnvError(f"headless Chromium did not finish within {_TIMEOUT_S} s", where=args[0]) from None
        except OSError as exc:
            raise _EnvError(f"could not start headless Chromium: {exc}", where=args[0]) from None
    if r.returncode != 0:
        tail = (r.stderr or "").strip().splitlines()[-3:]
        raise _EnvError("headless Chromium failed: " + " | ".join(tail), where=args[0])


def html_to_pdf(html: str, out: Path) -> Path:
    """Print ``html`` (a complete self-contained page) to ``out`` as an A4 PDF."""
    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp_pdf = out.with_name(f".{out.name}.tmp")
    exe = find_chromium()
    if exe is not None:
        with tempfile.TemporaryDirectory(prefix="benchseal-pdf-") as d:
            page = Path(d) / "report.html"
            page.write_text(html, encoding="utf-8")
            run_chromium(chromium_args(exe, page, print_to_pdf=Path(d) / "report.pdf"))
            shutil.move(str(Path(d) / "report.pdf"), tmp_pdf)
    else:
        try:
            import weasyprint  # type: ignore[import-not-found]
        except ImportError:
            raise _EnvError("no PDF renderer: neither headless Chromium nor WeasyPrint is installed",
                            hint="apt-get install chromium, or pip install 'benchseal[pdf]' (WeasyPrint)") from None
        except OSError as exc:  # WeasyPrint installed without its system libraries (pango)
            raise _EnvError(f"WeasyPrint cannot load its libraries: {exc}", hint="install pango, or apt-get install chromium") from None
        weasyprint.HTML(string=html, base_url=None).write_pdf(str(tmp_pdf))
    tmp_pdf.replace(out)
    return out
