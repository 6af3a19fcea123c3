"""What every CLI command shares: consoles, configured settings, date parsing, progress bars."""

from __future__ import annotations

from datetime import date
from typing import Any

import typer
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from shopgraph.settings import Settings, load_settings

console = Console(stderr=True)
out = Console()


def cli_settings(**overrides: Any) -> Settings:
    """Load settings (with keyword overrides per section) and point Prefect and MLflow at the servers."""
    from shopgraph.runtime import configure_clients

    settings = load_settings(**overrides)
    configure_clients(settings)
    return settings


def parse_date(text: str, option: str) -> date:
    """Parse YYYY-MM-DD or fail with a message naming the option."""
    try:
        return date.fromisoformat(text)
    except ValueError as exc:
        raise typer.BadParameter(f"{option} must be YYYY-MM-DD, got {text!r}") from exc


def date_options(day: str | None, start: str | None, end: str | None) -> list[date]:
    """The days named by --date, or by --start and --end; a bad combination is a usage error."""
    from shopgraph.domain.dates import partition_dates

    try:
        return partition_dates(
            parse_date(day, "--date") if day else None,
            parse_date(start, "--start") if start else None,
            parse_date(end, "--end") if end else None,
        )
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc


def progress_bar() -> Progress:
    """A progress display on stderr: description, bar, done/total, elapsed."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
    )
