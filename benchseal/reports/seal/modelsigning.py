"""OpenSSF model signing (``model_signing``, sigstore/model-transparency) bundles for a model's files.

``benchseal digest MODEL --model-signing OUT --key ec.pem`` writes OUT in the format that
``model_signing verify key MODEL --signature OUT --public_key ec.pub`` (model-signing 1.1.x) accepts:
a Sigstore bundle v0.3 (``application/vnd.dev.sigstore.bundle.v0.3+json``) whose DSSE envelope holds an
in-toto Statement v1 with predicate ``https://model_signing/signature/v1.0``:

- ``predicate.resources``: every file under MODEL (``{"name": relative path, "algorithm": "sha256",
  "digest": hex}``, sorted by name), except the paths model_signing ignores by default (``.git``,
  ``.gitattributes``, ``.github``, ``.gitignore``) and OUT itself when it lies inside MODEL; these are
  listed in ``predicate.serialization.ignore_paths`` (method ``files``, hash_type ``sha256``);
- ``subject``: ``{"name": the directory name, "digest": {"sha256": sha256 over the concatenated raw
  file digests in resource order}}``;
- the signature: ECDSA P-256 with SHA-256 over the DSSE PAE, ``keyid`` empty, and
  ``verificationMaterial.publicKey.hint`` = sha256 hex of the signer's public key PEM.

(Read from model_signing 1.1.1: ``_signing/signing.py`` Payload and ``dsse_payload_to_manifest``,
``_signing/sign_ec_key.py`` Signer/Verifier, ``_signing/sign_sigstore_pb.py``, and
``_serialization/file.py``.) Unlike benchseal's model digest, which covers the weight, config and
tokenizer files, this covers every file, because model_signing fails on a file it was not told about.
:func:`covers_model_files` checks that both name the same bytes for every file benchseal counted.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from benchseal.errors import UsageError

BUNDLE_MEDIA_TYPE = "application/vnd.dev.sigstore.bundle.v0.3+json"
PREDICATE_TYPE = "https://model_signing/signature/v1.0"
GIT_PATHS = (".git", ".gitattributes", ".github", ".gitignore")  # model_signing's --ignore_git_paths (default on)
SUBJECT_PREFIX = "model-signing:"


@dataclass(frozen=True)
class ModelSigningInfo:
    """What a model-signing bundle says: the model name, its subject digest and the signed files."""

    model_name: str
    subject_sha256: str
    resources: dict[str, str]  # relative path -> sha256 hex
    bundle_sha256: str  # of the bundle file itself

    def to_dict(self) -> dict:
        return {"model_name": self.model_name, "subject_sha256": self.subject_sha256, "files": len(self.resources),
                "bundle_sha256": self.bundle_sha256}


def _walk(model_dir: Path, ignore: set[str]) -> tuple[list[str], bool]:
    """Every file under model_dir (relative POSIX paths, sorted) not under an ignored path; and whether any is a symlink."""
    rels, symlinks = [], False
    for dirpath, dirnames, filenames in os.walk(model_dir):
        base = Path(dirpath).relative_to(model_dir)
        kept = []
        for d in sorted(dirnames):
            rel = (base / d).as_posix()
            if rel in ignore:
                continue
            if os.path.islink(os.path.join(dirpath, d)):
                raise UsageError("the model directory holds a symlink to a directory, which model_signing does not follow",
                                 where=os.path.join(dirpath, d), hint="copy the model into a plain directory")
            kept.append(d)
        dirnames[:] = kept
        for f in filenames:
            rel = (base / f).as_posix()
            if rel in ignore:
                continue
            full = os.path.join(dirpath, f)
            if os.path.islink(full):
                symlinks = True
            if not os.path.isfile(full):
                raise UsageError("the model directory holds something that is not a regular file", where=full)
            rels.append(rel)
    return sorted(rels), symlinks


def _pae(payload: bytes) -> bytes:
    from benchseal.reports.seal.dsse import IN_TOTO_PAYLOAD_TYPE, pae

    return pae(IN_TOTO_PAYLOAD_TYPE, payload)


def _key_hint(public_key: Any) -> str:
    from cryptography.hazmat.primitives import serialization

    pem = public_key.public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    return hashlib.sha256(pem).hexdigest()


def build_bundle(model_dir: Path, private_key: Any, *, signature_path: Path, workers: int | None = None) -> dict:
    """The model-signing bundle (as a JSON object) for every file of ``model_dir``, signed with an ECDSA P-256 key."""
    from benchseal.bench.model.digest import hash_files
    from benchseal.reports.seal.canonical import canonical_bytes
    from benchseal.reports.seal.keys import key_algorithm

    if key_algorithm(private_key) != "ecdsa-p256":
        raise UsageError("model_signing verifies elliptic-curve keys only (P-256/384/521); this key is "
                         f"{key_algorithm(private_key)}", hint="pass an ECDSA P-256 key: benchseal keygen --algorithm ecdsa-p256")
    model_dir = Path(model_dir)
    if not model_dir.is_dir():
        raise UsageError("--model-signing needs a model directory", where=str(model_dir))
    ignore = list(GIT_PATHS)
    try:
        sig_rel = Path(os.path.abspath(signature_path)).relative_to(os.path.abspath(model_dir)).as_posix()
        ignore.insert(2, sig_rel)  # the order model_signing writes them in
    except ValueError:
        pass
    rels, symlinks = _walk(model_dir, set(ignore))
    if not rels:
        raise UsageError("the model directory holds no files", where=str(model_dir))
    digests = {f.path: f.sha256 for f in hash_files(model_dir, rels, workers=workers)}
    root = hashlib.sha256(b"".join(bytes.fromhex(digests[r]) for r in rels)).hexdigest()
    name = model_dir.name or os.path.basename(os.path.abspath(model_dir))
    statement = {
        "_type": "https://in-toto.io/Statement/v1",
        "subject": [{"name": name, "digest": {"sha256": root}}],
        "predicateType": PREDICATE_TYPE,
        "predicate": {
            "resources": [{"algorithm": "sha256", "name": r, "digest": digests[r]} for r in rels],
            "serialization": {"ignore_paths": ignore, "allow_symlinks": symlinks, "method": "files", "hash_type": "sha256"},
        },
    }
    payload = canonical_bytes(statement)
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    sig = private_key.sign(_pae(payload), ec.ECDSA(hashes.SHA256()))
    return {
        "mediaType": BUNDLE_MEDIA_TYPE,
        "verificationMaterial": {"publicKey": {"hint": _key_hint(private_key.public_key())}, "tlogEntries": []},
        "dsseEnvelope": {"payload": base64.b64encode(payload).decode("ascii"), "payloadType": "application/vnd.in-toto+json",
                         "signatures": [{"sig": base64.b64encode(sig).decode("ascii"), "keyid": ""}]},
    }


def write_bundle(model_dir: Path, out: Path, private_key: Any, *, workers: int | None = None) -> ModelSigningInfo:
    from benchseal.io import write_bytes_atomic

    bundle = build_bundle(model_dir, private_key, signature_path=out, workers=workers)
    data = json.dumps(bundle, separators=(",", ":")).encode("utf-8")
    write_bytes_atomic(Path(out), data)
    return read_bundle(Path(out))


def read_bundle(path: Path, *, trusted_keys: dict[str, Any] | None = None) -> ModelSigningInfo:
    """The files a model-signing bundle names. With ``trusted_keys``, its signature must verify with one of
    the ECDSA keys among them (``ValueError`` otherwise); the subject digest is always re-derived."""
    raw = Path(path).read_bytes()
    try:
        bundle = json.loads(raw.decode("utf-8"))
        env = bundle["dsseEnvelope"]
        payload = base64.b64decode(env["payload"], validate=True)
        stmt = json.loads(payload.decode("utf-8"))
        if bundle.get("mediaType") != BUNDLE_MEDIA_TYPE or stmt.get("predicateType") != PREDICATE_TYPE:
            raise ValueError("not a model_signing v1.0 bundle")
        (subject,) = stmt["subject"]
        resources = stmt["predicate"]["resources"]
        files = {r["name"]: r["digest"] for r in resources if r.get("algorithm") == "sha256"}
        if len(files) != len(resources):
            raise ValueError("a resource is not hashed with sha256")
        root = hashlib.sha256(b"".join(bytes.fromhex(r["digest"]) for r in resources)).hexdigest()
        if root != subject["digest"]["sha256"]:
            raise ValueError("its subject digest does not match its resources")
        sigs = env["signatures"]
    except (UnicodeDecodeError, KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"not a readable model-signing bundle: {exc}") from None
    if trusted_keys is not None:
        from cryptography.exceptions import InvalidSignature
        from cryptography.hazmat.primitives import hashes
        from cryptography.hazmat.primitives.asymmetric import ec

        from benchseal.reports.seal.keys import key_algorithm

        ok = False
        for key in trusted_keys.values():
            if key_algorithm(key) != "ecdsa-p256":
                continue
            for s in sigs:
                try:
                    key.verify(base64.b64decode(s["sig"]), _pae(payload), ec.ECDSA(hashes.SHA256()))
                    ok = True
                except (InvalidSignature, ValueError, KeyError, TypeError):
                    pass
        if not ok:
            raise ValueError("its signature verifies with no trusted ECDSA key")
    return ModelSigningInfo(subject["name"], subject["digest"]["sha256"], files, hashlib.sha256(raw).hexdigest())


def covers_model_files(info: ModelSigningInfo, model_files: list[dict] | None) -> list[str]:
    """Problems (empty when none): every file model.json counted must be in the bundle with the same sha256."""
    problems = []
    for f in model_files or []:
        signed = info.resources.get(f.get("path"))
        if signed is None:
            problems.append(f"{f.get('path')}: counted in model.json but not in the model-signing bundle")
        elif signed != f.get("sha256"):
            problems.append(f"{f.get('path')}: sha256 differs between model.json and the model-signing bundle")
    if not model_files:
        problems.append("model.json lists no files to compare with")
    return problems


def subject_for(info: ModelSigningInfo, file_name: str) -> dict:
    """The evidence statement's subject naming a model-signing bundle (the sha256 of the bundle file)."""
    return {"name": SUBJECT_PREFIX + file_name, "digest": {"sha256": info.bundle_sha256},
            "annotations": {"model_signing_subject_sha256": info.subject_sha256, "files": len(info.resources)}}
