"""Foundation: package metadata, CLI basics, lazy imports, error mapping, gpu marker policy."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

import benchseal
from benchseal.errors import ConfigError, ExitCode, UsageError
from benchseal.io import load_yaml_model, write_json
from benchseal.schema import SCHEMA_VERSION, ParamCount

HEAVY = ("torch", "transformers", "vllm", "lm_eval", "ray")



def _imported_after(code: str) -> set[str]:
    probe = code + "\nimport sys, json\nprint(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in %r)))\n" % (HEAVY,)
    res = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True)
    assert res.returncode == 0, res.stderr
    return set(json.loads(res.stdout.strip().splitlines()[-1]))


_HELP = """
import contextlib, io
from benchseal.cli import main
def _help(*argv):
    with contextlib.redirect_stdout(io.StringIO()):
        try:
            main(list(argv) + ['--help'])
        except SystemExit:
            pass
"""


def test_import_benchseal_is_light():
    assert _imported_after("import benchseal, benchseal.schema, benchseal.errors, benchseal.io") == set()


def test_every_component_public_face_is_light():
    code = "import benchseal.hw, benchseal.bench, benchseal.evaluators, benchseal.claims, benchseal.reports, benchseal.pipeline"
    assert _imported_after(code) == set()


def test_help_is_light():
    assert _imported_after(_HELP + "_help()") == set()


def test_every_subcommand_help_is_light():
    from benchseal.cli import build_parser

    sub = next(a for a in build_parser()._actions if a.dest == "command")
    names = sorted(sub.choices)
    assert names, "no subcommands registered"
    assert _imported_after(_HELP + "".join(f"_help({n!r})\n" for n in names)) == set()


def test_version_flag(capsys):
    from benchseal.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["--version"])
    assert exc.value.code == 0
    assert benchseal.__version__ in capsys.readouterr().out


def test_console_script_version():
    exe = os.path.join(os.path.dirname(sys.executable), "benchseal")
    out = subprocess.run([exe, "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"benchseal {benchseal.__version__}"


def test_no_command_is_usage_error(run_cli):
    code, out, _ = run_cli()
    assert code == ExitCode.BAD_INPUT
    assert "usage" in out


def test_error_message_names_where_and_hint():
    err = UsageError("the header is truncated", where="model.safetensors", hint="re-download the file")
    assert err.message == "the header is truncated (model.safetensors). re-download the file."
    assert err.exit_code == 2


def test_malformed_yaml_is_config_error(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("a: [1, 2\nb: 3\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml_model(ParamCount, bad)
    assert "malformed YAML at line" in exc.value.message and str(bad) in exc.value.message


def test_yaml_validation_error_names_fields(tmp_path):
    bad = tmp_path / "x.yaml"
    bad.write_text("total: 1\nactive: 1\nembedding: 0\nnon_embedding: 1\nmethod: magic\nsurprise: 1\n")
    with pytest.raises(ConfigError) as exc:
        load_yaml_model(ParamCount, bad)
    assert "method" in exc.value.message and "surprise" in exc.value.message


def test_bigint_serialised_as_string_in_json(tmp_path):
    pc = ParamCount(total=2**60, active=10, embedding=0, non_embedding=2**60, method="gguf")
    data = pc.model_dump(mode="json")
    assert data["total"] == str(2**60) and data["active"] == 10
    assert ParamCount.model_validate(data).total == 2**60
    p = write_json(tmp_path / "a" / "b.json", pc)
    assert json.loads(p.read_text())["total"] == str(2**60)
    assert SCHEMA_VERSION == "1"


def test_tiny_models_are_deterministic(tmp_path, tiny_llama):
    import hashlib

    from benchseal.testing.tiny import build_tiny_model

    again = build_tiny_model(tmp_path / "again", arch="llama", seed=0)
    for f in sorted(p.name for p in tiny_llama.iterdir()):
        a = hashlib.sha256((tiny_llama / f).read_bytes()).hexdigest()
        b = hashlib.sha256((again / f).read_bytes()).hexdigest()
        assert a == b, f


