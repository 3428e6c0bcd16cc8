"""The audits read from the request records alone (docs/metrics.md, "Audits"): first content,
output consistency, prompt reuse. Pure functions of ``perf/requests.jsonl``'s counted records."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from benchseal.schema import PerfAudit, RequestRecord

# first content: a request is "blank-led" when its first chunk was whitespace only, the first
# non-whitespace text came more than BLANK_GAP_MIN_MS later and later than the blank itself took
# (the blank came early and the wait moved behind it), AND the stream fell silent before that text:
# its longest gap between chunks up to the first text exceeds BLANK_GAP_MIN_MS and BLANK_ITL_FACTOR
# times the request's own median gap after it. A model that generates whitespace tokens first (a
# random or weak model does; seen against the real vLLM on a loaded CPU) streams them at its normal
# inter-token pace, which is no gateway trick; a gateway that sends one blank chunk at once and the
# tokens seconds later leaves a silence many inter-token gaps long. And the blank came early: before
# BLANK_EARLY_SHARE of the median time to first content of all the requests (a gateway's blank comes before
# the model could have produced a token; a model's own whitespace token comes at about the usual time to a
# first token, and a scheduling stall after it -- one request of twelve against the real vLLM with a core
# busy -- is then not a gateway). The audit fails above BLANK_SHARE_MAX.
BLANK_GAP_MIN_MS = 100.0
BLANK_ITL_FACTOR = 4.0
BLANK_EARLY_SHARE = 0.5
BLANK_SHARE_MAX = 0.05
# output consistency: the share of completed requests allowed to break a rule, and the tolerance
# of the client tokenizer's total against the server's (docs/metrics.md, "Audits"). Which count is
# evidence: the server's own streamed token ids (vLLM ``return_token_ids``) are exact, per request.
# Re-tokenising detokenised text is not: for token sequences the tokenizer would not produce itself
# (a random or weak model's output; BPE is not invertible on them) it gives another count, 1.7x as
# many on average on the tiny test Llama (scripts/retokenise_band.py), and sometimes fewer (byte
# tokens that join into one character; 1 of 12 requests by 3+ of 8 tokens against the real vLLM).
# So the client tokenizer is used only for requests without token ids, one-sided and in total: the
# run fails when the server's usage totals more than the client's count plus max(2, 10%). A server
# that inflates usage inflates it systematically; the per-request noise of re-tokenising does not
# survive the sum, and it mostly goes the other way.
INCONSISTENT_SHARE_MAX = 0.01
TOKENIZER_TOL_TOKENS = 2
TOKENIZER_TOL_REL = 0.10
FIRST_CONTENT_TOUCHES = ["ttft_ms", "tpot_ms", "itl_ms"]


def _ms(x: float) -> str:
    return f"{x:.1f} ms"


def _silent_before_text(r: RequestRecord) -> bool:
    """Whether the stream fell silent between its first chunk and its first non-whitespace text for
    longer than BLANK_GAP_MIN_MS and BLANK_ITL_FACTOR times its median inter-chunk gap after that text.
    Without chunk times, the whole wait counts as one silence."""
    if r.first_content_s is None or r.first_token_s is None:
        return False
    chunks = sorted(r.chunk_s)
    before = [t for t in chunks if t < r.first_content_s] + [r.first_content_s]
    if len(before) < 2:
        return True  # no chunk time before the text: the wait was one silence
    silence_ms = max(b - a for a, b in zip(before, before[1:])) * 1e3
    after = [t for t in chunks if t >= r.first_content_s]
    pace_ms = statistics.median(b - a for a, b in zip(after, after[1:])) * 1e3 if len(after) >= 2 else 0.0
    return silence_ms > max(BLANK_GAP_MIN_MS, BLANK_ITL_FACTOR * pace_ms)


def first_content_audit(records: list[RequestRecord]) -> PerfAudit:
    """Time to the first chunk (TTFT) against time to the first non-whitespace text (TTFC)."""
    name = "first-content"
    ok = [r for r in records if r.status == "ok" and r.first_token_s is not None]
    seen = [r for r in ok if r.first_content_s is not None]
    if not seen:
        why = "no completed request with text" if not ok else "the backend does not record the first non-whitespace text"
        return PerfAudit(name=name, status="not-run", detail=why)
    ttft = [(r.first_token_s - r.send_s) * 1e3 for r in seen]
    ttfc = [(r.first_content_s - r.send_s) * 1e3 for r in seen]
    early = BLANK_EARLY_SHARE * statistics.median(ttfc)
    blank = sum(1 for r, a, c in zip(seen, ttft, ttfc)
                if c - a > BLANK_GAP_MIN_MS and c - a > a and a < early and _silent_before_text(r))
    share = blank / len(seen)
    detail = (f"{len(seen)} requests: median time to first chunk {_ms(statistics.median(ttft))}, to first "
              f"non-whitespace text {_ms(statistics.median(ttfc))}; {blank} led by a blank chunk (before "
              f"{_ms(early)}) and then a silence over {BLANK_GAP_MIN_MS:g} ms and {BLANK_ITL_FACTOR:g}x the request's "
              f"inter-chunk gap ({share:.1%}, limit {BLANK_SHARE_MAX:.0%})")
    if share > BLANK_SHARE_MAX:
        return PerfAudit(name=name, status="fail", touches=FIRST_CONTENT_TOUCHES,
                         detail=detail + "; TTFT measures a blank chunk, not the first token: use ttfc_ms")
    return PerfAudit(name=name, status="pass", detail=detail, touches=FIRST_CONTENT_TOUCHES)


def _usage_above_client(srv: int, cli: int) -> bool:
    """The server's usage (total) above the client tokenizer's count by more than the tolerance."""
    return srv - cli > max(TOKENIZER_TOL_TOKENS, TOKENIZER_TOL_REL * srv)


def output_consistency_audit(records: list[RequestRecord]) -> PerfAudit:
    """Server usage vs streamed text events (never fewer), vs the server's streamed token ids (exact,
    per request) and, for requests without token ids, vs the client tokenizer (one-sided, in total);
    exactly one finish per request; output length inside its band (never above max_tokens; equal to it
    when the length was enforced and the server says it stopped for length)."""
    name = "output-consistency"
    ok = [r for r in records if r.status == "ok"]
    if not ok:
        return PerfAudit(name=name, status="not-run", detail="no completed request")
    broken: Counter[str] = Counter()
    compared_ids = 0
    cli_pairs: list[tuple[int, int]] = []
    for r in ok:
        srv, cli, chunks, ids = r.output_tokens_server, r.output_tokens_client, len(r.chunk_s), r.output_token_ids
        if srv is not None and srv < chunks:
            broken["server usage below the text events streamed"] += 1
        if srv is not None and ids is not None:
            compared_ids += 1
            if srv != ids:
                broken["server usage and its streamed token ids disagree"] += 1
        elif srv is not None and cli is not None:
            cli_pairs.append((srv, cli))
        if r.finish_count is not None and r.finish_count != 1:
            broken["not exactly one finish_reason"] += 1
        out = r.output_tokens
        if out is not None and r.max_tokens is not None:
            if out > r.max_tokens:
                broken["output above max_tokens"] += 1
            elif r.finish_reason == "length" and out < r.max_tokens:
                broken["finish 'length' below max_tokens"] += 1
    n_bad = max(broken.values()) if broken else 0
    with_usage = sum(r.output_tokens_server is not None for r in ok)
    detail = (f"{len(ok)} completed requests ({with_usage} with server usage, {compared_ids} checked against the "
              f"server's token ids, {len(cli_pairs)} against the client tokenizer)")
    inflated = False
    if cli_pairs:
        s_srv, s_cli = sum(p[0] for p in cli_pairs), sum(p[1] for p in cli_pairs)
        inflated = _usage_above_client(s_srv, s_cli)
        detail += (f"; usage totals {s_srv} tokens where the client tokenizer counts {s_cli}"
                   + (f" (usage above it by more than max({TOKENIZER_TOL_TOKENS}, {TOKENIZER_TOL_REL:.0%}))"
                      if inflated else ""))
    touches = ["output_token_throughput", "total_token_throughput", "tpot_ms"]
    if broken:
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(broken.items(), key=lambda kv: (-kv[1], kv[0])))
        detail += f"; {parts}"
    if inflated:
        return PerfAudit(name=name, status="fail", detail=detail + "; the server's usage may be inflated", touches=["*"])
    if n_bad / len(ok) > INCONSISTENT_SHARE_MAX:
        return PerfAudit(name=name, status="fail", detail=detail + f" (limit {INCONSISTENT_SHARE_MAX:.0%} per rule)",
                         touches=["*"])
    return PerfAudit(name=name, status="pass", detail=detail, touches=touches)


def prompt_reuse_audit(records: list[RequestRecord], workload: dict[str, Any]) -> PerfAudit:
    """Every counted request sent a prompt no other counted request sent (across load points and
    repeats), unless the workload allows repeats (``workload.allow_repeats``)."""
    name = "prompt-reuse"
    ids = [r.prompt_id for r in records if r.prompt_id is not None]
    if not ids:
        return PerfAudit(name=name, status="not-run", detail="the records name no prompt (prompt_id)")
    counts = Counter(ids)
    repeated = sum(c - 1 for c in counts.values() if c > 1)
    points = len({r.load_point for r in records})
    detail = (f"{len(ids)} counted requests over {points} load point(s) sent {len(counts)} distinct prompts; "
              f"{repeated} re-sent")
    allow = bool(workload.get("allow_repeats") or (workload.get("spec") or {}).get("allow_repeats"))
    if repeated and not allow:
        return PerfAudit(name=name, status="fail", touches=["*"],
                         detail=detail + f"; a response or prefix cache can serve re-sent prompts: raise the workload's "
                                         f"num_prompts to at least {len(ids)} (or set allow_repeats: true)")
    if repeated:
        detail += " (the workload allows repeats)"
    return PerfAudit(name=name, status="pass", detail=detail, touches=["*"])
