"""Find what a MODEL argument holds: config.json, safetensors shards (with or without an index),
GGUF, or pickled PyTorch weights. No weight data is read here."""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from benchseal.errors import ModelFormatError

PICKLE_SUFFIXES = (".bin", ".pt", ".pth", ".ckpt")
CONVERT_HINT = (
    "convert it to safetensors (python -c \"import torch, safetensors.torch as s; "
    "s.save_file(torch.load('IN.bin', weights_only=True), 'model.safetensors')\", or save_pretrained(safe_serialization=True)), "
    "or pass --allow-pickle to read it with torch.load(weights_only=True)"
)


@dataclass
class ModelFiles:
    source: str
    root: Path  # directory the relative names below are relative to
    config: dict[str, Any] | None = None
    safetensors: list[str] = field(default_factory=list)
    safetensors_index: str | None = None
    gguf: str | None = None
    pickles: list[str] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def has_weights(self) -> bool:
        return bool(self.safetensors or self.gguf or self.pickles)


def read_config(path: Path) -> dict[str, Any]:
    from benchseal.errors import ConfigError
    from benchseal.io import read_json

    try:
        # NaN / Infinity / -Infinity are read as Python's json and transformers read them (NVIDIA's Nemotron-H
        # configs publish "time_step_limit": [0.0, Infinity]); model.json stores them as strings (finite_json)
        data = read_json(path, max_depth=32, constants=True)
    except ConfigError as exc:
        raise ModelFormatError(f"invalid model config: {exc.what}", where=str(path), hint="fix or re-download config.json") from None
    if not isinstance(data, dict):
        raise ModelFormatError("model config is not a JSON object", where=str(path), hint="fix or re-download config.json")
    return data


def finite_json(value: Any, path: str = "", found: list[str] | None = None) -> tuple[Any, list[str]]:
    """``value`` with every non-finite float written as the JSON5 token it was read from ("Infinity",
    "-Infinity", "NaN"), so it can be stored in canonical JSON; and the paths of the values replaced."""
    found = [] if found is None else found
    if isinstance(value, float) and not math.isfinite(value):
        found.append(path or "(top)")
        return ("NaN" if value != value else "Infinity" if value > 0 else "-Infinity"), found
    if isinstance(value, dict):
        return {k: finite_json(v, f"{path}.{k}" if path else str(k), found)[0] for k, v in value.items()}, found
    if isinstance(value, list):
        return [finite_json(v, f"{path}[{i}]", found)[0] for i, v in enumerate(value)], found
    return value, found


def _pick_index(names: list[str], suffix: str, preferred: str) -> str | None:
    found = sorted(n for n in names if n.endswith(suffix))
    if preferred in found:
        return preferred
    return found[0] if found else None


def unusable_model_path(p: Path) -> str | None:
    """Why ``p`` cannot be a model (None when it is a regular file or a directory): missing, a symbolic link
    that loops or points nowhere, or a FIFO, socket or device (reading one would block or never end)."""
    try:
        if p.is_file() or p.is_dir():
            return None
        if p.is_symlink():
            try:
                p.resolve(strict=True)
            except RuntimeError:
                return "model path is a symbolic link that loops"
            except OSError:
                return "model path is a symbolic link whose target does not exist"
        if p.exists():
            return "model path is not a regular file or a directory (a FIFO, socket or device)"
    except OSError as exc:  # ELOOP and friends from stat
        return f"model path cannot be read: {exc.strerror or exc}"
    return "model path does not exist"


def resolve(path: str | os.PathLike) -> ModelFiles:
    """Classify the files of ``path`` (a directory in Hugging Face layout, or one weight file)."""
    p = Path(path)
    problem = unusable_model_path(p)
    if problem:
        raise ModelFormatError(problem, where=str(p), hint="give a model directory, a .safetensors, .gguf or config.json file")
    if p.is_file():
        mf = ModelFiles(str(path), p.parent)
        name = p.name
        if name.endswith(".safetensors"):
            mf.safetensors = [name]
        elif name.endswith(".gguf"):
            mf.gguf = name
        elif name.endswith(PICKLE_SUFFIXES):
            mf.pickles = [name]
        elif name.endswith(".json"):
            mf.config = read_config(p)
            if name == "params.json" and _mistral_params(mf, p):
                return mf
            if name != "config.json" and not {"model_type", "architectures"} & set(mf.config):
                # tokenizer.json, generation_config.json, an index…: not the config the count needs
                raise ModelFormatError(
                    f"{name} is not a model config (it has no model_type or architectures)", where=str(p),
                    hint=f"give the model directory ({p.parent}) or its config.json",
                )
        else:
            raise ModelFormatError(
                "unsupported model file type", where=str(p),
                hint="give a directory in Hugging Face layout, a .safetensors, .gguf, .bin/.pt or config.json file",
            )
        return mf
    mf = ModelFiles(str(path), p)
    names = sorted(e.name for e in os.scandir(p) if e.is_file())
    if "config.json" in names:
        mf.config = read_config(p / "config.json")
    mf.safetensors_index = _pick_index(names, ".safetensors.index.json", "model.safetensors.index.json")
    shards = [n for n in names if n.endswith(".safetensors")]
    consolidated = [n for n in shards if n.startswith("consolidated")]
    if consolidated and len(consolidated) < len(shards) and mf.safetensors_index is None:
        shards = [n for n in shards if n not in consolidated]
        mf.notes.append(f"ignored {', '.join(consolidated)} (Mistral-format duplicate of the Hugging Face shards)")
    mf.safetensors = shards
    ggufs = [n for n in names if n.endswith(".gguf")]
    pickles = [n for n in names if n.endswith(PICKLE_SUFFIXES) and n != "training_args.bin"]
    if not mf.safetensors and not mf.safetensors_index:
        if len(ggufs) > 1:
            raise ModelFormatError(
                f"the directory holds {len(ggufs)} GGUF files", where=str(p),
                hint="pass the one GGUF file to inspect, e.g. " + str(p / ggufs[0]),
            )
        if ggufs:
            mf.gguf = ggufs[0]
        else:
            pidx = _pick_index(names, ".bin.index.json", "pytorch_model.bin.index.json")
            if pidx:
                from benchseal.bench.model.safetensors_io import check_shard_names
                from benchseal.errors import ConfigError
                from benchseal.io import read_json

                try:
                    wm = read_json(p / pidx, max_depth=8, constants=False)["weight_map"]
                    mf.pickles = sorted(set(wm.values()))
                except (ConfigError, KeyError, TypeError, AttributeError):
                    raise ModelFormatError("invalid checkpoint index (no weight_map)", where=str(p / pidx)) from None
                if not mf.pickles or not all(isinstance(x, str) for x in mf.pickles):
                    raise ModelFormatError("checkpoint index has an empty or invalid 'weight_map'", where=str(p / pidx))
                check_shard_names(p, mf.pickles, p / pidx)
                for shard in mf.pickles:
                    if not (p / shard).is_file():
                        raise ModelFormatError(f"shard '{shard}' named in the checkpoint index is missing", where=str(p / pidx),
                                               hint="download the missing shard or fix the index")
            else:
                mf.pickles = pickles
    if mf.config is None and not mf.has_weights and not mf.safetensors_index and "params.json" in names:
        # no config.json and no weights: Mistral's own params.json, when that is what the directory has (with weights,
        # the weights are counted as before and params.json is not read)
        mf.config = read_config(p / "params.json")
        if not _mistral_params(mf, p / "params.json"):
            mf.config = None  # some other params.json: not a model config
    if mf.config is None and not mf.has_weights and not mf.safetensors_index:
        raise ModelFormatError(
            "no config.json and no weight files (.safetensors, .gguf, .bin) in the model directory", where=str(p),
            hint="point MODEL at a Hugging Face model directory, a .safetensors or a .gguf file",
        )
    return mf


def _mistral_params(mf: ModelFiles, path: Path) -> bool:
    """If ``mf.config`` (read from ``path``) is Mistral's own params.json, replace it by the config.json it
    describes and note so (benchseal.bench.model.mistral_format); True when it was one."""
    from benchseal.bench.model.mistral_format import config_from_params, is_mistral_params

    if not is_mistral_params(mf.config):
        return False
    mf.config, note = config_from_params(mf.config, where=str(path))  # type: ignore[arg-type]
    mf.notes.append(note)
    return True
