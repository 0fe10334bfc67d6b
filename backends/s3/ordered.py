"""Concurrent calls whose results come back in the order of their inputs, as soon as each is ready.

A bucket source reads one status object per run. Waves (gather 256, wait for
the slowest, start the next 256) left the store idle at every wave's tail; a
sliding window keeps ``concurrency`` requests in flight all the time and still
hands results over in path order, the first one as soon as it is back.
"""

from __future__ import annotations

import asyncio
from collections import deque
from typing import AsyncGenerator, Awaitable, Callable, Iterable, TypeVar

T = TypeVar("T")
R = TypeVar("R")


async def ordered_map(
    call: Callable[[T], Awaitable[R]], items: Iterable[T], *, concurrency: int, ahead: int
) -> AsyncGenerator[R, None]:
    """Yield ``await call(item)`` for every item, in the items' order.

    Args:
        call: The coroutine function to run per item.
        items: The inputs, consumed lazily.
        concurrency: Calls running at once at most (the earliest items first).
        ahead: Calls started ahead of the one the consumer waits for, at most:
            a slow call does not hold the others up, and a consumer that stops
            early (``aclose``, ``break`` under ``aclosing``, cancellation)
            leaves at most this many calls, which are cancelled.

    Raises:
        Exception: What a call raised, when the consumer reaches its item.
    """
    gate = asyncio.Semaphore(concurrency)  # FIFO: the earliest items get the requests first

    async def gated(item: T) -> R:
        async with gate:
            return await call(item)

    started: deque[asyncio.Task[R]] = deque()
    try:
        for item in items:
            started.append(asyncio.ensure_future(gated(item)))
            if len(started) >= max(1, ahead):
                yield await started.popleft()
        while started:
            yield await started.popleft()
    finally:
        await _cancel(started)


async def _cancel(tasks: deque[asyncio.Task[R]]) -> None:
    """Cancel calls nobody waits for any more, and wait until they have stopped."""
    for task in tasks:
        task.cancel()
    if tasks:
        await asyncio.wait(tasks)
    for task in tasks:
        if not task.cancelled():
            # Finished before the cancel: its outcome is read here so asyncio does not log it as "never
            # retrieved"; it belongs to an item past where the consumer stopped, so it is not this scan's error.
            task.exception()
