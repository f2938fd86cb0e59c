"""The shapes of the dicts theory_llm gives, for type checkers (importable at run
time too: ``from theory_llm import Usage``)."""

from __future__ import annotations

from typing import Any, TypedDict


class Usage(TypedDict):
    """``reply.usage``: tokens, time and cost. Money is integer micro-USD."""

    tokens_in: int
    tokens_out: int
    cached_tokens_in: int | None
    cache_write_tokens_in: int | None
    reasoning_tokens_out: int | None
    latency_ms: float
    usd_micros: int
    ttft_ms: float | None
    waited_ms: float
    tokens_estimated: bool
    cost_basis: str


class ToolCall(TypedDict):
    """One of ``reply.tool_calls``."""

    id: str
    name: str
    arguments: dict[str, Any]
