"""The record audits on hand-made records with known answers (first content, output consistency,
prompt reuse) and derive_audits' order and skips."""

from __future__ import annotations

from benchseal.bench.perf.audits import AUDIT_NAMES, derive_audits
from benchseal.bench.perf.audits.records import first_content_audit, output_consistency_audit, prompt_reuse_audit
from benchseal.schema import RequestRecord


def rec(i, *, ttft=0.02, ttfc=None, out=8, srv=8, cli=None, finish=1, max_tokens=8, lp="lp", prompt=None, status="ok",
        reason="length"):
    chunks = [0.0 + ttft + k * 0.01 for k in range(min(out, srv if srv is not None else out))]
    return RequestRecord(load_point=lp, request_id=i, prompt_id=i if prompt is None else prompt, send_s=0.0,
                         first_token_s=ttft, first_content_s=ttft if ttfc is None else ttfc, end_s=ttft + 0.1,
                         chunk_s=chunks, output_tokens=srv if srv is not None else out, output_tokens_server=srv,
                         output_tokens_client=cli, finish_count=finish, max_tokens=max_tokens, status=status,
                         finish_reason=reason)


def test_first_content_passes_when_text_comes_with_the_first_chunk():
    a = first_content_audit([rec(i) for i in range(20)])
    assert a.status == "pass" and "0 led by a blank chunk" in a.detail


def test_first_content_fails_for_a_blank_chunk_then_a_wait():
    # 7.4 ms to a blank chunk, 4 s to the first token (the gateway in issue 25)
    recs = [rec(i, ttft=0.0074, ttfc=4.0) for i in range(3)] + [rec(i + 3) for i in range(17)]
    a = first_content_audit(recs)
    assert a.status == "fail" and "3 led by a blank chunk" in a.detail and "ttft_ms" in a.touches
    # a model whose first token is a newline, one ITL before its text, is not a gateway
    assert first_content_audit([rec(i, ttft=0.05, ttfc=0.07) for i in range(20)]).status == "pass"


def _paced(i, *, blanks, gap_s, itl_s, tokens=8):
    """A stream: ``blanks`` whitespace chunks from 20 ms on at ``itl_s``, then a silence of ``gap_s``, then
    the text and the rest at ``itl_s``."""
    chunks = [0.02 + k * itl_s for k in range(blanks)]
    first_text = chunks[-1] + gap_s
    chunks += [first_text + k * itl_s for k in range(tokens - blanks)]
    return RequestRecord(load_point="lp", request_id=i, prompt_id=i, send_s=0.0, first_token_s=chunks[0],
                         first_content_s=first_text, end_s=chunks[-1] + 0.01, chunk_s=chunks, output_tokens=tokens,
                         output_tokens_server=tokens, finish_count=1, max_tokens=tokens, status="ok", finish_reason="length")


def test_first_content_tells_a_slow_model_generating_whitespace_from_a_gateway():
    # a model on a loaded CPU (150 ms per token) whose first three tokens are whitespace: text 450 ms after
    # the first chunk, at the model's own pace -- not a gateway (seen against the real vLLM, issue 25)
    assert first_content_audit([_paced(i, blanks=3, gap_s=0.15, itl_s=0.15) for i in range(20)]).status == "pass"
    # one blank chunk, then 2 s of silence, then tokens at 150 ms: the wait is many inter-token gaps long
    a = first_content_audit([_paced(i, blanks=1, gap_s=2.0, itl_s=0.15) for i in range(20)])
    assert a.status == "fail" and "20 led by a blank chunk" in a.detail
    # a silence just over 4 gaps fails, just under passes
    assert first_content_audit([_paced(i, blanks=1, gap_s=0.65, itl_s=0.15) for i in range(20)]).status == "fail"
    assert first_content_audit([_paced(i, blanks=1, gap_s=0.55, itl_s=0.15) for i in range(20)]).status == "pass"


def test_first_content_not_run_without_the_field():
    r = rec(0).model_copy(update={"first_content_s": None})
    assert first_content_audit([r]).status == "not-run"


def test_output_consistency_rules():
    assert output_consistency_audit([rec(i) for i in range(10)]).status == "pass"
    a = output_consistency_audit([rec(i, srv=16) for i in range(10)])  # usage says 16, 8 requested
    assert a.status == "fail" and "output above max_tokens: 10" in a.detail and a.touches == ["*"]
    a = output_consistency_audit([rec(i, out=8, srv=4) for i in range(10)])
    assert a.status == "fail" and "finish 'length' below max_tokens" in a.detail
    a = output_consistency_audit([rec(i, finish=2) for i in range(10)])
    assert a.status == "fail" and "not exactly one finish_reason: 10" in a.detail
    assert output_consistency_audit([rec(i, cli=9) for i in range(10)]).status == "pass"  # inside the tolerance
    a = output_consistency_audit([rec(i, srv=8, cli=3) for i in range(10)])  # usage above what the text holds
    assert a.status == "fail" and "usage totals 80 tokens where the client tokenizer counts 30" in a.detail
    assert "may be inflated" in a.detail and a.touches == ["*"]
    # re-tokenising a random model's text finds more tokens than it generated, and now and then fewer
    # (BPE is not invertible on arbitrary token sequences): no evidence per request, only in total
    noisy = [rec(0, srv=8, cli=3)] + [rec(i, srv=8, cli=14) for i in range(1, 12)]
    a = output_consistency_audit(noisy)
    assert a.status == "pass" and "usage totals 96 tokens where the client tokenizer counts 157" in a.detail
    one_off = [rec(0, srv=8, cli=1)] + [rec(i, srv=8, cli=8) for i in range(1, 10)]
    assert output_consistency_audit(one_off).status == "pass"  # 7 of 80 tokens: within 10% of the total
    assert output_consistency_audit([rec(i, srv=8, cli=7) for i in range(10)]).status == "fail"  # 10 of 80: beyond
    stop_short = [rec(i, srv=5, reason="stop") for i in range(10)]
    assert output_consistency_audit(stop_short).status == "pass"  # stopping early is not a length violation


def test_output_consistency_counts_the_servers_token_ids_exactly():
    def ids(r, n):
        return r.model_copy(update={"output_token_ids": n})

    # with token ids the client tokenizer is not used against the server (here it would say "inflated")
    a = output_consistency_audit([ids(rec(i, cli=3), 8) for i in range(10)])
    assert a.status == "pass" and "10 checked against the server's token ids, 0 against the client" in a.detail
    a = output_consistency_audit([ids(rec(i, out=8, srv=9, max_tokens=16, reason="stop"), 8) for i in range(10)])
    assert a.status == "fail" and "server usage and its streamed token ids disagree: 10" in a.detail


def test_prompt_reuse():
    once = [rec(i, lp="a") for i in range(4)] + [rec(i + 4, lp="b") for i in range(4)]
    assert prompt_reuse_audit(once, {}).status == "pass"
    again = [rec(i, lp="a") for i in range(4)] + [rec(i + 4, lp="b", prompt=i) for i in range(4)]
    a = prompt_reuse_audit(again, {})
    assert a.status == "fail" and "4 re-sent" in a.detail and "at least 8" in a.detail
    assert prompt_reuse_audit(again, {"spec": {"allow_repeats": True}}).status == "pass"


def test_derive_audits_order_and_skips():
    out = derive_audits({"workload": {}}, [rec(i) for i in range(4)], [{"skip": "cache", "reason": "asked to"}])
    assert tuple(a.name for a in out) == AUDIT_NAMES
    by = {a.name: a for a in out}
    assert (by["cache"].status, by["cache"].detail) == ("not-run", "asked to")
    assert by["accuracy-under-load"].status == "not-run"


def test_fixed_prompts_note_says_prompts_will_be_resent():
    from benchseal.bench.perf.audits import fixed_prompts_note, prompts_for_unique_load
    from benchseal.bench.perf.run import LoadSpec
    from benchseal.bench.perf.workload import WorkloadSpec

    load = LoadSpec(concurrency=[1, 3], num_requests=6, warmup_requests=1)
    six = WorkloadSpec(num_prompts=6)
    note = fixed_prompts_note(six, load)
    assert note and "--num-prompts 6 is fewer than the 14 requests" in note and "prompt-reuse audit will fail" in note
    assert prompts_for_unique_load(six, load).num_prompts == 14
    assert fixed_prompts_note(WorkloadSpec(num_prompts=14), load) is None
    assert fixed_prompts_note(WorkloadSpec(num_prompts=6, allow_repeats=True), load) is None


def test_one_whitespace_token_then_a_stall_is_not_a_gateway():
    # the real vLLM with a core busy: 11 requests with text at about 30 ms, one whose first token was a
    # space (at 21 ms, the usual time) followed by a 120 ms scheduling stall; its blank was not early
    recs = [_paced(i, blanks=0 + 1, gap_s=0.01, itl_s=0.004) for i in range(11)]
    stall = _paced(11, blanks=1, gap_s=0.12, itl_s=0.004)
    a = first_content_audit(recs + [stall])
    assert a.status == "pass" and "0 led by a blank chunk" in a.detail, a.detail
    # the same stall after a blank sent at once (1 ms), as a gateway would, is caught
    early = stall.model_copy(update={"first_token_s": 0.001, "chunk_s": [0.001] + stall.chunk_s[1:]})
    assert "1 led by a blank chunk" in first_content_audit(recs + [early]).detail
