"""The probe audits' verdicts on hand-made probe rows."""

from __future__ import annotations

from benchseal.bench.perf.audits.verdicts import accuracy_audit, cache_audit


def row(probe, phase, item, *, ttft=0.05, itl=0.01, out=16, sha="a", during=None, status="ok"):
    r = {"probe": probe, "phase": phase, "item": item, "text_sha256": sha,
         "record": {"status": status, "send_s": 0.0, "first_token_s": ttft, "end_s": ttft + itl * (out - 1),
                    "output_tokens": out}}
    if during is not None:
        r["during_load"] = during
    return r


def cache_rows(rep_ttft=0.05, rep_itl=0.01):
    return ([row("cache", "unique", i) for i in range(6)]
            + [row("cache", "repeated", i, ttft=rep_ttft, itl=rep_itl) for i in range(7)])


def test_cache_passes_when_repeats_decode_like_unique_prompts():
    a = cache_audit(cache_rows())
    assert a.status == "pass" and "prefix caching" not in a.detail


def test_prefix_caching_lowers_ttft_only_and_passes():
    a = cache_audit(cache_rows(rep_ttft=0.005))
    assert a.status == "pass" and "prefix caching, allowed" in a.detail


def test_response_cache_fails():
    a = cache_audit(cache_rows(rep_ttft=0.001, rep_itl=0.0))
    assert a.status == "fail" and "response cache" in a.detail


def test_cache_probe_that_could_not_run_fails_with_the_numbers():
    rows = [row("cache", "unique", i, status="error") for i in range(6)] + cache_rows()[6:]
    a = cache_audit(rows)
    assert a.status == "fail" and a.detail.startswith("not established: 0 of 6 unique")
    assert cache_audit([]).status == "not-run"


def test_accuracy_under_load():
    rest = [row("accuracy", "rest", i, sha=f"s{i}") for i in range(4)]
    same = [row("accuracy", "load", i, sha=f"s{i}", during=True) for i in range(4)]
    assert accuracy_audit(rest + same).status == "pass"
    swapped = [row("accuracy", "load", i, sha="other", during=True) for i in range(4)]
    a = accuracy_audit(rest + swapped)
    assert a.status == "fail" and a.detail.startswith("0 of 4 greedy items")
    one_off = same[:3] + swapped[3:]
    assert accuracy_audit(rest + one_off).status == "pass"  # 3 of 4 match: batch-dependent numerics allowed
    late = [row("accuracy", "load", i, sha=f"s{i}", during=False) for i in range(4)]
    assert accuracy_audit(rest + late).status == "not-run"


def test_tokens_coalesced_into_one_chunk_are_not_a_cache():
    # the real vLLM's API server on a busy CPU: the repeats' tokens arrive in one chunk (decode 0 ms/token
    # from chunk times) but each whole answer takes as long as a unique prompt's (0.2 s): no cache
    a = cache_audit(cache_rows(rep_ttft=0.2, rep_itl=0.0))
    assert a.status == "pass" and "chunking, not a cache" in a.detail
    # the same chunking with answers in a fifth of the time is a cache
    assert cache_audit(cache_rows(rep_ttft=0.04, rep_itl=0.0)).status == "fail"
