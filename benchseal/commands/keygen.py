"""benchseal keygen: create a signing key pair (encrypted private key + public key)."""

from __future__ import annotations

import argparse
from pathlib import Path

from benchseal.commands._common import add_json_flag, console, print_json


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "keygen",
        help="create a signing key pair (passphrase-encrypted private key, public key)",
        description=(
            "Write private.pem (PKCS#8, encrypted with the passphrase, mode 0600) and public.pem into DIR. "
            "The passphrase is read from BENCHSEAL_KEY_PASSPHRASE (or the variable named by --passphrase-env), "
            "or prompted for on a terminal; it is never written anywhere."
        ),
    )
    p.add_argument("--out", required=True, type=Path, metavar="DIR", help="directory for private.pem and public.pem")
    p.add_argument("--algorithm", choices=("ecdsa-p256", "ed25519", "sm2"), default="ecdsa-p256",
                   help="signature algorithm (default: ecdsa-p256; sm2: SM2 over SM3, GB/T 32918, 商用密码)")
    p.add_argument("--passphrase-env", metavar="VAR", help="environment variable holding the passphrase (default: BENCHSEAL_KEY_PASSPHRASE)")
    p.add_argument("--force", action="store_true", help="replace an existing key pair in DIR")
    add_json_flag(p)
    p.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from benchseal.reports.seal.keys import generate_keypair, resolve_passphrase

    passphrase = resolve_passphrase(args.passphrase_env, confirm=True, prompt="Passphrase for the new private key: ")
    info = generate_keypair(args.out, algorithm=args.algorithm, passphrase=passphrase, overwrite=args.force)
    result = {
        "algorithm": info.algorithm,
        "keyid": info.keyid,
        "private_key": str(info.private_key_path),
        "public_key": str(info.public_key_path),
    }
    if args.json:
        print_json(result)
    else:
        c = console()
        c.print(f"key pair ({info.algorithm}) written")
        c.print(f"  private key (encrypted, keep secret): {info.private_key_path}")
        c.print(f"  public key (give to verifiers):       {info.public_key_path}")
        c.print(f"  key id: {info.keyid}", soft_wrap=True)
    return 0
