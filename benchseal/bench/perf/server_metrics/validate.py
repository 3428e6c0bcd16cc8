"""Exposition validation: a series that cannot be what its family means is dropped, with its reason,
before anything is derived from it, so it never becomes a figure or a reconciliation.

Checked, per family a figure reads (the names of :data:`derive.DIALECTS`; other families are kept in
the raw scrape and never read) and per scrape; the rules are documented in docs/metrics.md,
"Server-side metrics", "What a scrape must satisfy":

- **no duplicate series**: the same name with the same labels twice (a summing parser would double it);
- **counters** (``*_total``): finite, not negative, at most :data:`MAX_COUNT`;
- **histograms** (``_bucket``/``_count``/``_sum`` of one series, i.e. one label set without ``le``):
  every ``le`` a number, not negative (latencies), a ``+Inf`` bucket, bucket counts finite, not
  negative, at most :data:`MAX_COUNT` and not decreasing with ``le``, ``_count`` equal to the ``+Inf``
  bucket (Prometheus' client libraries write them from the same counter), ``_sum`` finite, not
  negative and at most :data:`MAX_SECONDS`;
- **gauges**: requests running / waiting finite, not negative, at most :data:`MAX_REQUESTS`; KV-cache
  usage a fraction in [0, 1].

Across the two scrapes of a window, counters and buckets that go down are refused by the derivation
(the server restarted).
"""

from __future__ import annotations

import math

from benchseal.bench.perf.server_metrics.parse import Metrics, _parse_value

MAX_COUNT = 1e15  # tokens, requests, observations: far above any server's uptime total
MAX_SECONDS = 1e12  # a histogram's _sum of latencies in seconds
MAX_REQUESTS = 1e7  # requests running or waiting at once
KIND_BY_FIGURE = {"ttft": "histogram", "itl": "histogram", "e2el": "histogram", "queue": "histogram",
                  "prompt_tokens": "counter", "generation_tokens": "counter", "requests": "counter",
                  "running": "requests", "waiting": "requests", "kv_cache_usage": "fraction"}


def _key(labels: dict[str, str], drop: str | None = None) -> tuple:
    return tuple(sorted((k, v) for k, v in labels.items() if k != drop))


def _duplicates(m: Metrics, name: str) -> bool:
    seen: set[tuple] = set()
    for labels, _ in m.series(name):
        k = _key(labels)
        if k in seen:
            return True
        seen.add(k)
    return False


def _check_counter(m: Metrics, name: str) -> str | None:
    for _, v in m.series(name):
        if not math.isfinite(v) or v < 0 or v > MAX_COUNT:
            return f"a counter value of {v:g} (a counter is a finite count from 0 to {MAX_COUNT:g})"
    return None


def _check_gauge(m: Metrics, name: str, kind: str) -> str | None:
    for _, v in m.series(name):
        if kind == "fraction" and not (math.isfinite(v) and 0 <= v <= 1):
            return f"a usage of {v:g} (KV-cache usage is a fraction from 0 to 1)"
        if kind == "requests" and not (math.isfinite(v) and 0 <= v <= MAX_REQUESTS):
            return f"{v:g} requests (a number of requests from 0 to {MAX_REQUESTS:g})"
    return None


def _check_histogram(m: Metrics, fam: str) -> str | None:
    series: dict[tuple, list[tuple[float, float]]] = {}
    for labels, v in m.series(fam + "_bucket"):
        if "le" not in labels:
            return "a bucket without an 'le' label"
        try:
            le = _parse_value(labels["le"])
        except ValueError:
            return f"a bucket bound {labels['le'][:20]!r} that is not a number"
        if math.isnan(le) or le < 0:
            return f"a bucket bound of {le:g} (latency bounds are not negative)"
        if not math.isfinite(v) or v < 0 or v > MAX_COUNT:
            return f"a bucket count of {v:g}"
        series.setdefault(_key(labels, "le"), []).append((le, v))
    counts = {_key(lab): v for lab, v in m.series(fam + "_count")}
    sums = {_key(lab): v for lab, v in m.series(fam + "_sum")}
    for k, v in sums.items():
        if not math.isfinite(v) or v < 0 or v > MAX_SECONDS:
            return f"a _sum of {v:g} (a sum of latencies is finite and not negative)"
    for k, c in counts.items():
        if not math.isfinite(c) or c < 0 or c > MAX_COUNT:
            return f"a _count of {c:g}"
        buckets = series.get(k)
        if not buckets:
            return "a _count without buckets"
        buckets.sort()
        if not math.isinf(buckets[-1][0]):
            return "no +Inf bucket"
        if any(b[1] < a[1] for a, b in zip(buckets, buckets[1:])):
            return "bucket counts that decrease as the bound grows (buckets are cumulative)"
        if len({le for le, _ in buckets}) != len(buckets):
            return "the same bucket bound twice"
        inf = buckets[-1][1]
        if abs(c - inf) > 1e-9 * max(1.0, inf):
            return f"a _count of {c:g} that differs from its +Inf bucket ({inf:g})"
    for k in series:
        if k not in counts:
            return "buckets without a _count"
    return None


def validate(m: Metrics, figures: dict[str, tuple[str, ...]]) -> dict[str, str]:
    """Drop from ``m`` (in place) every family a figure reads that breaks a rule of this module;
    returns {family: reason}. ``figures`` is one dialect of :data:`derive.DIALECTS`."""
    dropped: dict[str, str] = {}
    for figure, names in figures.items():
        kind = KIND_BY_FIGURE.get(figure)
        for fam in names:
            parts = (fam + "_bucket", fam + "_count", fam + "_sum") if kind == "histogram" else (fam,)
            if not any(m.series(p) for p in parts):
                continue
            why = next((f"duplicate series of {p}" for p in parts if _duplicates(m, p)), None)
            if why is None:
                if kind == "histogram":
                    why = _check_histogram(m, fam)
                elif kind == "counter":
                    why = _check_counter(m, fam)
                elif kind in ("requests", "fraction"):
                    why = _check_gauge(m, fam, kind)
            if why is not None:
                dropped[fam] = why
                for p in parts:
                    m.samples.pop(p, None)
    return dropped


__all__ = ["KIND_BY_FIGURE", "MAX_COUNT", "MAX_REQUESTS", "MAX_SECONDS", "validate"]
