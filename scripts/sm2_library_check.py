"""Measure the SM2 libraries on PyPI against GM/T 0003.5-2012 Annex A and the OpenSSL CLI.

Run in a throwaway environment holding the candidates, e.g.::

    python3 -m venv /tmp/sm2-libs && /tmp/sm2-libs/bin/pip install gmalg snowland-smx gmssl
    /tmp/sm2-libs/bin/python scripts/sm2_library_check.py

For each library that imports it checks (1) the Annex A signature (private key, message "message digest",
ID "1234567812345678", nonce k -> r, s; the vector is reproduced in OpenSSL's test/sm2_internal_test.c),
(2) whether the signer ID can be chosen, (3) where the signing nonce comes from, and (4) with the OpenSSL
CLI (3.x, SM2 enabled), that OpenSSL verifies the library's signature over a random message and the library
verifies OpenSSL's. Results are printed as one line per library and check. benchseal's choice and why:
docs/verification.md ("Why gmalg").
"""

from __future__ import annotations

import inspect
import os
import shutil
import subprocess
import tempfile
from pathlib import Path

D = 0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8
K = 0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21
R = 0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3
S = 0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA
MSG, UID = b"message digest", b"1234567812345678"


def _der_int(v: int) -> bytes:
    b = v.to_bytes((v.bit_length() + 8) // 8, "big")
    return bytes([2, len(b)]) + b


def der_sig(r: int, s: int) -> bytes:
    body = _der_int(r) + _der_int(s)
    return bytes([0x30, len(body)]) + body


def parse_der_sig(sig: bytes) -> tuple[int, int]:
    i = 2
    out = []
    for _ in range(2):
        n = sig[i + 1]
        out.append(int.from_bytes(sig[i + 2:i + 2 + n], "big"))
        i += 2 + n
    return out[0], out[1]


def openssl_key(tmp: Path) -> tuple[int, bytes]:
    """A fresh SM2 key from OpenSSL: (private scalar, 04||x||y)."""
    subprocess.run(["openssl", "ecparam", "-genkey", "-name", "SM2", "-noout", "-out", tmp / "k.pem"], check=True)
    subprocess.run(["openssl", "ec", "-in", tmp / "k.pem", "-pubout", "-out", tmp / "pub.pem"], check=True, capture_output=True)
    text = subprocess.run(["openssl", "ec", "-in", tmp / "k.pem", "-text", "-noout"], check=True, capture_output=True, text=True).stdout
    hexes = {"priv": "", "pub": ""}
    cur = None
    for line in text.splitlines():
        if line.startswith("priv:"):
            cur = "priv"
        elif line.startswith("pub:"):
            cur = "pub"
        elif line.startswith("ASN1") or line.startswith("NIST"):
            cur = None
        elif cur and line.startswith(" "):
            hexes[cur] += line.strip().replace(":", "")
    return int(hexes["priv"], 16), bytes.fromhex(hexes["pub"])


def openssl_sign(tmp: Path, msg: bytes) -> bytes:
    (tmp / "m").write_bytes(msg)
    subprocess.run(["openssl", "pkeyutl", "-sign", "-inkey", tmp / "k.pem", "-rawin", "-digest", "sm3", "-in", tmp / "m",
                    "-out", tmp / "s", "-pkeyopt", "distid:1234567812345678"], check=True, capture_output=True)
    return (tmp / "s").read_bytes()


def openssl_verify(tmp: Path, msg: bytes, sig: bytes) -> bool:
    (tmp / "m").write_bytes(msg)
    (tmp / "s").write_bytes(sig)
    p = subprocess.run(["openssl", "pkeyutl", "-verify", "-pubin", "-inkey", tmp / "pub.pem", "-rawin", "-digest", "sm3",
                        "-in", tmp / "m", "-sigfile", tmp / "s", "-pkeyopt", "distid:1234567812345678"], capture_output=True)
    return p.returncode == 0


def check_gmalg(tmp: Path | None) -> list[str]:
    import gmalg

    fixed = gmalg.SM2(D.to_bytes(32, "big"), UID, rnd_fn=lambda bits: K)
    r, s = fixed.sign(MSG)
    out = [f"annex-a: {'ok' if (int.from_bytes(r, 'big'), int.from_bytes(s, 'big')) == (R, S) else 'WRONG'}",
           "signer id: any (uid argument)",
           "nonce: " + ("secrets.randbits" if "secrets" in inspect.getsource(gmalg.base) else "other")]
    if tmp:
        d, pub = openssl_key(tmp)
        lib = gmalg.SM2(d.to_bytes(32, "big"), UID, pub)
        msg = os.urandom(200)
        r, s = lib.sign(msg)
        ours = openssl_verify(tmp, msg, der_sig(int.from_bytes(r, "big"), int.from_bytes(s, "big")))
        r2, s2 = parse_der_sig(openssl_sign(tmp, msg))
        theirs = lib.verify(msg, r2.to_bytes(32, "big"), s2.to_bytes(32, "big"))
        out.append(f"openssl verifies library: {ours}; library verifies openssl: {theirs}")
    return out


def check_snowland(tmp: Path | None) -> list[str]:
    from pysmx.SM2 import _SM2 as sm

    sig = sm.Sign(MSG, D.to_bytes(32, "big"), f"{K:064x}", 64, uid=UID)
    out = [f"annex-a: {'ok' if sig == R.to_bytes(32, 'big') + S.to_bytes(32, 'big') else 'WRONG'} (with uid=; without it the "
           "message itself is taken as the digest)", "signer id: any (uid argument, optional)",
           "nonce: the caller passes K as a hex string"]
    if tmp:
        d, pub = openssl_key(tmp)
        msg = os.urandom(200)
        import secrets
        k = f"{secrets.randbelow(sm.sm2_N - 1) + 1:064x}"
        rs = sm.Sign(msg, d.to_bytes(32, "big"), k, 64, uid=UID)
        ours = openssl_verify(tmp, msg, der_sig(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big")))
        r2, s2 = parse_der_sig(openssl_sign(tmp, msg))
        theirs = sm.Verify(r2.to_bytes(32, "big") + s2.to_bytes(32, "big"), msg, pub[1:], 64, uid=UID)
        out.append(f"openssl verifies library: {ours}; library verifies openssl: {bool(theirs)}")
    return out


def check_gmssl(tmp: Path | None) -> list[str]:
    from gmssl import func, sm2

    pub = "09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020CCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13"
    c = sm2.CryptSM2(private_key=f"{D:064x}", public_key=pub.lower())
    sig = c.sign_with_sm3(MSG, f"{K:064x}")
    out = [f"annex-a: {'ok' if sig.lower() == f'{R:064x}{S:064x}' else 'WRONG'}",
           "signer id: fixed to 1234567812345678 in _sm3_z",
           "nonce: " + ("random.choice (not a CSPRNG)" if "from random import choice" in inspect.getsource(func) else "other")]
    if tmp:
        d, pubb = openssl_key(tmp)
        c = sm2.CryptSM2(private_key=f"{d:064x}", public_key=pubb[1:].hex())
        msg = os.urandom(200)
        rs = bytes.fromhex(c.sign_with_sm3(msg))
        ours = openssl_verify(tmp, msg, der_sig(int.from_bytes(rs[:32], "big"), int.from_bytes(rs[32:], "big")))
        r2, s2 = parse_der_sig(openssl_sign(tmp, msg))
        theirs = c.verify_with_sm3(f"{r2:064x}{s2:064x}", msg)
        out.append(f"openssl verifies library: {ours}; library verifies openssl: {theirs}")
    return out


def main() -> None:
    have_openssl = shutil.which("openssl") is not None
    for name, fn in (("gmalg", check_gmalg), ("snowland-smx", check_snowland), ("gmssl", check_gmssl)):
        with tempfile.TemporaryDirectory() as d:
            try:
                lines = fn(Path(d) if have_openssl else None)
            except ImportError as exc:
                lines = [f"not installed ({exc})"]
            except Exception as exc:  # a library that crashes is a finding, not a reason to stop
                lines = [f"ERROR {type(exc).__name__}: {exc}"]
        for line in lines:
            print(f"{name}: {line}")


if __name__ == "__main__":
    main()
