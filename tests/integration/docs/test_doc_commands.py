"""Every shell command shown in README.md and docs/**/*.md runs (tests/helpers/doc_commands.py).

The blocks of one Markdown file run in order, as bash scripts (``set -e -o pipefail``), in one
sandbox directory, so a later block may use what an earlier one made (keygen, then sign, then
verify) and the shell variables it set (``envelope=…`` in one block, ``"$envelope"`` in the next). The sandbox holds what the docs name (docs/testing.md, "The doc-command test"):

==========================================  ==================================================
``bundle/``, ``bundles/run1/``              copies of the bundle ``benchseal demo`` wrote (one
                                             demo run per session, shared), signed by ``signer/``
``runs/2025-06-01/``                         the same bundle unsigned (as ``run`` without ``--key``)
``signer/public.pem``                        the demo's public key
``model/``, ``models/my-model``,             the demo's tiny random-weight Llama
``models/candidate``
``Qwen3-30B-A3B/config.json``, ``config.json``  Qwen3-30B-A3B's published config.json (no weights)
``office/kpi-2026.yaml``                     a program file (a copy of chengdu-2025, id kpi-2026)
``$BUNDLE``, ``$PUB``                        ``bundle/`` and ``signer/public.pem`` (absolute)
``$BENCHSEAL_KEY_PASSPHRASE``                set, for keygen and sign
==========================================  ==================================================

``benchseal`` on PATH runs this checkout (``python -m benchseal``); ``python`` and ``python3`` are the
test's interpreter. A command block that cannot run
here is marked ``<!-- doc-test: skip REASON -->`` on the line before its fence (one whose documented
exit status is not 0 on the demo bundle: ``<!-- doc-test: exit N REASON -->``); the marker checks
(reason given, marker where it takes effect) are in tests/unit/test_doc_markers.py.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.doc_commands import REPO, blocks, doc_files

BLOCK_TIMEOUT_S = 300
# the shell variables a block leaves for the next block of its page: all but bash's own and read-only ones
CARRY_SKIP = (r"^declare -[-a-zA-Z]*r[-a-zA-Z]* |^declare -[-a-zA-Z]+ (BASH[A-Z_]*|FUNCNAME|GROUPS|PIPESTATUS|SHLVL|PWD|"
              r"OLDPWD|RANDOM|SECONDS|LINENO|HISTCMD|EPOCHREALTIME|EPOCHSECONDS|SRANDOM|DIRSTACK|COMP_WORDBREAKS|_)=")


def _files_with_runnable_blocks() -> list[Path]:
    return [p for p in doc_files() if any(b.is_command and b.skip_reason is None for b in blocks(p))]


def _env(shims: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(PATH=f"{shims}{os.pathsep}{env.get('PATH', '')}", PYTHONPATH=str(REPO), HF_HUB_OFFLINE="1",
               HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false",
               HF_HUB_DISABLE_PROGRESS_BARS="1", BENCHSEAL_KEY_PASSPHRASE="doc-test passphrase, long enough")
    env.pop("BENCHSEAL_CONFIG_DIR", None)
    return env


@pytest.fixture(scope="session")
def doc_shims(tmp_path_factory: pytest.TempPathFactory) -> Path:
    shims = tmp_path_factory.mktemp("doc-shims")
    (shims / "benchseal").write_text(f'#!/bin/sh\nexec "{sys.executable}" -m benchseal "$@"\n')
    (shims / "benchseal").chmod(0o755)
    for name in ("python", "python3"):  # the docs' `python -c …` runs where benchseal and its dependencies are
        (shims / name).write_text(f'#!/bin/sh\nexec "{sys.executable}" "$@"\n')
        (shims / name).chmod(0o755)
    return shims


@pytest.fixture(scope="session")
def demo_output(demo_bundle) -> Path:
    """The session's one real `benchseal demo` (tests/fixtures/demo.py, shared with test_pipeline.py):
    bundle/, keys/public.pem and model/."""
    out, proc = demo_bundle
    assert proc.returncode == 0, proc.stderr[-3000:]
    return out


def _sandbox(root: Path, demo: Path, env: dict[str, str]) -> Path:
    for name in ("bundle", "bundles/run1"):
        shutil.copytree(demo / "bundle", root / name)
    # runs/2025-06-01: as `benchseal run` leaves a bundle without --key (unsigned; reports say the key id
    # comes with the signature), for the page that signs it
    unsigned = root / "runs" / "2025-06-01"
    shutil.copytree(demo / "bundle", unsigned)
    for name in ("statement.json", "statement.dsse.json"):
        (unsigned / name).unlink()
    proc = subprocess.run(["benchseal", "report", str(unsigned)], env=env, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 1, proc.stderr[-2000:]  # 1: the tiny model fails the 8亿 claim
    (root / "signer").mkdir()
    shutil.copy2(demo / "keys" / "public.pem", root / "signer" / "public.pem")
    (root / "models").mkdir()
    for name in ("model", "models/my-model", "models/candidate"):
        (root / name).symlink_to(demo / "model", target_is_directory=True)
    from benchseal.io import write_json
    from benchseal.testing.published_configs import QWEN3_30B_A3B

    write_json(root / "Qwen3-30B-A3B" / "config.json", QWEN3_30B_A3B)  # a published config, no weights
    write_json(root / "config.json", QWEN3_30B_A3B)
    (root / "office").mkdir()
    chengdu = (REPO / "benchseal" / "configs" / "programs" / "chengdu-2025.yaml").read_text(encoding="utf-8")
    (root / "office" / "kpi-2026.yaml").write_text(chengdu.replace("id: chengdu-2025", "id: kpi-2026", 1), encoding="utf-8")
    return root


@pytest.fixture(scope="session")
def sandbox_template(demo_output: Path, doc_shims: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return _sandbox(tmp_path_factory.mktemp("doc-sandbox") / "sandbox", demo_output, _env(doc_shims))


@pytest.mark.parametrize("doc", _files_with_runnable_blocks(), ids=lambda p: str(p.relative_to(REPO)))
def test_doc_commands_run(doc: Path, sandbox_template: Path, doc_shims: Path, tmp_path: Path):
    sandbox = Path(shutil.copytree(sandbox_template, tmp_path / "sandbox", symlinks=True))
    env = _env(doc_shims)
    env.update(BUNDLE=str(sandbox / "bundle"), PUB=str(sandbox / "signer" / "public.pem"))
    failures = []
    state = tmp_path / "variables.sh"  # what a block sets, the next block of the page sees (as a reader's shell would)
    state.write_text("")
    for b in blocks(doc):
        if not b.is_command or b.skip_reason is not None:
            continue
        script = (f". {state}\nset -e -o pipefail\n{b.script()}\n"
                  f"declare -p | grep -Ev '{CARRY_SKIP}' > {state}\n")
        try:
            proc = subprocess.run(["bash", "-c", script], cwd=sandbox, env=env,
                                  capture_output=True, text=True, timeout=BLOCK_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            failures.append(f"{b.where}: did not finish in {BLOCK_TIMEOUT_S} s")
            continue
        if proc.returncode != b.expected_exit:
            tail = "\n    ".join((proc.stderr.strip() or proc.stdout.strip()).splitlines()[-6:])
            failures.append(f"{b.where}: exit {proc.returncode} (expected {b.expected_exit})\n    {tail}")
    assert not failures, ("doc commands that do not run (fix the doc, or mark the block "
                          "`<!-- doc-test: skip REASON -->` if it needs a GPU, a server, a cluster or the network):\n"
                          + "\n".join(failures))
