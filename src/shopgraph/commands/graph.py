"""`shopgraph graph schema|load|export`: the knowledge graph in Neo4j from the command line."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import cli_settings, console, date_options, out


def register(app: typer.Typer) -> None:
    """Add the `graph` command group."""
    graph_app = typer.Typer(
        help="The knowledge graph in Neo4j: schema, incremental load, export.", no_args_is_help=True
    )
    app.add_typer(graph_app, name="graph")

    @graph_app.command("schema")
    def schema() -> None:
        """Create constraints, indexes, the vector and fulltext indexes; record the schema version."""
        from shopgraph.adapters.graph_schema import apply_configured_schema
        from shopgraph.adapters.graph_store import neo4j_driver

        settings = cli_settings()
        with neo4j_driver(settings) as driver:
            report = apply_configured_schema(driver, settings)
        out.print(
            f"schema version {report.version}: {report.constraints} constraints, {report.indexes} indexes "
            f"(vector index: {report.dimension} dimensions, cosine, HNSW m {report.hnsw.m}, "
            f"ef_construction {report.hnsw.ef_construction})"
        )

    @graph_app.command("load")
    def load(
        day: Annotated[str | None, typer.Option("--date", help="Load one day YYYY-MM-DD.")] = None,
        start: Annotated[str | None, typer.Option("--start", help="First day of a range.")] = None,
        end: Annotated[str | None, typer.Option("--end", help="Last day of a range.")] = None,
        force: Annotated[
            bool, typer.Option("--force", help="Reload days whose files did not change.")
        ] = False,
        full_similarity: Annotated[
            bool, typer.Option("--full-similarity", help="Recompute SIMILAR_TO for every product.")
        ] = False,
        bulk: Annotated[
            bool,
            typer.Option(
                "--bulk",
                help="Rebuild the whole managed graph from the days with neo4j-admin import (stops and "
                "restarts Neo4j; for very large first loads).",
            ),
        ] = False,
    ) -> None:
        """Load curated days into Neo4j (every changed day when no date is given)."""
        from shopgraph.adapters.graph_loader import LoadOptions, LoadReport, curated_days, load_days
        from shopgraph.adapters.graph_store import neo4j_driver

        settings = cli_settings()
        if day is None and start is None and end is None:
            days = curated_days(settings.lake_root)
        else:
            days = date_options(day, start, end)
        options = LoadOptions.from_settings(settings, full_similarity)
        report: LoadReport
        if bulk:
            from shopgraph.adapters.graph_bulk import bulk_load

            report = bulk_load(settings, settings.lake_root, days, options)
        else:
            with neo4j_driver(settings) as driver:
                report = load_days(
                    driver, settings.neo4j.database, settings.lake_root, days, options, force=force
                )
        table = Table("label / type", "rows in", "written", "created", "updated", "deleted", "rows/s")
        for row in report.table_rows():
            table.add_row(
                row["name"],
                *(
                    str(row[key])
                    for key in ("rows_in", "written", "created", "updated", "deleted", "rows_per_s")
                ),
            )
        out.print(table)
        if report.skipped:
            console.print(f"unchanged, skipped: {', '.join(report.skipped)}")
        out.print(
            f"loaded {len(report.days)} day(s): {report.total('nodes')} nodes, "
            f"{report.total('relationships')} relationships in {report.seconds:.1f}s",
            soft_wrap=True,
        )

    @graph_app.command("export")
    def export() -> None:
        """Stream interactions, item edges and external triples into exports/graph/<digest>/."""
        from shopgraph.adapters.graph_export import export_from_settings

        result = export_from_settings(cli_settings())
        rows = ", ".join(f"{name} {count}" for name, count in result.rows.items())
        out.print(
            f"{result.path} (digest {result.digest[:16]}{', unchanged' if result.reused else ''}): {rows}",
            soft_wrap=True,
        )
