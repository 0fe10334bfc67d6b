"""Run a blocking iterator in a thread and consume it as an async iterator.

Engines are plain synchronous generators; sources expose them asynchronously
with this bridge. The producer thread is bounded (at most ``maxsize`` items
in flight, so memory stays flat), and stops promptly when the consumer stops
early (``break``, cancellation or ``aclose()``).
"""

from __future__ import annotations

import asyncio
import threading
from typing import AsyncIterator, Callable, Iterator, TypeVar

T = TypeVar("T")

_ITEM, _DONE, _ERROR = 0, 1, 2


async def iterate_in_thread(
    factory: Callable[[threading.Event], Iterator[T]], *, maxsize: int = 4, name: str = "driftdeck-producer"
) -> AsyncIterator[T]:
    """Yield what ``factory(stop)`` yields, produced on a daemon thread.

    Args:
        factory: Called on the thread with a ``threading.Event`` that is set
            when the consumer goes away; long loops should check it.
        maxsize: Items produced ahead of the consumer at most.
        name: Thread name (shows up in debuggers and ``py-spy``).
    """
    loop = asyncio.get_running_loop()
    inbox: asyncio.Queue[tuple[int, object]] = asyncio.Queue()
    slots = threading.Semaphore(maxsize)
    stop = threading.Event()

    def post(message: tuple[int, object]) -> None:
        try:
            loop.call_soon_threadsafe(inbox.put_nowait, message)
        except RuntimeError:  # the loop is closed: nobody is listening any more
            stop.set()

    def produce() -> None:
        try:
            for item in factory(stop):
                while not slots.acquire(timeout=0.1):
                    if stop.is_set():
                        return
                if stop.is_set():
                    return
                post((_ITEM, item))
            post((_DONE, None))
        except BaseException as exc:  # handed to the consumer, re-raised there
            post((_ERROR, exc))

    thread = threading.Thread(target=produce, name=name, daemon=True)
    thread.start()
    try:
        while True:
            kind, value = await inbox.get()
            if kind == _ITEM:
                slots.release()
                yield value  # type: ignore[misc]  # an _ITEM message carries a T (one queue holds all three kinds)
            elif kind == _DONE:
                return
            else:
                raise value  # type: ignore[misc]  # an _ERROR message carries the producer's exception
    finally:
        stop.set()
