"""Optional RFC 3161 trusted timestamps on signatures (``sign --timestamp-url``, ``verify --tsa-cert``).

Each signature of an envelope is sent (as its SHA-256 message imprint) to a Time-Stamp Authority; the
TimeStampResp it returns is stored, base64, in that signature's DSSE extension
(``extension.ext.rfc3161_timestamp``), as Sigstore bundles timestamp the signature. The token proves
the signature existed at the TSA's ``genTime``; it is never needed to verify the signature itself.
Verification is offline, against the TSA certificate chain the verifier trusts (``--tsa-cert``), with
the ``rfc3161-client`` library (the ``timestamp`` extra); ``openssl ts -verify`` checks the same token.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchseal.errors import EnvironmentFailure, MissingDependency, UsageError

_TIMEOUT_S = 30.0
_MAX_RESPONSE = 1 << 20


def _client():
    try:
        import rfc3161_client
    except ImportError:
        raise MissingDependency("rfc3161-client", "timestamp", "RFC 3161 timestamps") from None
    return rfc3161_client


def request_timestamp(url: str, data: bytes) -> bytes:
    """The DER TimeStampResp a TSA at ``url`` returns for SHA-256(data); checked for status, imprint and nonce."""
    import urllib.error
    import urllib.request

    from benchseal.redact import redact_url

    rc = _client()
    if not url.startswith(("http://", "https://")):
        raise UsageError("--timestamp-url must be an http:// or https:// URL", where=redact_url(url))
    req = rc.TimestampRequestBuilder().data(data).hash_algorithm(rc.HashAlgorithm.SHA256).nonce(nonce=True).build()
    http = urllib.request.Request(url, data=req.as_bytes(), method="POST",
                                  headers={"Content-Type": "application/timestamp-query", "Accept": "application/timestamp-reply"})
    try:
        with urllib.request.urlopen(http, timeout=_TIMEOUT_S) as resp:  # noqa: S310 (the scheme is checked above)
            body = resp.read(_MAX_RESPONSE + 1)
    except (urllib.error.URLError, OSError, ValueError) as exc:
        raise EnvironmentFailure(f"the timestamp authority did not answer: {getattr(exc, 'reason', exc)}",
                                 where=redact_url(url), hint="check --timestamp-url, or sign without it") from None
    if len(body) > _MAX_RESPONSE:
        raise EnvironmentFailure("the timestamp authority's answer is too large", where=redact_url(url))
    try:
        tsr = rc.decode_timestamp_response(body)
    except Exception:  # the parser raises its own error types  # noqa: BLE001
        raise EnvironmentFailure("the timestamp authority's answer is not an RFC 3161 TimeStampResp",
                                 where=redact_url(url)) from None
    if tsr.status not in (0, 1):
        raise EnvironmentFailure(f"the timestamp authority refused the request (status {tsr.status})", where=redact_url(url))
    info = tsr.tst_info
    if info.message_imprint.message != hashlib.sha256(data).digest() or info.nonce != req.nonce:
        raise EnvironmentFailure("the timestamp authority answered for another request (imprint or nonce differ)",
                                 where=redact_url(url))
    return body


@dataclass(frozen=True)
class TimestampCheck:
    ok: bool
    detail: str


def load_tsa_certs(path: Path) -> list[Any]:
    """Every certificate of a PEM file (the TSA's certificate and its chain up to a self-signed root)."""
    from cryptography import x509

    try:
        certs = x509.load_pem_x509_certificates(Path(path).read_bytes())
    except (OSError, ValueError):
        raise UsageError("not a readable PEM certificate file", where=str(path),
                         hint="pass the TSA's certificate chain (PEM) with --tsa-cert") from None
    return certs


def verify_timestamp(token_b64: str, signature: bytes, certs: list[Any]) -> TimestampCheck:
    """Check a stored TimeStampResp over ``signature`` against the trusted certificates, offline."""
    from cryptography import x509

    rc = _client()
    from rfc3161_client.verify import VerifierBuilder

    try:
        tsr = rc.decode_timestamp_response(base64.b64decode(token_b64, validate=True))
    except Exception:  # noqa: BLE001
        return TimestampCheck(False, "the stored timestamp is not an RFC 3161 TimeStampResp")
    roots = [c for c in certs if c.issuer == c.subject]
    if not roots:
        return TimestampCheck(False, "--tsa-cert holds no self-signed root certificate")
    builder = VerifierBuilder()
    for c in roots:
        builder = builder.add_root_certificate(c)
    for c in certs:
        if c in roots:
            continue
        try:
            eku = c.extensions.get_extension_for_class(x509.ExtendedKeyUsage).value
        except x509.ExtensionNotFound:
            eku = []
        if x509.ExtendedKeyUsageOID.TIME_STAMPING in eku:
            builder = builder.tsa_certificate(c)
        else:
            builder = builder.add_intermediate_certificate(c)
    try:
        builder.build().verify_message(tsr, signature)
    except Exception as exc:  # noqa: BLE001 (VerificationError and parser errors alike)
        return TimestampCheck(False, f"the timestamp does not verify with the given TSA certificates: {exc}")
    info = tsr.tst_info
    return TimestampCheck(True, f"timestamped at {info.gen_time.isoformat()} (TSA serial {info.serial_number})")
