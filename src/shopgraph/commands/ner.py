"""`shopgraph train-ner` and `shopgraph extract-entities`: the product NER stage from the command line."""

from __future__ import annotations

from typing import Annotated, Any

import typer
from rich.progress import TaskID
from rich.table import Table

from shopgraph.commands.common import cli_settings, out, progress_bar


def _reporter(progress: object) -> object:
    task_ids: dict[str, TaskID] = {}

    def report(step: str, done: int, total: int) -> None:
        if step not in task_ids:
            task_ids[step] = progress.add_task(step, total=total)  # type: ignore[attr-defined]
        progress.update(task_ids[step], completed=done, total=total)  # type: ignore[attr-defined]

    return report


def register(app: typer.Typer) -> None:
    """Add the NER commands to the CLI."""

    @app.command("train-ner")
    def train_ner(
        epochs: Annotated[
            int | None, typer.Option(min=0, help="Training epochs (default from settings).")
        ] = None,
        batch_size: Annotated[int | None, typer.Option(min=1, help="Texts per training batch.")] = None,
        learning_rate: Annotated[float | None, typer.Option(min=0, help="AdamW learning rate.")] = None,
        max_products: Annotated[
            int | None, typer.Option(min=0, help="Use the first N products (0: all).")
        ] = None,
        max_length: Annotated[int | None, typer.Option(min=9, help="Sub-tokens per text.")] = None,
        device: Annotated[str | None, typer.Option(help="auto, cpu or cuda.")] = None,
        lake: Annotated[str | None, typer.Option(help="Lake root; default from settings.")] = None,
        flow: Annotated[
            bool, typer.Option(help="Run as the Prefect flow `train-ner` (needs a Prefect API).")
        ] = False,
    ) -> None:
        """Train the product NER model on weak labels, log it to MLflow, register it, maybe promote it."""
        from shopgraph.ner.stage import train_from_lake
        from shopgraph.ner.train import TrainConfig

        settings = cli_settings()
        overrides: dict[str, Any] = {
            "epochs": epochs,
            "batch_size": batch_size,
            "learning_rate": learning_rate,
            "max_products": max_products,
            "max_length": max_length,
            "device": device,
        }
        if flow:
            from flows.train_ner import TrainNerParams
            from flows.train_ner import train_ner as train_flow

            result = train_flow(TrainNerParams(**overrides, lake_root=lake))
        else:
            config = TrainConfig.from_settings(settings, **overrides)
            with progress_bar() as progress:
                result = train_from_lake(settings, config, lake, report=_reporter(progress))  # type: ignore[arg-type]
        table = Table(title=f"shopgraph-ner version {result.version} (validation, weak labels)")
        for column in ("type", "precision", "recall", "f1", "support"):
            table.add_column(column)
        for row in result.scores:
            table.add_row(
                row["type"],
                f"{row['precision']:.3f}",
                f"{row['recall']:.3f}",
                f"{row['f1']:.3f}",
                str(row["support"]),
            )
        out.print(table)
        out.print(f"{result.reason}; champion {'moved' if result.promoted else 'kept'}")
        out.print(f"MLflow run: {result.run_link}")

    @app.command("extract-entities")
    def extract_entities(
        model: Annotated[
            str | None, typer.Option(help="models:/name@alias, models:/name/N, runs:/... or a local folder.")
        ] = None,
        lake: Annotated[str | None, typer.Option(help="Lake root; default from settings.")] = None,
        queries: Annotated[bool, typer.Option(help="Also tag the landing search queries.")] = True,
    ) -> None:
        """Tag curated products (and queries) and merge found attributes with the catalog's."""
        from shopgraph.ner.stage import extract_from_lake

        settings = cli_settings()
        with progress_bar() as progress:
            summary = extract_from_lake(settings, lake, model, queries, _reporter(progress))  # type: ignore[arg-type]
        out.print(
            f"model {summary.model_version}: {summary.entities} entities in {summary.products} products "
            f"({summary.tagged} tagged now, the rest unchanged), "
            f"{summary.attributes} attributes ({summary.ner_attributes} from NER), "
            f"{summary.query_entities} entities in {summary.queries} queries "
            f"({summary.queries_tagged} tagged now)"
        )
        for table, files in summary.files.items():
            out.print(f"{table}: {', '.join(files)}")
