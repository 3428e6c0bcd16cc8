"""What a report's figures are bound to, in one line each for the report's first block: the model that
served them (run.json ``served_model_identity``) and the hardware that served them (``serving_hardware``)."""

from __future__ import annotations

from typing import Any, Mapping

IDENTITY_ZH = {"bound": "已绑定", "matched": "已匹配", "mismatched": "不匹配", "not-established": "未确认"}
IDENTITY_EN = {"bound": "bound", "matched": "matched", "mismatched": "MISMATCHED", "not-established": "not established"}


def identity_line(run: Mapping[str, Any]) -> tuple[str, str]:
    """(zh, en): which model served the figures, e.g. "served model: mismatched — <why>"."""
    ident = run.get("served_model_identity")
    if not isinstance(ident, Mapping) or not ident.get("status"):
        return ("受测模型身份：未记录", "Served model identity: not recorded (run.json has no served_model_identity)")
    st = str(ident["status"])
    detail = str(ident.get("detail") or "")
    return (f"受测模型身份：{IDENTITY_ZH.get(st, st)}（{detail}）",
            f"Served model identity: {IDENTITY_EN.get(st, st)} — {detail}")


def serving_hardware_missing(run: Mapping[str, Any]) -> str | None:
    """The reason no serving hardware is shown (an external endpoint without its inventory), or None."""
    sh = run.get("serving_hardware")
    if isinstance(sh, Mapping) and sh.get("source") == "none":
        return "未获得服务端硬件信息 / serving hardware not inventoried: " + str(sh.get("detail") or "")
    return None


def serving_hardware_source(run: Mapping[str, Any]) -> str | None:
    """Where the shown inventory comes from when it is not this host (Ray cluster, the server's own report)."""
    sh = run.get("serving_hardware")
    if isinstance(sh, Mapping) and sh.get("source") in ("ray", "server-file"):
        return str(sh.get("detail") or sh.get("source"))
    return None
