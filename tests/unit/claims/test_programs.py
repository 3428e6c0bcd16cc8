"""configs/programs/*.yaml: every program loads, every claim resolves; `benchseal programs`."""

from __future__ import annotations

import json

import pytest

from benchseal.claims import check, list_programs, load_evidence, load_program, programs_dir
from benchseal.errors import ConfigError


EXPECTED = {"hunan-2025", "songjiang-2025", "chengdu-2025", "shenzhen-2025", "zhipu-smp"}


def test_every_shipped_program_loads():
    programs = {p.id: p for p in list_programs()}
    assert EXPECTED <= set(programs)
    for path in programs_dir().glob("*.yaml"):
        assert load_program(path.stem).id == path.stem  # file name is the id
    for p in programs.values():
        for c in p.claims:
            assert c.clause_zh and c.clause_en and c.title_zh and c.title_en, c.id
        assert p.out_of_scope, f"{p.id} lists nothing out of scope"


def test_every_claim_path_resolves_against_the_sample_bundle(sample_bundle):
    evidence = load_evidence(sample_bundle)
    for prog in list_programs():
        for v in check(prog, evidence).verdicts:
            assert v.status != "INCONCLUSIVE", (prog.id, v.claim_id, v.reason)


def test_inequality_words_follow_the_text():
    """以上 (at least) is >=, 超过 / 高于 (more than) is >, 不超过 (no more than) is <=."""
    checked = 0
    for prog in list_programs():
        for c in prog.claims:
            text = c.threshold_text or c.clause_zh
            if "不超过" in text:
                assert c.op in ("<=", "present"), (prog.id, c.id)
            elif "超过" in text and c.op != "present":
                assert c.op == ">", (prog.id, c.id)
                checked += 1
            elif "以上" in text and c.op != "present":
                assert c.op == ">=", (prog.id, c.id)
                checked += 1
    assert checked >= 2


def test_threshold_overrides_for_templates():
    prog = load_program("chengdu-2025", thresholds={"efficiency-ttft-p99": 250})
    assert prog.template and prog.claim("efficiency-ttft-p99").threshold == 250
    with pytest.raises(ConfigError, match="no claim"):
        load_program("chengdu-2025", thresholds={"nope": 1})


BAD_PROGRAMS = {
    "syntax": "id: x\nclaims: [\n",
    "not-a-mapping": "- 1\n- 2\n",
    "bad-op": "id: x\nname_zh: x\nname_en: x\nversion: '1'\nclaims:\n  - {id: a, title_zh: a, title_en: a, clause_zh: a, clause_en: a, metric: model.x, op: '>>', threshold: 1}\n",
    "bad-path": "id: x\nname_zh: x\nname_en: x\nversion: '1'\nclaims:\n  - {id: a, title_zh: a, title_en: a, clause_zh: a, clause_en: a, metric: 'model..x', op: '>=', threshold: 1}\n",
    "no-threshold": "id: x\nname_zh: x\nname_en: x\nversion: '1'\nclaims:\n  - {id: a, title_zh: a, title_en: a, clause_zh: a, clause_en: a, metric: model.x, op: '>='}\n",
    "unknown-suite": "id: x\nname_zh: x\nname_en: x\nversion: '1'\nclaims:\n  - {id: a, title_zh: a, title_en: a, clause_zh: a, clause_en: a, metric: eval.s.y, op: present}\n",
    "extra-field": "id: x\nname_zh: x\nname_en: x\nversion: '1'\ncolour: red\nclaims:\n  - {id: a, title_zh: a, title_en: a, clause_zh: a, clause_en: a, metric: model.x, op: present}\n",
}


@pytest.mark.parametrize("name", sorted(BAD_PROGRAMS))
def test_malformed_program_is_a_config_error(tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(BAD_PROGRAMS[name], encoding="utf-8")
    with pytest.raises(ConfigError):
        load_program(str(path))


@pytest.mark.parametrize("name", ["syntax", "bad-op", "unknown-suite"])
def test_cli_malformed_program_exits_2_with_one_line(run_cli, tmp_path, name):
    path = tmp_path / f"{name}.yaml"
    path.write_text(BAD_PROGRAMS[name], encoding="utf-8")
    code, out, err = run_cli("programs", "show", str(path))
    assert code == 2 and out == ""
    assert len(err.strip().splitlines()) == 1 and str(path) in err and "Traceback" not in err


def test_cli_unknown_program(run_cli):
    code, _, err = run_cli("programs", "show", "no-such-program")
    assert code == 2 and "hunan-2025" in err


def test_cli_programs_json(run_cli):
    code, out, _ = run_cli("programs", "--json")
    assert code == 0
    data = json.loads(out)
    assert EXPECTED <= {p["id"] for p in data}
    hunan = next(p for p in data if p["id"] == "hunan-2025")
    params = next(c for c in hunan["claims"] if c["id"] == "params-scale")
    assert params["op"] == ">=" and params["threshold"] == 800_000_000 and params["clause_zh"] == "参数规模应达到8亿以上"


def test_cli_programs_show(run_cli):
    code, out, _ = run_cli("programs", "show", "songjiang-2025", "--json")
    assert code == 0 and json.loads(out)["claims"][0]["op"] == ">"
    code, out, _ = run_cli("programs", "show", "songjiang-2025")
    assert code == 0 and "params-above-100b" in out and "Out of scope" in out
    code, out, _ = run_cli("programs")
    assert code == 0 and "zhipu-smp" in out
