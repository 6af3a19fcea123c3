"""Search quality on real judgments: BM25 vs dense vs hybrid NDCG@10 on CrowdFlower; last line RESULT {json}.

Imports ../shared/datasets/crowdflower/train.csv (folder from SHOPGRAPH_DATASETS, default ../shared/datasets
beside the checkout; the bench skips cleanly when it is absent) with the relevance-csv importer, embeds the
products with the configured encoder (vectors cached under --home), loads them into a Neo4j this bench
starts (--home, its own ports; its database is WIPED), and ranks each query's judged products with BM25
(fulltext index), dense (vectors) and hybrid (weighted reciprocal rank fusion). NDCG@10 per query over the
judged products, gain = CrowdFlower label - 1 (the landing relevance 0-3).

Fusion weights are tuned honestly: queries are split in two halves by a hash of their id; weights are
chosen on half A and reported on half B (and the other way round), beside the configured defaults.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import os
import time
from collections.abc import Sequence
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from shopgraph.adapters.encoder import EncoderSpec, load_encoder
from shopgraph.adapters.graph_loader import DayInputs, LoadOptions, LoadReport, load_day, write_frame
from shopgraph.adapters.graph_schema import apply_schema
from shopgraph.adapters.graph_store import neo4j_driver
from shopgraph.adapters.search_index import VocabularyMatcher, catalog_vocabulary, product_cards
from shopgraph.domain import graph_rows as G
from shopgraph.domain.product_text import PRODUCT_TEXT, compose_product_text
from shopgraph.domain.search.fusion import (
    BM25,
    DENSE,
    HYBRID,
    FusionConfig,
    Hit,
    ProductFacts,
    QueryEntity,
    fuse,
)
from shopgraph.domain.search.metrics import mean_metrics, query_metrics
from shopgraph.embedding import embed_texts
from shopgraph.importers.runner import parse_source
from shopgraph.ner.io import read_synonyms
from shopgraph.schemas import landing as L
from shopgraph.search import SearchEngine, judged_queries
from shopgraph.services.neo4j_server import start_neo4j, stop_neo4j
from shopgraph.settings import REPO_ROOT, load_settings

DB = "neo4j"
# Tuning grid: dense weight relative to BM25 (1.0) and the RRF constant.
DENSE_WEIGHTS = (0.25, 0.5, 0.75, 1.0, 1.5, 2.0, 3.0)
RRF_KS = (1, 10, 30, 60, 100)

Prepared = tuple[str, dict[str, float], dict[str, list[Hit]], list[QueryEntity], dict[str, ProductFacts]]


def datasets_folder() -> Path:
    return Path(os.environ.get("SHOPGRAPH_DATASETS", str(REPO_ROOT.parent / "shared" / "datasets")))


def half(query_id: str) -> str:
    """'A' or 'B' by the first byte of sha256(query_id): a fixed split that no result can steer."""
    return "A" if hashlib.sha256(query_id.encode()).digest()[0] % 2 == 0 else "B"


def embed_products(products: pl.DataFrame, spec: EncoderSpec, batch_size: int, cache: Path) -> pl.DataFrame:
    """product_id, content_hash, model_version, embedding; reused from the cache file when texts match."""
    texts = compose_product_text(products)
    digest = hashlib.sha256("\n".join(texts.get_column("content_hash").to_list()).encode()).hexdigest()[:16]
    target = cache / f"crowdflower-{spec.model}-{spec.max_length}-{digest}.parquet"
    if target.exists():
        print(f"embeddings reused from {target}", flush=True)
        return pl.read_parquet(target)
    encoder = load_encoder(spec)
    vectors, stats = embed_texts(encoder, texts.get_column(PRODUCT_TEXT).to_list(), batch_size=batch_size)
    print(f"embedded {stats.texts} products in {stats.seconds:.0f}s ({stats.texts_per_s:.1f}/s)", flush=True)
    frame = texts.select(L.PRODUCT_ID, "content_hash").with_columns(
        pl.lit(encoder.model_version).alias("model_version"),
        pl.Series("embedding", vectors, dtype=pl.Array(pl.Float32, vectors.shape[1])),
    )
    cache.mkdir(parents=True, exist_ok=True)
    frame.write_parquet(target)
    return frame


def load_graph(driver: Any, products: pl.DataFrame, embeddings: pl.DataFrame, dimension: int) -> None:
    """Products (nodes, category, fulltext) then their vectors, on a wiped database."""
    with driver.session(database=DB) as session:
        session.run("MATCH (n) CALL (n) { DETACH DELETE n } IN TRANSACTIONS OF 10000 ROWS").consume()
    apply_schema(driver, DB, dimension)
    day = date(2026, 1, 1)
    load_day(driver, DB, DayInputs(day=day, products=products), LoadOptions(batch_size=2000))
    rows = G.embedding_rows(embeddings, embeddings.get_column(L.PRODUCT_ID))
    write_frame(driver, DB, LoadReport(), "Product:embedding", G.set_embeddings_query(), rows, 2000)
    driver.execute_query("CALL db.awaitIndexes(600)", database_=DB)


def prepare(engine: SearchEngine, judgments: pl.DataFrame, embed: Any) -> list[Prepared]:
    """Per judged query: gains, BM25 and dense hits over its judged products, entities, product facts."""
    queries = judged_queries(judgments)
    vectors = embed([query for _, query, _ in queries])
    prepared: list[Prepared] = []
    for (query_id, query, gains), vector in zip(queries, vectors, strict=True):
        pool = sorted(gains)
        hits = engine.retrieve(query, HYBRID, len(pool), pool, vector)
        cards = product_cards(engine.driver, engine.database, pool)
        prepared.append(
            (query_id, gains, hits, engine.entities(query), {p: c.facts for p, c in cards.items()})
        )
    return prepared


def score(prepared: Sequence[Prepared], mode: str, config: FusionConfig) -> dict[str, float]:
    """Mean NDCG@10 and MRR of one mode and fusion config over prepared queries."""
    per_query = []
    for query_id, gains, hits, entities, facts in prepared:
        chosen = {name: found for name, found in hits.items() if mode == HYBRID or name == mode}
        ranked = fuse(chosen, facts, entities if mode == HYBRID else [], config, len(gains))
        per_query.append(query_metrics(query_id, [r.product_id for r in ranked], gains))
    means = mean_metrics(per_query)
    return {
        "ndcg@10": round(means["ndcg"], 4),
        "mrr": round(means["mrr"], 4),
        "queries": int(means["queries"]),
    }


def tune(prepared: Sequence[Prepared], base: FusionConfig) -> FusionConfig:
    """The dense weight and RRF k with the best hybrid NDCG@10 on these queries (ties: the first)."""
    best, best_ndcg = base, -1.0
    for dense_weight in DENSE_WEIGHTS:
        for k in RRF_KS:
            config = FusionConfig(base.bm25_weight, dense_weight, k, base.entity_boost, base.quality_boost)
            value = score(prepared, HYBRID, config)["ndcg@10"]
            if value > best_ndcg:
                best, best_ndcg = config, value
    return best


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--max-length", type=int, default=128, help="encoder tokens per product text")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--home", default=".local/bench-search", help="Neo4j home and embedding cache")
    parser.add_argument("--bolt-port", type=int, default=29701)
    parser.add_argument("--http-port", type=int, default=29702)
    parser.add_argument("--keep-neo4j", action="store_true", help="leave the bench Neo4j running")
    args = parser.parse_args()
    # A fresh graph has no brands, attributes or quality scores: Neo4j's "does not exist" notices are noise.
    logging.getLogger("neo4j.notifications").setLevel(logging.ERROR)

    source = datasets_folder() / "crowdflower" / "train.csv"
    if not source.exists():
        print(f"skipped: {source} not found (set SHOPGRAPH_DATASETS to the datasets folder)")
        print("RESULT " + json.dumps({"skipped": f"{source} not found"}))
        return
    started = time.perf_counter()
    imported = parse_source("relevance-csv", str(source), str(REPO_ROOT / "conf/mappings/crowdflower.yaml"))
    products = imported.tables[L.PRODUCTS].with_columns(
        pl.lit(datetime(2026, 1, 1, tzinfo=UTC)).alias(L.UPDATED_AT)
    )
    judgments = imported.tables[L.SEARCH_JUDGMENTS]
    print(f"imported {products.height} products, {judgments.height} judgments", flush=True)

    settings = load_settings(
        home=args.home,
        neo4j={"uri": "", "bolt_port": args.bolt_port, "http_port": args.http_port, "managed": True},
    )
    spec = EncoderSpec(settings.embedding.model, settings.embedding.device, args.max_length)
    embeddings = embed_products(products, spec, args.batch_size, settings.home / "embeddings")
    encoder = load_encoder(spec)

    def embed(texts: Sequence[str]) -> np.ndarray:
        return embed_texts(encoder, list(texts), batch_size=args.batch_size)[0]

    s = settings.search
    default = FusionConfig(s.bm25_weight, s.dense_weight, s.rrf_k, s.entity_boost, s.quality_boost)
    start_neo4j(settings)
    try:
        with neo4j_driver(settings) as driver:
            load_started = time.perf_counter()
            load_graph(driver, products, embeddings, encoder.dimension)
            print(f"loaded the graph in {time.perf_counter() - load_started:.0f}s", flush=True)
            matcher = VocabularyMatcher(catalog_vocabulary(driver, DB), read_synonyms(settings.ner.synonyms))
            engine = SearchEngine(
                driver,
                DB,
                embed=embed,
                extract=matcher,
                entity_source=matcher.source,
                config=default,
                candidates=s.candidates,
                max_query_chars=s.max_query_chars,
            )
            prepared = prepare(engine, judgments, embed)
    finally:
        if not args.keep_neo4j:
            stop_neo4j(settings)
    halves = {name: [p for p in prepared if half(p[0]) == name] for name in ("A", "B")}
    report: dict[str, Any] = {}
    for name, mode in ((BM25, BM25), (DENSE, DENSE), ("hybrid", HYBRID)):
        report[name] = score(prepared, mode, default)
    tuned = {name: tune(queries, default) for name, queries in halves.items()}
    per_half: dict[str, Any] = {}
    for name, queries in halves.items():
        other = "B" if name == "A" else "A"
        per_half[name] = {
            BM25: score(queries, BM25, default)["ndcg@10"],
            DENSE: score(queries, DENSE, default)["ndcg@10"],
            "hybrid_default": score(queries, HYBRID, default)["ndcg@10"],
            "hybrid_tuned_on_other_half": score(queries, HYBRID, tuned[other])["ndcg@10"],
            "weights_tuned_on_other_half": {
                "dense_weight": tuned[other].dense_weight,
                "rrf_k": tuned[other].k,
            },
            "queries": len(queries),
        }
        print(f"half {name}: {json.dumps(per_half[name])}", flush=True)
    for name, values in report.items():
        print(f"{name}: {json.dumps(values)}", flush=True)
    result = {
        "ndcg@10": {name: values["ndcg@10"] for name, values in report.items()},
        "mrr": {name: values["mrr"] for name, values in report.items()},
        "halves": per_half,
        "fusion": {
            "bm25_weight": default.bm25_weight,
            "dense_weight": default.dense_weight,
            "rrf_k": default.k,
        },
        "queries": report[BM25]["queries"],
        "products": products.height,
        "judgments": judgments.height,
        "encoder": f"{spec.model} max_length {spec.max_length}",
        "seconds": round(time.perf_counter() - started),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
