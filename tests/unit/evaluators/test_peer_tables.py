"""The shipped peer tables (configs/peers): provenance and protocol on every row, none decides a verdict."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from benchseal.config import config_dir, config_files
from benchseal.evaluators import compare, load_peers
from benchseal.evaluators.fingerprint import fingerprint
from benchseal.evaluators.peers import PeerRow
from benchseal.evaluators.suites import load_suite
from benchseal.schema import EvalResult

PEERS = config_dir() / "peers"
SHIPPED = sorted(PEERS.rglob("*.yaml"))
# a GitHub source names repository, commit and path: .../owner/repo/blob/<40-hex sha>/<path>[#anchor]
GITHUB = re.compile(r"^https://github\.com/[\w.-]+/[\w.-]+/blob/[0-9a-f]{40}/[^#\s]+(#\S+)?$")
# the two first tables state their protocol in the file's header comment, not per row (their rows are copied
# into bundles' peers.json and re-checked by verify, so they are left as they are)
HEADER_PROTOCOL_ONLY = {"deepseek-v3-base.yaml", "qwen2-72b-base.yaml"}
SUITE_BENCHMARKS = {"MMLU", "C-Eval", "CMMLU", "GSM8K", "ARC-Challenge", "HellaSwag", "TruthfulQA-MC2", "HumanEval"}


def _rows() -> list[tuple[Path, PeerRow]]:
    return [(f, r) for f, t in zip(SHIPPED, load_peers(SHIPPED)) for r in t.rows]


def test_every_shipped_table_loads_and_has_rows():
    assert len(SHIPPED) >= 8, SHIPPED
    for f, t in zip(SHIPPED, load_peers(SHIPPED)):
        assert t.rows, f
        assert t.retrieved, f"{f.name}: say when/where the numbers were copied"


@pytest.mark.parametrize("path,row", _rows(), ids=lambda v: v.name if isinstance(v, Path) else f"{v.model}:{v.benchmark}")
def test_every_row_cites_its_source_and_protocol(path: Path, row: PeerRow):
    assert row.source.startswith("https://"), row.source
    if row.source.startswith("https://github.com/"):
        assert GITHUB.match(row.source), f"{path.name}: a GitHub source needs repository, commit sha and path: {row.source}"
    if path.name in HEADER_PROTOCOL_ONLY:
        assert "protocol" in path.read_text(encoding="utf-8").split("\nname:")[0]
    else:
        assert row.protocol_published, f"{path.name}: {row.model} {row.benchmark}: the protocol as published"
    assert row.protocol.strip() and row.metric.strip()
    assert 0.0 <= row.score <= 100.0, f"{row.model} {row.benchmark}: scores are percent as printed"
    assert row.shots is None or row.shots >= 0
    if row.shots is None:
        assert row.protocol_published and "not stated" in row.protocol_published, "unstated shots must be said so"
    if row.params_active_b is not None:
        assert row.params_total_b is not None and row.params_active_b <= row.params_total_b
    # no published row carries a fingerprint: none is a benchseal/lm-eval run, so none can match a suite's
    assert row.fingerprint is None


def test_chat_tables_are_separate_from_the_default_base_comparison():
    default = {p.resolve() for p in config_files("peers")}
    chat = sorted((PEERS / "chat").glob("*.yaml"))
    assert chat, "the chat/reasoning table ships in configs/peers/chat/"
    for t, f in zip(load_peers(chat), chat):
        assert f.resolve() not in default, "chat tables are never read by a base-model comparison by default"
        assert {r.protocol for r in t.rows} == {"chat"}, f
    for t in load_peers(sorted(default)):
        assert all(r.protocol != "chat" and r.protocol.startswith("base") for r in t.rows), t.name


def test_base_tables_use_the_suites_benchmark_names():
    """Rows of the default (base) tables are named as benchseal suites name their benchmarks, so they show
    up next to the candidate's results (as context); the suites' names are read from the shipped suites."""
    suites = {t.benchmark for s in config_files("suites") for t in load_suite(s).tasks if t.benchmark}
    assert SUITE_BENCHMARKS <= suites | {"HumanEval"}
    for t in load_peers(config_files("peers")):
        assert {r.benchmark for r in t.rows} <= SUITE_BENCHMARKS, t.name


def test_no_shipped_row_is_comparable_with_a_benchseal_result():
    """Every shipped row, against an lm-eval result with a real fingerprint on its benchmark: context only,
    with the reason (shots 'not stated' where the source prints none)."""
    raw = {"lm_eval_version": "0.4.13", "versions": {"t": 1.0}, "n-shot": {"t": 5},
           "configs": {"t": {"task": "t", "test_split": "test", "doc_to_text": "{{q}}", "output_type": "multiple_choice",
                             "metric_list": [{"metric": "acc"}]}}}
    fp = fingerprint(raw, "t", metric="acc", filt="none", protocol={"data_manifest_sha256": "ab" * 32})
    rows = [r for _, r in _rows()]
    results = [EvalResult(suite="s", task="t", metric="acc", value=0.5, stderr=0.01, n=1000, num_fewshot=5, benchmark=b,
                          headline=True, protocol_label="base-ppl", fingerprint=fp)
               for b in sorted({r.benchmark for r in rows})]
    table = compare(results, rows, candidate_name="cand")
    published = [p for p in table.paired if not p.measured]
    assert len(published) == len(rows)
    assert not any(p.comparable or p.result for p in published)
    assert all(p.reason and "context only" in p.reason for p in published)
    unstated = [p for p in published if "shots not stated" in (p.reason or "")]
    assert len(unstated) == sum(r.shots is None for r in rows) > 0
    assert table.domestic_leading is None  # nothing decided: INCONCLUSIVE, never a lead from published rows


def test_unstated_shots_must_be_written_explicitly(tmp_path: Path):
    """shots is required: a row must say its shot count or null (not stated), never omit it."""
    from benchseal.errors import ConfigError

    f = tmp_path / "t.yaml"
    f.write_text("name: t\nrows:\n  - {model: m, origin: domestic, benchmark: MMLU, metric: score, score: 50, "
                 "protocol: base, source: 'https://example.org'}\n", encoding="utf-8")
    with pytest.raises(ConfigError):
        load_peers(f)
    f.write_text(f.read_text().replace("score: 50,", "score: 50, shots: null,"), encoding="utf-8")
    assert load_peers(f)[0].rows[0].shots is None
