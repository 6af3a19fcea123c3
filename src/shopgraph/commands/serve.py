"""`shopgraph serve`: the FastAPI serving API (search, recommendations, similar products, health)."""

from __future__ import annotations

from typing import Annotated

import typer

from shopgraph.commands.common import cli_settings, console


def register(app: typer.Typer) -> None:
    """Add the `serve` command."""

    @app.command("serve")
    def serve(
        host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
        port: Annotated[int, typer.Option(min=1, max=65535, help="Port to listen on.")] = 8000,
        workers: Annotated[int, typer.Option(min=1, help="Worker processes.")] = 1,
    ) -> None:
        """Serve /search, /recommend/{user_id}, /similar/{product_id} and /health (OpenAPI docs at /docs)."""
        import uvicorn

        from shopgraph.serving.app import create_app

        settings = cli_settings()
        console.print(f"serving on http://{host}:{port} (docs at /docs)")
        if workers == 1:
            uvicorn.run(create_app(settings), host=host, port=port, log_level="info")
        else:
            uvicorn.run(
                "shopgraph.serving.factory:app", host=host, port=port, workers=workers, log_level="info"
            )
