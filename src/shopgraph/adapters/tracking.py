"""MLflow tracking access: explicit clients per tracking URI, never global state set at import."""

from __future__ import annotations

import time
from collections.abc import Mapping

from mlflow import MlflowClient
from mlflow.entities import Metric, Param

MAX_PARAM_CHARS = 500  # a param holds a short value; longer ones (lists of types, paths) are cut here


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
    log_values(client, run_id, params=params, metrics=metrics)
    client.set_terminated(run_id)
    return str(run_id)


def log_values(
    client: MlflowClient,
    run_id: str,
    *,
    params: Mapping[str, object] | None = None,
    metrics: Mapping[str, float] | None = None,
    step: int = 0,
) -> None:
    """Log params (as strings of at most MAX_PARAM_CHARS) and metrics (at `step`) in one batched request
    instead of one per value; MLflow splits it into chunks within its per-request limits."""
    now = int(time.time() * 1000)
    client.log_batch(
        run_id,
        metrics=[Metric(key, float(value), now, step) for key, value in (metrics or {}).items()],
        params=[Param(key, str(value)[:MAX_PARAM_CHARS]) for key, value in (params or {}).items()],
        synchronous=True,
    )
