"""benchseal keygen and key handling: every algorithm (SM2 too), encrypted storage, passphrases, key ids."""

from __future__ import annotations

import json
import shutil
import stat
import subprocess

import pytest

from benchseal.errors import ExitCode, UsageError
from benchseal.reports.seal.keys import generate_keypair, keyid, load_private_key, load_public_key, load_trusted_keys

PASS = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _passphrase(monkeypatch):
    monkeypatch.setenv("BENCHSEAL_KEY_PASSPHRASE", PASS)


@pytest.mark.parametrize("algorithm", ["ecdsa-p256", "ed25519", "sm2"])
def test_keygen_cli_writes_encrypted_private_and_public_key(run_cli, tmp_path, algorithm):
    code, out, err = run_cli("keygen", "--out", tmp_path / "k", "--algorithm", algorithm, "--json")
    assert code == 0, err
    info = json.loads(out)
    priv, pub = tmp_path / "k" / "private.pem", tmp_path / "k" / "public.pem"
    assert info["algorithm"] == algorithm and info["private_key"] == str(priv)
    assert stat.S_IMODE(priv.stat().st_mode) == 0o600
    text = priv.read_text()
    assert text.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    assert PASS not in text and PASS not in out
    key = load_private_key(priv, PASS.encode())
    assert keyid(key.public_key()) == keyid(load_public_key(pub)) == info["keyid"]
    assert len(info["keyid"]) == 64 and int(info["keyid"], 16) >= 0


def test_private_key_is_not_loadable_without_or_with_wrong_passphrase(tmp_path):
    from cryptography.hazmat.primitives import serialization

    info = generate_keypair(tmp_path, passphrase=PASS.encode())
    data = info.private_key_path.read_bytes()
    with pytest.raises(TypeError):
        serialization.load_pem_private_key(data, password=None)
    with pytest.raises(ValueError):
        serialization.load_pem_private_key(data, password=b"wrong")
    with pytest.raises(UsageError, match="wrong passphrase"):
        load_private_key(info.private_key_path, b"wrong")


def test_keyid_is_sha256_of_der_spki_as_openssl_computes_it(tmp_path):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    info = generate_keypair(tmp_path, algorithm="ed25519", passphrase=b"x")
    der = subprocess.run(
        ["openssl", "pkey", "-pubin", "-in", str(info.public_key_path), "-outform", "DER"], capture_output=True, check=True
    ).stdout
    import hashlib

    assert hashlib.sha256(der).hexdigest() == info.keyid


def test_keygen_refuses_to_overwrite_and_needs_a_passphrase(run_cli, tmp_path, monkeypatch):
    assert run_cli("keygen", "--out", tmp_path)[0] == 0
    code, _, err = run_cli("keygen", "--out", tmp_path)
    assert code == ExitCode.BAD_INPUT and "already exists" in err
    code, _, err = run_cli("keygen", "--out", tmp_path / "b", "--passphrase-env", "NO_SUCH_VAR_XYZ")
    assert code == ExitCode.BAD_INPUT and "NO_SUCH_VAR_XYZ" in err and "not set" in err
    monkeypatch.delenv("BENCHSEAL_KEY_PASSPHRASE")
    code, _, err = run_cli("keygen", "--out", tmp_path / "c")  # stdin is not a TTY under pytest
    assert code == ExitCode.BAD_INPUT and "BENCHSEAL_KEY_PASSPHRASE" in err
    monkeypatch.setenv("EMPTY_PASS", "")
    code, _, err = run_cli("keygen", "--out", tmp_path / "d", "--passphrase-env", "EMPTY_PASS")
    assert code == ExitCode.BAD_INPUT and "empty" in err
    assert not (tmp_path / "c").exists() and not (tmp_path / "d").exists()


def test_passphrase_env_option_is_used(run_cli, tmp_path, monkeypatch):
    monkeypatch.setenv("MY_KEY_PASS", "other secret")
    assert run_cli("keygen", "--out", tmp_path, "--passphrase-env", "MY_KEY_PASS")[0] == 0
    load_private_key(tmp_path / "private.pem", b"other secret")
    with pytest.raises(UsageError):
        load_private_key(tmp_path / "private.pem", PASS.encode())


def test_key_loading_errors_are_clear(tmp_path):
    info = generate_keypair(tmp_path, passphrase=b"p")
    with pytest.raises(UsageError, match="not a readable PEM public key"):
        load_public_key(info.private_key_path)
    with pytest.raises(UsageError, match="not found"):
        load_public_key(tmp_path / "missing.pem")
    # an unencrypted private key is refused
    from cryptography.hazmat.primitives import serialization

    plain = load_private_key(info.private_key_path, b"p").private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    (tmp_path / "plain.pem").write_bytes(plain)
    with pytest.raises(UsageError, match="not encrypted"):
        load_private_key(tmp_path / "plain.pem", b"p")
    # other curves are refused
    from cryptography.hazmat.primitives.asymmetric import ec

    p384 = ec.generate_private_key(ec.SECP384R1()).public_key()
    (tmp_path / "p384.pub").write_bytes(p384.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo))
    with pytest.raises(UsageError, match="P-256"):
        load_public_key(tmp_path / "p384.pub")


def test_trusted_keys_dir_skips_private_keys(tmp_path):
    a = generate_keypair(tmp_path / "a", passphrase=b"p")
    b = generate_keypair(tmp_path / "b", algorithm="ed25519", passphrase=b"p")
    trusted = tmp_path / "trusted"
    trusted.mkdir()
    shutil.copy(a.public_key_path, trusted / "alice.pem")
    shutil.copy(b.public_key_path, trusted / "bob.pub")
    shutil.copy(a.private_key_path, trusted / "private.pem")
    assert set(load_trusted_keys(None, trusted)) == {a.keyid, b.keyid}
    only_private = tmp_path / "only-private"
    only_private.mkdir()
    shutil.copy(a.private_key_path, only_private / "private.pem")
    with pytest.raises(UsageError, match="no public keys"):
        load_trusted_keys(None, only_private)
