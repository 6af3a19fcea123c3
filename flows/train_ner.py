"""Flow `train-ner`: fine-tune the product NER model on weak labels and register it in MLflow."""

from __future__ import annotations

from prefect import flow
from prefect.runtime import flow_run
from pydantic import BaseModel, Field

from shopgraph.ner.train import TrainConfig, TrainResult
from shopgraph.settings import load_settings
from tasks.ner import publish_ner_report, train_ner_model


class TrainNerParams(BaseModel):
    """Training knobs; empty values take conf/base.yaml's `ner:` defaults."""

    epochs: int | None = Field(
        default=None, ge=0, description="Training epochs (early stopping may end sooner)"
    )
    batch_size: int | None = Field(default=None, gt=0, description="Texts per training batch")
    learning_rate: float | None = Field(default=None, ge=0, description="AdamW learning rate")
    max_products: int | None = Field(default=None, ge=0, description="Use the first N products (0: all)")
    max_length: int | None = Field(default=None, gt=8, description="Sub-tokens per text")
    patience: int | None = Field(default=None, ge=1, description="Epochs without a better F1 before stopping")
    seed: int | None = Field(default=None, description="Random seed")
    device: str | None = Field(default=None, description="auto, cpu or cuda")
    lake_root: str | None = Field(default=None, description="Lake root; empty: from settings")


@flow(name="train-ner", log_prints=True)
def train_ner(params: TrainNerParams = TrainNerParams()) -> TrainResult:
    """Train the product NER model on weakly labelled curated products, track the run in MLflow, register a
    `shopgraph-ner` version, and move the `champion` alias only when it beats the champion's validation F1."""
    settings = load_settings()
    overrides = params.model_dump(exclude={"lake_root"})
    config = TrainConfig.from_settings(settings, **overrides)
    result = train_ner_model(config, params.lake_root, str(flow_run.get_id() or ""))
    publish_ner_report(result)
    print(f"NER version {result.version}: validation F1 {result.val_f1:.4f}; {result.reason}")
    print(f"MLflow run: {result.run_link}")
    return result
