"""asyncio glue: the coroutine `achat` returns (the request starts when it is first
awaited), and each event loop's waker."""

from __future__ import annotations

import asyncio
import weakref
from typing import Any, Awaitable, Callable

from ._native import LoopWaker


async def _awaiting(start: Callable[[], Awaitable[Any]]) -> Any:
    return await start()


_wakers: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, LoopWaker] = weakref.WeakKeyDictionary()


def _waker(loop: asyncio.AbstractEventLoop) -> LoopWaker:
    """The loop's waker: the runtime's threads wake the loop through it, without
    taking the interpreter lock (see wake.rs)."""
    waker = _wakers.get(loop)
    if waker is None:
        waker = LoopWaker()
        loop.add_reader(waker.fileno(), waker.drain)
        _wakers[loop] = waker
    return waker
