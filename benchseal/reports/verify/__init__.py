"""benchseal.reports.verify: offline verification of a bundle.

Public face: :func:`verify_bundle` — signature, digests, and every figure re-derived by the
functions that produced it (:mod:`benchseal.reports.verify.recompute`).
"""

from benchseal.reports.verify.verifier import verify_bundle

__all__ = ["verify_bundle"]
