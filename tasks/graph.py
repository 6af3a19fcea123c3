"""Tasks of the graph flow: schema, incremental load, load report artifact, export snapshot."""

from __future__ import annotations

from datetime import date
from typing import Any

from prefect import task
from prefect.artifacts import create_table_artifact

from shopgraph.adapters.graph_export import export_from_settings
from shopgraph.adapters.graph_loader import LoadOptions, curated_days, load_days
from shopgraph.adapters.graph_schema import apply_configured_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.settings import load_settings
from tasks.limits import NEO4J_WRITER
from tasks.retry import IO_RETRIES, io_retries


@task(name="apply-graph-schema", tags=[NEO4J_WRITER], **IO_RETRIES)
def apply_graph_schema() -> dict[str, int]:
    """Constraints, indexes and the vector index sized from the enriched embeddings (or settings)."""
    settings = load_settings()
    with neo4j_driver(settings) as driver:
        report = apply_configured_schema(driver, settings)
    return {"version": report.version, "dimension": report.dimension}


# Five tries over about two minutes (4, 8, 16, 32, 64 s, each up to +50%): enough for a Neo4j restart.
@task(name="load-graph-days", tags=[NEO4J_WRITER], **io_retries(5, 4.0))
def load_graph_days(days: list[str], force: bool = False, full_similarity: bool = False) -> dict[str, Any]:
    """Load the given days (all curated days when empty) that changed since their manifest."""
    settings = load_settings()
    lake = settings.lake_root
    wanted = [date.fromisoformat(day) for day in days] or curated_days(lake)
    options = LoadOptions.from_settings(settings, full_similarity)
    with neo4j_driver(settings) as driver:
        report = load_days(driver, settings.neo4j.database, lake, wanted, options, force=force)
    return {
        **report.to_json(),
        "table": report.table_rows(),
        "nodes": report.total("nodes"),
        "relationships": report.total("relationships"),
    }


@task(name="publish-load-report", **IO_RETRIES)
def publish_load_report(report: dict[str, Any]) -> str:
    """A Prefect table artifact: rows in vs nodes and relationships created or updated, per label and type."""
    seconds = float(report["seconds"]) or 1e-9
    rows = [
        *report["table"],
        {
            "name": "TOTAL",
            "rows_in": sum(row["rows_in"] for row in report["table"]),
            "written": report["nodes"] + report["relationships"],
            "created": sum(row["created"] for row in report["table"]),
            "updated": sum(row["updated"] for row in report["table"]),
            "deleted": sum(row["deleted"] for row in report["table"]),
            "properties_set": sum(row["properties_set"] for row in report["table"]),
            "seconds": report["seconds"],
            "rows_per_s": round((report["nodes"] + report["relationships"]) / seconds),
        },
    ]
    description = (
        f"Graph load of {', '.join(report['days']) or 'no days'} (skipped unchanged: "
        f"{', '.join(report['skipped']) or 'none'}): {report['nodes']} nodes and {report['relationships']} "
        f"relationships written in {report['seconds']:.1f}s"
    )
    artifact_id = create_table_artifact(key="graph-load-report", table=rows, description=description)
    return str(artifact_id)


@task(name="export-graph-snapshot", **IO_RETRIES)
def export_graph_snapshot() -> dict[str, Any]:
    """Stream the training tables out of Neo4j into exports/graph/<digest>/."""
    result = export_from_settings(load_settings())
    return {"path": result.path, "digest": result.digest, "rows": result.rows, "reused": result.reused}
