"""report.pdf: the HTML report printed to A4, for program offices that receive PDFs.

The same page as report.html (same renderer), with the bundle digest (sha256 of statement.json when
the bundle is signed) and the verify command in every page's footer. Rendered by headless Chromium
where one is installed (``$BENCHSEAL_CHROMIUM``, else ``chromium``, ``chromium-browser``,
``google-chrome`` on PATH), else by WeasyPrint (``pip install benchseal[pdf]``). The PDF's own
metadata (creation date) comes from the renderer, so unlike report.html it is not byte-stable.
"""

from __future__ import annotations

import os
import re
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


CJK_FONT_PACKAGE = "fonts-noto-cjk"  # Debian/Ubuntu; fonts-wqy-microhei is a 5 MB alternative
_CJK = re.compile(r"[\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff]")
_CJK_FONT_FILES = re.compile(r"(cjk|wqy|ukai|uming|droidsansfallback|sourcehan|notosans(sc|tc|hk|jp|kr)|"
                             r"notoserif(sc|tc|hk|jp|kr)|simsun|simhei|msyh|pingfang|hiragino|arphic)", re.I)
_FONT_DIRS = ("/usr/share/fonts", "/usr/local/share/fonts", "~/.fonts", "~/.local/share/fonts")


def cjk_font_available() -> bool:
    """Whether the PDF renderers (Chromium and WeasyPrint both find fonts through fontconfig) have a font
    with Chinese glyphs: ``fc-list :lang=zh`` where fontconfig's tool is installed, else a look through
    the usual font folders for a known CJK font file."""
    fc = shutil.which("fc-list")
    if fc:
        try:
            r = subprocess.run([fc, ":lang=zh", "family"], capture_output=True, text=True, timeout=60)
            if r.returncode == 0:
                return bool(r.stdout.strip())
        except (OSError, subprocess.TimeoutExpired):
            pass
    for d in _FONT_DIRS:
        root = Path(d).expanduser()
        if root.is_dir() and any(_CJK_FONT_FILES.search(p.name) for p in root.rglob("*") if p.is_file()):
            return True
    return False


def require_cjk_font(html: str) -> None:
    """Refuse (exit 3) before rendering a page with Chinese text when no font can draw it: the PDF would
    show an empty box for every Chinese character (the verdict, the program, every clause) and still look made."""
    if os.environ.get("BENCHSEAL_PDF_FONT_CHECK") == "0":  # the renderer finds fonts this check cannot see
        return
    if _CJK.search(html) and not cjk_font_available():
        raise _EnvError("no font with Chinese glyphs is installed, so every Chinese character of the PDF would print "
                        "as an empty box", hint=f"install one (Debian/Ubuntu: apt-get install {CJK_FONT_PACKAGE}) "
                        "and run the command again, or set BENCHSEAL_PDF_FONT_CHECK=0 if your renderer has one this "
                        "check cannot see")


def html_to_pdf(html: str, out: Path) -> Path:
    """Print ``html`` (a complete self-contained page) to ``out`` as an A4 PDF; refuses (exit 3) before
    rendering when the page has Chinese text and no installed font has Chinese glyphs."""
    out = Path(out)
    require_cjk_font(html)
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
