"""The in-toto Statement v1 over an evidence bundle, and signing a bundle.

Subjects are every file of the bundle (POSIX paths relative to the bundle root, sorted) except the
statement and its envelope, each with its sha256, plus one subject ``model:<model_digest>`` for the
model weights when model.json has a digest. The predicate summarises the run, the hardware, the
model and the verdicts; the evidence itself is pinned by the subject digests.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

from benchseal import bundle as layout
from benchseal.errors import BundleError
from benchseal.io import read_json, sha256_file, write_bytes_atomic
from benchseal.reports.seal.canonical import canonical_bytes

STATEMENT_TYPE = "https://in-toto.io/Statement/v1"
PREDICATE_TYPE = "https://benchseal.dev/evidence/v1"
MODEL_SUBJECT_PREFIX = "model:"
SIGNATURE_FILES = layout.NOT_SUBJECTS  # statement.json, its envelope, the test-result envelope signed after it


def require_bundle(bundle_dir: Path) -> Path:
    bundle_dir = Path(bundle_dir)
    if not bundle_dir.is_dir():
        raise BundleError("bundle directory not found", where=str(bundle_dir), hint="pass the run's output directory")
    if not (bundle_dir / layout.RUN_JSON).is_file():
        raise BundleError(f"not an evidence bundle: {layout.RUN_JSON} is missing", where=str(bundle_dir), hint="pass the run's output directory")
    return bundle_dir


def subject_files(bundle_dir: Path) -> list[str]:
    """Every regular file of the bundle except the signature files, as sorted POSIX relative paths."""
    bundle_dir = Path(bundle_dir)
    out = []
    for root, dirs, files in os.walk(bundle_dir):
        dirs.sort()
        for name in files:
            rel = Path(root, name).relative_to(bundle_dir).as_posix()
            if rel not in SIGNATURE_FILES:
                out.append(rel)
    return sorted(out)


def _load(bundle_dir: Path, name: str) -> Any:
    path = bundle_dir / name
    return read_json(path) if path.is_file() else None


def _normalise_digest(digest: str) -> str:
    return digest.split(":", 1)[1] if digest.startswith("sha256:") else digest


def model_subject(model: Any) -> dict | None:
    digest = model.get("model_digest") if isinstance(model, dict) else None
    if not isinstance(digest, str) or not digest:
        return None
    return {"name": MODEL_SUBJECT_PREFIX + digest, "digest": {"sha256": _normalise_digest(digest)}}


def _pick(d: Any, keys: tuple[str, ...]) -> dict | None:
    if not isinstance(d, dict):
        return None
    return {k: d.get(k) for k in keys}


def _hardware_summary(hw: Any) -> dict | None:
    if not isinstance(hw, dict):
        return None
    gpus = hw.get("gpus") if isinstance(hw.get("gpus"), list) else []
    models: dict[str, int] = {}
    for g in gpus:
        name = g.get("name") if isinstance(g, dict) else None
        models[str(name)] = models.get(str(name), 0) + 1
    compute = hw.get("compute") if isinstance(hw.get("compute"), dict) else {}
    host = hw.get("host") if isinstance(hw.get("host"), dict) else {}
    return {
        "host": host.get("hostname"),
        "servers": compute.get("servers"),
        "gpus": len(gpus),
        "gpu_models": models,
        "total_tflops": compute.get("total_tflops"),
        "unknown_gpus": compute.get("unknown_gpus"),
        "nvml_available": hw.get("nvml_available"),
    }


def _model_summary(model: Any) -> dict | None:
    if not isinstance(model, dict):
        return None
    params = model.get("params") if isinstance(model.get("params"), dict) else {}
    return {
        "architecture": model.get("architecture"),
        "model_digest": model.get("model_digest"),
        "params_total": params.get("total"),
        "params_active": params.get("active"),
        "params_method": params.get("method"),
    }


_VERDICT_KEYS = ("claim_id", "status", "severity", "metric", "op", "observed", "threshold", "unit", "margin")


def _claims_summary(claims: Any) -> dict | None:
    if not isinstance(claims, dict):
        return None
    verdicts = claims.get("verdicts") if isinstance(claims.get("verdicts"), list) else []
    return {"program": claims.get("program"), "passed": claims.get("passed"), "verdicts": [_pick(v, _VERDICT_KEYS) for v in verdicts]}


_RUN_KEYS = ("run_id", "program", "status", "started_at", "ended_at", "tool", "tool_version", "schema_version")


def build_predicate(bundle_dir: Path) -> dict:
    """The benchseal evidence predicate (without the signer's tool version; see build_statement)."""
    bundle_dir = Path(bundle_dir)
    return {
        "run": _pick(_load(bundle_dir, layout.RUN_JSON), _RUN_KEYS),
        "hardware": _hardware_summary(_load(bundle_dir, layout.HARDWARE_JSON)),
        "model": _model_summary(_load(bundle_dir, layout.MODEL_JSON)),
        "claims": _claims_summary(_load(bundle_dir, layout.CLAIMS_JSON)),
    }


def build_subjects(bundle_dir: Path) -> list[dict]:
    bundle_dir = Path(bundle_dir)
    subjects = [{"name": rel, "digest": {"sha256": sha256_file(bundle_dir / rel)}} for rel in subject_files(bundle_dir)]
    model = model_subject(_load(bundle_dir, layout.MODEL_JSON))
    if model is not None:
        subjects.append(model)
    return subjects


def build_statement(bundle_dir: Path, *, model_signing: Path | None = None) -> dict:
    """The in-toto Statement v1 for the bundle as it is on disk now.

    ``model_signing``: an OpenSSF model-signing bundle of the model (``benchseal digest --model-signing``);
    it must name every file model.json counted with the same sha256, and becomes one more subject
    (``model-signing:<file name>`` with the bundle file's sha256).
    """
    from benchseal import __version__

    bundle_dir = require_bundle(bundle_dir)
    predicate = build_predicate(bundle_dir)
    predicate["signer"] = {"tool": "benchseal", "tool_version": __version__}
    if (bundle_dir / layout.CLAIMS_JSON).is_file():  # sign_bundle writes it next: its absence is then tampering
        predicate["signer"]["attestations"] = [layout.TEST_RESULT_DSSE]
    subjects = build_subjects(bundle_dir)
    if model_signing is not None:
        subjects.append(_model_signing_subject(bundle_dir, Path(model_signing)))
    return {"_type": STATEMENT_TYPE, "subject": subjects, "predicateType": PREDICATE_TYPE, "predicate": predicate}


def _model_signing_subject(bundle_dir: Path, path: Path) -> dict:
    from benchseal.errors import UsageError
    from benchseal.reports.seal.modelsigning import covers_model_files, read_bundle, subject_for

    if not path.is_file():
        raise UsageError("the model-signing bundle is not a file", where=str(path))
    try:
        info = read_bundle(path)
    except ValueError as exc:
        raise UsageError(str(exc), where=str(path), hint="pass the file written by benchseal digest --model-signing") from None
    model = _load(bundle_dir, layout.MODEL_JSON)
    problems = covers_model_files(info, model.get("files") if isinstance(model, dict) else None)
    if problems:
        raise UsageError("the model-signing bundle does not sign the files this bundle counted: " + "; ".join(problems[:5]),
                         where=str(path), hint="sign the same model directory the run measured")
    return subject_for(info, path.name)


def build_test_result_statement(bundle_dir: Path) -> dict | None:
    """The in-toto test-result statement (:mod:`benchseal.reports.seal.testresult`); None without claims.json.

    Its subject is the model subject of the evidence statement; without a model digest, claims.json.
    """
    from benchseal.reports.seal.testresult import TEST_RESULT_PREDICATE, test_result_predicate

    bundle_dir = Path(bundle_dir)
    predicate = test_result_predicate(bundle_dir)
    if predicate is None:
        return None
    subject = model_subject(_load(bundle_dir, layout.MODEL_JSON))
    if subject is None:
        subject = {"name": layout.CLAIMS_JSON, "digest": {"sha256": sha256_file(bundle_dir / layout.CLAIMS_JSON)}}
    return {"_type": STATEMENT_TYPE, "subject": [subject], "predicateType": TEST_RESULT_PREDICATE, "predicate": predicate}


def statement_bytes(statement: dict) -> bytes:
    """The signed payload: RFC 8785 canonical JSON, byte-identical to statement.json."""
    return canonical_bytes(statement)


def _write_atomic(path: Path, data: bytes) -> None:
    write_bytes_atomic(path, data)


def envelope_bytes(envelope: dict) -> bytes:
    """statement.dsse.json as written: canonical JSON plus one newline."""
    return canonical_bytes(envelope) + b"\n"


def _key_paths(private_key_path: Path | Sequence[Path], passphrase: bytes | Sequence[bytes]) -> list[tuple[Path, bytes]]:
    paths = [Path(private_key_path)] if isinstance(private_key_path, (str, os.PathLike)) else [Path(p) for p in private_key_path]
    if not paths:
        raise BundleError("no signing key given", hint="pass --key PRIVATE.pem (repeatable)")
    phrases = [passphrase] * len(paths) if isinstance(passphrase, (bytes, bytearray)) else list(passphrase)
    if len(phrases) != len(paths):
        raise BundleError(f"{len(paths)} keys but {len(phrases)} passphrases", hint="give one --passphrase-env per --key, or one for all")
    return list(zip(paths, phrases))


def load_signing_keys(bundle_dir: Path, private_key_path: Path | Sequence[Path],
                      passphrase: bytes | Sequence[bytes]) -> list[tuple[Any, str]]:
    """(private key, keyid) for every key, refusing a key stored inside the bundle and a key given twice."""
    from benchseal.reports.seal.keys import keyid, load_private_key

    out: list[tuple[Any, str]] = []
    for path, phrase in _key_paths(private_key_path, passphrase):
        if path.resolve().is_relative_to(Path(bundle_dir).resolve()):
            raise BundleError(
                "the private key is inside the bundle and would be published with it",
                where=str(path),
                hint="keep private keys outside the bundle directory",
            )
        key = load_private_key(path, phrase)
        kid = keyid(key.public_key())
        if any(kid == k for _, k in out):
            raise BundleError("the same key is given twice", where=str(path), hint="pass each --key once")
        out.append((key, kid))
    return out


def sign_bundle(bundle_dir: Path, private_key_path: Path | Sequence[Path], passphrase: bytes | Sequence[bytes], *,
                sm2_signer_id: str | None = None, model_signing: Path | None = None,
                timestamp_url: str | None = None) -> Path:
    """Write statement.json and statement.dsse.json (replacing earlier ones); return the envelope path.

    Several keys give one envelope with one signature per key, in the order given (``passphrase``: one
    for all, or one per key). An SM2 key signs with ``sm2_signer_id`` (GM/T 0009's default when None).
    ``model_signing``: a model-signing bundle to name in the statement (see :func:`build_statement`).
    ``timestamp_url``: an RFC 3161 TSA; each signature of the evidence envelope gets its timestamp token
    (:mod:`benchseal.reports.seal.timestamp`). Nothing is written when the TSA fails.
    Then the in-toto test-result statement is written and signed by the same keys
    (:mod:`benchseal.reports.seal.testresult`), when the bundle has claims.json.
    """
    from benchseal.reports.seal.dsse import IN_TOTO_PAYLOAD_TYPE, sign_envelope_keys

    bundle_dir = require_bundle(bundle_dir)
    if sm2_signer_id is not None:
        from benchseal.errors import UsageError
        from benchseal.reports.seal.sm2 import check_signer_id

        try:
            check_signer_id(sm2_signer_id)
        except ValueError as exc:
            raise UsageError(str(exc), hint="pass --sm2-signer-id with printable ASCII text, e.g. 1234567812345678") from None
    keys = load_signing_keys(bundle_dir, private_key_path, passphrase)
    payload = statement_bytes(build_statement(bundle_dir, model_signing=model_signing))
    envelope = sign_envelope_keys(payload, IN_TOTO_PAYLOAD_TYPE, keys, sm2_signer_id=sm2_signer_id)
    if timestamp_url:
        _add_timestamps(envelope, timestamp_url)
    _write_atomic(bundle_dir / layout.STATEMENT_JSON, payload)
    out = bundle_dir / layout.STATEMENT_DSSE
    _write_atomic(out, envelope_bytes(envelope))
    result = build_test_result_statement(bundle_dir)
    tr_path = bundle_dir / layout.TEST_RESULT_DSSE
    if result is None:
        tr_path.unlink(missing_ok=True)
    else:
        tr_env = sign_envelope_keys(canonical_bytes(result), IN_TOTO_PAYLOAD_TYPE, keys, sm2_signer_id=sm2_signer_id)
        _write_atomic(tr_path, envelope_bytes(tr_env))
    return out


def _add_timestamps(envelope: dict, url: str) -> None:
    """Store an RFC 3161 timestamp over each signature's bytes in its DSSE extension."""
    import base64

    from benchseal.reports.seal.canonical import b64encode
    from benchseal.reports.seal.dsse import EXTENSION_KIND
    from benchseal.reports.seal.timestamp import request_timestamp

    for entry in envelope["signatures"]:
        token = request_timestamp(url, base64.b64decode(entry["sig"]))
        entry.setdefault("extension", {"kind": EXTENSION_KIND, "ext": {}})["ext"]["rfc3161_timestamp"] = b64encode(token)
