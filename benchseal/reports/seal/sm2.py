"""SM2 signatures over SM3 (GB/T 32918 / GM/T 0003, the signer ID of GM/T 0009) and their key files.

The arithmetic is the ``gmalg`` library's (pure Python, no dependencies; why this library:
docs/verification.md). This module adds the key files OpenSSL reads and writes, so a lab can check
everything with the OpenSSL CLI:

- public key: SubjectPublicKeyInfo {id-ecPublicKey, namedCurve SM2 (1.2.156.10197.1.301)}, the
  uncompressed point (``openssl pkey -pubin -in public.pem -text`` shows it as an SM2 key);
- private key: PKCS#8 PrivateKeyInfo holding an RFC 5915 ECPrivateKey, encrypted as PKCS#8
  EncryptedPrivateKeyInfo with PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), what
  ``openssl genpkey -algorithm SM2 -aes-256-cbc`` writes; ``openssl pkey -in private.pem`` opens it;
- signature: DER SEQUENCE {r, s}, what ``openssl pkeyutl -sign -digest sm3`` writes, made over
  e = SM3(Z_A || M) with Z_A computed from the signer ID and the public key (GB/T 32918.2 §6.1).

The key id is the SM3 hex digest of the DER SubjectPublicKeyInfo
(``openssl pkey -pubin -in public.pem -outform DER | openssl dgst -sm3``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass

from benchseal.reports.seal import der

DEFAULT_SIGNER_ID = "1234567812345678"  # GM/T 0009-2012 §10 (OpenSSL's SM2_DEFAULT_USERID)
ALGORITHM = "sm2-sm3"
EC_PUBLIC_KEY = "1.2.840.10045.2.1"
SM2_CURVE = "1.2.156.10197.1.301"
PBES2, PBKDF2 = "1.2.840.113549.1.5.13", "1.2.840.113549.1.5.12"
_PRFS = {"1.2.840.113549.2.9": "sha256", "1.2.840.113549.2.7": "sha1", "1.2.840.113549.2.10": "sha384",
         "1.2.840.113549.2.11": "sha512"}
_CIPHERS = {"2.16.840.1.101.3.4.1.42": 32, "2.16.840.1.101.3.4.1.22": 24, "2.16.840.1.101.3.4.1.2": 16}  # AES-CBC
_AES256_CBC = "2.16.840.1.101.3.4.1.42"
PBKDF2_ITERATIONS = 600_000  # OWASP's 2023 figure for PBKDF2-HMAC-SHA256
_N = 0xFFFFFFFEFFFFFFFFFFFFFFFFFFFFFFFF7203DF6B21C6052B53BBF40939D54123  # the order of the SM2 base point


class Sm2KeyError(ValueError):
    """A key file that is not an SM2 key of the expected form (the message says why)."""


class WrongPassphrase(Sm2KeyError):
    pass


def sm3_hex(data: bytes) -> str:
    from cryptography.hazmat.primitives import hashes

    h = hashes.Hash(hashes.SM3())
    h.update(data)
    return h.finalize().hex()


def check_signer_id(signer_id: str) -> bytes:
    """The signer ID as bytes: printable ASCII, 1 to 8191 bytes (ENTL is a 16-bit bit count)."""
    if not isinstance(signer_id, str) or not signer_id or not signer_id.isascii() or not signer_id.isprintable():
        raise ValueError("the SM2 signer ID must be non-empty printable ASCII text")
    if len(signer_id) >= 8192:
        raise ValueError("the SM2 signer ID must be shorter than 8192 bytes")
    return signer_id.encode("ascii")


def _gmalg():
    import gmalg

    return gmalg


@dataclass(frozen=True)
class Sm2PublicKey:
    point: bytes  # 04 || x || y, 65 bytes

    @classmethod
    def from_point(cls, point: bytes) -> "Sm2PublicKey":
        if len(point) != 65 or point[0] != 4:
            raise Sm2KeyError("the SM2 public key is not an uncompressed point")
        if not _gmalg().SM2().verify_pk(point):
            raise Sm2KeyError("the SM2 public key is not a valid point of the SM2 curve")
        return cls(point)

    def spki_der(self) -> bytes:
        return der.seq(der.seq(der.oid(EC_PUBLIC_KEY), der.oid(SM2_CURVE)), der.bits(self.point))

    def public_pem(self) -> bytes:
        return der.pem("PUBLIC KEY", self.spki_der())

    def keyid(self) -> str:
        return sm3_hex(self.spki_der())

    def verify(self, signature: bytes, data: bytes, signer_id: str) -> bool:
        try:
            uid = check_signer_id(signer_id)
            node = der.parse(signature).expect(der.SEQUENCE)
            parts = node.children()
            if len(parts) != 2:
                return False
            r, s = parts[0].int(), parts[1].int()
        except ValueError:
            return False
        if not (1 <= r < _N and 1 <= s < _N):
            return False
        return bool(_gmalg().SM2(uid=uid, pk=self.point).verify(data, r.to_bytes(32, "big"), s.to_bytes(32, "big")))


@dataclass(frozen=True)
class Sm2PrivateKey:
    d: int
    point: bytes

    def __repr__(self) -> str:  # never print the scalar
        return f"Sm2PrivateKey(keyid={self.public_key().keyid()[:16]}…)"

    @classmethod
    def generate(cls) -> "Sm2PrivateKey":
        sk, pk = _gmalg().SM2().generate_keypair()
        return cls(int.from_bytes(sk, "big"), pk)

    @classmethod
    def from_scalar(cls, d: int) -> "Sm2PrivateKey":
        if not 1 <= d <= _N - 2:
            raise Sm2KeyError("the SM2 private key is out of range")
        return cls(d, _gmalg().SM2().generate_pk(d.to_bytes(32, "big")))

    def public_key(self) -> Sm2PublicKey:
        return Sm2PublicKey(self.point)

    def sign(self, data: bytes, signer_id: str = DEFAULT_SIGNER_ID) -> bytes:
        """DER SEQUENCE {r, s} of the SM2 signature over SM3(Z_A || data); the nonce from ``secrets``."""
        uid = check_signer_id(signer_id)
        r, s = _gmalg().SM2(self.d.to_bytes(32, "big"), uid, self.point).sign(data)
        return der.seq(der.integer(int.from_bytes(r, "big")), der.integer(int.from_bytes(s, "big")))

    def pkcs8_der(self) -> bytes:
        ec_private = der.seq(der.integer(1), der.octets(self.d.to_bytes(32, "big")), der.tlv(0xA1, der.bits(self.point)))
        return der.seq(der.integer(0), der.seq(der.oid(EC_PUBLIC_KEY), der.oid(SM2_CURVE)), der.octets(ec_private))

    def encrypted_pem(self, passphrase: bytes) -> bytes:
        """PKCS#8 EncryptedPrivateKeyInfo, PBES2 (PBKDF2-HMAC-SHA256, AES-256-CBC), as PEM."""
        salt, iv = os.urandom(16), os.urandom(16)
        key = _pbkdf2(passphrase, salt, PBKDF2_ITERATIONS, 32, "sha256")
        body = _aes_cbc(key, iv, _pad(self.pkcs8_der()), encrypt=True)
        params = der.seq(
            der.seq(der.oid(PBKDF2), der.seq(der.octets(salt), der.integer(PBKDF2_ITERATIONS),
                                              der.seq(der.oid("1.2.840.113549.2.9"), der.null()))),
            der.seq(der.oid(_AES256_CBC), der.octets(iv)),
        )
        return der.pem("ENCRYPTED PRIVATE KEY", der.seq(der.seq(der.oid(PBES2), params), der.octets(body)))


# ------------------------------------------------------------------------------------------------
def _pbkdf2(passphrase: bytes, salt: bytes, iterations: int, length: int, prf: str) -> bytes:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.pbkdf2 import PBKDF2HMAC

    algo = {"sha256": hashes.SHA256, "sha1": hashes.SHA1, "sha384": hashes.SHA384, "sha512": hashes.SHA512}[prf]()
    return PBKDF2HMAC(algorithm=algo, length=length, salt=salt, iterations=iterations).derive(passphrase)


def _aes_cbc(key: bytes, iv: bytes, data: bytes, *, encrypt: bool) -> bytes:
    from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

    c = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = c.encryptor() if encrypt else c.decryptor()
    return op.update(data) + op.finalize()


def _pad(data: bytes) -> bytes:
    n = 16 - len(data) % 16
    return data + bytes([n]) * n


def _unpad(data: bytes) -> bytes:
    n = data[-1] if data else 0
    if not 1 <= n <= 16 or data[-n:] != bytes([n]) * n:
        raise WrongPassphrase("wrong passphrase (or a damaged key file)")
    return data[:-n]


def _curve_of(alg: der.Node) -> str:
    parts = alg.expect(der.SEQUENCE).children()
    if len(parts) != 2 or parts[0].oid() != EC_PUBLIC_KEY:
        raise Sm2KeyError("not an elliptic-curve key")
    return parts[1].oid() if parts[1].tag == der.OID else "explicit parameters"


def is_sm2_public_der(spki: bytes) -> bool:
    try:
        return _curve_of(der.parse(spki).children()[0]) == SM2_CURVE
    except (ValueError, IndexError):
        return False


def load_public_der(spki: bytes) -> Sm2PublicKey:
    try:
        parts = der.parse(spki).expect(der.SEQUENCE).children()
        if len(parts) != 2 or _curve_of(parts[0]) != SM2_CURVE:
            raise Sm2KeyError("not an SM2 public key")
        return Sm2PublicKey.from_point(parts[1].bits())
    except der.DerError as exc:
        raise Sm2KeyError(f"not a DER SubjectPublicKeyInfo ({exc})") from None


def load_public_pem(data: bytes) -> Sm2PublicKey:
    return load_public_der(der.unpem(data, "PUBLIC KEY"))


def _decrypt_pkcs8(blob: bytes, passphrase: bytes) -> bytes:
    outer = der.parse(blob).expect(der.SEQUENCE).children()
    if len(outer) != 2:
        raise Sm2KeyError("not a PKCS#8 EncryptedPrivateKeyInfo")
    alg = outer[0].children()
    if alg[0].oid() != PBES2 or len(alg) != 2:
        raise Sm2KeyError("the private key is not encrypted with PBES2")
    kdf, scheme = alg[1].children()
    kdf_parts = kdf.children()
    if kdf_parts[0].oid() != PBKDF2:
        raise Sm2KeyError("the private key's key derivation is not PBKDF2")
    p = kdf_parts[1].children()
    salt, iterations, rest = p[0].octets(), p[1].int(), p[2:]
    if rest and rest[0].tag == der.INTEGER:
        rest = rest[1:]  # keyLength: implied by the cipher
    prf = _PRFS.get(rest[0].children()[0].oid()) if rest else "sha1"
    scheme_parts = scheme.children()
    key_len = _CIPHERS.get(scheme_parts[0].oid())
    if prf is None or key_len is None or not 1 <= iterations <= 10_000_000:
        raise Sm2KeyError("the private key is encrypted with an algorithm benchseal does not read "
                          "(it reads PBKDF2 with HMAC-SHA1/256/384/512 and AES-CBC)")
    iv = scheme_parts[1].octets()
    body = outer[1].octets()
    if len(iv) != 16 or not body or len(body) % 16:
        raise Sm2KeyError("the encrypted private key is damaged")
    return _unpad(_aes_cbc(_pbkdf2(passphrase, salt, iterations, key_len, prf), iv, body, encrypt=False))


def load_private_pem(data: bytes, passphrase: bytes) -> Sm2PrivateKey:
    """An encrypted PKCS#8 SM2 private key; WrongPassphrase or Sm2KeyError when it cannot be read."""
    try:
        plain = _decrypt_pkcs8(der.unpem(data, "ENCRYPTED PRIVATE KEY"), passphrase)
    except (der.DerError, IndexError):
        raise Sm2KeyError("the encrypted private key is not PKCS#8 DER") from None
    try:
        info = der.parse(plain).expect(der.SEQUENCE).children()
    except der.DerError:
        raise WrongPassphrase("wrong passphrase (or a damaged key file)") from None
    try:
        if info[0].int() != 0 or _curve_of(info[1]) != SM2_CURVE:
            raise Sm2KeyError("not an SM2 private key")
        ec = der.parse(info[2].octets()).expect(der.SEQUENCE).children()
        if ec[0].int() != 1 or len(ec[1].octets()) != 32:
            raise Sm2KeyError("not an RFC 5915 EC private key")
        key = Sm2PrivateKey.from_scalar(int.from_bytes(ec[1].octets(), "big"))
    except (der.DerError, IndexError):
        raise Sm2KeyError("the decrypted private key is not an SM2 PrivateKeyInfo") from None
    stored = [n for n in ec[2:] if n.tag == 0xA1]
    if stored and der.parse(stored[0].body).bits() != key.point:
        raise Sm2KeyError("the private key's stored public key does not match its private scalar")
    return key


def is_sm2_key(key: object) -> bool:
    return isinstance(key, (Sm2PrivateKey, Sm2PublicKey))
