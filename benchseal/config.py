"""Where benchseal finds its data files (programs, suites with their task YAMLs and demo data,
workloads, peers, GPU specs).

Search order, first match wins:

1. folders added with :func:`add_config_dirs` (the CLI's ``--config-dir DIR``, repeatable);
2. the folders in ``$BENCHSEAL_CONFIG_DIR`` (several separated by ``os.pathsep``);
3. the ``configs/`` shipped inside the package, found through :mod:`importlib.resources`, so a
   wheel installed anywhere finds it without the source checkout.

A user folder has the same layout as the shipped one (``programs/X.yaml``, ``workloads/X.yaml``,
``gpus.yaml`` ...). A file there overrides the shipped file of the same relative path; a new file
extends the set (:func:`config_files` lists the union). Only the shipped folder is required.
"""

from __future__ import annotations

import os
from importlib import resources
from pathlib import Path

from benchseal.errors import ConfigError

ENV_VAR = "BENCHSEAL_CONFIG_DIR"
_extra_dirs: list[Path] = []
_checked: set[Path] = set()
MAX_CONFIG_FILES = 10_000


def check_config_dir(root: Path) -> None:
    """Every YAML file of a user's config folder is a readable, bounded, non-empty YAML mapping
    (:func:`benchseal.io.load_yaml`: no python tags, no alias bombs, no deep nesting); the first that
    is not raises ConfigError. A malformed file is an error when the folder is added, never ignored
    later because no command happened to read it (``hw`` on a machine without GPUs reads no
    gpus.yaml). Each file's schema is checked by the component that reads it."""
    from benchseal.io import load_yaml

    root = Path(root)
    if root in _checked:
        return
    # benchseal's own files: gpus.yaml and programs/, workloads/, suites/, peers/ (one level down);
    # lm-eval task YAMLs under suites/tasks/ are lm-eval's (they may use its !function tag)
    files = sorted(p for pattern in ("*.yaml", "*.yml", "*/*.yaml", "*/*.yml") for p in root.glob(pattern))
    if len(files) > MAX_CONFIG_FILES:
        raise ConfigError(f"the config folder holds more than {MAX_CONFIG_FILES} YAML files", where=str(root))
    for path in files:
        if path.is_dir():
            continue
        data = load_yaml(path)
        if data is None:
            raise ConfigError("the config file is empty", where=str(path),
                              hint="remove it or give it content (an empty file would hide the shipped one)")
        if not isinstance(data, dict):
            raise ConfigError(f"a config file must be a YAML mapping, not a {type(data).__name__}", where=str(path),
                              hint="see the shipped file of the same name under benchseal's configs/")
    _checked.add(root)


def add_config_dirs(dirs: list[str | Path] | None) -> None:
    """Search these folders first (in order); each must exist."""
    for d in dirs or []:
        p = Path(d).expanduser()
        if not p.is_dir():
            raise ConfigError("the config folder does not exist", where=str(p),
                              hint="pass a folder laid out like benchseal's configs/ (programs/, workloads/, ...)")
        check_config_dir(p)
        if p not in _extra_dirs:
            _extra_dirs.append(p)


def reset_config_dirs() -> None:
    """Forget folders added with :func:`add_config_dirs` (for tests and long-lived callers)."""
    _extra_dirs.clear()
    _checked.clear()


def packaged_config_dir() -> Path:
    """The ``configs/`` folder shipped inside the installed package."""
    try:
        root = resources.files("benchseal").joinpath("configs")
    except (ModuleNotFoundError, TypeError):  # pragma: no cover - only a broken install gets here
        root = None
    p = Path(str(root)) if root is not None else None
    if p is None or not p.is_dir():
        raise ConfigError(
            "cannot find benchseal's configs/ directory",
            where=str(p),
            hint="reinstall benchseal from its wheel (configs/ is package data; a zipped install is not supported)",
        )
    return p


def user_config_dirs() -> list[Path]:
    """Folders searched before the shipped configs: ``--config-dir`` ones, then ``$BENCHSEAL_CONFIG_DIR``."""
    dirs = list(_extra_dirs)
    for part in (os.environ.get(ENV_VAR) or "").split(os.pathsep):
        if not part.strip():
            continue
        p = Path(part).expanduser()
        if not p.is_dir():
            raise ConfigError(f"${ENV_VAR} names a folder that does not exist", where=str(p),
                              hint=f"unset {ENV_VAR} or point it at a configs-style folder")
        check_config_dir(p)
        if p not in dirs:
            dirs.append(p)
    return dirs


def config_dirs() -> list[Path]:
    """Every config folder in search order: the user's first, the shipped one last."""
    return user_config_dirs() + [packaged_config_dir()]


def config_dir() -> Path:
    """The shipped ``configs/`` folder (kept for callers that list one folder; prefer
    :func:`config_path` and :func:`config_files`, which see the user's folders too)."""
    return packaged_config_dir()


def config_path(*parts: str) -> Path:
    """The first existing ``DIR/parts...`` in search order; the shipped path when none exists
    (so the caller's "not found" error names the expected place)."""
    for d in config_dirs():
        p = d.joinpath(*parts)
        if p.exists():
            return p
    return packaged_config_dir().joinpath(*parts)


def config_files(subdir: str, pattern: str = "*.yaml") -> list[Path]:
    """The files matching ``subdir/pattern`` across every config folder, one per relative name
    (a user's file hides the shipped file of the same name), sorted by name."""
    found: dict[str, Path] = {}
    for d in config_dirs():
        base = d / subdir
        if not base.is_dir():
            continue
        for p in base.glob(pattern):
            if p.is_file():
                found.setdefault(p.relative_to(base).as_posix(), p)
    return [found[k] for k in sorted(found)]
