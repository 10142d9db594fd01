"""Awaiting, in the event loop, a token being signed on the signing pool (services/tokens.py)."""

from __future__ import annotations

import asyncio
from concurrent.futures import Future
from typing import TypeVar

T = TypeVar("T")


async def settle(pending: Future[T]) -> T:
    """The mint's result. Unlike `asyncio.wrap_future`, a waiter that goes away (its connection closed)
    never cancels the mint: other requests for the same token may share it."""
    if pending.done():
        return pending.result()
    loop = asyncio.get_running_loop()
    waiter: asyncio.Future[T] = loop.create_future()

    def wake(done: Future[T]) -> None:  # on the signing thread
        try:
            loop.call_soon_threadsafe(_copy, done, waiter)
        except RuntimeError:  # the loop was closed meanwhile: nobody is waiting any more
            pass

    pending.add_done_callback(wake)
    return await waiter


def _copy(done: Future[T], waiter: asyncio.Future[T]) -> None:
    if waiter.done():
        return
    exc = done.exception()
    if exc is not None:
        waiter.set_exception(exc)
    else:
        waiter.set_result(done.result())
