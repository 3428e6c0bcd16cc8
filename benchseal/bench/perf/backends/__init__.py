"""Backends: one interface (:mod:`~benchseal.bench.perf.backends.base`, a Protocol each for streaming
and offline backends) and one typed spec per backend (:mod:`~benchseal.bench.perf.backends.spec`),
which builds it. A backend's heavy libraries (torch, vllm) are imported only when it is built.
"""

from benchseal.bench.perf.backends.base import GenRequest, OfflineBackend, StreamingBackend

__all__ = ["GenRequest", "OfflineBackend", "StreamingBackend"]
