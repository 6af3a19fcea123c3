"""Tasks of the recommender stage: train and log the models, publish the comparison table."""

from __future__ import annotations

from typing import Any

from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact

from shopgraph.recsys.stage import train_on_lake
from shopgraph.settings import load_settings
from tasks.limits import GPU
from tasks.retry import io_retries


@task(name="train-recommenders", tags=[GPU], **io_retries(1, 30.0))
def train_recommenders(
    model: str, snapshot: str = "", flow_run_id: str = "", overrides: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Fit the named models (or all) on the latest graph export; every model is one MLflow run."""
    settings = load_settings(recsys=overrides or {})
    tags = {"prefect_flow_run_id": flow_run_id} if flow_run_id else {}
    report = train_on_lake(settings, model, snapshot, tags=tags, progress=print)
    main = report.outcomes.get(report.main)
    return {
        "experiment": report.experiment,
        "digest": report.digest,
        "main": report.main,
        "version": main.version if main else None,
        "table": report.table(),
        "runs": {
            name: {"run_id": o.run_id, "link": o.link, "metrics": o.metrics}
            for name, o in report.outcomes.items()
        },
    }


@task(name="publish-training-report", **io_retries())
def publish_training_report(result: dict[str, Any]) -> None:
    """Prefect artifacts: the models side by side, and which version the main model registered."""
    create_table_artifact(
        result["table"],
        key="recommender-comparison",
        description=f"Test metrics of every model on one split (experiment {result['experiment']})",
    )
    lines = [f"- **{name}**: [{run['run_id']}]({run['link']})" for name, run in result["runs"].items()]
    version = result["version"]
    head = (
        f"main model `{result['main']}` registered as version **{version}** (alias challenger)"
        if version
        else "main model not trained in this run"
    )
    create_markdown_artifact("\n".join([head, "", *lines]), key="recommender-runs")
