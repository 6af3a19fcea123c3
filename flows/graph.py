"""Graph flow: apply the schema, load changed curated days into Neo4j, report, export for training."""

from __future__ import annotations

from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from tasks.graph import apply_graph_schema, export_graph_snapshot, load_graph_days, publish_load_report


class GraphParams(BaseModel):
    """Which days to load and whether to export afterwards."""

    dt: str = Field(default="", description="One day YYYY-MM-DD to load; empty loads every changed day")
    force: bool = Field(default=False, description="Reload days even when their files are unchanged")
    full_similarity: bool = Field(default=False, description="Recompute SIMILAR_TO for every product")
    export: bool = Field(default=True, description="Write an export snapshot for training afterwards")


class GraphResult(BaseModel):
    days: list[str]
    skipped: list[str]
    nodes: int
    relationships: int
    seconds: float
    export_path: str | None
    export_digest: str | None


@flow(name="graph", log_prints=True)
def graph(params: GraphParams = GraphParams()) -> GraphResult:
    """Build the knowledge graph in Neo4j from the curated lake: constraints and indexes, products, brands,
    categories, attributes, users, interactions, external triples and similar-product edges, loaded
    incrementally by day; publishes a load report artifact and exports a training snapshot."""
    apply_graph_schema()
    report: dict[str, Any] = load_graph_days(
        [params.dt] if params.dt else [], params.force, params.full_similarity
    )
    publish_load_report(report)
    exported = export_graph_snapshot() if params.export else None
    print(
        f"graph: loaded {report['days'] or 'nothing new'}, {report['nodes']} nodes and "
        f"{report['relationships']} relationships in {report['seconds']:.1f}s"
    )
    return GraphResult(
        days=report["days"],
        skipped=report["skipped"],
        nodes=report["nodes"],
        relationships=report["relationships"],
        seconds=report["seconds"],
        export_path=exported["path"] if exported else None,
        export_digest=exported["digest"] if exported else None,
    )
