"""Ingest flow: landing partitions validated into the curated lake, dimensions before facts."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field

from shopgraph.domain.dates import partition_dates
from shopgraph.ingestion.pipeline import (
    IngestError,
    failed_result,
    landing_tables,
    order_tables,
    raise_for_failures,
    stops_run,
)
from shopgraph.settings import load_settings
from tasks.ingest import ingest_partition_task, publish_report


class IngestParams(BaseModel):
    """Which partitions to ingest: one date, or a start and end date (inclusive)."""

    date: str = Field(default="", description="One partition day YYYY-MM-DD")
    start: str = Field(default="", description="First day of a range YYYY-MM-DD")
    end: str = Field(default="", description="Last day of a range YYYY-MM-DD")
    tables: list[str] = Field(default_factory=list, description="Tables; empty means every landing table")
    force: bool = Field(default=False, description="Reprocess partitions whose inputs did not change")
    now: str = Field(default="", description="Reference time for future timestamps (ISO); empty: now")


def _days(params: IngestParams) -> list[date]:
    def parse(text: str) -> date | None:
        return date.fromisoformat(text) if text else None

    return partition_dates(parse(params.date), parse(params.start), parse(params.end))


@flow(name="ingest", log_prints=True)
def ingest(params: IngestParams = IngestParams()) -> list[dict[str, Any]]:
    """Validate landing partitions into the curated lake: cast and normalise, quarantine bad rows with
    reasons, check with Great Expectations, write manifests. Products and users go first because the
    facts' reference checks read them. Fails, naming table, partition and expectation, when a partition
    fails a table-level rule."""
    settings = load_settings()
    root = settings.lake_root
    days = _days(params)
    now = params.now or datetime.now(UTC).isoformat()
    tables = order_tables(params.tables) if params.tables else landing_tables(root)
    results: list[dict[str, Any]] = []
    stopped = False
    for table in tables:
        for day in days:
            try:
                results.append(ingest_partition_task(root, table, day.isoformat(), now, params.force))
            except IngestError as exc:
                results.append(failed_result(table, day, exc))
                stopped = stops_run(table)
            if stopped:
                break
        if stopped:
            break
    publish_report(results)
    for result in results:
        rows = result.get("rows", {})
        print(f"{result['table']} dt={result['dt']}: {result['status']} {rows}")
    raise_for_failures(results)
    return results
