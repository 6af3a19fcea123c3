"""`shopgraph backfill --start D --end D`: reprocess a range of days, then optionally retrain."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import cli_settings, out, parse_date


def register(app: typer.Typer) -> None:
    """Add the `backfill` command."""

    @app.command("backfill")
    def backfill(
        start: Annotated[str, typer.Option("--start", help="First day YYYY-MM-DD.")],
        end: Annotated[str, typer.Option("--end", help="Last day YYYY-MM-DD (inclusive).")],
        tables: Annotated[
            str | None,
            typer.Option("--tables", help="Comma-separated tables (default: every landing table)."),
        ] = None,
        retrain: Annotated[
            bool, typer.Option("--retrain", help="Train the recommender once after the last day.")
        ] = False,
        force: Annotated[
            bool, typer.Option("--force", help="Reprocess days whose inputs are unchanged.")
        ] = False,
    ) -> None:
        """Run ingest, enrich and graph load for each day in order (finished days are skipped), export the
        graph, and retrain once with --retrain."""
        from flows.backfill import BackfillParams
        from flows.backfill import backfill as backfill_flow
        from flows.runners import configured_task_runner

        first, last = parse_date(start, "--start"), parse_date(end, "--end")
        if last < first:
            raise typer.BadParameter(f"--end {last} is before --start {first}")
        settings = cli_settings()
        chosen = [name.strip() for name in tables.split(",") if name.strip()] if tables else []
        params = BackfillParams(start=first, end=last, tables=chosen, retrain=retrain, force=force)
        result = backfill_flow.with_options(task_runner=configured_task_runner(settings))(params)
        table = Table("day", "result", "changed tables", "graph nodes", "graph relationships")
        for day in result.days:
            loaded = day.graph
            table.add_row(
                day.date,
                "skipped (done)" if day.skipped else "processed",
                ", ".join(day.ingested),
                str(loaded.nodes) if loaded else "",
                str(loaded.relationships) if loaded else "",
            )
        out.print(table)
        out.print(
            f"processed {len(result.processed)} day(s), skipped {len(result.skipped)}; "
            f"export: {result.export_path}"
        )
