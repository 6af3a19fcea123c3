"""`shopgraph ingest`: validate landing partitions into the curated lake and print what happened."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import cli_settings, console, date_options, out


def register(app: typer.Typer) -> None:
    """Add the `ingest` command."""

    @app.command("ingest")
    def ingest(
        day: Annotated[str | None, typer.Option("--date", help="One partition day YYYY-MM-DD.")] = None,
        start: Annotated[str | None, typer.Option("--start", help="First day of a range.")] = None,
        end: Annotated[str | None, typer.Option("--end", help="Last day of a range (inclusive).")] = None,
        tables: Annotated[
            str | None,
            typer.Option("--tables", help="Comma-separated tables (default: every landing table)."),
        ] = None,
        force: Annotated[bool, typer.Option("--force", help="Reprocess unchanged partitions.")] = False,
        now: Annotated[
            str | None, typer.Option("--now", help="Reference time for future timestamps (ISO, UTC).")
        ] = None,
    ) -> None:
        """Validate landing partitions into curated/ (bad rows to quarantine/, manifests to manifests/)."""
        from shopgraph.ingestion.pipeline import (
            IngestOptions,
            ingest_range,
            landing_tables,
            raise_for_failures,
            summary_rows,
        )

        days = date_options(day, start, end)
        reference = datetime.fromisoformat(now) if now else datetime.now(UTC)
        if reference.tzinfo is None:
            reference = reference.replace(tzinfo=UTC)
        settings = cli_settings()
        root = settings.lake_root
        chosen = (
            [name.strip() for name in tables.split(",") if name.strip()] if tables else landing_tables(root)
        )
        if not chosen:
            raise typer.BadParameter(f"no landing tables under {root}: run `shopgraph generate` first")
        options = IngestOptions.from_settings(settings)
        results = ingest_range(root, chosen, days, now=reference, options=options, force=force)
        table = Table("table", "dt", "status", "rows in", "curated", "quarantined", "reasons", "GX")
        for row in summary_rows(results):
            table.add_row(
                *(str(row[key]) for key in ("table", "dt", "status", "rows_in", "curated", "quarantined")),
                row["reasons"],
                row["gx"],
            )
        out.print(table)
        if options.docs_dir:
            console.print(f"Data Docs: {options.docs_dir}")
        raise_for_failures(results)
