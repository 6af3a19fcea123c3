"""RetryLockedWrites: a write answered 503 is replayed in the server with its body; anything else passes."""

from __future__ import annotations

import asyncio
from collections.abc import MutableMapping
from typing import Any

import pytest

from shopgraph.services.lock_retry import RetryLockedWrites

Message = MutableMapping[str, Any]


class FlakyApp:
    """Answers 503 `locked` times, then 200 with the body it read; mutates the scope as routing does."""

    def __init__(self, locked: int, raise_after_503: bool = False) -> None:
        self.locked = locked
        self.raise_after_503 = raise_after_503
        self.calls: list[tuple[str, bytes]] = []

    async def __call__(self, scope: MutableMapping[str, Any], receive: Any, send: Any) -> None:
        path = scope["path"]
        scope["path"] = "/routed"  # Starlette's Mount writes the child path into the scope
        body = b""
        while True:
            message = await receive()
            body += message.get("body", b"")
            if not message.get("more_body"):
                break
        self.calls.append((path, body))
        status = 503 if len(self.calls) <= self.locked else 200
        await send({"type": "http.response.start", "status": status, "headers": []})
        await send({"type": "http.response.body", "body": body if status == 200 else b"locked"})
        if status == 503 and self.raise_after_503:
            raise RuntimeError("database is locked")


def _call(app: Any, method: str, chunks: list[bytes]) -> list[Message]:
    scope = {"type": "http", "method": method, "path": "/api/v2/concurrency_limits/increment-with-lease"}
    incoming = [
        {"type": "http.request", "body": chunk, "more_body": n < len(chunks) - 1}
        for n, chunk in enumerate(chunks)
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)

    asyncio.run(app(scope, receive, send))
    return sent


def _status(sent: list[Message]) -> int:
    return int(next(m["status"] for m in sent if m["type"] == "http.response.start"))


def test_a_locked_write_is_replayed_with_the_same_path_and_body_until_it_succeeds() -> None:
    inner = FlakyApp(locked=2, raise_after_503=True)
    sent = _call(RetryLockedWrites(inner, attempts=5, delay_s=0), "POST", [b'{"names": ', b'["tag:x"]}'])
    assert _status(sent) == 200
    assert sent[-1]["body"] == b'{"names": ["tag:x"]}'
    assert [path for path, _ in inner.calls] == ["/api/v2/concurrency_limits/increment-with-lease"] * 3
    assert {body for _, body in inner.calls} == {b'{"names": ["tag:x"]}'}
    assert sum(m["type"] == "http.response.start" for m in sent) == 1  # only the last answer goes out


def test_after_the_last_attempt_the_503_goes_out_and_the_error_is_raised_for_the_log() -> None:
    inner = FlakyApp(locked=10, raise_after_503=True)
    with pytest.raises(RuntimeError, match="database is locked"):
        _call(RetryLockedWrites(inner, attempts=3, delay_s=0), "POST", [b"{}"])
    assert len(inner.calls) == 3


def test_the_last_503_is_sent_when_the_app_does_not_raise() -> None:
    inner = FlakyApp(locked=10)
    sent = _call(RetryLockedWrites(inner, attempts=2, delay_s=0), "PATCH", [b"{}"])
    assert _status(sent) == 503
    assert len(inner.calls) == 2


def test_reads_are_not_replayed() -> None:
    inner = FlakyApp(locked=1)
    sent = _call(RetryLockedWrites(inner, attempts=5, delay_s=0), "GET", [b""])
    assert _status(sent) == 503
    assert len(inner.calls) == 1


def test_an_error_before_any_answer_propagates_without_a_replay() -> None:
    calls = []

    async def broken(scope: Any, receive: Any, send: Any) -> None:
        calls.append(1)
        raise ValueError("boom")

    with pytest.raises(ValueError, match="boom"):
        _call(RetryLockedWrites(broken, attempts=5, delay_s=0), "POST", [b"{}"])
    assert calls == [1]


def test_lifespan_and_websocket_scopes_pass_through() -> None:
    seen: list[str] = []

    async def app(scope: Any, receive: Any, send: Any) -> None:
        seen.append(scope["type"])

    async def nothing() -> Message:
        return {}

    async def ignore(message: Message) -> None:
        return None

    for kind in ("lifespan", "websocket"):
        asyncio.run(RetryLockedWrites(app)({"type": kind}, nothing, ignore))
    assert seen == ["lifespan", "websocket"]
