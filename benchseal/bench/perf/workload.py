"""Workloads: the prompt set a performance run sends, with exact token lengths.

Three kinds (``WorkloadSpec.kind``):

- ``synthetic``: seeded random prompts of *exactly* ``input_len`` tokens (optionally spread
  uniformly by ``±spread``) as the server counts them, each asking for ``output_len`` tokens.
  Prompts are built from token ids of the model's tokenizer, decoded, re-encoded and fixed up
  until the re-encoded length is exact.
- ``jsonl``: a file with one ``{"prompt": str, "max_tokens": int}`` object per line.
- ``sharegpt``: ShareGPT conversations (a JSON array, or JSONL, of ``{"conversations": [{"from",
  "value"}]}``): the first human turn is the prompt, the token count of the reply is ``max_tokens``.

``input_len`` counts the tokens the model sees: for a completion prompt the tokenizer's encoding
*with* its special tokens (a BOS it adds counts), for a chat prompt (``chat: true``) the chat
template rendered with the generation prompt. The prompt set is identified by :func:`prompt_set_sha256`.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
import statistics
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from benchseal.bench.perf.backends.base import GenRequest
from benchseal.errors import ConfigError, UsageError, require
from benchseal.io import parse_json_bounded, require_regular_file

_MAX_FIXUP_ROUNDS = 16
_MAX_SAMPLE_TRIES = 8


class WorkloadSpec(BaseModel):
    """What to send. Loaded from the ``workload:`` key of ``configs/workloads/*.yaml`` or from flags."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["synthetic", "jsonl", "sharegpt"] = "synthetic"
    input_len: int = Field(128, ge=1)
    output_len: int = Field(64, ge=1)
    spread: float = Field(0.0, ge=0.0, lt=1.0)  # relative ±, uniform, applied to input and output
    num_prompts: int = Field(32, ge=1)
    prompts_path: str | None = None
    sharegpt_path: str | None = None
    tokenizer: str | None = None  # defaults to the model's
    seed: int = 0
    chat: bool = False  # send chat messages (apply the chat template) instead of plain text
    ignore_eos: bool = True  # ask the server for exactly max_tokens output tokens
    allow_repeats: bool = False  # prompts may be re-sent across load points and repeats (the prompt-reuse audit)

    @model_validator(mode="after")
    def _paths_match_kind(self) -> "WorkloadSpec":
        if self.kind == "jsonl" and not self.prompts_path:
            raise ValueError("kind 'jsonl' needs prompts_path")
        if self.kind == "sharegpt" and not self.sharegpt_path:
            raise ValueError("kind 'sharegpt' needs sharegpt_path")
        return self


@dataclass(frozen=True)
class Workload:
    """A built prompt set. ``sha256`` identifies it (see :func:`prompt_set_sha256`)."""

    requests: list[GenRequest]
    sha256: str
    description: dict[str, Any]
    tokenizer: Any = field(default=None, repr=False, compare=False)

    def count_tokens(self, text: str) -> int | None:
        """Tokens in ``text`` (no special tokens added) with the workload's tokenizer; None without one."""
        if self.tokenizer is None:
            return None
        return len(self.tokenizer.encode(text, add_special_tokens=False))


def prompt_set_sha256(requests: list[GenRequest]) -> str:
    """sha256 of the canonical serialisation of a prompt set.

    The serialisation is the UTF-8 JSON array, in request order, of one object per request with
    the keys ``ignore_eos``, ``max_tokens`` and ``prompt`` (a string or a list of chat messages),
    written with sorted keys, separators ``","`` and ``":"`` and no ASCII escaping.
    """
    items = [{"prompt": r.prompt, "max_tokens": r.max_tokens, "ignore_eos": r.ignore_eos} for r in requests]
    data = json.dumps(items, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(data.encode("utf-8")).hexdigest()


# --- tokenizer --------------------------------------------------------------------------------------
def load_tokenizer(path: str) -> Any:
    """Load a tokenizer from local files only; a bad path is a usage error (exit 2)."""
    require("transformers", "hf", "building a workload with a tokenizer")
    from transformers import AutoTokenizer

    try:
        return AutoTokenizer.from_pretrained(path, local_files_only=True)
    except Exception as exc:  # transformers raises OSError/ValueError/… for unusable paths
        raise UsageError(
            f"cannot load a tokenizer: {type(exc).__name__}: {str(exc).splitlines()[0] if str(exc) else ''}".rstrip(": "),
            where=path,
            hint="pass a local directory that holds tokenizer files: --tokenizer PATH with benchseal perf or eval, --model-path PATH with benchseal run",
        ) from None


class _Lengths:
    """Counts tokens the way a server sees the prompt (completion: with special tokens; chat: template)."""

    def __init__(self, tokenizer: Any, chat: bool) -> None:
        self.tok = tokenizer
        self.chat = chat
        if chat and not getattr(tokenizer, "chat_template", None):
            raise UsageError(
                "the tokenizer has no chat template but the workload asks for chat prompts",
                hint="set chat: false or use a tokenizer with a chat template",
            )

    def wrap(self, text: str) -> str | list[dict[str, str]]:
        return [{"role": "user", "content": text}] if self.chat else text

    def prompt_tokens(self, prompt: str | list[dict[str, str]]) -> int:
        if isinstance(prompt, list):
            rendered = self.tok.apply_chat_template(prompt, tokenize=False, add_generation_prompt=True)
            return len(self.tok.encode(rendered, add_special_tokens=False))
        return len(self.tok.encode(prompt, add_special_tokens=True))

    def text_tokens(self, text: str) -> int:
        return len(self.tok.encode(text, add_special_tokens=False))


# --- synthetic --------------------------------------------------------------------------------------
def _token_pools(tok: Any) -> tuple[list[int], list[int]]:
    """(word pool, fallback pool): ids of whole-word tokens that round-trip alone, and all normal ids."""
    special = set(getattr(tok, "all_special_ids", []) or [])
    try:
        special |= {int(i) for i in tok.get_added_vocab().values()}
    except Exception:  # noqa: BLE001 - optional API
        pass
    words, normal = [], []
    for i in range(len(tok)):
        if i in special:
            continue
        text = tok.decode([i])
        if not text or not text.isprintable() or "<|" in text or "\ufffd" in text:
            continue
        normal.append(i)
        if re.fullmatch(r"[ \u2581][A-Za-z]+", text) and tok.encode(text, add_special_tokens=False) == [i]:
            words.append(i)
    if not normal:
        raise UsageError("the tokenizer has no usable non-special tokens for synthetic prompts")
    return words, normal


def _jitter(rng: random.Random, base: int, spread: float) -> int:
    if spread <= 0:
        return base
    lo, hi = max(1, round(base * (1 - spread))), max(1, round(base * (1 + spread)))
    return rng.randint(lo, hi)


def _exact_prompt(target: int, lengths: _Lengths, pool: list[int], rng: random.Random) -> tuple[str, int]:
    """A prompt whose server-side token count is exactly ``target``; returns (content text, count)."""
    tok = lengths.tok
    overhead = lengths.prompt_tokens(lengths.wrap(""))  # special tokens / chat template around the content
    if target <= overhead:
        raise ConfigError(
            f"input_len {target} is not more than the {overhead} tokens the tokenizer adds to every prompt",
            hint="raise input_len",
        )
    ids = [rng.choice(pool) for _ in range(target - overhead)]
    for _ in range(_MAX_FIXUP_ROUNDS):
        text = tok.decode(ids)
        n = lengths.prompt_tokens(lengths.wrap(text))
        if n == target and text.strip():
            return text, n
        ids = tok.encode(text, add_special_tokens=False)  # canonical ids of what was decoded
        diff = target - n
        if diff > 0:
            ids += [rng.choice(pool) for _ in range(diff)]
        elif len(ids) + diff >= 1:
            ids = ids[: len(ids) + diff]
        else:
            ids = [rng.choice(pool)]
    raise _NotExact()


class _NotExact(Exception):
    pass


def _synthetic(spec: WorkloadSpec, lengths: _Lengths) -> list[GenRequest]:
    words, normal = _token_pools(lengths.tok)
    pool = words if len(words) >= 32 else normal
    rng = random.Random(spec.seed)
    out: list[GenRequest] = []
    for i in range(spec.num_prompts):
        in_len = _jitter(rng, spec.input_len, spec.spread)
        out_len = _jitter(rng, spec.output_len, spec.spread)
        for _ in range(_MAX_SAMPLE_TRIES):
            try:
                text, n = _exact_prompt(in_len, lengths, pool, rng)
                break
            except _NotExact:
                continue
        else:
            raise UsageError(
                f"could not build a prompt of exactly {in_len} tokens with this tokenizer",
                hint="try another --seed or input length",
            )
        out.append(GenRequest(i, lengths.wrap(text), out_len, prompt_tokens=n, ignore_eos=spec.ignore_eos))
    return out


# --- files ------------------------------------------------------------------------------------------
def _open_text(path_str: str, what: str) -> tuple[Path, str]:
    path = require_regular_file(Path(path_str).expanduser(), f"{what} file")  # a FIFO or /dev/zero is never opened
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(f"{what} file not found", where=str(path)) from None
    except IsADirectoryError:
        raise ConfigError(f"{what} path is a directory, not a file", where=str(path)) from None
    except UnicodeDecodeError:
        raise ConfigError(f"{what} file is not UTF-8 text", where=str(path)) from None
    if not text.strip():
        raise ConfigError(f"{what} file is empty", where=str(path), hint="add at least one prompt")
    return path, text


def parse_prompts_jsonl(path_str: str) -> list[tuple[str, int]]:
    """Validate a prompts file: every non-blank line is ``{"prompt": str, "max_tokens": int > 0}``."""
    path, text = _open_text(path_str, "prompts")
    items: list[tuple[str, int]] = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if not line.strip():
            continue
        where = f"{path}, line {lineno}"
        try:
            obj = parse_json_bounded(line, where=where, constants=True)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON: {exc.msg}", where=where) from None
        if not isinstance(obj, dict):
            raise ConfigError('each line must be a JSON object {"prompt": str, "max_tokens": int}', where=where)
        unknown = sorted(set(obj) - {"prompt", "max_tokens"})
        if unknown:
            raise ConfigError(f"unknown field(s) {', '.join(unknown)}", where=where, hint='use only "prompt" and "max_tokens"')
        prompt, max_tokens = obj.get("prompt"), obj.get("max_tokens")
        if "prompt" not in obj or "max_tokens" not in obj:
            missing = "prompt" if "prompt" not in obj else "max_tokens"
            raise ConfigError(f'missing field "{missing}"', where=where)
        if not isinstance(prompt, str) or not prompt:
            raise ConfigError('"prompt" must be a non-empty string', where=where)
        if isinstance(max_tokens, bool) or not isinstance(max_tokens, int) or max_tokens <= 0:
            raise ConfigError(f'"max_tokens" must be a positive integer, got {max_tokens!r}', where=where)
        items.append((prompt, max_tokens))
    return items


def _sharegpt_entries(path: Path, text: str) -> list[tuple[str, Any]]:
    stripped = text.lstrip()
    if stripped.startswith("["):
        try:
            data = parse_json_bounded(text, where=str(path), constants=True)
        except json.JSONDecodeError as exc:
            raise ConfigError(f"invalid JSON at line {exc.lineno}: {exc.msg}", where=str(path)) from None
        return [(f"{path}, entry {i}", obj) for i, obj in enumerate(data)]
    entries = []
    for lineno, line in enumerate(text.splitlines(), 1):
        if line.strip():
            try:
                entries.append((f"{path}, line {lineno}",
                                parse_json_bounded(line, where=f"{path}, line {lineno}", constants=True)))
            except json.JSONDecodeError as exc:
                raise ConfigError(f"invalid JSON: {exc.msg}", where=f"{path}, line {lineno}") from None
    return entries


def parse_sharegpt(path_str: str) -> list[tuple[str, str]]:
    """Validate a ShareGPT file and return (first human turn, the reply) of every usable conversation."""
    path, text = _open_text(path_str, "ShareGPT")
    pairs: list[tuple[str, str]] = []
    for where, obj in _sharegpt_entries(path, text):
        conv = obj.get("conversations") if isinstance(obj, dict) else None
        if not isinstance(conv, list):
            raise ConfigError('each entry needs a "conversations" list', where=where)
        for turn in conv:
            if not (isinstance(turn, dict) and isinstance(turn.get("from"), str) and isinstance(turn.get("value"), str)):
                raise ConfigError('each turn must be {"from": str, "value": str}', where=where)
        if len(conv) >= 2 and conv[0]["from"] in ("human", "user") and conv[0]["value"].strip():
            pairs.append((conv[0]["value"], conv[1]["value"]))
    if not pairs:
        raise ConfigError("no conversation starts with a human turn followed by a reply", where=str(path))
    return pairs


def _sharegpt_requests(spec: WorkloadSpec, pairs: list[tuple[str, str]], lengths: _Lengths) -> list[GenRequest]:
    pairs = list(pairs)
    random.Random(spec.seed).shuffle(pairs)
    items = []
    for prompt, reply in pairs:
        n_reply = lengths.text_tokens(reply)
        if n_reply >= 1:
            items.append((prompt, n_reply))
        if len(items) == spec.num_prompts:
            break
    return _requests_from_pairs(items, spec, lengths)


def _requests_from_pairs(items: list[tuple[str, int]], spec: WorkloadSpec, lengths: _Lengths | None) -> list[GenRequest]:
    out = []
    for i, (text, max_tokens) in enumerate(items):
        prompt: str | list[dict[str, str]] = [{"role": "user", "content": text}] if spec.chat else text
        n = lengths.prompt_tokens(prompt) if lengths is not None else None
        out.append(GenRequest(i, prompt, max_tokens, prompt_tokens=n, ignore_eos=spec.ignore_eos))
    return out


# --- entry point ------------------------------------------------------------------------------------
def _stats(values: list[int | None]) -> dict[str, float | int | None]:
    vals = [v for v in values if v is not None]
    if not vals:
        return {"n": 0, "min": None, "mean": None, "max": None}
    return {"n": len(vals), "min": min(vals), "mean": round(statistics.fmean(vals), 3), "max": max(vals)}


def build_workload(spec: WorkloadSpec, *, model_path_or_tokenizer: str | None) -> Workload:
    """Build the prompt set of ``spec``; the tokenizer is ``spec.tokenizer`` or else the model's path."""
    tok_path = spec.tokenizer or model_path_or_tokenizer
    if tok_path is None and spec.kind == "synthetic":
        raise UsageError("synthetic prompts need a tokenizer to make exact token lengths", hint="pass a local tokenizer directory: --tokenizer PATH with benchseal perf or eval, --model-path PATH with benchseal run")
    if tok_path is None and spec.kind == "sharegpt":
        raise UsageError("ShareGPT workloads need a tokenizer to count reply tokens", hint="pass a local tokenizer directory: --tokenizer PATH with benchseal perf or eval, --model-path PATH with benchseal run")
    # files are validated before the (slow) tokenizer load
    jsonl_items = parse_prompts_jsonl(spec.prompts_path or "") if spec.kind == "jsonl" else None
    sharegpt_pairs = parse_sharegpt(spec.sharegpt_path or "") if spec.kind == "sharegpt" else None
    tokenizer = load_tokenizer(tok_path) if tok_path is not None else None
    lengths = _Lengths(tokenizer, spec.chat) if tokenizer is not None else None
    if jsonl_items is not None:
        requests = _requests_from_pairs(jsonl_items[: spec.num_prompts], spec, lengths)
    elif sharegpt_pairs is not None:
        assert lengths is not None
        requests = _sharegpt_requests(spec, sharegpt_pairs, lengths)
    else:
        assert lengths is not None
        requests = _synthetic(spec, lengths)
    digest = prompt_set_sha256(requests)
    description = {
        "spec": spec.model_dump(mode="json"),
        "tokenizer": tok_path,
        "sha256": digest,
        "sha256_of": "canonical JSON of [{prompt, max_tokens, ignore_eos}] (benchseal.bench.perf.workload.prompt_set_sha256)",
        "num_requests": len(requests),
        "input_tokens": _stats([r.prompt_tokens for r in requests]),
        "output_tokens_requested": _stats([r.max_tokens for r in requests]),
        "input_tokens_counted_as": "chat template with generation prompt" if spec.chat else "tokenizer encoding with special tokens",
    }
    return Workload(requests=requests, sha256=digest, description=description, tokenizer=tokenizer)
