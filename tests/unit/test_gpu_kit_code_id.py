"""The GPU kit names the code that ran by the git tree id of the files on disk, not by HEAD: on the
device machine HEAD read 4edc475 (six days old) while main at 64fedf6 + 54e1dc4 ran. The id must
equal ``git rev-parse <commit>^{tree}`` of the commit that holds exactly those files."""

from __future__ import annotations

import importlib.util
import os
import shutil
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
pytestmark = pytest.mark.skipif(shutil.which("git") is None, reason="needs git")


def _kit():
    """scripts/gpu_check.py as the shell script runs it: its own folder (with gpu_steps/) first on the path."""
    import sys

    scripts = str(REPO / "scripts")
    if scripts not in sys.path:
        sys.path.insert(0, scripts)
    spec = importlib.util.spec_from_file_location("gpu_check_under_test", REPO / "scripts" / "gpu_check.py")
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@t", "GIT_COMMITTER_NAME": "t",
           "GIT_COMMITTER_EMAIL": "t@t"}
    return subprocess.run(["git", "-C", str(repo), *args], check=True, capture_output=True, text=True, env=env).stdout.strip()


def _commit_all(repo: Path, msg: str) -> str:
    _git(repo, "add", "-A")
    _git(repo, "commit", "-q", "--no-verify", "--no-gpg-sign", "-m", msg)
    return _git(repo, "rev-parse", "HEAD^{tree}")


def test_worktree_tree_is_the_commit_tree_of_the_files_on_disk(tmp_path):
    kit = _kit()
    repo = tmp_path / "r"
    (repo / "a" / "b").mkdir(parents=True)
    _git(tmp_path, "init", "-q", str(repo))
    _git(repo, "config", "core.fileMode", "true")
    (repo / "a" / "b" / "x.py").write_text("x = 1\n")
    (repo / "a-b").write_text("sorts before the folder a/ only by git's rule\n")  # '-' < '/'
    (repo / "a.txt").write_text("t\n")
    run = repo / "run.sh"
    run.write_text("#!/bin/sh\necho hi\n")
    run.chmod(0o755)
    (repo / "link").symlink_to("a.txt")
    (repo / ".gitignore").write_text("/ignored/\n")
    tree1 = _commit_all(repo, "one")
    assert kit.worktree_tree(str(repo)) == tree1

    # ignored files do not count; an edit, a new untracked file, a deletion and a mode change do
    (repo / "ignored").mkdir()
    (repo / "ignored" / "w.bin").write_bytes(b"\0" * 10)
    assert kit.worktree_tree(str(repo)) == tree1
    (repo / "a" / "b" / "x.py").write_text("x = 2\n")
    (repo / "new.py").write_text("n = 1\n")
    (repo / "a.txt").unlink()
    run.chmod(0o644)
    dirty = kit.worktree_tree(str(repo))
    assert dirty != tree1
    assert dirty == _commit_all(repo, "two")  # the id of the commit that holds exactly these files

    assert kit.worktree_tree(str(tmp_path / "not-a-repo")) is None


def test_summary_names_the_code_honestly():
    _kit()  # puts scripts/ on the path, as running the script does
    import gpu_steps.bookkeeping as kit
    same = kit._code_line({"commit": "c" * 40, "worktree_tree": "t" * 40, "worktree_is_commit": True})
    assert "commit " + "c" * 40 in same
    other = kit._code_line({"commit": "4edc475" + "0" * 33, "worktree_tree": "e" * 40, "worktree_is_commit": False,
                            "worktree_changed_paths": 209})
    assert "working tree " + "e" * 40 in other and "4edc475" in other and "209 paths differ" in other
    assert "commit 4edc475" not in other
    assert kit._code_line({}) == "code: (no git)"
