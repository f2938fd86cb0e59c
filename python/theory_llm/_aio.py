"""The coroutine `achat` returns: the request starts when it is first awaited."""

from __future__ import annotations

from typing import Any, Awaitable, Callable


async def _awaiting(start: Callable[[], Awaitable[Any]]) -> Any:
    return await start()
