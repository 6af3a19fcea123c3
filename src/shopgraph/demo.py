"""`make demo`: start the stack, generate a shop, run the flows that exist, and say where to look."""

from __future__ import annotations

import time
from datetime import date

from rich.console import Console
from rich.panel import Panel

from shopgraph.settings import Settings


def run_demo(settings: Settings, console: Console) -> None:
    """Bring the services up, generate the sample shop, run each flow, and print URLs and a summary."""
    from flows.smoke import SmokeParams, smoke
    from shopgraph.generate import generate_shop
    from shopgraph.services.stack import services_up

    started = time.monotonic()
    console.rule("1/3 services")
    statuses = services_up(settings, report=lambda line: console.print(f"[dim]{line}[/]"))
    console.rule("2/3 sample shop")
    gen = settings.generator
    summary = generate_shop(
        settings.lake_root,
        products=gen.products,
        users=gen.users,
        days=gen.days,
        start_date=date.fromisoformat(gen.start_date),
        seed=gen.seed,
        dirty=False,
    )
    console.print(summary)
    console.rule("3/3 flows")
    smoke_result = smoke(SmokeParams())
    urls = {s.name: s.urls for s in statuses}
    lines = [
        f"Prefect UI     {settings.prefect.ui_url}  (flow runs, artifacts)",
        f"MLflow UI      {settings.mlflow.resolved_tracking_uri}  (experiment shopgraph-smoke)",
        f"Neo4j Browser  {urls.get('neo4j', {}).get('browser', 'n/a')}  "
        f"(user {settings.neo4j.user}, password in {settings.home / 'neo4j' / 'password'})",
        f"Lake           {settings.lake_root}",
        f"Logs           {settings.logs_dir}",
        "",
        f"smoke: {smoke_result.rows} rows in {smoke_result.partition}",
        f"done in {time.monotonic() - started:.0f}s; stop the stack with `make services-down`",
    ]
    console.print(Panel("\n".join(lines), title="shopgraph demo", expand=False))
