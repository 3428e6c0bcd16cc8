"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1).

The signature covers the pre-authentication encoding (PAE), not the JSON envelope:

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where LEN is the byte length as ASCII decimal and SP one space. ECDSA P-256 signs SHA-256 of the
PAE with an ASN.1 DER signature (what ``openssl dgst -sha256 -sign`` writes); Ed25519 signs the
PAE bytes directly (RFC 8032); SM2 signs SM3(Z_A || PAE) (GB/T 32918.2) with the signer ID that
the signature's DSSE extension names (``extension.ext.signer_id``; GM/T 0009's default
``1234567812345678`` unless the signer chose another), since OpenSSL 3 and 4 default to different
IDs. ``sig`` and ``payload`` are standard base64.

An envelope may carry several signatures (``benchseal sign --key A --key B``). Each is checked on
its own; :func:`check_signatures` says which trusted keys verified, and :func:`verify_envelope`
applies the policy (at least one trusted key, or every trusted key with ``require_all``).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from benchseal.errors import VerificationFailed
from benchseal.reports.seal.canonical import b64decode_strict, b64encode
from benchseal.reports.seal.keys import key_algorithm

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_ENVELOPE_KEYS = {"payload", "payloadType", "signatures"}
# DSSE signature extension (envelope.proto: Signature.extension {kind, ext}); what benchseal records in ext
EXTENSION_KIND = "application/vnd.benchseal.signature.v1+json"
_EXT_KEYS = {"algorithm", "signer_id", "rfc3161_timestamp"}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def _sign_raw(private_key: Any, data: bytes, *, signer_id: str | None = None) -> bytes:
    algorithm = key_algorithm(private_key)
    if algorithm == "ecdsa-p256":
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    if algorithm == "sm2":
        from benchseal.reports.seal.sm2 import DEFAULT_SIGNER_ID

        return private_key.sign(data, signer_id or DEFAULT_SIGNER_ID)
    return private_key.sign(data)


def _verify_raw(public_key: Any, signature: bytes, data: bytes, *, signer_id: str | None = None) -> bool:
    from cryptography.exceptions import InvalidSignature

    algorithm = key_algorithm(public_key)
    if algorithm == "sm2":
        return signer_id is not None and public_key.verify(signature, data, signer_id)
    try:
        if algorithm == "ecdsa-p256":
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec

            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def signature_entry(message: bytes, private_key: Any, keyid: str, *, sm2_signer_id: str | None = None) -> dict:
    """One DSSE signature object over ``message`` (the PAE); SM2 records its algorithm and signer ID."""
    entry: dict[str, Any] = {"keyid": keyid}
    if key_algorithm(private_key) == "sm2":
        from benchseal.reports.seal.sm2 import ALGORITHM, DEFAULT_SIGNER_ID

        signer_id = sm2_signer_id or DEFAULT_SIGNER_ID
        entry["extension"] = {"kind": EXTENSION_KIND, "ext": {"algorithm": ALGORITHM, "signer_id": signer_id}}
    else:
        signer_id = None
    entry["sig"] = b64encode(_sign_raw(private_key, message, signer_id=signer_id))
    return entry


def sign_envelope_keys(payload: bytes, payload_type: str, keys: Sequence[tuple[Any, str]], *,
                       sm2_signer_id: str | None = None) -> dict:
    """A DSSE envelope with one signature per (private key, keyid), in the order given."""
    message = pae(payload_type, payload)
    sigs = [signature_entry(message, key, kid, sm2_signer_id=sm2_signer_id) for key, kid in keys]
    return {"payload": b64encode(payload), "payloadType": payload_type, "signatures": sigs}


def sign_envelope(payload: bytes, payload_type: str, private_key: Any, keyid: str) -> dict:
    """A DSSE envelope with one signature over PAE(payload_type, payload)."""
    return sign_envelope_keys(payload, payload_type, [(private_key, keyid)])


@dataclass(frozen=True)
class SignatureResult:
    """What one signature of an envelope showed: by which key, whether that key is trusted, whether it verified."""

    index: int
    keyid: str | None
    algorithm: str | None  # of the trusted key it verified with (or was checked against)
    trusted: bool
    verified: bool
    detail: str

    def to_dict(self) -> dict:
        return {"index": self.index, "keyid": self.keyid, "algorithm": self.algorithm, "trusted": self.trusted,
                "verified": self.verified, "detail": self.detail}


def _extension(entry: dict, i: int) -> dict:
    ext = entry.get("extension")
    if ext is None:
        return {}
    if (not isinstance(ext, dict) or set(ext) != {"kind", "ext"} or ext.get("kind") != EXTENSION_KIND
            or not isinstance(ext.get("ext"), dict) or set(ext["ext"]) - _EXT_KEYS
            or not all(isinstance(v, str) for v in ext["ext"].values())):
        raise VerificationFailed(f"signature {i} has an extension benchseal does not know "
                                 f"(expected kind {EXTENSION_KIND!r} with string fields {', '.join(sorted(_EXT_KEYS))})")
    return ext["ext"]


def _check_one(i: int, entry: Any, public_keys: dict[str, Any], message: bytes) -> SignatureResult:
    if not isinstance(entry, dict) or set(entry) - {"keyid", "sig", "extension"} or "sig" not in entry:
        raise VerificationFailed(f"signature {i} in the envelope is malformed")
    sig = b64decode_strict(entry.get("sig"), what=f"signature {i}")
    ext = _extension(entry, i)
    kid = entry.get("keyid") or None
    if kid is not None and not isinstance(kid, str):
        raise VerificationFailed(f"signature {i} has a keyid that is not a string")
    candidates = [(kid, public_keys[kid])] if kid in public_keys else ([] if kid else list(public_keys.items()))
    if not candidates:
        return SignatureResult(i, kid, ext.get("algorithm"), False, False, f"signed by key {kid}, which is not a trusted key")
    from benchseal.reports.seal.sm2 import ALGORITHM as SM2_ALGORITHM

    for cand_id, key in candidates:
        algorithm = key_algorithm(key)
        claimed = ext.get("algorithm")
        expected = SM2_ALGORITHM if algorithm == "sm2" else algorithm
        if claimed is not None and claimed != expected:
            continue
        if algorithm == "sm2" and "signer_id" not in ext:
            if kid:
                return SignatureResult(i, kid, algorithm, True, False,
                                       "an SM2 signature without its signer ID (extension.ext.signer_id) cannot be checked")
            continue
        if _verify_raw(key, sig, message, signer_id=ext.get("signer_id")):
            sid = f" (SM2 signer ID {ext['signer_id']!r})" if algorithm == "sm2" else ""
            return SignatureResult(i, cand_id, algorithm, True, True, f"verified with trusted {algorithm} key {cand_id}{sid}")
    if kid:
        return SignatureResult(i, kid, key_algorithm(public_keys[kid]), True, False,
                               f"signature by trusted key {kid[:16]}… does not verify: the payload or signature was altered")
    return SignatureResult(i, None, None, False, False, "a signature without keyid verifies with no trusted key")


def check_signatures(envelope: Any, public_keys: dict[str, Any], *,
                     payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> tuple[bytes, list[SignatureResult]]:
    """The payload and one result per signature; VerificationFailed when the envelope itself is malformed."""
    if not isinstance(envelope, dict):
        raise VerificationFailed("the envelope is not a JSON object")
    unknown = set(envelope) - _ENVELOPE_KEYS
    if unknown:
        raise VerificationFailed(f"the envelope has unexpected fields: {', '.join(sorted(unknown))}")
    if envelope.get("payloadType") != payload_type:
        raise VerificationFailed(f"the envelope payloadType is {envelope.get('payloadType')!r}, expected {payload_type!r}")
    payload = b64decode_strict(envelope.get("payload"), what="the envelope payload")
    sigs = envelope.get("signatures")
    if not isinstance(sigs, list) or not sigs:
        raise VerificationFailed("the envelope has no signatures")
    if not public_keys:
        raise VerificationFailed("no trusted public keys were given")
    message = pae(payload_type, payload)
    return payload, [_check_one(i, entry, public_keys, message) for i, entry in enumerate(sigs)]


def policy_failures(results: list[SignatureResult], public_keys: dict[str, Any], *, require_all: bool = False) -> list[str]:
    """Why the signatures do not satisfy the policy (empty when they do).

    Always: no signature by a trusted key may fail, and at least one trusted key must have verified.
    ``require_all``: every trusted key must have verified.
    """
    problems = [f"signature {r.index}: {r.detail}" for r in results if r.trusted and not r.verified]
    verified = {r.keyid for r in results if r.verified}
    if not verified and not problems:
        seen = [r.keyid for r in results if r.keyid]
        problems.append(f"signed by key {', '.join(k[:16] + '…' for k in seen)}, which is not a trusted key" if seen
                        else "no signature in the envelope verifies with a trusted key")
    if require_all:
        missing = sorted(set(public_keys) - verified)
        if missing:
            problems.append("no valid signature by required key " + ", ".join(missing))
    return problems


def verify_envelope(envelope: Any, public_keys: dict[str, Any], *, payload_type: str = IN_TOTO_PAYLOAD_TYPE,
                    require_all: bool = False) -> bytes:
    """Return the payload when the signatures satisfy the policy (see :func:`policy_failures`); raise otherwise.

    ``public_keys`` maps keyid -> public key. A signature whose keyid names a trusted key must verify
    with that key; a signature without a keyid is tried against every trusted key.
    """
    payload, results = check_signatures(envelope, public_keys, payload_type=payload_type)
    problems = policy_failures(results, public_keys, require_all=require_all)
    if problems:
        raise VerificationFailed("; ".join(problems))
    return payload
