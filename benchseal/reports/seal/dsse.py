"""DSSE envelopes (https://github.com/secure-systems-lab/dsse, protocol v1).

The signature covers the pre-authentication encoding (PAE), not the JSON envelope:

    PAE(type, body) = "DSSEv1" SP LEN(type) SP type SP LEN(body) SP body

where LEN is the byte length as ASCII decimal and SP one space. ECDSA P-256 signs SHA-256 of the
PAE with an ASN.1 DER signature (what ``openssl dgst -sha256 -sign`` writes); Ed25519 signs the
PAE bytes directly (RFC 8032). ``sig`` and ``payload`` are standard base64.
"""

from __future__ import annotations

from typing import Any

from benchseal.errors import VerificationFailed
from benchseal.reports.seal.canonical import b64decode_strict, b64encode
from benchseal.reports.seal.keys import key_algorithm

IN_TOTO_PAYLOAD_TYPE = "application/vnd.in-toto+json"
_ENVELOPE_KEYS = {"payload", "payloadType", "signatures"}


def pae(payload_type: str, payload: bytes) -> bytes:
    """DSSE v1 pre-authentication encoding."""
    t = payload_type.encode("utf-8")
    return b"DSSEv1 %d %s %d %s" % (len(t), t, len(payload), payload)


def _sign_raw(private_key: Any, data: bytes) -> bytes:
    if key_algorithm(private_key) == "ecdsa-p256":
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        return private_key.sign(data, ec.ECDSA(hashes.SHA256()))
    return private_key.sign(data)


def _verify_raw(public_key: Any, signature: bytes, data: bytes) -> bool:
    from cryptography.exceptions import InvalidSignature

    try:
        if key_algorithm(public_key) == "ecdsa-p256":
            from cryptography.hazmat.primitives import hashes
            from cryptography.hazmat.primitives.asymmetric import ec

            public_key.verify(signature, data, ec.ECDSA(hashes.SHA256()))
        else:
            public_key.verify(signature, data)
    except (InvalidSignature, ValueError):
        return False
    return True


def sign_envelope(payload: bytes, payload_type: str, private_key: Any, keyid: str) -> dict:
    """A DSSE envelope with one signature over PAE(payload_type, payload)."""
    sig = _sign_raw(private_key, pae(payload_type, payload))
    return {"payload": b64encode(payload), "payloadType": payload_type, "signatures": [{"keyid": keyid, "sig": b64encode(sig)}]}


def verify_envelope(envelope: Any, public_keys: dict[str, Any], *, payload_type: str = IN_TOTO_PAYLOAD_TYPE) -> bytes:
    """Return the payload when some signature verifies with a trusted key; raise VerificationFailed otherwise.

    ``public_keys`` maps keyid -> public key. A signature whose keyid names a trusted key must verify
    with that key; a signature without a keyid is tried against every trusted key.
    """
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
    seen: list[str] = []
    failures: list[str] = []
    for i, entry in enumerate(sigs):
        if not isinstance(entry, dict) or set(entry) - {"keyid", "sig"}:
            raise VerificationFailed(f"signature {i} in the envelope is malformed")
        sig = b64decode_strict(entry.get("sig"), what=f"signature {i}")
        kid = entry.get("keyid")
        if kid:
            if not isinstance(kid, str):
                raise VerificationFailed(f"signature {i} has a keyid that is not a string")
            seen.append(kid)
            key = public_keys.get(kid)
            if key is None:
                continue
            if _verify_raw(key, sig, message):
                return payload
            failures.append(f"signature {i} by trusted key {kid[:16]}… does not verify: the payload or signature was altered")
            continue
        for key in public_keys.values():
            if _verify_raw(key, sig, message):
                return payload
    if failures:
        raise VerificationFailed("; ".join(failures))
    if seen:
        raise VerificationFailed(f"signed by key {', '.join(k[:16] + '…' for k in seen)}, which is not a trusted key")
    raise VerificationFailed("no signature in the envelope verifies with a trusted key")
