"""Tasks of the smoke flow: one real call to the lake, Neo4j and MLflow each."""

from __future__ import annotations

import polars as pl
from prefect import task

from shopgraph.adapters.graph_store import neo4j_driver, write_marker_node
from shopgraph.adapters.tracking import log_run
from shopgraph.settings import load_settings
from tasks.retry import IO_RETRIES


@task(name="count-landing-rows", **IO_RETRIES)
def count_landing_rows(partition_glob: str) -> int:
    """Rows in one landing partition, read lazily with polars."""
    return int(pl.scan_parquet(partition_glob).select(pl.len()).collect().item())


@task(name="write-marker-node", **IO_RETRIES)
def write_marker(run_id: str, partition: str, rows: int) -> str:
    """Write a (:SmokeMarker) node to Neo4j and read its key back."""
    settings = load_settings()
    with neo4j_driver(settings) as driver:
        return write_marker_node(
            driver, settings.neo4j.database, run_id=run_id, partition=partition, rows=rows
        )


@task(name="log-smoke-run", **IO_RETRIES)
def log_smoke_run(tracking_uri: str, flow_run_id: str, partition: str, rows: int) -> str:
    """Log the smoke run to MLflow; returns the MLflow run id."""
    return log_run(
        tracking_uri,
        "shopgraph-smoke",
        run_name=f"smoke-{partition}",
        params={"partition": partition},
        metrics={"landing_rows": float(rows)},
        tags={"prefect_flow_run_id": flow_run_id},
    )
