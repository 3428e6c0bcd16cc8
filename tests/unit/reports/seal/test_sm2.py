"""SM2 over SM3 (GB/T 32918, GM/T 0003): published test vectors, key files OpenSSL reads and writes,
and cross-verification with the OpenSSL CLI over a real bundle's DSSE PAE in both directions."""

from __future__ import annotations

import base64
import json
import os
import shutil
import subprocess

import pytest

from benchseal import bundle as layout
from benchseal.errors import ExitCode, UsageError
from benchseal.reports.seal import sm2
from benchseal.reports.seal.canonical import b64encode
from benchseal.reports.seal.dsse import pae
from benchseal.reports.seal.keys import keyid, load_private_key, load_public_key
from benchseal.reports.seal.statement import envelope_bytes, sign_bundle
from tests.helpers.sign_support import PASSPHRASE, new_keys, verifiable_bundle

# GM/T 0003.5-2012 and GB/T 32918.5-2016 Annex A (the recommended curve), as reproduced in OpenSSL's
# test/sm2_internal_test.c (sm2_sig_test: "From Annex A in both GM/T0003.5-2012 and GB/T 32918.5-2016")
ANNEX_A = dict(
    d=0x3945208F7B2144B13F36E38AC6D39F95889393692860B51A42FB81EF4DF7C5B8,
    x=0x09F9DF311E5421A150DD7D161E4BC5C672179FAD1833FC076BB08FF356F35020,
    y=0xCCEA490CE26775A52DC6EA718CC1AA600AED05FBF35E084A6632F6072DA9AD13,
    k=0x59276E27D506861A16680F3AD9C02DCCEF3CC1FA3CDBE4CE6D54B80DEAC1BC21,
    r=0xF5A03B0648D2C4630EEAC513E1BB81A15944DA3827D5B74143AC7EACEEE720B3,
    s=0xB1B6AA29DF212FD8763182BC0D421CA1BB9038FD1F7F42D4840B69C485BBC1AA,
)


def _has_openssl_sm2() -> str | None:
    """None when the openssl CLI signs SM2 with a distid, else why not."""
    if shutil.which("openssl") is None:
        return "openssl is not installed"
    p = subprocess.run(["openssl", "ecparam", "-name", "SM2", "-genkey", "-noout"], capture_output=True)
    return None if p.returncode == 0 else "this openssl has no SM2 (built with no-sm2?)"


needs_openssl_sm2 = pytest.mark.skipif(_has_openssl_sm2() is not None, reason=str(_has_openssl_sm2()))


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASSPHRASE)


def _openssl(*args, env=None, check=True):
    return subprocess.run(["openssl", *map(str, args)], capture_output=True, check=check, env=env, timeout=60)


def _der_rs(sig: bytes) -> tuple[int, int]:
    from benchseal.reports.seal import der

    r, s = der.parse(sig).children()
    return r.int(), s.int()


def test_sm3_of_abc_is_the_gbt_32905_example():
    # GB/T 32905-2016 (GM/T 0004-2012) Appendix A, example 1: SM3("abc")
    assert sm2.sm3_hex(b"abc") == "66c7f0f462eeedd9d1f2d46bdc10e4e24167c4875cf2f7a2297da02b8f4ba8e0"


def test_annex_a_signature_with_its_nonce(monkeypatch):
    import gmalg.base

    key = sm2.Sm2PrivateKey.from_scalar(ANNEX_A["d"])
    assert key.point == b"\x04" + ANNEX_A["x"].to_bytes(32, "big") + ANNEX_A["y"].to_bytes(32, "big")
    monkeypatch.setattr(gmalg.base.SMCoreBase, "_default_rnd_fn", lambda self, bits: ANNEX_A["k"])
    sig = key.sign(b"message digest", "1234567812345678")
    assert _der_rs(sig) == (ANNEX_A["r"], ANNEX_A["s"])
    monkeypatch.undo()
    pub = key.public_key()
    assert pub.verify(sig, b"message digest", "1234567812345678")
    assert not pub.verify(sig, b"message digesT", "1234567812345678")
    assert not pub.verify(sig, b"message digest", "1234567812345679")  # the signer ID is bound into Z_A
    assert not pub.verify(sig + b"\x00", b"message digest", "1234567812345678")  # trailing bytes: not DER


def test_signer_id_rules():
    assert sm2.check_signer_id("ALICE123@YAHOO.COM") == b"ALICE123@YAHOO.COM"
    for bad in ("", "中文", "a\nb", "x" * 8192):
        with pytest.raises(ValueError):
            sm2.check_signer_id(bad)


def test_keygen_sm2_files_and_keyid(run_cli, tmp_path):
    code, out, err = run_cli("keygen", "--out", tmp_path / "k", "--algorithm", "sm2", "--json")
    assert code == 0, err
    info = json.loads(out)
    pub = load_public_key(tmp_path / "k" / "public.pem")
    assert isinstance(pub, sm2.Sm2PublicKey) and info["algorithm"] == "sm2"
    assert info["keyid"] == keyid(pub) == sm2.sm3_hex(pub.spki_der())
    with pytest.raises(UsageError, match="wrong passphrase"):
        load_private_key(tmp_path / "k" / "private.pem", b"not the passphrase")


def test_damaged_sm2_public_key_is_one_clear_error(tmp_path):
    info = new_keys(tmp_path / "k", "sm2")
    pub = load_public_key(info.public_key_path)
    bad = sm2.Sm2PublicKey(pub.point[:-1] + bytes([pub.point[-1] ^ 1]))  # off the curve
    (tmp_path / "bad.pem").write_bytes(bad.public_pem())
    with pytest.raises(UsageError, match="not a valid point"):
        load_public_key(tmp_path / "bad.pem")


@needs_openssl_sm2
def test_openssl_reads_benchseal_keys_and_benchseal_reads_openssls(tmp_path):
    info = new_keys(tmp_path / "k", "sm2")
    env = dict(os.environ, PW=PASSPHRASE)
    # OpenSSL decrypts benchseal's private key and derives the same public key
    derived = _openssl("pkey", "-in", info.private_key_path, "-passin", "env:PW", "-pubout", env=env).stdout
    assert derived == info.public_key_path.read_bytes()
    der_pub = _openssl("pkey", "-pubin", "-in", info.public_key_path, "-outform", "DER").stdout
    (tmp_path / "pub.der").write_bytes(der_pub)
    line = _openssl("dgst", "-sm3", "-r", tmp_path / "pub.der").stdout.decode()
    assert line.split()[0] == info.keyid
    # an encrypted SM2 key OpenSSL made is a benchseal signing key
    _openssl("genpkey", "-algorithm", "SM2", "-aes-256-cbc", "-pass", "env:PW", "-out", tmp_path / "ossl.pem", env=env)
    key = load_private_key(tmp_path / "ossl.pem", PASSPHRASE.encode())
    ossl_pub = _openssl("pkey", "-in", tmp_path / "ossl.pem", "-passin", "env:PW", "-pubout", env=env).stdout
    assert key.public_key().public_pem() == ossl_pub


def _pae_of(bundle) -> tuple[dict, bytes]:
    env = json.loads((bundle / layout.STATEMENT_DSSE).read_text())
    return env, pae(env["payloadType"], base64.b64decode(env["payload"]))


@needs_openssl_sm2
def test_openssl_verifies_benchseals_sm2_signature_over_the_pae(tmp_path):
    info = new_keys(tmp_path / "k", "sm2")
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, info.private_key_path, PASSPHRASE.encode(), sm2_signer_id="ALICE123@YAHOO.COM")
    env, message = _pae_of(bundle)
    (sig,) = env["signatures"]
    assert sig["extension"]["ext"] == {"algorithm": "sm2-sm3", "signer_id": "ALICE123@YAHOO.COM"}
    (tmp_path / "pae.bin").write_bytes(message)
    (tmp_path / "sig.bin").write_bytes(base64.b64decode(sig["sig"]))
    args = ["pkeyutl", "-verify", "-pubin", "-inkey", info.public_key_path, "-rawin", "-digest", "sm3",
            "-in", tmp_path / "pae.bin", "-sigfile", tmp_path / "sig.bin"]
    ok = _openssl(*args, "-pkeyopt", "distid:ALICE123@YAHOO.COM", check=False)
    assert ok.returncode == 0 and b"Signature Verified Successfully" in ok.stdout, ok.stderr
    wrong_id = _openssl(*args, "-pkeyopt", "distid:1234567812345678", check=False)
    assert wrong_id.returncode != 0


@needs_openssl_sm2
def test_benchseal_verifies_an_sm2_signature_the_openssl_cli_made(run_cli, tmp_path):
    env_vars = dict(os.environ, PW=PASSPHRASE)
    keys = tmp_path / "ossl"
    keys.mkdir()
    _openssl("genpkey", "-algorithm", "SM2", "-aes-256-cbc", "-pass", "env:PW", "-out", keys / "private.pem", env=env_vars)
    _openssl("pkey", "-in", keys / "private.pem", "-passin", "env:PW", "-pubout", "-out", keys / "public.pem", env=env_vars)
    bundle = verifiable_bundle(tmp_path / "bundle")
    sign_bundle(bundle, keys / "private.pem", PASSPHRASE.encode())  # writes statement.json and the envelope layout
    for name in (layout.STATEMENT_DSSE, layout.TEST_RESULT_DSSE):  # replace benchseal's signatures by OpenSSL's
        env = json.loads((bundle / name).read_text())
        (tmp_path / "pae.bin").write_bytes(pae(env["payloadType"], base64.b64decode(env["payload"])))
        _openssl("pkeyutl", "-sign", "-inkey", keys / "private.pem", "-passin", "env:PW", "-rawin", "-digest", "sm3",
                 "-in", tmp_path / "pae.bin", "-out", tmp_path / "sig.bin", "-pkeyopt", "distid:1234567812345678",
                 env=env_vars)
        ossl_sig = (tmp_path / "sig.bin").read_bytes()
        assert b64encode(ossl_sig) != env["signatures"][0]["sig"]
        env["signatures"][0]["sig"] = b64encode(ossl_sig)
        (bundle / name).write_bytes(envelope_bytes(env))
    code, out, err = run_cli("verify", bundle, "--key", keys / "public.pem", "--json")
    report = json.loads(out)
    assert code == 0 and report["ok"], [c for c in report["checks"] if not c["ok"]]
    sig_check = next(c for c in report["checks"] if c["name"] == "signature")
    assert "sm2" in sig_check["detail"]
    # a signature made with another signer ID than the envelope names fails
    env = json.loads((bundle / layout.STATEMENT_DSSE).read_text())
    env["signatures"][0]["extension"]["ext"]["signer_id"] = "ALICE123@YAHOO.COM"
    (bundle / layout.STATEMENT_DSSE).write_bytes(envelope_bytes(env))
    code, out, _ = run_cli("verify", bundle, "--key", keys / "public.pem", "--json")
    assert code == ExitCode.FAILED
    assert "does not verify" in next(c for c in json.loads(out)["checks"] if c["name"] == "signature")["detail"]


def test_sm2_signature_without_its_signer_id_fails(tmp_path):
    from benchseal.reports.seal.dsse import check_signatures, sign_envelope

    info = new_keys(tmp_path / "k", "sm2")
    key = load_private_key(info.private_key_path, PASSPHRASE.encode())
    env = sign_envelope(b'{"a":1}', "application/vnd.in-toto+json", key, info.keyid)
    trusted = {info.keyid: key.public_key()}
    assert [r.verified for r in check_signatures(env, trusted)[1]] == [True]
    del env["signatures"][0]["extension"]
    (result,) = check_signatures(env, trusted)[1]
    assert not result.verified and "without its signer ID" in result.detail


def test_sign_refuses_a_bad_signer_id(run_cli, tmp_path):
    info = new_keys(tmp_path / "k", "sm2")
    bundle = verifiable_bundle(tmp_path / "bundle")
    code, _, err = run_cli("sign", bundle, "--key", info.private_key_path, "--sm2-signer-id", "")
    assert code == ExitCode.BAD_INPUT and "signer ID" in err
    assert not (bundle / layout.STATEMENT_DSSE).exists()


@pytest.mark.parametrize("data", [
    b"\x30\x81\x02\x02\x00",          # a length in long form that fits the short form
    b"\x30\x03\x02\x01\x01\x00",      # trailing byte after the value
    b"\x30\x05\x02\x01",              # truncated
    b"\x1f\x01\x00",                  # a multi-byte tag
])
def test_der_reader_is_strict(data):
    from benchseal.reports.seal import der

    with pytest.raises(der.DerError):
        der.parse(data).children()


def test_non_minimal_or_negative_integers_in_a_signature_do_not_verify():
    key = sm2.Sm2PrivateKey.generate()
    sig = key.sign(b"m")
    r, s = _der_rs(sig)
    from benchseal.reports.seal import der

    padded = der.seq(der.tlv(der.INTEGER, b"\x00" + der.integer(r)[2:]), der.integer(s))  # one zero byte too many
    assert key.public_key().verify(sig, b"m", "1234567812345678")
    assert not key.public_key().verify(padded, b"m", "1234567812345678")
    negative = der.tlv(der.SEQUENCE, der.tlv(der.INTEGER, b"\xff" + r.to_bytes(32, "big")) + der.integer(s))
    assert not key.public_key().verify(negative, b"m", "1234567812345678")
    n = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123
    assert not key.public_key().verify(der.seq(der.integer(r + n), der.integer(s)), b"m", "1234567812345678")


def test_hostile_sm2_key_files_are_one_sentence(tmp_path):
    from benchseal.reports.seal import der

    spki = der.seq(der.seq(der.oid(sm2.EC_PUBLIC_KEY), der.oid(sm2.SM2_CURVE)), der.bits(b"\x04" + b"\x00" * 64))
    (tmp_path / "zero.pem").write_bytes(der.pem("PUBLIC KEY", spki))
    with pytest.raises(UsageError, match="not a valid point"):
        load_public_key(tmp_path / "zero.pem")
    short = der.seq(der.seq(der.oid(sm2.EC_PUBLIC_KEY), der.oid(sm2.SM2_CURVE)), der.bits(b"\x04\x01"))
    (tmp_path / "short.pem").write_bytes(der.pem("PUBLIC KEY", short))
    with pytest.raises(UsageError, match="SM2 public key"):
        load_public_key(tmp_path / "short.pem")
    info = new_keys(tmp_path / "k", "sm2")
    text = info.private_key_path.read_text().splitlines()
    text[3] = text[3][:-4] + ("AAAA" if text[3][-4:] != "AAAA" else "BBBB")  # damage the ciphertext
    (tmp_path / "damaged.pem").write_text("\n".join(text) + "\n")
    with pytest.raises(UsageError, match="wrong passphrase|cannot be read|unsupported"):
        load_private_key(tmp_path / "damaged.pem", PASSPHRASE.encode())
