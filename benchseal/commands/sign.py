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
    p.add_argument("--key", required=True, action="append", type=Path, metavar="PRIVATE.pem",
                   help="encrypted private key from benchseal keygen; repeat it to sign with several keys "
                        "(e.g. an SM2 and an ECDSA key): one envelope, one signature per key")
    p.add_argument("--passphrase-env", action="append", metavar="VAR",
                   help="environment variable holding the passphrase (default: BENCHSEAL_KEY_PASSPHRASE); "
                        "give it once for all keys or once per --key, in the same order")
    p.add_argument("--sm2-signer-id", metavar="ID", default=None,
                   help="the signer ID an SM2 key signs with (GM/T 0009; default 1234567812345678); "
                        "written into the envelope")
    p.add_argument("--timestamp-url", metavar="URL", default=None,
                   help="an RFC 3161 time-stamp authority: each signature gets a timestamp token, stored in the envelope "
                        "(off by default; needs the `timestamp` extra; verify checks it offline with --tsa-cert)")
    p.add_argument("--model-signing", type=Path, metavar="FILE", dest="model_signing",
                   help="an OpenSSF model-signing bundle of the measured model (benchseal digest --model-signing): it must "
                        "sign every file model.json counted with the same sha256; the statement names its sha256")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    import json

    from benchseal import bundle as layout
    from benchseal.reports.seal.keys import resolve_passphrase
    from benchseal.reports.seal.statement import require_bundle, sign_bundle

    from benchseal.errors import UsageError

    require_bundle(args.bundle)
    envs = args.passphrase_env or [None]
    if len(envs) not in (1, len(args.key)):
        raise UsageError(f"{len(envs)} --passphrase-env for {len(args.key)} --key",
                         hint="give --passphrase-env once for all keys or once per --key")
    phrases = [resolve_passphrase(e) for e in envs]
    passphrase = phrases[0] if len(phrases) == 1 else phrases
    envelope_path = sign_bundle(args.bundle, args.key, passphrase, sm2_signer_id=args.sm2_signer_id,
                                model_signing=args.model_signing, timestamp_url=args.timestamp_url)
    envelope = json.loads(envelope_path.read_text(encoding="utf-8"))
    statement = json.loads((args.bundle / layout.STATEMENT_JSON).read_text(encoding="utf-8"))
    result = {
        "bundle": str(args.bundle),
        "statement": str(args.bundle / layout.STATEMENT_JSON),
        "envelope": str(envelope_path),
        "keyid": envelope["signatures"][0]["keyid"],
        "keyids": [sig["keyid"] for sig in envelope["signatures"]],
        "test_result": str(args.bundle / layout.TEST_RESULT_DSSE) if (args.bundle / layout.TEST_RESULT_DSSE).is_file() else None,
        "subjects": len(statement["subject"]),
    }
    if args.json:
        print_json(result)
    else:
        c = console()
        c.print(f"signed {result['subjects']} subjects with key {', '.join(result['keyids'])}", soft_wrap=True)
        c.print(f"  statement: {result['statement']}")
        c.print(f"  envelope:  {result['envelope']}")
        if result["test_result"]:
            c.print(f"  test-result: {result['test_result']}")
    return 0
