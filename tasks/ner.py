"""Tasks of the NER stage: train and register a model, publish its scores, extract entities."""

from __future__ import annotations

from prefect import task
from prefect.artifacts import create_link_artifact, create_markdown_artifact, create_table_artifact

from shopgraph.ner.stage import ExtractSummary, extract_from_lake, train_from_lake
from shopgraph.ner.train import TrainConfig, TrainResult
from shopgraph.settings import load_settings
from tasks.limits import GPU
from tasks.retry import IO_RETRIES, io_retries


@task(name="train-ner-model", tags=[GPU], **io_retries(1, 30.0))
def train_ner_model(config: TrainConfig, lake_root: str | None = None, flow_run_id: str = "") -> TrainResult:
    """Fine-tune on curated products, log the MLflow run, register a version, maybe move the champion."""
    settings = load_settings()
    tags = {"prefect_flow_run_id": flow_run_id} if flow_run_id else {}
    return train_from_lake(settings, config, lake_root, run_tags=tags)


@task(name="publish-ner-report", **IO_RETRIES)
def publish_ner_report(result: TrainResult) -> None:
    """Prefect artifacts: the per-type validation F1 table, the promotion decision and the MLflow run link."""
    rows = [
        {k: (round(v, 4) if isinstance(v, float) else v) for k, v in row.items()} for row in result.scores
    ]
    create_table_artifact(rows, key="ner-entity-scores", description="Validation entity scores per type")
    create_markdown_artifact(
        f"**model version {result.version}**: {result.reason} "
        f"({'champion moved' if result.promoted else 'champion kept'})",
        key="ner-promotion",
    )
    create_link_artifact(result.run_link, link_text=f"MLflow run {result.run_id}", key="ner-mlflow-run")


@task(name="extract-entities", tags=[GPU], **IO_RETRIES)
def extract_entities(
    lake_root: str | None = None, model: str | None = None, with_queries: bool = True
) -> ExtractSummary:
    """Tag curated products (and queries) with the champion NER model; merge with catalog attributes."""
    return extract_from_lake(load_settings(), lake_root, model, with_queries)
