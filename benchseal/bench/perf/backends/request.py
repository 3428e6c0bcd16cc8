"""Building the HTTP requests of the ``openai`` backend: the JSON body of one streamed
``/v1/completions`` or ``/v1/chat/completions`` request, and the cache of encoded requests that
keeps JSON encoding off the path between a scheduled arrival and its send."""

from __future__ import annotations

import json
from typing import Any, Callable

from benchseal.bench.perf.backends.base import GenRequest

PATHS = {"completions": "/v1/completions", "chat": "/v1/chat/completions"}
PAYLOAD_CACHE_MAX = 65536


def request_body(
    request: GenRequest,
    *,
    model: str,
    chat: bool,
    include_usage: bool,
    temperature: float | None,
    ignore_eos: bool,
    extra_body: dict[str, Any] | None,
) -> bytes:
    """The UTF-8 JSON body for ``request``. Raises ValueError for chat messages sent to the
    completions endpoint. Order of precedence: the fixed fields, then ``extra_body`` (the run's
    extra parameters), then the request's own ``extra``."""
    prompt = request.prompt
    body: dict[str, Any] = {"model": model, "max_tokens": request.max_tokens, "stream": True}
    if chat:
        body["messages"] = [{"role": "user", "content": prompt}] if isinstance(prompt, str) else prompt
    else:
        if not isinstance(prompt, str):
            raise ValueError("chat messages cannot be sent to the completions endpoint; use --endpoint chat")
        body["prompt"] = prompt
    if include_usage:
        body["stream_options"] = {"include_usage": True}
    if temperature is not None:
        body["temperature"] = temperature
    if ignore_eos and request.ignore_eos:
        body["ignore_eos"] = True
        body["min_tokens"] = request.max_tokens
    if extra_body:
        body.update(extra_body)
    if request.extra:
        body.update(request.extra)
    return json.dumps(body, ensure_ascii=False).encode("utf-8")


class PayloadCache:
    """Encoded HTTP requests by prompt: (prompt, extra, max_tokens, ignore_eos) -> bytes. The key holds
    the objects' ids and the value keeps them alive, so an id cannot be reused while cached."""

    __slots__ = ("_encode", "_items", "_max")

    def __init__(self, encode: Callable[[GenRequest], bytes], max_items: int = PAYLOAD_CACHE_MAX) -> None:
        self._encode = encode
        self._items: dict[tuple[int, int, int, bool], tuple[Any, Any, bytes]] = {}
        self._max = max_items

    def get(self, request: GenRequest) -> bytes:
        key = (id(request.prompt), id(request.extra), request.max_tokens, request.ignore_eos)
        hit = self._items.get(key)
        if hit is not None and hit[0] is request.prompt and hit[1] is request.extra:
            return hit[2]
        data = self._encode(request)
        if len(self._items) >= self._max:
            self._items.clear()
        self._items[key] = (request.prompt, request.extra, data)
        return data
