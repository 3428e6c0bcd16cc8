"""Signing keys: generation, encrypted storage, loading, key ids, and passphrases.

Private keys are PKCS#8 PEM encrypted with the best available scheme and written with mode 0600;
they are never written unencrypted. The passphrase comes from an environment variable (default
``BENCHSEAL_KEY_PASSPHRASE``) or an interactive prompt, and is never written or logged. The key id
is the lowercase sha256 hex digest of the DER SubjectPublicKeyInfo, the same value
``openssl pkey -pubin -in public.pem -outform DER | sha256sum`` prints; for an SM2 key it is the
SM3 digest of the same bytes (``... | openssl dgst -sm3``). SM2 keys are
:class:`benchseal.reports.seal.sm2.Sm2PrivateKey` / ``Sm2PublicKey`` (``cryptography`` has no SM2).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from benchseal.errors import UsageError
from benchseal.io import write_bytes_atomic
from benchseal.redact import register_secret

Algorithm = Literal["ecdsa-p256", "ed25519", "sm2"]
ALGORITHMS: tuple[str, ...] = ("ecdsa-p256", "ed25519", "sm2")
DEFAULT_PASSPHRASE_ENV = "BENCHSEAL_KEY_PASSPHRASE"
PRIVATE_KEY_FILE = "private.pem"
PUBLIC_KEY_FILE = "public.pem"


@dataclass(frozen=True)
class KeyInfo:
    algorithm: str
    keyid: str
    private_key_path: Path
    public_key_path: Path


def _generate(algorithm: str):
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    if algorithm == "ecdsa-p256":
        return ec.generate_private_key(ec.SECP256R1())
    if algorithm == "ed25519":
        return ed25519.Ed25519PrivateKey.generate()
    if algorithm == "sm2":
        from benchseal.reports.seal.sm2 import Sm2PrivateKey

        return Sm2PrivateKey.generate()
    raise UsageError(f"unknown key algorithm {algorithm!r}", hint=f"use one of: {', '.join(ALGORITHMS)}")


def key_algorithm(key: Any) -> str:
    """'ecdsa-p256', 'ed25519' or 'sm2' for a supported public or private key; UsageError otherwise."""
    from cryptography.hazmat.primitives.asymmetric import ec, ed25519

    from benchseal.reports.seal.sm2 import is_sm2_key

    if is_sm2_key(key):
        return "sm2"

    if isinstance(key, (ec.EllipticCurvePrivateKey, ec.EllipticCurvePublicKey)):
        if isinstance(key.curve, ec.SECP256R1):
            return "ecdsa-p256"
        raise UsageError(f"ECDSA keys must use curve P-256, this one uses {key.curve.name}", hint="create a key with: benchseal keygen")
    if isinstance(key, (ed25519.Ed25519PrivateKey, ed25519.Ed25519PublicKey)):
        return "ed25519"
    raise UsageError(f"unsupported key type {type(key).__name__}", hint="use an ECDSA P-256, Ed25519 or SM2 key (benchseal keygen)")


def keyid(public_key: Any) -> str:
    """sha256 hex of the DER-encoded SubjectPublicKeyInfo (SM3 hex for an SM2 key)."""
    from cryptography.hazmat.primitives import serialization

    from benchseal.reports.seal.sm2 import Sm2PublicKey

    if isinstance(public_key, Sm2PublicKey):
        return public_key.keyid()

    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(der).hexdigest()


def _write_new(path: Path, data: bytes, mode: int) -> None:
    """Create ``path`` with ``mode`` (no window where it is world-readable: :func:`write_bytes_atomic`)."""
    write_bytes_atomic(path, data, mode=mode)


def generate_keypair(out_dir: Path, *, algorithm: Algorithm = "ecdsa-p256", passphrase: bytes, overwrite: bool = False) -> KeyInfo:
    """Write ``private.pem`` (PKCS#8, encrypted, mode 0600) and ``public.pem`` into ``out_dir``."""
    from cryptography.hazmat.primitives import serialization

    if not passphrase:
        raise UsageError("the passphrase for the new private key is empty", hint=f"set {DEFAULT_PASSPHRASE_ENV} to a non-empty passphrase")
    out_dir = Path(out_dir)
    priv_path, pub_path = out_dir / PRIVATE_KEY_FILE, out_dir / PUBLIC_KEY_FILE
    if out_dir.exists() and not out_dir.is_dir():
        raise UsageError("--out names a file, not a directory", where=str(out_dir), hint="choose a directory for the key pair")
    if not overwrite and (priv_path.exists() or pub_path.exists()):
        raise UsageError("a key pair already exists here", where=str(out_dir), hint="choose another --out directory or remove the old keys first")
    key = _generate(algorithm)
    if algorithm == "sm2":
        priv_pem, pub_pem = key.encrypted_pem(passphrase), key.public_key().public_pem()
    else:
        priv_pem = key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(passphrase),
        )
        pub_pem = key.public_key().public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
        _write_new(priv_path, priv_pem, 0o600)
        _write_new(pub_path, pub_pem, 0o644)
    except OSError as exc:
        for p in (priv_path, pub_path):  # nothing half-written
            with contextlib.suppress(OSError):
                if p.is_file() and not overwrite:
                    p.unlink()
        raise UsageError(f"cannot write the key pair: {exc.strerror or exc}", where=str(out_dir),
                         hint="choose a directory you can write to with --out") from None
    return KeyInfo(algorithm=algorithm, keyid=keyid(key.public_key()), private_key_path=priv_path, public_key_path=pub_path)


_MAX_KEY_FILE = 1 << 20  # a PEM key is a few hundred bytes


def _read(path: Path, what: str) -> bytes:
    """The bytes of a key file; a FIFO, device or directory is refused without reading (no hang)."""
    import stat

    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOCTTY", 0))
    except FileNotFoundError:
        raise UsageError(f"{what} file not found", where=str(path)) from None
    except OSError as exc:
        raise UsageError(f"cannot read the {what} file: {exc.strerror or exc}", where=str(path)) from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise UsageError(f"the {what} path is not a regular file", where=str(path),
                             hint="pass the .pem file written by benchseal keygen")
        if st.st_size > _MAX_KEY_FILE:
            raise UsageError(f"the {what} file is too large to be a key ({st.st_size} bytes)", where=str(path))
        chunks, left = [], _MAX_KEY_FILE + 1
        while left > 0:
            try:
                chunk = os.read(fd, min(65536, left))
            except OSError as exc:
                raise UsageError(f"cannot read the {what} file: {exc.strerror or exc}", where=str(path)) from None
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks)
    finally:
        os.close(fd)


def load_private_key(path: Path, passphrase: bytes):
    """Load an encrypted PKCS#8 private key; a wrong passphrase or an unencrypted key is a UsageError."""
    from cryptography.hazmat.primitives import serialization

    data = _read(path, "private key")
    if b"PRIVATE KEY" not in data:
        raise UsageError("not a PEM private key", where=str(path), hint="pass the private.pem written by benchseal keygen")
    if b"ENCRYPTED PRIVATE KEY" not in data:
        raise UsageError("the private key is not encrypted", where=str(path), hint="create an encrypted key with benchseal keygen")
    from cryptography.exceptions import UnsupportedAlgorithm

    try:
        key = serialization.load_pem_private_key(data, password=passphrase or None)
    except UnsupportedAlgorithm:  # perhaps the SM2 curve, which cryptography does not know: benchseal reads it itself
        key = _load_sm2_private(data, path, passphrase)
        if key is not None:
            return key
        raise UsageError("the private key uses an unsupported algorithm (or the key file is damaged)", where=str(path),
                         hint="create an ECDSA P-256, Ed25519 or SM2 key with benchseal keygen") from None
    except TypeError:
        raise UsageError("the private key needs a passphrase and none was given", where=str(path), hint=f"set {DEFAULT_PASSPHRASE_ENV}") from None
    except ValueError:
        raise UsageError(
            "wrong passphrase for the private key (or the key file is damaged)",
            where=str(path),
            hint=f"check the passphrase in {DEFAULT_PASSPHRASE_ENV} or the variable named by --passphrase-env",
        ) from None
    key_algorithm(key)
    return key


def _load_sm2_private(data: bytes, path: Path, passphrase: bytes):
    from benchseal.reports.seal.sm2 import Sm2KeyError, WrongPassphrase, load_private_pem

    try:
        return load_private_pem(data, passphrase)
    except WrongPassphrase:
        raise UsageError(
            "wrong passphrase for the private key (or the key file is damaged)",
            where=str(path),
            hint=f"check the passphrase in {DEFAULT_PASSPHRASE_ENV} or the variable named by --passphrase-env",
        ) from None
    except Sm2KeyError:
        return None  # not SM2 either: the caller says the algorithm is unsupported


def load_public_key(path: Path):
    """Load a PEM SubjectPublicKeyInfo public key (ECDSA P-256, Ed25519 or SM2)."""
    from cryptography.hazmat.primitives import serialization

    from cryptography.exceptions import UnsupportedAlgorithm

    data = _read(path, "public key")
    from benchseal.reports.seal import der, sm2

    try:
        spki = der.unpem(data, "PUBLIC KEY")
    except ValueError:
        spki = b""
    if sm2.is_sm2_public_der(spki):  # cryptography has no SM2
        try:
            return sm2.load_public_der(spki)
        except sm2.Sm2KeyError as exc:
            raise UsageError(f"the SM2 public key cannot be read: {exc}", where=str(path)) from None
    try:
        key = serialization.load_pem_public_key(data)
    except (ValueError, UnsupportedAlgorithm):
        hint = "pass public.pem, not the private key" if b"PRIVATE KEY" in data else "pass a PEM public key (public.pem from benchseal keygen)"
        raise UsageError("not a readable PEM public key", where=str(path), hint=hint) from None
    key_algorithm(key)
    return key


def load_trusted_keys(public_keys: list[Path] | None = None, trusted_dir: Path | None = None) -> dict[str, Any]:
    """keyid -> public key, from explicit files and every public-key ``*.pem``/``*.pub`` in ``trusted_dir``.

    Private key files in the directory are ignored (a keygen output directory can be used as is).
    """
    keys: dict[str, Any] = {}
    paths = [Path(p) for p in public_keys or []]
    if trusted_dir is not None:
        trusted_dir = Path(trusted_dir)
        if not trusted_dir.is_dir():
            raise UsageError("trusted keys directory not found", where=str(trusted_dir))
        for p in sorted(trusted_dir.iterdir()):
            if p.is_file() and p.suffix in (".pem", ".pub") and b"PRIVATE KEY" not in _read(p, "public key"):
                paths.append(p)
        if not paths:
            raise UsageError("no public keys (*.pem, *.pub) in the trusted keys directory", where=str(trusted_dir))
    for p in paths:
        key = load_public_key(p)
        keys[keyid(key)] = key
    return keys


def resolve_passphrase(env_var: str | None = None, *, confirm: bool = False, prompt: str = "Key passphrase: ") -> bytes:
    """The passphrase from ``env_var`` (or BENCHSEAL_KEY_PASSPHRASE), else an interactive prompt.

    An explicitly named variable that is unset is an error; the prompt is used only on a TTY.
    """
    name = env_var or DEFAULT_PASSPHRASE_ENV
    value = os.environ.get(name)
    if value is None and env_var:
        raise UsageError(f"the environment variable {env_var} named by --passphrase-env is not set", hint="export it with the key passphrase")
    if value is None:
        if not sys.stdin.isatty():
            raise UsageError(
                "no key passphrase given",
                hint=f"set {DEFAULT_PASSPHRASE_ENV}, or name another variable with --passphrase-env, or run in a terminal to be prompted",
            )
        import getpass

        value = getpass.getpass(prompt)
        if confirm and getpass.getpass("Repeat passphrase: ") != value:
            raise UsageError("the two passphrases differ", hint="run the command again")
    if not value:
        raise UsageError(f"the key passphrase in {name} is empty", hint="use a non-empty passphrase")
    try:
        data = value.encode("utf-8")
    except UnicodeEncodeError:  # bytes that are not UTF-8 (os.environ keeps them as surrogates)
        register_secret(os.fsencode(value))
        raise UsageError(f"the key passphrase in {name} is not valid UTF-8 text",
                         hint="use a passphrase of UTF-8 characters") from None
    register_secret(data)  # scrubbed from anything benchseal writes or prints
    return data
