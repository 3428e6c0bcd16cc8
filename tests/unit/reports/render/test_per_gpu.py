"""Per-GPU throughput (output tokens/s/GPU) next to the totals: computed by annotate over every GPU the
engine uses, shown in the form, the perf table and tables.csv rows (issue 24)."""

from __future__ import annotations

import json

from benchseal import bundle as layout
from benchseal.bench.utilisation.mfu import annotate, peak_of, per_gpu_throughput
from benchseal.reports.render.form import form_fields
from benchseal.reports.render.tables import _load_point_rows
from benchseal.reports.render.view import load_view
from benchseal.schema import LoadPointSummary
from tests.helpers.bundle_factory import make_sample_bundle


def _with_per_gpu(bundle, gpus: int):
    p = bundle / layout.PERF_SUMMARY
    perf = json.loads(p.read_text())
    for lp in perf["load_points"]:
        lp["utilisation"] = {**lp["utilisation"], "engine_gpus": gpus,
                             "output_tokens_per_s_per_gpu": lp["output_token_throughput"] / gpus}
    p.write_text(json.dumps(perf))
    return perf


def test_form_and_tables_show_per_gpu_next_to_total(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b")
    perf = _with_per_gpu(bundle, 16)
    view = load_view(bundle)
    fields = {f.field_zh: f for f in form_fields(view)}
    total, per = fields["吞吐量（输出 token/s）"], fields["吞吐量（每 GPU 输出 token/s）"]
    assert per.exact * 16 == total.exact and "16 GPU(s)" in per.basis
    assert per.evidence.endswith("utilisation.output_tokens_per_s_per_gpu")
    rows = _load_point_rows(view)
    assert [r["output_tokens_per_s_per_gpu"] for r in rows] == [lp["output_token_throughput"] / 16 for lp in perf["load_points"]]


def test_annotate_divides_by_every_gpu_of_the_engine(tmp_path):
    bundle = make_sample_bundle(tmp_path / "b")
    view = load_view(bundle)
    lp = LoadPointSummary.model_validate(view.perf["load_points"][0])
    out = annotate(lp, [], model_config={}, hardware=None, dtype="bf16", num_gpus=16)  # no FLOPs model: still per GPU
    assert out.utilisation["output_tokens_per_s_per_gpu"] == lp.output_token_throughput / 16
    assert out.utilisation["engine_gpus"] == 16
    assert per_gpu_throughput(lp, 0) is None and per_gpu_throughput(lp, None) is None


def test_a_multi_node_engine_with_one_nodes_inventory_gets_no_peak(tmp_path):
    """16 GPUs used, 2 listed: summing 2 GPUs' peaks would inflate MFU eightfold, so there is none."""
    from benchseal.bundle import Bundle

    hw = Bundle(make_sample_bundle(tmp_path / "b")).hardware()
    assert hw is not None and len(hw.gpus) == 2
    peak = peak_of(hw, "bf16", 16)
    assert peak["peak_tflops"] is None and peak["gpus"] == 16 and "lists 2" in peak["note"]
    assert peak_of(hw, "bf16", 2)["peak_tflops"] is not None
