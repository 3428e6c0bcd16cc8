"""Hermetic evaluation data (issue 22): two imports of one suite evaluated back to back with one HF
datasets cache each evaluate their own rows, the bundle lists every evaluated item, and the verify
check catches a stored sample that is not an item of the manifest."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchseal.evaluators.datasets import write_mirror
from benchseal.evaluators.items import ITEMS_JSON, item_problems, read_samples
from benchseal.reports.verify.eval_items import EvalItemsCheck
from benchseal.reports.verify.policy import BundleContext
from tests.unit.evaluators.test_data import _arc_rows


def _mirror(root: Path, tag: str) -> Path:
    rows = {"train": _arc_rows(26, f"tr{tag}"), "validation": _arc_rows(2, f"va{tag}"), "test": _arc_rows(3, f"te{tag}")}
    for r in rows["test"]:  # the two imports differ in content, not only in ids
        r["question"] = f"[{tag}] " + r["question"]
    write_mirror(root / "allenai__ai2_arc", {"ARC-Challenge": rows}, dataset="allenai__ai2_arc", hf_path="allenai/ai2_arc")
    return root


def _check(bundle: Path) -> list:
    return list(EvalItemsCheck().check(BundleContext(bundle_dir=bundle, trusted_keys={}, require_signature=False)))


def test_two_imports_back_to_back_each_evaluate_their_own_rows(tiny_llama: Path, tmp_path: Path, monkeypatch):
    from benchseal.evaluators import run_suite

    shared = tmp_path / "one-hf-cache"  # both runs see the same HF cache, as on a shared machine
    monkeypatch.setenv("HF_DATASETS_CACHE", str(shared))
    monkeypatch.setenv("HF_HOME", str(tmp_path / "hf-home"))
    import datasets.config as dc

    monkeypatch.setattr(dc, "HF_DATASETS_CACHE", shared)
    for tag in ("A", "B"):
        data = _mirror(tmp_path / f"data{tag}", tag)
        out = tmp_path / f"bundle{tag}"
        rep = run_suite("arc-challenge", model=str(tiny_llama), out_dir=out, data_dir=data, device="cpu")
        ev = out / "eval" / "arc-challenge"
        docs = [s["doc"] for s in read_samples(ev)["arc_challenge"]]
        assert [d["id"] for d in docs] == [f"te{tag}{i}" for i in range(3)]
        assert all(d["question"].startswith(f"[{tag}] ") for d in docs)
        items = json.loads((ev / ITEMS_JSON).read_text())
        assert items["tasks"]["arc_challenge"]["doc_ids"] == [0, 1, 2]
        assert items["files"]["allenai__ai2_arc/ARC-Challenge/test.jsonl"]["row_sha256"]
        assert not [r for r in rep.not_claim_grade_reasons if r.startswith("evaluated items")]
        assert [c.outcome for c in _check(out)] == ["PASS"]
    assert dc.HF_DATASETS_CACHE == shared  # restored after the run
    assert not list(shared.rglob("*.arrow"))  # nothing was read from, or left in, the shared cache

    # a sample that is not an item of the manifest: B's samples file carrying A's rows
    ev_b = tmp_path / "bundleB" / "eval" / "arc-challenge"
    (ev_b / "samples_arc_challenge.jsonl").write_bytes(
        (tmp_path / "bundleA" / "eval" / "arc-challenge" / "samples_arc_challenge.jsonl").read_bytes())
    res = _check(tmp_path / "bundleB")
    assert [c.outcome for c in res] == ["FAIL"] and "not row 0 of" in res[0].detail

    # one sample dropped: the count no longer matches
    ev_a = tmp_path / "bundleA" / "eval" / "arc-challenge"
    lines = (ev_a / "samples_arc_challenge.jsonl").read_text().splitlines()
    (ev_a / "samples_arc_challenge.jsonl").write_text("\n".join(lines[:2]) + "\n")
    res = _check(tmp_path / "bundleA")
    assert res[0].outcome == "FAIL" and "2 stored sample(s), 3 listed item(s)" in res[0].detail


@pytest.mark.parametrize("edit", ["row_hash", "manifest_rows"])
def test_items_forged_consistently_still_fail(tmp_path: Path, edit: str):
    """Rewriting items.json (or the recorded manifest) to fit a forged sample breaks the chain to the
    manifest's row digests (or to the manifest's own sha256)."""
    from benchseal.evaluators.items import ITEMS_SCHEMA, item_sha256, row_hashes

    data = _mirror(tmp_path / "data", "A")
    from benchseal.evaluators import load_suite, verify_suite_data

    manifest = verify_suite_data(load_suite("arc-challenge"), data)
    hashes = row_hashes(data / "allenai__ai2_arc" / "ARC-Challenge" / "test.jsonl")
    forged = {"id": "x", "question": "forged", "choices": {"text": ["a"], "label": ["A"]}, "answerKey": "A"}
    samples = {"arc_challenge": [{"doc_id": 0, "doc": forged}]}
    items = {"schema": ITEMS_SCHEMA, "unmapped": [],
             "files": {"allenai__ai2_arc/ARC-Challenge/test.jsonl": {"dataset": "allenai__ai2_arc", "file": "ARC-Challenge/test.jsonl",
                                                                    "row_sha256": [item_sha256(forged)] + hashes[1:]}},
             "tasks": {"arc_challenge": {"file": "allenai__ai2_arc/ARC-Challenge/test.jsonl", "raw_docs": True, "doc_ids": [0]}}}
    if edit == "manifest_rows":
        from benchseal.evaluators.items import rows_digest

        rd = manifest["datasets"]["allenai__ai2_arc"]["manifest"]["row_digests"]["ARC-Challenge/test.jsonl"]
        rd["sha256"] = rows_digest([item_sha256(forged)] + hashes[1:])
        from benchseal.reports.verify.eval_items import _manifest_problems

        assert any("does not hash to the recorded manifest sha256" in p for p in _manifest_problems(manifest, None))
    else:
        assert any("not the rows the data manifest records" in p for p in item_problems(items, samples, manifest))


def test_banks_without_a_data_manifest_are_left_to_their_own_checks(tmp_path: Path):
    ev = tmp_path / "b" / "eval" / "refusal"
    ev.mkdir(parents=True)
    (ev / "samples_refusal.jsonl").write_text('{"id": "r1", "reply": "no"}\n')
    (ev / "results.json").write_text('{"suite": "refusal", "data_manifest_sha256": null}')
    assert [c.outcome for c in _check(tmp_path / "b")] == ["SKIP"]
    (ev / "results.json").write_text('{"suite": "x", "data_manifest_sha256": "ab"}')  # manifest.json and items.json removed
    res = _check(tmp_path / "b")
    assert res[0].outcome == "FAIL" and "items.json is missing" in res[0].detail
