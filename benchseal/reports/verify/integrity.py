"""Integrity policies: the signature, the statement, every file digest, the model subject, the
predicate and the run status."""

from __future__ import annotations

import json
from typing import Any, Iterable

from benchseal import bundle as layout
from benchseal.io import read_json, sha256_file
from benchseal.reports.seal.canonical import b64decode_strict, diff_values, summarise
from benchseal.reports.seal.dsse import check_signatures, policy_failures
from benchseal.reports.seal.statement import (MODEL_SUBJECT_PREFIX, PREDICATE_TYPE, STATEMENT_TYPE, build_predicate,
                                              envelope_bytes, model_subject, subject_files)
from benchseal.reports.seal.modelsigning import SUBJECT_PREFIX as MODEL_SIGNING_PREFIX
from benchseal.reports.verify.files import safe_relpath
from benchseal.reports.verify.policy import BundleContext, CheckResult, Policy, failed, passed, skipped


# ------------------------------------------------------------------------------------------------
class SignaturePolicy:
    """The DSSE envelope is intact and signed by a trusted key (every trusted key with require_all_keys),
    with the in-toto payload type; one line per signature says which key verified."""

    name = "signature"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:

        path = ctx.path(layout.STATEMENT_DSSE)
        if not ctx.require_signature:
            yield skipped(self.name, "signature not required")
            return
        if not path.is_file():
            yield failed(self.name, f"the bundle is not signed: {layout.STATEMENT_DSSE} is missing")
            return
        envelope = _canonical_envelope(path)
        payload, results = check_signatures(envelope, ctx.trusted_keys)
        yield from _signature_lines(self.name, results)
        problems = policy_failures(results, ctx.trusted_keys, require_all=ctx.require_all_keys)
        if problems:
            yield failed(self.name, "; ".join(problems))
            return
        ctx.signed_payload = payload
        keys = [f"{r.keyid} ({r.algorithm})" for r in results if r.verified]
        rule = "every trusted key signed" if ctx.require_all_keys else "at least one trusted key"
        yield passed(self.name, f"valid signature by trusted key {', '.join(keys)} ({rule})")


def _canonical_envelope(path) -> Any:
    from benchseal.errors import VerificationFailed

    raw = path.read_bytes()
    try:
        envelope = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise VerificationFailed(f"{path.name} is not valid JSON (it was altered or truncated)") from None
    try:
        canonical = envelope_bytes(envelope)
    except ValueError:
        canonical = None
    if canonical != raw:
        raise VerificationFailed(f"{path.name} was modified: it is not byte-for-byte the canonical envelope benchseal writes")
    return envelope


def _signature_lines(prefix: str, results) -> Iterable[CheckResult]:
    """One line per signature of an envelope: which key, whether trusted, whether it verified."""
    if len(results) < 2:
        return
    for r in results:
        name = f"{prefix}[{r.index}]"
        if r.verified:
            yield passed(name, r.detail)
        elif r.trusted:
            yield failed(name, r.detail)
        else:
            yield skipped(name, r.detail)


class TimestampPolicy:
    """RFC 3161 timestamps on the evidence envelope's signatures: with --tsa-cert each signature must carry
    one that verifies against that chain; without it a stored timestamp is reported, not trusted."""

    name = "timestamp"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        import base64

        path = ctx.path(layout.STATEMENT_DSSE)
        if not path.is_file():
            return
        envelope = _canonical_envelope(path)
        sigs = envelope.get("signatures") if isinstance(envelope, dict) else None
        tokens = [((s.get("extension") or {}).get("ext") or {}).get("rfc3161_timestamp") if isinstance(s, dict) else None
                  for s in sigs or []]
        if ctx.tsa_certs is None:
            if any(tokens):
                yield skipped(self.name, f"{sum(1 for t in tokens if t)} signature(s) carry an RFC 3161 timestamp; "
                                         "pass --tsa-cert PEM to check it")
            return
        from benchseal.reports.seal.timestamp import load_tsa_certs, verify_timestamp

        certs = load_tsa_certs(ctx.tsa_certs)
        for i, (entry, token) in enumerate(zip(sigs, tokens)):
            name = f"{self.name}[{i}]"
            if not token:
                yield failed(name, f"signature {i} ({entry.get('keyid')}) has no RFC 3161 timestamp, and --tsa-cert asks for one")
                continue
            result = verify_timestamp(token, base64.b64decode(entry.get("sig", "")), certs)
            yield (passed if result.ok else failed)(name, f"signature {i} ({entry.get('keyid')}): {result.detail}")


class ResultAttestationPolicy:
    """test-result.dsse.json (the in-toto test-result statement) is signed like the evidence and equals
    the statement rebuilt from claims.json, program.json and statement.json."""

    name = "test-result"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.reports.seal.canonical import canonical_bytes
        from benchseal.reports.seal.statement import build_test_result_statement

        path = ctx.path(layout.TEST_RESULT_DSSE)
        if not path.is_file():
            signer = (ctx.statement or {}).get("predicate", {}).get("signer")
            if isinstance(signer, dict) and layout.TEST_RESULT_DSSE in (signer.get("attestations") or []):
                yield failed(self.name, f"{layout.TEST_RESULT_DSSE} is missing, but the signed statement says it was written")
            else:
                yield skipped(self.name, f"no {layout.TEST_RESULT_DSSE} (signed by a benchseal without it)")
            return
        expected = build_test_result_statement(ctx.bundle_dir)
        if expected is None:
            yield failed(self.name, f"{layout.TEST_RESULT_DSSE} is present but the bundle has no {layout.CLAIMS_JSON}")
            return
        envelope = _canonical_envelope(path)
        if ctx.require_signature:
            payload, results = check_signatures(envelope, ctx.trusted_keys)
            problems = policy_failures(results, ctx.trusted_keys, require_all=ctx.require_all_keys)
            if problems:
                yield failed(self.name, "; ".join(problems))
                return
        elif isinstance(envelope, dict):
            payload = b64decode_strict(envelope.get("payload"), what=f"the {layout.TEST_RESULT_DSSE} payload")
        else:
            yield failed(self.name, f"{layout.TEST_RESULT_DSSE} is not a DSSE envelope")
            return
        if payload != canonical_bytes(expected):
            try:
                found = json.loads(payload.decode("utf-8"))
            except (UnicodeDecodeError, ValueError):
                found = None
            diffs = diff_values(found, expected, "test-result", rel=0.0, names=("signed", "rebuilt"))
            yield failed(self.name, "the signed test-result statement differs from the bundle: " + summarise(diffs))
            return
        yield passed(self.name, f"in-toto test-result v0.1, result {expected['predicate']['result']}, signed and "
                                "equal to claims.json, program.json and statement.json")


class StatementPolicy:
    """statement.json is exactly the signed payload and is an in-toto Statement v1 of benchseal's type."""

    name = "statement"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:

        path = ctx.path(layout.STATEMENT_JSON)
        on_disk = path.read_bytes() if path.is_file() else None
        if ctx.signed_payload is not None:
            if on_disk is None:
                yield failed(self.name, f"{layout.STATEMENT_JSON} is missing")
            elif on_disk != ctx.signed_payload:
                yield failed(self.name, f"{layout.STATEMENT_JSON} differs from the signed payload in the envelope")
                return
            raw = ctx.signed_payload
        elif on_disk is None:
            yield failed(self.name, f"{layout.STATEMENT_JSON} is missing")
            return
        else:
            raw = on_disk
        try:
            stmt = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            yield failed(self.name, "the statement is not valid JSON")
            return
        problems = []
        if not isinstance(stmt, dict):
            problems.append("the statement is not a JSON object")
        else:
            if stmt.get("_type") != STATEMENT_TYPE:
                problems.append(f"_type is {stmt.get('_type')!r}, expected {STATEMENT_TYPE!r}")
            if stmt.get("predicateType") != PREDICATE_TYPE:
                problems.append(f"predicateType is {stmt.get('predicateType')!r}, expected {PREDICATE_TYPE!r}")
            subjects = stmt.get("subject")
            if not isinstance(subjects, list) or not all(
                isinstance(s, dict) and isinstance(s.get("name"), str) and isinstance(s.get("digest"), dict) for s in subjects
            ):
                problems.append("subject is not a list of {name, digest} objects")
        if problems:
            yield failed(self.name, "; ".join(problems))
            return
        ctx.statement = stmt
        origin = "signed payload" if ctx.signed_payload is not None else f"{layout.STATEMENT_JSON} (unsigned)"
        yield passed(self.name, f"in-toto Statement v1 with {len(stmt['subject'])} subjects, from the {origin}")


class DigestPolicy:
    """Every bundle file is a subject with a matching sha256; none is missing, none is unsigned."""

    name = "digests"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:

        if ctx.statement is None:
            yield failed(self.name, "no statement to check the files against")
            return
        expected = {s["name"]: s["digest"].get("sha256") for s in ctx.statement["subject"]
                    if not s["name"].startswith((MODEL_SUBJECT_PREFIX, MODEL_SIGNING_PREFIX))}
        outside = sorted(repr(n) for n in expected if not safe_relpath(n))
        if outside:  # never open a path the statement names outside the bundle
            yield failed(self.name, "the statement names subjects outside the bundle: " + ", ".join(outside[:5]))
            return
        present = set(subject_files(ctx.bundle_dir))
        problems = []
        for name in sorted(expected):
            if name not in present:
                problems.append(f"{name}: missing")
            elif sha256_file(ctx.path(name)) != expected[name]:
                problems.append(f"{name}: sha256 differs from the signed digest (the file was modified)")
        problems += [f"{name}: not in the statement (unsigned extra file)" for name in sorted(present - set(expected))]
        if problems:
            yield failed(self.name, "; ".join(problems))
        else:
            yield passed(self.name, f"{len(expected)} files match their signed sha256, no extra files")


class ModelSubjectPolicy:
    """The model subject in the statement matches model.json's model_digest."""

    name = "model-subject"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:

        if ctx.statement is None:
            yield failed(self.name, "no statement to check the model digest against")
            return
        signed = [s for s in ctx.statement["subject"] if s["name"].startswith(MODEL_SUBJECT_PREFIX)]
        expected = model_subject(ctx.json(layout.MODEL_JSON))
        if expected is None and not signed:
            yield skipped(self.name, "no model digest in the bundle")
        elif [expected] != signed:
            yield failed(self.name, f"signed model subject {signed} does not match model.json ({expected})")
        else:
            yield passed(self.name, f"model digest {expected['digest']['sha256']}")


class ModelSigningPolicy:
    """The OpenSSF model-signing bundle the statement names: the file given with --model-signing has the
    signed sha256, verifies with a trusted ECDSA key, and signs every file model.json counted."""

    name = "model-signing"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.reports.seal.modelsigning import covers_model_files, read_bundle
        from benchseal.reports.verify.policy import not_rederived

        if ctx.statement is None:
            return
        named = [s for s in ctx.statement["subject"] if s["name"].startswith(MODEL_SIGNING_PREFIX)]
        if not named:
            if ctx.model_signing is not None:
                yield failed(self.name, "--model-signing was given but the statement names no model-signing bundle")
            return
        if ctx.model_signing is None:
            yield not_rederived(self.name, f"the statement names {named[0]['name']} (sha256 "
                                           f"{named[0]['digest'].get('sha256')}); pass --model-signing FILE to check it")
            return
        sha = sha256_file(ctx.model_signing)
        if sha not in {s["digest"].get("sha256") for s in named}:
            yield failed(self.name, f"{ctx.model_signing} has sha256 {sha}, not the one the statement signs")
            return
        try:
            info = read_bundle(ctx.model_signing, trusted_keys=ctx.trusted_keys if ctx.require_signature else None)
        except ValueError as exc:
            yield failed(self.name, f"{ctx.model_signing}: {exc}")
            return
        model = ctx.json(layout.MODEL_JSON)
        problems = covers_model_files(info, model.get("files") if isinstance(model, dict) else None)
        if problems:
            yield failed(self.name, summarise(problems))
        else:
            yield passed(self.name, f"model-signing bundle (subject sha256 {info.subject_sha256}, {len(info.resources)} "
                                    "files) is the signed one, verifies, and signs every file model.json counted")


class PredicatePolicy:
    """The predicate (run, hardware, model, verdict summary) equals what the bundle's files say."""

    name = "predicate"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:

        if ctx.statement is None or not isinstance(ctx.statement.get("predicate"), dict):
            yield failed(self.name, "the statement has no predicate")
            return
        signed = {k: v for k, v in ctx.statement["predicate"].items() if k != "signer"}
        rebuilt = json.loads(json.dumps(build_predicate(ctx.bundle_dir)))
        diffs = diff_values(signed, rebuilt, "predicate", rel=0.0, names=("signed", "in the files"))
        if diffs:
            yield failed(self.name, summarise(diffs))
        else:
            yield passed(self.name, "run, hardware, model and verdict summaries match the bundle files")


class RunStatusPolicy:
    """run.json says the run completed (a partial run passes only with allow_partial)."""

    name = "run-status"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        run = ctx.json(layout.RUN_JSON)
        status = run.get("status") if isinstance(run, dict) else None
        if status == "complete":
            yield passed(self.name, "run complete")
        elif status == "partial" and ctx.allow_partial:
            yield passed(self.name, "run partial (allowed by --allow-partial): some stages did not finish")
        elif status == "partial":
            yield failed(self.name, "run is partial: some stages did not finish (pass --allow-partial to accept it)")
        else:
            yield failed(self.name, f"run status is {status!r}, not 'complete'")


INTEGRITY_POLICIES: tuple[Policy, ...] = (
    SignaturePolicy(),
    StatementPolicy(),
    DigestPolicy(),
    ModelSubjectPolicy(),
    ModelSigningPolicy(),
    PredicatePolicy(),
    RunStatusPolicy(),
    ResultAttestationPolicy(),
    TimestampPolicy(),
)
