"""The `nightly` flow: the scheduled run for one day (by default yesterday in the configured timezone)."""

from __future__ import annotations

from datetime import date as Date
from datetime import datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from prefect import flow
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from flows.daily import DailyParams, DailyResult, run_daily
from flows.quality import QualityParams, quality
from shopgraph.quality import has_reviews
from shopgraph.settings import load_settings
from tasks.graph import export_graph_snapshot
from tasks.recommend import (
    batch_recommend,
    evaluate_champion,
    promote_challenger,
    publish_nightly_summary,
    train_challenger,
)


class NightlyParams(BaseModel):
    """The day to process; empty: yesterday in prefect.timezone."""

    date: Date | None = Field(default=None, description="Partition day; empty: yesterday")
    force: bool = Field(default=False, description="Reprocess even when inputs did not change")
    retrain: bool = Field(default=True, description="Train a challenger and apply the promotion policy")
    recommend: bool = Field(default=True, description="Write top-K recommendations with the champion")


class NightlyResult(BaseModel):
    date: str
    data: DailyResult
    quality: dict[str, Any] | None = None
    challenger: dict[str, Any] | None = None
    champion: dict[str, Any] | None = None
    promotion: dict[str, Any] | None = None
    recommendations: dict[str, Any] | None = None


def yesterday(timezone: str) -> Date:
    return datetime.now(ZoneInfo(timezone)).date() - timedelta(days=1)


def _run_name() -> str:
    from prefect.runtime import flow_run

    params = flow_run.parameters.get("params") or {}
    day = params.get("date") if isinstance(params, dict) else getattr(params, "date", None)
    return f"nightly-{day or yesterday(load_settings().prefect.timezone)}"


@flow(name="nightly", log_prints=True, flow_run_name=_run_name)
def nightly(params: NightlyParams = NightlyParams()) -> NightlyResult:
    """The day's data through ingest, enrich, graph load and export (the `daily` flow) and review quality;
    then a challenger is trained, it and the champion are scored on the same split, the promotion policy
    moves the aliases, and the champion's top-K per user replaces the previous set in lake and graph."""
    day = params.date or yesterday(load_settings().prefect.timezone)
    # The stages' tasks join this flow run (see run_daily); review quality likewise. Quality writes the
    # graph, so it runs straight after the load, and the training export reads the night's finished graph.
    data = run_daily(DailyParams(date=day, force=params.force, export=False))
    result = NightlyResult(date=day.isoformat(), data=data)
    if not data.skipped and has_reviews(load_settings().lake_root):
        result.quality = quality.fn(QualityParams())
    elif not data.skipped:
        print("no curated reviews yet: review quality not computed")
    if data.graph is not None:
        exported = export_graph_snapshot()
        data.graph = data.graph.model_copy(
            update={"export_path": exported["path"], "export_digest": exported["digest"]}
        )
    if params.retrain:
        train = train_challenger.with_options(refresh_cache=params.force)
        result.challenger = train(str(flow_run.get_id() or ""))
        result.champion = evaluate_champion(result.challenger["snapshot"])
        if result.champion and result.champion["version"] == result.challenger["version"]:
            # Unchanged inputs: the cached challenger is the champion already; nothing to decide.
            print(f"challenger version {result.challenger['version']} is the champion already")
            result.promotion = {
                "promoted": False,
                "reasons": ["unchanged inputs: the challenger is the champion already"],
                "champion": result.champion["version"],
                "previous": None,
            }
        else:
            # Reaching this point means every partition passed validation: a failed table fails `daily`,
            # and with it this flow, before the graph and the champion are touched.
            result.promotion = promote_challenger(result.challenger, result.champion, validation_passed=True)
    has_champion = result.promotion is None or result.promotion["champion"] is not None
    if params.recommend and has_champion:
        result.recommendations = batch_recommend(day)
    elif params.recommend:
        print("no champion yet (the challenger was not promoted): recommendations not written")
    publish_nightly_summary(result.model_dump(mode="json"))
    return result
