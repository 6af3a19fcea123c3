"""The `shopgraph import` command: convert a real-world data format into landing-zone Parquet."""

from __future__ import annotations

import time
from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import console, out, parse_date
from shopgraph.importers.report import EXAMPLES_SHOWN, ImportReport


def written_table(report: ImportReport, seconds: float) -> Table:
    """Rows and files written per table, and the source rows that gave no row in it."""
    written = Table(title=f"import {report.format} as {report.namespace!r} ({seconds:.1f} s)")
    for column in ("table", "rows written", "files", "source rows dropped"):
        written.add_column(column, justify="right" if column != "table" else "left")
    for table, rows in sorted(report.rows.items()):
        written.add_row(table, f"{rows:,}", str(report.files.get(table, 0)), f"{report.dropped(table):,}")
    return written


def unmapped_lines(report: ImportReport) -> list[str]:
    """One line per (table, rule) with its count, then a few examples naming file and row."""
    lines = []
    for table, rule, dropped, items in report.grouped():
        effect = "rows dropped" if dropped else "values left null"
        lines.append(f"{table}: {rule}: {len(items):,} {effect}")
        lines.extend(
            f"    {p.file.rsplit('/', 1)[-1]}, row {p.row}: {p.detail}" for p in items[:EXAMPLES_SHOWN]
        )
    return lines


def register(app: typer.Typer) -> None:
    """Add `import` to the CLI."""

    @app.command("import")
    def import_source(
        format_name: Annotated[
            str,
            typer.Argument(
                metavar="FORMAT", help="relevance-csv, recbole, kgat, amazon-reviews or catalog-csv."
            ),
        ],
        path: Annotated[
            str, typer.Argument(metavar="PATH", help="Source file or folder (local path or fsspec URL).")
        ],
        lake: Annotated[
            str | None, typer.Option(help="Lake root (path or fsspec URL); default from settings.")
        ] = None,
        mapping: Annotated[
            str | None, typer.Option(help="Mapping YAML (required for relevance-csv and catalog-csv).")
        ] = None,
        date: Annotated[
            str | None,
            typer.Option(
                "--date",
                help="Snapshot day YYYY-MM-DD for products and users; default: the day before the first "
                "timestamped fact, else 2026-01-01.",
            ),
        ] = None,
        namespace: Annotated[
            str | None,
            typer.Option(help="Prefix of every imported id; default from the mapping or file name."),
        ] = None,
        metadata: Annotated[
            str | None, typer.Option(help="amazon-reviews only: product metadata JSON lines (.gz allowed).")
        ] = None,
    ) -> None:
        """Convert a real-world data format into landing tables, reporting what could not be mapped."""
        from shopgraph.importers.runner import FORMATS, run_import
        from shopgraph.settings import load_settings

        if format_name not in FORMATS:
            raise typer.BadParameter(f"unknown format {format_name!r}; choose from {', '.join(FORMATS)}")
        day = parse_date(date, "--date") if date else None
        root = lake or load_settings().lake_root
        started = time.perf_counter()
        result, written = run_import(format_name, path, root, mapping, day, namespace, metadata)
        seconds = time.perf_counter() - started
        out.print(written_table(result.report, seconds))
        lines = unmapped_lines(result.report)
        if lines:
            out.print("[bold]could not map[/] (every row is listed in the full report):")
            for line in lines:
                out.print(line, markup=False, highlight=False)
        for note in result.report.notes:
            console.print(f"[dim]note: {note}[/]")
        if written.removed:
            console.print(f"[dim]removed {len(written.removed)} stale file(s) of an earlier import[/]")
        out.print(f"snapshot day {result.snapshot_day}; full report: {written.report_path}")
