"""scripts/client_counts.py, whose counts docs/PERFORMANCE.md cites, still runs: the parse it counts
under valgrind completes a response (its own assertion), and the bytecode count of a small whole-client
run comes out as a per-request figure (valgrind itself is not needed for either)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[4] / "scripts" / "client_counts.py"


def _run(*args: str) -> str:
    out = subprocess.run([sys.executable, str(SCRIPT), *args], capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return out.stdout


def test_the_counted_parse_completes_a_response():
    for kind in ("whole", "three"):
        _run("--work", kind, "3", "")


def test_bytecodes_per_request():
    out = _run("--opcodes", "--requests", "200")
    n = int(re.search(r"Python bytecodes per request: ([\d,]+)", out).group(1).replace(",", ""))
    assert 500 < n < 50_000, out  # a per-request figure, not a total or zero
