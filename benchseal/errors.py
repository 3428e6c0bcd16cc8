"""One error hierarchy for benchseal.

Every user-facing error says what was wrong, where, and what to do. The CLI maps the class to an
exit code (see :class:`ExitCode`) and prints the message without a traceback.
"""

from __future__ import annotations

import enum


class ExitCode(enum.IntEnum):
    OK = 0  # success; all required claims pass
    FAILED = 1  # a claim failed, or verification failed
    BAD_INPUT = 2  # bad input or usage
    ENVIRONMENT = 3  # environment or runtime failure (no GPU, server died, interrupted run)


class BenchsealError(Exception):
    """Base class. ``what`` is one sentence; ``where`` names the file/URL/field; ``hint`` says what to do."""

    exit_code: ExitCode = ExitCode.ENVIRONMENT

    def __init__(self, what: str, *, where: str | None = None, hint: str | None = None) -> None:
        self.what = what.rstrip(".")
        self.where = where
        self.hint = hint
        super().__init__(self.message)

    @property
    def message(self) -> str:
        msg = self.what
        if self.where:
            msg += f" ({self.where})"
        msg += "."
        if self.hint:
            msg += " " + self.hint.rstrip(".") + "."
        return msg

    def __str__(self) -> str:  # pragma: no cover - trivial
        return self.message


# --- exit code 2: bad input or usage -------------------------------------------------------------
class UsageError(BenchsealError):
    """Bad command-line usage or bad input data."""

    exit_code = ExitCode.BAD_INPUT


class ConfigError(UsageError):
    """A YAML/JSON config file is malformed or fails validation."""


class ModelFormatError(UsageError):
    """Model files are missing, truncated, corrupt or of an unsupported format."""


class BundleError(UsageError):
    """An evidence bundle cannot be read (missing files, wrong layout)."""


class DatasetError(UsageError):
    """Evaluation data is missing or does not match its manifest."""


# --- exit code 3: environment / runtime ----------------------------------------------------------
class EnvironmentFailure(BenchsealError):
    """The environment cannot do what was asked (missing GPU, missing optional package)."""

    exit_code = ExitCode.ENVIRONMENT


class NoGpuError(EnvironmentFailure):
    """An NVIDIA GPU is required and none was found."""


class MissingDependency(EnvironmentFailure):
    """An optional package (an extra) is not installed."""

    def __init__(self, package: str, extra: str, purpose: str) -> None:
        super().__init__(
            f"{purpose} needs the Python package '{package}', which is not installed",
            hint=install_hint(extra),
        )


#: Extras whose dependencies pull torch: on a machine without an NVIDIA driver a plain install would
#: resolve torch to the multi-GB CUDA build, so the hint installs the CPU build first (as README says).
TORCH_EXTRAS = frozenset({"hf", "eval", "vllm", "all"})
CPU_TORCH = "pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu"


def install_hint(extra: str) -> str:
    """How to install ``benchseal[extra]`` here: with the CPU build of torch first when the extra pulls
    torch, torch is missing and no NVIDIA driver is present."""
    import importlib.util
    import shutil

    plain = f"install it with: pip install 'benchseal[{extra}]'"
    if extra not in TORCH_EXTRAS or shutil.which("nvidia-smi") or importlib.util.find_spec("torch") is not None:
        return plain
    return (f"install it with: {CPU_TORCH} && pip install 'benchseal[{extra}]' "
            "(no NVIDIA driver here: the CPU build of torch first, so pip does not pull the multi-GB CUDA build)")


class ServerError(EnvironmentFailure):
    """A model server is unreachable, died, or misbehaved."""


class RunInterrupted(EnvironmentFailure):
    """The run was interrupted (Ctrl-C or a dying server); what was measured is kept, marked partial."""


# --- exit code 1: verdicts -----------------------------------------------------------------------
class VerificationFailed(BenchsealError):
    """A bundle failed verification (signature, digest, or re-derived value differs)."""

    exit_code = ExitCode.FAILED


def require(module: str, extra: str, purpose: str):
    """Import an optional heavy module or raise :class:`MissingDependency` with the extra to install."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as exc:  # pragma: no cover - depends on environment
        if exc.name and exc.name.split(".")[0] != module.split(".")[0]:
            raise
        raise MissingDependency(module.split(".")[0], extra, purpose) from exc
