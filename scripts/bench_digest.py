"""Self-benchmark: digest throughput as a ratio to `sha256sum` on the same files in the same run.

Creates (once) files of random bytes under --dir, drops nothing from the page cache (both tools read
warm files; run --cold as root to drop caches before each measurement), then times:
  1. one large file: benchseal's sha256_file vs `sha256sum FILE`;
  2. a multi-file model: digest_model (threads across cores) vs `sha256sum` over all files (one
     process) and vs `xargs -P N sha256sum` (N processes).
Usage:  .venv/bin/python scripts/bench_digest.py [--dir /tmp/benchseal-digest] [--size-mib 1024] [--files 8]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import time
from pathlib import Path


def _time(fn, repeat: int) -> float:
    ts = []
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        ts.append(time.perf_counter() - t0)
    return statistics.median(ts)


def _make(path: Path, size: int) -> None:
    if path.exists() and path.stat().st_size == size:
        return
    with open(path, "wb") as fh:
        left = size
        while left:
            n = min(left, 64 << 20)
            fh.write(os.urandom(n))
            left -= n


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--dir", default="/tmp/benchseal-digest")
    ap.add_argument("--size-mib", type=int, default=1024, help="size of the single file and of the multi-file model")
    ap.add_argument("--files", type=int, default=8)
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    from benchseal.bench.model.digest import digest_model, sha256_file

    root = Path(args.dir)
    single = root / "single"
    multi = root / "multi"
    single.mkdir(parents=True, exist_ok=True)
    multi.mkdir(parents=True, exist_ok=True)
    total = args.size_mib << 20
    _make(single / "model.safetensors", total)
    for i in range(args.files):
        _make(multi / f"model-{i + 1:05d}-of-{args.files:05d}.safetensors", total // args.files)
    files = sorted(str(p) for p in multi.iterdir())
    cores = os.cpu_count() or 1
    print(f"cores: {cores}; single file {args.size_mib} MiB; model of {args.files} files, {args.size_mib} MiB in all; "
          f"median of {args.repeat} warm-cache runs")

    f = single / "model.safetensors"
    assert sha256_file(f) == subprocess.run(["sha256sum", str(f)], capture_output=True, text=True).stdout.split()[0]
    ours = _time(lambda: sha256_file(f), args.repeat)
    ref = _time(lambda: subprocess.run(["sha256sum", str(f)], capture_output=True, check=True), args.repeat)
    print(f"single file: benchseal {total / ours / 1e6:,.0f} MB/s, sha256sum {total / ref / 1e6:,.0f} MB/s, ratio {ref / ours:.2f}x")

    ref1 = _time(lambda: subprocess.run(["sha256sum", *files], capture_output=True, check=True), args.repeat)
    refp = _time(lambda: subprocess.run(f"printf '%s\\n' {' '.join(files)} | xargs -P {cores} -n 1 sha256sum",
                                        shell=True, capture_output=True, check=True), args.repeat)
    for workers in sorted({1, cores}):
        t = _time(lambda: digest_model(multi, workers=workers), args.repeat)
        print(f"multi-file, {workers} thread(s): benchseal {total / t / 1e6:,.0f} MB/s; ratio to sha256sum (1 process) "
              f"{ref1 / t:.2f}x, to xargs -P {cores} sha256sum {refp / t:.2f}x")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
