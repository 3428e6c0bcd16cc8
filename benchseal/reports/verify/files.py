"""The bundle's entries, checked before any file is opened: every entry is a plain directory or a
regular file. A symlink (to a file, a directory or a device such as /dev/zero), a FIFO, a socket or
a device node fails, found with ``lstat`` only (never opened, never followed), so verifying a
hostile bundle cannot hang on a FIFO, read an endless device or read files outside the bundle.

When this policy fails, :func:`benchseal.reports.verify.verify_bundle` runs nothing else: every
other check opens files. Unlisted regular files are the digest policy's business (every regular
file must be a subject of the signed statement).
"""

from __future__ import annotations

import os
import stat
from pathlib import PurePosixPath
from typing import Iterable

from benchseal.reports.verify.policy import BundleContext, CheckResult, failed, passed

MAX_ENTRIES = 200_000  # a bundle has a few hundred files; more is a directory bomb, not evidence
MAX_DEPTH = 32


def _kind(mode: int) -> str:
    if stat.S_ISLNK(mode):
        return "a symbolic link"
    if stat.S_ISFIFO(mode):
        return "a FIFO (named pipe)"
    if stat.S_ISSOCK(mode):
        return "a socket"
    if stat.S_ISCHR(mode) or stat.S_ISBLK(mode):
        return "a device node"
    return "not a regular file"


def scan_entries(root: os.PathLike | str) -> tuple[int, list[str]]:
    """(regular files found, problems) for the tree under ``root``, by ``lstat`` only."""
    problems: list[str] = []
    count = 0
    stack: list[tuple[str, str, int]] = [(os.fspath(root), "", 0)]
    seen = 0
    while stack:
        path, rel, depth = stack.pop()
        try:
            entries = sorted(os.scandir(path), key=lambda e: e.name)
        except OSError as exc:
            problems.append(f"{rel or '.'}: cannot be listed ({exc.strerror})")
            continue
        for e in entries:
            seen += 1
            if seen > MAX_ENTRIES:
                problems.append(f"more than {MAX_ENTRIES} entries: not a bundle a run writes")
                return count, problems
            name = f"{rel}/{e.name}" if rel else e.name
            mode = e.stat(follow_symlinks=False).st_mode
            if stat.S_ISDIR(mode):
                if depth + 1 > MAX_DEPTH:
                    problems.append(f"{name}/: nested more than {MAX_DEPTH} folders deep")
                else:
                    stack.append((e.path, name, depth + 1))
            elif stat.S_ISREG(mode):
                count += 1
            else:
                problems.append(f"{name}: {_kind(mode)}")
    return count, problems


def safe_relpath(name: object) -> bool:
    """A POSIX path relative to a root that stays inside it: not empty, not absolute, no '..',
    no '.' or empty segments, no backslash or NUL."""
    if not isinstance(name, str) or not name or "\\" in name or "\x00" in name:
        return False
    p = PurePosixPath(name)
    return not p.is_absolute() and p.as_posix() == name and all(part not in ("", ".", "..") for part in p.parts)


class BundleFilesPolicy:
    """Every entry of the bundle is a regular file or a plain directory (no symlink, FIFO, device)."""

    name = "files"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        count, problems = scan_entries(ctx.bundle_dir)
        if problems:
            more = f" (and {len(problems) - 6} more)" if len(problems) > 6 else ""
            yield failed(self.name, "the bundle holds entries that are not regular files (none was opened): "
                                    + "; ".join(problems[:6]) + more)
        else:
            yield passed(self.name, f"{count} regular files, no symlinks, FIFOs or devices")
