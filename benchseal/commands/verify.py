"""benchseal verify: check a bundle's signature, digests, and recompute its summaries and verdicts."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.commands._common import add_json_flag, console, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "verify",
        help="verify a signed evidence bundle offline",
        description=(
            "Check the DSSE signature against trusted public keys, the sha256 of every bundle file, and "
            "recompute every summary from the raw records and every verdict from the evidence, re-render the "
            "reports, and check program.json against the programs this verifier trusts. What cannot be re-derived "
            "offline (parameter counts and weight digests without --model) is listed as NOT RE-DERIVED. "
            "Exit 0 only when everything holds, 1 when anything differs, 2 on bad input. See docs/verification.md."
        ),
    )
    p.add_argument("bundle", type=Path, metavar="BUNDLE", help="the bundle directory")
    p.add_argument("--key", action="append", type=Path, metavar="PUB.pem", help="trusted public key (repeatable)")
    p.add_argument("--trusted-keys", type=Path, metavar="DIR", help="directory of trusted public keys (*.pem, *.pub)")
    p.add_argument("--require-all-keys", action="store_true",
                   help="every trusted key given must have signed (default: a signature by at least one; a bad "
                        "signature by any trusted key always fails)")
    p.add_argument("--model-signing", type=Path, metavar="FILE", dest="model_signing",
                   help="the OpenSSF model-signing bundle the statement names: its sha256, its signature (by a trusted "
                        "ECDSA key) and its file digests against model.json are checked")
    p.add_argument("--tsa-cert", type=Path, metavar="PEM", dest="tsa_certs",
                   help="the RFC 3161 time-stamp authority's certificate chain (PEM, up to its self-signed root): every "
                        "signature must carry a timestamp that verifies with it (offline)")
    p.add_argument("--allow-partial", action="store_true", help="accept a bundle whose run is marked partial")
    p.add_argument("--model", type=Path, metavar="DIR", help="the model's files: re-hash them against model.json and "
                   "recount the parameters from the weights")
    p.add_argument("--program", action="append", type=Path, metavar="FILE", dest="programs",
                   help="a program file to trust besides the shipped/configured programs (repeatable): "
                        "program.json must equal one of them")
    add_json_flag(p)
    p.set_defaults(func=run)


def _print_table(report) -> None:
    from rich.table import Table

    styles = {"PASS": "green", "FAIL": "bold red", "SKIP": "yellow", "NOT RE-DERIVED": "magenta"}
    table = Table(title=f"benchseal verify {report.bundle}", show_lines=False)
    table.add_column("check")
    table.add_column("result")
    table.add_column("detail", overflow="fold")
    for c in report.checks:
        table.add_row(c.name, f"[{styles[c.outcome]}]{c.outcome}[/]", c.detail)
    out = console()
    out.print(table)
    if report.ok:
        out.print("[green]verified[/]: signature, digests and every recomputed value hold")
        for c in report.not_rederived:
            out.print(f"[magenta]not re-derived[/]: {c.name}: {c.detail}", markup=True, highlight=False)
    else:
        out.print(f"[bold red]verification FAILED[/]: {len(report.failures)} check(s) failed: " + ", ".join(c.name for c in report.failures))


def run(args: argparse.Namespace) -> int:
    from benchseal.errors import UsageError
    from benchseal.reports.verify import verify_bundle

    if not args.key and args.trusted_keys is None:
        raise UsageError("no trusted public key given", hint="pass --key PUB.pem or --trusted-keys DIR")
    report = verify_bundle(args.bundle, public_keys=args.key, trusted_dir=args.trusted_keys,
                           allow_partial=args.allow_partial, model_dir=args.model,
                           programs=args.programs, require_all_keys=args.require_all_keys,
                           model_signing=args.model_signing, tsa_certs=args.tsa_certs)
    if args.json:
        print_json(report.to_dict())
    else:
        _print_table(report)
    return 0 if report.ok else 1
