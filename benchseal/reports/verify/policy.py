"""Verification policies as small composable objects (sigstore-python style): each has a ``name``
and ``check(ctx)`` yielding named :class:`CheckResult` s; :func:`run_policy` turns an error inside a
policy into a failed check, never a crash."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Iterable, Protocol

from benchseal.bundle import Bundle
from benchseal.errors import BenchsealError
from benchseal.io import read_json


@dataclass(frozen=True)
class CheckResult:
    name: str
    ok: bool
    detail: str
    skipped: bool = False
    not_rederived: bool = False  # present in the bundle, signed, but this verifier could not re-derive it

    @property
    def outcome(self) -> str:
        if self.not_rederived:
            return "NOT RE-DERIVED"
        return "SKIP" if self.skipped else ("PASS" if self.ok else "FAIL")


def passed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail)


def failed(name: str, detail: str) -> CheckResult:
    return CheckResult(name, False, detail)


def skipped(name: str, detail: str) -> CheckResult:
    return CheckResult(name, True, detail, skipped=True)


def not_rederived(name: str, detail: str) -> CheckResult:
    """A figure the bundle states that this verifier could not re-derive: it does not fail the
    verification (the signature covers it) but is listed as such, never reported as passed."""
    return CheckResult(name, True, detail, not_rederived=True)


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

    @property
    def not_rederived(self) -> list[CheckResult]:
        return [c for c in self.checks if c.not_rederived]

    def to_dict(self) -> dict:
        return {"bundle": self.bundle, "ok": self.ok,
                "not_rederived": [{"name": c.name, "detail": c.detail} for c in self.not_rederived],
                "checks": [asdict(c) | {"outcome": c.outcome} for c in self.checks]}


@dataclass
class BundleContext:
    """What the policies share: the bundle, the trusted keys, and what earlier policies established."""

    bundle_dir: Path
    trusted_keys: dict[str, Any]
    require_signature: bool = True
    allow_partial: bool = False
    require_all_keys: bool = False  # every trusted key must have signed (verify --require-all-keys)
    model_signing: Path | None = None  # the model-signing bundle the statement names (verify --model-signing)
    tsa_certs: Path | None = None  # PEM chain of the time-stamp authority the verifier trusts (verify --tsa-cert)
    signed_payload: bytes | None = None  # set when the envelope verified
    statement: dict | None = None  # the signed statement (or, unsigned, statement.json as found)
    programs: list[Path] = field(default_factory=list)  # program files the verifier trusts (--program FILE)
    program_source: str | None = None  # set by the program check: which trusted program program.json equals

    @property
    def bundle(self) -> Bundle:
        """The bundle's typed readers."""
        return Bundle(self.bundle_dir)

    def path(self, rel: str) -> Path:
        return self.bundle_dir / rel

    def json(self, rel: str) -> Any:
        return read_json(self.path(rel)) if self.path(rel).is_file() else None


class Policy(Protocol):
    name: str

    def check(self, ctx: BundleContext) -> Iterable[CheckResult]: ...


def run_policy(policy: Policy, ctx: BundleContext) -> list[CheckResult]:
    """Run one policy; an error inside it becomes a failed check naming the policy, never a crash."""
    try:
        return list(policy.check(ctx))
    except BenchsealError as exc:
        return [failed(policy.name, exc.message)]
    except Exception as exc:  # tampered input can break any parser; report it, do not crash
        return [failed(policy.name, f"could not be checked: {type(exc).__name__}: {exc}")]
