"""Evaluation report of one recommender run: metrics JSON, plots and sample recommendations."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")  # headless: runs in flows and CI without a display

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import polars as pl  # noqa: E402
import torch  # noqa: E402

from shopgraph.domain.recsys.api import Recommender  # noqa: E402
from shopgraph.domain.recsys.data import RecDataset  # noqa: E402
from shopgraph.domain.recsys.evaluate import top_k  # noqa: E402

SAMPLE_USERS = 10
SAMPLE_K = 10


def _recommended(model: Recommender, data: RecDataset, k: int) -> np.ndarray:
    users = torch.arange(data.n_users)
    indices, _ = top_k(model.score, data, users, k, exclude_valid=True)
    return indices.numpy()


def popularity_bias(
    recommended: np.ndarray, data: RecDataset, bins: int = 10
) -> tuple[np.ndarray, np.ndarray]:
    """Share of training interactions and of recommendations per popularity decile (0 = most popular)."""
    counts = np.bincount(data.train.items, minlength=data.n_items).astype(np.float64)
    order = np.argsort(-counts, kind="stable")
    decile = np.empty(data.n_items, np.int64)
    decile[order] = np.minimum(np.arange(data.n_items) * bins // max(data.n_items, 1), bins - 1)
    train_share = np.bincount(decile, weights=counts, minlength=bins) / max(counts.sum(), 1)
    rec_share = np.bincount(decile[recommended.ravel()], minlength=bins) / max(recommended.size, 1)
    return train_share, rec_share


def write_report(
    folder: Path,
    model: Recommender,
    data: RecDataset,
    epochs: list[dict[str, float]],
    metrics: dict[str, float],
) -> Path:
    """metrics.json, epochs.csv, curves.png, popularity_bias.png, coverage.png, sample_recommendations.csv."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "metrics.json").write_text(json.dumps(metrics, indent=2, sort_keys=True))
    if epochs:
        pl.DataFrame(epochs).write_csv(folder / "epochs.csv")
        keys = sorted({key for epoch in epochs for key in epoch} - {"epoch", "epoch_s"})
        figure, axes = plt.subplots(1, len(keys), figsize=(4 * len(keys), 3), squeeze=False)
        for axis, key in zip(axes[0], keys, strict=True):
            points = [(e["epoch"], e[key]) for e in epochs if key in e and math.isfinite(e[key])]
            axis.plot([p[0] for p in points], [p[1] for p in points], marker=".")
            axis.set_title(key)
            axis.set_xlabel("epoch")
        figure.suptitle(f"{model.name}: training curves")
        figure.tight_layout()
        figure.savefig(folder / "curves.png", dpi=90)
        plt.close(figure)
    recommended = _recommended(model, data, 20)
    train_share, rec_share = popularity_bias(recommended, data)
    figure, axis = plt.subplots(figsize=(6, 3.5))
    x = np.arange(len(train_share))
    axis.bar(x - 0.2, train_share, 0.4, label="training interactions")
    axis.bar(x + 0.2, rec_share, 0.4, label="top-20 recommendations")
    axis.set_xlabel("item popularity decile (0 = most popular)")
    axis.set_ylabel("share")
    axis.set_title(f"{model.name}: popularity bias")
    axis.legend()
    figure.tight_layout()
    figure.savefig(folder / "popularity_bias.png", dpi=90)
    plt.close(figure)
    coverage = {key: value for key, value in metrics.items() if key.startswith("test.coverage@")}
    figure, axis = plt.subplots(figsize=(4, 3))
    axis.bar(list(coverage), list(coverage.values()))
    axis.set_ylim(0, 1)
    axis.set_title(f"{model.name}: catalogue coverage")
    figure.tight_layout()
    figure.savefig(folder / "coverage.png", dpi=90)
    plt.close(figure)
    sample: list[dict[str, Any]] = []
    for user in range(min(SAMPLE_USERS, data.n_users)):
        for rank, item in enumerate(recommended[user][:SAMPLE_K], start=1):
            sample.append({"user_id": data.user_ids[user], "rank": rank, "product_id": data.item_ids[item]})
    pl.DataFrame(sample).write_csv(folder / "sample_recommendations.csv")
    return folder
