"""The client-bound rule of the client-overhead certificate (bench.perf.certificate), pure and
dependency-free so the summary (bench.perf.metrics) can apply it."""

from __future__ import annotations

from typing import Any

CLIENT_BOUND_FRACTION = 0.5  # a load point at this share of the client's own ceiling is client-bound


def client_bound(request_throughput: float, ceiling: dict[str, Any] | None) -> tuple[float | None, bool | None]:
    """(fraction of the ceiling reached, client-bound) for a load point; (None, None) without a ceiling."""
    if not isinstance(ceiling, dict) or ceiling.get("status") != "measured" or not ceiling.get("request_throughput"):
        return None, None
    frac = request_throughput / float(ceiling["request_throughput"])
    return frac, frac >= CLIENT_BOUND_FRACTION
