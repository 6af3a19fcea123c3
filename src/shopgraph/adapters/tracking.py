"""MLflow tracking access: explicit clients per tracking URI, never global state set at import."""

from __future__ import annotations

from collections.abc import Mapping

from mlflow import MlflowClient


def experiment_id(client: MlflowClient, name: str) -> str:
    """The id of the named experiment, creating it when missing."""
    experiment = client.get_experiment_by_name(name)
    if experiment is not None:
        return str(experiment.experiment_id)
    return str(client.create_experiment(name))


def log_run(
    tracking_uri: str,
    experiment: str,
    *,
    run_name: str,
    params: Mapping[str, str | int | float],
    metrics: Mapping[str, float],
    tags: Mapping[str, str] | None = None,
) -> str:
    """Log one finished run with params, metrics and tags; returns its run id."""
    client = MlflowClient(tracking_uri=tracking_uri)
    run = client.create_run(experiment_id(client, experiment), run_name=run_name, tags=dict(tags or {}))
    run_id = run.info.run_id
    for key, value in params.items():
        client.log_param(run_id, key, value)
    for key, value in metrics.items():
        client.log_metric(run_id, key, value)
    client.set_terminated(run_id)
    return str(run_id)
