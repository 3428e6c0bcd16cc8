"""Server-side metrics: the server's own Prometheus ``/metrics`` next to the client's timings.

Three parts, each usable on its own (``verify`` reuses the last two on the stored raw scrapes):

- **Scraping** (:func:`scrape`, :class:`Collector`): ``GET`` the metrics URL (discovered as the base
  URL without ``/v1`` + ``/metrics``, or given with ``--server-metrics URL``) at the start and end of
  every load point and every ``interval_s`` during it. A response is bounded in size
  (:data:`MAX_BYTES`) and time (:data:`TIMEOUT_S`), redirects are not followed, and a failure is
  recorded (never raised): the run goes on and the figures it would have given are absent with the
  reason. Every attempt is written, with its body, to ``perf/server_scrapes.jsonl`` as it happens.
- **Parsing** (:func:`parse_prometheus`): the Prometheus text exposition format (0.0.4; OpenMetrics
  text is accepted), defensively: malformed lines are counted and skipped, line, label and sample
  counts are bounded.
- **Derivation** (:func:`derive_report`): per load point, the delta between the scrape at its start
  and the scrape at its end (counters and histogram buckets are cumulative) -> server TTFT, ITL,
  end-to-end and queue time (mean = delta sum / delta count; percentiles estimated from the buckets
  by linear interpolation, as Prometheus' ``histogram_quantile`` does), prompt and generation
  tokens, finished requests; gauges (running, waiting, KV-cache usage) summarised over the scrapes
  taken during the load point; and the client/server reconciliation (client minus server TTFT and
  E2E, client-counted against server-counted tokens, per request where the server returned
  per-request metrics). Definitions: docs/metrics.md, "Server-side metrics".

The parts live in :mod:`.collect` (scraping), :mod:`.parse` (the exposition format),
:mod:`.validate` (what a scrape must satisfy: an implausible series is dropped with its reason before
any figure is derived) and :mod:`.derive` (figures and reconciliation); this package re-exports their
public names.
"""

from __future__ import annotations

from benchseal.bench.perf.server_metrics.collect import (DEFAULT_INTERVAL_S, END_SETTLE_S, MAX_BYTES, TIMEOUT_S,
                                                         Collector, ServerMetricsOptions, discover_url, redact,
                                                         scrape)
from benchseal.bench.perf.server_metrics.derive import (COUNTERS, DIALECTS, GAUGES, HISTOGRAMS, QUANTILES, _dialect,
                                                        derive_load_point, derive_report, histogram_quantile,
                                                        per_request_timing, reconcile)
from benchseal.bench.perf.server_metrics.validate import validate
from benchseal.bench.perf.server_metrics.parse import (MAX_LABELS, MAX_LINE_CHARS, MAX_LINES, Metrics, _parse_value,
                                                       parse_prometheus)

__all__ = ["Collector", "DIALECTS", "ServerMetricsOptions", "derive_load_point", "derive_report", "discover_url",
           "histogram_quantile", "parse_prometheus", "per_request_timing", "reconcile", "scrape", "validate"]
