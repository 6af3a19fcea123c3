"""`shopgraph promote VERSION` and `shopgraph rollback`: move the recommender's champion alias by hand."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.markup import escape

from shopgraph.commands.common import cli_settings, console, out


def register(app: typer.Typer) -> None:
    """Add the `promote` and `rollback` commands."""

    @app.command("promote")
    def promote(
        version: Annotated[str, typer.Argument(help="Model version number, or an alias such as challenger.")],
        force: Annotated[
            bool, typer.Option("--force", help="Promote even when the policy says no (recorded in tags).")
        ] = False,
        model: Annotated[
            str | None,
            typer.Option("--model", help="Registered model (default: the promotion setting)."),
        ] = None,
    ) -> None:
        """Check VERSION against the champion with the promotion policy; if it passes (or --force), make it
        champion and the old champion `previous`. Exits 1 when the champion is kept."""
        from shopgraph.adapters.promotion import PromotionError
        from shopgraph.adapters.promotion import promote as promote_version
        from shopgraph.adapters.registry import registry_client

        settings = cli_settings()
        client = registry_client(settings.mlflow.resolved_tracking_uri)
        name = model or settings.recsys.registered_model
        try:
            outcome = promote_version(client, name, version, settings.promotion.policy(), force)
        except PromotionError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
            raise typer.Exit(1) from exc
        for reason in outcome.decision.reasons:
            out.print(f"- {escape(reason)}", soft_wrap=True, highlight=False)
        if not outcome.decision.promote:
            console.print(
                f"{name} v{outcome.version} not promoted: champion stays v{outcome.champion_before}",
                highlight=False,
            )
            raise typer.Exit(1)
        forced = " (forced)" if outcome.forced else ""
        out.print(
            f"{name} v{outcome.version} is champion{forced}; previous: v{outcome.previous_after or '-'}",
            highlight=False,
        )

    @app.command("rollback")
    def rollback(
        model: Annotated[
            str | None,
            typer.Option("--model", help="Registered model (default: the promotion setting)."),
        ] = None,
    ) -> None:
        """Make the `previous` version champion again; tag the rolled-back one and clear `previous`."""
        from shopgraph.adapters.promotion import PromotionError
        from shopgraph.adapters.promotion import rollback as roll_back
        from shopgraph.adapters.registry import registry_client

        settings = cli_settings()
        client = registry_client(settings.mlflow.resolved_tracking_uri)
        name = model or settings.recsys.registered_model
        try:
            outcome = roll_back(client, name)
        except PromotionError as exc:
            console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
            raise typer.Exit(1) from exc
        out.print(
            f"{name}: champion is v{outcome.champion} again (rolled back v{outcome.rolled_back or '-'})",
            highlight=False,
        )
