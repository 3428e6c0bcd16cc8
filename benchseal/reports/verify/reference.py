"""References and peers are evidence: a bundle given with ``--peer-run``, ``--parity-reference`` or
``--lightweight-of`` is accepted only when it verifies against a public key the user names
(``--peer-key``, ``--reference-key``): its DSSE signature, its statement and every file digest, with
the same policies ``benchseal verify`` runs (:mod:`.integrity`). What was established is recorded in
the candidate's bundle (``signature``: key id, the key's sha256, the statement's sha256) next to the
reference's model identity (weights digest, served model, endpoint); claims.gates refuses a
reference without it, and one that is the candidate itself.

An unsigned bundle is an assertion: anyone can edit per-item scores and re-hash statement.json
without a key (issue 21). The key names who vouches for the reference; whether to trust that key is
the reviewer's decision, so the report names it.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

from benchseal import bundle as layout
from benchseal.errors import BundleError, UsageError
from benchseal.io import read_json, sha256_file


def verify_reference(bundle: str | Path, public_key: str | Path | None, *, flag: str, key_flag: str) -> dict[str, Any]:
    """Verify ``bundle`` (the folder given to ``flag``) against ``public_key`` (given with ``key_flag``).

    Returns the record stored with the reference: ``{"verified": True, "keyid", "public_key_sha256",
    "statement_sha256", "model_digest", "run_id"}``. Raises UsageError (exit 2) without a key, and
    BundleError (exit 2) naming every failed check when the bundle does not verify."""
    from benchseal.reports.verify.integrity import DigestPolicy, SignaturePolicy, StatementPolicy
    from benchseal.reports.verify.verifier import verify_bundle

    root = Path(bundle)
    if public_key is None:
        raise UsageError(f"{flag} needs {key_flag} PUBLIC.pem: only a signed bundle can back a claim",
                         where=str(root), hint=f"sign the reference run with `benchseal run … --key` and pass its public key with {key_flag}")
    key = Path(public_key)
    if not key.is_file():
        raise UsageError(f"the public key given with {key_flag} is not a file", where=str(key))
    if not root.is_dir():
        raise UsageError(f"the {flag} bundle is not a folder", where=str(root), hint="give the folder a signed run wrote")
    report = verify_bundle(root, public_keys=[key], policies=[SignaturePolicy(), StatementPolicy(), DigestPolicy()])
    bad = [c for c in report.checks if not c.ok or c.skipped]
    if bad or not report.checks:
        detail = "; ".join(f"{c.name}: {c.detail}" for c in bad[:4]) or "nothing was checked"
        raise BundleError(f"the {flag} bundle does not verify with the key given by {key_flag} ({detail})", where=str(root),
                          hint="use the intact bundle its signer wrote, and that signer's public key")
    import json

    envelope = json.loads((root / layout.STATEMENT_DSSE).read_text(encoding="utf-8"))
    keyids = [s.get("keyid") for s in envelope.get("signatures") or [] if isinstance(s, dict)]
    model = read_json(root / layout.MODEL_JSON) if (root / layout.MODEL_JSON).is_file() else {}
    run = read_json(root / layout.RUN_JSON) if (root / layout.RUN_JSON).is_file() else {}
    return {
        "verified": True,
        "keyid": keyids[0] if keyids else None,
        "public_key_sha256": sha256_file(key),
        "statement_sha256": sha256_file(root / layout.STATEMENT_JSON),
        "model_digest": model.get("model_digest") if isinstance(model, dict) else None,
        "run_id": run.get("run_id") if isinstance(run, dict) else None,
        "flag": flag,
    }


def reference_signature(bundle: str | Path, keys: list[str | Path] | None, *, flag: str, key_flag: str,
                        warn: Callable[[str], None] | None = None) -> dict[str, Any] | None:
    """:func:`verify_reference` with the first of ``keys`` the bundle verifies with (BundleError when none
    does), or None when no key was given: the bundle is then recorded unsigned, ``warn`` says so, and
    every claim on it is INCONCLUSIVE (claims.gates). What `benchseal run` (the pipeline's eval and
    lightweight stages) and `benchseal eval` call for --parity-reference, --lightweight-of and --peer-run."""
    if not keys:
        if warn is not None:
            warn(f"{flag} {bundle} is used without {key_flag}: it is recorded as unsigned and every claim on it is INCONCLUSIVE")
        return None
    last: BundleError | None = None
    for key in keys:
        try:
            return verify_reference(bundle, key, flag=flag, key_flag=key_flag)
        except BundleError as exc:
            last = exc
    assert last is not None
    raise last
