"""``benchseal digest MODEL``: sha256 of every weight, config and tokenizer file plus one model digest."""

from __future__ import annotations

import argparse
import sys

from benchseal.commands._common import add_json_flag, print_json
from benchseal.errors import ExitCode


def register(subparsers) -> None:
    p = subparsers.add_parser("digest", help="sha256 of a model's files and one model digest; --check re-verifies",
                              description="Hash every weight, config and tokenizer file (in parallel, streamed) and "
                                          "write an in-toto-style subject list, or re-verify one with --check.")
    p.add_argument("model", metavar="MODEL", help="model directory or a single weight file")
    p.add_argument("--out", metavar="FILE", help="write the subject list (JSON) to FILE")
    p.add_argument("--check", metavar="FILE", help="re-verify MODEL against a subject list (or a model.json); exit 1 on any difference")
    p.add_argument("--workers", type=int, default=None, help="files hashed in parallel (default: CPU cores)")
    p.add_argument("--no-progress", action="store_true", help="no progress bar on stderr")
    add_json_flag(p)
    p.set_defaults(func=run)


class _ByteBar:
    """A rich progress bar on stderr, fed by digest's ``progress(n, total)`` callback; started on first use."""

    def __init__(self) -> None:
        import threading

        self.bar = None
        self.task = None
        self.lock = threading.Lock()  # called from the hashing threads

    def __call__(self, n: int, total: int) -> None:
        with self.lock:
            if self.bar is None:
                self._start(total)
        self.bar.advance(self.task, n)  # type: ignore[union-attr]

    def _start(self, total: int) -> None:
        from rich.progress import BarColumn, DownloadColumn, Progress, TransferSpeedColumn

        from benchseal.commands._common import console

        self.bar = Progress("[progress.description]{task.description}", BarColumn(), DownloadColumn(),
                            TransferSpeedColumn(), console=console(stderr=True), transient=True)
        self.task = self.bar.add_task("sha256", total=total)
        self.bar.start()

    def close(self) -> None:
        if self.bar is not None:
            self.bar.stop()


def run(args: argparse.Namespace) -> int:
    from benchseal.bench.model import digest as d
    from benchseal.errors import UsageError

    if args.workers is not None and args.workers < 1:
        raise UsageError("--workers must be at least 1")
    bar = _ByteBar() if not args.no_progress and sys.stderr.isatty() else None
    try:
        return _run(args, d, bar)
    finally:
        if bar is not None:
            bar.close()


def _run(args: argparse.Namespace, d, progress) -> int:
    if args.check:
        problems = d.check_digests(args.model, args.check, workers=args.workers, progress=progress)
        if args.json:
            print_json({"ok": not problems, "problems": problems})
        else:
            print("\n".join(problems) if problems else f"OK: every file matches {args.check}")
        return int(ExitCode.FAILED) if problems else 0
    files, md = d.digest_model(args.model, workers=args.workers, progress=progress)
    if args.out:
        d.write_subjects(args.out, files, md)
    if args.json:
        print_json(d.subjects_document(files, md))
    else:
        for f in files:
            print(f"{f.sha256}  {f.path}")
        print(f"model digest: {md}" + (f"  (written to {args.out})" if args.out else ""))
    return 0
