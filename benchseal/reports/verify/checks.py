"""Offline verification of a signed evidence bundle.

Verification is a list of small policies, each checking one thing and returning named results
(sigstore-python style). :func:`verify_bundle` runs them all, even after a failure, so the report
says exactly what differs: the signature, the statement, each file digest, the predicate, the run
status, and every summary and verdict recomputed from the raw evidence
(:mod:`benchseal.reports.verify.recompute`).
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

from benchseal import bundle as layout
from benchseal.errors import BenchsealError, BundleError, UsageError
from benchseal.io import read_json, sha256_file


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False

    @property
    def outcome(self) -> str:
        return "SKIP" if self.skipped else ("PASS" if self.ok else "FAIL")


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail)


def failed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, False, detail)


def skipped(name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail, skipped=True)


@dataclass
class VerificationReport:
    bundle: str
    checks: list[CheckResult] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return bool(self.checks) and all(c.ok for c in self.checks)

    @property
    def failures(self) -> list[CheckResult]:
        return [c for c in self.checks if not c.ok]

    def to_dict(self) -> dict:
        return {"bundle": self.bundle, "ok": self.ok, "checks": [asdict(c) | {"outcome": c.outcome} for c in self.checks]}


@dataclass
class BundleContext:
    """What the policies share: the bundle, the trusted keys, and what earlier policies established."""

    bundle_dir: Path
    trusted_keys: dict[str, Any]
    require_signature: bool = True
    allow_partial: bool = False
    signed_payload: bytes | None = None  # set when the envelope verified
    statement: dict | None = None  # the signed statement (or, unsigned, statement.json as found)

    def path(self, rel: str) -> Path:
        return self.bundle_dir / rel

    def json(self, rel: str) -> Any:
        return read_json(self.path(rel)) if self.path(rel).is_file() else None


class Policy(Protocol):
    name: str

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]: ...


# ------------------------------------------------------------------------------------------------
class SignaturePolicy:
    """The DSSE envelope is intact and signed by a trusted key, with the in-toto payload type."""

    name = "signature"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.reports.seal.dsse import verify_envelope
        from benchseal.reports.seal.statement import envelope_bytes

        path = ctx.path(layout.STATEMENT_DSSE)
        if not ctx.require_signature:
            yield skipped(self.name, "signature not required")
            return
        if not path.is_file():
            yield failed(self.name, f"the bundle is not signed: {layout.STATEMENT_DSSE} is missing")
            return
        raw = path.read_bytes()
        try:
            envelope = json.loads(raw.decode("utf-8"))
        except (UnicodeDecodeError, ValueError):
            yield failed(self.name, f"{layout.STATEMENT_DSSE} is not valid JSON (it was altered or truncated)")
            return
        try:
            canonical = envelope_bytes(envelope)
        except ValueError:
            canonical = None
        if canonical != raw:
            yield failed(self.name, f"{layout.STATEMENT_DSSE} was modified: it is not byte-for-byte the canonical envelope benchseal writes")
            return
        ctx.signed_payload = verify_envelope(envelope, ctx.trusted_keys)
        kids = [s.get("keyid") for s in envelope["signatures"] if s.get("keyid") in ctx.trusted_keys]
        yield passed(self.name, f"valid signature by trusted key {kids[0] if kids else '(no keyid)'}")


class StatementPolicy:
    """statement.json is exactly the signed payload and is an in-toto Statement v1 of benchseal's type."""

    name = "statement"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.reports.seal.statement import PREDICATE_TYPE, STATEMENT_TYPE

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
        from benchseal.reports.seal.statement import MODEL_SUBJECT_PREFIX, subject_files

        if ctx.statement is None:
            yield failed(self.name, "no statement to check the files against")
            return
        expected = {s["name"]: s["digest"].get("sha256") for s in ctx.statement["subject"] if not s["name"].startswith(MODEL_SUBJECT_PREFIX)}
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
        from benchseal.reports.seal.statement import MODEL_SUBJECT_PREFIX, model_subject

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


class PredicatePolicy:
    """The predicate (run, hardware, model, verdict summary) equals what the bundle's files say."""

    name = "predicate"

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]:
        from benchseal.reports.seal.canonical import diff_values, summarise
        from benchseal.reports.seal.statement import build_predicate

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
    PredicatePolicy(),
    RunStatusPolicy(),
)


def run_policy(policy: Policy, ctx: BundleContext) -> list[CheckResult]:
    """Run one policy; an error inside it becomes a failed check naming the policy, never a crash."""
    try:
        return list(policy.check(ctx))
    except BenchsealError as exc:
        return [failed(policy.name, exc.message)]
    except Exception as exc:  # tampered input can break any parser; report it, do not crash
        return [failed(policy.name, f"could not be checked: {type(exc).__name__}: {exc}")]


def verify_bundle(
    bundle_dir: Path,
    *,
    public_keys: list[Path] | None = None,
    trusted_dir: Path | None = None,
    require_signature: bool = True,
    allow_partial: bool = False,
    policies: Iterable[Policy] | None = None,
    model_dir: Path | None = None,
) -> VerificationReport:
    """Verify a bundle offline; bad input (no bundle, unreadable keys) raises, everything else is reported."""
    from benchseal.reports.seal.keys import load_trusted_keys
    from benchseal.reports.verify.recompute import RECOMPUTE_CHECKS

    bundle_dir = Path(bundle_dir)
    if not bundle_dir.is_dir():
        raise BundleError("bundle directory not found", where=str(bundle_dir), hint="pass the run's output directory")
    if not any((bundle_dir / n).is_file() for n in (layout.RUN_JSON, layout.STATEMENT_DSSE, layout.STATEMENT_JSON)):
        raise BundleError("not an evidence bundle: no run.json and no statement", where=str(bundle_dir))
    if require_signature and not public_keys and trusted_dir is None:
        raise UsageError("no trusted public key given", hint="pass --key PUBLIC.pem or --trusted-keys DIR")
    keys = load_trusted_keys(public_keys, trusted_dir) if (public_keys or trusted_dir is not None) else {}
    ctx = BundleContext(bundle_dir, keys, require_signature=require_signature, allow_partial=allow_partial)
    report = VerificationReport(str(bundle_dir))
    chosen = list(policies if policies is not None else (*INTEGRITY_POLICIES, *RECOMPUTE_CHECKS))
    if model_dir is not None:  # the weights are at hand: re-hash them and recount the parameters
        from benchseal.reports.verify.recompute import ModelFilesCheck

        chosen.append(ModelFilesCheck(model_dir))
    for policy in chosen:
        report.checks.extend(run_policy(policy, ctx))
    return report
