"""The `shopgraph` command line: services, data generation and the flows."""

from __future__ import annotations

import sys
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.progress import TaskID
from rich.table import Table

from shopgraph.commands import register_all
from shopgraph.commands.common import cli_settings, console, out, parse_date, progress_bar
from shopgraph.errors import ShopgraphError
from shopgraph.services.process import ServiceStatus

app = typer.Typer(
    name="shopgraph",
    help="Turn a shop's catalog and user activity into a knowledge graph for search and recommendations.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
services_app = typer.Typer(
    help="Manage the local stack: Neo4j, Prefect server and worker, MLflow.", no_args_is_help=True
)
app.add_typer(services_app, name="services")

ServiceNames = Annotated[
    list[str] | None,
    typer.Option("--only", help="Limit to these services: neo4j, mlflow, prefect (repeatable)."),
]


def _version_callback(value: bool) -> None:
    if value:
        out.print(f"shopgraph {package_version('shopgraph')}")
        raise typer.Exit()


@app.callback()
def root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version_callback, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """shopgraph: validated ingestion, enrichment, a Neo4j knowledge graph and recommendations, orchestrated
    by Prefect and tracked in MLflow."""


def _names(only: list[str] | None) -> tuple[str, ...]:
    from shopgraph.services.stack import SERVICE_NAMES

    names = tuple(only or SERVICE_NAMES)
    unknown = sorted(set(names) - set(SERVICE_NAMES))
    if unknown:
        raise typer.BadParameter(f"unknown service(s) {unknown}; choose from {list(SERVICE_NAMES)}")
    return names


def _status_table(statuses: list[ServiceStatus]) -> Table:
    table = Table(title="shopgraph services")
    for column in ("service", "state", "pid", "urls", "log"):
        table.add_column(column)
    for status in statuses:
        state = "[green]running[/]" if status.running else "[red]stopped[/]"
        if status.detail:
            state += f" ({status.detail})"
        urls = "\n".join(f"{key}: {url}" for key, url in status.urls.items())
        table.add_row(status.name, state, str(status.pid or ""), urls, str(status.log_path or ""))
    return table


@services_app.command("up")
def services_up(only: ServiceNames = None) -> None:
    """Start the services that are not running (installs Neo4j on first use). Running it twice is harmless."""
    from shopgraph.services.stack import services_up as start

    settings = cli_settings()
    statuses = start(settings, _names(only), report=lambda line: console.print(f"[dim]{line}[/]"))
    out.print(_status_table(statuses))


@services_app.command("down")
def services_down(only: ServiceNames = None) -> None:
    """Stop the services this project started (never a server it did not start)."""
    from shopgraph.services.stack import services_down as stop

    stopped = stop(cli_settings(), _names(only))
    out.print("stopped: " + (", ".join(stopped) if stopped else "nothing was running"))


@services_app.command("status")
def services_status() -> None:
    """Show what runs, on which port, the URLs and where the logs are."""
    from shopgraph.services.stack import services_status as describe

    settings = cli_settings()
    out.print(_status_table(describe(settings)))
    out.print(f"logs: {settings.logs_dir}")


@app.command()
def generate(
    lake: Annotated[
        str | None, typer.Option(help="Lake root (path or fsspec URL); default from settings.")
    ] = None,
    products: Annotated[int | None, typer.Option(min=1, help="Products in the initial catalog.")] = None,
    users: Annotated[int | None, typer.Option(min=1, help="Users.")] = None,
    days: Annotated[int | None, typer.Option(min=1, help="Days of activity (one partition per day).")] = None,
    start_date: Annotated[str | None, typer.Option(help="First day, YYYY-MM-DD.")] = None,
    seed: Annotated[
        int | None, typer.Option(help="Random seed; the same seed gives identical files.")
    ] = None,
    dirty: Annotated[bool, typer.Option(help="Inject realistic faults and record each one.")] = False,
) -> None:
    """Generate a deterministic synthetic shop into the landing zone, with its hidden truth beside it."""
    from shopgraph.generate import generate_shop

    settings = cli_settings()
    defaults = settings.generator
    first_day = parse_date(start_date or defaults.start_date, "--start-date")
    with progress_bar() as progress:
        task_ids: dict[str, TaskID] = {}

        def report(step: str, done: int, total: int) -> None:
            if step not in task_ids:
                task_ids[step] = progress.add_task(step, total=total)
            progress.update(task_ids[step], completed=done, total=total)

        summary = generate_shop(
            lake or settings.lake_root,
            products=products or defaults.products,
            users=users or defaults.users,
            days=days or defaults.days,
            start_date=first_day,
            seed=defaults.seed if seed is None else seed,
            dirty=dirty,
            progress=report,
        )
    out.print(summary)


@app.command()
def smoke(
    table: Annotated[str, typer.Option(help="Landing table to read.")] = "products",
    dt: Annotated[str, typer.Option(help="Partition date YYYY-MM-DD; empty means the first one.")] = "",
) -> None:
    """Run the smoke flow: read a landing partition, write a marker node to Neo4j, log an MLflow run."""
    from flows.smoke import SmokeParams
    from flows.smoke import smoke as smoke_flow

    cli_settings()
    result = smoke_flow(SmokeParams(table=table, dt=dt))
    out.print(result)


@app.command()
def demo() -> None:
    """Start the stack, generate the sample shop, run the flows, and print where to look."""
    from shopgraph.demo import run_demo

    run_demo(cli_settings(), out)


register_all(app)


def main() -> None:
    """Entry point: turn known failures into one red line and a non-zero exit."""
    sys.path.insert(0, str(Path(__file__).resolve().parents[2]))
    try:
        app()
    except (ShopgraphError, FileNotFoundError) as exc:
        # One unwrapped line: logs and grep see the whole message whatever the terminal width.
        console.print(f"[bold red]error:[/] {escape(str(exc))}", soft_wrap=True, highlight=False)
        sys.exit(1)


if __name__ == "__main__":
    main()
