"""`shopgraph recommend USER` and `shopgraph recommend-batch`: the champion's recommendations."""

from __future__ import annotations

from datetime import date
from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import cli_settings, out, parse_date


def register(app: typer.Typer) -> None:
    """Add the recommendation commands to the CLI."""

    @app.command("recommend")
    def recommend(
        user_id: Annotated[str, typer.Argument(help="The user to show recommendations for.")],
        k: Annotated[int, typer.Option(min=1, max=200, help="How many to show.")] = 10,
    ) -> None:
        """Show a user's stored recommendations with the graph paths that explain them."""
        from shopgraph.adapters.explanations import user_recommendations
        from shopgraph.adapters.graph_store import neo4j_driver

        settings = cli_settings()
        with neo4j_driver(settings) as driver:
            rows = user_recommendations(driver, settings.neo4j.database, user_id, k)
        if not rows:
            out.print(
                f"no recommendations stored for user {user_id!r} (unknown user, or no batch has run yet)"
            )
            raise typer.Exit(1)
        table = Table(title=f"recommendations for {user_id} (model version {rows[0]['model_version']})")
        for column in ("rank", "product", "score", "why"):
            table.add_column(column)
        for row in rows:
            why = "\n".join(row["explanations"]) or "popular with shoppers like you"  # type: ignore[arg-type]
            table.add_row(
                str(row["rank"]), f"{row['title']} ({row['product_id']})", f"{row['score']:.3f}", why
            )
        out.print(table)

    @app.command("recommend-batch")
    def recommend_batch_command(
        day: Annotated[
            str, typer.Option("--date", help="Day the batch is for (YYYY-MM-DD); default today.")
        ] = "",
        k: Annotated[
            int | None, typer.Option(min=1, help="Recommendations per user (default recsys.top_k).")
        ] = None,
        graph: Annotated[
            bool, typer.Option(help="Also write RECOMMENDED edges with explanations to Neo4j.")
        ] = True,
    ) -> None:
        """Recommend with the champion for every known user; replaces the previous set in lake and graph."""
        from shopgraph.recsys.batch import recommend_batch

        settings = cli_settings()
        result = recommend_batch(
            settings, parse_date(day, "--date") if day else date.today(), k, to_graph=graph
        )
        out.print(
            f"model version {result.model_version}: {result.rows} recommendations for {result.users} users "
            f"-> {result.lake_path}; {result.graph_edges} RECOMMENDED edges in the graph; "
            f"{result.guardrail_blocked} products held back by the quality guardrail"
        )
