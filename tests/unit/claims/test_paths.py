"""The metric-path language: parsing, selectors, fan-out, aggregations, BigInts."""

from __future__ import annotations

import pytest

from benchseal.claims import parse, resolve
from benchseal.errors import ConfigError


DATA = {
    "model": {"params": {"total": "9007199254740993"}, "files": [{"size_bytes": 10}, {"size_bytes": 32}]},
    "perf": {"load_points": [
        {"load_point": "concurrency=1", "concurrency": 1, "ttft_ms": {"p99": 10.0}, "goodput": 2.0, "ok": True},
        {"load_point": "concurrency=4", "concurrency": 4, "ttft_ms": {"p99": 30.0}, "goodput": None, "ok": False},
    ]},
    "eval": {"songjiang-core": {"results": [
        {"task": "ceval-valid", "metric": "acc", "value": 0.8},
        {"task": "ceval-valid", "metric": "acc_norm", "value": 0.7},
        {"task": "my.task", "metric": "acc", "value": 0.6},
    ]}},
}


@pytest.mark.parametrize("path, value", [
    ("perf.load_points[concurrency=1].ttft_ms.p99", 10.0),
    ("perf.load_points[*].ttft_ms.p99|max", 30.0),
    ("perf.load_points[*].ttft_ms.p99|min", 10.0),
    ("perf.load_points[*].ttft_ms.p99|mean", 20.0),
    ("perf.load_points[*].ttft_ms.p99|sum", 40.0),
    ("perf.load_points|count", 2),
    ("perf.load_points[-1].concurrency", 4),
    ("perf.load_points[0].load_point", "concurrency=1"),
    ("perf.load_points[ok=true].concurrency", 1),
    ("perf.load_points[*].ok|all", False),
    ("perf.load_points[*].ok|any", True),
    ("model.files[*].size_bytes|sum", 42),
    ("eval.songjiang-core.results[task=ceval-valid,metric=acc].value", 0.8),
    ('eval."songjiang-core".results[task="my.task"].value', 0.6),
    ("model.params.total|first", 9007199254740993),
])
def test_resolves(path, value):
    res = resolve(path, DATA)
    assert res.found, res
    assert res.value == value and not res.many


def test_fan_out_without_aggregation_is_many_and_drops_nulls():
    res = resolve("perf.load_points[*].goodput", DATA)
    assert res.many and res.value == [2.0] and res.dropped == 1


def test_filter_with_several_matches_fans_out():
    res = resolve("eval.songjiang-core.results[task=ceval-valid].value", DATA)
    assert res.many and res.value == [0.8, 0.7]


@pytest.mark.parametrize("path, missing", [
    ("model.params.active", "model.params.active"),
    ("perf.load_points[concurrency=2].ttft_ms.p99", "perf.load_points[concurrency=2]"),
    ("perf.load_points[7].ttft_ms", "perf.load_points[7]"),
    ("hardware.compute.total_tflops.bf16", "hardware"),
    ("perf.load_points[*].nothing|max", "perf.load_points[*].nothing"),
])
def test_missing_names_the_first_missing_part(path, missing):
    res = resolve(path, DATA)
    assert not res.found and res.missing == missing


def test_aggregating_non_numbers_is_an_error_not_a_crash():
    res = resolve("perf.load_points[*].load_point|max", DATA)
    assert not res.found and "not a number" in res.error


@pytest.mark.parametrize("bad", ["", "a..b", ".a", "a.", "a.[1]", "a|median2", "a[", "a[]", "a b", "a[x=1,]"])
def test_malformed_paths_raise_config_error(bad):
    with pytest.raises(ConfigError):
        parse(bad)


def test_parse_structure():
    mp = parse("eval.s.results[task=a,metric=acc].value|max")
    assert mp.root == "eval" and mp.key_at(1) == "s" and mp.aggregations == ("max",)
    assert mp.segments[2].selectors[0].conds == (("task", "a"), ("metric", "acc"))
