"""Time limits of the service: on a request's head, its body, its work and its answer.

uvicorn closes a keep-alive connection that stays idle (`timeout_keep_alive`), and
nothing else: from a request's first byte on, a client that sends its head or its body
a byte at a time, or never reads its answer, holds the connection and a task for ever.
Here:

- `head_timeout(limit)` is uvicorn's h11 protocol with one more timer: a connection with
  no request in the application must finish a request's head within `limit` seconds of
  being opened or of its last answer, else it is closed;
- the body is read under the service's own timeout (`Service._read`);
- `work_limit(seconds)` sets the request's deadline, which its work checks between
  records (`in_time`, `check`), so that a request over it stops and is refused;
- `SendTimeout` cuts a connection whose client does not take an answer in time.
"""

from __future__ import annotations

import asyncio
import contextvars
import time
from collections.abc import Iterable, Iterator
from typing import Any, TypeVar

from starlette.types import ASGIApp, Message, Receive, Scope, Send
from uvicorn.protocols.http.h11_impl import H11Protocol

T = TypeVar("T")
CHECK_EVERY = 64  # records between two looks at the clock
_deadline: contextvars.ContextVar[float] = contextvars.ContextVar("deadline", default=float("inf"))


class TimeUp(Exception):
    """A request's work ran past its deadline."""


def work_limit(seconds: float) -> None:
    """Give the request being answered (this context) `seconds` for its work."""
    _deadline.set(time.monotonic() + seconds)


def check() -> None:
    """Raise `TimeUp` if this request's deadline has passed."""
    if time.monotonic() > _deadline.get():
        raise TimeUp


def in_time(items: Iterable[T]) -> Iterator[T]:
    """`items`, stopped with `TimeUp` once this request's deadline has passed."""
    for n, item in enumerate(items):
        if n % CHECK_EVERY == 0:
            check()
        yield item


def head_timeout(limit: float) -> type[H11Protocol]:
    """uvicorn's h11 protocol, closing a connection that takes over `limit` seconds to
    send a request's head (counted from its opening, or from its last answer)."""

    class HeadTimeout(H11Protocol):
        _timer: asyncio.TimerHandle | None = None

        def connection_made(self, transport: Any) -> None:
            super().connection_made(transport)
            self._arm()

        def data_received(self, data: bytes) -> None:
            super().data_received(data)
            if self._busy():
                self._disarm()

        def on_response_complete(self) -> None:
            super().on_response_complete()
            self._arm()

        def connection_lost(self, exc: Exception | None) -> None:
            self._disarm()
            super().connection_lost(exc)

        def _busy(self) -> bool:
            """Whether a request is in the application (its own limits apply)."""
            return self.cycle is not None and not self.cycle.response_complete

        def _arm(self) -> None:
            self._disarm()
            if not self._busy() and not self.transport.is_closing():
                self._timer = self.loop.call_later(limit, self._expire)

        def _disarm(self) -> None:
            if self._timer is not None:
                self._timer.cancel()
                self._timer = None

        def _expire(self) -> None:
            self._timer = None
            if not self._busy() and not self.transport.is_closing():
                self.transport.close()

    return HeadTimeout


class SendTimeout:
    """ASGI middleware: a client that does not take a part of an answer within `limit`
    seconds has its connection cut (the server closes a connection whose application
    fails mid-answer)."""

    def __init__(self, app: ASGIApp, limit: float) -> None:
        self.app, self.limit = app, limit

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def timed(message: Message) -> None:
            async with asyncio.timeout(self.limit):
                await send(message)

        await self.app(scope, receive, timed)
