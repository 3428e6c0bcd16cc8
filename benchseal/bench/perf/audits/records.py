"""The audits read from the request records alone (docs/metrics.md, "Audits"): first content,
output consistency, prompt reuse. Pure functions of ``perf/requests.jsonl``'s counted records."""

from __future__ import annotations

import statistics
from collections import Counter
from typing import Any

from benchseal.schema import PerfAudit, RequestRecord

# first content: a request is "blank-led" when its first chunk was whitespace only and the first
# non-whitespace text came more than BLANK_GAP_MIN_MS later and later than the blank itself took
# (the blank came early and the wait moved behind it); the audit fails above BLANK_SHARE_MAX.
BLANK_GAP_MIN_MS = 100.0
BLANK_SHARE_MAX = 0.05
# output consistency: the share of completed requests allowed to break a rule, and the tolerance
# of the client tokenizer's count against the server's usage. The client count is one-sided
# evidence (docs/metrics.md, "Audits"): re-tokenising the detokenised text of a token sequence the
# tokenizer would not itself produce (a random or weak model's output) gives a different count,
# measured 1.7x as many tokens on the tiny test Llama (scripts/retokenise_band.py), never more than
# one fewer; so only a server usage ABOVE the client's count (beyond the tolerance) is evidence
# against the server. The server's own streamed token ids (vLLM ``return_token_ids``) are exact.
INCONSISTENT_SHARE_MAX = 0.01
TOKENIZER_TOL_TOKENS = 2
TOKENIZER_TOL_REL = 0.10
FIRST_CONTENT_TOUCHES = ["ttft_ms", "tpot_ms", "itl_ms"]


def _ms(x: float) -> str:
    return f"{x:.1f} ms"


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
    blank = 0
    for a, c in zip(ttft, ttfc):
        gap = c - a
        if gap > BLANK_GAP_MIN_MS and gap > a:
            blank += 1
    share = blank / len(seen)
    detail = (f"{len(seen)} requests: median time to first chunk {_ms(statistics.median(ttft))}, to first "
              f"non-whitespace text {_ms(statistics.median(ttfc))}; {blank} led by a blank chunk and then a wait "
              f"over {BLANK_GAP_MIN_MS:g} ms ({share:.1%}, limit {BLANK_SHARE_MAX:.0%})")
    if share > BLANK_SHARE_MAX:
        return PerfAudit(name=name, status="fail", touches=FIRST_CONTENT_TOUCHES,
                         detail=detail + "; TTFT measures a blank chunk, not the first token: use ttfc_ms")
    return PerfAudit(name=name, status="pass", detail=detail, touches=FIRST_CONTENT_TOUCHES)


def _tokenizer_disagrees(srv: int, cli: int) -> bool:
    """The server counted more output tokens than the client tokenizer finds in the text, beyond the
    tolerance (one-sided: a client count above usage is what re-tokenising gives for token sequences
    the tokenizer would not produce itself, so it is no evidence against the server)."""
    return srv - cli > max(TOKENIZER_TOL_TOKENS, TOKENIZER_TOL_REL * max(srv, cli))


def output_consistency_audit(records: list[RequestRecord]) -> PerfAudit:
    """Server usage vs streamed text events vs the server's streamed token ids (exact) vs the client
    tokenizer (one-sided band); exactly one finish per request; output length inside its band (never
    above max_tokens; equal to it when the length was enforced and the server says it stopped for
    length)."""
    name = "output-consistency"
    ok = [r for r in records if r.status == "ok"]
    if not ok:
        return PerfAudit(name=name, status="not-run", detail="no completed request")
    broken: Counter[str] = Counter()
    compared_cli = compared_ids = cli_above = 0
    for r in ok:
        srv, cli, chunks = r.output_tokens_server, r.output_tokens_client, len(r.chunk_s)
        ids = r.output_token_ids
        if srv is not None and srv < chunks:
            broken["server usage below the text events streamed"] += 1
        if srv is not None and ids is not None:
            compared_ids += 1
            if srv != ids:
                broken["server usage and its streamed token ids disagree"] += 1
        if srv is not None and cli is not None:
            compared_cli += 1
            if _tokenizer_disagrees(srv, cli):
                broken["server usage above the client tokenizer's count"] += 1
            elif cli - srv > max(TOKENIZER_TOL_TOKENS, TOKENIZER_TOL_REL * max(srv, cli)):
                cli_above += 1
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
    detail = (f"{len(ok)} completed requests ({with_usage} with server usage, {compared_ids} with the server's "
              f"token ids, {compared_cli} also counted by the client tokenizer)")
    if cli_above:
        detail += (f"; the client tokenizer found more tokens than usage in {cli_above} (re-tokenising text the "
                   f"tokenizer would not produce itself; not evidence against the server)")
    touches = ["output_token_throughput", "total_token_throughput", "tpot_ms"]
    if broken:
        parts = ", ".join(f"{k}: {v}" for k, v in sorted(broken.items(), key=lambda kv: (-kv[1], kv[0])))
        detail += f"; {parts}"
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
