"""`shopgraph train`: fit recommenders on the latest graph export and compare them in MLflow."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.table import Table

from shopgraph.commands.common import cli_settings, console, out


def register(app: typer.Typer) -> None:
    """Add the train command to the CLI."""

    @app.command("train")
    def train(
        model: Annotated[
            str,
            typer.Option(help="all, or a comma-separated list of popularity,item_knn,bpr,ease,kg_text_gcn."),
        ] = "all",
        snapshot: Annotated[str, typer.Option(help="Graph export folder; default: the latest export.")] = "",
        epochs: Annotated[
            int | None, typer.Option(min=1, help="Epoch limit of the iterative models.")
        ] = None,
        device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
        flow: Annotated[
            bool, typer.Option(help="Run as the Prefect flow `train` (needs a Prefect API).")
        ] = False,
    ) -> None:
        """Train recommenders; each model is one MLflow run, the main model is registered as a challenger."""
        overrides = {
            key: value for key, value in {"epochs": epochs, "device": device}.items() if value is not None
        }
        if flow:
            from flows.train import TrainParams
            from flows.train import train as train_flow

            result = train_flow(TrainParams(model=model, snapshot=snapshot, epochs=epochs, device=device))
            rows, experiment, version = result.table, result.experiment, result.version
        else:
            from shopgraph.adapters.graph_export import latest_snapshot
            from shopgraph.recsys.names import resolve_names

            settings = cli_settings(recsys=overrides)
            resolve_names(model, settings.recsys)  # bad names and a missing export fail before torch loads
            if not snapshot:
                latest_snapshot(settings.lake_root)
            from shopgraph.recsys.stage import train_on_lake

            report = train_on_lake(
                settings, model, snapshot, progress=lambda line: console.print(f"[dim]{line}[/]")
            )
            rows, experiment = report.table(), report.experiment
            main = report.outcomes.get(report.main)
            version = main.version if main else None
        table = Table(title=f"experiment {experiment}: test metrics")
        for column in rows[0]:
            table.add_column(column)
        for row in rows:
            table.add_row(*(str(value) for value in row.values()))
        out.print(table)
        if version:
            out.print(f"registered main model version {version} (alias challenger)")
