"""The `backfill` flow: a range of days through the data stages in date order, then one optional retrain."""

from __future__ import annotations

import importlib
import importlib.util
from datetime import date as Date
from datetime import timedelta
from typing import Any

from prefect import flow
from pydantic import BaseModel, Field, model_validator

from flows.daily import DailyParams, DailyResult, daily, dated_run_name
from flows.quality import QualityParams, quality
from shopgraph.errors import ShopgraphError
from shopgraph.quality import has_reviews
from shopgraph.settings import load_settings
from tasks.graph import export_graph_snapshot

TRAIN_MODULE = "flows.train"


class BackfillError(ShopgraphError):
    """A backfill that cannot start (bad range, retraining without a training flow)."""


class BackfillParams(BaseModel):
    """The days to (re)process; every field renders as a form field in the Prefect UI."""

    start: Date = Field(description="First day (inclusive)")
    end: Date = Field(description="Last day (inclusive)")
    tables: list[str] = Field(default_factory=list, description="Tables; empty means every landing table")
    retrain: bool = Field(default=False, description="Train the recommender once after the last day")
    force: bool = Field(default=False, description="Reprocess days whose inputs did not change")

    @model_validator(mode="after")
    def _ordered(self) -> BackfillParams:
        if self.end < self.start:
            raise ValueError(f"end {self.end} is before start {self.start}")
        return self

    def days(self) -> list[Date]:
        return [self.start + timedelta(days=n) for n in range((self.end - self.start).days + 1)]


class BackfillResult(BaseModel):
    days: list[DailyResult]
    processed: list[str]
    skipped: list[str]
    export_path: str | None
    quality: dict[str, Any] | None = None
    trained: Any = None


def _train_flow() -> Any:
    # The recommender training flow is optional: the data stages run without it.
    if importlib.util.find_spec(TRAIN_MODULE) is None:
        raise BackfillError(
            f"retrain was asked for but {TRAIN_MODULE.replace('.', '/')}.py does not exist; "
            "run the backfill without --retrain"
        )
    return importlib.import_module(TRAIN_MODULE).train


@flow(name="backfill", log_prints=True, flow_run_name=dated_run_name("backfill", "start", "end"))
def backfill(params: BackfillParams) -> BackfillResult:
    """Run the `daily` flow (ingest, enrich, graph load) for each day from start to end, one day at a
    time in date order: a day's reference checks and graph load read the dimension state the previous
    day left, as the nightly run would. Finished days with unchanged inputs are skipped, so a re-run or a
    resume after a failure only redoes what is missing; the first failed day fails the backfill. Mines
    review quality and exports the graph once at the end, and retrains once if asked."""
    train = _train_flow() if params.retrain else None  # fail before any work, not after it
    results = []
    for day in params.days():
        result = daily(DailyParams(date=day, tables=params.tables, force=params.force, export=False))
        print(f"{result.date}: " + ("skipped (done)" if result.skipped else f"changed {result.ingested}"))
        results.append(result)
    processed = [r.date for r in results if not r.skipped]
    # Review quality covers every curated review, so once after the last day equals the nightly's.
    mined = quality(QualityParams()) if processed and has_reviews(load_settings().lake_root) else None
    exported = export_graph_snapshot()
    trained = train() if train is not None else None
    return BackfillResult(
        days=results,
        processed=processed,
        skipped=[r.date for r in results if r.skipped],
        export_path=exported["path"],
        quality=mined,
        trained=trained,
    )
