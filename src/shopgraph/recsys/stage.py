"""The training stage on the shop's own lake: dataset from the latest graph export, models, MLflow runs."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence

from shopgraph.adapters.graph_export import latest_snapshot
from shopgraph.adapters.recsys_sources import (
    embeddings_fingerprint,
    lake_embeddings,
    snapshot_digest,
    snapshot_frames,
)
from shopgraph.domain.recsys.build import DatasetConfig, build_dataset
from shopgraph.domain.recsys.data import RecDataset
from shopgraph.recsys.names import resolve_names
from shopgraph.recsys.train import Progress, TrainReport, train_models
from shopgraph.settings import RecsysSettings, Settings

SHOP_DATASET = "shop"


def dataset_config(config: RecsysSettings) -> DatasetConfig:
    """The dataset rules from the recsys settings."""
    return DatasetConfig(
        weights=dict(config.event_weights),
        min_weight=config.min_weight,
        min_user_pairs=config.min_user_pairs,
        split=config.split,
        valid_share=config.valid_share,
        test_share=config.test_share,
        seed=config.seed,
    )


def experiment_name(settings: Settings, dataset: str) -> str:
    """One experiment per dataset: <prefix>-recsys-<dataset>."""
    return f"{settings.mlflow.experiment_prefix}-recsys-{dataset}"


def lake_dataset(settings: Settings, snapshot: str = "") -> tuple[RecDataset, str]:
    """The RecDataset of a graph export snapshot (the latest when empty) with the enriched embeddings,
    and the snapshot's digest."""
    lake = settings.lake_root
    frames, digest = snapshot_frames(snapshot or latest_snapshot(lake))
    data = build_dataset(
        frames, dataset_config(settings.recsys), name=SHOP_DATASET, embeddings=lake_embeddings(lake)
    )
    return data, digest


def training_key(settings: Settings, models: Sequence[str], snapshot: str = "") -> str:
    """A digest of everything a training run reads and where it registers: the export snapshot's digest
    (the latest when empty), the stored product vectors, the recsys settings, the model names and the
    tracking URI. Equal keys mean a finished run can be reused instead of trained again."""
    lake = settings.lake_root
    parts = {
        "snapshot": snapshot_digest(snapshot or latest_snapshot(lake)),
        "embeddings": embeddings_fingerprint(lake),
        "recsys": settings.recsys.model_dump(mode="json"),
        "models": list(models),
        "tracking_uri": settings.mlflow.resolved_tracking_uri,
    }
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def train_on_lake(
    settings: Settings,
    model: str = "all",
    snapshot: str = "",
    tags: Mapping[str, str] | None = None,
    progress: Progress | None = None,
) -> TrainReport:
    """Train the named models (or `all`) on the shop's latest snapshot and log them side by side."""
    names = resolve_names(model, settings.recsys)
    data, digest = lake_dataset(settings, snapshot)
    return train_models(
        data,
        names,
        settings.recsys,
        tracking_uri=settings.mlflow.resolved_tracking_uri,
        experiment=experiment_name(settings, SHOP_DATASET),
        tags={"snapshot_digest": digest, **dict(tags or {})},
        progress=progress,
    )
