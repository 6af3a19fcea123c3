"""What bounds the graph loader's node rate: node writes under schema variants; last line RESULT {json}.

Generates a one-day shop and lays it out as kg_load.py does, then on the bench Neo4j (--home/--bolt-port,
started when needed; its database is WIPED) writes all products, all users and all product embeddings
with the loader's own queries and write_frame, once per variant. Each variant starts from an empty
database that has only that variant's schema:

- before: the loader as it was before schema 3, one writer, Neo4j's HNSW default (ef_construction 100)
  and the two product lookup indexes schema 3 retired: the baseline every ratio is taken against;
- loader: the schema apply_schema creates and the loader's defaults (2 writers, ef_construction 100);
- loader_ef40: the loader with 40 HNSW candidates per insert (faster embedding writes, lower recall);
- loader_one_writer: the loader with one writer;
- no_text_no_vector: the loader without the fulltext and vector indexes;
- keys_only: only the uniqueness constraints (what the writes cost without any index to maintain).

nodes_per_s counts every row written (a product, a user, an embedding) over the seconds spent writing
them, as kg_load.py does; vector_recall_at_10 is measured where the variant has a vector index. A warm-up
of the loader variant on a tenth of the rows runs first, so no variant pays for the server's JIT.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kg_load import curate, enrich, managed_neo4j, vector_recall, wipe  # noqa: E402
from shopgraph.adapters.graph_loader import LoadReport, write_frame  # noqa: E402
from shopgraph.adapters.graph_schema import (  # noqa: E402
    CONSTRAINTS,
    FULLTEXT_INDEX,
    INDEXES,
    HnswConfig,
    vector_index_query,
)
from shopgraph.adapters.graph_store import neo4j_driver  # noqa: E402
from shopgraph.adapters.lake import lake_path  # noqa: E402
from shopgraph.domain import graph_rows as G  # noqa: E402
from shopgraph.generate import generate_shop  # noqa: E402
from shopgraph.schemas import landing as L  # noqa: E402
from shopgraph.services.neo4j_server import start_neo4j  # noqa: E402
from shopgraph.settings import load_settings  # noqa: E402

DB = "neo4j"
# The product lookup indexes of schema 2, which schema 3 retired.
SCHEMA_2_PRODUCT_INDEXES = (
    "CREATE INDEX product_active IF NOT EXISTS FOR (n:Product) ON (n.active)",
    "CREATE INDEX product_category_path IF NOT EXISTS FOR (n:Product) ON (n.category_path)",
)


@dataclass(frozen=True)
class Variant:
    """A schema and writer setup: HNSW knobs (None: no vector index), fulltext, lookups, writers."""

    name: str
    writers: int
    hnsw: HnswConfig | None
    fulltext: bool = True
    lookups: bool = True
    schema_2_indexes: bool = False

    def statements(self, dimension: int) -> list[str]:
        statements = list(CONSTRAINTS)
        if self.lookups:
            statements += [s for s in INDEXES if FULLTEXT_INDEX not in s]
        if self.fulltext:
            statements += [s for s in INDEXES if FULLTEXT_INDEX in s]
        if self.schema_2_indexes:
            statements += SCHEMA_2_PRODUCT_INDEXES
        if self.hnsw is not None:
            statements.append(vector_index_query(dimension, self.hnsw))
        return statements


def variants(writers: int, ef: int) -> list[Variant]:
    loader = HnswConfig(ef_construction=ef)
    return [
        Variant("before", 1, HnswConfig(ef_construction=100), schema_2_indexes=True),
        Variant("loader", writers, loader),
        Variant("loader_ef40", writers, HnswConfig(ef_construction=40)),
        Variant("loader_one_writer", 1, loader),
        Variant("no_text_no_vector", writers, None, fulltext=False),
        Variant("keys_only", writers, None, fulltext=False, lookups=False),
    ]


def empty_schema(driver: Any) -> None:
    """Drop every constraint and index but the built-in token lookups."""
    for record in driver.execute_query("SHOW CONSTRAINTS YIELD name RETURN name", database_=DB).records:
        driver.execute_query(f"DROP CONSTRAINT {record['name']}", database_=DB)  # names come from SHOW
    shown = driver.execute_query(
        "SHOW INDEXES YIELD name, type WHERE type <> 'LOOKUP' RETURN name", database_=DB
    ).records
    for record in shown:
        driver.execute_query(f"DROP INDEX {record['name']}", database_=DB)


def node_frames(lake: str) -> dict[str, tuple[str, str, pl.DataFrame]]:
    """Name -> (query, key column, rows) for every product, user and embedding of the shop."""
    current = lake_path(lake, "curated", "{}", "current", "part-00000.parquet")
    live = pl.lit(False).alias(L.IS_DELETED)
    products = pl.read_parquet(current.format(L.PRODUCTS)).with_columns(live)
    users = pl.read_parquet(current.format(L.USERS)).with_columns(live)
    embeddings = pl.read_parquet(lake_path(lake, "enriched", "product_embeddings", "part-00000.parquet"))
    return {
        G.PRODUCT: (
            G.upsert_versioned_query(G.PRODUCT, G.PRODUCT_PROPERTIES),
            L.PRODUCT_ID,
            G.product_node_rows(products),
        ),
        G.USER: (G.upsert_versioned_query(G.USER, G.USER_PROPERTIES), L.USER_ID, G.user_node_rows(users)),
        "Product:embedding": (
            G.set_embeddings_query(),
            L.PRODUCT_ID,
            G.embedding_rows(embeddings, embeddings.get_column(L.PRODUCT_ID)),
        ),
    }


def run_variant(
    driver: Any,
    variant: Variant,
    frames: dict[str, tuple[str, str, pl.DataFrame]],
    dimension: int,
    batch_size: int,
    share: float = 1.0,
) -> LoadReport:
    """Empty database, the variant's schema, then every frame (the first `share` of its rows)."""
    wipe(driver)
    empty_schema(driver)
    for statement in variant.statements(dimension):
        driver.execute_query(statement, database_=DB)
    driver.execute_query("CALL db.awaitIndexes(300)", database_=DB)
    report = LoadReport()
    for name, (query, key, rows) in frames.items():
        part = rows.head(int(rows.height * share))
        write_frame(driver, DB, report, name, query, part, batch_size, variant.writers, key)
    return report


def summary(report: LoadReport) -> dict[str, Any]:
    rows = sum(stat.rows_in for stat in report.stats.values())
    seconds = sum(stat.seconds for stat in report.stats.values())
    return {
        "nodes_per_s": round(rows / seconds),
        "seconds": round(seconds, 1),
        "per_kind": {name: round(stat.rows_in / stat.seconds) for name, stat in report.stats.items()},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=100_000)
    parser.add_argument("--dimension", type=int, default=32, help="stand-in embedding width")
    parser.add_argument("--batch-size", type=int, default=5000)
    parser.add_argument("--writers", type=int, default=2, help="the loader variant's writers")
    parser.add_argument("--hnsw-ef", type=int, default=100, help="the loader variant's ef_construction")
    parser.add_argument("--recall-sample", type=int, default=300)
    parser.add_argument("--only", default="", help="comma-separated variant names (default: all)")
    parser.add_argument("--home", default=".local/bench-kg", help="Neo4j home (database wiped)")
    parser.add_argument("--bolt-port", type=int, default=29687)
    parser.add_argument("--http-port", type=int, default=29474)
    parser.add_argument("--heap", default="2g")
    parser.add_argument("--pagecache", default="2g")
    args = parser.parse_args()

    settings = load_settings(
        home=args.home,
        neo4j=managed_neo4j(args),
    )
    start_neo4j(settings)
    chosen = [
        v for v in variants(args.writers, args.hnsw_ef) if not args.only or v.name in args.only.split(",")
    ]
    workdir = Path(tempfile.mkdtemp(prefix="shopgraph-kg-nodes-"))
    lake = str(workdir / "lake")
    results: dict[str, dict[str, Any]] = {}
    try:
        started = time.perf_counter()
        generate_shop(
            lake, products=args.products, users=args.users, days=1, start_date=date(2026, 1, 1), seed=42
        )
        curate(lake)
        enrich(lake, args.dimension)
        frames = node_frames(lake)
        print(
            f"generated {', '.join(f'{n}: {f[2].height}' for n, f in frames.items())} "
            f"in {time.perf_counter() - started:.0f}s",
            flush=True,
        )
        with neo4j_driver(settings) as driver:
            warm_up = variants(args.writers, args.hnsw_ef)[1]
            run_variant(driver, warm_up, frames, args.dimension, args.batch_size, share=0.1)
            for variant in chosen:
                result = summary(run_variant(driver, variant, frames, args.dimension, args.batch_size))
                if variant.hnsw is not None:
                    result["vector_recall_at_10"] = round(vector_recall(driver, lake, args.recall_sample), 4)
                results[variant.name] = result
                print(f"{variant.name}: {json.dumps(result)}", flush=True)
            wipe(driver)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    baseline = results.get("before", {}).get("nodes_per_s")
    ratios = {
        f"{name}_vs_before": round(result["nodes_per_s"] / baseline, 2)
        for name, result in results.items()
        if baseline and name != "before"
    }
    print("RESULT " + json.dumps({"variants": results, **ratios, "dimension": args.dimension}))


if __name__ == "__main__":
    main()
