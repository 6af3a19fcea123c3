"""ASGI middleware that replays, inside the server, a write the Prefect API answered 503 (SQLite locked)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
App = Callable[[MutableMapping[str, Any], Receive, Send], Awaitable[None]]

WRITE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
RETRYABLE_STATUS = 503


class RetryLockedWrites:
    """Replays a write request up to `attempts` times while the API answers 503, `delay_s` x attempt apart.

    Why: on SQLite, Prefect's slot acquisition (`/v2/concurrency_limits/increment-with-lease`) reads and
    then writes in a deferred transaction. When the task-run recorder commits in between, SQLite refuses
    the upgrade at once ("database is locked"), the transaction rolls back and the API answers 503; the
    client then waits 2 s before it tries again. In a 10k-product nightly run 4 of 8 acquisitions lost
    those 2 s. The API sends 503 only for errors its clients may retry (the transaction was rolled back),
    so replaying here is what the client would do, 20 ms later instead of 2 s.
    """

    def __init__(self, app: App, attempts: int = 8, delay_s: float = 0.02) -> None:
        self.app = app
        self.attempts = attempts
        self.delay_s = delay_s

    async def __call__(self, scope: MutableMapping[str, Any], receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope.get("method") not in WRITE_METHODS:
            await self.app(scope, receive, send)
            return
        body, disconnected = await _read_body(receive)
        if disconnected:
            return
        messages: list[Message] = []
        error: Exception | None = None
        for attempt in range(1, self.attempts + 1):
            messages, error = await self._attempt(scope, body, receive)
            if _status(messages) != RETRYABLE_STATUS or attempt == self.attempts:
                break
            await asyncio.sleep(self.delay_s * attempt)
        for message in messages:
            await send(message)
        if error is not None:
            raise error

    async def _attempt(
        self, scope: MutableMapping[str, Any], body: bytes, receive: Receive
    ) -> tuple[list[Message], Exception | None]:
        """One run of the app on the buffered body: its response messages, not yet sent, and the error it
        raised after answering (Starlette answers 500/503 for an error, then raises it for the server's log).
        An error before any answer propagates."""
        delivered = False
        messages: list[Message] = []

        async def replay() -> Message:
            nonlocal delivered
            if delivered:
                return await receive()  # only a disconnect can come after the body
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def capture(message: Message) -> None:
            messages.append(message)

        try:
            # A copy: routing writes into the scope (path, route), and a replay must start from the original.
            await self.app(dict(scope), replay, capture)
        except Exception as error:
            if _status(messages) is None:
                raise
            return messages, error
        return messages, None


def _status(messages: list[Message]) -> int | None:
    """The status the captured response starts with; None when the app sent nothing."""
    return next((int(m["status"]) for m in messages if m["type"] == "http.response.start"), None)


async def _read_body(receive: Receive) -> tuple[bytes, bool]:
    """The whole request body, and whether the client went away before sending it."""
    chunks: list[bytes] = []
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            return b"", True
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return b"".join(chunks), False
