"""The verdicts of the probe audits (cache, accuracy under load) from their rows in
``perf/audits.jsonl`` (written by :mod:`.probes`). Pure: verify re-runs them on the stored rows.

Row shape: ``{"probe": "cache"|"accuracy", "phase": ..., "item": i, "record": RequestRecord,
"text_sha256": ..., "during_load": bool}``.
"""

from __future__ import annotations

import statistics
from typing import Any

from benchseal.schema import PerfAudit

# cache: a repeated prompt's decode time per output token below CACHE_DECODE_RATIO of a unique
# prompt's (and faster by more than CACHE_MIN_DIFF_MS per token) means the answer came from a
# response cache. Prefix caching skips only the prefill: it lowers TTFT, never the decode time, so
# a TTFT speed-up alone is recorded and allowed. The whole answer must also come faster: the repeats'
# median time from send to end below CACHE_DECODE_RATIO of the unique prompts'. A server that streams
# several tokens in one chunk (the real vLLM's API server on a busy CPU: its loop lags the engine) shows
# a decode time near 0 from chunk times while the answer takes as long as ever; a response cache
# answers the whole request at once.
CACHE_DECODE_RATIO = 0.5
CACHE_MIN_DIFF_MS = 0.2
CACHE_MIN_OK = 3
# accuracy under load: the share of greedy items whose answer under load equals the answer at rest.
ACCURACY_MATCH_MIN = 0.75


def _ok(rows: list[dict[str, Any]], phase: str) -> tuple[list[dict[str, Any]], int]:
    mine = [r for r in rows if r.get("phase") == phase]
    return [r for r in mine if isinstance(r.get("record"), dict) and r["record"].get("status") == "ok"], len(mine)


def _decode_ms(rec: dict[str, Any]) -> float | None:
    out, first, end = rec.get("output_tokens"), rec.get("first_token_s"), rec.get("end_s")
    if not isinstance(out, int) or out < 2 or not isinstance(first, (int, float)) or not isinstance(end, (int, float)):
        return None
    return (end - first) * 1e3 / (out - 1)


def _ttft_ms(rec: dict[str, Any]) -> float | None:
    first, send = rec.get("first_token_s"), rec.get("send_s")
    if not isinstance(first, (int, float)) or not isinstance(send, (int, float)):
        return None
    return (first - send) * 1e3


def _e2e_ms(rec: dict[str, Any]) -> float | None:
    end, send = rec.get("end_s"), rec.get("send_s")
    if not isinstance(end, (int, float)) or not isinstance(send, (int, float)):
        return None
    return (end - send) * 1e3


def _median(vals: list[float | None]) -> float | None:
    v = [x for x in vals if x is not None]
    return statistics.median(v) if v else None


def cache_audit(rows: list[dict[str, Any]]) -> PerfAudit:
    """Unique prompts against one prompt repeated (its first send, which fills any cache, left out)."""
    name = "cache"
    if not rows:
        return PerfAudit(name=name, status="not-run", detail="no cache probe was sent")
    uniq, n_uniq = _ok(rows, "unique")
    rep_all, n_rep = _ok(rows, "repeated")
    rep = [r for r in rep_all if r.get("item") != 0]
    u_dec, r_dec = _median([_decode_ms(r["record"]) for r in uniq]), _median([_decode_ms(r["record"]) for r in rep])
    u_ttft, r_ttft = _median([_ttft_ms(r["record"]) for r in uniq]), _median([_ttft_ms(r["record"]) for r in rep])
    if len(uniq) < CACHE_MIN_OK or len(rep) < CACHE_MIN_OK or u_dec is None or r_dec is None:
        return PerfAudit(name=name, status="fail", touches=["*"],
                         detail=f"not established: {len(uniq)} of {n_uniq} unique and {len(rep)} of {n_rep - 1} "
                                f"repeated probe requests completed with 2 or more output tokens "
                                f"(at least {CACHE_MIN_OK} each needed)")
    u_e2e, r_e2e = _median([_e2e_ms(r["record"]) for r in uniq]), _median([_e2e_ms(r["record"]) for r in rep])
    detail = (f"decode {u_dec:.2f} ms/token for {len(uniq)} unique prompts, {r_dec:.2f} ms/token for {len(rep)} "
              f"repeats of one prompt (bound: repeats at least {CACHE_DECODE_RATIO:g}x the unique time); "
              f"TTFT {u_ttft:.1f} ms unique, {r_ttft:.1f} ms repeated")
    if u_e2e is not None and r_e2e is not None:
        detail += f"; whole answer {u_e2e:.1f} ms unique, {r_e2e:.1f} ms repeated"
    faster_decode = r_dec < CACHE_DECODE_RATIO * u_dec and u_dec - r_dec > CACHE_MIN_DIFF_MS
    faster_whole = u_e2e is None or r_e2e is None or r_e2e < CACHE_DECODE_RATIO * u_e2e
    if faster_decode and not faster_whole:
        detail += " (the repeats' tokens came in fewer chunks but the answers took as long: chunking, not a cache)"
    elif faster_decode:
        return PerfAudit(name=name, status="fail", touches=["*"],
                         detail=detail + "; repeated prompts decode faster than a model can: answers may come from "
                                         "a response cache")
    if u_ttft and r_ttft is not None and r_ttft < 0.8 * u_ttft:
        detail += " (a TTFT-only speed-up: prefix caching, allowed)"
    return PerfAudit(name=name, status="pass", detail=detail, touches=["*"])


def accuracy_audit(rows: list[dict[str, Any]]) -> PerfAudit:
    """Greedy answers under load equal to the answers at rest (the served model did not change)."""
    name = "accuracy-under-load"
    if not rows:
        return PerfAudit(name=name, status="not-run", detail="no accuracy probe was sent")
    rest, n_rest = _ok(rows, "rest")
    load, n_load = _ok(rows, "load")
    overlapped = [r for r in load if r.get("during_load")]
    if not overlapped:
        return PerfAudit(name=name, status="not-run",
                         detail=f"none of {n_load} probes under load was in flight during the load point "
                                f"(it ended first; a longer load point runs it)")
    at_rest = {r.get("item"): r.get("text_sha256") for r in rest}
    compared = [r for r in overlapped if r.get("item") in at_rest]
    matched = sum(at_rest[r.get("item")] == r.get("text_sha256") for r in compared)
    failed = n_load - len(load)
    detail = (f"{matched} of {len(compared)} greedy items gave the same answer under load as at rest "
              f"({n_rest} sent at rest, {n_load} under load, {failed} failed under load; "
              f"at least {ACCURACY_MATCH_MIN:.0%} must match)")
    if not compared or failed or matched < ACCURACY_MATCH_MIN * len(compared):
        return PerfAudit(name=name, status="fail", touches=["*"],
                         detail=detail + "; the model answering under load may not be the one measured at rest")
    return PerfAudit(name=name, status="pass", detail=detail, touches=["*"])
