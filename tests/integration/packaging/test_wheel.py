"""The wheel and the sdist that `python -m build` makes install and run outside the checkout.

The source is copied (so the build leaves nothing in the checkout), built without isolation (the
test environment's setuptools; no download), and the wheel is installed with --no-deps into a fresh
virtual environment that sees this environment's dependencies through a path file but neither the
checkout nor the editable install. `benchseal programs` and `benchseal demo` then run from an
unrelated folder, and must import benchseal and its configs from that environment.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import sysconfig
import tarfile
import zipfile
from pathlib import Path

import pytest

from benchseal import __version__

REPO = Path(__file__).resolve().parents[3]
pytestmark = pytest.mark.slow


def _clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "BENCHSEAL_CONFIG_DIR", "VIRTUAL_ENV", "PYTHONHOME")}
    env.update(HF_HUB_OFFLINE="1", HF_DATASETS_OFFLINE="1", TRANSFORMERS_OFFLINE="1", TOKENIZERS_PARALLELISM="false", **extra)
    return env


def _venv(where: Path) -> Path:
    """A venv (no pip of its own: this environment's pip installs into it) whose site-packages also
    sees this environment's third-party packages."""
    subprocess.run([sys.executable, "-m", "venv", "--without-pip", str(where)], check=True, capture_output=True)
    py = where / "bin" / "python"
    site = subprocess.run([str(py), "-c", "import sysconfig;print(sysconfig.get_paths()['purelib'])"],
                          check=True, capture_output=True, text=True).stdout.strip()
    # Plain path lines: the parent's .pth files (the editable benchseal) are not processed.
    parents = {sysconfig.get_paths()["purelib"], sysconfig.get_paths()["platlib"]}
    (Path(site) / "_parent_deps.pth").write_text("".join(p + "\n" for p in sorted(parents)))
    return py


@pytest.fixture(scope="module")
def dist(tmp_path_factory) -> Path:
    pytest.importorskip("build", reason="the dev extra installs `build`")
    src = tmp_path_factory.mktemp("src")
    for name in ("pyproject.toml", "README.md", "LICENSE"):
        shutil.copy2(REPO / name, src / name)
    shutil.copytree(REPO / "benchseal", src / "benchseal", ignore=shutil.ignore_patterns("__pycache__", "*.pyc"))
    out = tmp_path_factory.mktemp("dist")
    r = subprocess.run([sys.executable, "-m", "build", "--no-isolation", "--outdir", str(out), str(src)],
                       capture_output=True, text=True)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    return out


def _shipped_files() -> set[str]:
    return {p.relative_to(REPO).as_posix() for p in (REPO / "benchseal").rglob("*")
            if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc"}


def test_wheel_and_sdist_ship_every_package_file_and_the_license(dist):
    wheel = dist / f"benchseal-{__version__}-py3-none-any.whl"
    sdist = dist / f"benchseal-{__version__}.tar.gz"
    assert wheel.is_file() and sdist.is_file(), sorted(p.name for p in dist.iterdir())
    names = set(zipfile.ZipFile(wheel).namelist())
    shipped = _shipped_files()
    # every yaml/json/jsonl/txt, the suite data and task folders: everything under benchseal/
    assert {n for n in shipped if n.startswith("benchseal/configs/suites/data/")}, "no suite data in the checkout?"
    assert not shipped - names, sorted(shipped - names)
    assert f"benchseal-{__version__}.dist-info/licenses/LICENSE" in names
    meta = zipfile.ZipFile(wheel).read(f"benchseal-{__version__}.dist-info/METADATA").decode()
    assert f"Version: {__version__}" in meta and "License-Expression: Apache-2.0" in meta
    with tarfile.open(sdist) as t:
        members = {m.split("/", 1)[1] for m in t.getnames() if "/" in m}
    assert not shipped - members and {"LICENSE", "pyproject.toml", "README.md"} <= members


def test_wheel_installs_and_runs_from_another_folder(dist, tmp_path):
    py = _venv(tmp_path / "venv")
    wheel = dist / f"benchseal-{__version__}-py3-none-any.whl"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index", str(wheel)], check=True,
                   capture_output=True, env=_clean_env())
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    env = _clean_env()
    where = subprocess.run([str(py), "-c", "import benchseal, benchseal.config as c; print(benchseal.__file__); "
                            "print(c.packaged_config_dir()); print(benchseal.__version__)"],
                           cwd=elsewhere, env=env, capture_output=True, text=True, check=True).stdout.split()
    venv = str(tmp_path / "venv")
    assert where[0].startswith(venv) and where[1].startswith(venv), where  # not the checkout
    assert where[2] == __version__
    exe = tmp_path / "venv" / "bin" / "benchseal"
    r = subprocess.run([str(exe), "--version"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert r.returncode == 0 and __version__ in r.stdout
    r = subprocess.run([str(exe), "programs", "--json"], cwd=elsewhere, env=env, capture_output=True, text=True)
    assert r.returncode == 0, r.stderr
    assert "hunan-2025" in r.stdout and "songjiang-2025" in r.stdout
    # the whole pipeline from the installed wheel: tiny model, demo suite data and tasks, workload, signing
    r = subprocess.run([str(exe), "demo", "--out", str(elsewhere / "run1")], cwd=elsewhere, env=env,
                       capture_output=True, text=True, timeout=900)
    assert r.returncode == 0, r.stdout[-2000:] + r.stderr[-4000:]
    bundle = elsewhere / "run1" / "bundle"
    assert (bundle / "report.html").is_file() and (bundle / "statement.dsse.json").is_file()
    assert (bundle / "eval").is_dir(), "the demo suite (shipped task YAMLs and data) did not run"


def test_sdist_installs_and_runs(dist, tmp_path):
    py = _venv(tmp_path / "venv")
    sdist = dist / f"benchseal-{__version__}.tar.gz"
    r = subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index", "--no-build-isolation", str(sdist)],
                       capture_output=True, text=True, env=_clean_env())
    assert r.returncode == 0, r.stderr[-3000:]
    r = subprocess.run([str(tmp_path / "venv" / "bin" / "benchseal"), "programs"], cwd=tmp_path, env=_clean_env(),
                       capture_output=True, text=True)
    assert r.returncode == 0 and "hunan-2025" in r.stdout, r.stderr


def test_user_config_dir_overrides_and_extends_the_shipped_configs(dist, tmp_path):
    """$BENCHSEAL_CONFIG_DIR is searched first: a new program appears next to the shipped ones."""
    py = _venv(tmp_path / "venv")
    subprocess.run([sys.executable, "-m", "pip", "--python", str(py), "install", "-q", "--no-deps", "--no-index", str(dist / f"benchseal-{__version__}-py3-none-any.whl")],
                   check=True, capture_output=True, env=_clean_env())
    user = tmp_path / "mine"
    (user / "workloads").mkdir(parents=True)
    shipped_text = (REPO / "benchseal" / "configs" / "workloads" / "demo-cpu.yaml").read_text()
    (user / "workloads" / "demo-cpu.yaml").write_text("# mine\n" + shipped_text)  # a user file must be a valid mapping
    code = ("from benchseal.config import config_path, config_files;"
            "print(config_path('workloads','demo-cpu.yaml'));"
            "print(len(config_files('workloads')))")
    out = subprocess.run([str(py), "-c", code], cwd=tmp_path, env=_clean_env(BENCHSEAL_CONFIG_DIR=str(user)),
                         capture_output=True, text=True, check=True).stdout.split()
    assert out[0] == str(user / "workloads" / "demo-cpu.yaml")
    shipped = len(list((REPO / "benchseal" / "configs" / "workloads").glob("*.yaml")))
    assert int(out[1]) == shipped  # overridden, not duplicated
