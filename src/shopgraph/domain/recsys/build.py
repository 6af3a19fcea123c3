"""Dataset builder: graph export frames and text embeddings into an index-encoded, split RecDataset."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import polars as pl

from shopgraph.domain.recsys.data import Interactions, RecDataset
from shopgraph.domain.recsys.splits import split_interactions

SplitMethod = Literal["time", "leave_last_out", "predefined"]
SPLIT_CODES: dict[str, int] = {"train": 0, "valid": 1, "test": 2}

# Export table names (adapters/graph_export.py) and their columns this module reads.
INTERACTIONS = "interactions"
PRODUCTS = "products"
ITEM_BRANDS = "item_brands"
ITEM_CATEGORIES = "item_categories"
CATEGORY_PARENTS = "category_parents"
ITEM_ATTRIBUTES = "item_attributes"
ITEM_ENTITIES = "item_entities"
KG_TRIPLES = "kg_triples"
PREDEFINED_SPLIT = "predefined_split"  # user_id, product_id, split (train | valid | test)

DEFAULT_WEIGHTS: dict[str, float] = {
    "VIEWED": 1.0,
    "CLICKED": 2.0,
    "ADDED_TO_CART": 3.0,
    "PURCHASED": 5.0,
    "RATED": 4.0,
}


class DatasetError(ValueError):
    """The frames cannot make a usable dataset; the message says which table and why."""


@dataclass(frozen=True)
class DatasetConfig:
    """How interactions become implicit feedback and how they are split."""

    weights: Mapping[str, float] = field(default_factory=lambda: dict(DEFAULT_WEIGHTS))
    min_weight: float = 0.0  # pairs whose weight is below it are dropped (e.g. view-only pairs)
    min_user_pairs: int = 2  # users with fewer pairs are dropped entirely
    split: SplitMethod = "time"
    valid_share: float = 0.1
    test_share: float = 0.1
    seed: int = 0


def pair_weights(interactions: pl.DataFrame, weights: Mapping[str, float]) -> pl.DataFrame:
    """One row per (user_id, product_id): weight = sum over interaction types of weight * log1p(count).

    Reads user_id, product_id, interaction, count, first_at; writes user_id, product_id, weight, time
    (unix seconds of the first interaction of any type). Types without a configured weight are ignored.
    """
    known = pl.DataFrame({"interaction": list(weights), "type_weight": list(weights.values())})
    return (
        interactions.join(known, on="interaction", how="inner")
        .group_by("user_id", "product_id")
        .agg(
            (pl.col("type_weight") * pl.col("count").cast(pl.Float64).log1p()).sum().alias("weight"),
            pl.col("first_at").min().dt.epoch("s").alias("time"),
        )
        .sort("user_id", "product_id")
    )


def item_universe(frames: Mapping[str, pl.DataFrame], pairs: pl.DataFrame) -> list[str]:
    """Active products plus every product with an interaction, sorted (products: product_id, active)."""
    ids = set(pairs["product_id"].to_list())
    products = frames.get(PRODUCTS)
    if products is not None and products.height:
        active = (
            products.filter(pl.col("active").fill_null(True)) if "active" in products.columns else products
        )
        ids.update(active["product_id"].to_list())
    return sorted(ids)


def inactive_indexes(frames: Mapping[str, pl.DataFrame], item_ids: list[str]) -> np.ndarray:
    """Indexes of items the products table marks inactive (deleted): kept for training, never recommended."""
    products = frames.get(PRODUCTS)
    if products is None or "active" not in products.columns:
        return np.zeros(0, np.int64)
    inactive = products.filter(~pl.col("active").fill_null(True))["product_id"]
    indexes = _index(inactive, item_ids)
    return np.sort(indexes[indexes >= 0])


def item_entity_edges(frames: Mapping[str, pl.DataFrame]) -> pl.DataFrame:
    """product_id, entity, entity_type for brands, categories (with their ancestors), attributes, entities."""
    parts: list[pl.DataFrame] = []

    def add(table: str, entity: pl.Expr, kind: str) -> None:
        frame = frames.get(table)
        if frame is not None and frame.height:
            parts.append(
                frame.select(
                    pl.col("product_id"),
                    entity.alias("entity"),
                    pl.lit(kind).alias("entity_type"),
                )
            )

    add(ITEM_BRANDS, "brand:" + pl.col("brand"), "brand")
    add(ITEM_ENTITIES, "kg:" + pl.col("entity_id"), "entity")
    add(ITEM_ATTRIBUTES, "attr:" + pl.col("type") + "=" + pl.col("value"), "attribute")
    categories = frames.get(ITEM_CATEGORIES)
    if categories is not None and categories.height:
        parents = frames.get(CATEGORY_PARENTS)
        paths = categories.rename({"category_path": "path"})
        frontier = paths
        for _ in range(8):  # category trees are shallow; bounded so a cycle cannot loop forever
            if parents is None or not parents.height or not frontier.height:
                break
            frontier = frontier.join(parents, left_on="path", right_on="category_path").select(
                "product_id", pl.col("parent_path").alias("path")
            )
            paths = pl.concat([paths, frontier])
        parts.append(
            paths.select(
                "product_id", ("category:" + pl.col("path")).alias("entity"), pl.lit("category")
            ).rename({"literal": "entity_type"})
        )
    if not parts:
        return pl.DataFrame(schema={"product_id": pl.String, "entity": pl.String, "entity_type": pl.String})
    return pl.concat(parts).unique().sort("product_id", "entity")


def _index(values: pl.Series, ids: list[str]) -> np.ndarray:
    lookup = pl.DataFrame({"key": ids, "index": np.arange(len(ids), dtype=np.int64)})
    joined = pl.DataFrame({"key": values}).join(lookup, on="key", how="left", maintain_order="left")
    return joined["index"].fill_null(-1).to_numpy()


def text_matrix(item_ids: list[str], embeddings: pl.DataFrame | None) -> np.ndarray | None:
    """(n_items x d) float32 L2-normalised vectors (embeddings: product_id, embedding); zero where missing."""
    if embeddings is None or not embeddings.height:
        return None
    dimension = len(embeddings["embedding"][0])
    matrix = np.zeros((len(item_ids), dimension), np.float32)
    rows = _index(embeddings["product_id"], item_ids)
    present = rows >= 0
    vectors = np.asarray(embeddings["embedding"].to_list(), dtype=np.float32)
    matrix[rows[present]] = vectors[present]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return np.divide(matrix, norms, out=np.zeros_like(matrix), where=norms > 0)


def _digest(*arrays: np.ndarray) -> str:
    digest = hashlib.sha256()
    for array in arrays:
        digest.update(np.ascontiguousarray(array).tobytes())
    return digest.hexdigest()[:16]


def build_dataset(
    frames: Mapping[str, pl.DataFrame],
    config: DatasetConfig,
    *,
    name: str,
    embeddings: pl.DataFrame | None = None,
) -> RecDataset:
    """Index-encode users, items and entities and split the pairs; see DatasetConfig for the rules.

    frames holds the graph export tables by name (interactions is required; the rest enrich items) and,
    for split == "predefined", a predefined_split table (user_id, product_id, split).
    """
    interactions = frames.get(INTERACTIONS)
    if interactions is None or not interactions.height:
        raise DatasetError(f"{name}: the interactions table is missing or empty")
    pairs = pair_weights(interactions, config.weights).filter(pl.col("weight") >= config.min_weight)
    active_users = pairs.group_by("user_id").len().filter(pl.col("len") >= config.min_user_pairs)
    pairs = pairs.join(active_users.select("user_id"), on="user_id", how="semi")
    if not pairs.height:
        raise DatasetError(f"{name}: no user has {config.min_user_pairs} or more weighted pairs")
    user_ids = sorted(set(pairs["user_id"].to_list()))
    item_ids = item_universe(frames, pairs)
    everything = Interactions(
        _index(pairs["user_id"], user_ids),
        _index(pairs["product_id"], item_ids),
        pairs["weight"].cast(pl.Float32).to_numpy(),
        pairs["time"].fill_null(0).cast(pl.Int64).to_numpy(),
    )
    predefined = None
    if config.split == "predefined":
        given = frames.get(PREDEFINED_SPLIT)
        if given is None:
            raise DatasetError(f"{name}: split 'predefined' needs a predefined_split table")
        coded = pairs.join(given, on=["user_id", "product_id"], how="left", maintain_order="left")
        predefined = coded["split"].replace_strict(SPLIT_CODES, default=0, return_dtype=pl.Int8).to_numpy()
    train, valid, test = split_interactions(
        everything,
        config.split,
        valid_share=config.valid_share,
        test_share=config.test_share,
        predefined=predefined,
        seed=config.seed,
    )
    edges = item_entity_edges(frames).filter(pl.col("product_id").is_in(item_ids))
    entity_frame = edges.select("entity", "entity_type").unique().sort("entity")
    entity_ids = entity_frame["entity"].to_list()
    item_entities = np.stack(
        [_index(edges["product_id"], item_ids), _index(edges["entity"], entity_ids)], axis=1
    ).astype(np.int64)
    kg = frames.get(KG_TRIPLES)
    relation_ids: list[str] = []
    kg_triples = np.zeros((0, 3), np.int64)
    if kg is not None and kg.height:
        kg = kg.with_columns(
            ("kg:" + pl.col("head_id")).alias("head"), ("kg:" + pl.col("tail_id")).alias("tail")
        )
        extra = sorted((set(kg["head"].to_list()) | set(kg["tail"].to_list())) - set(entity_ids))
        entity_ids = entity_ids + extra
        entity_types = entity_frame["entity_type"].to_list() + ["entity"] * len(extra)
        relation_ids = sorted(set(kg["relation"].to_list()))
        kg_triples = np.stack(
            [
                _index(kg["head"], entity_ids),
                _index(kg["relation"], relation_ids),
                _index(kg["tail"], entity_ids),
            ],
            axis=1,
        ).astype(np.int64)
    else:
        entity_types = entity_frame["entity_type"].to_list()
    return RecDataset(
        name=name,
        split=config.split,
        user_ids=user_ids,
        item_ids=item_ids,
        train=train,
        valid=valid,
        test=test,
        entity_ids=entity_ids,
        entity_types=entity_types,
        item_entities=item_entities,
        relation_ids=relation_ids,
        kg_triples=kg_triples,
        item_text=text_matrix(item_ids, embeddings),
        inactive_items=inactive_indexes(frames, item_ids),
        digest=_digest(
            everything.users, everything.items, everything.weights, everything.times, item_entities
        ),
    )
