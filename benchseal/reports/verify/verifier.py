"""Offline verification of a signed evidence bundle.

Verification is a list of small policies, each checking one thing and returning named results
(sigstore-python style). :func:`verify_bundle` runs them all, even after a failure, so the report
says exactly what differs: the signature, the statement, each file digest, the predicate, the run
status, and every summary and verdict recomputed from the raw evidence
(:mod:`benchseal.reports.verify.recompute`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Iterable

from benchseal import bundle as layout
from benchseal.errors import BundleError, UsageError
from benchseal.reports.seal.keys import load_trusted_keys
from benchseal.reports.verify.derived import DERIVED_CHECKS
from benchseal.reports.verify.files import BundleFilesPolicy
from benchseal.reports.verify.integrity import INTEGRITY_POLICIES
from benchseal.reports.verify.policy import BundleContext, Policy, VerificationReport, failed, run_policy
from benchseal.reports.verify.recompute import RECOMPUTE_CHECKS, ModelCountsCheck, ModelFilesCheck
from benchseal.reports.verify.rerender import ReportsCheck


def verify_bundle(
    bundle_dir: Path,
    *,
    public_keys: list[Path] | None = None,
    trusted_dir: Path | None = None,
    require_signature: bool = True,
    allow_partial: bool = False,
    policies: Iterable[Policy] | None = None,
    model_dir: Path | None = None,
    programs: list[Path] | None = None,
    require_all_keys: bool = False,
    model_signing: Path | None = None,
    tsa_certs: Path | None = None,
) -> VerificationReport:
    """Verify a bundle offline; bad input (no bundle, unreadable keys) raises, everything else is reported.

    ``programs``: program files the verifier trusts besides its configs/programs (``--program FILE``).
    ``require_all_keys``: every trusted key must have a valid signature (default: at least one).
    ``model_signing``: the OpenSSF model-signing bundle the statement names, checked against it and model.json.
    ``tsa_certs``: the time-stamp authority's PEM chain; every signature must then carry a valid RFC 3161 timestamp.
    The bundle's entries are checked first, without opening any (:mod:`.files`); when one is not a
    regular file (a symlink, a FIFO, a device) nothing else is run, since every other check reads files.
    """

    bundle_dir = Path(bundle_dir)
    if not bundle_dir.is_dir():
        raise BundleError("bundle directory not found", where=str(bundle_dir), hint="pass the run's output directory")
    for p in programs or []:
        if not Path(p).is_file():
            raise UsageError("the program file given with --program is not a file", where=str(p))
    if tsa_certs is not None:
        from benchseal.reports.seal.timestamp import load_tsa_certs

        load_tsa_certs(Path(tsa_certs))  # bad input: one sentence, exit 2
    if model_signing is not None and not Path(model_signing).is_file():
        raise UsageError("the model-signing bundle given with --model-signing is not a file", where=str(model_signing))
    if model_dir is not None and not Path(model_dir).exists():
        raise UsageError("the model path given with --model does not exist", where=str(model_dir))
    if not any((bundle_dir / n).is_file() for n in (layout.RUN_JSON, layout.STATEMENT_DSSE, layout.STATEMENT_JSON)):
        raise BundleError("not an evidence bundle: no run.json and no statement", where=str(bundle_dir))
    if require_signature and not public_keys and trusted_dir is None:
        raise UsageError("no trusted public key given", hint="pass --key PUBLIC.pem or --trusted-keys DIR")
    keys = load_trusted_keys(public_keys, trusted_dir) if (public_keys or trusted_dir is not None) else {}
    ctx = BundleContext(bundle_dir, keys, require_signature=require_signature, allow_partial=allow_partial,
                        programs=[Path(p) for p in programs or []], require_all_keys=require_all_keys,
                        model_signing=Path(model_signing) if model_signing is not None else None,
                        tsa_certs=Path(tsa_certs) if tsa_certs is not None else None)
    report = VerificationReport(str(bundle_dir))
    if policies is None:
        entries = run_policy(BundleFilesPolicy(), ctx)
        report.checks.extend(entries)
        if not all(c.ok for c in entries):
            report.checks.append(failed("verification", "stopped before any file was read: the bundle holds entries "
                                                        "that are not regular files"))
            return report
        chosen = [*INTEGRITY_POLICIES, *(ModelCountsCheck(with_model=model_dir is not None)
                                         if isinstance(c, ModelCountsCheck) else c for c in RECOMPUTE_CHECKS), *DERIVED_CHECKS,
                  ReportsCheck()]
    else:
        chosen = list(policies)
    if model_dir is not None:  # the weights are at hand: re-hash them and recount the parameters
        chosen.append(ModelFilesCheck(model_dir))
    for policy in chosen:
        report.checks.extend(run_policy(policy, ctx))
    return report
