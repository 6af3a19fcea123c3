"""Test inputs for the graph stage: a generated shop turned into the curated and enriched lake layout."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import polars as pl
from neo4j import Driver

from shopgraph.adapters.lake import lake_path, landing_files, partition_day, write_parquet
from shopgraph.domain import graph_rows as G
from shopgraph.domain.dates import partition_name
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L

DIMENSION = 16


def curate_landing(lake: str) -> list[date]:
    """Copy a clean generated landing zone into curated/ as the ingest stage lays it out; returns days."""
    days: set[date] = set()
    for table in (L.PRODUCTS, L.USERS):
        history = []
        for path in landing_files(lake, table):
            day = partition_day(path)
            days.add(day)
            frame = pl.read_parquet(path)
            write_parquet(
                frame, lake_path(lake, "curated", table, "changes", partition_name(day), Path(path).name)
            )
            history.append(frame)
        write_current(lake, table, pl.concat(history))
    for table in (L.EVENTS, L.REVIEWS):
        for path in landing_files(lake, table):
            day = partition_day(path)
            days.add(day)
            write_parquet(
                pl.read_parquet(path), lake_path(lake, "curated", table, partition_name(day), Path(path).name)
            )
    return sorted(days)


def write_current(lake: str, table: str, history: pl.DataFrame) -> pl.DataFrame:
    """curated/<table>/current: the latest live version of every key (tombstoned keys left out)."""
    key = L.LANDING_KEYS[table][0]
    current = (
        history.sort(L.UPDATED_AT)
        .unique(key, keep="last")
        .filter(~pl.col(L.IS_DELETED))
        .drop(L.IS_DELETED)
        .sort(key)
    )
    write_parquet(current, lake_path(lake, "curated", table, "current", "part-00000.parquet"))
    return current


def embed_products(products: pl.DataFrame, dimension: int = DIMENSION, seed: int = 0) -> pl.DataFrame:
    """Deterministic stand-in embeddings: one random direction per category plus per-product noise."""
    rng = np.random.default_rng(seed)
    categories = sorted(products.get_column(L.CATEGORY_PATH).unique().to_list())
    centres = {name: rng.normal(size=dimension) for name in categories}
    vectors = np.stack(
        [
            centres[path] + 0.5 * np.random.default_rng(int(pid[1:])).normal(size=dimension)
            for pid, path in products.select(L.PRODUCT_ID, L.CATEGORY_PATH).iter_rows()
        ]
    ).astype(np.float32)
    return pl.DataFrame(
        {
            L.PRODUCT_ID: products.get_column(L.PRODUCT_ID),
            "content_hash": products.get_column(L.TITLE).hash().cast(pl.String),
            "model_version": "test-embedder-1",
            "embedding": pl.Series(vectors, dtype=pl.Array(pl.Float32, dimension)),
        }
    )


def write_enrichment(lake: str, current_products: pl.DataFrame, dimension: int = DIMENSION) -> None:
    """enriched/product_embeddings and enriched/product_attributes (catalog attributes) for the products."""
    write_parquet(
        embed_products(current_products, dimension),
        lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet"),
    )
    attributes = G.catalog_attribute_rows(current_products.with_columns(pl.lit(False).alias(L.IS_DELETED)))
    write_parquet(attributes, lake_path(lake, "enriched", "product_attributes", "part-00000.parquet"))


def small_shop(
    lake: str, *, products: int = 120, users: int = 40, days: int = 3, seed: int = 5
) -> list[date]:
    """Generate a small clean shop, curate it and enrich it; returns the curated days."""
    generate_shop(lake, products=products, users=users, days=days, start_date=date(2026, 1, 1), seed=seed)
    found = curate_landing(lake)
    current = pl.read_parquet(lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    write_enrichment(lake, current)
    return found


def product_frame(rows: list[dict[str, object]]) -> pl.DataFrame:
    """A products change set from partial rows: missing columns get live defaults."""
    defaults: dict[str, object] = {
        L.TITLE: "Thing",
        L.DESCRIPTION: None,
        L.BRAND: None,
        L.CATEGORY_PATH: "Home > Things",
        L.PRICE: 9.5,
        L.CURRENCY: "EUR",
        L.COLOUR: None,
        L.MATERIAL: None,
        L.SIZE: None,
        L.STYLE: None,
        L.ATTRIBUTES: [],
        L.IS_DELETED: False,
    }
    full = [{**defaults, **row} for row in rows]
    return pl.DataFrame(full, schema=L.PRODUCTS_SCHEMA)


def wipe_graph(driver: Driver, database: str = "neo4j") -> None:
    """Delete every node and relationship (the schema stays)."""
    driver.execute_query("MATCH (n) DETACH DELETE n", database_=database)


def _plain(value: object) -> object:
    if hasattr(value, "to_native"):
        return value.to_native()
    if isinstance(value, list):
        return tuple(_plain(item) for item in value)
    if isinstance(value, float):
        return round(value, 5)
    return value


def _key(var: str) -> str:
    return (
        f"coalesce({var}.product_id, {var}.user_id, {var}.entity_id, {var}.path, {var}.name, "
        f"{var}.type + '=' + {var}.value)"
    )


def _props(props: dict[str, object]) -> tuple[tuple[str, object], ...]:
    return tuple(sorted((key, _plain(value)) for key, value in props.items()))


def graph_snapshot(driver: Driver, database: str = "neo4j") -> tuple[list[tuple], list[tuple]]:
    """Every node (labels, key, properties) and relationship (ends by key, type, properties), sorted.

    The schema version node is left out: its applied_at records when the schema was applied, not data.
    """
    nodes, _, _ = driver.execute_query(
        f"MATCH (n) WHERE NOT n:SchemaVersion RETURN labels(n) AS labels, {_key('n')} AS key, "
        "properties(n) AS props",
        database_=database,
    )
    rels, _, _ = driver.execute_query(
        f"MATCH (n)-[r]->(m) RETURN {_key('n')} AS a, type(r) AS type, {_key('m')} AS b, "
        "properties(r) AS props",
        database_=database,
    )
    node_rows = sorted((tuple(sorted(rec["labels"])), rec["key"], _props(rec["props"])) for rec in nodes)
    rel_rows = sorted((rec["a"], rec["type"], rec["b"], _props(rec["props"])) for rec in rels)
    return node_rows, rel_rows
