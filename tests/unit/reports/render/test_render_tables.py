"""bundle_tables, CSV / Parquet export, and the `benchseal report` command."""

from __future__ import annotations

import json

import pytest

from benchseal import bundle as layout
from benchseal.reports.render.tables import bundle_tables, export_tables
from tests.helpers.bundle_factory import CONCURRENCIES, make_sample_bundle



def test_tables(sample_bundle):
    t = bundle_tables(sample_bundle)
    assert set(t) == {"claims", "load_points", "eval", "hardware", "compute", "requests"}
    assert list(t["load_points"]["concurrency"]) == list(CONCURRENCIES)
    assert (t["load_points"]["ttft_ms_p99"] > 0).all()
    assert len(t["requests"]) == 24 * len(CONCURRENCIES)
    assert len(t["hardware"]) == 2 and t["compute"]["tflops_total_bf16"].iloc[0] == pytest.approx(1979.0)
    assert set(t["claims"]["status"]) == {"PASS"} and "参数规模应达到8亿以上" in set(t["claims"]["clause_zh"])
    assert set(t["eval"]["suite"]) >= {"songjiang-core", "hunan-core", "refusal"}


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_export_round_trips(sample_bundle, tmp_path, fmt):
    import pandas as pd

    tables = bundle_tables(sample_bundle)
    paths = export_tables(sample_bundle, tmp_path, fmt)
    assert sorted(p.name for p in paths) == sorted(f"{n}.{fmt}" for n in tables)
    for name, df in tables.items():
        path = tmp_path / f"{name}.{fmt}"
        text_cols = {c: str for c in df.columns if not pd.api.types.is_numeric_dtype(df[c])}
        back = pd.read_csv(path, encoding="utf-8-sig", dtype=text_cols) if fmt == "csv" else pd.read_parquet(path)
        assert list(back.columns) == list(df.columns), name
        assert len(back) == len(df), name
        for col in df.columns:
            if pd.api.types.is_numeric_dtype(df[col]) and not pd.api.types.is_bool_dtype(df[col]):
                pd.testing.assert_series_equal(back[col].astype(float), df[col].astype(float), check_names=False, rtol=1e-9)
            elif df[col].map(lambda v: isinstance(v, list)).any():  # chunk times: JSON in CSV, lists in Parquet
                import json

                got = [json.loads(v) if isinstance(v, str) else list(v) for v in back[col]]
                assert got == df[col].tolist(), (name, col)
            else:
                assert back[col].fillna("").astype(str).tolist() == df[col].fillna("").astype(str).tolist(), (name, col)


def test_empty_tables_keep_their_header(tmp_path):
    import pandas as pd

    bundle = make_sample_bundle(tmp_path / "b", status="partial", program=None)
    export_tables(bundle, tmp_path / "out", "csv")
    back = pd.read_csv(tmp_path / "out" / "eval.csv", encoding="utf-8-sig")
    assert len(back) == 0 and "suite" in back.columns


def test_cli_report_exit_codes(run_cli, sample_bundle_copy, tmp_path):
    code, out, _ = run_cli("report", sample_bundle_copy, "--format", "junit,md", "--json")
    assert code == 0 and json.loads(out)["passed"] is True
    assert (sample_bundle_copy / layout.JUNIT_XML).is_file()

    code, out, _ = run_cli("report", sample_bundle_copy, "-f", "junit", "--program", "songjiang-2025", "--out", tmp_path / "o", "--json")
    assert code == 1 and json.loads(out)["passed"] is False

    code, out, _ = run_cli("report", sample_bundle_copy, "-f", "csv", "-f", "parquet", "--out", tmp_path / "t")
    assert code == 0 and (tmp_path / "t" / "csv" / "claims.csv").is_file() and (tmp_path / "t" / "parquet" / "claims.parquet").is_file()


@pytest.mark.parametrize("argv, needle", [
    (["report", "{missing}"], "bundle folder not found"),
    (["report", "{bundle}", "-f", "docx"], "unknown report format"),
    (["report", "{bundle}", "-f", "csv"], "--out"),
    (["report", "{bundle}", "--program", "no-such-program"], "unknown program"),
])
def test_cli_report_bad_input_exits_2(run_cli, sample_bundle, tmp_path, argv, needle):
    argv = [a.format(missing=tmp_path / "nope", bundle=sample_bundle) for a in argv]
    code, out, err = run_cli(*argv)
    assert code == 2 and out == "" and needle in err and len(err.strip().splitlines()) == 1


def test_cli_refuses_to_rewrite_a_signed_bundle(run_cli, sample_bundle_copy):
    (sample_bundle_copy / layout.STATEMENT_DSSE).write_text("{}")
    code, _, err = run_cli("report", sample_bundle_copy, "-f", "md")
    assert code == 2 and "--out" in err and not (sample_bundle_copy / layout.REPORT_MD).exists()
