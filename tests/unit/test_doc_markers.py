"""The doc-test markers of README.md and docs/: every skip says why, and stands where it takes effect.
(The commands themselves run in tests/integration/docs/test_doc_commands.py.)"""

from __future__ import annotations

from pathlib import Path

from tests.helpers.doc_commands import REPO, blocks, command_blocks, doc_files, orphan_markers


def test_every_marker_is_valid():
    problems = [p for f in doc_files() for b in blocks(f) if (p := b.marker_problem())]
    problems += [p for f in doc_files() for p in orphan_markers(f)]
    assert not problems, "\n".join(problems)


def test_the_docs_show_commands():
    assert len(command_blocks()) >= 20
    assert any(b.skip_reason is None for b in command_blocks())


def _doc(tmp_path: Path, text: str) -> Path:
    p = tmp_path / "x.md"
    p.write_text(text)
    return p


def test_a_skip_without_reason_is_refused(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("tests.helpers.doc_commands.REPO", tmp_path)
    (b,) = blocks(_doc(tmp_path, "text\n<!-- doc-test: skip -->\n```sh\nbenchseal hw --microbench\n```\n"))
    assert b.skip_reason == "" and "without a reason" in b.marker_problem()
    (b,) = blocks(_doc(tmp_path, "<!-- doc-test: skip needs a GPU -->\n<!-- other:marker -->\n```bash\nx\n```\n"))
    assert b.skip_reason == "needs a GPU" and b.marker_problem() is None
    (b,) = blocks(_doc(tmp_path, "<!-- doc-test: skp typo -->\n```sh\nx\n```\n"))
    assert "unknown doc-test marker" in b.marker_problem()
    (b,) = blocks(_doc(tmp_path, "<!-- doc-test: exit 1 the demo model fails a claim -->\n```sh\nx\n```\n"))
    assert b.expected_exit == 1 and b.marker_problem() is None and b.skip_reason is None
    (b,) = blocks(_doc(tmp_path, "<!-- doc-test: exit 1 -->\n```sh\nx\n```\n"))
    assert "without a reason" in b.marker_problem()
    p = _doc(tmp_path, "<!-- doc-test: skip far away -->\n\n```sh\nx\n```\n")
    assert blocks(p)[0].skip_reason is None and orphan_markers(p)


def test_console_blocks_run_only_their_prompt_lines(tmp_path: Path, monkeypatch):
    monkeypatch.setattr("tests.helpers.doc_commands.REPO", tmp_path)
    (b,) = blocks(_doc(tmp_path, "```console\n$ benchseal hw \\\n    --json\n{\"host\": 1}\n$ benchseal programs\nid name\n```\n"))
    assert b.script() == "benchseal hw \\\n    --json\nbenchseal programs\n"
    assert REPO.name  # the real repository stays importable


def test_paths_the_docs_name_exist():
    """A test file or script named in the docs exists where the docs say (they moved once already)."""
    import re

    missing = []
    for f in doc_files():
        for m in re.finditer(r"(?<![\w./-])((?:tests|scripts)/[\w./-]+\.(?:py|sh))", f.read_text(encoding="utf-8")):
            if not (REPO / m.group(1)).exists():
                missing.append(f"{f.relative_to(REPO)}: {m.group(1)}")
    assert not missing, "\n".join(missing)


def test_no_path_of_the_build_machine():
    hits = [f"{f.relative_to(REPO)}: {line.strip()}" for f in doc_files()
            for line in f.read_text(encoding="utf-8").splitlines() if "/work/" in line]
    assert not hits, "\n".join(hits)
