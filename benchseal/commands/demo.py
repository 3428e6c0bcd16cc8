"""`benchseal demo`: the whole pipeline on a tiny local model, on CPU, in a few minutes.

Builds a random-weight tiny Llama (no download), generates a fresh signing key, runs the
hunan-2025 program (hardware, parameters and digests, performance with the hf backend, FLOPs/MFU,
a tiny local lm-eval suite), writes and signs the bundle, verifies it offline, and prints where the
report is. The tiny model's verdicts are real: it has ~0.3 M parameters, so the 8亿 claim FAILS.
The demo itself succeeds (exit 0) when the bundle was produced and verifies.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
from pathlib import Path

from benchseal.errors import ExitCode, UsageError

MARKER = ".benchseal-demo"


def register(sub) -> None:
    p = sub.add_parser(
        "demo",
        help="run the whole pipeline on a tiny local model (CPU is fine) and verify the signed bundle",
        description=__doc__.split("\n\n")[1],
    )
    p.add_argument("--out", type=Path, default=Path("benchseal-demo"), help="demo directory (default ./benchseal-demo)")
    p.add_argument("--program", default="hunan-2025", help="program to check (default hunan-2025)")
    p.add_argument("--arch", default="llama", choices=["llama", "qwen2", "mixtral"], help="tiny model family")
    p.set_defaults(func=run)


def _prepare_out(out: Path) -> None:
    if out.exists() and any(out.iterdir()):
        if not (out / MARKER).exists():
            raise UsageError(
                "the demo directory exists and was not made by `benchseal demo`",
                where=str(out),
                hint="pass --out with a new directory",
            )
        shutil.rmtree(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / MARKER).write_text("made by benchseal demo; safe to delete\n")


def run(args: argparse.Namespace) -> int:
    import os

    from benchseal.commands._common import console, tally
    from benchseal.commands.run import print_summary

    for var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
        os.environ.setdefault(var, "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    con = console(stderr=True)
    out: Path = args.out.resolve()
    _prepare_out(out)

    from benchseal.testing.tiny import build_tiny_model
    from benchseal.bench.perf.backends.spec import HFSpec
    from benchseal.pipeline import Pipeline, RunSpec
    from benchseal.reports.seal.keys import generate_keypair
    from benchseal.reports.verify import verify_bundle

    con.print(f"[bold]benchseal demo[/] → {out}")
    con.print(f"building a tiny random-weight {args.arch} model (local tokenizer, no download)")
    model = build_tiny_model(out / "model", arch=args.arch, seed=0)
    passphrase = secrets.token_urlsafe(24).encode()  # held in memory only: the demo key is throwaway
    key = generate_keypair(out / "keys", passphrase=passphrase)
    spec = RunSpec(
        program=args.program,
        backend=HFSpec(model=str(model), device="cpu", dtype="float32"),
        model_path=str(model),
        workload="demo-cpu",
        eval_suites=["demo"],
        eval_backend="hf",
    )
    bundle = out / "bundle"
    result = Pipeline(spec, bundle, log=lambda m: con.print(m)).run(key=key.private_key_path, passphrase=passphrase)
    print_summary(result, con)
    report = verify_bundle(bundle, public_keys=[key.public_key_path], trusted_dir=None)
    con.print(f"verify: {'[green]OK[/]' if report.ok else '[red]FAILED[/]'} "
              f"({tally(report.checks)})")
    for c in report.checks:
        if not c.ok:
            con.print(f"  [red]✗[/] {c.name}: {c.detail}")
    con.print(f"report: {bundle / 'report.html'}")
    con.print(f"check it yourself: benchseal verify {bundle} --key {key.public_key_path}")
    if result.interrupted or result.manifest.status != "complete":
        return result.exit_code if result.exit_code >= int(ExitCode.BAD_INPUT) else int(ExitCode.ENVIRONMENT)
    return int(ExitCode.OK) if report.ok else int(ExitCode.FAILED)
