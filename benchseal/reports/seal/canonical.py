"""Canonical JSON (RFC 8785), strict base64, and value comparison used by signing and verification.

Everything that is signed is serialised with :func:`canonical_bytes`, so the same content always
gives the same bytes, on any machine and in any language that implements RFC 8785.
"""

from __future__ import annotations

import base64
import binascii
import math
from typing import Any, Iterable

from benchseal.errors import VerificationFailed

_JS_SAFE = 2**53


def _prepare(obj: Any) -> Any:
    """Integers beyond 2**53 become decimal strings (the schema's convention for signed JSON)."""
    if isinstance(obj, bool) or obj is None:
        return obj
    if isinstance(obj, int):
        return str(obj) if abs(obj) >= _JS_SAFE else obj
    if isinstance(obj, dict):
        return {str(k): _prepare(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [_prepare(v) for v in obj]
    return obj


def canonical_bytes(obj: Any) -> bytes:
    """RFC 8785 (JCS) canonical UTF-8 bytes of a JSON-compatible object."""
    import rfc8785

    try:
        return rfc8785.dumps(_prepare(obj))
    except rfc8785.CanonicalizationError as exc:
        raise ValueError(f"value cannot be canonicalised as JSON (RFC 8785): {exc}") from None


def b64encode(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def b64decode_strict(text: Any, *, what: str) -> bytes:
    """Decode standard base64, refusing anything that does not re-encode to exactly ``text``.

    Plain base64 decoding ignores the unused low bits of the last character ("QQ==" and "QR=="
    both decode to "A"), so a changed character could go unnoticed; this check closes that gap.
    """
    if not isinstance(text, str):
        raise VerificationFailed(f"{what} is not a base64 string")
    try:
        data = base64.b64decode(text.encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError, ValueError):
        raise VerificationFailed(f"{what} is not valid base64") from None
    if base64.b64encode(data).decode("ascii") != text:
        raise VerificationFailed(f"{what} is not canonical base64 (it was altered)")
    return data


# ------------------------------------------------------------------------------------------------
# value comparison: lists the exact paths where two JSON documents differ
# ------------------------------------------------------------------------------------------------
_LABEL_KEYS = ("claim_id", "load_point", "task", "name", "path", "index", "id")


def _label(item: Any) -> str:
    if isinstance(item, dict):
        for key in _LABEL_KEYS:
            if isinstance(item.get(key), (str, int)) and not isinstance(item.get(key), bool):
                return f"{key}={item[key]}"
    return ""


def _fmt(v: Any) -> str:
    text = repr(v) if isinstance(v, str) else ("null" if v is None else str(v))
    return text if len(text) <= 80 else text[:77] + "..."


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def numbers_close(a: float, b: float, *, rel: float = 1e-9, abs_tol: float = 1e-12) -> bool:
    if isinstance(a, float) or isinstance(b, float):
        if math.isnan(a) or math.isnan(b):
            return math.isnan(a) and math.isnan(b)
        return math.isclose(a, b, rel_tol=rel, abs_tol=abs_tol)
    return a == b


def diff_values(
    stored: Any, recomputed: Any, path: str = "", *, rel: float = 1e-9, names: tuple[str, str] = ("stored", "recomputed")
) -> list[str]:
    """Every difference between ``stored`` and ``recomputed`` as 'PATH: stored X, recomputed Y'.

    Numbers compare with a relative tolerance ``rel``; everything else compares exactly. List items
    are named by their index and, where present, an identifying key (``verdicts[2 claim_id=x]``).
    """
    where = path or "(top level)"
    if _is_number(stored) and _is_number(recomputed):
        if numbers_close(stored, recomputed, rel=rel):
            return []
        return [f"{where}: {names[0]} {_fmt(stored)}, {names[1]} {_fmt(recomputed)}"]
    if isinstance(stored, dict) and isinstance(recomputed, dict):
        out: list[str] = []
        for key in sorted(set(stored) | set(recomputed), key=str):
            sub = f"{path}.{key}" if path else str(key)
            if key not in recomputed:
                out.append(f"{sub}: {names[0]} {_fmt(stored[key])}, absent when {names[1]}")
            elif key not in stored:
                out.append(f"{sub}: absent when {names[0]}, {names[1]} {_fmt(recomputed[key])}")
            else:
                out.extend(diff_values(stored[key], recomputed[key], sub, rel=rel, names=names))
        return out
    if isinstance(stored, list) and isinstance(recomputed, list):
        out = []
        if len(stored) != len(recomputed):
            out.append(f"{where}: {len(stored)} items {names[0]}, {len(recomputed)} {names[1]}")
        for i, (a, b) in enumerate(zip(stored, recomputed)):
            label = _label(a)
            out.extend(diff_values(a, b, f"{path}[{i}{' ' + label if label else ''}]", rel=rel, names=names))
        return out
    if type(stored) is not type(recomputed) or stored != recomputed:
        return [f"{where}: {names[0]} {_fmt(stored)}, {names[1]} {_fmt(recomputed)}"]
    return []


def summarise(diffs: Iterable[str], *, limit: int = 8) -> str:
    diffs = list(diffs)
    head = "; ".join(diffs[:limit])
    if len(diffs) > limit:
        head += f"; and {len(diffs) - limit} more"
    return head
