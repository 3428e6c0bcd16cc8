"""The CLI imports only what the chosen subcommand needs: ``benchseal params`` registers just its own
parser, so the backend specs (and through them the load generator and asyncio) of ``perf``/``run``/``eval``
are never imported, and a header count imports no torch/transformers (issue 12 speed)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from benchseal.cli import COMMANDS, build_parser, commands_for

NOT_FOR_PARAMS = ("asyncio", "benchseal.bench.perf", "benchseal.bench.perf.loadgen", "benchseal.bench.perf.backends.spec",
                  "torch", "transformers", "benchseal.commands.perf", "benchseal.commands.run", "benchseal.commands.eval")


def _modules_after_cli(*argv: str) -> tuple[int, str, set[str]]:
    code = ("import contextlib, io, json, sys\nfrom benchseal.cli import main\nout = io.StringIO()\n"
            "with contextlib.redirect_stdout(out):\n    rc = main(sys.argv[1:])\n"
            "print(json.dumps([rc, out.getvalue(), sorted(sys.modules)]))\n")
    r = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr
    rc, out, mods = json.loads(r.stdout.strip().splitlines()[-1])
    return rc, out, set(mods)


def test_params_on_the_demo_model_imports_no_load_generator_asyncio_or_torch(tiny_llama):
    rc, out, mods = _modules_after_cli("params", str(tiny_llama), "--json")
    assert rc == 0 and json.loads(out)["total"] > 0
    assert sorted(m for m in NOT_FOR_PARAMS if m in mods) == []
    assert [m for m in mods if m.startswith("benchseal.commands.") and m != "benchseal.commands._common"] == \
        ["benchseal.commands.params"]


@pytest.mark.parametrize(("argv", "want"), [
    (["params", "m"], ("params",)),
    (["--config-dir", "params", "perf", "--json"], ("perf",)),  # --config-dir's value is not the command
    (["--config-dir=x", "hw"], ("hw",)),
    (["--config", "d", "verify", "b"], ("verify",)),  # argparse's unambiguous abbreviation
    ([], COMMANDS), (["--help"], COMMANDS), (["--version"], COMMANDS), (["nosuch"], COMMANDS), (["-h", "params"], COMMANDS),
])
def test_commands_for(argv, want):
    assert tuple(commands_for(argv)) == tuple(want)


def test_one_registered_subcommand_parses_like_all_of_them():
    argv = ["--config-dir", "d", "params", "m", "--json", "--cross-check"]
    assert vars(build_parser(commands_for(argv)).parse_args(argv)) == vars(build_parser().parse_args(argv))


def test_an_unknown_command_still_lists_every_command(capsys):
    from benchseal.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["nosuch"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert all(name in err for name in ("params", "perf", "verify"))
