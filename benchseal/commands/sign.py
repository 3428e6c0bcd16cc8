"""benchseal sign: write the in-toto statement of a bundle and its DSSE signature."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.commands._common import add_json_flag, console, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "sign",
        help="sign an evidence bundle (in-toto statement in a DSSE envelope)",
        description=(
            "Write statement.json (in-toto Statement v1 over every bundle file) and statement.dsse.json "
            "(its DSSE signature) into BUNDLE, replacing earlier ones. The key passphrase is read from "
            "BENCHSEAL_KEY_PASSPHRASE (or --passphrase-env VAR), or prompted for on a terminal."
        ),
    )
    p.add_argument("bundle", type=Path, metavar="BUNDLE", help="the run's output directory")
    p.add_argument("--key", required=True, type=Path, metavar="PRIVATE.pem", help="encrypted private key from benchseal keygen")
    p.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the passphrase (default: BENCHSEAL_KEY_PASSPHRASE)")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from benchseal import bundle as layout
    from benchseal.reports.seal.keys import resolve_passphrase
    from benchseal.reports.seal.statement import require_bundle, sign_bundle

    require_bundle(args.bundle)
    passphrase = resolve_passphrase(args.passphrase_env)
    envelope_path = sign_bundle(args.bundle, args.key, passphrase)
    envelope = json.loads(envelope_path.read_text(encoding="utf-8"))
    statement = json.loads((args.bundle / layout.STATEMENT_JSON).read_text(encoding="utf-8"))
    result = {
        "bundle": str(args.bundle),
        "statement": str(args.bundle / layout.STATEMENT_JSON),
        "envelope": str(envelope_path),
        "keyid": envelope["signatures"][0]["keyid"],
        "subjects": len(statement["subject"]),
    }
    if args.json:
        print_json(result)
    else:
        c = console()
        c.print(f"signed {result['subjects']} subjects with key {result['keyid']}", soft_wrap=True)
        c.print(f"  statement: {result['statement']}")
        c.print(f"  envelope:  {result['envelope']}")
    return 0
