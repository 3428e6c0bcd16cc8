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
    p.add_argument("--model-signing", metavar="OUT", dest="model_signing",
                   help="also write an OpenSSF model-signing bundle (Sigstore bundle v0.3) over every file of MODEL to OUT, "
                        "which `model_signing verify key MODEL --signature OUT --public_key PUB` accepts; needs --key")
    p.add_argument("--key", metavar="PRIVATE.pem", help="ECDSA P-256 private key (benchseal keygen) for --model-signing")
    p.add_argument("--passphrase-env", metavar="VAR",
                   help="environment variable holding the key passphrase (default: BENCHSEAL_KEY_PASSPHRASE)")
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
    if bool(args.model_signing) != bool(args.key):
        raise UsageError("--model-signing OUT and --key PRIVATE.pem go together",
                         hint="pass both to write a model-signing bundle, or neither")
    if args.model_signing and args.check:
        raise UsageError("--model-signing cannot be combined with --check")
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
    signed = _model_signing(args, files) if args.model_signing else None
    if args.out:
        d.write_subjects(args.out, files, md)
    if args.json:
        doc = d.subjects_document(files, md)
        if signed is not None:
            doc["model_signing"] = {"bundle": str(args.model_signing), **signed.to_dict()}
        print_json(doc)
    else:
        for f in files:
            print(f"{f.sha256}  {f.path}")
        print(f"model digest: {md}" + (f"  (written to {args.out})" if args.out else ""))
        if signed is not None:
            print(f"model-signing bundle: {args.model_signing} ({len(signed.resources)} files, subject sha256 "
                  f"{signed.subject_sha256}, bundle sha256 {signed.bundle_sha256})")
    return 0


def _model_signing(args: argparse.Namespace, files):
    """Write the OpenSSF model-signing bundle and check it names the counted files with the same digests."""
    from pathlib import Path

    from benchseal.reports.seal.keys import load_private_key, resolve_passphrase
    from benchseal.reports.seal.modelsigning import covers_model_files, write_bundle

    key = load_private_key(Path(args.key), resolve_passphrase(args.passphrase_env))
    info = write_bundle(Path(args.model), Path(args.model_signing), key, workers=args.workers)
    problems = covers_model_files(info, [{"path": f.path, "sha256": f.sha256} for f in files])
    if problems:  # the files changed while they were hashed
        from benchseal.errors import BenchsealError

        raise BenchsealError("the model changed while it was hashed: " + "; ".join(problems[:5]), where=str(args.model))
    return info
