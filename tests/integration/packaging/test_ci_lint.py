"""The container recipe and the CI examples are linted by the tools their ecosystems use:
hadolint (Dockerfile), actionlint and the GitHub workflow schema (ci/github), the GitLab CI schema
(ci/gitlab) — check-jsonschema's built-in, vendored schemas, so no network. Each validator is also
shown a broken copy, so a pass means something. The dev extra installs every tool."""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[3]
DOCKERFILE = REPO / "Dockerfile"
GITHUB = REPO / "ci" / "github" / "benchseal.yml"
GITHUB_CONFIG = REPO / "ci" / "github" / "actionlint.yaml"
GITLAB = REPO / "ci" / "gitlab" / "benchseal.gitlab-ci.yml"


def _tool(name: str) -> str:
    here = Path(sys.executable).parent / name
    found = str(here) if here.is_file() else shutil.which(name)
    assert found, f"{name} is not installed: install benchseal's dev extra (pip install -e '.[dev]')"
    return found


def _run(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(list(args), capture_output=True, text=True, timeout=120)


def test_dockerfile_passes_hadolint(tmp_path):
    r = _run(_tool("hadolint"), "--no-color", str(DOCKERFILE))
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "Dockerfile"
    bad.write_text(DOCKERFILE.read_text().replace("pip install --no-cache-dir", "pip install"))
    assert _run(_tool("hadolint"), "--no-color", str(bad)).returncode != 0  # the linter does bite


def test_dockerfile_is_pinned_and_runs_benchseal():
    text = DOCKERFILE.read_text()
    tag = re.search(r"^ARG VLLM_TAG=(\S+)$", text, re.M)
    assert tag and tag.group(1) not in ("latest", "") and re.match(r"v\d+\.\d+\.\d+$", tag.group(1))
    assert all(line.split()[1].startswith("vllm/vllm-openai:${VLLM_TAG}") for line in text.splitlines() if line.startswith("FROM "))
    assert 'ENTRYPOINT ["benchseal"]' in text and "/models" in text and "/bundles" in text
    assert "benchseal-*.whl" in text  # installed from the wheel, not an editable checkout


def test_github_workflow_passes_actionlint_and_schema(tmp_path):
    r = _run(_tool("actionlint"), "-no-color", "-config-file", str(GITHUB_CONFIG), str(GITHUB))
    assert r.returncode == 0, r.stdout + r.stderr
    r = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.github-workflows", str(GITHUB))
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.yml"
    bad.write_text(GITHUB.read_text().replace("runs-on:", "run-on:"))
    assert _run(_tool("actionlint"), "-no-color", "-config-file", str(GITHUB_CONFIG), str(bad)).returncode != 0


def test_gitlab_ci_passes_the_gitlab_schema(tmp_path):
    r = _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(GITLAB))
    assert r.returncode == 0, r.stdout + r.stderr
    bad = tmp_path / "bad.gitlab-ci.yml"
    bad.write_text(GITLAB.read_text().replace("    when: always\n", "    when: sometimes\n"))
    assert _run(_tool("check-jsonschema"), "--builtin-schema", "vendor.gitlab-ci", str(bad)).returncode != 0


def _shell_lines(doc) -> list[str]:
    out: list[str] = []
    if isinstance(doc, dict):
        for k, v in doc.items():
            if k in ("run", "script", "after_script", "before_script"):
                out += [v] if isinstance(v, str) else [x for x in v if isinstance(x, str)]
            else:
                out += _shell_lines(v)
    elif isinstance(doc, list):
        for v in doc:
            out += _shell_lines(v)
    return out


@pytest.mark.parametrize("path", [GITHUB, GITLAB], ids=["github", "gitlab"])
def test_ci_runs_the_program_uploads_the_bundle_and_never_prints_the_key(path):
    doc = yaml.safe_load(path.read_text())
    shell = "\n".join(_shell_lines(doc))
    assert "benchseal run " in shell and "--key " in shell and "--out " in shell
    assert "junit" in path.read_text()  # published as a test report
    assert "set -x" not in shell and "env |" not in shell and "printenv" not in shell
    for line in shell.splitlines():
        if "BENCHSEAL_SIGNING_KEY" in line or "BENCHSEAL_KEY_PASSPHRASE" in line:
            assert not re.search(r"\b(echo|cat)\b[^|>]*\$\{?BENCHSEAL_(SIGNING_KEY|KEY_PASSPHRASE)", line), line
    # secrets reach commands only through the environment, never in a command line (GitHub expressions)
    for line in path.read_text().splitlines():
        if "secrets." in line and not line.lstrip().startswith("#"):
            assert re.fullmatch(r"\s+[A-Z_]+: \$\{\{ secrets\.[A-Z_]+ \}\}", line), line
