"""The `daily` flow: one day's partitions through ingest, enrich and graph load, skipping finished work."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date as Date
from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from flows.enrich import EnrichParams, enrich
from flows.graph import GraphParams, GraphResult, graph
from flows.ingest import IngestParams, ingest
from shopgraph.adapters.graph_loader import days_to_load
from shopgraph.ingestion.pipeline import OK, PARTIAL
from shopgraph.settings import load_settings


def dated_run_name(prefix: str, *fields: str) -> Callable[[], str]:
    """A flow_run_name callable: the prefix and the named date fields of the flow's `params` argument."""

    def name() -> str:
        params: Any = flow_run.parameters.get("params") or {}
        values = [
            str(params.get(key, "") if isinstance(params, dict) else getattr(params, key, ""))
            for key in fields
        ]
        return "-".join([prefix, "..".join(value for value in values if value) or "default"])

    return name


class DailyParams(BaseModel):
    """One day through the data stages."""

    date: Date = Field(description="Partition day")
    tables: list[str] = Field(default_factory=list, description="Tables; empty means every landing table")
    force: bool = Field(default=False, description="Reprocess even when inputs did not change")
    export: bool = Field(default=True, description="Write the training export after the graph load")


class DailyResult(BaseModel):
    date: str
    ingested: list[str]  # "<table>" of partitions that changed (status ok or partial)
    skipped: bool  # nothing changed and the graph already holds the day: enrich and graph did not run
    enriched: bool
    graph: GraphResult | None


@flow(name="daily", log_prints=True, flow_run_name=dated_run_name("daily", "date"))
def daily(params: DailyParams) -> DailyResult:
    """Ingest the day's landing partitions, then enrich products and load the day into the graph. When every
    partition was unchanged and the graph's manifest for the day matches its curated files, enrich and
    graph are skipped: the day is done. A failed stage fails the flow and later stages do not run."""
    return run_daily(params)


def run_daily(params: DailyParams) -> DailyResult:
    """The body of `daily`, for flows that run the day's stages as their own tasks (`nightly`).

    The stages' flows run as plain functions (`.fn`): their tasks join the calling flow run instead of
    each stage opening a subflow run (API calls, and up to a second joining the run's heartbeat thread).
    """
    day = params.date.isoformat()
    results = ingest.fn(IngestParams(date=day, tables=params.tables, force=params.force))
    changed = [str(result["table"]) for result in results if result.get("status") in (OK, PARTIAL)]
    lake = load_settings().lake_root
    pending = params.force or bool(days_to_load(lake, [params.date]))
    if not changed and not pending:
        print(f"{day}: inputs unchanged and already in the graph, nothing to do")
        return DailyResult(date=day, ingested=[], skipped=True, enriched=False, graph=None)
    enrich.fn(EnrichParams())
    loaded = graph.fn(GraphParams(dt=day, force=params.force, export=params.export))
    return DailyResult(date=day, ingested=changed, skipped=False, enriched=True, graph=loaded)
