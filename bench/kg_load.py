"""Graph load speed: our batched loader vs a naive one-row-per-transaction MERGE; last line RESULT {json}.

Generates a shop, lays it out as the curated and enriched lake the graph stage reads, then against a real
Neo4j (the managed one at --home/--bolt-port, started when needed; its database is WIPED):
1. the full load of every day (nodes/s and relationships/s of our loader), after an untimed warm-up load
   of a small shop (then wiped), so the timed load does not pay for compiling the server's code paths
   and our queries (--warm-up-products 0 measures a cold server),
2. an incremental load of a 1 % product change against the full load (incremental_share),
3. a sample of product, user and VIEWED rows written by the naive loader (one MERGE per transaction) and
   by ours, each on an empty slate after a warm-up of both. speedup_vs_naive: the naive time for the
   sample against ours for the same row mix at the rates each kind had in the full load;
   speedup_vs_naive_same_sample: against ours measured on the sample itself (one small batch per kind),
4. with --bulk (default), the same days rebuilt by neo4j-admin import (`graph load --bulk`): its node and
   relationship rates over the tool's own stages, the whole rebuild's time, and whether the rebuilt graph
   has the same node and relationship counts as the Cypher-loaded one.
After the full load it also measures what the vector index's HNSW knobs (--hnsw-m, --hnsw-ef) cost in
quality: vector_recall_at_10, the share of each sampled product's exact 10 nearest neighbours (cosine over
every embedding) that the index returns.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopgraph.adapters.graph_bulk import bulk_load
from shopgraph.adapters.graph_loader import (
    LoadOptions,
    LoadReport,
    curated_days,
    graph_counts,
    load_days,
    write_frame,
)
from shopgraph.adapters.graph_schema import VECTOR_INDEX, HnswConfig, apply_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.lake import lake_path, landing_files, partition_day, write_parquet
from shopgraph.domain import graph_rows as G
from shopgraph.domain.dates import partition_name
from shopgraph.generate import generate_shop
from shopgraph.schemas import landing as L
from shopgraph.services.neo4j_server import start_neo4j
from shopgraph.settings import load_settings

DB = "neo4j"
NAIVE_PRODUCT = (
    "MERGE (n:Product {product_id: $product_id}) SET n.title = $title, n.description = $description, "
    "n.price = $price, n.currency = $currency, n.category_path = $category_path, n.active = true"
)
NAIVE_USER = "MERGE (n:User {user_id: $user_id}) SET n.country = $country, n.language = $language"
NAIVE_VIEWED = (
    "MATCH (u:User {user_id: $user_id}) MATCH (p:Product {product_id: $product_id}) "
    "MERGE (u)-[r:VIEWED]->(p) SET r.count = $count"
)


def curate(lake: str) -> None:
    """Landing -> curated layout (a clean generated shop needs no cleaning): changes, current, facts."""
    for table in (L.PRODUCTS, L.USERS):
        history = []
        for path in landing_files(lake, table):
            frame = pl.read_parquet(path)
            day = partition_name(partition_day(path))
            write_parquet(frame, lake_path(lake, "curated", table, "changes", day, Path(path).name))
            history.append(frame)
        key = L.LANDING_KEYS[table][0]
        current = pl.concat(history).sort(L.UPDATED_AT).unique(key, keep="last").filter(~pl.col(L.IS_DELETED))
        write_parquet(
            current.drop(L.IS_DELETED).sort(key),
            lake_path(lake, "curated", table, "current", "part-00000.parquet"),
        )
    for path in landing_files(lake, L.EVENTS):
        day = partition_name(partition_day(path))
        write_parquet(pl.read_parquet(path), lake_path(lake, "curated", L.EVENTS, day, Path(path).name))


def embeddings_for(products: pl.DataFrame, dimension: int, version: str) -> pl.DataFrame:
    """Stand-in embeddings: a direction per category plus per-product noise (seeded by the id)."""
    rng = np.random.default_rng(0)
    paths = products.get_column(L.CATEGORY_PATH).to_list()
    centres = {path: rng.normal(size=dimension) for path in sorted(set(paths))}
    noise = np.random.default_rng(int(version.rsplit("-", 1)[-1])).normal(size=(len(paths), dimension))
    vectors = np.stack([centres[path] for path in paths]) + 0.6 * noise
    return pl.DataFrame(
        {
            L.PRODUCT_ID: products.get_column(L.PRODUCT_ID),
            "content_hash": products.get_column(L.TITLE).hash().cast(pl.String),
            "model_version": version,
            "embedding": pl.Series(vectors.astype(np.float32), dtype=pl.Array(pl.Float32, dimension)),
        }
    )


def enrich(lake: str, dimension: int) -> pl.DataFrame:
    current = pl.read_parquet(lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    write_parquet(
        embeddings_for(current, dimension, "bench-1"),
        lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet"),
    )
    live = current.with_columns(pl.lit(False).alias(L.IS_DELETED))
    write_parquet(
        G.catalog_attribute_rows(live),
        lake_path(lake, "enriched", "product_attributes", "part-00000.parquet"),
    )
    return current


def rates(report: LoadReport) -> tuple[float, float, int, int]:
    """Nodes/s and relationships/s over the time spent writing each kind, and the rows written."""
    node_s = sum(s.seconds for n, s in report.stats.items() if n.split(":")[0] in G.NODE_LABELS)
    rel_s = sum(s.seconds for n, s in report.stats.items() if n in G.RELATIONSHIP_TYPES)
    nodes, rels = report.total("nodes"), report.total("relationships")
    return nodes / node_s, rels / rel_s, nodes, rels


def managed_neo4j(args: argparse.Namespace) -> dict[str, Any]:
    """The `neo4j:` settings of the bench's own managed server (--bolt-port, --http-port, --heap, ...)."""
    return {
        "uri": "",
        "bolt_port": args.bolt_port,
        "http_port": args.http_port,
        "managed": True,
        "heap_size": args.heap,
        "pagecache_size": args.pagecache,
    }


def wipe(driver: Any) -> None:
    """Empty the database in bounded transactions: relationships first, then nodes."""
    with driver.session(database=DB) as session:  # IN TRANSACTIONS needs an auto-commit query
        session.run("MATCH ()-[r]->() CALL (r) { DELETE r } IN TRANSACTIONS OF 20000 ROWS").consume()
        session.run("MATCH (n) CALL (n) { DELETE n } IN TRANSACTIONS OF 20000 ROWS").consume()


def sample_rows(lake: str, sample: int) -> dict[str, pl.DataFrame]:
    """Up to `sample` product and VIEWED rows of the first day, with the users those views touch."""
    day = curated_days(lake)[0]
    products = pl.read_parquet(
        lake_path(lake, "curated", "products", "changes", partition_name(day), "*.parquet")
    )
    products = G.product_node_rows(products).head(sample)
    users = G.user_node_rows(
        pl.read_parquet(lake_path(lake, "curated", "users", "changes", partition_name(day), "*.parquet"))
    )
    events = pl.read_parquet(lake_path(lake, "curated", "events", partition_name(day), "*.parquet"))
    viewed = G.interaction_rows(
        events.filter(pl.col(L.PRODUCT_ID).is_in(products.get_column(L.PRODUCT_ID).implode())), day
    )
    views = viewed[G.VIEWED].head(sample)
    users = users.filter(pl.col(L.USER_ID).is_in(views.get_column(L.USER_ID).implode()))
    return {G.PRODUCT: products, G.USER: users, G.VIEWED: views}


def write_naive(driver: Any, name: str, frame: pl.DataFrame) -> None:
    """One MERGE per row, each in its own managed transaction."""
    query = {G.PRODUCT: NAIVE_PRODUCT, G.USER: NAIVE_USER, G.VIEWED: NAIVE_VIEWED}[name]
    with driver.session(database=DB) as session:
        for row in G.wire_values(frame).to_dicts():
            session.execute_write(lambda tx, r=row: tx.run(query, r).consume())


def write_ours(driver: Any, name: str, frame: pl.DataFrame, options: LoadOptions) -> None:
    """The loader's query, batching and writers (write_frame, as load_day calls it) for the same rows."""
    query, key = {
        G.PRODUCT: (G.upsert_versioned_query(G.PRODUCT, G.PRODUCT_PROPERTIES), L.PRODUCT_ID),
        G.USER: (G.upsert_versioned_query(G.USER, G.USER_PROPERTIES), L.USER_ID),
        G.VIEWED: (G.merge_interactions_query(G.VIEWED), None),
    }[name]
    write_frame(driver, DB, LoadReport(), name, query, frame, options.batch_size, options.writers, key)


def vector_recall(driver: Any, lake: str, sample: int, k: int = 10) -> float:
    """Share of the exact k nearest neighbours (cosine over every embedding) the vector index returns,
    over `sample` products drawn at random (seeded)."""
    embeddings = pl.read_parquet(lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet"))
    ids = embeddings.get_column(L.PRODUCT_ID).to_list()
    vectors = embeddings.get_column("embedding").to_numpy().astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    picks = np.random.default_rng(7).choice(len(ids), size=min(sample, len(ids)), replace=False)
    found = 0
    for pick in picks:
        exact = {ids[i] for i in np.argsort(-(vectors @ vectors[pick]))[:k]}
        records, _, _ = driver.execute_query(
            "MATCH (p:Product {product_id: $id}) "
            "CALL db.index.vector.queryNodes($index, $k, p.embedding) YIELD node "
            "RETURN node.product_id AS product_id",
            {"id": ids[pick], "index": VECTOR_INDEX, "k": k},
            database_=DB,
        )
        found += len(exact & {record["product_id"] for record in records})
    return found / (len(picks) * k)


def naive_vs_ours(
    driver: Any, lake: str, sample: int, options: LoadOptions, warm_up: int
) -> dict[str, dict[str, float]]:
    """Seconds per kind for the same sample written one transaction per row and by our batched loader.

    Both first write `warm_up` rows of each kind (then wiped), so neither pays for planning its queries
    or warming the page cache inside the timed part. Kinds go in order (products, users, views), so the
    views find their nodes.
    """
    rows = sample_rows(lake, sample)
    seconds: dict[str, dict[str, float]] = {"naive": {}, "ours": {}}
    for loader, write in (
        ("naive", lambda name, frame: write_naive(driver, name, frame)),
        ("ours", lambda name, frame: write_ours(driver, name, frame, options)),
    ):
        wipe(driver)
        for name, frame in rows.items():
            write(name, frame.head(warm_up))
        wipe(driver)
        for name, frame in rows.items():
            started = time.perf_counter()
            write(name, frame)
            seconds[loader][name] = time.perf_counter() - started
    wipe(driver)
    return {"rows": {name: float(frame.height) for name, frame in rows.items()}, **seconds}


def speedups(comparison: dict[str, dict[str, float]], full: LoadReport) -> dict[str, float]:
    """Naive rows/s on the sample against ours, at our full-load rates and on the sample itself.

    vs_full_load: our time for the sample's row mix at the rows/s each kind had in the full load
    (production batches); same_sample: our measured time on the sample (one small batch per kind).
    """
    rows, naive_s = comparison["rows"], sum(comparison["naive"].values())
    at_full_rates = sum(
        count * full.stats[name].seconds / full.stats[name].rows_in for name, count in rows.items()
    )
    return {
        "vs_full_load": naive_s / at_full_rates,
        "same_sample": naive_s / sum(comparison["ours"].values()),
        "naive_rows_per_s": sum(rows.values()) / naive_s,
    }


def bulk_rebuild(
    settings: Any, lake: str, options: LoadOptions, cypher_counts: dict[str, int]
) -> dict[str, Any]:
    """Rebuild every day (the change day too) with neo4j-admin import; rates over the tool's own stages.

    bulk_nodes_per_s is over its node import stage, bulk_rels_per_s over relationship import and
    linking; bulk_s is the whole rebuild (folding, CSV, stopping, import, restart, indexes).
    """
    report = bulk_load(settings, lake, curated_days(lake), options)  # applies the schema again
    print(f"bulk rebuild: {json.dumps(report.to_json() | {'stats': None})}", flush=True)
    with neo4j_driver(settings) as driver:
        bulk_counts = graph_counts(driver, DB)
        wipe(driver)
    differing = {
        name: {"cypher": cypher_counts.get(name, 0), "bulk": bulk_counts.get(name, 0)}
        for name in sorted(cypher_counts.keys() | bulk_counts.keys())
        if cypher_counts.get(name, 0) != bulk_counts.get(name, 0)
    }
    if differing:
        print(f"bulk and Cypher graphs differ in: {json.dumps(differing)}", flush=True)
    stages = report.import_stages
    nodes, rels = report.total("nodes"), report.total("relationships")
    rel_stage_s = stages.get("Relationship import", 0.0) + stages.get("Relationship linking", 0.0)
    return {
        "bulk_nodes_per_s": round(nodes / stages["Node import"]) if stages.get("Node import") else None,
        "bulk_rels_per_s": round(rels / rel_stage_s) if rel_stage_s else None,
        "bulk_s": round(report.seconds, 1),
        "bulk_phases_s": {
            "fold_and_csv": round(report.fold_seconds, 1),
            "import": round(report.import_seconds, 1),
            "restart": round(report.restart_seconds, 1),
            "schema_and_indexes": round(report.schema_seconds, 1),
        },
        "bulk_import_stages_s": stages,
        "bulk_nodes": nodes,
        "bulk_relationships": rels,
        "bulk_graph_equals_cypher_counts": not differing,
    }


def change_one_percent(lake: str, current: pl.DataFrame, share: float, dimension: int) -> date:
    """A next-day change set updating `share` of the products (new colour and title), re-embedded."""
    last = curated_days(lake)[-1]
    day = last + timedelta(days=1)
    stamp = datetime(day.year, day.month, day.day, 0, 30, tzinfo=UTC)
    changed = (
        current.sample(fraction=share, seed=1)
        .with_columns(
            (pl.col(L.TITLE) + " (new season)").alias(L.TITLE),
            pl.lit("chartreuse").alias(L.COLOUR),
            pl.lit(False).alias(L.IS_DELETED),
            pl.lit(stamp).alias(L.UPDATED_AT),
        )
        .select(L.PRODUCTS_SCHEMA.names())
    )
    write_parquet(
        changed, lake_path(lake, "curated", "products", "changes", partition_name(day), "part-00000.parquet")
    )
    merged = current.filter(~pl.col(L.PRODUCT_ID).is_in(changed.get_column(L.PRODUCT_ID).implode()))
    merged = pl.concat([merged, changed.drop(L.IS_DELETED)]).sort(L.PRODUCT_ID)
    write_parquet(merged, lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    old = pl.read_parquet(lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet"))
    fresh = embeddings_for(changed, dimension, "bench-2").with_columns(
        pl.lit("bench-1").alias("model_version")
    )
    embeddings = pl.concat(
        [old.filter(~pl.col(L.PRODUCT_ID).is_in(fresh.get_column(L.PRODUCT_ID).implode())), fresh]
    )
    write_parquet(
        embeddings.sort(L.PRODUCT_ID), lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet")
    )
    live = merged.with_columns(pl.lit(False).alias(L.IS_DELETED))
    write_parquet(
        G.catalog_attribute_rows(live),
        lake_path(lake, "enriched", "product_attributes", "part-00000.parquet"),
    )
    return day


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--days", type=int, default=6, help="about 1.7 events per user and day")
    parser.add_argument("--dimension", type=int, default=32, help="stand-in embedding width")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=2, help="concurrent node writers (graph.writers)")
    parser.add_argument("--hnsw-m", type=int, default=16, help="vector index links per vector")
    parser.add_argument("--hnsw-ef", type=int, default=100, help="vector index candidates per insert")
    parser.add_argument(
        "--recall-sample", type=int, default=300, help="products whose neighbours are checked"
    )
    parser.add_argument("--top-k", type=int, default=10)
    parser.add_argument(
        "--naive-sample", type=int, default=1500, help="rows per kind for the naive comparison"
    )
    parser.add_argument(
        "--warm-up", type=int, default=100, help="rows per kind both loaders write before the timed sample"
    )
    parser.add_argument("--change-share", type=float, default=0.01)
    parser.add_argument(
        "--warm-up-products",
        type=int,
        default=10_000,
        help="products (and users) of the shop loaded and wiped before the timed load; 0: none",
    )
    parser.add_argument(
        "--home", default=".local/bench-kg", help="Neo4j home (managed server, database wiped)"
    )
    parser.add_argument("--bolt-port", type=int, default=29687)
    parser.add_argument("--http-port", type=int, default=29474)
    parser.add_argument("--heap", default="2g", help="the bench Neo4j's heap (also the import's)")
    parser.add_argument("--pagecache", default="2g", help="the bench Neo4j's page cache")
    parser.add_argument(
        "--bulk",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also rebuild the same days with neo4j-admin import (graph load --bulk) and compare",
    )
    args = parser.parse_args()

    settings = load_settings(
        home=args.home,
        neo4j=managed_neo4j(args),
        graph={
            "writers": args.writers,
            "vector_hnsw_m": args.hnsw_m,
            "vector_hnsw_ef_construction": args.hnsw_ef,
        },
    )
    start_neo4j(settings)
    workdir = Path(tempfile.mkdtemp(prefix="shopgraph-kg-bench-"))
    lake = str(workdir / "lake")
    try:
        started = time.perf_counter()
        summary = generate_shop(
            lake,
            products=args.products,
            users=args.users,
            days=args.days,
            start_date=date(2026, 1, 1),
            seed=42,
        )
        curate(lake)
        current = enrich(lake, args.dimension)
        prepare_s = time.perf_counter() - started
        print(f"generated and curated {summary.rows} in {prepare_s:.0f}s", flush=True)
        warm_lake = str(workdir / "warm-up-lake")
        if args.warm_up_products:
            generate_shop(
                warm_lake,
                products=args.warm_up_products,
                users=args.warm_up_products,
                days=2,
                start_date=date(2026, 1, 1),
                seed=7,
            )
            curate(warm_lake)
            enrich(warm_lake, args.dimension)
        options = LoadOptions(batch_size=args.batch_size, top_k=args.top_k, writers=args.writers)
        hnsw = HnswConfig(args.hnsw_m, args.hnsw_ef)
        with neo4j_driver(settings) as driver:
            wipe(driver)  # a run stopped half-way leaves its graph behind
            apply_schema(driver, DB, args.dimension, hnsw)
            if args.warm_up_products:
                started = time.perf_counter()
                load_days(driver, DB, warm_lake, curated_days(warm_lake), options, force=True)
                wipe(driver)
                apply_schema(driver, DB, args.dimension, hnsw)  # the wipe took its version node
                print(f"warm-up load: {time.perf_counter() - started:.1f}s (untimed)", flush=True)
            full = load_days(driver, DB, lake, curated_days(lake), options, force=True)
            nodes_per_s, rels_per_s, nodes, rels = rates(full)
            for row in full.table_rows():
                print(json.dumps(row), flush=True)
            print(f"full load: {nodes} nodes, {rels} relationships in {full.seconds:.1f}s", flush=True)
            recall = vector_recall(driver, lake, args.recall_sample)
            print(f"vector index recall@10 over {args.recall_sample} products: {recall:.3f}", flush=True)
            day = change_one_percent(lake, current, args.change_share, args.dimension)
            incremental = load_days(driver, DB, lake, curated_days(lake), options)
            for row in incremental.table_rows():
                print("incremental", json.dumps(row), flush=True)
            print(f"incremental {day}: {incremental.days} in {incremental.seconds:.1f}s", flush=True)
            cypher_counts = graph_counts(driver, DB)
            # After the full load the server's JIT is warm for both loaders alike.
            comparison = naive_vs_ours(driver, lake, args.naive_sample, options, args.warm_up)
            print(f"naive vs ours, seconds per kind on one sample: {json.dumps(comparison)}", flush=True)
            ratios = speedups(comparison, full)
        bulk = bulk_rebuild(settings, lake, options, cypher_counts) if args.bulk else {}
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    result = {
        "nodes_per_s": round(nodes_per_s),
        "rels_per_s": round(rels_per_s),
        "speedup_vs_naive": round(ratios["vs_full_load"], 1),
        "speedup_vs_naive_same_sample": round(ratios["same_sample"], 1),
        "naive_rows_per_s": round(ratios["naive_rows_per_s"], 1),
        "incremental_share": round(incremental.seconds / full.seconds, 4),
        "full_load_s": round(full.seconds, 1),
        "incremental_load_s": round(incremental.seconds, 1),
        "nodes": nodes,
        "relationships": rels,
        "events": summary.rows[L.EVENTS],
        "products": args.products,
        "naive_sample_rows": {name: int(count) for name, count in comparison["rows"].items()},
        "batch_size": args.batch_size,
        "warm_up_products": args.warm_up_products,
        "writers": args.writers,
        "hnsw_m": args.hnsw_m,
        "hnsw_ef_construction": args.hnsw_ef,
        "vector_recall_at_10": round(recall, 4),
        "heap": args.heap,
        "pagecache": args.pagecache,
        **bulk,
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
