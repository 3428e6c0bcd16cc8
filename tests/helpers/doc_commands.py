"""The shell commands shown in README.md and docs/**/*.md, for the doc-command test.

Every fenced block whose info string is ``sh``, ``bash``, ``shell`` or ``console`` is a command block.
It runs in the doc-command test (tests/integration/test_doc_commands.py) unless the line right before
its opening fence is ``<!-- doc-test: skip REASON -->`` (or one of the HTML comment lines right
above the fence, when another test marks the same block) (a GPU, a remote server, a cluster, the
network, the test suite itself…); a skip marker must give its reason. In a ``console`` block only
the lines that start with ``$ `` are commands (the rest is their output); ``sh``/``bash`` blocks run
as written, one block as one script, so a block may set a variable that its later lines use.
A block is expected to end with exit status 0; ``<!-- doc-test: exit N REASON -->`` expects N (the
demo's tiny model fails the 8亿 claim, so a command that reports the demo bundle's verdicts exits 1).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
COMMAND_LANGS = frozenset({"sh", "bash", "shell", "console"})
FENCE = re.compile(r"^(?P<indent> {0,3})(?P<fence>`{3,}|~{3,})\s*(?P<info>[^`\s]*)")
MARKER = re.compile(r"^\s*<!--\s*doc-test:(?P<body>.*?)-->\s*$")
COMMENT = re.compile(r"^\s*<!--.*-->\s*$")


@dataclass(frozen=True)
class DocBlock:
    """One fenced block of a Markdown file."""

    path: Path  # the Markdown file
    line: int  # 1-based line of the opening fence
    lang: str
    text: str  # the block's content, without the fences
    marker: str | None  # the raw body of a `<!-- doc-test: … -->` line right before the fence

    @property
    def where(self) -> str:
        return f"{self.path.relative_to(REPO)}:{self.line}"

    @property
    def is_command(self) -> bool:
        return self.lang in COMMAND_LANGS

    @property
    def skip_reason(self) -> str | None:
        """The reason of a well-formed skip marker; None when the block is not skipped."""
        if self.marker is None:
            return None
        m = re.match(r"\s*skip\b(.*)$", self.marker, re.S)
        return m.group(1).strip() if m else None

    @property
    def expected_exit(self) -> int:
        """The exit status the block ends with: 0, or N from ``<!-- doc-test: exit N REASON -->``."""
        m = re.match(r"\s*exit\s+(\d+)\b", self.marker or "")
        return int(m.group(1)) if m else 0

    def marker_problem(self) -> str | None:
        """Why the marker before this block is not a valid one (None when there is none or it is valid)."""
        if self.marker is None:
            return None
        if not self.is_command:
            return f"{self.where}: a doc-test marker stands before a ```{self.lang or ''} block, which is not run anyway"
        m = re.match(r"\s*exit\s+(\d+)\b(.*)$", self.marker, re.S)
        if m:
            return None if m.group(2).strip() else f"{self.where}: a doc-test exit marker without a reason"
        if not re.match(r"\s*skip\b", self.marker):
            return (f"{self.where}: unknown doc-test marker {self.marker.strip()!r} (the forms are "
                    "`<!-- doc-test: skip REASON -->` and `<!-- doc-test: exit N REASON -->`)")
        if not self.skip_reason:
            return f"{self.where}: a doc-test skip marker without a reason (write `<!-- doc-test: skip REASON -->`)"
        return None

    def script(self) -> str:
        """The shell text to run: the block as written, or a console block's ``$ `` lines."""
        if self.lang != "console":
            return self.text
        out: list[str] = []
        continuing = False
        for line in self.text.splitlines():
            if line.startswith("$ ") or (continuing and out):
                cmd = line[2:] if line.startswith("$ ") and not continuing else line
                out.append(cmd)
                continuing = cmd.rstrip().endswith("\\")
        return "\n".join(out) + "\n"


def doc_files(root: Path = REPO) -> list[Path]:
    """README.md and every Markdown file under docs/."""
    return [root / "README.md", *sorted((root / "docs").rglob("*.md"))]


def blocks(path: Path) -> list[DocBlock]:
    """Every fenced block of ``path``, with the doc-test marker right before it (if any)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out: list[DocBlock] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        fence, lang = m.group("fence"), m.group("info").lower()
        start = i
        body: list[str] = []
        i += 1
        while i < len(lines) and not lines[i].strip().startswith(fence):
            body.append(lines[i][len(m.group("indent")):] if lines[i].startswith(m.group("indent")) else lines[i])
            i += 1
        marker = None
        j = start - 1
        while j >= 0 and COMMENT.match(lines[j]):  # the HTML comment lines right above the fence
            if (m2 := MARKER.match(lines[j])) is not None:
                marker = m2.group("body")
                break
            j -= 1
        out.append(DocBlock(path, start + 1, lang, "\n".join(body) + "\n", marker))
        i += 1
    return out


def orphan_markers(path: Path) -> list[str]:
    """doc-test markers that do not stand right before a fence (they would silently do nothing)."""
    lines = path.read_text(encoding="utf-8").splitlines()
    out = []
    for n, line in enumerate(lines):
        k = n + 1
        while k < len(lines) and COMMENT.match(lines[k]):
            k += 1
        if MARKER.match(line) and not (k < len(lines) and FENCE.match(lines[k])):
            out.append(f"{path.relative_to(REPO)}:{n + 1}: a doc-test marker that is not on the line right before a fence")
    return out


def command_blocks(root: Path = REPO) -> list[DocBlock]:
    return [b for p in doc_files(root) for b in blocks(p) if b.is_command]
