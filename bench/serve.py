"""Serving latency: p50/p95 per endpoint of `shopgraph serve` on a 100k-product shop; last line RESULT {json}.

Builds (or, with an unchanged --home, reuses) a generated shop in a Neo4j this bench starts (--home, its
own ports; its database is WIPED on a rebuild): the shop's products, users and interactions through the
real graph loader, SIMILAR_TO edges, stand-in product vectors as wide as the configured encoder (a
direction per category plus noise; query vectors come from the real encoder), and precomputed
recommendations with explanations (RECOMMENDED edges; the top products of each user's favourite category
they have not seen, explained by the real explanation Cypher) for --rec-users users.

Then starts `shopgraph serve` as a separate process on loopback and drives it from this process with one
client, sequentially, after a warm-up: --requests requests per endpoint. `recommend` asks for users with a
precomputed set, `recommend_fallback` for unknown users (popular in their tastes), `search` runs hybrid
queries made of catalogue words, `similar` asks for random products. Goals: p95 under 50 ms for
/recommend and under 150 ms for /search.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from datetime import date
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import polars as pl

sys.path.insert(0, str(Path(__file__).resolve().parent))
from kg_load import curate, enrich, wipe  # noqa: E402
from shopgraph.adapters.encoder import EncoderSpec, load_encoder  # noqa: E402
from shopgraph.adapters.explanations import explain_recommendations  # noqa: E402
from shopgraph.adapters.graph_loader import LoadOptions, curated_days, load_days  # noqa: E402
from shopgraph.adapters.graph_schema import apply_schema  # noqa: E402
from shopgraph.adapters.graph_store import neo4j_driver  # noqa: E402
from shopgraph.adapters.lake import lake_path  # noqa: E402
from shopgraph.adapters.recommendations_store import write_graph  # noqa: E402
from shopgraph.generate import generate_shop  # noqa: E402
from shopgraph.schemas import landing as L  # noqa: E402
from shopgraph.services.neo4j_server import start_neo4j  # noqa: E402
from shopgraph.settings import REPO_ROOT, Settings, load_settings  # noqa: E402

DB = "neo4j"
SHOP_MARK = "MATCH (m:BenchShop) RETURN m.signature AS signature"
SET_MARK = "MERGE (m:BenchShop) SET m.signature = $signature"
ENDPOINTS = ("recommend", "recommend_fallback", "search", "similar")


def encoder_dimension(settings: Settings) -> int:
    spec = EncoderSpec(settings.embedding.model, "cpu", settings.embedding.max_length)
    return load_encoder(spec).dimension


def favourite_category_recs(lake: str, users: int, k: int) -> pl.DataFrame:
    """user_id, product_id, rank, score: each of `users` most active users' unseen top-k products of the
    category they interacted with most, by the category's interaction counts."""
    events = pl.read_parquet(lake_path(lake, "curated", L.EVENTS, "*", "*.parquet"))
    products = pl.read_parquet(lake_path(lake, "curated", "products", "current", "part-00000.parquet"))
    pairs = events.select(L.USER_ID, L.PRODUCT_ID).join(
        products.select(L.PRODUCT_ID, L.CATEGORY_PATH), on=L.PRODUCT_ID
    )
    active = pairs.group_by(L.USER_ID).len().sort(["len", L.USER_ID], descending=[True, False]).head(users)
    favourite = (
        pairs.join(active.select(L.USER_ID), on=L.USER_ID)
        .group_by(L.USER_ID, L.CATEGORY_PATH)
        .len()
        .sort(["len", L.CATEGORY_PATH], descending=[True, False])
        .unique(L.USER_ID, keep="first")
        .select(L.USER_ID, L.CATEGORY_PATH)
    )
    popular = (
        pairs.group_by(L.CATEGORY_PATH, L.PRODUCT_ID)
        .len("popularity")
        .sort(["popularity", L.PRODUCT_ID], descending=[True, False])
        .group_by(L.CATEGORY_PATH, maintain_order=True)
        .head(k * 3)
    )
    seen = pairs.select(L.USER_ID, L.PRODUCT_ID).unique()
    return (
        favourite.join(popular, on=L.CATEGORY_PATH)
        .join(seen, on=[L.USER_ID, L.PRODUCT_ID], how="anti")
        .sort([L.USER_ID, "popularity", L.PRODUCT_ID], descending=[False, True, False])
        .group_by(L.USER_ID, maintain_order=True)
        .head(k)
        .with_columns(
            pl.int_range(1, pl.len() + 1).over(L.USER_ID).cast(pl.Int32).alias("rank"),
            pl.col("popularity").cast(pl.Float32).alias("score"),
        )
        .select(L.USER_ID, L.PRODUCT_ID, "rank", "score")
    )


def build_shop(settings: Settings, args: argparse.Namespace, dimension: int) -> None:
    """Generate, curate, stand-in-enrich and load the shop, then precompute and explain recommendations."""
    workdir = Path(tempfile.mkdtemp(prefix="shopgraph-serve-bench-"))
    lake = str(workdir / "lake")
    try:
        started = time.perf_counter()
        generate_shop(
            lake,
            products=args.products,
            users=args.users,
            days=args.days,
            start_date=date(2026, 1, 1),
            seed=7,
        )
        curate(lake)
        enrich(lake, dimension)
        print(f"generated and curated in {time.perf_counter() - started:.0f}s", flush=True)
        with neo4j_driver(settings) as driver:
            wipe(driver)
            apply_schema(driver, DB, dimension)
            started = time.perf_counter()
            report = load_days(driver, DB, lake, curated_days(lake), LoadOptions(batch_size=5000), force=True)
            print(
                f"loaded {report.total('nodes')} nodes, {report.total('relationships')} relationships "
                f"in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            started = time.perf_counter()
            recs = favourite_category_recs(lake, args.rec_users, 20)
            write_graph(driver, DB, recs, "bench", "bench", 500)
            explain_recommendations(driver, DB, recs.get_column(L.USER_ID).unique().sort().to_list())
            print(
                f"{recs.height} recommendations for {recs[L.USER_ID].n_unique()} users written and explained "
                f"in {time.perf_counter() - started:.0f}s",
                flush=True,
            )
            driver.execute_query(SET_MARK, {"signature": signature(args, dimension)}, database_=DB)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def signature(args: argparse.Namespace, dimension: int) -> str:
    return f"p{args.products}-u{args.users}-d{args.days}-r{args.rec_users}-dim{dimension}-v1"


def request_plan(settings: Settings, count: int, seed: int) -> dict[str, list[str]]:
    """The request paths per endpoint: users with a set, unknown users, catalogue-word queries, products."""
    rng = np.random.default_rng(seed)
    with neo4j_driver(settings) as driver:
        users, _, _ = driver.execute_query(
            "MATCH (u:User) WHERE EXISTS { (u)-[:RECOMMENDED]->() } RETURN u.user_id AS id ORDER BY id",
            database_=DB,
        )
        products, _, _ = driver.execute_query(
            "MATCH (p:Product) WHERE p.active RETURN p.product_id AS id, p.title AS title ORDER BY id",
            database_=DB,
        )
    user_ids = [record["id"] for record in users]
    product_ids = [record["id"] for record in products]
    titles = [record["title"] for record in products]
    queries = []
    for index in rng.choice(len(titles), count, replace=True):
        words = titles[index].split()
        take = int(rng.integers(1, min(4, len(words)) + 1))
        queries.append(" ".join(words[-take:]).lower())
    return {
        "recommend": [f"/recommend/{user_ids[i]}" for i in rng.choice(len(user_ids), count)],
        "recommend_fallback": [f"/recommend/bench-new-user-{i}" for i in range(count)],
        "search": [f"/search?{httpx.QueryParams({'q': query, 'k': 10})}" for query in queries],
        "similar": [f"/similar/{product_ids[i]}" for i in rng.choice(len(product_ids), count)],
    }


def start_server(settings_env: dict[str, str], port: int, log: Path) -> subprocess.Popen[bytes]:
    command = [sys.executable, "-m", "shopgraph.cli", "serve", "--port", str(port)]
    shopgraph = Path(sys.executable).with_name("shopgraph")
    if shopgraph.exists():
        command = [str(shopgraph), "serve", "--port", str(port)]
    with log.open("wb") as sink:
        return subprocess.Popen(
            command, env={**os.environ, **settings_env}, stdout=sink, stderr=subprocess.STDOUT, cwd=REPO_ROOT
        )


def wait_healthy(client: httpx.Client, server: subprocess.Popen[bytes], log: Path, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"the server exited with {server.returncode}:\n{log.read_text()[-3000:]}")
        try:
            if client.get("/health").status_code == 200:
                return
        except httpx.TransportError:
            pass
        time.sleep(0.5)
    raise SystemExit(f"the server did not answer /health within {seconds:.0f}s:\n{log.read_text()[-3000:]}")


def drive(client: httpx.Client, paths: list[str], warmup: int) -> dict[str, Any]:
    """Sequential requests; p50/p95/max in milliseconds over the requests after the warm-up."""
    for path in paths[:warmup]:
        client.get(path)
    timings, statuses = [], {}
    for path in paths[warmup:]:
        started = time.perf_counter()
        response = client.get(path)
        timings.append((time.perf_counter() - started) * 1000)
        statuses[response.status_code] = statuses.get(response.status_code, 0) + 1
    ms = np.array(timings)
    return {
        "requests": len(timings),
        "p50_ms": round(float(np.percentile(ms, 50)), 1),
        "p95_ms": round(float(np.percentile(ms, 95)), 1),
        "max_ms": round(float(ms.max()), 1),
        "statuses": {str(code): n for code, n in sorted(statuses.items())},
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--products", type=int, default=100_000)
    parser.add_argument("--users", type=int, default=20_000)
    parser.add_argument("--days", type=int, default=3)
    parser.add_argument("--rec-users", type=int, default=2_000, help="users given precomputed sets")
    parser.add_argument("--requests", type=int, default=300, help="measured requests per endpoint")
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the shop even when --home has it")
    parser.add_argument("--home", default=".local/bench-serve", help="Neo4j home (managed, database wiped)")
    parser.add_argument("--bolt-port", type=int, default=29787)
    parser.add_argument("--http-port", type=int, default=29574)
    parser.add_argument("--port", type=int, default=28080, help="the API's port on 127.0.0.1")
    args = parser.parse_args()

    home = str(Path(args.home).resolve())
    neo4j = {"uri": "", "bolt_port": args.bolt_port, "http_port": args.http_port, "managed": True}
    settings = load_settings(home=home, neo4j=neo4j, search={"entities": "vocabulary"})
    start_neo4j(settings)
    dimension = encoder_dimension(settings)
    with neo4j_driver(settings) as driver:
        records, _, _ = driver.execute_query(SHOP_MARK, database_=DB)
    built = records[0]["signature"] if records else None
    if args.rebuild or built != signature(args, dimension):
        build_shop(settings, args, dimension)
    else:
        print(f"reusing the shop in {home} ({built})", flush=True)
    plan = request_plan(settings, args.requests + args.warmup, seed=1)

    env = {
        "SHOPGRAPH_HOME": home,
        "SHOPGRAPH_NEO4J__URI": "",
        "SHOPGRAPH_NEO4J__BOLT_PORT": str(args.bolt_port),
        "SHOPGRAPH_NEO4J__HTTP_PORT": str(args.http_port),
        "SHOPGRAPH_SEARCH__ENTITIES": "vocabulary",
        "SHOPGRAPH_MLFLOW__TRACKING_URI": f"sqlite:///{home}/bench-mlflow.db",
    }
    log = Path(home) / "serve.log"
    server = start_server(env, args.port, log)
    results: dict[str, Any] = {}
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{args.port}", timeout=30.0) as client:
            wait_healthy(client, server, log, 180)
            for endpoint in ENDPOINTS:
                results[endpoint] = drive(client, plan[endpoint], args.warmup)
                print(endpoint, json.dumps(results[endpoint]), flush=True)
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(20)
        except subprocess.TimeoutExpired:
            server.kill()
    result = {
        "p95_ms": {name: results[name]["p95_ms"] for name in ENDPOINTS},
        "p50_ms": {name: results[name]["p50_ms"] for name in ENDPOINTS},
        "goals_met": {
            "recommend": results["recommend"]["p95_ms"] < 50,
            "search": results["search"]["p95_ms"] < 150,
        },
        "products": args.products,
        "users": args.users,
        "requests_per_endpoint": args.requests,
        "cpu_count": os.cpu_count(),
        "load_average": round(os.getloadavg()[0], 2),
    }
    print("RESULT " + json.dumps(result))


if __name__ == "__main__":
    main()
