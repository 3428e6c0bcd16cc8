"""Shared test configuration.

- Hubs are never contacted: HF_HUB_OFFLINE / HF_DATASETS_OFFLINE / TRANSFORMERS_OFFLINE are set.
- ``@pytest.mark.gpu`` tests are skipped without an NVIDIA GPU, and fail instead when
  BENCHSEAL_REQUIRE_GPU=1 (for GPU CI runners).
- Tiny models are built once per session and shared (``tiny_llama``, ``tiny_qwen2``, ``tiny_mixtral``).
  Tests must not modify them; copy first if a test needs to corrupt files.
- Tiers by directory: everything under tests/unit/ is marked ``unit`` (fast, one component, no
  servers or models), everything under tests/integration/ ``integration`` (real local servers, tiny
  models, lm-eval, subprocesses). ``pytest -m unit`` is the fast tier.
- Session fixtures shared by both tiers live in tests/fixtures/ (registered below as plugins);
  helpers in tests/helpers/.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

for _var in ("HF_HUB_OFFLINE", "HF_DATASETS_OFFLINE", "TRANSFORMERS_OFFLINE"):
    os.environ[_var] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")

REPO = Path(__file__).resolve().parent.parent
TIERS = ("unit", "integration")

pytest_plugins = ["tests.fixtures.perf", "tests.fixtures.reports", "tests.fixtures.evaluators", "tests.fixtures.hw", "tests.fixtures.vllm",
                  "tests.fixtures.ray", "tests.fixtures.demo"]


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption("--exhaustive", action="store_true", default=False,
                     help="run every case of the sampled matrices (tests/helpers/sampling.py), not the seeded sample")


def _exhaustive(config: pytest.Config) -> bool:
    return (config.getoption("--exhaustive") or os.environ.get("BENCHSEAL_EXHAUSTIVE") == "1"
            or "exhaustive" in (config.getoption("-m") or ""))


def pytest_report_header(config: pytest.Config) -> str:
    from tests.helpers.sampling import session_seed

    mode = "every case" if _exhaustive(config) else "a seeded sample of the exhaustive matrices"
    return (f"benchseal: {mode}; sample seed {session_seed()} (BENCHSEAL_TEST_SEED={session_seed()} repeats this "
            "draw, BENCHSEAL_EXHAUSTIVE=1 or --exhaustive runs every case)")


def pytest_configure(config: pytest.Config) -> None:
    # one seed for the whole session: pytest-xdist's workers inherit it and so draw the same sample
    if not os.environ.get("BENCHSEAL_TEST_SEED"):
        from tests.helpers.sampling import session_seed

        os.environ["BENCHSEAL_TEST_SEED"] = str(session_seed())


# Tests that use these session fixtures go to one pytest-xdist worker (``--dist loadgroup``), so the
# fixture is built once, not once per worker: the real vLLM server, the Ray cluster, the shared demo.
XDIST_GROUPS = (("vllm", ("vllm_server", "vllm_python", "run_in_vllm_env")), ("ray", ("ray_cluster", "ray_head")),
                ("demo", ("demo_bundle",)), ("transformers-serve", ("transformers_server",)),
                ("chengdu-run", ("chengdu_run",)))  # test_pipeline_safety.py's module-scoped whole run


@pytest.hookimpl(tryfirst=True)  # before pytest-xdist reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark each test with its tier, from the directory it lives in (tests/<tier>/...), and with its
    pytest-xdist group; leave out the ``exhaustive`` cases of sampled matrices unless the session asks
    for them."""
    tests_dir = REPO / "tests"
    for item in items:
        names = set(getattr(item, "fixturenames", ()))
        group = next((g for g, fixtures in XDIST_GROUPS if names & set(fixtures)), None)
        if group is not None:
            item.add_marker(pytest.mark.xdist_group(group))
        try:
            tier = Path(str(item.fspath)).resolve().relative_to(tests_dir).parts[0]
        except ValueError:
            continue
        if tier in TIERS:
            item.add_marker(getattr(pytest.mark, tier))
    if not _exhaustive(config):
        left_out = [i for i in items if i.get_closest_marker("exhaustive") is not None]
        if left_out:
            config.hook.pytest_deselected(items=left_out)
            items[:] = [i for i in items if i.get_closest_marker("exhaustive") is None]
    if getattr(config.option, "loadgroup", False):  # set by pytest-xdist in its workers under --dist loadgroup
        _apply_xdist_groups(items)


def _apply_xdist_groups(items: list[pytest.Item]) -> None:
    """Give each item with ``xdist_group`` marks the ``@group`` suffix on its node id that pytest-xdist's
    ``--dist loadgroup`` schedules by. pytest-xdist 3.8 sets ``item._nodeid``, which pytest 9 no longer
    reads (node ids live in ``item._id``), so without this every group is silently split across workers
    and each worker builds the shared fixtures again (seen: the vLLM server, the demo and the GPU-kit run
    built twice). An id that already carries a suffix is left alone."""
    try:
        from _pytest.nodeid import coerce_node_id
    except ImportError:  # an older pytest: pytest-xdist's own suffix works there
        return
    for item in items:
        names = sorted({str(m.args[0] if m.args else m.kwargs.get("name", "default")) for m in item.iter_markers("xdist_group")})
        nodeid = item.nodeid
        if not names or nodeid.rfind("@") > nodeid.rfind("]") or not hasattr(item, "_id"):
            continue
        item._id = coerce_node_id(f"{nodeid}@{'_'.join(names)}")


def _gpu_available() -> bool:
    try:
        import pynvml

        pynvml.nvmlInit()
        try:
            return pynvml.nvmlDeviceGetCount() > 0
        finally:
            pynvml.nvmlShutdown()
    except Exception:
        return False


def pytest_runtest_setup(item: pytest.Item) -> None:
    if item.get_closest_marker("gpu") is None:
        return
    if not hasattr(pytest_runtest_setup, "_gpu"):
        pytest_runtest_setup._gpu = _gpu_available()  # type: ignore[attr-defined]
    if pytest_runtest_setup._gpu:  # type: ignore[attr-defined]
        return
    if os.environ.get("BENCHSEAL_REQUIRE_GPU") == "1":
        pytest.fail("BENCHSEAL_REQUIRE_GPU=1 but no NVIDIA GPU is visible through NVML")
    pytest.skip("needs an NVIDIA GPU (set BENCHSEAL_REQUIRE_GPU=1 to fail instead of skip)")


@pytest.fixture(scope="session")
def tiny_models_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("tiny-models")


def _tiny(tiny_models_dir: Path, arch: str) -> Path:
    out = tiny_models_dir / arch
    if not (out / "config.json").exists():
        from benchseal.testing.tiny import build_tiny_model

        build_tiny_model(out, arch=arch, seed=0)
    return out


@pytest.fixture(scope="session")
def tiny_llama(tiny_models_dir: Path) -> Path:
    return _tiny(tiny_models_dir, "llama")


@pytest.fixture(scope="session")
def tiny_qwen2(tiny_models_dir: Path) -> Path:
    return _tiny(tiny_models_dir, "qwen2")


@pytest.fixture(scope="session")
def tiny_mixtral(tiny_models_dir: Path) -> Path:
    return _tiny(tiny_models_dir, "mixtral")


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Run the CLI in-process: returns (exit_code, stdout, stderr)."""
    from benchseal.cli import main

    def _run(*argv: str) -> tuple[int, str, str]:
        code = main([str(a) for a in argv])
        out, err = capsys.readouterr()
        return code, out, err

    return _run


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None):
    """Under pytest-xdist, a test marked ``serial`` (timing measurements that another busy worker would
    skew) runs alone: its whole protocol (set-up, call, tear-down) holds an exclusive lock that every other
    test's protocol holds shared, so no other worker runs a test or builds a fixture meanwhile. Without
    xdist there is one process and nothing to lock."""
    run_id = os.environ.get("PYTEST_XDIST_TESTRUNUID")
    if not os.environ.get("PYTEST_XDIST_WORKER") or not run_id:
        yield
        return
    import fcntl
    import tempfile

    path = Path(tempfile.gettempdir()) / f"benchseal-serial-{run_id}.lock"
    with open(path, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX if item.get_closest_marker("serial") is not None else fcntl.LOCK_SH)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)

