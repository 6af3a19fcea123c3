"""Smoke flow: touch the lake, Neo4j and MLflow for real under Prefect."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from shopgraph.settings import load_settings
from tasks.smoke import count_landing_rows, log_smoke_run, write_marker


class SmokeParams(BaseModel):
    """Which landing partition to read."""

    table: str = Field(default="products", description="Landing table to read")
    dt: str = Field(default="", description="Partition date YYYY-MM-DD; empty means the first one")


class SmokeResult(BaseModel):
    partition: str
    rows: int
    marker_run_id: str
    mlflow_run_id: str


@flow(name="smoke", log_prints=True)
def smoke(params: SmokeParams = SmokeParams()) -> SmokeResult:
    """Check the platform end to end: count one landing partition's rows with polars, write a marker node
    to Neo4j, and log an MLflow run."""
    settings = load_settings()
    partition = _partition(settings.lake_root, params.table, params.dt)
    rows = count_landing_rows(f"{partition}/*.parquet")
    run_id = str(flow_run.get_id() or "local")
    marker = write_marker(run_id, partition, rows)
    mlflow_run = log_smoke_run(settings.mlflow.resolved_tracking_uri, run_id, partition, rows)
    print(f"{partition}: {rows} rows; marker {marker} in Neo4j; MLflow run {mlflow_run}")
    return SmokeResult(partition=partition, rows=rows, marker_run_id=marker, mlflow_run_id=mlflow_run)


def _partition(lake_root: str, table: str, dt: str) -> str:
    from shopgraph.adapters.lake import landing_partitions

    partitions = landing_partitions(lake_root, table)
    if not partitions:
        raise FileNotFoundError(
            f"no landing partitions for {table!r} under {lake_root}: run `shopgraph generate`"
        )
    if not dt:
        return partitions[0]
    matching = [p for p in partitions if p.rstrip("/").endswith(f"dt={dt}")]
    if not matching:
        raise FileNotFoundError(f"no landing partition {table}/dt={dt} under {lake_root}")
    return matching[0]
