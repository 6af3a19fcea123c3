"""The smoke flow end to end: a generated lake, the real Neo4j, a real MLflow store, a real Prefect API."""

from datetime import date
from pathlib import Path

import pytest
from mlflow import MlflowClient

from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.settings import Settings

pytestmark = [pytest.mark.e2e, pytest.mark.integration]


def test_smoke_flow_touches_every_service(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    neo4j_env: Settings,
    mlflow_uri: str,
    prefect_harness: None,
) -> None:
    from flows.smoke import SmokeParams, smoke
    from shopgraph.generate import generate_shop

    lake = tmp_path / "lake"
    generate_shop(str(lake), products=60, users=20, days=2, start_date=date(2026, 3, 1), seed=7, dirty=False)
    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(lake))

    result = smoke(SmokeParams(table="products", dt="2026-03-01"))

    assert result.rows >= 60
    assert result.partition.endswith("dt=2026-03-01")
    with neo4j_driver(neo4j_env) as driver:
        records, _, _ = driver.execute_query(
            "MATCH (m:SmokeMarker {run_id: $run_id}) RETURN m.rows AS rows", {"run_id": result.marker_run_id}
        )
    assert [r["rows"] for r in records] == [result.rows]
    run = MlflowClient(tracking_uri=mlflow_uri).get_run(result.mlflow_run_id)
    assert run.data.metrics["landing_rows"] == result.rows
    assert run.data.tags["prefect_flow_run_id"] == result.marker_run_id


def test_smoke_flow_names_missing_partition(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, prefect_harness: None
) -> None:
    from flows.smoke import SmokeParams, smoke

    monkeypatch.setenv("SHOPGRAPH_LAKE__ROOT", str(tmp_path / "empty-lake"))
    with pytest.raises(FileNotFoundError, match="shopgraph generate"):
        smoke(SmokeParams())
