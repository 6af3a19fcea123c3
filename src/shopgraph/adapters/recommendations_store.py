"""Batch recommendations written to the lake (per day and current) and to Neo4j as RECOMMENDED edges."""

from __future__ import annotations

from datetime import date

import polars as pl
from neo4j import Driver

from shopgraph.adapters.lake import (
    lake_path,
    part_name,
    partition_files,
    read_parts,
    remove_tree,
    write_parquet,
)
from shopgraph.domain.dates import partition_name
from shopgraph.schemas.lake_layout import CURRENT, RECOMMENDATIONS

# Replaces each listed user's previous set in one transaction per batch: a user never shows half a set.
REPLACE_RECOMMENDED = (
    "UNWIND $users AS entry "
    "MATCH (u:User {user_id: entry.user_id}) "
    "CALL (u) { OPTIONAL MATCH (u)-[old:RECOMMENDED]->() DELETE old } "
    "WITH u, entry UNWIND entry.items AS item "
    "MATCH (p:Product {product_id: item.product_id}) "
    "CREATE (u)-[:RECOMMENDED {rank: item.rank, score: item.score, model_version: $model_version, "
    "batch: $batch}]->(p) "
    "RETURN count(*) AS written"
)
# Users without a new set (no longer active) lose the old one, so the graph holds exactly this batch.
DROP_STALE = (
    "MATCH ()-[r:RECOMMENDED]->() WHERE r.batch <> $batch CALL (r) { DELETE r } IN TRANSACTIONS OF 10000 ROWS"
)
COUNT_RECOMMENDED = (
    "MATCH ()-[r:RECOMMENDED]->() RETURN count(r) AS edges, count(DISTINCT r.batch) AS batches"
)


def write_lake(lake: str, recommendations: pl.DataFrame, day: date) -> str:
    """recommendations/dt=<day>/ and recommendations/current/ replaced by this set (never appended)."""
    for folder in (
        lake_path(lake, *RECOMMENDATIONS, partition_name(day)),
        lake_path(lake, *RECOMMENDATIONS, CURRENT),
    ):
        remove_tree(folder)
        write_parquet(recommendations, lake_path(folder, part_name(0)))
    return lake_path(lake, *RECOMMENDATIONS, CURRENT)


def read_current(lake: str) -> pl.DataFrame | None:
    """The latest recommendation set, or None before the first batch."""
    return read_parts(partition_files(lake_path(lake, *RECOMMENDATIONS, CURRENT)))


def write_graph(
    driver: Driver,
    database: str,
    recommendations: pl.DataFrame,
    model_version: str,
    batch: str,
    batch_users: int,
) -> int:
    """RECOMMENDED {rank, score, model_version, batch} edges replacing every user's previous set.

    Reads user_id, product_id, rank, score. Returns the number of edges written.
    """
    grouped = (
        recommendations.sort("user_id", "rank")
        .group_by("user_id", maintain_order=True)
        .agg(pl.struct("product_id", "rank", "score").alias("items"))
    )
    written = 0
    for start in range(0, grouped.height, batch_users):
        chunk = grouped.slice(start, batch_users).to_dicts()
        records, _, _ = driver.execute_query(
            REPLACE_RECOMMENDED,
            {"users": chunk, "model_version": model_version, "batch": batch},
            database_=database,
        )
        written += int(records[0]["written"]) if records else 0
    with driver.session(database=database) as session:
        session.run(DROP_STALE, {"batch": batch}).consume()
    return written


def graph_counts(driver: Driver, database: str) -> dict[str, int]:
    """RECOMMENDED edges in the graph and how many distinct batches they come from."""
    records, _, _ = driver.execute_query(COUNT_RECOMMENDED, database_=database)
    return {"edges": int(records[0]["edges"]), "batches": int(records[0]["batches"])}
