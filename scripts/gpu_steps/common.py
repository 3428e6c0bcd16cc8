"""What every step of the GPU kit shares: step titles, JSON files, rounding, git (stdlib only)."""

from __future__ import annotations

import datetime as _dt
import json
import os
import subprocess
from pathlib import Path
from typing import Any

SKIP = 77  # exit status for "skipped" (the shell records the SKIP: line)


STEP_TITLES = {
    "0": "setup: wheels and environment",
    "1a": "nvidia-smi -q",
    "1b": "benchseal hw (hardware report)",
    "1c": "NVML fixture recorded (redacted) and replayed",
    "2": "BENCHSEAL_REQUIRE_GPU=1 pytest -m gpu",
    "3": "benchseal hw --microbench --json",
    "4": "telemetry: sampler overhead/rate, energy counter vs power x time",
    "5a": "Llama-3.1-8B (random, bf16) built on the GPU; FlopCounterMode count; batched generate",
    "5b": "benchseal perf --backend hf, two load points (8B)",
    "5c": "MFU/MBU (benchseal) vs FlopCounterMode vs microbench",
    "6": "perf client --workers scaling against the test server",
    "7a": "Llama-3.2-1B (random, bf16) built on the GPU and saved",
    "7b": "benchseal keygen",
    "7c": "benchseal run hunan-2025 (hf, demo suite, signed)",
    "7d": "benchseal verify",
}


OUT_LIMIT = 15 * 2**20  # results.tar.gz must stay under the 16 MiB a returned file may have


def _now() -> str:
    return _dt.datetime.now(_dt.timezone.utc).isoformat(timespec="seconds")


def _read(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except (OSError, ValueError):
        return None


def _write(path: Path, data: Any) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, indent=2, default=str) + "\n")
    os.replace(tmp, path)


def _r(x: Any, n: int = 3) -> Any:
    return round(x, n) if isinstance(x, (int, float)) and not isinstance(x, bool) else x


def _g(x: Any, n: int = 4) -> Any:
    """n significant digits (small ratios such as a batch-1 MFU keep their digits)."""
    return float(f"{x:.{n}g}") if isinstance(x, (int, float)) and not isinstance(x, bool) else x


# ================================================================================================
# bookkeeping (stdlib only)
# ================================================================================================


def _git(repo: str, *args: str) -> str | None:
    try:
        p = subprocess.run(["git", "-C", repo, *args], capture_output=True, timeout=20)
    except (OSError, subprocess.SubprocessError):
        return None
    return p.stdout.decode("utf-8", "surrogateescape") if p.returncode == 0 else None


def worktree_tree(repo: str) -> str | None:
    """The git tree id of the files as they are on disk: tracked and untracked-not-ignored files,
    modes from the file system (executable bit, symlinks), nothing written to the object store.

    HEAD alone does not say what ran: the device machine gets a copy of the working tree over a
    .git that is not the current one (on the H200 HEAD read 4edc475, a commit of six days before,
    while main at 64fedf6 + 54e1dc4 ran). This id equals ``git rev-parse <commit>^{tree}`` of the
    commit whose files ran, so it names the code exactly wherever the copy came from."""
    import hashlib
    import stat

    listing = _git(repo, "ls-files", "-z", "--cached", "--others", "--exclude-standard")
    if listing is None:
        return None
    root: dict = {}
    for rel in sorted(set(p for p in listing.split("\0") if p)):
        full = os.path.join(repo, rel)
        try:
            st = os.lstat(full)
        except OSError:
            continue  # in the index, deleted on disk
        if stat.S_ISLNK(st.st_mode):
            mode, data = b"120000", os.fsencode(os.readlink(full))
        elif stat.S_ISREG(st.st_mode):
            mode = b"100755" if st.st_mode & 0o100 else b"100644"
            with open(full, "rb") as fh:
                data = fh.read()
        else:
            continue  # a submodule's folder: not hashed
        node = root
        *dirs, name = rel.split("/")
        for d in dirs:
            node = node.setdefault(d, {})
        node[name] = (mode, hashlib.sha1(b"blob %d\0" % len(data) + data).digest())

    def tree(node: dict) -> bytes:
        entries = []
        for name, v in node.items():
            raw = os.fsencode(name)
            if isinstance(v, dict):
                entries.append((raw + b"/", b"40000", raw, tree(v)))
            else:
                entries.append((raw, v[0], raw, v[1]))
        entries.sort(key=lambda e: e[0])  # git's order: a folder sorts as if its name ended in "/"
        body = b"".join(mode + b" " + raw + b"\0" + sha for _, mode, raw, sha in entries)
        return hashlib.sha1(b"tree %d\0" % len(body) + body).digest()

    return tree(root).hex()
