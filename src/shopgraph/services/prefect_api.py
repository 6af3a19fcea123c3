"""The app our local Prefect server runs: Prefect's own, with SQLite-locked writes replayed in place."""

from __future__ import annotations

import argparse
from typing import Any

from shopgraph.services.lock_retry import RetryLockedWrites


def create_app() -> Any:
    """Prefect's API and UI app with its background services (final: its settings are fixed), wrapped in
    RetryLockedWrites."""
    from prefect.server.api.server import create_app as create_prefect_app

    return RetryLockedWrites(create_prefect_app(final=True))


def main(argv: list[str] | None = None) -> None:
    """`python -m shopgraph.services.prefect_api --host H --port P`: what `prefect server start` runs in
    the foreground (one worker, with the background services), on the wrapped app."""
    import uvicorn
    from prefect.settings import (
        PREFECT_SERVER_API_KEEPALIVE_TIMEOUT,
        PREFECT_SERVER_API_WEBSOCKET_PING_INTERVAL,
        PREFECT_SERVER_API_WEBSOCKET_PING_TIMEOUT,
        PREFECT_SERVER_LOGGING_LEVEL,
    )

    parser = argparse.ArgumentParser(prog="shopgraph.services.prefect_api", description=main.__doc__)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--log-level", default=None, help="uvicorn log level; default Prefect's setting")
    args = parser.parse_args(argv)
    uvicorn.run(
        app=create_app(),
        host=args.host,
        port=args.port,
        timeout_keep_alive=PREFECT_SERVER_API_KEEPALIVE_TIMEOUT.value(),
        ws_ping_interval=PREFECT_SERVER_API_WEBSOCKET_PING_INTERVAL.value(),
        ws_ping_timeout=PREFECT_SERVER_API_WEBSOCKET_PING_TIMEOUT.value(),
        log_level=(args.log_level or PREFECT_SERVER_LOGGING_LEVEL.value()).lower(),
    )


if __name__ == "__main__":
    main()
