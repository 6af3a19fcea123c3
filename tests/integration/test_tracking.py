"""The MLflow tracking adapter against a real SQLite-backed MLflow store."""

import pytest
from mlflow import MlflowClient

from shopgraph.adapters.tracking import experiment_id, log_run

pytestmark = pytest.mark.integration


def test_log_run_round_trip(mlflow_uri: str) -> None:
    run_id = log_run(
        mlflow_uri,
        "shopgraph-test",
        run_name="round-trip",
        params={"partition": "dt=2026-01-01"},
        metrics={"landing_rows": 12.0},
        tags={"prefect_flow_run_id": "abc"},
    )
    run = MlflowClient(tracking_uri=mlflow_uri).get_run(run_id)
    assert run.data.params == {"partition": "dt=2026-01-01"}
    assert run.data.metrics == {"landing_rows": 12.0}
    assert run.data.tags["prefect_flow_run_id"] == "abc"
    assert run.info.status == "FINISHED"


def test_experiment_is_reused(mlflow_uri: str) -> None:
    client = MlflowClient(tracking_uri=mlflow_uri)
    assert experiment_id(client, "shopgraph-x") == experiment_id(client, "shopgraph-x")
