"""Flow `train`: fit the baselines and the graph recommender on the latest export, side by side in MLflow."""

from __future__ import annotations

from typing import Any

from prefect import flow
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from tasks.train import publish_training_report, train_recommenders


class TrainParams(BaseModel):
    """Which models to train; empty values take conf/base.yaml's `recsys:` defaults."""

    model: str = Field(
        default="all", description="all, or a comma-separated list: popularity,item_knn,bpr,ease,kg_text_gcn"
    )
    snapshot: str = Field(default="", description="Graph export folder; empty: the latest export")
    epochs: int | None = Field(default=None, ge=1, description="Epoch limit of the iterative models")
    device: str | None = Field(default=None, description="auto, cpu or cuda")


class TrainResult(BaseModel):
    experiment: str
    digest: str
    main: str
    version: str | None
    table: list[dict[str, Any]]
    runs: dict[str, dict[str, Any]]


@flow(name="train", log_prints=True)
def train(params: TrainParams = TrainParams()) -> TrainResult:
    """Build the dataset from the latest graph export and the text embeddings, fit and evaluate every model
    (full ranking, test metrics), log each as an MLflow run of one experiment, and register the main model
    as a `shopgraph-recommender` version with the alias `challenger`."""
    overrides = {
        key: value
        for key, value in {"epochs": params.epochs, "device": params.device}.items()
        if value is not None
    }
    result = train_recommenders(params.model, params.snapshot, str(flow_run.get_id() or ""), overrides)
    publish_training_report(result)
    for row in result["table"]:
        print(row)
    return TrainResult(**result)
